// A first look at a result without a GIS: the scene and its classes side by side in one PNG, with a
// legend of the class names in their colours (segment --quicklook, setup's demo).
//
//   draw_quicklook({"scene.tif", read_options, "classes.tif", names, colours}, "look.png", temporary);
#pragma once

#include <segearth/geo/scene_reader.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace segearth::geo {

struct QuicklookInputs {
    std::string scene;                          ///< the input raster
    SceneReadOptions read;                      ///< its bands and value ranges, as segment read them
    std::string classes;                        ///< the class raster, on the scene's grid (nodata 255)
    std::vector<std::string> names;             ///< class names, by value
    std::vector<std::array<uint8_t, 3>> colours;  ///< class colours, by value
    int long_side = 800;                        ///< each half's long side, in pixels (at most the scene's)
};

/// Draws the picture into `temporary`, the file the caller publishes as `path` (which errors name).
/// Throws FileError naming the file that cannot be read or written.
void draw_quicklook(const QuicklookInputs& inputs, const std::string& path, const std::string& temporary);

}  // namespace segearth::geo
