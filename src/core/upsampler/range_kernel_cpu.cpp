// See range_kernel_cpu.hpp. The softmax's own division cancels in the normalisation:
//   a s / max(sum a s, eps) = e s / max(sum e s, eps * sum e),   e = exp(temperature * c - max),
// so one exponential per tap and pixel and one division per pixel. Blocks of 32 pixels: the maxima
// and sums run along the pixels (contiguous in the tap-major input), the block's exponentials
// (121 x 32 values, 15 KB) stay in L1 and are written out transposed.
#include "range_kernel_cpu.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace segearth::core::detail {

template <class T>
void normalised_range_kernel_cpu(const T* correlation, T temperature, const T* spatial, const T* guidance,
                                 int64_t batch, int64_t taps, int64_t guidance_channels, int64_t pixels, T* out) {
    constexpr int64_t block = 32;
    constexpr T eps = T(1e-7);
    const int64_t blocks = (pixels + block - 1) / block, row = taps + guidance_channels;
    at::parallel_for(0, batch * blocks, 1, [&](int64_t begin, int64_t end) {
        std::vector<T> e(static_cast<size_t>(taps * block));
        T top[block], total[block], weighted[block];
        for (int64_t job = begin; job < end; ++job) {
            const int64_t n = job / blocks, p0 = (job % blocks) * block, np = std::min(block, pixels - p0);
            const T* c = correlation + n * taps * pixels + p0;
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
            T* o = out + (n * pixels + p0) * row;
            const T* g = guidance + n * guidance_channels * pixels + p0;
            for (int64_t p = 0; p < np; ++p) {
                for (int64_t t = 0; t < taps; ++t) o[p * row + t] = e[t * block + p] * spatial[t] * weighted[p];
                for (int64_t i = 0; i < guidance_channels; ++i) o[p * row + taps + i] = g[i * pixels + p];
            }
        }
    });
}

template void normalised_range_kernel_cpu<float>(const float*, float, const float*, const float*, int64_t, int64_t,
                                                 int64_t, int64_t, float*);
template void normalised_range_kernel_cpu<double>(const double*, double, const double*, const double*, int64_t,
                                                  int64_t, int64_t, int64_t, double*);

}  // namespace segearth::core::detail
