// segment's options, declared once.
#include <segearth/pipeline/segment_options.hpp>

#include <segearth/error.hpp>
#include <segearth/geo/vectorize.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace segearth::pipeline {
namespace {

using options::ValueType;

void declare_model(options::OptionTable<SegmentOptions>& t) {
    t.group("Model");
    t.text("clip", &SegmentOptions::clip)
        .value_name("PATH")
        .input_path()
        .help("CLIP weights: OpenAI's ViT-B-16.pt, a torch.save/safetensors state dict (default: $SEGEARTH_CLIP, then "
              "ViT-B-16.pt in the data folders)");
    t.custom("upsampler", ValueType::text,
             [](SegmentOptions& o, const std::vector<std::string>& v) {
                 const auto& text = v.back();
                 if (text == "simfeatup")
                     throw UsageError("--upsampler simfeatup needs the weights: give --upsampler PATH (the authors' "
                                      "SimFeatUp .ckpt, FeatUp's jbu_stack .ckpt or a file from 'segearth train')");
                 if (text == "bilinear" || text == "none") o.upsampler = {core::upsampler_kinds().parse(text, "--upsampler"), ""};
                 else o.upsampler = {core::UpsamplerKind::simfeatup, text};
             },
             [](const SegmentOptions& o) -> std::optional<std::string> {
                 if (o.upsampler.kind != core::UpsamplerKind::simfeatup) return std::string(core::to_string(o.upsampler.kind));
                 if (o.upsampler.path.empty()) return std::nullopt;
                 return o.upsampler.path;
             })
        .value_name("PATH|bilinear|none")
        .input_path()
        .help("upsampler weights: SimFeatUp (the authors' .ckpt or a 'segearth train' file) or FeatUp's jbu_stack "
              ".ckpt (default $SEGEARTH_UPSAMPLER, then the SimFeatUp file in the data folders), or bilinear feature "
              "upsampling, or none (logits at the token grid, resized). Without weights: bilinear");
    t.text("vocab", &SegmentOptions::vocab)
        .value_name("PATH")
        .input_path()
        .help("CLIP BPE vocabulary (default: $SEGEARTH_VOCAB, then the data folders)");
    t.text("templates", &SegmentOptions::templates)
        .value_name("PATH")
        .input_path()
        .help("prompt templates (default: $SEGEARTH_TEMPLATES, then the data folders)");
    t.choice("attention", &SegmentOptions::attention, core::attention_kinds())
        .value_name("NAME")
        .help("last-block attention: segearth, clearclip, sclip, maskclip or vanilla (the paper's baselines)");
    t.choice("precision", &SegmentOptions::precision, core::precision_choices())
        .value_name("auto|fp32|bf16|fp16")
        .help("number format of CLIP's matrix products: fp32 (the reference), bf16 (CLIP 2-3x faster on CPUs with "
              "native bf16, AVX512_BF16 or AMX, see segearth info --system; labels differ on a few pixels), fp16 "
              "(CUDA only, the authors' numerics) or auto: fp16 on CUDA, fp32 on the CPU");
    t.number("cls-lambda", [](auto& o) -> auto& { return o.classes.cls_lambda; })
        .value_name("L")
        .help("weight of the [CLS] similarity added to every pixel (0: no bias subtraction; default -0.3, or the "
              "preset's)");
    t.number("logit-scale", &SegmentOptions::logit_scale).value_name("S").above(0).help("softmax temperature");
}

void declare_classes(options::OptionTable<SegmentOptions>& t) {
    t.group("Classes");
    t.custom("classes", ValueType::text,
             [](SegmentOptions& o, const std::vector<std::string>& v) {
                 if (v.back().empty())
                     throw UsageError("--classes is empty: name at least one class, e.g. --classes \"building;water\"");
                 o.classes.classes = v.back();
             },
             [](const SegmentOptions& o) -> std::optional<std::string> {
                 if (o.classes.classes.empty()) return std::nullopt;
                 return o.classes.classes;
             })
        .value_name("\"a,b;c;d\"")
        .help("classes separated by ';', synonyms of one class by ','");
    t.text("classes-file", [](auto& o) -> auto& { return o.classes.classes_file; })
        .value_name("FILE")
        .input_path()
        .help("one class per line, synonyms separated by ','");
    t.text("preset", [](auto& o) -> auto& { return o.classes.preset; })
        .value_name("NAME")
        .help("a class list with its dataset's settings (threshold, background, lambda): the paper's 17 datasets "
              "(openearthmap, loveda, ..., see segearth info --presets) and landcover, building, road, water");
    t.number("prob-threshold", [](auto& o) -> auto& { return o.classes.prob_threshold; })
        .value_name("P")
        .at_least(0)
        .at_most(1)
        .help("a pixel whose best class probability is below P gets the background class (default 0, or the "
              "preset's)");
    t.integer("bg-index", [](auto& o) -> auto& { return o.classes.bg_index; })
        .value_name("I")
        .at_least(0)
        .help("the background class's index (default 0, or the preset's)");
}

void declare_input(options::OptionTable<SegmentOptions>& t) {
    t.include(geo::scene_read_option_table(), &SegmentOptions::read);
    t.group("Windows");
    t.integer("window", [](auto& o) -> auto& { return o.streaming.window; })
        .value_name("PX")
        .unit("px")
        .at_least(1)
        .message("--window must be at least 1 pixel")
        .help("window size on the working grid");
    t.integer("stride", [](auto& o) -> auto& { return o.streaming.stride; })
        .value_name("PX")
        .unit("px")
        .help("window stride (at least 1 and smaller than the window)");
}

void declare_output(options::OptionTable<SegmentOptions>& t) {
    t.group("Output");
    t.choice("of", &SegmentOptions::format, geo::raster_formats()).gdal_style().value_name("FORMAT").help("output format");
    t.texts("co", &SegmentOptions::creation_options)
        .gdal_style()
        .value_name("NAME=VALUE")
        .help("creation option (repeatable)");
    t.choice("output-grid", &SegmentOptions::output_grid, output_grids())
        .value_name("native|working")
        .help("write on the input's grid or on the working grid");
    t.text("probabilities", &SegmentOptions::probabilities)
        .value_name("FILE")
        .output_path(options::FileKind::raster)
        .help("per-class probabilities, one band per class");
    t.choice("probabilities-type", &SegmentOptions::probabilities_type, geo::pixel_types())
        .value_name("Float32|Byte")
        .help("Float32 (nodata -1), or Byte: round(254 p) with scale 1/254 (nodata 255)");
    t.text("confidence", &SegmentOptions::confidence)
        .value_name("FILE")
        .output_path(options::FileKind::raster)
        .help("the winning class's probability (Float32)");
    t.text("vector", &SegmentOptions::vector)
        .value_name("OUT.gpkg")
        .output_path(options::FileKind::vector)
        .help("also polygonize the result: one GeoPackage layer per class but the background (see segearth "
              "vectorize for clean-up options)");
    t.text("quicklook", &SegmentOptions::quicklook)
        .value_name("FILE.png")
        .output_path()
        .help("also draw the scene and its classes side by side, with a legend (800 px each), as a PNG");
    t.flag("overwrite", &SegmentOptions::overwrite).help("replace existing outputs");
}

void declare_running(options::OptionTable<SegmentOptions>& t) {
    t.group("Running");
    t.custom("device", ValueType::text,
             [](SegmentOptions& o, const std::vector<std::string>& v) { o.device = DeviceChoice::parse(v.back()); },
             [](const SegmentOptions& o) -> std::optional<std::string> { return o.device.name(); })
        .value_name("auto|cpu|cuda[:N]")
        .help("where the model runs");
    t.integer("threads", &SegmentOptions::threads)
        .value_name("N")
        .at_least(0)
        .help("CPU threads (0: all cores)");
    t.custom("batch", ValueType::text,
             [](SegmentOptions& o, const std::vector<std::string>& v) {
                 const auto& text = v.back();
                 if (text == "auto") {
                     o.streaming.batch = 0;
                     return;
                 }
                 size_t used = 0;
                 long long n = 0;
                 try {
                     n = std::stoll(text, &used);
                 } catch (const std::exception&) {
                     used = 0;
                 }
                 if (used != text.size() || n < 1)
                     throw UsageError("--batch " + text + ": give auto or a number of windows, at least 1");
                 o.streaming.batch = n;
             },
             [](const SegmentOptions& o) -> std::optional<std::string> {
                 return o.streaming.batch == 0 ? "auto" : std::to_string(o.streaming.batch);
             })
        .value_name("auto|N")
        .help("windows per forward pass; auto: 1 on the CPU, on CUDA as many as half the free GPU memory holds "
              "(measured, at most 256)");
    t.integer("ram", [](auto& o) -> auto& { return o.streaming.ram_mb; })
        .value_name("MB")
        .unit("MB")
        .at_least(64)
        .message("--ram {}: give at least 64 (MB)")
        .help("memory budget for the scene buffers and the model");
    t.text("text-cache", &SegmentOptions::text_cache_dir)
        .value_name("DIR")
        .help("where text embeddings are cached ('-' for none; default: the user cache folder)");
}

void declare_shards(options::OptionTable<SegmentOptions>& t) {
    t.group("Shards (one scene across many machines; segearth merge joins them)");
    t.text("shard", &SegmentOptions::shard)
        .value_name("I/N|auto")
        .help("compute shard I of N (from 0) of the scene: a band of output rows, written as OUT.shard-I-of-N.tif "
              "with a manifest; auto: from SLURM, Kubernetes (with --shards) or AWS Batch array variables");
    t.integer("shards", &SegmentOptions::shards)
        .value_name("N")
        .at_least(0)
        .help("the number of shards for --shard auto in a Kubernetes Indexed Job (its completions)");
}

void declare_batch(options::OptionTable<SegmentOptions>& t) {
    t.include(batch_naming_option_table(), &SegmentOptions::batch);
    t.group(batch_naming_option_table().entries().front().info.group);
    t.text("summary", &SegmentOptions::summary)
        .value_name("PATH")
        .output_path()
        .help("the batch's summary, PATH.csv and PATH.json: each scene's status, windows, seconds and class "
              "pixels (default: segearth_batch in --output-dir)");
    t.integer("scene-shards", &SegmentOptions::scene_shards)
        .value_name("K")
        .at_least(1)
        .help("split each scene into K shards; with --shard, task I of N takes the scene-shard pairs I, I+N, ... "
              "(one scene per task: N = scenes x K); segearth merge --inputs ... joins them");
}

options::OptionTable<SegmentOptions> make_scene_table() {
    options::OptionTable<SegmentOptions> t;
    declare_model(t);
    declare_classes(t);
    declare_input(t);
    return t;
}

options::OptionTable<SegmentOptions> make_running_table() {
    options::OptionTable<SegmentOptions> t;
    declare_running(t);
    return t;
}

options::Command<SegmentOptions> make_command() {
    options::Command<SegmentOptions> c{
        "segment",
        "segment a raster into named classes (class GeoTIFF on the input's grid)",
        "INPUT OUTPUT --classes \"a,b;c\" [options]  |  --inputs LIST|DIR|GLOB --output-dir DIR --classes ... [options]",
        "Segments a raster GDAL can read into the named classes (SegEarth-OV: CLIP with a modulated last block, "
        "SimFeatUp, [CLS] bias subtraction, 224 px windows every 112 px). OUTPUT is a Byte class raster on the input's "
        "grid (nodata 255) with class names, colours and the settings in its metadata.",
        {}};
    auto& t = c.options;
    t.text("input", &SegmentOptions::input).positional().required().value_name("INPUT").input_path(options::FileKind::raster)
        .help("the scene: any raster GDAL reads (not with --inputs)");
    t.text("output", &SegmentOptions::output).positional().required().value_name("OUTPUT").output_path(options::FileKind::raster)
        .help("the class raster (not with --inputs)");
    t.include(segment_scene_option_table(), [](auto& o) -> auto& { return o; });
    declare_output(t);
    t.include(segment_running_option_table(), [](auto& o) -> auto& { return o; });
    declare_shards(t);
    declare_batch(t);
    return c;
}

}  // namespace

