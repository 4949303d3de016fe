#include <segearth/pipeline/segment.hpp>

#include "device_choice.hpp"
#include "scene_runner.hpp"
#include "with_project_errors.hpp"

#include <segearth/core/assets.hpp>
#include <segearth/core/blas_runtime.hpp>
#include <segearth/core/clip_model.hpp>
#include <segearth/core/segmenter/auto_batch.hpp>
#include <segearth/core/text_queries.hpp>
#include <segearth/core/tokenizer.hpp>
#include <segearth/core/upsampler/upsampler_file.hpp>
#include <segearth/error.hpp>
#include <segearth/geo/gdal_setup.hpp>
#include <segearth/geo/output_raster.hpp>
#include <segearth/geo/quicklook.hpp>
#include <segearth/geo/vectorize.hpp>
#include <segearth/output_safety.hpp>
#include <segearth/pipeline/shard.hpp>
#include <segearth/pipeline/streaming_segmentation.hpp>
#include <segearth/stopwatch.hpp>

#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <sstream>
#include <tuple>

namespace segearth::pipeline {
namespace {

namespace fs = std::filesystem;

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
    // `first_row`: the output grid's row that is the rasters' row 0 (a shard's band).
    RasterSink(geo::SceneReader& reader, bool working_grid, geo::OutputRaster& classes, geo::OutputRaster* probabilities,
               geo::OutputRaster* confidence, int64_t first_row)
        : reader_(reader), working_grid_(working_grid), classes_(classes), probabilities_(probabilities),
          confidence_(confidence), first_row_(first_row) {}
    bool wants_probabilities() const override { return probabilities_ != nullptr; }
    bool wants_confidence() const override { return confidence_ != nullptr; }

