// torch::linear over the last axis of a tensor of any rank; in bf16 and fp16 as one product with its
// bias (addmm, which oneDNN runs with the bias inside the product). libtorch 1.13 takes inputs of more
// than two dimensions through matmul and a separate add_ of the bias, a second pass over the output:
// on SimFeatUp's per-pixel kernel fix-up in bf16 (up to 50,176 pixels x 121 per step) that pass cost
// as much as the product itself (AMX Xeon, BENCHMARKS.md). Float32 keeps torch::linear: there libtorch's
// addmm first copies the broadcast bias into the output for OpenBLAS, no cheaper than the add_ after.
#pragma once

#include <torch/torch.h>

namespace segearth::core {

inline torch::Tensor linear_rows(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
    const bool reduced = x.scalar_type() == torch::kBFloat16 || x.scalar_type() == torch::kHalf;
    if (!reduced || !bias.defined() || x.dim() <= 2) return torch::linear(x, weight, bias);
    auto sizes = x.sizes().vec();
    sizes.back() = weight.size(0);
    return torch::addmm(bias, x.reshape({-1, x.size(-1)}), weight.t()).view(sizes);
}

}  // namespace segearth::core