const options::EnumNames<OutputGrid>& output_grids() {
    static const options::EnumNames<OutputGrid> names{{OutputGrid::native, "native"}, {OutputGrid::working, "working"}};
    return names;
}

const options::OptionTable<SegmentOptions>& segment_scene_option_table() {
    static const auto table = make_scene_table();
    return table;
}

const options::OptionTable<SegmentOptions>& segment_running_option_table() {
    static const auto table = make_running_table();
    return table;
}

const options::Command<SegmentOptions>& segment_command() {
    static const auto command = make_command();
    return command;
}

void validate(const SegmentOptions& o) {
    validate(o.batch);
    if (o.batch.active() && (!o.input.empty() || !o.output.empty()))
        throw UsageError("--inputs names the scenes: give no INPUT OUTPUT with it (the outputs are --output-name "
                         "in --output-dir)");
    if (!o.batch.active() && (o.input.empty() || o.output.empty()))
        throw UsageError("segment needs INPUT and OUTPUT, or --inputs and --output-dir (see segearth segment --help)");
    if (!o.batch.active() && (!o.summary.empty() || o.scene_shards != 1))
        throw UsageError(std::string(o.summary.empty() ? "--scene-shards" : "--summary") + " goes with --inputs");
    validate_settings(o);
}

void validate_settings(const SegmentOptions& o) {
    segment_command().options.check(o);
    geo::validate(o.read);
    validate(o.streaming);
    if (!o.vector.empty()) geo::resolve_vector_format(o.vector, geo::VectorFormat::automatic);
    if (!o.quicklook.empty()) {
        auto ext = std::filesystem::path(o.quicklook).extension().string();
        std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
        if (ext != ".png") throw UsageError("--quicklook " + o.quicklook + ": the quicklook is a PNG: name it FILE.png");
    }
}

std::string result_settings(const SegmentOptions& o, bool output_paths) {
    std::vector<std::string> skip{"output",     "shard",    "shards",     "threads",   "text-cache",  "overwrite",
                                  "quicklook",  "inputs",   "output-dir", "output-name", "fail-fast", "summary",
                                  "scene-shards"};
    if (!output_paths) skip.insert(skip.end(), {"probabilities", "confidence", "vector"});
    auto text = segment_command().options.values_text(o, skip);
    std::error_code error;
    const auto size = std::filesystem::file_size(o.input, error);
    text += "input:" + std::to_string(error ? 0 : size) + ":" +
            std::to_string(std::filesystem::last_write_time(o.input, error).time_since_epoch().count());
    std::replace(text.begin(), text.end(), '\n', ' ');
    return text;
}

}  // namespace segearth::pipeline