    void write(int64_t x, int64_t y, const core::Decision& block, const torch::Tensor& covered,
               const Progress& keep_going) override {
        const int h = static_cast<int>(block.labels.size(0)), w = static_cast<int>(block.labels.size(1));
        auto valid = torch::empty({h, w}, torch::kUInt8);
        reader_.read_valid(working_grid_, static_cast<int>(x), static_cast<int>(y), w, h, valid.data_ptr<uint8_t>());
        y -= first_row_;
        const auto invalid = valid.eq(0).logical_or(covered.logical_not());
        const auto labels = block.labels.masked_fill(invalid, 255).contiguous();
        classes_.write_block(1, static_cast<int>(x), static_cast<int>(y), w, h, labels.data_ptr<uint8_t>(), keep_going);
        if (probabilities_) {
            // Byte probabilities: 0..254, so that 255 stays free for nodata (scale 1/254).
            const bool as_byte = probabilities_->spec().type == geo::PixelType::byte;
            for (int64_t c = 0; c < block.probabilities.size(0); ++c) {
                const auto p = block.probabilities[c];
                const auto band = as_byte ? (p * 254).round().masked_fill(invalid, 255).to(torch::kUInt8).contiguous()
                                          : p.masked_fill(invalid, -1).contiguous();
                probabilities_->write_block(static_cast<int>(c + 1), static_cast<int>(x), static_cast<int>(y), w, h,
                                            band.data_ptr(), keep_going);
            }
        }
        if (confidence_) {
            const auto c = block.confidence.masked_fill(invalid, -1).contiguous();
            confidence_->write_block(1, static_cast<int>(x), static_cast<int>(y), w, h, c.data_ptr<float>(), keep_going);
        }
    }

private:
    geo::SceneReader& reader_;
    bool working_grid_;
    geo::OutputRaster& classes_;
    geo::OutputRaster* probabilities_;
    geo::OutputRaster* confidence_;
    int64_t first_row_;
};

struct Upsampling {
    core::UpsamplerKind kind = core::UpsamplerKind::bilinear;
    fs::path path;
};

// The SimFeatUp weights: --upsampler PATH, SEGEARTH_UPSAMPLER, else the authors' checkpoint in a data
// folder, which serves OpenAI's ViT-B/16 only (another CLIP needs its own, from segearth train).
Upsampling resolve_upsampler(const UpsamplerChoice& choice, const fs::path& clip, std::string& notes) {
    if (choice.kind != core::UpsamplerKind::simfeatup) return {choice.kind, {}};
    const char* env = std::getenv("SEGEARTH_UPSAMPLER");
    if (!choice.path.empty() || (env && *env))
        return {core::UpsamplerKind::simfeatup, core::find_asset(core::upsampler_weights_asset(), choice.path)};
    const auto asset = core::upsampler_weights_asset();
    const auto released = core::find_in_data_dirs(asset);
    if (released.empty()) {
        notes += "no SimFeatUp weights found (--upsampler PATH, SEGEARTH_UPSAMPLER, or " + asset.file_name + " in " +
                 core::user_cache_dir().string() + ", which scripts/fetch-assets.sh downloads): features are "
                 "upsampled bilinearly, which blurs object boundaries\n";
        return {core::UpsamplerKind::bilinear, {}};
    }
    if (const auto architecture = core::inspect_clip(clip).config.name(); architecture != "ViT-B/16") {
        notes += released.string() + " serves OpenAI's ViT-B/16, not this " + architecture + " CLIP: features are "
                 "upsampled bilinearly (segearth train makes an upsampler for it; give it with --upsampler)\n";
        return {core::UpsamplerKind::bilinear, {}};
    }
    return {core::UpsamplerKind::simfeatup, released};
}

// Every output is checked before anything slow happens: its folder there, not an existing file
// without --overwrite.
void check_outputs(const SegmentOptions& o, int64_t class_count) {
    for (const auto* path : {&o.output, &o.probabilities, &o.confidence, &o.quicklook})
        if (!path->empty()) geo::check_output_path(*path, o.overwrite, "output");
    if (o.vector.empty()) return;
    geo::check_vector_output(o.vector, geo::VectorFormat::automatic, o.overwrite, false);
    // --vector writes a layer for every class but the background.
    geo::check_layer_count(o.vector, geo::VectorFormat::automatic, static_cast<size_t>(class_count - 1));
}

// What holds for every scene of a run: classes, decision rule, device and model files; nothing loaded.
struct ModelPlan {
    ClassSetup classes;
    core::DecisionRule rule;
    torch::Device device{torch::kCPU};
    core::Precision precision = core::Precision::fp32;  ///< --precision resolved for the device
    bool located = false;  ///< the model files found (locate_models)
    fs::path clip, vocab, templates;
    Upsampling upsampling;
    std::string notes;
};

ModelPlan plan_models(const SegmentOptions& o) {
    validate_settings(o);
    ModelPlan m;
    m.classes = load_classes(o.classes);
    m.rule.query_class = m.classes.vocabulary.query_class();
    m.rule.class_count = static_cast<int64_t>(m.classes.vocabulary.classes.size());
    m.rule.logit_scale = o.logit_scale;
    m.rule.prob_threshold = m.classes.prob_threshold;
    m.rule.bg_index = m.classes.bg_index;
    m.rule.validate();
    m.device = choose_device(o.device);
    m.precision = resolve_precision(o.precision, m.device, core::Precision::fp16);
    if (m.device.is_cuda()) geo::decode_on_all_cpus();  // the CPU has to keep a GPU fed
    return m;
}

// The model files, from the flags, the environment or the data folders: once a run, after the first
// scene's own checks (a user hears of a mistyped INPUT before a missing weights file).
void locate_models(const SegmentOptions& o, ModelPlan& m) {
    if (m.located) return;
    m.clip = core::find_asset(core::clip_weights_asset(), o.clip);
    m.upsampling = resolve_upsampler(o.upsampler, m.clip, m.notes);
    m.vocab = core::find_asset(core::bpe_vocabulary_asset(), o.vocab);
    m.templates = core::find_asset(core::prompt_templates_asset(), o.templates);
    m.located = true;
}

// What the plan of one scene settles: its input opened, every output checked; nothing written.
struct ScenePlan {
    std::unique_ptr<geo::SceneReader> reader;
    std::map<std::string, std::string> metadata;
    std::optional<OutputBand> band;  ///< a shard's output rows; none: the whole grid
};

// `settings_crc`: what the class raster records as SEGEARTH_SETTINGS_CRC32 (the user's options, which
// for a shard are not `o`).
ScenePlan plan_scene(const SegmentOptions& o, ModelPlan& m, const std::string& settings_crc,
                     SegmentReport& report) {
    validate(o);
    check_outputs(o, m.rule.class_count);
    geo::limit_gdal_cache(o.streaming.ram_mb * 1024 * 1024 / 8);
    ScenePlan p;
    p.reader = std::make_unique<geo::SceneReader>(o.input, o.read);
    // No output, nor the .aux.xml GDAL may write beside it, lands on an input: the inputs as given,
    // and as found in the environment or the data folders.
    std::vector<NamedPath> outputs;
    for (const auto& [what, path] : {std::pair{"OUTPUT", &o.output}, {"--probabilities", &o.probabilities},
                                     {"--confidence", &o.confidence}, {"--vector", &o.vector},
                                     {"--quicklook", &o.quicklook}})
        if (!path->empty()) outputs.push_back({what, *path});
    for (size_t i = 0, n = outputs.size(); i < n; ++i)
        outputs.push_back({outputs[i].what + "'s sidecar", outputs[i].path + ".aux.xml"});
    outputs.push_back({"OUTPUT's QGIS style", geo::qgis_style_path(o.output)});
    if (!o.vector.empty())
        for (const auto& companion : geo::vector_companions(o.vector, geo::VectorFormat::automatic))
            outputs.push_back({"--vector's companion", companion});
    const auto inputs = [&](const std::string& clip, const std::string& upsampler, const std::string& vocab,
                            const std::string& templates) -> std::vector<NamedPath> {
        return {{"INPUT", o.input},          {"--clip", clip},           {"--upsampler", upsampler},
                {"--vocab", vocab},          {"--templates", templates}, {"--classes-file", o.classes.classes_file}};
    };
    refuse_outputs_onto_inputs(outputs, inputs(o.clip, o.upsampler.path, o.vocab, o.templates));
    locate_models(o, m);
    refuse_outputs_onto_inputs(outputs, inputs(m.clip.string(), m.upsampling.path.string(), m.vocab.string(),
                                               m.templates.string()));

    const auto& working = p.reader->working_grid();
    const auto& out_grid = o.output_grid == OutputGrid::working ? working : p.reader->native_grid();
    report.working_width = working.width, report.working_height = working.height;
    report.output_width = out_grid.width, report.output_height = out_grid.height;
    report.device = m.device.str();
    report.upsampler = core::to_string(m.upsampling.kind);
    const auto& bands = p.reader->bands();
    p.metadata = {
        {"SEGEARTH_VERSION", SEGEARTH_VERSION},
        {"SEGEARTH_INPUT", fs::path(o.input).filename().string()},
        {"SEGEARTH_CLASSES", vocabulary_spec(m.classes.vocabulary)},
        {"SEGEARTH_CLASS_SOURCE", m.classes.source},
        {"SEGEARTH_PROB_THRESHOLD", number(m.rule.prob_threshold)},
        {"SEGEARTH_BG_INDEX", std::to_string(m.rule.bg_index)},
        {"SEGEARTH_CLS_LAMBDA", number(m.classes.cls_lambda)},
        {"SEGEARTH_LOGIT_SCALE", number(o.logit_scale)},
        {"SEGEARTH_ATTENTION", core::to_string(o.attention)},
        {"SEGEARTH_PRECISION", core::to_string(m.precision)},
        {"SEGEARTH_WINDOW", std::to_string(o.streaming.window) + " stride " + std::to_string(o.streaming.stride)},
        {"SEGEARTH_WORKING_GRID", std::to_string(working.width) + " x " + std::to_string(working.height)},
        {"SEGEARTH_BANDS", std::to_string(bands[0]) + "," + std::to_string(bands[1]) + "," + std::to_string(bands[2])},
        {"SEGEARTH_INPUT_SCALING", p.reader->scaling_description()},
        {"SEGEARTH_CLIP", m.clip.filename().string()},
        {"SEGEARTH_UPSAMPLER", report.upsampler},
        {"SEGEARTH_SETTINGS_CRC32", settings_crc},
    };
    if (m.upsampling.kind == core::UpsamplerKind::simfeatup)
        p.metadata["SEGEARTH_UPSAMPLER_FILE"] = m.upsampling.path.filename().string();
    return p;
}

// The rasters of the run, created under their temporary names in `outputs`: a bad format, creation
// option or folder is reported before the models load.
struct Rasters {
    geo::OutputRaster* classes = nullptr;
    geo::OutputRaster* probabilities = nullptr;
    geo::OutputRaster* confidence = nullptr;
    std::vector<geo::OutputRaster*> all;
};

Rasters create_rasters(const SegmentOptions& o, const ModelPlan& m, const ScenePlan& p, OutputSet& outputs) {
    const auto& grid = o.output_grid == OutputGrid::working ? p.reader->working_grid() : p.reader->native_grid();
    geo::OutputRasterSpec spec;
    spec.format = geo::raster_formats().name(o.format);
    spec.creation_options = o.creation_options;
    spec.width = grid.width, spec.height = grid.height;
    spec.geotransform = grid.geotransform;
    if (p.band) {  // a shard: its band of rows, georeferenced where they lie
        spec.height = static_cast<int>(p.band->rows());
        if (auto& gt = spec.geotransform) {
            (*gt)[0] += static_cast<double>(p.band->begin) * (*gt)[2];
            (*gt)[3] += static_cast<double>(p.band->begin) * (*gt)[5];
        }
    }
    spec.crs_wkt = p.reader->crs_wkt();
    spec.overwrite = o.overwrite;
    Rasters r;
    const auto add = [&](geo::OutputRasterSpec s) {
        r.all.push_back(&outputs.add(std::make_unique<geo::OutputRaster>(std::move(s))));
        return r.all.back();
    };
    auto classes = spec;
    classes.path = o.output;
    classes.nodata = 255;
    classes.category_names = m.classes.vocabulary.class_names();
    classes.colours = m.classes.colours;
    classes.band_descriptions = {"class"};
    classes.overview_resampling = "NEAREST";
    classes.qgis_style = !p.band;  // a shard's band is no map of its own; merge writes the style
    r.classes = add(classes);
    if (!o.probabilities.empty()) {
        auto s = spec;
        s.path = o.probabilities;
        s.band_count = static_cast<int>(m.rule.class_count);
        s.band_descriptions = m.classes.vocabulary.class_names();
        s.type = o.probabilities_type;
        if (o.probabilities_type == geo::PixelType::byte) {
            s.scale_offset = std::pair{1.0 / 254.0, 0.0};
            s.nodata = 255;
        } else {
            s.nodata = -1;
        }
        s.overview_resampling = "AVERAGE";
        r.probabilities = add(s);
    }
    if (!o.confidence.empty()) {
        auto s = spec;
        s.path = o.confidence;
        s.type = geo::PixelType::float32;
        s.nodata = -1;
        s.band_descriptions = {"confidence"};
        s.overview_resampling = "AVERAGE";
        r.confidence = add(s);
    }
    return r;
}

// The models of a run, loaded once for every scene it segments.
struct LoadedModels {
    core::LoadedClip clip;
    core::JbuUpsampler upsampler{nullptr};
    torch::Tensor text;
    std::optional<core::AutoBatch> auto_batch;  ///< --batch auto, sized at the first scene
    std::map<std::string, std::string> metadata;  ///< what the files are (CRC-32s, architectures)
    double load_seconds = 0, text_seconds = 0;
};

LoadedModels load_models(const SegmentOptions& o, const ModelPlan& p, const Progress& progress) {
    LoadedModels m;
    core::set_threads(o.threads > 0 ? o.threads : core::default_thread_count());
    Stopwatch clock;
    m.clip = core::load_clip(p.clip, p.device);
    if (p.upsampling.kind == core::UpsamplerKind::simfeatup)
        m.upsampler = core::load_upsampler(p.upsampling.path, m.clip.info.config.embed_dim, p.device).model;
    m.load_seconds = clock.seconds();
    segearth::report(progress, 0.0);
    m.metadata["SEGEARTH_CLIP_CRC32"] = core::file_crc32(p.clip);
    m.metadata["SEGEARTH_CLIP_ARCHITECTURE"] = m.clip.info.config.name();
    if (m.upsampler) {
        m.metadata["SEGEARTH_UPSAMPLER_CRC32"] = core::file_crc32(p.upsampling.path);
        m.metadata["SEGEARTH_UPSAMPLER_ARCHITECTURE"] = core::to_string(m.upsampler->architecture());
    }

    clock.restart();
    const core::Tokenizer tokenizer(p.vocab);
    const fs::path cache = o.text_cache_dir == "-" ? fs::path()
                           : o.text_cache_dir.empty() ? core::user_cache_dir()
                                                      : fs::path(o.text_cache_dir);
    core::TextQueryEncoder encoder(m.clip.model, tokenizer, core::read_templates(p.templates), cache);
    m.text = encoder.encode(p.classes.vocabulary.query_names());
    m.text_seconds = clock.seconds();
    // After the text encoding, which stays float32 (it is cached, and shared by every precision).
    m.clip.model->visual->set_precision(p.precision);
    if (m.upsampler) m.upsampler->set_precision(p.precision);
    segearth::report(progress, 0.0);
    return m;
}

}  // namespace

