// `segearth vectorize` and `segment --vector` through the real binary.
#include <doctest/doctest.h>

#include "koeln_files.hpp"
#include "run_segearth.hpp"
#include "support/test_paths.hpp"

#include <ogrsf_frmts.h>

#include <filesystem>
#include <fstream>

using segearth::test::fixture;
using segearth::test::run_segearth;
using segearth::test::scratch_dir;
namespace fs = std::filesystem;

namespace {

std::string bytes_of(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

fs::path crop(const fs::path& out) {
    return segearth::test::translate_koeln(out, {"-srcwin", "100", "100", "240", "160"});
}

}  // namespace

TEST_CASE("segment --vector writes the polygons of every class but the background, then vectorize cleans them") {
    const auto dir = scratch_dir("cli_vectorize");
    const auto input = crop(dir / "crop.tif");
    auto r = run_segearth({"segment", input.string(), (dir / "classes.tif").string(), "--classes", "background;building;tree",
                           "--clip", fixture("tiny_clip.safetensors").string(), "--upsampler",
                           fixture("upsampler.safetensors").string(), "--text-cache", "-", "--vector",
                           (dir / "classes.gpkg").string(), "--probabilities", (dir / "p.tif").string()});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(r.err.find("layer building") != std::string::npos);
    {
        std::unique_ptr<GDALDataset> gpkg(GDALDataset::Open((dir / "classes.gpkg").c_str(), GDAL_OF_VECTOR));
        REQUIRE(gpkg);
        CHECK(gpkg->GetLayerCount() == 2);
        OGRLayer* building = gpkg->GetLayerByName("building");
        REQUIRE(building);
        CHECK(building->GetLayerDefn()->GetFieldIndex("mean_prob") >= 0);
    }

    r = run_segearth({"vectorize", (dir / "classes.tif").string(), (dir / "buildings.gpkg").string(), "--class",
                      "building", "--min-area", "2", "--fill-holes", "1", "--simplify", "0.5", "--regularize", "-nln",
                      "b_", "-q"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    std::unique_ptr<GDALDataset> buildings(GDALDataset::Open((dir / "buildings.gpkg").c_str(), GDAL_OF_VECTOR));
    REQUIRE(buildings);
    OGRLayer* layer = buildings->GetLayerByName("b_building");
    REQUIRE(layer);
    for (auto& f : *layer) {
        CHECK(f->GetGeometryRef()->IsValid());
        CHECK(f->GetFieldAsDouble("area_m2") >= 2.0);
    }
}

TEST_CASE("vectorize: errors name the file or class and leave nothing behind") {
    const auto dir = scratch_dir("cli_vectorize_errors");
    const auto input = crop(dir / "crop.tif");  // RGB: not a class raster
    const auto out = (dir / "out.gpkg").string();
    auto r = run_segearth({"vectorize", input.string(), out});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("is not a class raster") != std::string::npos);
    r = run_segearth({"vectorize", (dir / "missing.tif").string(), out});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find((dir / "missing.tif").string() + ": cannot open the class raster") != std::string::npos);
    r = run_segearth({"vectorize", input.string()});
    CHECK(r.exit_code == 2);
    CHECK(r.err == "segearth: vectorize needs CLASSES.tif and OUT.gpkg (see segearth vectorize --help)\n");
    r = run_segearth({"vectorize", input.string(), out, "--min-area", "-3"});
    CHECK(r.exit_code == 2);
    CHECK(r.err == "segearth: --min-area must not be negative\n");
    for (const auto& entry : fs::directory_iterator(dir)) CHECK(entry.path().filename() == "crop.tif");
    for (const char* command : {"vectorize", "segment"}) {
        const auto help = run_segearth({command, "--help"});
        CHECK(help.exit_code == 0);
        CHECK(help.out.find("Usage: segearth " + std::string(command)) == 0);
        // positionals are not options (segment's --inputs is one: batch mode)
        CHECK(help.out.find("--input ") == std::string::npos);
        CHECK(help.out.find("--output ") == std::string::npos);
    }
}

TEST_CASE("vectorize: the extension or -of picks GeoPackage, GeoJSON, FlatGeobuf or Shapefile, and other extensions are refused") {
    const auto dir = scratch_dir("cli_vectorize_formats");
    // Two classes (0 background, 1) and three classes (0, 1, 2) from the tile's first band.
    const auto two = segearth::test::translate_koeln(
        dir / "two.tif", {"-srcwin", "0", "0", "120", "80", "-b", "1", "-scale", "0", "255", "0", "1", "-ot", "Byte"});
    const auto three = segearth::test::translate_koeln(
        dir / "three.tif", {"-srcwin", "0", "0", "120", "80", "-b", "1", "-scale", "0", "255", "0", "2", "-ot", "Byte"});
    const auto driver_of = [](const fs::path& p) {
        std::unique_ptr<GDALDataset> ds(GDALDataset::Open(p.c_str(), GDAL_OF_VECTOR));
        REQUIRE_MESSAGE(ds, "cannot open " << p);
        return std::string(ds->GetDriverName());
    };
    auto r = run_segearth({"vectorize", two.string(), (dir / "a.geojson").string(), "-q"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(driver_of(dir / "a.geojson") == "GeoJSON");
    r = run_segearth({"vectorize", two.string(), (dir / "b.fgb").string(), "-q"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(driver_of(dir / "b.fgb") == "FlatGeobuf");
    r = run_segearth({"vectorize", two.string(), (dir / "c.data").string(), "-of", "GeoJSON", "-q"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(driver_of(dir / "c.data") == "GeoJSON");

    const auto before = std::distance(fs::directory_iterator(dir), fs::directory_iterator());
    r = run_segearth({"vectorize", two.string(), (dir / "d.kml").string()});
    CHECK(r.exit_code == 2);
    CHECK(r.err == "segearth: " + (dir / "d.kml").string() +
                       ": no vector format is written for the extension '.kml': use .gpkg (GeoPackage, a layer per "
                       "class), .geojson, .fgb or .shp (one class), or give -of (other formats: write a .gpkg and "
                       "convert it with ogr2ogr)\n");
    r = run_segearth({"vectorize", two.string(), (dir / "d.dat").string(), "-of", "ESRI Shapefile"});
    CHECK(r.exit_code == 2);
    CHECK(r.err == "segearth: " + (dir / "d.dat").string() +
                       ": a Shapefile's name ends in .shp (its .dbf, .shx and .prj are written beside it)\n");
    r = run_segearth({"vectorize", three.string(), (dir / "e.geojson").string(), "-q"});
    CHECK(r.exit_code == 2);
    CHECK(r.err == "segearth: " + (dir / "e.geojson").string() +
                       ": GeoJSON holds one layer, and 2 classes would be written: choose one with --class NAME, or "
                       "write a .gpkg (a layer per class)\n");
    CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == before);
    r = run_segearth({"vectorize", three.string(), (dir / "f.geojson").string(), "--class", "class_2", "-q"});
    CHECK_MESSAGE(r.exit_code == 0, r.err);
}

TEST_CASE("vectorize to a Shapefile: its files published together, UTF-8 names, short field names, stale ones replaced") {
    const auto dir = scratch_dir("cli_vectorize_shapefile");
    const auto two = segearth::test::translate_koeln(
        dir / "two.tif", {"-srcwin", "0", "0", "120", "80", "-b", "1", "-scale", "0", "255", "0", "1", "-ot", "Byte"});
    const auto shp = dir / "out.shp";
    const auto companion = [&](const char* extension) { return fs::path(shp).replace_extension(extension); };
    auto r = run_segearth({"vectorize", two.string(), shp.string(), "-q"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    for (const char* extension : {".shp", ".shx", ".dbf", ".prj", ".cpg"}) CHECK(fs::exists(companion(extension)));
    for (const auto& entry : fs::directory_iterator(dir))
        CHECK(entry.path().filename().string().find(".part-") == std::string::npos);
    long long polygons = 0;
    {
        std::unique_ptr<GDALDataset> ds(GDALDataset::Open(shp.c_str(), GDAL_OF_VECTOR));
        REQUIRE(ds);
        CHECK(std::string(ds->GetDriverName()) == "ESRI Shapefile");
        OGRLayer* layer = ds->GetLayer(0);
        REQUIRE(layer);
        CHECK(std::string(layer->GetName()) == "out");  // named after the file, not the temporary one
        CHECK(std::string(layer->GetMetadataItem("ENCODING_FROM_CPG", "SHAPEFILE")) == "UTF-8");
        for (const char* field : {"class_id", "class_name", "area_m2", "perim_m"})
            CHECK_MESSAGE(layer->GetLayerDefn()->GetFieldIndex(field) >= 0, field);
        polygons = layer->GetFeatureCount();
        CHECK(polygons > 0);
        for (auto& f : *layer) CHECK(f->GetFieldAsDouble("area_m2") > 0);
    }

    // Without --overwrite, neither the .shp nor a companion left alone is replaced.
    const auto dbf_before = bytes_of(companion(".dbf"));
    r = run_segearth({"vectorize", two.string(), shp.string()});
    CHECK(r.exit_code == 2);
    CHECK(r.err == "segearth: output " + shp.string() + " already exists: use --overwrite to replace it\n");
    fs::remove(shp);
    r = run_segearth({"vectorize", two.string(), shp.string()});
    CHECK(r.exit_code == 2);
    CHECK(r.err == "segearth: " + companion(".shx").string() + " already exists (it would be part of " +
                       shp.string() + "): use --overwrite to replace it\n");
    CHECK(bytes_of(companion(".dbf")) == dbf_before);

    // With it, a spatial index of the old file does not survive to describe the new one.
    std::ofstream(companion(".qix")) << "stale";
    r = run_segearth({"vectorize", two.string(), shp.string(), "--overwrite", "-q"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK_FALSE(fs::exists(companion(".qix")));
    std::unique_ptr<GDALDataset> ds(GDALDataset::Open(shp.c_str(), GDAL_OF_VECTOR));
    REQUIRE(ds);
    CHECK(ds->GetLayer(0)->GetFeatureCount() == polygons);
}

TEST_CASE("segment --vector: a one-layer format for several classes is refused before any model loads") {
    const auto dir = scratch_dir("cli_vector_layers");
    const auto input = crop(dir / "crop.tif");
    for (const char* name : {"v.shp", "v.geojson"}) {
        const auto r = run_segearth({"segment", input.string(), (dir / "classes.tif").string(), "--classes",
                                     "background;building;tree", "--clip", (dir / "no_such_clip.safetensors").string(),
                                     "--text-cache", "-", "--vector", (dir / name).string()});
        CHECK(r.exit_code == 2);
        CHECK_MESSAGE(r.err.find((dir / name).string() + ": ") == std::string("segearth: ").size(), r.err);
        CHECK_MESSAGE(r.err.find("holds one layer, and 2 classes would be written") != std::string::npos, r.err);
    }
    for (const auto& entry : fs::directory_iterator(dir)) CHECK(entry.path().filename() == "crop.tif");
}
