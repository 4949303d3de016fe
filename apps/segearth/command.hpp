// A subcommand of the segearth tool: its name, one-line summary, and entry point.
#pragma once

#include <string>
#include <vector>

namespace segearth::cli {

struct Command {
    const char* name;
    const char* summary;
    /// Arguments after the command name. Returns the exit code; throws segearth errors.
    int (*run)(const std::vector<std::string>& args);
};

}  // namespace segearth::cli