struct SceneRunner::State {
    SegmentOptions base;
    Progress progress;
    ModelPlan plan;
    std::optional<LoadedModels> models;

    /// The models, loaded now unless already; the scene whose run loads them reports the time it took.
    LoadedModels& loaded(SegmentReport* report = nullptr) {
        if (models) return *models;
        locate_models(base, plan);
        models = load_models(base, plan, progress);
        if (report) report->load_seconds = models->load_seconds, report->text_seconds = models->text_seconds;
        return *models;
    }
};

SceneRunner::SceneRunner(const SegmentOptions& base, Progress progress)
    : state_(new State{base, std::move(progress), plan_models(base), std::nullopt}) {}

SceneRunner::~SceneRunner() = default;

const std::string& SceneRunner::notes() const { return state_->plan.notes; }

void SceneRunner::locate() { locate_models(state_->base, state_->plan); }

void SceneRunner::load() { state_->loaded(); }

namespace {

// One scene through the models: the outputs created under temporary names (before the models load,
// so that a bad format or folder is reported first), streamed, finished and published together.
void run_scene(const SegmentOptions& o, const ModelPlan& m, ScenePlan& p, const std::function<LoadedModels&()>& models,
               SegmentReport& report, const Progress& progress) {
    OutputSet outputs;  // destroyed unpublished on any error: every temporary file goes with it
    auto rasters = create_rasters(o, m, p, outputs);
    auto& loaded = models();
    for (const auto& [key, value] : loaded.metadata) p.metadata[key] = value;
    for (auto* r : rasters.all) r->set_metadata(p.metadata);

    // Run.
    core::WindowSegmenter segmenter(loaded.clip.model, loaded.text, m.upsampling.kind, loaded.upsampler,
                                    {o.attention, m.classes.cls_lambda});
    auto streaming = o.streaming;
    if (streaming.batch == 0) {
        if (!loaded.auto_batch) loaded.auto_batch = core::auto_batch(segmenter, streaming.window);
        streaming.batch = loaded.auto_batch->windows;
    }
    report.batch = streaming.batch;
    streaming.output_width = report.output_width;
    streaming.output_height = report.output_height;
    if (p.band) streaming.band_begin = p.band->begin, streaming.band_end = p.band->end;
    SceneSource source(*p.reader);
    RasterSink sink(*p.reader, o.output_grid == OutputGrid::working, *rasters.classes, rasters.probabilities,
                    rasters.confidence, p.band ? p.band->begin : 0);
    report.stats = segment_stream(segmenter, m.rule, source, sink, streaming, progress);
    report.model = segmenter.timings();

    // Publish: every output completed under its temporary name, the polygons made from the finished
    // class raster, and only then all renamed into place.
    const Stopwatch writing;
    const Progress at_end = [&](double, const std::string&) { return !progress || progress(1.0, ""); };
    for (auto* r : rasters.all) r->finish(at_end);
    if (!o.quicklook.empty()) {
        auto& look = outputs.add(std::make_unique<PendingFile>(o.quicklook, ".png", o.overwrite));
        geo::QuicklookInputs q;
        q.scene = o.input;
        q.read.bands = p.reader->bands();
        q.read.scale_ranges = p.reader->scale_ranges();
        q.classes = rasters.classes->finished_path();
        q.names = m.classes.vocabulary.class_names();
        q.colours = m.classes.colours;
        geo::draw_quicklook(q, o.quicklook, look.temporary());
    }
    if (!o.vector.empty()) {
        geo::VectorizeOptions v;
        v.input = rasters.classes->finished_path();
        v.output = o.vector;
        v.overwrite = o.overwrite;
        if (rasters.probabilities) v.probabilities = rasters.probabilities->finished_path();
        report.polygons_per_layer = geo::vectorize_into(v, outputs, at_end).polygons_per_layer;
    }
    outputs.publish();
    report.stats.write_seconds += writing.seconds();
}

}  // namespace

