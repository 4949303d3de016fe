#include <segearth/pipeline/info.hpp>

#include "with_project_errors.hpp"

#include <segearth/core/assets.hpp>
#include <segearth/core/blas_runtime.hpp>
#include <segearth/core/clip_model.hpp>
#include <segearth/core/tokenizer.hpp>
#include <segearth/core/upsampler/upsampler_file.hpp>
#include <segearth/error.hpp>
#include <segearth/geo/raster_info.hpp>

#include <torch/cuda.h>
#include <torch/version.h>

#include <fstream>
#include <map>
#include <iomanip>
#include <sstream>

namespace segearth::pipeline {
namespace {

// Model files are zip archives (torch.save, TorchScript) or safetensors (8-byte length, then JSON).
bool looks_like_weights(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    char head[9] = {};
    in.read(head, sizeof head);
    if (in.gcount() < 4) return false;
    if (std::string(head, 4) == std::string("PK\x03\x04", 4)) return true;
    return in.gcount() == 9 && head[8] == '{';
}

const char* format_description(core::WeightsFormat format) {
    switch (format) {
        case core::WeightsFormat::torchscript: return "TorchScript archive, as OpenAI releases CLIP";
        case core::WeightsFormat::torch_save: return "torch.save state dict";
        case core::WeightsFormat::lightning_checkpoint: return "PyTorch Lightning checkpoint";
        case core::WeightsFormat::safetensors: return "safetensors";
    }
    return "";
}

std::string with_thousands(int64_t n) {
    auto digits = std::to_string(n);
    for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<size_t>(i), ",");
    return digits;
}

std::string describe_model(const std::filesystem::path& path) {
    const auto info = core::inspect_clip(path);
    const auto& c = info.config;
    std::ostringstream s;
    s << "File: " << path.string() << "\n"
      << "Format: " << core::to_string(info.format) << " (" << format_description(info.format) << ")\n"
      << "Model: CLIP " << c.name() << "\n"
      << "Parameters: " << with_thousands(info.parameter_count) << " (stored as " << info.dtype << ")\n";
    if (!info.prefix.empty()) s << "Tensor name prefix: " << info.prefix << "\n";
    s << "Image encoder: width " << c.vision.width << ", " << c.vision.layers << " layers, " << c.vision.heads
      << " heads, patch " << c.vision.patch_size << ", trained at " << c.vision.image_size() << " x "
      << c.vision.image_size() << " (" << c.vision.grid_size << " x " << c.vision.grid_size << " tokens)\n"
      << "Text encoder: width " << c.text.width << ", " << c.text.layers << " layers, " << c.text.heads
      << " heads, context " << c.text.context_length << ", vocabulary " << c.text.vocab_size << "\n"
      << "Embedding: " << c.embed_dim << "\n";
    return s.str();
}

std::string describe_raster(const std::filesystem::path& path) {
    const auto info = geo::read_raster_info(path.string());
    std::ostringstream s;
    s << "File: " << info.path << "\n"
      << "Driver: " << info.driver << "\n"
      << "Size: " << info.width << " x " << info.height << ", " << info.bands.size() << " band(s)\n"
      << "CRS: " << (info.crs_name.empty() ? "none (not georeferenced)" : info.crs_name);
    if (!info.crs_authority.empty()) s << " (" << info.crs_authority << ")";
    s << "\n";
    if (info.geotransform) {
        const auto& gt = *info.geotransform;
        s << std::setprecision(15) << "Origin: (" << gt[0] << ", " << gt[3] << ")\n"
          << "Pixel size: (" << gt[1] << ", " << gt[5] << ")\n";
    }
    s << "Block: " << info.block_width << " x " << info.block_height << ", overviews: " << info.overview_count
      << "\n";
    for (size_t b = 0; b < info.bands.size(); ++b) {
        const auto& band = info.bands[b];
        s << "Band " << b + 1 << ": " << band.data_type << ", " << band.color_interpretation;
        if (band.nodata) s << ", nodata " << *band.nodata;
        if (!band.description.empty()) s << ", \"" << band.description << "\"";
        s << "\n";
    }
    return s.str();
}

// An upsampler: the authors' SimFeatUp or FeatUp checkpoints, a file `segearth train` wrote, or its
// training checkpoint (which also holds the upsampler).
std::string describe_upsampler(const core::WeightsFile& weights, const core::UpsamplerTensors& found) {
    const auto& prefix = found.prefix;
    const bool one = found.architecture == core::JbuArchitecture::one;
    const auto fixup = weights.tensors.find(prefix + "fixup_proj.1.weight");
    std::map<std::string, std::string> metadata;
    if (weights.format == core::WeightsFormat::safetensors) metadata = core::read_safetensors_metadata(weights.path);
    const auto field = [&](const std::string& key) {
        const auto it = metadata.find(key);
        return it == metadata.end() ? std::string() : it->second;
    };
    std::ostringstream s;
    s << "File: " << weights.path.string() << "\n"
      << "Format: " << core::to_string(weights.format) << " (" << format_description(weights.format) << ")\n"
      << (one ? "Model: SimFeatUp jbu_one upsampler" : "Model: FeatUp jbu_stack upsampler");
    if (fixup != weights.tensors.end()) s << " for " << fixup->second.size(0) << "-wide CLIP features";
    s << "\n"
      << (one ? "Layers: one JBU module with an 11 x 11 window, applied at each of the 4 x2 steps, then a 1x1 fix-up\n"
              : "Layers: 4 independent JBU modules with 7 x 7 windows, one per x2 step, then a 1x1 fix-up\n");
    if (!prefix.empty()) s << "Tensor name prefix: " << prefix << "\n";
    if (!field("clip").empty())
        s << "Trained by segearth train for: " << field("clip") << " (CRC-32 " << field("clip_crc32") << ")\n";
    if (field("segearth_content") == "simfeatup training checkpoint")
        s << "Training checkpoint: step " << field("step") << " of " << field("total_steps")
          << "; continue with segearth train --resume " << weights.path.string() << "\n";
    else if (!field("steps").empty())
        s << "Steps trained: " << field("steps") << "\n";
    return s.str();
}

}  // namespace

