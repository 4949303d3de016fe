// Turning what a user names as training imagery into raster paths: files GDAL reads (or /vsi paths),
// folders of them (searched recursively), and text files listing them one per line.
//
//   auto paths = expand_image_sources({"tiles/", "extra.tif", "more.txt"});
#pragma once

#include <string>
#include <vector>

namespace segearth::geo {

/// Paths in the order given (folders sorted by name). In a list file, blank lines and lines starting
/// with '#' are skipped and relative paths are taken from the list's folder. Files in folders are kept
/// when GDAL identifies them as rasters (sidecars such as .aux.xml, .ovr and .msk are skipped).
/// Throws UsageError naming the source when a path does not exist, a folder holds no raster, or
/// nothing at all was found.
std::vector<std::string> expand_image_sources(const std::vector<std::string>& sources);

}  // namespace segearth::geo
