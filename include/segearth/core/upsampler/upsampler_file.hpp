// Reading and writing SimFeatUp upsampler weights: the authors' released PyTorch Lightning checkpoint
// (state_dict keys "upsampler.up.range_temp", ...) and the project's own safetensors files written by
// `segearth train`.
#pragma once

#include <segearth/core/upsampler/jbu.hpp>
#include <segearth/core/weights.hpp>

#include <filesystem>
#include <map>
#include <string>

namespace segearth::core {

struct LoadedUpsampler {
    JbuOne model{nullptr};
    std::filesystem::path path;
    WeightsFormat format{};
    std::string prefix;  ///< "upsampler." in the authors' checkpoint, "" in segearth's own files
};

/// Loads a jbu_one upsampler for `feature_dim`-wide CLIP features (512 for ViT-B/16) in evaluation
/// mode on `device`. Throws FileError naming the file when it holds no upsampler, misses tensors, or
/// was trained for another feature width (with what to do instead).
LoadedUpsampler load_upsampler(const std::filesystem::path& path, int64_t feature_dim,
                               const torch::Device& device = torch::kCPU);

/// Writes the upsampler as safetensors (names as in the authors' checkpoint, without a prefix), with
/// metadata recording what it is; replaces `path` only when complete.
void save_upsampler(const std::filesystem::path& path, JbuOne& upsampler,
                    std::map<std::string, std::string> metadata = {});
/// The same from the upsampler's parameters (CPU float32, named as JbuOne names them).
void save_upsampler(const std::filesystem::path& path, const TensorMap& parameters, int64_t feature_dim,
                    std::map<std::string, std::string> metadata = {});

}  // namespace segearth::core
