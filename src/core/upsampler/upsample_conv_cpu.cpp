// See upsample_conv_cpu.hpp.
//
// The x2 bicubic upsampling and the reflection padding are linear and the same for every channel, so
// they fold into each pixel's kernel: the padded upsampled pixel at tap (dy, dx) of output (y, x) is
// a 4 x 4 weighted sum of source pixels, and all 121 taps of output (y, x) together read only the
// 9 x 9 source pixels from (first row, first column) = (y/2 - 4, x/2 - 4) (for r = 5; clamped into
// the image, and reflection stays inside that window). So
//
//   out[y, x, c] = sum_{a,b < 9} K'[y, x, a, b] * src[row0(y) + a, col0(x) + b, c],
//   K'[y, x] = Wy(y)^T  K[y, x] (11 x 11)  Wx(x),
//
// where Wy(y) (11 x 9) holds the vertical cubic weights of tap row dy on window row a, after
// reflection and border clamping (Wx likewise). That is 81 multiply-adds per output and channel
// instead of 121, reads the source where it is (no upsampled or padded map exists at all, the 112 MB
// of the last step of a 224 window), and K' costs ~2000 multiply-adds per pixel, shared by all C
// channels. Equal to the unfused composition up to float rounding.
//
// Register tiling (float, 9 x 9 windows): 6 output pixels (3 pairs; both pixels of a pair share a
// window, the next pair's starts one source column later) x 16 channels in 12 AVX2 accumulators. Per
// window row, each of the 11 source pixels in reach is loaded once (2 vectors) and multiplied by the
// broadcast K' value of every tile pixel whose window holds it: 22 loads and 54 broadcasts per 108
// FMAs. Pixel tiles outside, channel blocks inside, so the tile's K' (6 x 81 floats) stays in L1 and
// its 9 x 11 source pixels (all channels) in L2 while the blocks go by. Where the CPU has AVX-512
// the same tile takes 32 channels in 16-float accumulators (of its 32 registers), twice the work per
// instruction; the 16-channel tile and the scalar path take the channels left over.
//
// K' itself (11 x 11 -> 9 x 9, ~2000 multiply-adds per pixel) runs vectorised on that path: each of
// its rows, and each row of Wx, padded to 16 lanes (fold_kernel_9). Written scalar it cost as much as
// the convolution of a 208-channel low-rank step.
#include "upsample_conv_cpu.hpp"

#include "bicubic_x2.hpp"
#include "reflect_index.hpp"
#include "vector_clones.hpp"

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <type_traits>
#include <vector>

namespace segearth::core::detail {
namespace {

// One axis: for every output coordinate, where its source window starts and the (taps x window)
// weights that take the window to the reflected, upsampled taps.
template <class T>
struct AxisFold {
    int64_t window = 0;           // source pixels per window (9 for r = 5, fewer for tiny sources)
    std::vector<int64_t> start;   // per output coordinate
    std::vector<T> weights;       // per output coordinate: taps x window

    AxisFold(int64_t source_size, int64_t radius) {
        const int64_t out_size = 2 * source_size, side = 2 * radius + 1;
        window = std::min(BicubicX2<T>::first_tap(radius) + 3 - BicubicX2<T>::first_tap(-radius) + 1, source_size);
        start.resize(static_cast<size_t>(out_size));
        weights.assign(static_cast<size_t>(out_size * side * window), T(0));
        const BicubicX2<T> cubic;
        for (int64_t o = 0; o < out_size; ++o) {
            const int64_t s0 = std::clamp<int64_t>(BicubicX2<T>::first_tap(o - radius), 0, source_size - window);
            start[o] = s0;
            T* w = weights.data() + o * side * window;
            for (int64_t d = 0; d < side; ++d) {
                const int64_t Y = reflect_index(o + d - radius, out_size);
                const auto& taps = cubic.weights_of(Y);
                for (int i = 0; i < 4; ++i) {
                    const int64_t slot = BicubicX2<T>::clamp_tap(BicubicX2<T>::first_tap(Y) + i, source_size) - s0;
                    // Inside the window by the argument in the file's comment; checked, as it is cheap.
                    TORCH_INTERNAL_ASSERT(slot >= 0 && slot < window, "folded tap outside its window");
                    w[d * window + slot] += taps[i];
                }
            }
        }
    }
    const T* of(int64_t o, int64_t side) const { return weights.data() + o * side * window; }

