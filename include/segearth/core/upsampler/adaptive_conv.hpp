// The adaptive convolution at the heart of SimFeatUp's joint bilateral upsampler, and the local
// correlation that computes its range kernel: differentiable operators (autograd) with CPU kernels
// and, when libtorch has CUDA, CUDA kernels. Neither ever materialises an unfold.
//
//   auto padded = torch::reflection_pad2d(features, {5, 5, 5, 5});   // (N, C, H+10, W+10)
//   auto out = segearth::core::adaptive_conv(padded, kernel);         // kernel (N, 121, H, W)
#pragma once

#include <torch/types.h>

namespace segearth::core {

/// out[n, c, y, x] = sum over the (2r+1)^2 taps t = dy*(2r+1)+dx of
///                   kernel[n, t, y, x] * padded[n, c, y+dy, x+dx].
/// padded (N, C, H+2r, W+2r), kernel (N, (2r+1)^2, H, W) -> (N, C, H, W). Gradients for both inputs.
torch::Tensor adaptive_conv(const torch::Tensor& padded, const torch::Tensor& kernel);

/// out[n, t, y, x] = sum_c padded[n, c, y+dy, x+dx] * center[n, c, y, x].
/// padded (N, C, H+2r, W+2r), center (N, C, H, W) -> (N, (2r+1)^2, H, W). Gradients for both inputs.
torch::Tensor local_correlation(const torch::Tensor& padded, const torch::Tensor& center);

/// True when the CUDA kernels were compiled into this build.
bool adaptive_conv_has_cuda();

}  // namespace segearth::core
