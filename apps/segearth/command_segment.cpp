#include "command_segment.hpp"

#include "cli_options.hpp"
#include "cli_progress.hpp"

#include <segearth/pipeline/segment.hpp>
#include <segearth/pipeline/segment_batch.hpp>

#include <cstdio>
#include <iostream>

namespace segearth::cli {
namespace {

// --inputs: a line per scene as it ends, the totals, and status 1 when any scene failed.
int run_batch(const pipeline::SegmentOptions& o, const CommonOptions& common) {
    const auto report = pipeline::segment_batch(
        o,
        [&](const pipeline::BatchSceneReport& s) {
            if (common.quiet && s.status != "failed") return;
            std::fprintf(stderr, "[%zu/%zu] %s%s: %s", s.position, s.count, s.input.c_str(),
                         s.shards ? (" shard " + std::to_string(s.shard) + "/" + std::to_string(s.shards)).c_str() : "",
                         s.status.c_str());
            if (s.status == "done") std::fprintf(stderr, " -> %s (%lld windows, %.1f s)", s.output.c_str(),
                                                 static_cast<long long>(s.windows), s.seconds);
            if (!s.message.empty()) std::fprintf(stderr, ": %s", s.message.c_str());
            std::fprintf(stderr, "\n");
        },
        terminal_progress(true));  // the scenes' lines are the progress; Ctrl-C still stops the batch
    if (!common.quiet) {
        if (!report.notes.empty()) std::cerr << "note: " << report.notes;
        std::fprintf(stderr, "%s%s%zu done, %zu skipped, %zu failed in %.1f s; summary %s\n", report.task.c_str(),
                     report.task.empty() ? "" : ": ", report.done, report.skipped, report.failed, report.seconds,
                     report.summary_csv.c_str());
    }
    return report.failed ? 1 : 0;
}

int run_segment(const std::vector<std::string>& args) {
    CommonOptions common;
    const auto o = parse_command(pipeline::segment_command(), args, common);
    if (!o) return 0;
    if (o->batch.active()) return run_batch(*o, common);
    const auto report = pipeline::segment(*o, terminal_progress(common.quiet));
    if (common.quiet) return 0;
    if (!report.notes.empty()) std::cerr << "note: " << report.notes;
    const auto& s = report.stats;
    std::fprintf(stderr,
                 "%s: %lld x %lld, working grid %lld x %lld, %lld windows (%lld skipped as nodata) on %s, batch %lld, in %.1f s "
                 "(model %.1f s: CLIP %.1f s, upsampler %.1f s; resize and decide %.1f s, read %.1f s, write %.1f s)\n",
                 o->output.c_str(), static_cast<long long>(report.output_width),
                 static_cast<long long>(report.output_height), static_cast<long long>(report.working_width),
                 static_cast<long long>(report.working_height), static_cast<long long>(s.windows_computed),
                 static_cast<long long>(s.windows_skipped_nodata), report.device.c_str(),
                 static_cast<long long>(report.batch), s.total_seconds,
                 s.model_seconds, report.model.clip, report.model.upsampler, s.decide_seconds, s.read_seconds,
                 s.write_seconds);
    for (const auto& [layer, count] : report.polygons_per_layer)
        std::fprintf(stderr, "%s: layer %s, %lld polygons\n", o->vector.c_str(), layer.c_str(), count);
    return 0;
}

}  // namespace

const Command segment_command{"segment", run_segment, pipeline::segment_command().summary};

}  // namespace segearth::cli
