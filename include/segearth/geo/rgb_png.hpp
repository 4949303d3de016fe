// Writing a small RGB picture as PNG through GDAL (training previews), atomically.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace segearth::geo {

/// `planar_rgb` holds 3 * width * height bytes, band after band. Written to a temporary name beside
/// `path` and renamed when complete; throws FileError naming the file on failure.
void write_rgb_png(const std::string& path, int width, int height, const std::vector<std::uint8_t>& planar_rgb);

}  // namespace segearth::geo
