#include "command_segment.hpp"

#include "cli_options.hpp"
#include "cli_progress.hpp"
#include "cli_scene_input.hpp"

#include <segearth/core/clip/attention_kind.hpp>
#include <segearth/error.hpp>
#include <segearth/pipeline/segment.hpp>

#include <cstdio>
#include <iostream>

namespace po = boost::program_options;

namespace segearth::cli {
namespace {

template <class T>
T value_or(const po::variables_map& vm, const char* name, T fallback) {
    return vm.count(name) ? vm[name].as<T>() : fallback;
}

po::options_description segment_options() {
    po::options_description model("Model");
    model.add_options()
        ("clip", po::value<std::string>()->value_name("PATH"),
         "CLIP weights: OpenAI's ViT-B-16.pt, a torch.save/safetensors state dict (default: $SEGEARTH_CLIP, then "
         "ViT-B-16.pt in the data folders)")
        ("upsampler", po::value<std::string>()->value_name("PATH|bilinear|none"),
         "SimFeatUp weights (the authors' .ckpt or a 'segearth train' file; default $SEGEARTH_UPSAMPLER), or "
         "bilinear feature upsampling, or none (logits at the token grid, resized). Without weights: bilinear")
        ("vocab", po::value<std::string>()->value_name("PATH"), "CLIP BPE vocabulary (default: $SEGEARTH_VOCAB, then the data folders)")
        ("templates", po::value<std::string>()->value_name("PATH"), "prompt templates (default: $SEGEARTH_TEMPLATES, then the data folders)")
        ("attention", po::value<std::string>()->value_name("NAME")->default_value("segearth"),
         "last-block attention: segearth, clearclip, sclip, maskclip or vanilla (the paper's baselines)")
        ("cls-lambda", po::value<double>()->value_name("L")->default_value(-0.3, "-0.3"),
         "weight of the [CLS] similarity added to every pixel (0: no bias subtraction)")
        ("logit-scale", po::value<double>()->value_name("S")->default_value(50.0, "50"), "softmax temperature");
    po::options_description classes("Classes");
    classes.add_options()
        ("classes", po::value<std::string>()->value_name("\"a,b;c;d\""),
         "classes separated by ';', synonyms of one class by ','")
        ("classes-file", po::value<std::string>()->value_name("FILE"), "one class per line, synonyms separated by ','")
        ("preset", po::value<std::string>()->value_name("NAME"),
         "a class list with the paper's threshold: landcover (OpenEarthMap), building, road, water")
        ("prob-threshold", po::value<double>()->value_name("P"),
         "a pixel whose best class probability is below P gets the background class (default 0, or the preset's)")
        ("bg-index", po::value<int64_t>()->value_name("I"), "the background class's index (default 0, or the preset's)");
    auto input = scene_input_options();
    input.add_options()
        ("window", po::value<int64_t>()->value_name("PX")->default_value(224), "window size on the working grid")
        ("stride", po::value<int64_t>()->value_name("PX")->default_value(112), "window stride");
    po::options_description output("Output");
    output.add_options()
        ("of", po::value<std::string>()->value_name("FORMAT")->default_value("GTiff"), "-of: GTiff or COG")
        ("co", po::value<std::vector<std::string>>()->composing()->value_name("NAME=VALUE"),
         "-co: creation option (repeatable)")
        ("output-grid", po::value<std::string>()->value_name("native|working")->default_value("native"),
         "write on the input's grid or on the working grid")
        ("probabilities", po::value<std::string>()->value_name("FILE"), "per-class probabilities, one band per class")
        ("probabilities-type", po::value<std::string>()->value_name("Float32|Byte")->default_value("Float32"),
         "Byte stores round(255 p), with scale 1/255")
        ("confidence", po::value<std::string>()->value_name("FILE"), "the winning class's probability (Float32)")
        ("vector", po::value<std::string>()->value_name("OUT.gpkg"),
         "also polygonize the result: one GeoPackage layer per class but the background (see segearth vectorize "
         "for clean-up options)")
        ("overwrite", "replace existing outputs");
    po::options_description run("Running");
    run.add_options()
        ("device", po::value<std::string>()->value_name("auto|cpu|cuda[:N]")->default_value("auto"), "where the model runs")
        ("threads", po::value<int>()->value_name("N"), "CPU threads (default: all cores)")
        ("batch", po::value<int64_t>()->value_name("N")->default_value(1), "windows per forward pass")
        ("ram", po::value<int64_t>()->value_name("MB")->default_value(2048), "memory budget for the scene buffers and the model")
        ("text-cache", po::value<std::string>()->value_name("DIR"), "where text embeddings are cached ('-' for none)")
        ("help,h", "show this help");
    po::options_description all;
    all.add(model).add(classes).add(input).add(output).add(run);
    return all;
}

int run_segment(const std::vector<std::string>& arguments) {
    auto args = arguments;
    const auto common = take_common_options(args);
    accept_gdal_style(args, {"of", "co"});
    const auto options = segment_options();
    const auto vm = parse_command_line("segment", args, options, {"input", "output"});
    if (vm.count("help")) {
        print_command_help("segment", "INPUT OUTPUT --classes \"a,b;c\" [options]",
                           "Segments a raster GDAL can read into the named classes (SegEarth-OV: CLIP with a "
                           "modulated last block, SimFeatUp, [CLS] bias subtraction, 224 px windows every 112 px). "
                           "OUTPUT is a Byte class raster on the input's grid (nodata 255) with class names, "
                           "colours and the settings in its metadata.",
                           options);
        return 0;
    }
    if (!vm.count("input") || !vm.count("output"))
        throw UsageError("segment needs INPUT and OUTPUT (see segearth segment --help)");

    pipeline::SegmentOptions o;
    o.input = vm["input"].as<std::string>();
    o.output = vm["output"].as<std::string>();
    o.clip = value_or<std::string>(vm, "clip", "");
    o.upsampler = value_or<std::string>(vm, "upsampler", "");
    o.vocab = value_or<std::string>(vm, "vocab", "");
    o.templates = value_or<std::string>(vm, "templates", "");
    o.attention = vm["attention"].as<std::string>();
    o.cls_lambda = vm["cls-lambda"].as<double>();
    o.logit_scale = vm["logit-scale"].as<double>();
    o.classes.classes = value_or<std::string>(vm, "classes", "");
    o.classes.classes_file = value_or<std::string>(vm, "classes-file", "");
    o.classes.preset = value_or<std::string>(vm, "preset", "");
    if (vm.count("classes") && o.classes.classes.empty())
        throw UsageError("--classes is empty: name at least one class, e.g. --classes \"building;water\"");
    if (vm.count("prob-threshold")) o.classes.prob_threshold = vm["prob-threshold"].as<double>();
    if (vm.count("bg-index")) o.classes.bg_index = vm["bg-index"].as<int64_t>();
    o.read = scene_read_options(vm);
    o.streaming.window = vm["window"].as<int64_t>();
    o.streaming.stride = vm["stride"].as<int64_t>();
    o.streaming.batch = vm["batch"].as<int64_t>();
    o.streaming.ram_mb = vm["ram"].as<int64_t>();
    o.format = vm["of"].as<std::string>();
    o.creation_options = value_or<std::vector<std::string>>(vm, "co", {});
    const auto grid = vm["output-grid"].as<std::string>();
    if (grid != "native" && grid != "working") throw UsageError("--output-grid " + grid + ": use native or working");
    o.output_on_working_grid = grid == "working";
    o.probabilities = value_or<std::string>(vm, "probabilities", "");
    o.probabilities_type = vm["probabilities-type"].as<std::string>();
    o.confidence = value_or<std::string>(vm, "confidence", "");
    o.vector = value_or<std::string>(vm, "vector", "");
    o.overwrite = vm.count("overwrite") > 0;
    o.device = vm["device"].as<std::string>();
    o.threads = value_or<int>(vm, "threads", 0);
    o.text_cache_dir = value_or<std::string>(vm, "text-cache", "");

    install_interrupt_handler();
    const auto report = pipeline::segment(o, terminal_progress(common.quiet));
    if (!common.quiet) {
        if (!report.notes.empty()) std::cerr << "note: " << report.notes;
        const auto& s = report.stats;
        std::fprintf(stderr,
                     "%s: %lld x %lld, working grid %lld x %lld, %lld windows (%lld skipped as nodata) on %s in %.1f s "
                     "(model %.1f s: CLIP %.1f s, upsampler %.1f s; resize and decide %.1f s, read %.1f s, write %.1f s)\n",
                     o.output.c_str(), static_cast<long long>(report.output_width),
                     static_cast<long long>(report.output_height), static_cast<long long>(report.working_width),
                     static_cast<long long>(report.working_height), static_cast<long long>(s.windows_computed),
                     static_cast<long long>(s.windows_skipped_nodata), report.device.c_str(), s.total_seconds,
                     s.model_seconds, report.model.clip, report.model.upsampler, s.decide_seconds, s.read_seconds,
                     s.write_seconds);
        for (const auto& [layer, count] : report.polygons_per_layer)
            std::fprintf(stderr, "%s: layer %s, %lld polygons\n", o.vector.c_str(), layer.c_str(), count);
    }
    return 0;
}

}  // namespace

const Command segment_command{"segment", "segment a raster into named classes (class GeoTIFF on the input's grid)",
                              run_segment};

}  // namespace segearth::cli
