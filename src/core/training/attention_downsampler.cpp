#include <segearth/core/training/attention_downsampler.hpp>

#include "training/separable_resample.hpp"

#include <torch/torch.h>

#include <cmath>
#include <vector>

namespace segearth::core {
namespace {

constexpr double keep_probability = 0.8;

// One axis of the blur: 5 taps exp(-d^2 / 2), d = -2..2, normalised, borders reflected.
ResampleAxis blur_axis(int64_t size) {
    std::vector<double> g(5);
    double sum = 0;
    for (int d = -2; d <= 2; ++d) sum += g[static_cast<size_t>(d + 2)] = std::exp(-d * d / 2.0);
    for (auto& v : g) v /= sum;
    std::vector<std::vector<int64_t>> index(static_cast<size_t>(size));
    std::vector<std::vector<double>> weight(static_cast<size_t>(size), g);
    for (int64_t i = 0; i < size; ++i)
        for (int64_t d = -2; d <= 2; ++d) index[static_cast<size_t>(i)].push_back(reflect_index(i + d, size));
    return resample_axis(index, weight);
}

}  // namespace

torch::Tensor gaussian_blur5(const torch::Tensor& x) {
    TORCH_CHECK(x.size(2) > 2 && x.size(3) > 2, "the 5 x 5 blur needs at least 3 x 3 pixels, got ", x.sizes());
    return separable_resample(x, blur_axis(x.size(2)), blur_axis(x.size(3)));
}

AttentionDownsamplerImpl::AttentionDownsamplerImpl(int64_t dim, int64_t patch) : patch_(patch) {
    attention_net = register_module("attention_net",
                                    torch::nn::Sequential(torch::nn::Dropout(0.2), torch::nn::Linear(dim, 1)));
    w = register_parameter("w", torch::ones({patch, patch}) + 0.01 * torch::randn({patch, patch}));
    b = register_parameter("b", 0.01 * torch::randn({patch, patch}));
}

torch::Tensor AttentionDownsamplerImpl::forward(const torch::Tensor& features, const torch::Tensor& keep_mask) {
    const int64_t n = features.size(0), c = features.size(1), h = features.size(2), wd = features.size(3);
    TORCH_CHECK(h % patch_ == 0 && wd % patch_ == 0, "the downsampler expects sides that are multiples of ", patch_,
                ", got ", h, " x ", wd);
    const int64_t gh = h / patch_, gw = wd / patch_, taps = patch_ * patch_;
    const auto blurred = gaussian_blur5(features);
    // Every pixel's attention logit, Linear(C -> 1) after the Dropout, computed in place on the
    // (N, C, H, W) map as a 1x1 convolution: the (N, gh, gw, p*p, C) patch tensor (100 MB per
    // 512-channel 224 px image) is never formed.
    const auto& linear = attention_net[1]->as<torch::nn::Linear>();
    const auto dropped = attention_net[0]->as<torch::nn::Dropout>()->forward(blurred);
    const auto pixel_logits = torch::conv2d(dropped, linear->weight.view({1, c, 1, 1}), linear->bias);  // (N, 1, H, W)
    // (N, 1, gh, p, gw, p) <-> (N, gh, gw, p*p): each cell's logits as one row, position p = py * patch + px.
    const auto to_cells = [&](const torch::Tensor& map) {
        return map.view({n, gh, patch_, gw, patch_}).permute({0, 1, 3, 2, 4}).reshape({n, gh, gw, taps});
    };
    const auto to_map = [&](const torch::Tensor& cells) {
        return cells.view({n, gh, gw, patch_, patch_}).permute({0, 1, 3, 2, 4}).reshape({n, 1, h, wd});
    };
    torch::Tensor mask = keep_mask;
    if (!mask.defined())
        mask = is_training() ? torch::bernoulli(torch::full({n, gh, gw, 1}, keep_probability, features.options()))
                             : torch::ones({n, gh, gw, 1}, features.options());
    TORCH_CHECK(mask.sizes() == torch::IntArrayRef({n, gh, gw, 1}), "keep mask: expected (", n, ", ", gh, ", ", gw,
                ", 1), got ", mask.sizes());
    const auto logits = to_cells(pixel_logits) * mask * w.reshape({1, 1, 1, taps}) + b.reshape({1, 1, 1, taps});
    const auto attention = to_map(torch::softmax(logits, -1));  // (N, 1, H, W), each cell summing to 1
    return (blurred * attention).view({n, c, gh, patch_, gw, patch_}).sum({3, 5});
}

}  // namespace segearth::core
