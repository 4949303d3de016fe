#include "command_merge.hpp"

#include "cli_options.hpp"
#include "cli_progress.hpp"

#include <segearth/pipeline/merge.hpp>

#include <cstdio>

namespace segearth::cli {
namespace {

void print_merged(const std::string& output, const pipeline::MergeReport& r) {
    std::fprintf(stderr, "%s: %lld shards merged (%lld windows computed in all) in %.1f s\n", output.c_str(),
                 static_cast<long long>(r.shards), static_cast<long long>(r.windows), r.seconds);
    for (const auto& [layer, count] : r.polygons_per_layer) std::fprintf(stderr, "  layer %s: %lld polygons\n", layer.c_str(), count);
}

// --inputs: a line per scene, and status 1 when any failed.
int run_merge_batch(const pipeline::MergeOptions& o, const CommonOptions& common) {
    std::string notes;
    size_t failed = 0, merged = 0, skipped = 0;
    pipeline::merge_batch(
        o,
        [&](const pipeline::MergeSceneReport& s) {
            ++(s.status == "merged" ? merged : s.status == "skipped" ? skipped : failed);
            if (common.quiet && s.status != "failed") return;
            if (s.status == "merged") print_merged(s.output, s.merged);
            else std::fprintf(stderr, "%s: %s: %s\n", s.output.c_str(), s.status.c_str(), s.message.c_str());
        },
        notes, terminal_progress(true));
    if (!common.quiet) {
        if (!notes.empty()) std::fprintf(stderr, "note: %s", notes.c_str());
        std::fprintf(stderr, "%zu merged, %zu skipped, %zu failed\n", merged, skipped, failed);
    }
    return failed ? 1 : 0;
}

int run_merge(const std::vector<std::string>& args) {
    CommonOptions common;
    const auto o = parse_command(pipeline::merge_command(), args, common);
    if (!o) return 0;
    if (o->batch.active()) return run_merge_batch(*o, common);
    const auto r = pipeline::merge(*o, terminal_progress(common.quiet));
    if (!common.quiet) print_merged(o->output, r);
    return 0;
}

}  // namespace

const Command merge_command{"merge", run_merge, pipeline::merge_command().summary};

}  // namespace segearth::cli
