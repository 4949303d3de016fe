#pragma once

#include "command.hpp"

namespace segearth::cli {

/// segearth info: describe a model file or raster, tokenize a text, or report this machine.
extern const Command info_command;

}  // namespace segearth::cli
