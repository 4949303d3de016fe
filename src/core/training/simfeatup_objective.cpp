#include <segearth/core/training/simfeatup_objective.hpp>

#include "mixed_precision.hpp"

#include <torch/torch.h>

namespace segearth::core {

ContentRetentionNetImpl::ContentRetentionNetImpl(int64_t dim) {
    expand = register_module("0", torch::nn::Conv2d(torch::nn::Conv2dOptions(dim, dim, 1)));
    norm = register_module("1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-6)));
    to_rgb = register_module("3", torch::nn::Conv2d(torch::nn::Conv2dOptions(dim, 3, 1)));
}

torch::Tensor ContentRetentionNetImpl::forward(const torch::Tensor& features) {
    const auto x = norm->forward(conv1x1_in(precision_, *expand, features).permute({0, 2, 3, 1})).permute({0, 3, 1, 2});
    return torch::tanh(to_rgb->forward(torch::gelu(x)));
}

SimFeatUpObjectiveImpl::SimFeatUpObjectiveImpl(int64_t dim, int64_t patch) {
    downsampler = register_module("downsampler", AttentionDownsampler(dim, patch));
    scale_net = register_module("scale_net", torch::nn::Conv2d(torch::nn::Conv2dOptions(dim, 1, 1)));
    {
        // Starts the outlier scale near exp(0.1) everywhere: 0.1 x the default initialisation.
        torch::NoGradGuard no_grad;
        scale_net->weight.mul_(0.1);
        scale_net->bias.mul_(0.1);
    }
    crn = register_module("crn", ContentRetentionNet(dim));
}

torch::Tensor SimFeatUpObjectiveImpl::outlier_scale(const torch::Tensor& features) {
    return torch::exp(scale_net->forward(features) + 0.1).clamp_min(1e-4);
}

LossTerms SimFeatUpObjectiveImpl::terms(const torch::Tensor& upsampled_j, const torch::Tensor& features_j,
                                        const torch::Tensor& image_j, const torch::Tensor& projection,
                                        const torch::Tensor& keep_mask) {
    const auto downsampled = downsampler->forward(upsampled_j, keep_mask);
    TORCH_CHECK(downsampled.sizes() == features_j.sizes(), "the downsampled features ", downsampled.sizes(),
                " do not match CLIP's ", features_j.sizes());
    const auto project = [&](const torch::Tensor& f) { return torch::einsum("nchw,cp->nphw", {f, projection}); };
    const auto s = outlier_scale(features_j);
    const auto residual = project(downsampled) - project(features_j);
    LossTerms t;
    // The mean of log s over (N, P, gh, gw) with s broadcast over P is its mean over (N, 1, gh, gw).
    t.reconstruction = (residual.square() / (2 * s.square())).mean() + s.log().mean();
    t.projected_mse = residual.detach().square().mean();
    t.image = (image_j - crn->forward(upsampled_j)).square().mean();
    return t;
}

torch::Tensor random_projection(int64_t dim, int64_t width, const torch::TensorOptions& options) {
    auto r = torch::randn({dim, width}, options);
    return r / r.square().sum(0, true).sqrt();
}

}  // namespace segearth::core
