#include <segearth/geo/rgb_png.hpp>

#include "gdal_string_list.hpp"

#include <segearth/error.hpp>
#include <segearth/geo/gdal_setup.hpp>
#include <segearth/temporary_output.hpp>
#include <segearth/write_error.hpp>

#include <gdal_priv.h>

#include <filesystem>
#include <memory>

namespace segearth::geo {

void write_rgb_png(const std::string& path, int width, int height, const std::vector<std::uint8_t>& planar_rgb) {
    ensure_gdal();
    if (planar_rgb.size() != static_cast<size_t>(3) * width * height)
        throw Error("write_rgb_png: expected " + std::to_string(3LL * width * height) + " bytes, got " +
                    std::to_string(planar_rgb.size()));
    auto* mem_driver = GetGDALDriverManager()->GetDriverByName("MEM");
    auto* png_driver = GetGDALDriverManager()->GetDriverByName("PNG");
    if (!mem_driver || !png_driver) throw FileError(path + ": GDAL lacks the MEM or PNG driver");
    std::unique_ptr<GDALDataset> mem(mem_driver->Create("", width, height, 3, GDT_Byte, nullptr));
    if (!mem) throw FileError(path + ": " + last_gdal_error("cannot create the picture in memory"));
    GSpacing pixel = 1, line = width, band = static_cast<GSpacing>(width) * height;
    if (mem->RasterIO(GF_Write, 0, 0, width, height, const_cast<std::uint8_t*>(planar_rgb.data()), width, height,
                      GDT_Byte, 3, nullptr, pixel, line, band, nullptr) != CE_None)
        throw FileError(path + ": " + last_gdal_error("cannot fill the picture"));
    TemporaryOutput file(path, ".png");
    GdalStringList options({"WORLDFILE=NO"});
    std::unique_ptr<GDALDataset> png(
        png_driver->CreateCopy(file.temporary().c_str(), mem.get(), FALSE, options.get(), nullptr, nullptr));
    if (!png) throw write_error(path, "write", last_gdal_error("?"));
    png.reset();
    file.publish(true);
}

}  // namespace segearth::geo
