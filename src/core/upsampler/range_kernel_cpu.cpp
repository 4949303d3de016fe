// See range_kernel_cpu.hpp. The softmax's own division cancels in the normalisation:
//   a s / max(sum a s, eps) = e s / max(sum e s, eps * sum e),   e = exp(temperature * c - max),
// so one exponential per tap and pixel and one division per pixel. Blocks of 32 pixels: the maxima
// and sums run along the pixels (contiguous in the tap-major input), the block's exponentials
// (121 x 32 values, 15 KB) stay in L1 and are written out transposed. Float blocks of a full 32
// pixels run in 8-lane vectors with a polynomial exponential (exp_nonpositive); std::exp, scalar, was
// a third of this pass.
#include "range_kernel_cpu.hpp"

#include "vector_clones.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

namespace segearth::core::detail {
namespace {

constexpr int64_t block = 32;

typedef int v8i __attribute__((vector_size(32), aligned(4)));

// e^x for x <= 0, 8 lanes (Cephes' expf): x = n ln2 + f with |f| <= ln2 / 2 (ln2 in two parts, so
// n ln2 is exact), e^f by its degree-7 polynomial, 2^n from the exponent bits; 0 below -87 (where
// expf itself is a denormal). Within 2 ulp of std::exp. Inlined into each clone of its caller (by
// reference: vectors passed by value would go through the baseline ABI).
__attribute__((always_inline)) inline void exp_nonpositive(const v8f& x, v8f& out) {
    const v8f zero = {};
    const v8f low = zero - 87.0f;
    const v8f clamped = x < low ? low : x;
    const v8i n = __builtin_convertvector(clamped * 1.44269504088896341f - 0.5f, v8i);  // x <= 0: rounds
    const v8f nf = __builtin_convertvector(n, v8f);
    const v8f f = clamped - nf * 0.693359375f + nf * 2.12194440e-4f;
    v8f p = zero + 1.9875691500e-4f;
    p = p * f + 1.3981999507e-3f;
    p = p * f + 8.3334519073e-3f;
    p = p * f + 4.1665795894e-2f;
    p = p * f + 1.6666665459e-1f;
    p = p * f + 5.0000001201e-1f;
    const v8f e_f = p * f * f + f + 1.0f;
    const v8i bits = (n + 127) << 23;
    v8f two_n;
    __builtin_memcpy(&two_n, &bits, sizeof two_n);
    out = x < low ? zero : e_f * two_n;
}

// The float pass over one full block of 32 pixels from c (tap-major, `pixels` apart): the block's
// exponentials into e (taps x 32) and each pixel's 1 / max(sum e s, eps sum e) into scale.
SEGEARTH_VECTOR_CLONES void float_block(const float* c, int64_t pixels, int64_t taps, float temperature,
                                        const float* spatial, float* e, float* scale) {
    constexpr int lanes = block / 8;
    v8f top[lanes], total[lanes] = {}, weighted[lanes] = {};
    for (int j = 0; j < lanes; ++j) top[j] = temperature * SEGEARTH_LOAD8(c + 8 * j);
    for (int64_t t = 1; t < taps; ++t)
        for (int j = 0; j < lanes; ++j) {
            const v8f v = temperature * SEGEARTH_LOAD8(c + t * pixels + 8 * j);
            top[j] = v > top[j] ? v : top[j];
        }
    for (int64_t t = 0; t < taps; ++t)
        for (int j = 0; j < lanes; ++j) {
            const v8f x = temperature * SEGEARTH_LOAD8(c + t * pixels + 8 * j) - top[j];
            v8f v;
            exp_nonpositive(x, v);
            *reinterpret_cast<v8f*>(e + t * block + 8 * j) = v;
            total[j] += v;
            weighted[j] += v * spatial[t];
        }
    for (int j = 0; j < lanes; ++j) {
        const v8f floor = total[j] * 1e-7f;
        *reinterpret_cast<v8f*>(scale + 8 * j) = 1.0f / (weighted[j] > floor ? weighted[j] : floor);
    }
}

// A block's pixel-major rows: each tap's e s / (its pixel's normaliser), then the guidance.
template <class T>
void write_block(const T* e, const T* spatial, const T* scale, const T* g, int64_t np, int64_t taps,
                 int64_t guidance_channels, int64_t pixels, int64_t row, T* o) {
    for (int64_t p = 0; p < np; ++p) {
        for (int64_t t = 0; t < taps; ++t) o[p * row + t] = e[t * block + p] * spatial[t] * scale[p];
        for (int64_t i = 0; i < guidance_channels; ++i) o[p * row + taps + i] = g[i * pixels + p];
    }
}

}  // namespace

template <class T>
void normalised_range_kernel_cpu(const T* correlation, T temperature, const T* spatial, const T* guidance,
                                 int64_t batch, int64_t taps, int64_t guidance_channels, int64_t pixels, T* out) {
    constexpr T eps = T(1e-7);
    const int64_t blocks = (pixels + block - 1) / block, row = taps + guidance_channels;
    at::parallel_for(0, batch * blocks, 1, [&](int64_t begin, int64_t end) {
        std::vector<T> e(static_cast<size_t>(taps * block));
        T top[block], total[block], weighted[block];
        for (int64_t job = begin; job < end; ++job) {
            const int64_t n = job / blocks, p0 = (job % blocks) * block, np = std::min(block, pixels - p0);
            const T* c = correlation + n * taps * pixels + p0;
            T* o = out + (n * pixels + p0) * row;
            const T* g = guidance + n * guidance_channels * pixels + p0;
            if constexpr (std::is_same_v<T, float>) {
                if (np == block) {
                    float_block(c, pixels, taps, temperature, spatial, e.data(), weighted);
                    write_block(e.data(), spatial, weighted, g, np, taps, guidance_channels, pixels, row, o);
                    continue;
                }
            }
            std::fill(top, top + block, -std::numeric_limits<T>::infinity());
            for (int64_t t = 0; t < taps; ++t)
                for (int64_t p = 0; p < np; ++p) top[p] = std::max(top[p], temperature * c[t * pixels + p]);
            std::fill(total, total + block, T(0));
            std::fill(weighted, weighted + block, T(0));
            for (int64_t t = 0; t < taps; ++t)
                for (int64_t p = 0; p < np; ++p) {
                    const T v = std::exp(temperature * c[t * pixels + p] - top[p]);
                    e[t * block + p] = v;
                    total[p] += v;
                    weighted[p] += v * spatial[t];
                }
            for (int64_t p = 0; p < np; ++p) weighted[p] = T(1) / std::max(weighted[p], eps * total[p]);
            write_block(e.data(), spatial, weighted, g, np, taps, guidance_channels, pixels, row, o);
        }
    });
}

template void normalised_range_kernel_cpu<float>(const float*, float, const float*, const float*, int64_t, int64_t,
                                                 int64_t, int64_t, float*);
template void normalised_range_kernel_cpu<double>(const double*, double, const double*, const double*, int64_t,
                                                  int64_t, int64_t, int64_t, double*);

}  // namespace segearth::core::detail
