#include "command_info.hpp"

#include "cli_options.hpp"

#include <segearth/pipeline/info.hpp>

#include <iostream>

namespace segearth::cli {
namespace {

int run_info(const std::vector<std::string>& args) {
    CommonOptions common;
    const auto o = parse_command(pipeline::info_command(), args, common);
    if (!o) return 0;
    std::cout << pipeline::info(*o);
    return 0;
}

}  // namespace

const Command info_command{"info", run_info, pipeline::info_command().summary};

}  // namespace segearth::cli
