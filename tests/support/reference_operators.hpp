// The window operators written the obvious way, with unfold and einsum: what the kernels are checked
// against (tests) and raced against (bench_upsampler). Memory grows with C x taps x H x W, so at
// small sizes only; never in the library.
#pragma once

#include <torch/torch.h>

#include <cmath>

namespace segearth::test {

/// out[n, c, y, x] = sum_t padded[n, c, y+dy, x+dx] * kernel[n, t, y, x]; kernel (N, side^2, H, W).
inline torch::Tensor adaptive_conv_reference(const torch::Tensor& padded, const torch::Tensor& kernel) {
    const auto side = static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(kernel.size(1)))));
    const auto n = padded.size(0), c = padded.size(1), h = kernel.size(2), w = kernel.size(3);
    // unfold: (N, C * taps, H * W), taps ordered dy-major like the kernel's channels
    const auto windows = torch::nn::functional::unfold(padded, torch::nn::functional::UnfoldFuncOptions(side))
                             .view({n, c, side * side, h, w});
    return torch::einsum("nckhw,nkhw->nchw", {windows, kernel});
}

/// out[n, t, y, x] = sum_c padded[n, c, y+dy, x+dx] * center[n, c, y, x].
inline torch::Tensor local_correlation_reference(const torch::Tensor& padded, const torch::Tensor& center) {
    const int64_t side = padded.size(2) - center.size(2) + 1;
    const auto n = padded.size(0), c = padded.size(1), h = center.size(2), w = center.size(3);
    const auto windows = torch::nn::functional::unfold(padded, torch::nn::functional::UnfoldFuncOptions(side))
                             .view({n, c, side * side, h, w});
    return torch::einsum("nckhw,nchw->nkhw", {windows, center});
}

}  // namespace segearth::test
