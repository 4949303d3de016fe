#include <segearth/core/upsampler/upsampler_file.hpp>

#include <segearth/error.hpp>

#include <torch/torch.h>

#include <sstream>

namespace segearth::core {
namespace {

// The one tensor every upsampler of each architecture has, and the prefix of the upsampler's tensors
// before it: "" or e.g. "upsampler." in a Lightning checkpoint that also holds the training-only
// downsampler and networks.
const std::pair<JbuArchitecture, const char*> anchors[] = {{JbuArchitecture::one, "up.range_temp"},
                                                           {JbuArchitecture::stack, "up1.range_temp"}};

}  // namespace

std::optional<UpsamplerTensors> find_upsampler_tensors(const TensorMap& tensors) {
    for (const auto& [architecture, anchor] : anchors) {
        const auto prefixes = prefixes_of(tensors, anchor);
        if (!prefixes.empty()) return UpsamplerTensors{architecture, prefixes.front()};
    }
    return std::nullopt;
}

LoadedUpsampler load_upsampler(const std::filesystem::path& path, int64_t feature_dim, const torch::Device& device) {
    const auto weights = read_weights(path);
    LoadedUpsampler loaded;
    loaded.path = path;
    loaded.format = weights.format;
    const auto found = find_upsampler_tensors(weights.tensors);
    if (!found)
        throw FileError(path.string() + ": not an upsampler: no tensor named 'up.range_temp' or 'up1.range_temp' "
                        "(expected the authors' SimFeatUp jbu_one checkpoint, a FeatUp jbu_stack checkpoint or a "
                        "file written by segearth train)");
    loaded.prefix = found->prefix;
    const char* name = to_string(found->architecture);

    const auto fixup = weights.tensors.find(loaded.prefix + "fixup_proj.1.weight");
    if (fixup == weights.tensors.end())
        throw FileError(path.string() + ": the upsampler has no '" + loaded.prefix +
                        "fixup_proj.1.weight' (not a " + name + " upsampler?)");
    const int64_t trained_dim = fixup->second.size(0);
    if (trained_dim != feature_dim)
        throw FileError(path.string() + ": this upsampler was trained for " + std::to_string(trained_dim) +
                        "-wide features but the CLIP model gives " + std::to_string(feature_dim) +
                        "-wide ones: train one for this model with `segearth train`, or use --upsampler bilinear");

    loaded.model = JbuUpsampler(feature_dim, found->architecture);
    std::vector<std::string> problems;
    torch::NoGradGuard no_grad;
    for (auto& p : loaded.model->named_parameters()) {
        const auto it = weights.tensors.find(loaded.prefix + p.key());
        if (it == weights.tensors.end()) {
            problems.push_back("missing " + loaded.prefix + p.key());
        } else if (it->second.sizes() != p.value().sizes()) {
            problems.push_back(loaded.prefix + p.key() + ": expected " + c10::str(p.value().sizes()) + ", found " +
                               c10::str(it->second.sizes()));
        } else {
            p.value().copy_(it->second.to(torch::kFloat32));
        }
    }
    if (!problems.empty()) {
        std::ostringstream s;
        s << path.string() << ": not a usable " << name << " upsampler: ";
        for (size_t i = 0; i < problems.size() && i < 5; ++i) s << (i ? "; " : "") << problems[i];
        if (problems.size() > 5) s << "; ... (" << problems.size() << " problems)";
        throw FileError(s.str());
    }
    loaded.model->to(device);
    loaded.model->eval();
    return loaded;
}

void save_upsampler(const std::filesystem::path& path, JbuUpsampler& upsampler, std::map<std::string, std::string> metadata) {
    if (upsampler->architecture() != JbuArchitecture::one)
        throw UsageError("segearth writes jbu_one upsamplers only");
    TensorMap tensors;
    for (const auto& p : upsampler->named_parameters())
        tensors.emplace(p.key(), p.value().detach().to(torch::kCPU, torch::kFloat32).contiguous());
    save_upsampler(path, tensors, upsampler->feature_dim(), std::move(metadata));
}

void save_upsampler(const std::filesystem::path& path, const TensorMap& parameters, int64_t feature_dim,
                    std::map<std::string, std::string> metadata) {
    metadata["segearth_content"] = "simfeatup upsampler";
    metadata["architecture"] = "jbu_one";
    metadata["feature_dim"] = std::to_string(feature_dim);
    write_safetensors(path, parameters, metadata);
}

}  // namespace segearth::core
