// CLIP's transformer pieces as libtorch modules with OpenAI's parameter names, batch-first (N, L, D).
#pragma once

#include <segearth/core/clip/attention_kind.hpp>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

namespace segearth::core {

/// Multi-head attention holding in_proj_weight/in_proj_bias and out_proj like torch.nn.MultiheadAttention.
class AttentionImpl : public torch::nn::Module {
public:
    AttentionImpl(int64_t width, int64_t heads);
    /// Ordinary attention; `mask` (L, L) is added to the scores when defined (the text's causal mask).
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask = {});
    /// The last-block attention of the dense forward (METHOD.md 3c), applied to y = ln_1(x).
    torch::Tensor modulated(const torch::Tensor& y, AttentionKind kind);

    torch::Tensor in_proj_weight, in_proj_bias;
    torch::nn::Linear out_proj{nullptr};

private:
    int64_t heads_;
};
TORCH_MODULE(Attention);

/// c_fc -> QuickGELU (x * sigmoid(1.702 x)) -> c_proj.
class MlpImpl : public torch::nn::Module {
public:
    explicit MlpImpl(int64_t width);
    torch::Tensor forward(const torch::Tensor& x);
    torch::nn::Linear c_fc{nullptr}, c_proj{nullptr};
};
TORCH_MODULE(Mlp);

/// x = x + attn(ln_1(x)); x = x + mlp(ln_2(x)).
class ResidualAttentionBlockImpl : public torch::nn::Module {
public:
    ResidualAttentionBlockImpl(int64_t width, int64_t heads);
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask = {});
    /// The SegEarth-OV last block: attention only, no residual, no MLP.
    torch::Tensor modulated(const torch::Tensor& x, AttentionKind kind);

    torch::nn::LayerNorm ln_1{nullptr}, ln_2{nullptr};
    Attention attn{nullptr};
    Mlp mlp{nullptr};
};
TORCH_MODULE(ResidualAttentionBlock);

/// A stack of residual blocks registered as "resblocks.N".
class TransformerImpl : public torch::nn::Module {
public:
    TransformerImpl(int64_t width, int64_t layers, int64_t heads);
    /// Runs blocks [0, end) (all when end < 0).
    torch::Tensor forward(torch::Tensor x, const torch::Tensor& mask = {}, int64_t end = -1);
    ResidualAttentionBlock block(int64_t i) const;
    int64_t layers() const { return static_cast<int64_t>(resblocks->size()); }

    torch::nn::ModuleList resblocks;
};
TORCH_MODULE(Transformer);

}  // namespace segearth::core
