#include "command_segment.hpp"

#include "cli_options.hpp"
#include "cli_progress.hpp"

#include <segearth/pipeline/segment.hpp>

#include <cstdio>
#include <iostream>

namespace segearth::cli {
namespace {

int run_segment(const std::vector<std::string>& args) {
    CommonOptions common;
    const auto o = parse_command(pipeline::segment_command(), args, common);
    if (!o) return 0;
    const auto report = pipeline::segment(*o, terminal_progress(common.quiet));
    if (common.quiet) return 0;
    if (!report.notes.empty()) std::cerr << "note: " << report.notes;
    const auto& s = report.stats;
    std::fprintf(stderr,
                 "%s: %lld x %lld, working grid %lld x %lld, %lld windows (%lld skipped as nodata) on %s in %.1f s "
                 "(model %.1f s: CLIP %.1f s, upsampler %.1f s; resize and decide %.1f s, read %.1f s, write %.1f s)\n",
                 o->output.c_str(), static_cast<long long>(report.output_width),
                 static_cast<long long>(report.output_height), static_cast<long long>(report.working_width),
                 static_cast<long long>(report.working_height), static_cast<long long>(s.windows_computed),
                 static_cast<long long>(s.windows_skipped_nodata), report.device.c_str(), s.total_seconds,
                 s.model_seconds, report.model.clip, report.model.upsampler, s.decide_seconds, s.read_seconds,
                 s.write_seconds);
    for (const auto& [layer, count] : report.polygons_per_layer)
        std::fprintf(stderr, "%s: layer %s, %lld polygons\n", o->vector.c_str(), layer.c_str(), count);
    return 0;
}

}  // namespace

const Command segment_command{"segment", run_segment, pipeline::segment_command().summary};

}  // namespace segearth::cli
