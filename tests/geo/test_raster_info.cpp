// Describing rasters with GDAL.
#include <doctest/doctest.h>

#include <segearth/error.hpp>
#include <segearth/geo/raster_info.hpp>

#include "support/test_paths.hpp"

using namespace segearth::geo;

TEST_CASE("the real aerial tile's size, bands and georeferencing") {
    const auto info = read_raster_info(segearth::test::shared_data_file("oem_koeln_50.tif").string());
    CHECK(info.driver == "GTiff");
    CHECK(info.width == 1000);
    CHECK(info.height == 1000);
    REQUIRE(info.bands.size() == 3);
    CHECK(info.bands[0].data_type == "Byte");
    CHECK(info.crs_name == "ETRS89 / UTM zone 32N");
    CHECK(info.crs_authority == "EPSG:25832");
    REQUIRE(info.geotransform.has_value());
    const auto& gt = *info.geotransform;
    CHECK(gt[0] == 346000.0);
    CHECK(gt[3] == 5648000.0);
    CHECK(gt[1] == 0.5);
    CHECK(gt[5] == -0.5);
}

TEST_CASE("a file GDAL cannot read is a FileError naming it") {
    const auto dir = segearth::test::scratch_dir("raster_info");
    const auto path = (dir / "missing.tif").string();
    CHECK_THROWS_WITH_AS(read_raster_info(path), doctest::Contains((path + ": cannot open as a raster: ").c_str()),
                         segearth::FileError);
}
