// A subcommand of the segearth tool: its name, entry point and one-line summary (the library's).
#pragma once

#include <string>
#include <vector>

namespace segearth::cli {

struct Command {
    const char* name;
    /// Arguments after the command name. Returns the exit code; throws segearth errors.
    int (*run)(const std::vector<std::string>& args);
    std::string summary;
};

}  // namespace segearth::cli
