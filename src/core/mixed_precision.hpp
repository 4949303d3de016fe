// Mixed precision: a matrix product in a lower number format (bf16, fp16) between float32 tensors.
// The weights stay float32 (the master copy the optimiser updates); the conversions are differentiable,
// so a training step's gradients reach them in float32; the product accumulates in float32 (oneDNN on
// the CPU, tensor cores on CUDA) and only its inputs and output are rounded.
#pragma once

#include <segearth/core/clip/precision.hpp>

#include <torch/nn/modules/conv.h>

namespace segearth::core {

/// The tensor type a precision multiplies in.
inline torch::ScalarType scalar_type(Precision precision) {
    switch (precision) {
        case Precision::bf16: return torch::kBFloat16;
        case Precision::fp16: return torch::kFloat16;
        case Precision::fp32: break;
    }
    return torch::kFloat32;
}

/// conv (1 x 1, stride 1, no padding) applied to x with its product in `precision`, the result in x's
/// type; conv.forward(x) itself for fp32 (x's own type, float64 in tests) or where x is in it already.
inline torch::Tensor conv1x1_in(Precision precision, torch::nn::Conv2dImpl& conv, const torch::Tensor& x) {
    TORCH_CHECK(conv.weight.size(2) == 1 && conv.weight.size(3) == 1, "conv1x1_in: a 1 x 1 convolution, got ",
                conv.weight.sizes());
    const auto type = scalar_type(precision);
    if (precision == Precision::fp32 || type == x.scalar_type()) return conv.forward(x);
    const auto bias = conv.bias.defined() ? conv.bias.to(type) : torch::Tensor();
    return torch::conv2d(x.to(type), conv.weight.to(type), bias).to(x.scalar_type());
}

}  // namespace segearth::core
