#pragma once

#include "command.hpp"

namespace segearth::cli {

/// segearth segment: a georeferenced scene and class names in, a class GeoTIFF on its grid out.
extern const Command segment_command;

}  // namespace segearth::cli
