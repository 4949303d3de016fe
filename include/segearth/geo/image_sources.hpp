// Turning what a user names as imagery (train --images, segment --inputs) into raster paths: files
// GDAL reads (or /vsi paths), folders of them (searched recursively), text files listing them one per
// line, and quoted patterns ("scenes/*.tif").
//
//   auto paths = expand_image_sources({"tiles/", "extra.tif", "more.txt"});
#pragma once

#include <string>
#include <vector>

namespace segearth::geo {

/// Paths in the order given (folders sorted by name). In a list file, blank lines and lines starting
/// with '#' are skipped and relative paths are taken from the list's folder. Files in folders are kept
/// when GDAL identifies them as rasters (sidecars such as .aux.xml, .ovr and .msk are skipped).
/// A source that does not exist but holds *, ? or [ is a pattern: the files it matches, sorted.
/// Throws UsageError naming `flag` and the source when a path does not exist, a folder holds no
/// raster, a pattern matches nothing, or nothing at all was found.
std::vector<std::string> expand_image_sources(const std::vector<std::string>& sources,
                                              const std::string& flag = "--images");

}  // namespace segearth::geo
