// A CLIP architecture, inferred from the shapes of its weights as OpenAI's own loader does.
#pragma once

#include <segearth/core/weights.hpp>

#include <cstdint>
#include <string>

namespace segearth::core {

struct VisionConfig {
    int64_t width = 768;
    int64_t layers = 12;
    int64_t heads = 12;
    int64_t patch_size = 16;
    int64_t grid_size = 14;  ///< token grid side the positional embedding was trained for
    int64_t image_size() const { return patch_size * grid_size; }
};

struct TextConfig {
    int64_t width = 512;
    int64_t layers = 12;
    int64_t heads = 8;
    int64_t context_length = 77;
    int64_t vocab_size = 49408;
};

struct ClipConfig {
    int64_t embed_dim = 512;
    VisionConfig vision;
    TextConfig text;

    /// "ViT-B/16", "ViT-B/32", "ViT-L/14", "ViT-L/14@336px", or a description of an unnamed shape.
    std::string name() const;
    /// Number of parameters a model of this shape has.
    int64_t parameter_count() const;
    /// The configuration of OpenAI's released model of that name ("ViT-B/16", ...). Throws Error.
    static ClipConfig named(const std::string& name);
};

/// Infers the architecture from tensor shapes (names without any prefix: "visual.conv1.weight"...).
/// Throws Error naming the missing tensor or the inconsistent shape.
ClipConfig infer_clip_config(const TensorMap& tensors);

/// Every tensor name and shape a CLIP of this configuration has, in OpenAI's naming.
std::map<std::string, std::vector<int64_t>> clip_parameter_shapes(const ClipConfig& config);

}  // namespace segearth::core
