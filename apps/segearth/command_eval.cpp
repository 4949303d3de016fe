#include "command_eval.hpp"

#include "cli_options.hpp"
#include "cli_progress.hpp"

#include <segearth/geo/evaluate.hpp>

#include <cstdio>

namespace segearth::cli {
namespace {

int run_eval(const std::vector<std::string>& args) {
    CommonOptions common;
    const auto o = parse_command(geo::evaluate_command(), args, common);
    if (!o) return 0;
    const auto report = geo::evaluate(*o, terminal_progress(common.quiet));
    std::fputs(geo::evaluation_table(report).c_str(), stdout);
    return 0;
}

}  // namespace

const Command eval_command{"eval", run_eval, geo::evaluate_command().summary};

}  // namespace segearth::cli
