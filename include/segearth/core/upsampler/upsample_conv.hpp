// One JBU step's feature path, x2 bicubic upsampling + reflection padding + adaptive convolution, as
// a single operator, so that inference on the CPU can run it as one fused channels-last pass that
// never forms the padded upsampled map (112 MB at the last step of a 224 window).
#pragma once

#include <torch/types.h>

namespace segearth::core {

/// adaptive_conv(upsample2x_bicubic_reflect_pad(source, r), kernel) with r from the kernel's tap count:
/// source (N, C, h, w), kernel (N, (2r+1)^2, 2h, 2w) -> (N, C, 2h, 2w).
/// On the CPU (float/double) when no gradient is needed: the fused kernel; its result is laid out
/// channels last (torch::MemoryFormat::ChannelsLast), and a kernel tensor already laid out so is used
/// without a copy. Otherwise (training, CUDA): the two differentiable operators, NCHW.
torch::Tensor upsample_adaptive_conv(const torch::Tensor& source, const torch::Tensor& kernel);

}  // namespace segearth::core