    /// The same weights with every row padded by zeros to `lanes` (the vectorised fold's layout).
    std::vector<T> padded(int64_t side, int64_t lanes) const {
        const int64_t rows = static_cast<int64_t>(start.size()) * side;
        std::vector<T> out(static_cast<size_t>(rows * lanes), T(0));
        for (int64_t i = 0; i < rows; ++i) std::copy_n(weights.data() + i * window, window, out.data() + i * lanes);
        return out;
    }
};

// K' (wy x wx) = Wy^T K Wx for one pixel; `temp` holds side x wx.
template <class T>
void fold_kernel(const T* k, const T* wy, const T* wx, int64_t side, int64_t n_wy, int64_t n_wx, T* temp, T* out) {
    for (int64_t dy = 0; dy < side; ++dy)
        for (int64_t b = 0; b < n_wx; ++b) {
            T sum = 0;
            for (int64_t dx = 0; dx < side; ++dx) sum += k[dy * side + dx] * wx[dx * n_wx + b];
            temp[dy * n_wx + b] = sum;
        }
    std::fill(out, out + n_wy * n_wx, T(0));
    for (int64_t dy = 0; dy < side; ++dy)
        for (int64_t a = 0; a < n_wy; ++a) {
            const T w = wy[dy * n_wy + a];
            if (w == T(0)) continue;
            for (int64_t b = 0; b < n_wx; ++b) out[a * n_wx + b] += w * temp[dy * n_wx + b];
        }
}

constexpr int win = 9;        // the 9 x 9 source window of r = 5
constexpr int side_9 = 11;    // its 11 x 11 taps
constexpr int tile_pairs = 3; // 6 pixels x 16 channels: 12 accumulators + 2 inputs + 1 broadcast = 16 AVX2 registers
constexpr int lanes = 16;     // a K' row (9 values) padded: K' of one pixel is win x lanes floats
constexpr int folded_9 = win * lanes;

// Sixteen floats: one AVX-512 register, two AVX2 ones.
typedef float v16f __attribute__((vector_size(64), aligned(4)));
#define SEGEARTH_LOAD16(p) (*reinterpret_cast<const v16f*>(p))

// fold_kernel for r = 5 and 9 x 9 windows, vectorised along the window's columns: temp = K Wx as 11
// rows of 16 lanes, then K' = Wy^T temp, written as 9 rows of `lanes` (the last 7 of each zero).
// wx16 is Wx with its rows padded to 16 (AxisFold::padded).
SEGEARTH_VECTOR_CLONES void fold_kernel_9(const float* k, const float* wy, const float* wx16, float* out) {
    v16f temp[side_9];
#pragma GCC unroll 11
    for (int dy = 0; dy < side_9; ++dy) {
        v16f sum = {};
#pragma GCC unroll 11
        for (int dx = 0; dx < side_9; ++dx) sum += k[dy * side_9 + dx] * SEGEARTH_LOAD16(wx16 + dx * lanes);
        temp[dy] = sum;
    }
#pragma GCC unroll 9
    for (int a = 0; a < win; ++a) {
        v16f sum = {};
#pragma GCC unroll 11
        for (int dy = 0; dy < side_9; ++dy) sum += wy[dy * win + a] * temp[dy];
        *reinterpret_cast<v16f*>(out + a * lanes) = sum;
    }
}

// The hot loop, float, 9 x 9 windows: `Pairs` pixel pairs x 2 vectors of channels. src points at
// the first pair's window (row 0, column 0, first channel); pair p's window starts p columns later.
// kp holds the 2*Pairs pixels' K' (win x lanes each, fold_kernel_9's layout); pixel j goes to
// out + j * C. Inlined into each instruction set's entry below.
template <int VectorBytes, int Pairs>
__attribute__((always_inline)) inline void conv_tile_9_in(const float* src, int64_t row_stride, int64_t C,
                                                          const float* kp, float* out) {
    // Declared here, not passed in: a template argument would lose the aligned(4) that allows
    // unaligned loads (GCC drops attributes of template arguments).
    typedef float V __attribute__((vector_size(VectorBytes), aligned(4)));
    constexpr int Px = 2 * Pairs, taps = folded_9, n = VectorBytes / sizeof(float);
    V acc[Px][2] = {};
    for (int a = 0; a < win; ++a) {
        const float* row = src + a * row_stride;
        const float* ka = kp + a * lanes;
#pragma GCC unroll 16
        for (int q = 0; q < Pairs - 1 + win; ++q) {
            const V v0 = *reinterpret_cast<const V*>(row + q * C), v1 = *reinterpret_cast<const V*>(row + q * C + n);
#pragma GCC unroll 4
            for (int p = 0; p < Pairs; ++p) {
                const int b = q - p;
                if (b < 0 || b >= win) continue;
#pragma GCC unroll 2
                for (int e = 0; e < 2; ++e) {
                    const float kv = ka[(2 * p + e) * taps + b];
                    acc[2 * p + e][0] += kv * v0;
                    acc[2 * p + e][1] += kv * v1;
                }
            }
        }
    }
    for (int j = 0; j < Px; ++j) {
        *reinterpret_cast<V*>(out + j * C) = acc[j][0];
        *reinterpret_cast<V*>(out + j * C + n) = acc[j][1];
    }
}

// 16 channels in 8-float vectors (12 accumulators: what AVX2's 16 registers hold), cloned per
// instruction set.
template <int Pairs>
SEGEARTH_VECTOR_CLONES void conv_tile_9(const float* src, int64_t row_stride, int64_t C, const float* kp,
                                        float* out) {
    conv_tile_9_in<sizeof(v8f), Pairs>(src, row_stride, C, kp, out);
}

#if defined(__x86_64__) && defined(__GNUC__)
// 32 channels where the CPU has AVX-512: each of the 12 accumulators holds 16 floats (of 32
// registers), so every load, broadcast and multiply-add does twice the work. Picked at run time,
// not by target_clones: the tile's shape, not only its instructions, differs.
#define SEGEARTH_WIDE_TILE 1
template <int Pairs>
__attribute__((target("avx512f"))) void conv_tile_9_x32(const float* src, int64_t row_stride, int64_t C,
                                                        const float* kp, float* out) {
    conv_tile_9_in<sizeof(v16f), Pairs>(src, row_stride, C, kp, out);
}

bool has_avx512() {
    static const bool has = __builtin_cpu_supports("avx512f");
    return has;
}
#endif

// Any window, any type, channels [c0, C) of one pixel: the general path (tails, tiny sources, double).
// K' row a starts at kp + a * kp_row.
template <class T>
void conv_pixel(const T* src, int64_t row_stride, int64_t C, const T* kp, int64_t n_wy, int64_t n_wx,
                int64_t kp_row, int64_t c0, T* out) {
    std::fill(out + c0, out + C, T(0));
    for (int64_t a = 0; a < n_wy; ++a)
        for (int64_t b = 0; b < n_wx; ++b) {
            const T kv = kp[a * kp_row + b];
            const T* in = src + a * row_stride + b * C;
            for (int64_t c = c0; c < C; ++c) out[c] += kv * in[c];
        }
}

}  // namespace

template <class T>
void upsample_conv_cpu(const T* src, const T* kernel, int64_t batch, int64_t channels, int64_t h, int64_t w,
                       int64_t radius, T* out) {
    const int64_t H = 2 * h, W = 2 * w, C = channels, side = 2 * radius + 1, taps = side * side;
    const AxisFold<T> rows(h, radius), cols(w, radius);
    const int64_t n_wy = rows.window, n_wx = cols.window, row_stride = w * C;
    const bool tiled = std::is_same_v<T, float> && n_wy == win && n_wx == win && side == side_9;
    // The tiled path's K' rows are padded to `lanes` (fold_kernel_9), the general path's are not.
    const int64_t kp_row = tiled ? lanes : n_wx, folded = n_wy * kp_row;
    const std::vector<T> cols16 = tiled ? cols.padded(side, lanes) : std::vector<T>();
    at::parallel_for(0, batch * H, 1, [&](int64_t begin, int64_t end) {
        std::vector<T> kp(static_cast<size_t>(2 * tile_pairs * folded)), temp(static_cast<size_t>(side * n_wx));
        for (int64_t job = begin; job < end; ++job) {
            const int64_t n = job / H, y = job % H;
            const T* src_rows = src + (n * h + rows.start[y]) * row_stride;
            const T* k_row = kernel + (n * H + y) * W * taps;
            T* out_row = out + (n * H + y) * W * C;
            // x advances by whole pairs (W is even): 3 pairs whose windows start at s, s+1, s+2, else 1.
            for (int64_t x = 0; x < W;) {
                const int64_t s = cols.start[x];
                const int64_t pixels =
                    tiled && x + 2 * tile_pairs <= W && cols.start[x + 2 * tile_pairs - 1] == s + tile_pairs - 1
                        ? 2 * tile_pairs
                        : 2;
                int64_t c = 0;
                if constexpr (std::is_same_v<T, float>) {
                    if (tiled) {
                        for (int64_t j = 0; j < pixels; ++j)
                            fold_kernel_9(k_row + (x + j) * taps, rows.of(y, side),
                                          cols16.data() + (x + j) * side * lanes, kp.data() + j * folded);
#ifdef SEGEARTH_WIDE_TILE
                        if (has_avx512())
                            for (; c + 32 <= C; c += 32) {
                                const float* at = src_rows + s * C + c;
                                if (pixels == 2 * tile_pairs)
                                    conv_tile_9_x32<tile_pairs>(at, row_stride, C, kp.data(), out_row + x * C + c);
                                else
                                    conv_tile_9_x32<1>(at, row_stride, C, kp.data(), out_row + x * C + c);
                            }
#endif
                        for (; c + 16 <= C; c += 16) {
                            const float* at = src_rows + s * C + c;
                            if (pixels == 2 * tile_pairs)
                                conv_tile_9<tile_pairs>(at, row_stride, C, kp.data(), out_row + x * C + c);
                            else
                                conv_tile_9<1>(at, row_stride, C, kp.data(), out_row + x * C + c);
                        }
                    }
                }
                if (!tiled)
                    for (int64_t j = 0; j < pixels; ++j)
                        fold_kernel(k_row + (x + j) * taps, rows.of(y, side), cols.of(x + j, side), side, n_wy, n_wx,
                                    temp.data(), kp.data() + j * folded);
                if (c < C)
                    for (int64_t j = 0; j < pixels; ++j)
                        conv_pixel(src_rows + cols.start[x + j] * C, row_stride, C, kp.data() + j * folded, n_wy,
                                   n_wx, kp_row, c, out_row + (x + j) * C);
                x += pixels;
            }
        }
    });
}

template void upsample_conv_cpu<float>(const float*, const float*, int64_t, int64_t, int64_t, int64_t, int64_t,
                                       float*);
template void upsample_conv_cpu<double>(const double*, const double*, int64_t, int64_t, int64_t, int64_t, int64_t,
                                        double*);

}  // namespace segearth::core::detail
