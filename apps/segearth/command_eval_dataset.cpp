#include "command_eval_dataset.hpp"

#include "cli_options.hpp"
#include "cli_progress.hpp"

#include <segearth/pipeline/evaluate_dataset.hpp>

#include <cstdio>

namespace segearth::cli {
namespace {

int run_eval_dataset(const std::vector<std::string>& args) {
    CommonOptions common;
    const auto o = parse_command(pipeline::evaluate_dataset_command(), args, common);
    if (!o) return 0;
    const auto report = pipeline::evaluate_dataset(*o, terminal_progress(common.quiet));
    if (!report.notes.empty()) std::fprintf(stderr, "note: %s", report.notes.c_str());
    std::fputs(pipeline::dataset_table(report).c_str(), stdout);
    return 0;
}

}  // namespace

const Command eval_dataset_command{"eval-dataset", run_eval_dataset, pipeline::evaluate_dataset_command().summary};

}  // namespace segearth::cli
