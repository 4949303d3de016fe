// SimFeatUp's learned downsampler (METHOD.md 7, step 3): takes upsampled features back to the token
// grid by attention-weighted pooling over each patch, so the reconstruction loss can compare them with
// CLIP's own low-resolution features. Training only; never used for inference.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

namespace segearth::core {

class AttentionDownsamplerImpl : public torch::nn::Module {
public:
    /// `dim`-wide features, `patch` x `patch` pixels per token (16 for ViT-B/16).
    AttentionDownsamplerImpl(int64_t dim, int64_t patch);

    /// (N, C, H, W) -> (N, C, H/patch, W/patch). `keep_mask` (N, gh, gw, 1) of 0/1 multiplies each
    /// cell's attention logits; undefined: drawn with keep probability 0.8 in training, all ones in
    /// evaluation. The 5 x 5 Gaussian blur (sigma 1, reflected borders) runs before pooling.
    torch::Tensor forward(const torch::Tensor& features, const torch::Tensor& keep_mask = {});

    torch::nn::Sequential attention_net{nullptr};  ///< Dropout(0.2), Linear(dim -> 1)
    torch::Tensor w, b;                             ///< (patch, patch) weight and bias of the logits

private:
    int64_t patch_;
};
TORCH_MODULE(AttentionDownsampler);

/// Per-channel 5 x 5 Gaussian blur, sigma 1, reflected borders (what the downsampler pools).
torch::Tensor gaussian_blur5(const torch::Tensor& x);

}  // namespace segearth::core
