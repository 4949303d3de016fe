// CLIP ViT in libtorch with OpenAI's parameter names, and loading it from the files users have.
//
//   auto clip = segearth::core::load_clip("ViT-B-16.pt");          // any supported format
//   torch::NoGradGuard no_grad;
//   auto dense = clip.model->visual->dense(windows);              // (N,3,224,224) normalised
//   auto text = clip.model->encode_text(token_ids);               // (Q, 77) int64
#pragma once

#include <segearth/core/clip/vision_transformer.hpp>
#include <segearth/core/clip_config.hpp>
#include <segearth/core/weights.hpp>

#include <torch/nn/modules/embedding.h>

#include <filesystem>

namespace segearth::core {

class ClipModelImpl : public torch::nn::Module {
public:
    explicit ClipModelImpl(const ClipConfig& config);

    /// Text embeddings (N, E) of token ids (N, context) as the Tokenizer makes them. Only the
    /// positions up to the last end-of-text token are computed: with the causal mask the later ones
    /// cannot change the result.
    torch::Tensor encode_text(const torch::Tensor& token_ids);

    const ClipConfig& config() const { return config_; }

    VisionTransformer visual{nullptr};
    torch::nn::Embedding token_embedding{nullptr};
    torch::Tensor positional_embedding, text_projection, logit_scale;
    Transformer transformer{nullptr};
    torch::nn::LayerNorm ln_final{nullptr};

private:
    ClipConfig config_;
};
TORCH_MODULE(ClipModel);

/// What a CLIP weights file holds, read without building the model.
struct ClipWeightsInfo {
    std::filesystem::path path;
    WeightsFormat format{};
    std::string prefix;            ///< prefix stripped from the names, e.g. "clip." in a Lightning file
    ClipConfig config;
    int64_t parameter_count = 0;   ///< parameters of the CLIP model itself
    std::string dtype;             ///< storage dtype of the weights, e.g. "float16"
};

struct LoadedClip {
    ClipModel model{nullptr};
    ClipWeightsInfo info;
};

/// Reads the file, infers the architecture and checks every tensor's shape. Throws FileError naming
/// the file and what is wrong (missing tensors, expected vs found shape).
ClipWeightsInfo inspect_clip(const std::filesystem::path& path);

/// Loads CLIP in float32 on `device`, in evaluation mode.
LoadedClip load_clip(const std::filesystem::path& path, const torch::Device& device = torch::kCPU);

/// Builds CLIP from already-read tensors (names as in the file); `source` names them in errors.
LoadedClip load_clip(const WeightsFile& weights, const torch::Device& device = torch::kCPU);

}  // namespace segearth::core
