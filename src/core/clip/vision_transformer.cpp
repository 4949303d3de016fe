#include <segearth/core/clip/vision_transformer.hpp>

#include "mixed_precision.hpp"

#include <torch/torch.h>

namespace segearth::core {

namespace F = torch::nn::functional;

VisionTransformerImpl::VisionTransformerImpl(const VisionConfig& config, int64_t embed_dim) : config_(config) {
    const auto w = config.width;
    conv1 = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, w, config.patch_size)
                                                           .stride(config.patch_size)
                                                           .bias(false)));
    const double scale = 1.0 / std::sqrt(static_cast<double>(w));
    class_embedding = register_parameter("class_embedding", scale * torch::randn({w}));
    positional_embedding = register_parameter(
        "positional_embedding", scale * torch::randn({config.grid_size * config.grid_size + 1, w}));
    ln_pre = register_module("ln_pre", torch::nn::LayerNorm(torch::nn::LayerNormOptions({w}).eps(1e-5)));
    transformer = register_module("transformer", Transformer(w, config.layers, config.heads));
    ln_post = register_module("ln_post", torch::nn::LayerNorm(torch::nn::LayerNormOptions({w}).eps(1e-5)));
    proj = register_parameter("proj", scale * torch::randn({w, embed_dim}));
}

torch::Tensor VisionTransformerImpl::positional_embedding_for(int64_t gh, int64_t gw) const {
    const auto g = config_.grid_size;
    if (gh == g && gw == g) return positional_embedding;
    const auto w = positional_embedding.size(1);
    const auto grid = positional_embedding.slice(0, 1).reshape({1, g, g, w}).permute({0, 3, 1, 2});
    // The reference passes a scale factor of (g' + 0.1) / g rather than a target size; with
    // recompute_scale_factor=false the factor itself sets the sampling positions, so match it exactly.
    const std::vector<double> factors{(gh + 0.1) / static_cast<double>(g), (gw + 0.1) / static_cast<double>(g)};
    const auto resampled = F::interpolate(grid, F::InterpolateFuncOptions()
                                                    .scale_factor(factors)
                                                    .mode(torch::kBicubic)
                                                    .align_corners(false)
                                                    .recompute_scale_factor(false));
    TORCH_CHECK(resampled.size(2) == gh && resampled.size(3) == gw, "positional embedding resampled to ",
                resampled.sizes(), ", expected a ", gh, " x ", gw, " grid");
    return torch::cat({positional_embedding.slice(0, 0, 1), resampled.permute({0, 2, 3, 1}).reshape({gh * gw, w})});
}

torch::Tensor VisionTransformerImpl::tokens_through(const torch::Tensor& images, int64_t end) {
    const auto p = config_.patch_size;
    TORCH_CHECK(images.dim() == 4 && images.size(1) == 3, "images must be (N, 3, H, W), got ", images.sizes());
    TORCH_CHECK(images.size(2) % p == 0 && images.size(3) % p == 0 && images.size(2) > 0 && images.size(3) > 0,
                "image size ", images.size(2), " x ", images.size(3), " is not a positive multiple of the patch size ", p,
                ": pad the window first");
    auto x = conv1(images.to(conv1->weight.scalar_type())).to(torch::kFloat32);  // (N, W, gh, gw)
    const auto gh = x.size(2), gw = x.size(3);
    x = x.flatten(2).transpose(1, 2);  // (N, gh*gw, W), row-major over the grid
    const auto cls = class_embedding.view({1, 1, -1}).expand({x.size(0), 1, x.size(2)});
    x = torch::cat({cls, x}, 1) + positional_embedding_for(gh, gw);
    return transformer->forward(ln_pre(x), {}, end);
}

DenseFeatures VisionTransformerImpl::project(const torch::Tensor& tokens, int64_t gh, int64_t gw) {
    const auto y = torch::matmul(ln_post(tokens.to(torch::kFloat32)), proj);  // (N, 1+gh*gw, E)
    const auto patches = y.slice(1, 1).transpose(1, 2).reshape({y.size(0), y.size(2), gh, gw});
    return {y.select(1, 0), patches};
}

torch::Tensor VisionTransformerImpl::encode(const torch::Tensor& images) {
    const auto x = tokens_through(images, -1);
    return torch::matmul(ln_post(x.select(1, 0)), proj);
}

void VisionTransformerImpl::set_precision(Precision precision) {
    const auto type = scalar_type(precision);
    conv1->to(type);
    for (int64_t i = 0; i < transformer->layers(); ++i) {
        auto block = transformer->block(i);
        block->attn->to(type);
        block->mlp->to(type);
    }
    precision_ = precision;
}

DenseFeatures VisionTransformerImpl::dense(const torch::Tensor& images, AttentionKind kind) {
    const auto last = transformer->layers() - 1;
    const auto x = tokens_through(images, last);
    const auto y = transformer->block(last)->modulated(x, kind);
    return project(y, images.size(2) / config_.patch_size, images.size(3) / config_.patch_size);
}

torch::Tensor VisionTransformerImpl::training_features(const torch::Tensor& images) {
    const auto x = tokens_through(images, transformer->layers() - 1);
    return project(x, images.size(2) / config_.patch_size, images.size(3) / config_.patch_size).patches;
}

}  // namespace segearth::core
