#include <segearth/geo/rgb_png.hpp>

#include <segearth/error.hpp>
#include <segearth/geo/gdal_setup.hpp>

#include <gdal_priv.h>

#include <filesystem>
#include <memory>

#include <unistd.h>

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
    const std::string temp = path + ".part-" + std::to_string(::getpid()) + ".png";
    const char* options[] = {"WORLDFILE=NO", nullptr};
    std::unique_ptr<GDALDataset> png(
        png_driver->CreateCopy(temp.c_str(), mem.get(), FALSE, const_cast<char**>(options), nullptr, nullptr));
    std::error_code ec;
    if (!png) {
        const auto message = last_gdal_error("cannot write the PNG");
        std::filesystem::remove(temp, ec);
        std::filesystem::remove(temp + ".aux.xml", ec);
        throw FileError(path + ": " + message);
    }
    png.reset();
    std::filesystem::remove(temp + ".aux.xml", ec);
    std::filesystem::rename(temp, path, ec);
    if (ec) {
        std::filesystem::remove(temp, ec);
        throw FileError(path + ": cannot rename the finished picture into place");
    }
}

}  // namespace segearth::geo
