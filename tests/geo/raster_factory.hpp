// Small GeoTIFFs with known contents for the geo tests.
#pragma once

#include <gdal_priv.h>
#include <ogr_spatialref.h>

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace segearth::test {

struct BandSpec {
    GDALColorInterp colour = GCI_Undefined;
    std::optional<double> nodata;
    std::function<double(int x, int y)> value = [](int, int) { return 0.0; };
};

/// Writes a GTiff of `type` with one band per spec; georeferenced in `epsg` (0: none).
inline std::string make_raster(const std::string& path, int width, int height, GDALDataType type,
                               const std::vector<BandSpec>& bands, int epsg = 25832,
                               std::array<double, 6> geotransform = {346000, 0.5, 0, 5648000, 0, -0.5}) {
    GDALAllRegister();
    auto* driver = GetGDALDriverManager()->GetDriverByName("GTiff");
    std::unique_ptr<GDALDataset> ds(driver->Create(path.c_str(), width, height, static_cast<int>(bands.size()), type, nullptr));
    if (epsg) {
        OGRSpatialReference srs;
        srs.importFromEPSG(epsg);
        ds->SetSpatialRef(&srs);
        ds->SetGeoTransform(geotransform.data());
    }
    std::vector<double> row(static_cast<size_t>(width));
    for (size_t b = 0; b < bands.size(); ++b) {
        GDALRasterBand* band = ds->GetRasterBand(static_cast<int>(b + 1));
        band->SetColorInterpretation(bands[b].colour);
        if (bands[b].nodata) band->SetNoDataValue(*bands[b].nodata);
        for (int y = 0; y < height; ++y) {
            for (int x = 0; x < width; ++x) row[static_cast<size_t>(x)] = bands[b].value(x, y);
            if (band->RasterIO(GF_Write, 0, y, width, 1, row.data(), width, 1, GDT_Float64, 0, 0) != CE_None)
                throw std::runtime_error("cannot write test raster " + path);
        }
    }
    return path;
}

inline std::vector<float> read_band(const std::string& path, int band_number) {
    std::unique_ptr<GDALDataset> ds(GDALDataset::Open(path.c_str(), GDAL_OF_RASTER));
    if (!ds) throw std::runtime_error("cannot open " + path);
    std::vector<float> values(static_cast<size_t>(ds->GetRasterXSize()) * static_cast<size_t>(ds->GetRasterYSize()));
    if (ds->GetRasterBand(band_number)->RasterIO(GF_Read, 0, 0, ds->GetRasterXSize(), ds->GetRasterYSize(),
                                                 values.data(), ds->GetRasterXSize(), ds->GetRasterYSize(),
                                                 GDT_Float32, 0, 0) != CE_None)
        throw std::runtime_error("cannot read " + path);
    return values;
}

}  // namespace segearth::test
