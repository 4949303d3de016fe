// Opening rasters the same way everywhere in the geo library (private header).
#pragma once

#include <segearth/error.hpp>
#include <segearth/geo/gdal_setup.hpp>

#include <gdal_priv.h>

#include <memory>
#include <string>

namespace segearth::geo {

using DatasetPtr = std::unique_ptr<GDALDataset>;

/// Opens `path` read-only as a raster with any driver; throws FileError "PATH: cannot open WHAT:
/// <GDAL's reason>".
inline DatasetPtr open_raster(const std::string& path, const std::string& what = "as a raster") {
    ensure_gdal();
    CPLErrorReset();
    DatasetPtr ds(GDALDataset::Open(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR));
    if (!ds) throw FileError(path + ": cannot open " + what + ": " + last_gdal_error("no GDAL driver recognises it"));
    return ds;
}

}  // namespace segearth::geo
