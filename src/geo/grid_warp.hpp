// One raster read on another's grid (private header): a GDAL warped VRT, nearest neighbour (class
// values are never averaged), pixels the source does not cover or holds as nodata set to `fill`.
// Used by vectorize's flood mode (pre-event classes on the post-event grid) and eval (ground truth
// on the prediction's grid).
#pragma once

#include "gdal_dataset.hpp"

#include <cstdint>
#include <string>

namespace segearth::geo {

/// Band 1 of the result is Int32. `source` must stay open while the result is read. Throws
/// UsageError when `grid` has a rotated geotransform, FileError "WHAT: <GDAL's reason>" when GDAL
/// cannot warp (no CRS, no overlap transform).
DatasetPtr warp_onto_grid(GDALDataset& source, GDALDataset& grid, int32_t fill, const std::string& what);

}  // namespace segearth::geo
