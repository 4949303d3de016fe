#pragma once

#include "command.hpp"

namespace segearth::cli {

/// segearth vectorize: a class raster to cleaned GeoPackage polygons, one layer per class.
extern const Command vectorize_command;

}  // namespace segearth::cli
