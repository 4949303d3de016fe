// merge's options, declared once.
#include <segearth/pipeline/merge.hpp>

#include <segearth/error.hpp>

namespace segearth::pipeline {
namespace {

options::Command<MergeOptions> make_command() {
    options::Command<MergeOptions> c{
        "merge",
        "join the shards of one scene (segment --shard I/N) into the outputs of a single run",
        "OUTPUT [options]  |  --inputs LIST|DIR|GLOB --output-dir DIR [--output-name TEMPLATE]",
        "Checks that every shard of OUTPUT is present, complete and made with the same settings and input, then "
        "writes the class raster, probabilities and confidence the shards were asked for (the format, creation "
        "options, class names, colours and metadata of a single run; the pixels equal a single run's bit for bit) "
        "and the polygons of --vector from the merged classes, and removes the shards. With --inputs and "
        "--output-dir (as given to segment --inputs --scene-shards K) every scene of the batch is merged.",
        {}};
    auto& t = c.options;
    t.text("output", &MergeOptions::output).positional().required().value_name("OUTPUT").output_path(options::FileKind::raster)
        .help("the class raster given to segment as OUTPUT (its shards lie beside it; not with --inputs)");
    t.group("Options");
    t.flag("keep-shards", &MergeOptions::keep_shards).help("leave the shard files and manifests in place");
    t.flag("overwrite", &MergeOptions::overwrite).help("replace existing outputs");
    t.include(batch_naming_option_table(), &MergeOptions::batch);
    return c;
}

}  // namespace

const options::Command<MergeOptions>& merge_command() {
    static const auto command = make_command();
    return command;
}

void validate(const MergeOptions& o) {
    validate(o.batch);
    if (o.batch.active() && !o.output.empty())
        throw UsageError("--inputs names the scenes: give no OUTPUT with it (their outputs are --output-name in "
                         "--output-dir)");
    if (!o.batch.active() && o.output.empty())
        throw UsageError("merge needs OUTPUT, or --inputs and --output-dir (see segearth merge --help)");
    merge_command().options.check(o);
}

}  // namespace segearth::pipeline
