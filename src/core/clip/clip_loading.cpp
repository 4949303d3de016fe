// Turning a weights file into a ClipModel: find the CLIP tensors, infer the shape, check every tensor.
#include <segearth/core/clip_model.hpp>

#include <segearth/error.hpp>

#include <torch/torch.h>

#include <sstream>

namespace segearth::core {
namespace {

const std::string anchor = "visual.conv1.weight";

// The prefix under which the CLIP tensors live ("" for OpenAI files, "clip." or "model." in training
// checkpoints), found from the one tensor every ViT CLIP has.
std::string find_prefix(const WeightsFile& weights) {
    const auto prefixes = prefixes_of(weights.tensors, anchor);
    if (prefixes.empty())
        throw FileError(weights.path.string() + ": not a CLIP ViT model: no tensor named '" + anchor +
                        "' (ResNet CLIPs are not supported; use a ViT-B/16, ViT-B/32 or ViT-L/14 file)");
    if (prefixes.size() > 1)
        throw FileError(weights.path.string() + ": holds more than one CLIP model (under '" + prefixes[0] +
                        "' and '" + prefixes[1] + "')");
    return prefixes.front();
}

TensorMap strip_prefix(const TensorMap& tensors, const std::string& prefix) {
    TensorMap out;
    for (const auto& [name, tensor] : tensors)
        if (name.rfind(prefix, 0) == 0) out.emplace(name.substr(prefix.size()), tensor);
    return out;
}

std::string shape_string(const std::vector<int64_t>& shape) { return c10::str(c10::IntArrayRef(shape)); }

// Every expected tensor present with the expected shape; otherwise one error listing all problems.
void check_shapes(const TensorMap& tensors, const ClipConfig& config, const WeightsFile& weights,
                  const std::string& prefix) {
    std::vector<std::string> missing, mismatched;
    for (const auto& [name, shape] : clip_parameter_shapes(config)) {
        const auto it = tensors.find(name);
        if (it == tensors.end()) {
            if (name != "logit_scale") missing.push_back(prefix + name);  // not needed for segmentation
            continue;
        }
        if (it->second.sizes() != c10::IntArrayRef(shape))
            mismatched.push_back(prefix + name + ": expected " + shape_string(shape) + ", found " +
                                 c10::str(it->second.sizes()));
    }
    if (missing.empty() && mismatched.empty()) return;
    std::ostringstream s;
    s << weights.path.string() << ": does not match the " << config.name()
      << " architecture inferred from its shapes";
    auto list = [&s](const char* what, const std::vector<std::string>& items) {
        if (items.empty()) return;
        s << "; " << what << " (" << items.size() << "): ";
        for (size_t i = 0; i < items.size() && i < 5; ++i) s << (i ? ", " : "") << items[i];
        if (items.size() > 5) s << ", ...";
    };
    list("missing tensors", missing);
    list("wrong shapes", mismatched);
    throw FileError(s.str());
}

ClipWeightsInfo describe(const WeightsFile& weights, TensorMap& clip_tensors) {
    ClipWeightsInfo info;
    info.path = weights.path;
    info.format = weights.format;
    info.prefix = find_prefix(weights);
    clip_tensors = strip_prefix(weights.tensors, info.prefix);
    try {
        info.config = infer_clip_config(clip_tensors);
    } catch (const FileError&) {
        throw;
    } catch (const Error& e) {
        throw FileError(weights.path.string() + ": " + e.what());
    }
    check_shapes(clip_tensors, info.config, weights, info.prefix);
    info.parameter_count = info.config.parameter_count();
    info.dtype = c10::toString(clip_tensors.at(anchor).scalar_type());
    return info;
}

}  // namespace

ClipWeightsInfo inspect_clip(const std::filesystem::path& path) {
    TensorMap clip_tensors;
    return describe(read_weights(path), clip_tensors);
}

LoadedClip load_clip(const WeightsFile& weights, const torch::Device& device) {
    TensorMap clip_tensors;
    LoadedClip loaded;
    loaded.info = describe(weights, clip_tensors);
    loaded.model = ClipModel(loaded.info.config);
    torch::NoGradGuard no_grad;
    for (auto& parameter : loaded.model->named_parameters()) {
        const auto it = clip_tensors.find(parameter.key());
        if (it != clip_tensors.end()) parameter.value().copy_(it->second.to(torch::kFloat32));
    }
    loaded.model->to(device);
    loaded.model->eval();
    return loaded;
}

LoadedClip load_clip(const std::filesystem::path& path, const torch::Device& device) {
    return load_clip(read_weights(path), device);
}

}  // namespace segearth::core
