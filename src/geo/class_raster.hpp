// A class raster as segearth reads one (private header): one band of integer class values, its
// class names (category names, else the values present), nodata and background class. vectorize
// and eval read their inputs through it.
#pragma once

#include "gdal_dataset.hpp"

#include <segearth/progress.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace segearth::geo {

struct ClassRaster {
    DatasetPtr dataset;
    GDALRasterBand* band = nullptr;
    std::string path;
    std::map<int, std::string> names;  // class value -> name
    bool named = false;                // the names are the raster's category names
    std::optional<int> nodata;
    int background = 0;

    /// `what` names the raster in messages ("the class raster", "the ground truth").
    /// `requested_background` -1: the raster's SEGEARTH_BG_INDEX, else 0. Without category names the
    /// classes are the values present (a pass over the raster) unless `list_values` is false.
    /// Throws UsageError when it is not a class raster.
    ClassRaster(const std::string& path, int requested_background, const Progress& progress = {},
                const std::string& what = "the class raster", bool list_values = true);

    /// The values present, found by a pass over the raster in strips (cancellable; unlike GDAL's
    /// statistics and histograms, nothing is stored in an .aux.xml beside the user's input).
    std::vector<int> values_present(const Progress& progress) const;
    /// The pixels of each value present (nodata included), by the same pass.
    std::map<int, int64_t> pixel_counts(const Progress& progress) const;

    /// A class by its name or its value; UsageError listing the classes otherwise.
    int resolve(const std::string& spec) const;
};

}  // namespace segearth::geo
