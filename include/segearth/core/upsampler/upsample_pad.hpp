// The first half of every JBU step: the source map upsampled x2 bicubically (A = -0.75, align_corners
// false, borders clamped, as torch's interpolate) and reflect-padded for the 11 x 11 window, written
// in one pass into the padded buffer instead of two full-size tensors (at the last step each is
// 512 x 224 x 224 floats, 100 MB).
#pragma once

#include <torch/types.h>

namespace segearth::core {

/// (N, C, h, w) -> (N, C, 2h + 2 pad, 2w + 2 pad). Equals reflection_pad2d(interpolate(x, 2x, bicubic),
/// pad) to float rounding. CPU float/double use the fused kernel, and in training its own parallel
/// backward (torch's bicubic and reflection-pad backwards run serially on the CPU and dominated a
/// training step); CUDA and other dtypes use those torch operators.
torch::Tensor upsample2x_bicubic_reflect_pad(const torch::Tensor& x, int64_t pad);

}  // namespace segearth::core
