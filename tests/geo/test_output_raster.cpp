// Output rasters: written under a temporary name, renamed when complete, never replacing a file
// unless asked, with class names, colours, nodata, metadata and overviews.
#include <doctest/doctest.h>

#include <segearth/error.hpp>
#include <segearth/geo/output_raster.hpp>

#include "geo/raster_factory.hpp"
#include "support/test_paths.hpp"

#include <filesystem>

using namespace segearth::geo;
using segearth::test::scratch_dir;
namespace fs = std::filesystem;

namespace {

OutputRasterSpec class_spec(const fs::path& path) {
    OutputRasterSpec spec;
    spec.path = path.string();
    spec.width = 600, spec.height = 300;
    spec.nodata = 255;
    spec.geotransform = std::array<double, 6>{346000, 0.5, 0, 5648000, 0, -0.5};
    OGRSpatialReference srs;
    srs.importFromEPSG(25832);
    char* wkt = nullptr;
    srs.exportToWkt(&wkt);
    spec.crs_wkt = wkt;
    CPLFree(wkt);
    spec.category_names = {"background", "building", "water"};
    spec.colours = {{0, 0, 0}, {222, 31, 7}, {0, 69, 255}};
    spec.metadata = {{"SEGEARTH_CLASSES", "background;building;water"}};
    spec.overview_resampling = "NEAREST";
    return spec;
}

void write_pattern(OutputRaster& out) {
    std::vector<uint8_t> rows(600 * 100);
    for (int block = 0; block < 3; ++block) {
        for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<uint8_t>((i + static_cast<size_t>(block)) % 3);
        out.write_block(1, 0, block * 100, 600, 100, rows.data());
    }
}

size_t files_in(const fs::path& dir) {
    return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

}  // namespace

TEST_CASE("a committed class raster has its grid, CRS, names, colours, nodata, metadata and overviews") {
    const auto dir = scratch_dir("output_class");
    {
        OutputRaster out(class_spec(dir / "classes.tif"));
        write_pattern(out);
        CHECK_FALSE(fs::exists(dir / "classes.tif"));  // not before it is complete
        out.commit();
    }
    REQUIRE(fs::exists(dir / "classes.tif"));
    for (const auto& entry : fs::directory_iterator(dir))
        CHECK(entry.path().filename().string().find(".part") == std::string::npos);
    std::unique_ptr<GDALDataset> ds(GDALDataset::Open((dir / "classes.tif").c_str(), GDAL_OF_RASTER));
    REQUIRE(ds);
    std::array<double, 6> gt{};
    ds->GetGeoTransform(gt.data());
    CHECK(gt[0] == 346000);
    CHECK(gt[5] == -0.5);
    CHECK(std::string(ds->GetSpatialRef()->GetAuthorityCode(nullptr)) == "25832");
    GDALRasterBand* band = ds->GetRasterBand(1);
    int block_x = 0, block_y = 0;
    band->GetBlockSize(&block_x, &block_y);
    CHECK(block_x == 256);  // tiled
    CHECK(std::string(ds->GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE")) == "DEFLATE");
    CHECK(band->GetNoDataValue() == 255);
    char** names = band->GetCategoryNames();
    REQUIRE(CSLCount(names) == 3);
    CHECK(std::string(names[1]) == "building");
    const GDALColorEntry* water = band->GetColorTable()->GetColorEntry(2);
    CHECK(water->c3 == 255);
    CHECK(std::string(ds->GetMetadataItem("SEGEARTH_CLASSES")) == "background;building;water");
    CHECK(band->GetOverviewCount() == 1);
    const auto values = segearth::test::read_band((dir / "classes.tif").string(), 1);
    CHECK(values[0] == 0);
    CHECK(values[601] == 1);
    CHECK(values[600 * 150 + 2] == 0);  // second block: shifted pattern ((i + 1) % 3 at i = 30002)
}

TEST_CASE("an output that is never committed leaves nothing behind") {
    const auto dir = scratch_dir("output_abandoned");
    {
        OutputRaster out(class_spec(dir / "classes.tif"));
        write_pattern(out);
    }
    CHECK(files_in(dir) == 0);
}

TEST_CASE("an existing output is kept unless --overwrite") {
    const auto dir = scratch_dir("output_exists");
    {
        OutputRaster first(class_spec(dir / "classes.tif"));
        write_pattern(first);
        first.commit();
    }
    const auto before = fs::last_write_time(dir / "classes.tif");
    CHECK_THROWS_WITH_AS(OutputRaster(class_spec(dir / "classes.tif")),
                         ("output " + (dir / "classes.tif").string() + " already exists: use --overwrite to replace it")
                             .c_str(),
                         segearth::UsageError);
    CHECK(fs::last_write_time(dir / "classes.tif") == before);
    auto spec = class_spec(dir / "classes.tif");
    spec.overwrite = true;
    spec.category_names = {"a", "b", "c"};
    OutputRaster second(spec);
    write_pattern(second);
    second.commit();
    std::unique_ptr<GDALDataset> ds(GDALDataset::Open((dir / "classes.tif").c_str(), GDAL_OF_RASTER));
    // GDAL 3.6's GTiff band reads its .aux.xml lazily, on the first dataset-level query, not on
    // GetCategoryNames() (gdalinfo and QGIS always query the georeferencing first).
    std::array<double, 6> gt{};
    ds->GetGeoTransform(gt.data());
    char** names = ds->GetRasterBand(1)->GetCategoryNames();
    REQUIRE(names != nullptr);
    CHECK(std::string(names[0]) == "a");
}

TEST_CASE("-of COG writes a cloud-optimised GeoTIFF, with -co passed through and class-safe overviews") {
    const auto dir = scratch_dir("output_cog");
    auto spec = class_spec(dir / "classes.tif");
    spec.format = "COG";
    spec.creation_options = {"COMPRESS=LZW", "BLOCKSIZE=128"};
    {
        OutputRaster out(spec);
        write_pattern(out);
        out.commit();
    }
    std::unique_ptr<GDALDataset> ds(GDALDataset::Open((dir / "classes.tif").c_str(), GDAL_OF_RASTER));
    REQUIRE(ds);
    CHECK(std::string(ds->GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE")) == "COG");
    CHECK(std::string(ds->GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE")) == "LZW");
    int block_x = 0, block_y = 0;
    ds->GetRasterBand(1)->GetBlockSize(&block_x, &block_y);
    CHECK(block_x == 128);
    CHECK(ds->GetRasterBand(1)->GetOverviewCount() >= 1);
    CHECK(CSLCount(ds->GetRasterBand(1)->GetCategoryNames()) == 3);
    CHECK(ds->GetRasterBand(1)->GetColorTable() != nullptr);
    ds.reset();
    size_t parts = 0;
    for (const auto& entry : fs::directory_iterator(dir)) parts += entry.path().string().find(".part") != std::string::npos;
    CHECK(parts == 0);

    spec.creation_options = {"RESAMPLING=CUBIC"};
    spec.overwrite = true;
    CHECK_THROWS_WITH_AS(OutputRaster{spec},
                         "-co RESAMPLING=CUBIC: overviews of a class raster must use NEAREST or MODE; CUBIC would "
                         "invent classes that are not in the data",
                         segearth::UsageError);
}
