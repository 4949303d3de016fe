// CPU pass behind the JBU's inference kernels: from the range correlations to the normalised
// range-times-spatial kernel, pixel-major with the guidance appended, ready for the fix-up's matrix
// products. One pass instead of five full-size tensors (scaled, softmax, product, sum, quotient).
#pragma once

#include <cstdint>

namespace segearth::core::detail {

/// correlation (N, T, P) tap-major, spatial (T), guidance (N, G, P) -> out (N, P, T + G):
///   a = softmax over t of temperature * correlation,
///   out[n, p, t] = a[t] * spatial[t] / max(sum_t' a * spatial, 1e-7),   out[n, p, T + i] = guidance[n, i, p].
template <class T>
void normalised_range_kernel_cpu(const T* correlation, T temperature, const T* spatial, const T* guidance,
                                 int64_t batch, int64_t taps, int64_t guidance_channels, int64_t pixels, T* out);

}  // namespace segearth::core::detail
