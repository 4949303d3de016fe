// What a GDAL raster is: size, bands, georeferencing. The geo side never includes libtorch.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace segearth::geo {

struct BandInfo {
    std::string data_type;        ///< GDAL's name: "Byte", "UInt16", "Float32"...
    std::string color_interpretation;  ///< "Red", "Green", "Blue", "Gray", "Undefined"...
    std::optional<double> nodata;
    std::string description;
};

struct RasterInfo {
    std::string path;
    std::string driver;               ///< short name, e.g. "GTiff"
    int width = 0, height = 0;
    std::vector<BandInfo> bands;
    std::string crs_name;             ///< e.g. "ETRS89 / UTM zone 32N"; "" when not georeferenced
    std::string crs_authority;        ///< e.g. "EPSG:25832"; "" when unknown
    std::optional<std::array<double, 6>> geotransform;
    int block_width = 0, block_height = 0;
    int overview_count = 0;
    bool has_per_dataset_mask = false;
    std::map<std::string, std::string> metadata;  ///< the dataset's default domain (segearth's SEGEARTH_* keys)
};

/// Opens `path` with GDAL (any driver, /vsicurl/ URLs too) and describes it. Throws FileError with
/// GDAL's own message when it cannot be opened as a raster.
RasterInfo read_raster_info(const std::string& path);

/// GDAL's version string ("3.6.2").
std::string gdal_version();

}  // namespace segearth::geo
