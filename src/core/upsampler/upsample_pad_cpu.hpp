// CPU kernels behind upsample2x_bicubic_reflect_pad, on raw contiguous NCHW buffers of `planes`
// h x w planes (planes = N * C). Outputs are overwritten.
#pragma once

#include <cstdint>

namespace segearth::core::detail {

/// src (planes, h, w) -> dst (planes, 2h + 2 pad, 2w + 2 pad).
template <class T>
void upsample2x_reflect_pad_cpu(const T* src, int64_t planes, int64_t h, int64_t w, int64_t pad, T* dst);

/// The transpose: grad (planes, 2h + 2 pad, 2w + 2 pad) -> grad_x (planes, h, w).
template <class T>
void upsample2x_reflect_pad_backward_cpu(const T* grad, int64_t planes, int64_t h, int64_t w, int64_t pad, T* grad_x);

}  // namespace segearth::core::detail
