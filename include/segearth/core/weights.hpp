// Reading model weights without executing anything from the file.
//
//   auto w = segearth::core::read_weights("ViT-B-16.pt");
//   torch::Tensor conv1 = w.tensors.at("visual.conv1.weight");
//
// Formats: OpenAI's TorchScript archives, torch.save zip files (a state dict, possibly nested under
// "state_dict" or "model", keys possibly prefixed "module."), PyTorch Lightning checkpoints (extra
// training state, unknown Python classes become inert placeholders), and safetensors.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace segearth::core {

enum class WeightsFormat { torchscript, torch_save, lightning_checkpoint, safetensors };

const char* to_string(WeightsFormat format);

using TensorMap = std::map<std::string, torch::Tensor>;

struct WeightsFile {
    std::filesystem::path path;
    WeightsFormat format{};
    /// Every tensor of the file's state dict by its dotted name, as stored (dtype kept), with a
    /// wrapping "state_dict"/"model" level and a common "module." prefix removed. For TorchScript
    /// archives the names are the module's parameter/buffer paths ("visual.conv1.weight").
    TensorMap tensors;
};

/// Reads a weights file. Throws FileError naming the file and the problem (not found, truncated,
/// corrupt, unsupported format) and never executes code from it.
WeightsFile read_weights(const std::filesystem::path& path);

/// Every prefix P such that the map holds a tensor named P + `name` ("" and "clip." for
/// "visual.conv1.weight"): how a model is found inside a checkpoint that holds more than it.
std::vector<std::string> prefixes_of(const TensorMap& tensors, const std::string& name);

/// Writes tensors (contiguous CPU copies) as a safetensors file, with optional string metadata.
/// Writes to a temporary name beside `path` and renames it when complete.
void write_safetensors(const std::filesystem::path& path, const TensorMap& tensors,
                       const std::map<std::string, std::string>& metadata = {});

/// The metadata ("__metadata__") of a safetensors file.
std::map<std::string, std::string> read_safetensors_metadata(const std::filesystem::path& path);

}  // namespace segearth::core
