// How many pixels a class raster gives each class: the histogram segment's batch summary reports.
// A pass over the raster in strips; unlike GDAL's histograms nothing is stored beside it.
#pragma once

#include <segearth/progress.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace segearth::geo {

struct ClassCount {
    int value = 0;
    std::string name;  ///< the raster's category name, else "class_V"
    int64_t pixels = 0;
};

/// Every named class (with 0 pixels when absent) and every other value present, by value; nodata is
/// not counted. Throws FileError when the raster cannot be read.
std::vector<ClassCount> count_classes(const std::string& path, const Progress& progress = {});

}  // namespace segearth::geo
