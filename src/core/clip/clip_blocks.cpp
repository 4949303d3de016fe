#include <segearth/core/clip/clip_blocks.hpp>

#include <segearth/error.hpp>

#include <torch/torch.h>

#include <cmath>

namespace segearth::core {

namespace {

// (N, L, D) -> (N, heads, L, D / heads)
torch::Tensor split_heads(const torch::Tensor& t, int64_t heads) {
    return t.view({t.size(0), t.size(1), heads, t.size(2) / heads}).transpose(1, 2);
}

// (N, heads, L, d) -> (N, L, heads * d)
torch::Tensor merge_heads(const torch::Tensor& t) {
    return t.transpose(1, 2).reshape({t.size(0), t.size(2), t.size(1) * t.size(3)});
}

// softmax(a b^T * scale) over the last axis, in float32 whatever the inputs' type: the modulated block
// sums two or three of these, and bf16's 8-bit mantissa would round each row's weights to ~0.4 %.
torch::Tensor affinity(const torch::Tensor& a, const torch::Tensor& b, double scale) {
    return torch::softmax(torch::matmul(a * scale, b.transpose(-2, -1)), -1, torch::kFloat32);
}

// The blocks' inputs come from float32 LayerNorms (the residual stream stays float32, as autocast
// keeps it); the matrix products run in the weights' type (VisionTransformerImpl::set_precision).
torch::Tensor in_type_of(const torch::Tensor& x, const torch::Tensor& weight) { return x.to(weight.scalar_type()); }

}  // namespace

AttentionImpl::AttentionImpl(int64_t width, int64_t heads) : heads_(heads) {
    TORCH_CHECK(heads > 0 && width % heads == 0, "attention width ", width, " is not a multiple of ", heads,
                " heads");
    in_proj_weight = register_parameter("in_proj_weight", torch::empty({3 * width, width}));
    in_proj_bias = register_parameter("in_proj_bias", torch::zeros({3 * width}));
    out_proj = register_module("out_proj", torch::nn::Linear(width, width));
    torch::nn::init::xavier_uniform_(in_proj_weight);
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
    const auto qkv = torch::linear(in_type_of(x, in_proj_weight), in_proj_weight, in_proj_bias).chunk(3, -1);
    const auto q = split_heads(qkv[0], heads_);
    const auto k = split_heads(qkv[1], heads_);
    const auto v = split_heads(qkv[2], heads_);
    const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
    auto scores = torch::matmul(q * scale, k.transpose(-2, -1));
    if (mask.defined()) scores = scores + mask;
    return out_proj(merge_heads(torch::matmul(torch::softmax(scores, -1), v)));
}

torch::Tensor AttentionImpl::modulated(const torch::Tensor& y, AttentionKind kind) {
    const auto qkv = torch::linear(in_type_of(y, in_proj_weight), in_proj_weight, in_proj_bias).chunk(3, -1);
    if (kind == AttentionKind::maskclip) return out_proj(qkv[2]);  // each token attends only to itself
    const auto q = split_heads(qkv[0], heads_);
    const auto k = split_heads(qkv[1], heads_);
    const auto v = split_heads(qkv[2], heads_);
    const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
    torch::Tensor a;
    switch (kind) {
        case AttentionKind::segearth: a = affinity(q, q, scale) + affinity(k, k, scale) + affinity(v, v, scale); break;
        case AttentionKind::sclip: a = affinity(q, q, scale) + affinity(k, k, scale); break;
        case AttentionKind::clearclip: a = affinity(q, q, scale); break;
        case AttentionKind::vanilla: a = affinity(q, k, scale); break;
        case AttentionKind::maskclip: break;  // handled above
    }
    return out_proj(merge_heads(torch::matmul(a.to(v.scalar_type()), v)));
}

MlpImpl::MlpImpl(int64_t width) {
    c_fc = register_module("c_fc", torch::nn::Linear(width, 4 * width));
    c_proj = register_module("c_proj", torch::nn::Linear(4 * width, width));
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) {
    auto h = c_fc(in_type_of(x, c_fc->weight));
    // QuickGELU, as OpenAI's CLIP was trained with. In inference in place (one buffer instead of three:
    // 25 % less time for bf16 at ViT-B/16's 4 x 197 x 3072); autograd needs the sigmoid's output kept.
    if (torch::GradMode::is_enabled()) h = h * torch::sigmoid(1.702 * h);
    else h = h.mul(1.702).sigmoid_().mul_(h);
    return c_proj(h);
}

ResidualAttentionBlockImpl::ResidualAttentionBlockImpl(int64_t width, int64_t heads) {
    const auto ln = torch::nn::LayerNormOptions({width}).eps(1e-5);
    ln_1 = register_module("ln_1", torch::nn::LayerNorm(ln));
    attn = register_module("attn", Attention(width, heads));
    ln_2 = register_module("ln_2", torch::nn::LayerNorm(ln));
    mlp = register_module("mlp", Mlp(width));
}

torch::Tensor ResidualAttentionBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
    auto h = x + attn(ln_1(x), mask);
    return h + mlp(ln_2(h));
}

torch::Tensor ResidualAttentionBlockImpl::modulated(const torch::Tensor& x, AttentionKind kind) {
    return attn->modulated(ln_1(x), kind);
}

TransformerImpl::TransformerImpl(int64_t width, int64_t layers, int64_t heads) {
    resblocks = register_module("resblocks", torch::nn::ModuleList());
    for (int64_t i = 0; i < layers; ++i) resblocks->push_back(ResidualAttentionBlock(width, heads));
}

ResidualAttentionBlock TransformerImpl::block(int64_t i) const {
    return ResidualAttentionBlock(resblocks->ptr<ResidualAttentionBlockImpl>(static_cast<size_t>(i)));
}

torch::Tensor TransformerImpl::forward(torch::Tensor x, const torch::Tensor& mask, int64_t end) {
    if (end < 0) end = layers();
    for (int64_t i = 0; i < end; ++i) x = block(i)->forward(x, mask);
    return x;
}

}  // namespace segearth::core
