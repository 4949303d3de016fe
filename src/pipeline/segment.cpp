#include <segearth/pipeline/segment.hpp>

#include "device_choice.hpp"

#include <segearth/core/assets.hpp>
#include <segearth/core/blas_runtime.hpp>
#include <segearth/core/clip_model.hpp>
#include <segearth/core/text_queries.hpp>
#include <segearth/core/tokenizer.hpp>
#include <segearth/core/upsampler/upsampler_file.hpp>
#include <segearth/error.hpp>
#include <segearth/geo/gdal_setup.hpp>
#include <segearth/geo/output_raster.hpp>
#include <segearth/geo/vectorize.hpp>

#include <torch/cuda.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>

namespace segearth::pipeline {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string vocabulary_spec(const core::Vocabulary& v) {
    std::string spec;
    for (const auto& c : v.classes) {
        if (!spec.empty()) spec += ';';
        for (size_t i = 0; i < c.size(); ++i) spec += (i ? "," : "") + c[i];
    }
    return spec;
}

std::string number(double v) {
    std::ostringstream out;
    out << v;
    return out.str();
}

// The GDAL scene as the streaming scheduler's window source.
class SceneSource : public WindowSource {
public:
    explicit SceneSource(geo::SceneReader& reader) : reader_(reader) {}
    int64_t width() const override { return reader_.working_grid().width; }
    int64_t height() const override { return reader_.working_grid().height; }
    void read(int64_t x, int64_t y, int64_t w, int64_t h, torch::Tensor& rgb, torch::Tensor& valid) override {
        rgb = torch::empty({3, h, w}, torch::kFloat32);
        auto mask = torch::empty({h, w}, torch::kUInt8);
        reader_.read_working(static_cast<int>(x), static_cast<int>(y), static_cast<int>(w), static_cast<int>(h),
                             rgb.data_ptr<float>(), mask.data_ptr<uint8_t>());
        valid = mask.to(torch::kBool);
    }

private:
    geo::SceneReader& reader_;
};

// Decided blocks into the output rasters, with nodata where the input has none.
class RasterSink : public DecisionSink {
public:
    RasterSink(geo::SceneReader& reader, bool working_grid, geo::OutputRaster& classes, geo::OutputRaster* probabilities,
               geo::OutputRaster* confidence)
        : reader_(reader), working_grid_(working_grid), classes_(classes), probabilities_(probabilities),
          confidence_(confidence) {}

    void write(int64_t x, int64_t y, const core::Decision& block, const torch::Tensor& covered) override {
        const int h = static_cast<int>(block.labels.size(0)), w = static_cast<int>(block.labels.size(1));
        auto valid = torch::empty({h, w}, torch::kUInt8);
        reader_.read_valid(working_grid_, static_cast<int>(x), static_cast<int>(y), w, h, valid.data_ptr<uint8_t>());
        const auto invalid = valid.eq(0).logical_or(covered.logical_not());
        const auto labels = block.labels.masked_fill(invalid, 255).contiguous();
        classes_.write_block(1, static_cast<int>(x), static_cast<int>(y), w, h, labels.data_ptr<uint8_t>());
        if (probabilities_) {
            const bool as_byte = probabilities_->spec().type == geo::PixelType::byte;
            for (int64_t c = 0; c < block.probabilities.size(0); ++c) {
                const auto p = block.probabilities[c];
                const auto band = as_byte ? (p * 254).round().masked_fill(invalid, 255).to(torch::kUInt8).contiguous()
                                          : p.masked_fill(invalid, -1).contiguous();
                probabilities_->write_block(static_cast<int>(c + 1), static_cast<int>(x), static_cast<int>(y), w, h,
                                            band.data_ptr());
            }
        }
        if (confidence_) {
            const auto c = block.confidence.masked_fill(invalid, -1).contiguous();
            confidence_->write_block(1, static_cast<int>(x), static_cast<int>(y), w, h, c.data_ptr<float>());
        }
    }

private:
    geo::SceneReader& reader_;
    bool working_grid_;
    geo::OutputRaster& classes_;
    geo::OutputRaster* probabilities_;
    geo::OutputRaster* confidence_;
};

struct Upsampling {
    core::UpsamplerKind kind = core::UpsamplerKind::bilinear;
    fs::path path;
};

Upsampling resolve_upsampler(const std::string& flag, std::string& notes) {
    if (flag == "bilinear") return {core::UpsamplerKind::bilinear, {}};
    if (flag == "none") return {core::UpsamplerKind::none, {}};
    if (flag == "simfeatup")
        throw UsageError("--upsampler simfeatup needs the weights: give --upsampler PATH (the authors' .ckpt or a "
                         "file from 'segearth train')");
    const char* env = std::getenv("SEGEARTH_UPSAMPLER");
    if (flag.empty() && !(env && *env)) {
        notes += "no SimFeatUp weights given (--upsampler PATH or SEGEARTH_UPSAMPLER): features are upsampled "
                 "bilinearly, which blurs object boundaries\n";
        return {core::UpsamplerKind::bilinear, {}};
    }
    return {core::UpsamplerKind::simfeatup, core::find_asset(core::upsampler_weights_asset(), flag)};
}

}  // namespace

