// Inputs for the CLI tests, cut from the real aerial tile (../shared/data/oem_koeln_50.tif) with
// GDAL's own gdal_translate.
#pragma once

#include "support/test_paths.hpp"

#include <doctest/doctest.h>
#include <gdal_priv.h>
#include <gdal_utils.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace segearth::test {

inline std::unique_ptr<GDALDataset> open_raster(const std::filesystem::path& path) {
    GDALAllRegister();
    std::unique_ptr<GDALDataset> ds(GDALDataset::Open(path.c_str(), GDAL_OF_RASTER));
    REQUIRE_MESSAGE(ds, "cannot open " << path);
    return ds;
}

/// gdal_translate ARGS SOURCE OUT.
inline std::filesystem::path translate(const std::filesystem::path& source, const std::filesystem::path& out,
                                       std::vector<std::string> args) {
    auto src = open_raster(source);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    auto* options = GDALTranslateOptionsNew(argv.data(), nullptr);
    GDALClose(GDALTranslate(out.c_str(), GDALDataset::ToHandle(src.get()), options, nullptr));
    GDALTranslateOptionsFree(options);
    REQUIRE(std::filesystem::exists(out));
    return out;
}

/// gdal_translate ARGS oem_koeln_50.tif OUT.
inline std::filesystem::path translate_koeln(const std::filesystem::path& out, std::vector<std::string> args) {
    return translate(shared_data_file("oem_koeln_50.tif"), out, std::move(args));
}

}  // namespace segearth::test
