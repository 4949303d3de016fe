#include "training/separable_resample_cpu.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

namespace segearth::core::detail {

template <class T>
void separable_resample_cpu(const T* src, int64_t planes, int64_t H, int64_t W, const TapTable& rows,
                            const TapTable& cols, T* dst) {
    const int64_t h = rows.n, w = cols.n;
    at::parallel_for(0, planes, 1, [&](int64_t begin, int64_t end) {
        std::vector<T> row(static_cast<size_t>(W));
        for (int64_t p = begin; p < end; ++p) {
            const T* plane = src + p * H * W;
            T* out = dst + p * h * w;
            for (int64_t i = 0; i < h; ++i) {
                std::fill(row.begin(), row.end(), T(0));
                for (int64_t k = 0; k < rows.taps; ++k) {
                    const T a = static_cast<T>(rows.weight[i * rows.taps + k]);
                    const T* source = plane + rows.index[i * rows.taps + k] * W;
                    for (int64_t x = 0; x < W; ++x) row[x] += a * source[x];
                }
                for (int64_t j = 0; j < w; ++j) {
                    T sum = 0;
                    for (int64_t k = 0; k < cols.taps; ++k)
                        sum += static_cast<T>(cols.weight[j * cols.taps + k]) * row[cols.index[j * cols.taps + k]];
                    out[i * w + j] = sum;
                }
            }
        }
    });
}

template <class T>
void separable_resample_backward_cpu(const T* grad, int64_t planes, int64_t H, int64_t W, const TapTable& rows,
                                     const TapTable& cols, T* grad_src) {
    const int64_t h = rows.n, w = cols.n;
    at::parallel_for(0, planes, 1, [&](int64_t begin, int64_t end) {
        std::vector<T> row(static_cast<size_t>(W));
        for (int64_t p = begin; p < end; ++p) {
            const T* g = grad + p * h * w;
            T* plane = grad_src + p * H * W;
            std::fill(plane, plane + H * W, T(0));
            for (int64_t i = 0; i < h; ++i) {
                std::fill(row.begin(), row.end(), T(0));
                for (int64_t j = 0; j < w; ++j)
                    for (int64_t k = 0; k < cols.taps; ++k)
                        row[cols.index[j * cols.taps + k]] += static_cast<T>(cols.weight[j * cols.taps + k]) * g[i * w + j];
                for (int64_t k = 0; k < rows.taps; ++k) {
                    const T a = static_cast<T>(rows.weight[i * rows.taps + k]);
                    T* target = plane + rows.index[i * rows.taps + k] * W;
                    for (int64_t x = 0; x < W; ++x) target[x] += a * row[x];
                }
            }
        }
    });
}

template void separable_resample_cpu<float>(const float*, int64_t, int64_t, int64_t, const TapTable&,
                                            const TapTable&, float*);
template void separable_resample_cpu<double>(const double*, int64_t, int64_t, int64_t, const TapTable&,
                                             const TapTable&, double*);
template void separable_resample_backward_cpu<float>(const float*, int64_t, int64_t, int64_t, const TapTable&,
                                                     const TapTable&, float*);
template void separable_resample_backward_cpu<double>(const double*, int64_t, int64_t, int64_t, const TapTable&,
                                                      const TapTable&, double*);

}  // namespace segearth::core::detail
