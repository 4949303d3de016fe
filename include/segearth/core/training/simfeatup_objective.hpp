// SimFeatUp's training objective for one jitter (METHOD.md 7, steps 3-5): the outlier-aware
// reconstruction loss through the attention downsampler and a random projection, and the content
// retention loss through the CRN. Holds every training-only network; the upsampler is not here.
//
//   SimFeatUpObjective objective(512, 16);
//   LossTerms t = objective->terms(upsampled_j, clip_features_j, image_j, random_projection(512, 30));
//   (t.reconstruction + 0.1 * t.image).backward();
#pragma once

#include <segearth/core/clip/precision.hpp>
#include <segearth/core/training/attention_downsampler.hpp>

#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/normalization.h>

namespace segearth::core {

/// The content retention network: 1x1 conv C->C, LayerNorm over channels (eps 1e-6), GELU,
/// 1x1 conv C->3, tanh. Children are named "0", "1", "3" as in a Sequential with the GELU at 2.
class ContentRetentionNetImpl : public torch::nn::Module {
public:
    explicit ContentRetentionNetImpl(int64_t dim);
    torch::Tensor forward(const torch::Tensor& features);  ///< (N, C, H, W) -> (N, 3, H, W)

    /// bf16 or fp16: the C -> C convolution at full resolution, training's largest product, multiplies
    /// in that format (mixed_precision.hpp); the rest stays float32.
    void set_precision(Precision precision) { precision_ = precision; }

    torch::nn::Conv2d expand{nullptr}, to_rgb{nullptr};
    torch::nn::LayerNorm norm{nullptr};

private:
    Precision precision_ = Precision::fp32;
};
TORCH_MODULE(ContentRetentionNet);

struct LossTerms {
    torch::Tensor reconstruction;  ///< L_rec of one jitter (not yet divided by the number of jitters)
    torch::Tensor image;           ///< L_img of one jitter (idem)
    /// Diagnostic, not part of the loss: the plain mean squared projected residual (R^T D - R^T F)^2,
    /// which the learned outlier scale cannot lower by itself.
    torch::Tensor projected_mse;
};

class SimFeatUpObjectiveImpl : public torch::nn::Module {
public:
    /// `dim`-wide features, `patch` pixels per token.
    SimFeatUpObjectiveImpl(int64_t dim, int64_t patch);

    /// upsampled_j (N, C, H, W): the jittered upsampler output; features_j (N, C, gh, gw): CLIP's
    /// training features of the jittered image; image_j (N, 3, H, W) the jittered normalised image;
    /// projection (C, P). keep_mask: see AttentionDownsampler (undefined: random in training).
    LossTerms terms(const torch::Tensor& upsampled_j, const torch::Tensor& features_j, const torch::Tensor& image_j,
                    const torch::Tensor& projection, const torch::Tensor& keep_mask = {});

    /// The outlier scale s = max(exp(scale_net(features) + 0.1), 1e-4), (N, 1, gh, gw).
    torch::Tensor outlier_scale(const torch::Tensor& features);

    AttentionDownsampler downsampler{nullptr};
    torch::nn::Conv2d scale_net{nullptr};
    ContentRetentionNet crn{nullptr};
};
TORCH_MODULE(SimFeatUpObjective);

/// A (dim, width) Gaussian random projection with unit-norm columns, from the default generator.
torch::Tensor random_projection(int64_t dim, int64_t width, const torch::TensorOptions& options = {});

}  // namespace segearth::core