std::string describe_file(const std::filesystem::path& path) {
    if (!std::filesystem::exists(path) && path.string().rfind("/vsi", 0) != 0)
        throw FileError(path.string() + ": no such file");
    if (!looks_like_weights(path)) return describe_raster(path);
    const auto weights = core::read_weights(path);
    const auto upsampler = core::find_upsampler_tensors(weights.tensors);
    if (core::prefixes_of(weights.tensors, "visual.conv1.weight").empty() && upsampler)
        return describe_upsampler(weights, *upsampler);
    return describe_model(path);
}

std::string describe_tokens(const std::string& text, const std::filesystem::path& bpe_vocabulary) {
    const core::Tokenizer tokenizer(bpe_vocabulary);
    std::ostringstream s;
    const auto ids = tokenizer.tokenize(text);
    for (size_t i = 0; i < ids.size(); ++i) s << (i ? " " : "") << ids[i];
    s << "\n";
    return s.str();
}

std::string describe_system() {
    core::set_threads(core::default_thread_count());  // what segment and the benchmarks use
    const auto blas = core::blas_report();
    std::ostringstream s;
    s << "segearth " << SEGEARTH_VERSION << ", libtorch " << TORCH_VERSION << ", GDAL " << geo::gdal_version() << "\n"
      << "BLAS: " << blas.library << "\n"
      << "BLAS core type: " << (blas.core_type.empty() ? "n/a" : blas.core_type);
    const auto preferred = core::preferred_openblas_core_type();
    if (!blas.core_type.empty() && !preferred.empty()) s << " (best for this CPU: " << preferred << ")";
    s << "\n"
      << "CPU features: " << (blas.cpu_features.empty() ? "none of the listed" : blas.cpu_features) << "\n"
      << "Threads: " << blas.threads << "\n"
      << std::fixed << std::setprecision(1)
      << "Matmul 1024^3 float32: " << core::measure_matmul_gflops(1024, 3) << " GFLOP/s\n"
      << "Matmul 1024^3 bfloat16: " << core::measure_matmul_gflops(1024, 3, true) << " GFLOP/s ("
      << (core::cpu_has_native_bf16() ? "native bf16: --precision bf16 pays" : "no native bf16: emulated, use fp32")
      << ")\n"
      << "CUDA: " << (torch::cuda::is_available() ? std::to_string(torch::cuda::device_count()) + " device(s)"
                                                   : std::string("not available")) << "\n";
    return s.str();
}

}  // namespace segearth::pipeline

namespace segearth::pipeline {

std::string info(const InfoOptions& o) {
    validate(o);
    return with_project_errors([&] {
        if (o.system) return describe_system();
        if (!o.preset.empty()) return describe_preset(o.preset, o.json);
        if (o.presets) return describe_presets(o.json);
        if (!o.tokenize.empty())
            return describe_tokens(o.tokenize, core::find_asset(core::bpe_vocabulary_asset(), o.vocab));
        return describe_file(o.file);
    });
}

}  // namespace segearth::pipeline
