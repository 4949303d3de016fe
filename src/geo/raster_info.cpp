#include <segearth/geo/raster_info.hpp>

#include "gdal_dataset.hpp"

#include <segearth/error.hpp>
#include <segearth/geo/gdal_setup.hpp>

#include <gdal_priv.h>
#include <ogr_spatialref.h>

#include <memory>

namespace segearth::geo {

std::string gdal_version() { return GDALVersionInfo("RELEASE_NAME"); }

RasterInfo read_raster_info(const std::string& path) {
    const auto ds = open_raster(path);
    RasterInfo info;
    info.path = path;
    info.driver = ds->GetDriver() ? ds->GetDriver()->GetDescription() : "";
    info.width = ds->GetRasterXSize();
    info.height = ds->GetRasterYSize();
    for (int b = 1; b <= ds->GetRasterCount(); ++b) {
        GDALRasterBand* band = ds->GetRasterBand(b);
        BandInfo bi;
        bi.data_type = GDALGetDataTypeName(band->GetRasterDataType());
        bi.color_interpretation = GDALGetColorInterpretationName(band->GetColorInterpretation());
        int has_nodata = 0;
        const double nodata = band->GetNoDataValue(&has_nodata);
        if (has_nodata) bi.nodata = nodata;
        bi.description = band->GetDescription();
        info.bands.push_back(bi);
        if (b == 1) {
            band->GetBlockSize(&info.block_width, &info.block_height);
            info.overview_count = band->GetOverviewCount();
            info.has_per_dataset_mask = (band->GetMaskFlags() & GMF_PER_DATASET) && !(band->GetMaskFlags() & GMF_ALL_VALID);
        }
    }
    if (char** items = ds->GetMetadata())
        for (int i = 0; items[i]; ++i) {
            const std::string item = items[i];
            if (const auto eq = item.find('='); eq != std::string::npos) info.metadata[item.substr(0, eq)] = item.substr(eq + 1);
        }
    if (const OGRSpatialReference* srs = ds->GetSpatialRef()) {
        info.crs_name = srs->GetName() ? srs->GetName() : "";
        const char* authority = srs->GetAuthorityName(nullptr);
        const char* code = srs->GetAuthorityCode(nullptr);
        if (authority && code) info.crs_authority = std::string(authority) + ":" + code;
    }
    std::array<double, 6> gt{};
    if (ds->GetGeoTransform(gt.data()) == CE_None) info.geotransform = gt;
    return info;
}

}  // namespace segearth::geo
