// CPU kernel of one whole JBU step's feature path for inference: the x2 bicubic upsampling, the
// reflection padding and the adaptive convolution in one pass, channels last.
//
//   out[n, y, x, c] = sum_t kernel[n, y, x, t] * Hpad[n, y+dy, x+dx, c],
//   Hpad = reflect_pad(upsample2x_bicubic(src), r),   t = dy*(2r+1) + dx
//
// src (N, h, w, C), kernel (N, 2h, 2w, (2r+1)^2) and out (N, 2h, 2w, C), all contiguous. Forward only.
#pragma once

#include <cstdint>

namespace segearth::core::detail {

template <class T>
void upsample_conv_cpu(const T* src, const T* kernel, int64_t batch, int64_t channels, int64_t h, int64_t w,
                       int64_t radius, T* out);

}  // namespace segearth::core::detail
