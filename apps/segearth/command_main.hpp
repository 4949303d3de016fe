// What both segearth executables do around a command: pick it by name, map errors to GDAL-style
// exit codes (0 ok, 1 failure, 2 usage error, 130 cancelled), and end without static destructors
// when work was abandoned.
#pragma once

#include "command.hpp"

#include <vector>

namespace segearth::cli {

/// Runs argv[1] when it is one of `commands`; otherwise calls `elsewhere` (which may not return),
/// or, without one, prints the usage (--help, no command) or refuses the name.
int command_main(int argc, char** argv, const std::vector<const Command*>& commands,
                 int (*elsewhere)(int argc, char** argv) = nullptr);

}  // namespace segearth::cli