SegmentReport SceneRunner::segment(const SegmentOptions& o) {
    auto& st = *state_;
    SegmentReport report;
    auto p = plan_scene(o, st.plan, core::text_crc32(result_settings(o, false)), report);
    run_scene(o, st.plan, p, [&]() -> LoadedModels& { return st.loaded(&report); }, report, st.progress);
    return report;
}

// One shard of the scene: the windows of its band of output rows, written under the outputs' shard
// names (always replacing a previous try's), then its manifest. The polygons are merge's.
SegmentReport SceneRunner::segment_shard(const SegmentOptions& o, const ShardChoice& shard) {
    auto& st = *state_;
    validate(o);
    if (!o.quicklook.empty())
        throw UsageError("--quicklook with --shard: a shard holds a band of the scene; draw the quicklook from "
                         "the merged result");
    for (const auto* path : {&o.output, &o.probabilities, &o.confidence, &o.vector})
        if (!path->empty()) geo::check_output_path(*path, o.overwrite, "output");
    auto s = o;
    for (auto* path : {&s.output, &s.probabilities, &s.confidence})
        if (!path->empty()) *path = shard_path(*path, shard.index, shard.count);
    s.vector.clear();
    s.overwrite = true;
    SegmentReport report;
    auto p = plan_scene(s, st.plan, core::text_crc32(result_settings(o, false)), report);
    p.band = shard_band(report.working_height, report.output_height, s.streaming, shard.index, shard.count);
    report.notes += "shard " + std::to_string(shard.index) + " of " + std::to_string(shard.count) + " (" +
                    shard.source + "): output rows " + std::to_string(p.band->begin) + ".." +
                    std::to_string(p.band->end) + " of " + std::to_string(report.output_height) + "\n";

    ShardManifest m;
    m.index = shard.index, m.count = shard.count;
    m.settings = result_settings(o, true);
    m.band_begin = p.band->begin, m.band_end = p.band->end;
    m.width = report.output_width, m.height = report.output_height;
    m.geotransform = (o.output_grid == OutputGrid::working ? p.reader->working_grid() : p.reader->native_grid()).geotransform;
    m.format = geo::raster_formats().name(o.format);
    m.creation_options = o.creation_options;
    for (const auto& [role, final_path, shard_file] :
         {std::tuple{"classes", &o.output, &s.output}, {"probabilities", &o.probabilities, &s.probabilities},
          {"confidence", &o.confidence, &s.confidence}})
        if (!final_path->empty()) m.rasters[role] = {*final_path, p.band->rows() > 0 ? *shard_file : std::string()};
    m.vector = o.vector;
    const auto manifest = manifest_path(o.output, shard.index, shard.count);
    std::error_code error;
    fs::remove(manifest, error);  // a retried shard is incomplete until its manifest is written again
    if (p.band->rows() > 0) {
        run_scene(s, st.plan, p, [&]() -> LoadedModels& { return st.loaded(&report); }, report, st.progress);
    }
    m.windows = report.stats.windows_computed;
    write_manifest(manifest, m);
    return report;
}

SegmentReport segment(const SegmentOptions& options, const Progress& progress) {
    return with_project_errors([&] {
        validate(options);
        if (options.batch.active())
            throw UsageError("segment() takes one scene: run segment_batch() for --inputs (segment_batch.hpp)");
        SceneRunner runner(options, progress);
        const auto shard = resolve_shard(options.shard, options.shards);
        auto report = shard.sharded() ? runner.segment_shard(options, shard) : runner.segment(options);
        report.notes = runner.notes() + report.notes;
        return report;
    });
}

void segment_scenes(const SegmentOptions& base, const std::vector<SceneJob>& scenes,
                    const std::function<void(size_t, const SegmentReport&)>& after, const Progress& progress) {
    with_project_errors([&] {
        SceneRunner runner(base, progress);
        for (size_t i = 0; i < scenes.size(); ++i) {
            auto o = base;
            o.input = scenes[i].input;
            o.output = scenes[i].output;
            auto report = runner.segment(o);
            if (i == 0) report.notes = runner.notes() + report.notes;
            after(i, report);
        }
        return 0;
    });
}

}  // namespace segearth::pipeline