SegmentReport segment(const SegmentOptions& o, const Progress& progress) {
    SegmentReport report;
    // Everything the user can get wrong is checked before anything slow happens.
    validate(o.streaming);
    const auto classes = load_classes(o.classes);
    core::DecisionRule rule;
    rule.query_class = classes.vocabulary.query_class();
    rule.class_count = static_cast<int64_t>(classes.vocabulary.classes.size());
    rule.logit_scale = o.logit_scale;
    rule.prob_threshold = classes.prob_threshold;
    rule.bg_index = classes.bg_index;
    rule.validate();
    const auto attention = core::parse_attention_kind(o.attention);
    if (o.probabilities_type != "Float32" && o.probabilities_type != "Byte")
        throw UsageError("--probabilities-type " + o.probabilities_type + ": use Float32 or Byte");
    std::vector<std::string> outputs{o.output};
    if (!o.vector.empty()) outputs.push_back(o.vector);
    if (!o.probabilities.empty()) outputs.push_back(o.probabilities);
    if (!o.confidence.empty()) outputs.push_back(o.confidence);
    const auto same_file = [](const std::string& a, const std::string& b) {
        std::error_code ec;
        return fs::equivalent(a, b, ec) || fs::absolute(a).lexically_normal() == fs::absolute(b).lexically_normal();
    };
    for (size_t i = 0; i < outputs.size(); ++i) {
        geo::check_output_path(outputs[i], o.overwrite, "output");
        if (same_file(outputs[i], o.input)) throw UsageError(outputs[i] + " is the input: choose another output name");
        for (size_t j = 0; j < i; ++j)
            if (same_file(outputs[i], outputs[j]))
                throw UsageError(outputs[i] + " is given as two different outputs");
    }
    geo::limit_gdal_cache(o.streaming.ram_mb * 1024 * 1024 / 8);
    geo::SceneReader reader(o.input, o.read);
    const auto device = choose_device(o.device);
    if (o.threads < 0) throw UsageError("--threads must be positive");
    // The outputs exist (as temporary files) before the slow part, so that a bad format, creation
    // option or folder is reported at once.
    const auto& working = reader.working_grid();
    const auto& out_grid = o.output_on_working_grid ? working : reader.native_grid();
    report.working_width = working.width, report.working_height = working.height;
    report.output_width = out_grid.width, report.output_height = out_grid.height;
    report.device = device.str();
    geo::OutputRasterSpec spec;
    spec.format = o.format;
    spec.creation_options = o.creation_options;
    spec.width = out_grid.width, spec.height = out_grid.height;
    spec.geotransform = out_grid.geotransform;
    spec.crs_wkt = reader.crs_wkt();
    spec.overwrite = o.overwrite;
    std::map<std::string, std::string> metadata{
        {"SEGEARTH_VERSION", SEGEARTH_VERSION},
        {"SEGEARTH_INPUT", fs::path(o.input).filename().string()},
        {"SEGEARTH_CLASSES", vocabulary_spec(classes.vocabulary)},
        {"SEGEARTH_CLASS_SOURCE", classes.source},
        {"SEGEARTH_PROB_THRESHOLD", number(rule.prob_threshold)},
        {"SEGEARTH_BG_INDEX", std::to_string(rule.bg_index)},
        {"SEGEARTH_CLS_LAMBDA", number(o.cls_lambda)},
        {"SEGEARTH_LOGIT_SCALE", number(o.logit_scale)},
        {"SEGEARTH_ATTENTION", core::to_string(attention)},
        {"SEGEARTH_WINDOW", std::to_string(o.streaming.window) + " stride " + std::to_string(o.streaming.stride)},
        {"SEGEARTH_WORKING_GRID", std::to_string(working.width) + " x " + std::to_string(working.height)},
        {"SEGEARTH_BANDS", std::to_string(reader.bands()[0]) + "," + std::to_string(reader.bands()[1]) + "," +
                               std::to_string(reader.bands()[2])},
        {"SEGEARTH_INPUT_SCALING", reader.scaling_description()},
    };
    auto class_spec = spec;
    class_spec.path = o.output;
    class_spec.nodata = 255;
    class_spec.category_names = classes.vocabulary.class_names();
    class_spec.colours = classes.colours;
    class_spec.band_descriptions = {"class"};
    class_spec.overview_resampling = "NEAREST";
    std::vector<std::unique_ptr<geo::OutputRaster>> rasters;
    rasters.push_back(std::make_unique<geo::OutputRaster>(class_spec));
    geo::OutputRaster* probability_raster = nullptr;
    geo::OutputRaster* confidence_raster = nullptr;
    if (!o.probabilities.empty()) {
        auto p = spec;
        p.path = o.probabilities;
        p.band_count = static_cast<int>(rule.class_count);
        p.band_descriptions = classes.vocabulary.class_names();
        if (o.probabilities_type == "Byte") {
            // 0..254 so that 255 stays free for nodata.
            p.type = geo::PixelType::byte;
            p.scale_offset = std::pair{1.0 / 254.0, 0.0};
            p.nodata = 255;
        } else {
            p.type = geo::PixelType::float32;
            p.nodata = -1;
        }
        p.overview_resampling = "AVERAGE";
        rasters.push_back(std::make_unique<geo::OutputRaster>(p));
        probability_raster = rasters.back().get();
    }
    if (!o.confidence.empty()) {
        auto c = spec;
        c.path = o.confidence;
        c.type = geo::PixelType::float32;
        c.nodata = -1;
        c.band_descriptions = {"confidence"};
        c.overview_resampling = "AVERAGE";
        rasters.push_back(std::make_unique<geo::OutputRaster>(c));
        confidence_raster = rasters.back().get();
    }

    const auto clip_path = core::find_asset(core::clip_weights_asset(), o.clip);
    const auto upsampling = resolve_upsampler(o.upsampler, report.notes);
    const auto vocab_path = core::find_asset(core::bpe_vocabulary_asset(), o.vocab);
    const auto templates_path = core::find_asset(core::prompt_templates_asset(), o.templates);
    report.upsampler = core::to_string(upsampling.kind);
    metadata["SEGEARTH_CLIP"] = clip_path.filename().string();
    metadata["SEGEARTH_UPSAMPLER"] = report.upsampler;
    if (upsampling.kind == core::UpsamplerKind::simfeatup)
        metadata["SEGEARTH_UPSAMPLER_FILE"] = upsampling.path.filename().string();

    core::set_threads(o.threads > 0 ? o.threads : core::default_thread_count());
    auto t = Clock::now();
    auto clip = core::load_clip(clip_path, device);
    core::JbuOne upsampler{nullptr};
    if (upsampling.kind == core::UpsamplerKind::simfeatup)
        upsampler = core::load_upsampler(upsampling.path, clip.info.config.embed_dim, device).model;
    report.load_seconds = seconds_since(t);
    if (progress && !progress(0.0, "")) throw Cancelled();
    metadata["SEGEARTH_CLIP_CRC32"] = core::file_crc32(clip_path);
    metadata["SEGEARTH_CLIP_ARCHITECTURE"] = clip.info.config.name();
    if (upsampling.kind == core::UpsamplerKind::simfeatup)
        metadata["SEGEARTH_UPSAMPLER_CRC32"] = core::file_crc32(upsampling.path);
    for (auto& r : rasters) r->set_metadata(metadata);

    t = Clock::now();
    const core::Tokenizer tokenizer(vocab_path);
    const fs::path cache = o.text_cache_dir == "-" ? fs::path()
                           : o.text_cache_dir.empty() ? core::user_cache_dir()
                                                      : fs::path(o.text_cache_dir);
    core::TextQueryEncoder encoder(clip.model, tokenizer, core::read_templates(templates_path), cache);
    const auto text = encoder.encode(classes.vocabulary.query_names());
    report.text_seconds = seconds_since(t);
    if (progress && !progress(0.0, "")) throw Cancelled();

    core::WindowSegmenter segmenter(clip.model, text, upsampling.kind, upsampler, {attention, o.cls_lambda});

    auto streaming = o.streaming;
    streaming.output_width = out_grid.width;
    streaming.output_height = out_grid.height;
    SceneSource source(reader);
    RasterSink sink(reader, o.output_on_working_grid, *rasters.front(), probability_raster, confidence_raster);
    report.stats = segment_stream(segmenter, rule, source, sink, streaming, progress);
    report.model = segmenter.timings();

    const auto write_started = Clock::now();
    // All outputs are completed under their temporary names before any is renamed into place.
    const auto keep_going = [&] { return !progress || progress(1.0, ""); };
    for (auto& r : rasters) r->finish(keep_going);
    for (auto& r : rasters) r->publish();
    if (!o.vector.empty()) {
        geo::VectorizeOptions v;
        v.overwrite = o.overwrite;
        v.probabilities = o.probabilities;
        const auto polygons = geo::vectorize(o.output, o.vector, v, [&](double) { return keep_going(); });
        report.polygons_per_layer = polygons.polygons_per_layer;
    }
    report.stats.write_seconds += seconds_since(write_started);
    return report;
}

}  // namespace segearth::pipeline
