// info's options, declared once.
#include <segearth/pipeline/info.hpp>

namespace segearth::pipeline {
namespace {

options::Command<InfoOptions> make_command() {
    options::Command<InfoOptions> c{
        "info",
        "describe a model file or raster, tokenize text, or report this machine",
        "[--system | --tokenize TEXT | --preset NAME | --presets | FILE]",
        "Describes a CLIP weights file (format, architecture, parameters, dtype) or a raster (size, bands, "
        "georeferencing), prints CLIP token ids or a class preset, or reports this machine.",
        {}};
    auto& t = c.options;
    t.text("file", &InfoOptions::file).positional().value_name("FILE").input_path()
        .help("a CLIP weights file, a SimFeatUp upsampler or a GDAL raster");
    t.group("Options");
    t.flag("system", &InfoOptions::system)
        .help("report the BLAS in use, its kernel type, threads, CPU features and a measured matmul speed, libtorch, "
              "GDAL and CUDA");
    t.text("tokenize", &InfoOptions::tokenize).value_name("TEXT").help("print the 77 CLIP token ids of TEXT");
    t.text("vocab", &InfoOptions::vocab)
        .value_name("PATH")
        .input_path()
        .help("CLIP BPE vocabulary (default: $SEGEARTH_VOCAB, then bpe_simple_vocab_16e6.txt.gz in the data folders)");
    t.text("preset", &InfoOptions::preset)
        .value_name("NAME")
        .help("print a class preset: classes in label order with their synonyms, threshold, background, lambda, "
              "label convention");
    t.flag("presets", &InfoOptions::presets).help("list the class presets (the paper's 17 datasets and 4 tasks)");
    t.flag("json", &InfoOptions::json).help("--preset or --presets as JSON");
    return c;
}

}  // namespace

const options::Command<InfoOptions>& info_command() {
    static const auto command = make_command();
    return command;
}

void validate(const InfoOptions& o) {
    info_command().options.check(o);
    const int chosen = (o.system ? 1 : 0) + (o.tokenize.empty() ? 0 : 1) + (o.file.empty() ? 0 : 1) +
                       (o.preset.empty() ? 0 : 1) + (o.presets ? 1 : 0);
    if (chosen != 1)
        throw UsageError("info: give exactly one of FILE, --system, --tokenize TEXT, --preset NAME and --presets "
                         "(see segearth info --help)");
    if (o.json && o.preset.empty() && !o.presets) throw UsageError("--json goes with --preset NAME or --presets");
}

}  // namespace segearth::pipeline
