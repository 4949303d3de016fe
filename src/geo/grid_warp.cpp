#include "grid_warp.hpp"

#include "gdal_string_list.hpp"

#include <gdal_utils.h>

#include <algorithm>
#include <array>
#include <vector>

namespace segearth::geo {

DatasetPtr warp_onto_grid(GDALDataset& source, GDALDataset& grid, int32_t fill, const std::string& what) {
    const int width = grid.GetRasterXSize(), height = grid.GetRasterYSize();
    std::array<double, 6> gt{};
    const OGRSpatialReference* srs = grid.GetSpatialRef();
    if (grid.GetGeoTransform(gt.data()) != CE_None || !srs)
        throw UsageError(what + ": the target grid has no CRS or geotransform");
    if (gt[2] != 0 || gt[4] != 0)
        throw UsageError(what + ": the target grid has a rotated geotransform: warp it to a north-up grid first "
                                "(gdalwarp)");
    char* wkt = nullptr;
    srs->exportToWkt(&wkt);
    const auto exact = [](double v) { return std::string(CPLSPrintf("%.17g", v)); };
    std::vector<std::string> args{"-of", "VRT", "-t_srs", wkt, "-r", "near", "-ot", "Int32", "-dstnodata",
                                  std::to_string(fill), "-ts", std::to_string(width), std::to_string(height), "-te",
                                  exact(gt[0]), exact(std::min(gt[3], gt[3] + height * gt[5])),
                                  exact(gt[0] + width * gt[1]), exact(std::max(gt[3], gt[3] + height * gt[5]))};
    CPLFree(wkt);
    GdalStringList argv(std::move(args));
    GDALWarpAppOptions* options = GDALWarpAppOptionsNew(argv.get(), nullptr);
    GDALDatasetH handle = GDALDataset::ToHandle(&source);
    CPLErrorReset();
    DatasetPtr warped(GDALDataset::FromHandle(GDALWarp("", nullptr, 1, &handle, options, nullptr)));
    GDALWarpAppOptionsFree(options);
    if (!warped) throw FileError(what + ": " + last_gdal_error("?"));
    return warped;
}

}  // namespace segearth::geo
