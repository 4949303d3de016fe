// Reading and writing upsampler weights: the authors' released PyTorch Lightning checkpoints (SimFeatUp's
// jbu_one, state_dict keys "upsampler.up.range_temp", ...; FeatUp's jbu_stack, "upsampler.up1.range_temp",
// ...) and the project's own safetensors files written by `segearth train`.
#pragma once

#include <segearth/core/upsampler/jbu.hpp>
#include <segearth/core/weights.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace segearth::core {

/// Where a file's tensors hold an upsampler: its architecture, recognised from the tensor names, and
/// their prefix.
struct UpsamplerTensors {
    JbuArchitecture architecture{};
    std::string prefix;  ///< "upsampler." in the authors' checkpoints, "" in segearth's own files
};

/// The upsampler among `tensors`, if any.
std::optional<UpsamplerTensors> find_upsampler_tensors(const TensorMap& tensors);

struct LoadedUpsampler {
    JbuUpsampler model{nullptr};
    std::filesystem::path path;
    WeightsFormat format{};
    std::string prefix;  ///< as UpsamplerTensors::prefix
};

/// Loads a jbu_one or jbu_stack upsampler for `feature_dim`-wide CLIP features (512 for ViT-B/16) in evaluation
/// mode on `device`. Throws FileError naming the file when it holds no upsampler, misses tensors, or
/// was trained for another feature width (with what to do instead).
LoadedUpsampler load_upsampler(const std::filesystem::path& path, int64_t feature_dim,
                               const torch::Device& device = torch::kCPU);

/// Writes a jbu_one upsampler as safetensors (names as in the authors' checkpoint, without a prefix), with
/// metadata recording what it is; replaces `path` only when complete.
void save_upsampler(const std::filesystem::path& path, JbuUpsampler& upsampler,
                    std::map<std::string, std::string> metadata = {});
/// The same from the upsampler's parameters (CPU float32, named as JbuUpsampler names them).
void save_upsampler(const std::filesystem::path& path, const TensorMap& parameters, int64_t feature_dim,
                    std::map<std::string, std::string> metadata = {});

}  // namespace segearth::core
