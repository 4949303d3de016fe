#include <segearth/core/training/attention_downsampler.hpp>

#include <torch/torch.h>

namespace segearth::core {
namespace {
namespace F = torch::nn::functional;
constexpr double keep_probability = 0.8;
}  // namespace

torch::Tensor gaussian_blur5(const torch::Tensor& x) {
    const int64_t c = x.size(1);
    auto g = torch::exp(-torch::arange(-2, 3, x.options()).square() / 2.0);
    g = g / g.sum();
    const auto padded = F::pad(x, F::PadFuncOptions({2, 2, 2, 2}).mode(torch::kReflect));
    // Separable: a 5 x 1 then a 1 x 5 depthwise convolution.
    const auto rows = F::conv2d(padded, g.view({1, 1, 5, 1}).expand({c, 1, 5, 1}), F::Conv2dFuncOptions().groups(c));
    return F::conv2d(rows, g.view({1, 1, 1, 5}).expand({c, 1, 1, 5}), F::Conv2dFuncOptions().groups(c));
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
    // (N, C, gh, p, gw, p) -> (N, gh, gw, p*p, C): every cell's pixels as rows of C-vectors.
    const auto patches = gaussian_blur5(features)
                             .view({n, c, gh, patch_, gw, patch_})
                             .permute({0, 2, 4, 3, 5, 1})
                             .reshape({n, gh, gw, taps, c});
    auto logits = attention_net->forward(patches).squeeze(-1);  // (N, gh, gw, p*p)
    torch::Tensor mask = keep_mask;
    if (!mask.defined())
        mask = is_training() ? torch::bernoulli(torch::full({n, gh, gw, 1}, keep_probability, features.options()))
                             : torch::ones({n, gh, gw, 1}, features.options());
    TORCH_CHECK(mask.sizes() == torch::IntArrayRef({n, gh, gw, 1}), "keep mask: expected (", n, ", ", gh, ", ", gw,
                ", 1), got ", mask.sizes());
    logits = logits * mask * w.reshape({1, 1, 1, taps}) + b.reshape({1, 1, 1, taps});
    const auto attention = torch::softmax(logits, -1);
    return torch::einsum("nyxpc,nyxp->ncyx", {patches, attention});
}

}  // namespace segearth::core
