#include "command_vectorize.hpp"

#include "cli_options.hpp"
#include "cli_progress.hpp"

#include <segearth/geo/vectorize.hpp>

#include <cstdio>

namespace segearth::cli {
namespace {

int run_vectorize(const std::vector<std::string>& args) {
    CommonOptions common;
    const auto o = parse_command(geo::vectorize_command(), args, common);
    if (!o) return 0;
    const auto report = geo::vectorize(*o, terminal_progress(common.quiet));
    if (common.quiet) return 0;
    for (const auto& [layer, count] : report.polygons_per_layer)
        std::fprintf(stderr, "%s: %lld polygons\n", layer.c_str(), count);
    std::fprintf(stderr, "%.1f s (%lld pieces joined across strip borders)\n", report.seconds, report.pieces_merged);
    return 0;
}

}  // namespace

const Command vectorize_command{"vectorize", run_vectorize, geo::vectorize_command().summary};

}  // namespace segearth::cli
