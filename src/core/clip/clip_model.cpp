#include <segearth/core/clip_model.hpp>

#include <torch/torch.h>

#include <cmath>

namespace segearth::core {

ClipModelImpl::ClipModelImpl(const ClipConfig& config) : config_(config) {
    const auto& t = config.text;
    visual = register_module("visual", VisionTransformer(config.vision, config.embed_dim));
    token_embedding = register_module("token_embedding", torch::nn::Embedding(t.vocab_size, t.width));
    positional_embedding = register_parameter("positional_embedding", 0.01 * torch::randn({t.context_length, t.width}));
    transformer = register_module("transformer", Transformer(t.width, t.layers, t.heads));
    ln_final = register_module("ln_final", torch::nn::LayerNorm(torch::nn::LayerNormOptions({t.width}).eps(1e-5)));
    text_projection = register_parameter("text_projection",
                                         torch::randn({t.width, config.embed_dim}) / std::sqrt(double(t.width)));
    logit_scale = register_parameter("logit_scale", torch::full({}, std::log(100.0)));
}

torch::Tensor ClipModelImpl::encode_text(const torch::Tensor& token_ids) {
    TORCH_CHECK(token_ids.dim() == 2 && token_ids.size(1) <= config_.text.context_length,
                "token ids must be (N, L) with L <= ", config_.text.context_length, ", got ", token_ids.sizes());
    const auto ids = token_ids.to(positional_embedding.device(), torch::kLong);
    const auto eot = ids.argmax(-1);  // the end-of-text token has the largest id
    const int64_t length = eot.max().item<int64_t>() + 1;
    auto x = token_embedding(ids.slice(1, 0, length)) + positional_embedding.slice(0, 0, length);
    const auto mask = torch::full({length, length}, -std::numeric_limits<float>::infinity(), x.options()).triu(1);
    x = ln_final(transformer->forward(x, mask));
    const auto rows = x.index({torch::arange(x.size(0), eot.options()), eot});
    return torch::matmul(rows, text_projection);
}

}  // namespace segearth::core
