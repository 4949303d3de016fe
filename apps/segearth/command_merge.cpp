#include "command_merge.hpp"

#include "cli_options.hpp"
#include "cli_progress.hpp"

#include <segearth/pipeline/merge.hpp>

#include <cstdio>

namespace segearth::cli {
namespace {

int run_merge(const std::vector<std::string>& args) {
    CommonOptions common;
    const auto o = parse_command(pipeline::merge_command(), args, common);
    if (!o) return 0;
    const auto r = pipeline::merge(*o, terminal_progress(common.quiet));
    if (!common.quiet) {
        std::fprintf(stderr, "%s: %lld shards merged (%lld windows computed in all) in %.1f s\n", o->output.c_str(),
                     static_cast<long long>(r.shards), static_cast<long long>(r.windows), r.seconds);
        for (const auto& [layer, count] : r.polygons_per_layer)
            std::fprintf(stderr, "  layer %s: %lld polygons\n", layer.c_str(), count);
    }
    return 0;
}

}  // namespace

const Command merge_command{"merge", run_merge, pipeline::merge_command().summary};

}  // namespace segearth::cli
