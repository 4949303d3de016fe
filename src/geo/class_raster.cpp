#include "class_raster.hpp"

#include <segearth/geo/class_counts.hpp>

#include <segearth/error.hpp>

#include <algorithm>
#include <cstdlib>

namespace segearth::geo {

ClassRaster::ClassRaster(const std::string& p, int requested_background, const Progress& progress,
                         const std::string& what, bool list_values)
    : dataset(open_raster(p, what)), path(p) {
    band = dataset->GetRasterBand(1);
    const GDALDataType type = band->GetRasterDataType();
    if (dataset->GetRasterCount() != 1 || GDALDataTypeIsFloating(type) || GDALDataTypeIsComplex(type))
        throw UsageError(path + " is not a class raster: it must be one band of integer class values (as segearth "
                         "segment writes); it has " + std::to_string(dataset->GetRasterCount()) + " band(s) of " +
                         GDALGetDataTypeName(type));
    int has_nodata = 0;
    const double value = band->GetNoDataValue(&has_nodata);
    if (has_nodata) nodata = static_cast<int>(value);
    if (char** categories = band->GetCategoryNames())
        for (int i = 0; categories[i]; ++i)
            if (*categories[i]) names[i] = categories[i];
    named = !names.empty();
    if (names.empty() && list_values)
        for (const int v : values_present(progress)) names[v] = "class_" + std::to_string(v);
    if (nodata) names.erase(*nodata);
    const char* bg = dataset->GetMetadataItem("SEGEARTH_BG_INDEX");
    background = requested_background >= 0 ? requested_background : bg ? std::atoi(bg) : 0;
}

std::map<int, int64_t> ClassRaster::pixel_counts(const Progress& progress) const {
    const int width = dataset->GetRasterXSize(), height = dataset->GetRasterYSize();
    std::vector<int64_t> small(65536, 0);  // 0..65535: every Byte and UInt16 value
    std::map<int, int64_t> counts;
    std::vector<int32_t> strip;
    constexpr int strip_rows = 256;
    for (int y = 0; y < height; y += strip_rows) {
        segearth::report(progress, 0.0);  // a check for Ctrl-C; the caller owns the progress bar
        const int rows = std::min(strip_rows, height - y);
        strip.resize(static_cast<size_t>(width) * static_cast<size_t>(rows));
        if (band->RasterIO(GF_Read, 0, y, width, rows, strip.data(), width, rows, GDT_Int32, 0, 0) != CE_None)
            throw FileError(path + ": cannot read rows " + std::to_string(y) + "..: " + last_gdal_error("?"));
        for (const int32_t v : strip) {
            if (v >= 0 && v < 65536) ++small[static_cast<size_t>(v)];
            else ++counts[v];
        }
    }
    for (int v = 0; v < 65536; ++v)
        if (small[static_cast<size_t>(v)]) counts[v] = small[static_cast<size_t>(v)];
    return counts;
}

std::vector<int> ClassRaster::values_present(const Progress& progress) const {
    std::vector<int> present;
    for (const auto& [value, count] : pixel_counts(progress)) present.push_back(value);
    return present;
}

std::vector<ClassCount> count_classes(const std::string& path, const Progress& progress) {
    const ClassRaster raster(path, -1, progress, "the class raster", false);
    auto counts = raster.pixel_counts(progress);
    if (raster.nodata) counts.erase(*raster.nodata);
    std::vector<ClassCount> result;
    for (const auto& [value, name] : raster.names) result.push_back({value, name, 0});
    for (const auto& [value, pixels] : counts) {
        const auto named = std::find_if(result.begin(), result.end(), [&](const ClassCount& c) { return c.value == value; });
        if (named != result.end()) named->pixels = pixels;
        else result.push_back({value, "class_" + std::to_string(value), pixels});
    }
    std::sort(result.begin(), result.end(), [](const ClassCount& a, const ClassCount& b) { return a.value < b.value; });
    return result;
}

int ClassRaster::resolve(const std::string& spec) const {
    for (const auto& [value, name] : names)
        if (name == spec) return value;
    char* end = nullptr;
    const long value = std::strtol(spec.c_str(), &end, 10);
    if (!spec.empty() && *end == '\0' && names.count(static_cast<int>(value))) return static_cast<int>(value);
    std::string known;
    for (const auto& [v, name] : names) known += (known.empty() ? "" : ", ") + std::to_string(v) + " " + name;
    throw UsageError("unknown class '" + spec + "' in " + path + " (its classes: " + known + ")");
}

}  // namespace segearth::geo
