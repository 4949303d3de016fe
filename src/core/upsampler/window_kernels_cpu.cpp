// CPU kernels of the local-window primitives (see window_kernels.hpp).
//
// Layout is NCHW throughout, so no layout copies are made. The inner loops run along x, which is
// contiguous in every operand, in fixed-size tiles the compiler keeps in vector registers, cloned per
// instruction set (vector_clones.hpp).
//
// Memory traffic of weighted_sum per output row and 4-channel block: the row's T kernel rows (T x W
// floats, one from each of T kernel planes) and 2r+1 input rows per channel; the output is written
// once. Nothing of size T x C x H x W is ever formed. The T planes lie hw floats apart, which is what
// limits the kernel today (~10-12 GFLOP/s per core, see BENCHMARKS.md).
#include "window_kernels.hpp"

#include "vector_clones.hpp"

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

namespace segearth::core::detail {
namespace {

constexpr int64_t channel_block = 4;  // channels sharing one load of the kernel row
constexpr int64_t x_tile = 16;        // outputs per register tile

// The hot loop of the whole upsampler, float, full tile: 4 channels x 16 outputs = 8 accumulator
// registers; per tap, 2 kernel loads shared by 4 channels, then 8 input loads and 8 FMAs.
SEGEARTH_VECTOR_CLONES void weighted_sum_tile_full(const WindowShape& s, const float* xp_c0, const float* k_n,
                                                   float* out_c0, int64_t y, int64_t x0) {
    const int64_t K = s.side(), hw = s.height * s.width, pw = s.padded_width();
    const int64_t phw = s.padded_height() * pw;
    v8f acc[channel_block][2] = {};
    for (int64_t dy = 0; dy < K; ++dy) {
        for (int64_t dx = 0; dx < K; ++dx) {
            const float* kt = k_n + (dy * K + dx) * hw + y * s.width + x0;
            const v8f k0 = SEGEARTH_LOAD8(kt), k1 = SEGEARTH_LOAD8(kt + 8);
            const float* src = xp_c0 + (y + dy) * pw + x0 + dx;
            for (int64_t c = 0; c < channel_block; ++c) {
                acc[c][0] += k0 * SEGEARTH_LOAD8(src + c * phw);
                acc[c][1] += k1 * SEGEARTH_LOAD8(src + c * phw + 8);
            }
        }
    }
    for (int64_t c = 0; c < channel_block; ++c) {
        float* o = out_c0 + c * hw + y * s.width + x0;
        *reinterpret_cast<v8f*>(o) = acc[c][0];
        *reinterpret_cast<v8f*>(o + 8) = acc[c][1];
    }
}

// Correlation for the usual 11 x 11 window, float, 8 outputs: 11 accumulators, one centre load
// shared by the 11 taps of a window row.
SEGEARTH_VECTOR_CLONES void correlation_tile_11(const WindowShape& s, const float* xp_n, const float* b_n,
                                                float* out_n, int64_t y, int64_t dy, int64_t x0) {
    constexpr int64_t K = 11;
    const int64_t hw = s.height * s.width, pw = s.padded_width(), phw = s.padded_height() * pw;
    v8f acc[K] = {};
    for (int64_t c = 0; c < s.channels; ++c) {
        const v8f center = SEGEARTH_LOAD8(b_n + c * hw + y * s.width + x0);
        const float* src = xp_n + c * phw + (y + dy) * pw + x0;
        for (int64_t dx = 0; dx < K; ++dx) acc[dx] += SEGEARTH_LOAD8(src + dx) * center;
    }
    for (int64_t dx = 0; dx < K; ++dx)
        *reinterpret_cast<v8f*>(out_n + (dy * K + dx) * hw + y * s.width + x0) = acc[dx];
}

// out[c0..c0+nc, y, x0..x0+nx] for one row, nc <= channel_block, nx <= x_tile.
template <typename T>
SEGEARTH_VECTOR_CLONES void weighted_sum_tile(const WindowShape& s, const T* xp_c0, const T* k_n, T* out_c0,
                                              int64_t nc, int64_t y, int64_t x0, int64_t nx) {
    const int64_t K = s.side(), hw = s.height * s.width, phw = s.padded_height() * s.padded_width();
    const int64_t pw = s.padded_width();
    T acc[channel_block][x_tile] = {};
    for (int64_t dy = 0; dy < K; ++dy) {
        for (int64_t dx = 0; dx < K; ++dx) {
            const T* kt = k_n + (dy * K + dx) * hw + y * s.width + x0;
            const T* src = xp_c0 + (y + dy) * pw + x0 + dx;
            if (nx == x_tile && nc == channel_block) {
                for (int64_t c = 0; c < channel_block; ++c)
                    for (int64_t i = 0; i < x_tile; ++i) acc[c][i] += kt[i] * src[c * phw + i];
            } else {
                for (int64_t c = 0; c < nc; ++c)
                    for (int64_t i = 0; i < nx; ++i) acc[c][i] += kt[i] * src[c * phw + i];
            }
        }
    }
    for (int64_t c = 0; c < nc; ++c) std::memcpy(out_c0 + c * hw + y * s.width + x0, acc[c], sizeof(T) * nx);
}

// out[t, y, x0..x0+nx] for the K taps of one dy, summed over all channels.
template <typename T>
SEGEARTH_VECTOR_CLONES void correlation_tile(const WindowShape& s, const T* xp_n, const T* b_n, T* out_n,
                                             int64_t y, int64_t dy, int64_t x0, int64_t nx) {
    constexpr int64_t max_side = 32;
    const int64_t K = s.side(), hw = s.height * s.width, phw = s.padded_height() * s.padded_width();
    const int64_t pw = s.padded_width();
    T acc[max_side][8] = {};
    for (int64_t c = 0; c < s.channels; ++c) {
        const T* bc = b_n + c * hw + y * s.width + x0;
        const T* src = xp_n + c * phw + (y + dy) * pw + x0;
        if (nx == 8) {
            for (int64_t dx = 0; dx < K; ++dx)
                for (int64_t i = 0; i < 8; ++i) acc[dx][i] += src[dx + i] * bc[i];
        } else {
            for (int64_t dx = 0; dx < K; ++dx)
                for (int64_t i = 0; i < nx; ++i) acc[dx][i] += src[dx + i] * bc[i];
        }
    }
    for (int64_t dx = 0; dx < K; ++dx)
        std::memcpy(out_n + (dy * K + dx) * hw + y * s.width + x0, acc[dx], sizeof(T) * nx);
}

// One padded row Y of out for a block of channels: every (y, x) whose window covers (Y, X) adds
// k[t, y, x] * g[c, y, x]. Written as a gather so that rows can run in parallel without races.
template <typename T>
SEGEARTH_VECTOR_CLONES void scatter_row(const WindowShape& s, const T* k_n, const T* g_c0, T* out_c0, int64_t nc,
                                        int64_t Y, T* acc /* nc x padded_width */) {
    const int64_t K = s.side(), hw = s.height * s.width, pw = s.padded_width();
    const int64_t phw = s.padded_height() * pw;
    std::fill(acc, acc + nc * pw, T(0));
    for (int64_t dy = 0; dy < K; ++dy) {
        const int64_t y = Y - dy;
        if (y < 0 || y >= s.height) continue;
        for (int64_t dx = 0; dx < K; ++dx) {
            const T* kt = k_n + (dy * K + dx) * hw + y * s.width;
            for (int64_t c = 0; c < nc; ++c) {
                const T* gc = g_c0 + c * hw + y * s.width;
                T* a = acc + c * pw + dx;  // X = x + dx
                for (int64_t x = 0; x < s.width; ++x) a[x] += kt[x] * gc[x];
            }
        }
    }
    for (int64_t c = 0; c < nc; ++c) std::memcpy(out_c0 + c * phw + Y * pw, acc + c * pw, sizeof(T) * pw);
}

}  // namespace

template <typename T>
void weighted_sum_cpu(const WindowShape& s, const T* xp, const T* k, T* out) {
    const int64_t blocks = (s.channels + channel_block - 1) / channel_block;
    const int64_t phw = s.padded_height() * s.padded_width(), hw = s.height * s.width;
    at::parallel_for(0, s.batch * blocks * s.height, 1, [&](int64_t begin, int64_t end) {
        for (int64_t job = begin; job < end; ++job) {
            // Channel blocks vary fastest: consecutive jobs reuse the same kernel rows from cache
            // (121 x W floats per row) instead of streaming the whole kernel once per channel block.
            const int64_t block = job % blocks, y = (job / blocks) % s.height, n = job / (s.height * blocks);
            const int64_t c0 = block * channel_block, nc = std::min(channel_block, s.channels - c0);
            const T* xp_c0 = xp + (n * s.channels + c0) * phw;
            const T* k_n = k + n * s.taps() * hw;
            T* out_c0 = out + (n * s.channels + c0) * hw;
            for (int64_t x0 = 0; x0 < s.width; x0 += x_tile) {
                const int64_t nx = std::min(x_tile, s.width - x0);
                if constexpr (std::is_same_v<T, float>) {
                    if (nx == x_tile && nc == channel_block) {
                        weighted_sum_tile_full(s, xp_c0, k_n, out_c0, y, x0);
                        continue;
                    }
                }
                weighted_sum_tile(s, xp_c0, k_n, out_c0, nc, y, x0, nx);
            }
        }
    });
}

template <typename T>
void correlation_cpu(const WindowShape& s, const T* xp, const T* b, T* out) {
    TORCH_CHECK(s.side() <= 32, "window side ", s.side(), " exceeds 32");
    const int64_t phw = s.padded_height() * s.padded_width(), hw = s.height * s.width, K = s.side();
    at::parallel_for(0, s.batch * s.height * K, 1, [&](int64_t begin, int64_t end) {
        for (int64_t job = begin; job < end; ++job) {
            const int64_t dy = job % K, y = (job / K) % s.height, n = job / (K * s.height);
            const T* xp_n = xp + n * s.channels * phw;
            const T* b_n = b + n * s.channels * hw;
            T* out_n = out + n * s.taps() * hw;
            for (int64_t x0 = 0; x0 < s.width; x0 += 8) {
                const int64_t nx = std::min<int64_t>(8, s.width - x0);
                if constexpr (std::is_same_v<T, float>) {
                    if (nx == 8 && K == 11) {
                        correlation_tile_11(s, xp_n, b_n, out_n, y, dy, x0);
                        continue;
                    }
                }
                correlation_tile(s, xp_n, b_n, out_n, y, dy, x0, nx);
            }
        }
    });
}

template <typename T>
void scatter_cpu(const WindowShape& s, const T* k, const T* g, T* out) {
    const int64_t blocks = (s.channels + channel_block - 1) / channel_block;
    const int64_t ph = s.padded_height(), phw = ph * s.padded_width(), hw = s.height * s.width;
    at::parallel_for(0, s.batch * blocks * ph, 1, [&](int64_t begin, int64_t end) {
        std::vector<T> acc(static_cast<size_t>(channel_block * s.padded_width()));
        for (int64_t job = begin; job < end; ++job) {
            const int64_t block = job % blocks, Y = (job / blocks) % ph, n = job / (ph * blocks);
            const int64_t c0 = block * channel_block, nc = std::min(channel_block, s.channels - c0);
            scatter_row(s, k + n * s.taps() * hw, g + (n * s.channels + c0) * hw, out + (n * s.channels + c0) * phw,
                        nc, Y, acc.data());
        }
    });
}

template void weighted_sum_cpu<float>(const WindowShape&, const float*, const float*, float*);
template void weighted_sum_cpu<double>(const WindowShape&, const double*, const double*, double*);
template void correlation_cpu<float>(const WindowShape&, const float*, const float*, float*);
template void correlation_cpu<double>(const WindowShape&, const double*, const double*, double*);
template void scatter_cpu<float>(const WindowShape&, const float*, const float*, float*);
template void scatter_cpu<double>(const WindowShape&, const double*, const double*, double*);

}  // namespace segearth::core::detail
