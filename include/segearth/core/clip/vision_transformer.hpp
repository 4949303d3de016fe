// CLIP's image encoder with the three forwards segearth needs (METHOD.md 3 and 7).
#pragma once

#include <segearth/core/clip/clip_blocks.hpp>
#include <segearth/core/clip/precision.hpp>
#include <segearth/core/clip_config.hpp>

#include <torch/nn/modules/conv.h>

namespace segearth::core {

/// The dense forward's result for a batch of windows.
struct DenseFeatures {
    torch::Tensor cls;      ///< (N, E): the [CLS] token after ln_post and proj
    torch::Tensor patches;  ///< (N, E, gh, gw): the patch tokens after ln_post and proj
};

class VisionTransformerImpl : public torch::nn::Module {
public:
    explicit VisionTransformerImpl(const VisionConfig& config, int64_t embed_dim);

    /// The ordinary CLIP image embedding (N, E) of normalised images (N, 3, H, W).
    torch::Tensor encode(const torch::Tensor& images);
    /// SegEarth-OV's dense forward: first L-1 blocks unchanged, the last replaced by the modulated
    /// attention without residual or MLP. H and W must be multiples of the patch size.
    DenseFeatures dense(const torch::Tensor& images, AttentionKind kind = AttentionKind::segearth);
    /// Features SimFeatUp is trained to upsample: the INPUT of the last block through ln_post and
    /// proj, patch tokens only, (N, E, gh, gw).
    torch::Tensor training_features(const torch::Tensor& images);

    /// The positional embedding for a gh x gw token grid (METHOD.md 3a), (1 + gh*gw, width).
    torch::Tensor positional_embedding_for(int64_t gh, int64_t gw) const;

    /// Stores the patch embedding's and the blocks' matrix weights in the precision's type (LayerNorms,
    /// embeddings, ln_post and proj stay float32); every forward then multiplies in it and returns
    /// float32. Inference only: training keeps fp32. Converting back to fp32 from bf16 does not restore
    /// the original weights: load the model again for that.
    void set_precision(Precision precision);
    Precision precision() const { return precision_; }

    const VisionConfig& config() const { return config_; }

    torch::nn::Conv2d conv1{nullptr};
    torch::Tensor class_embedding, positional_embedding, proj;
    torch::nn::LayerNorm ln_pre{nullptr}, ln_post{nullptr};
    Transformer transformer{nullptr};

private:
    /// Patch embedding, class token, positional embedding, ln_pre and blocks [0, end): (N, 1+gh*gw, W).
    torch::Tensor tokens_through(const torch::Tensor& images, int64_t end);
    /// ln_post then proj on all tokens, split into [CLS] (N, E) and the patch map (N, E, gh, gw).
    DenseFeatures project(const torch::Tensor& tokens, int64_t gh, int64_t gw);

    VisionConfig config_;
    Precision precision_ = Precision::fp32;
};
TORCH_MODULE(VisionTransformer);

}  // namespace segearth::core
