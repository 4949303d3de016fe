#pragma once

#include "command.hpp"

namespace segearth::cli {

/// segearth merge: the shards of one scene joined into the outputs of a single run.
extern const Command merge_command;

}  // namespace segearth::cli
