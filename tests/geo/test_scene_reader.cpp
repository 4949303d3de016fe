// Reading scenes for segmentation: band choice, scaling to [0, 1], nodata, working grids.
#include <doctest/doctest.h>

#include <segearth/error.hpp>
#include <segearth/geo/gdal_setup.hpp>
#include <segearth/geo/scene_reader.hpp>

#include <cpl_conv.h>
#include <gdal_priv.h>

#include "geo/raster_factory.hpp"
#include "support/test_paths.hpp"

#include <cmath>

using namespace segearth::geo;
using segearth::test::BandSpec;
using segearth::test::make_raster;
using segearth::test::scratch_dir;

namespace {

std::vector<float> read_all(SceneReader& r, std::vector<unsigned char>* valid = nullptr) {
    const auto& g = r.working_grid();
    std::vector<float> rgb(static_cast<size_t>(3 * g.width * g.height));
    std::vector<unsigned char> v(static_cast<size_t>(g.width * g.height));
    r.read_working(0, 0, g.width, g.height, rgb.data(), v.data());
    if (valid) *valid = v;
    return rgb;
}

BandSpec constant(double value, GDALColorInterp colour = GCI_Undefined) {
    return {colour, std::nullopt, [value](int, int) { return value; }};
}

}  // namespace

TEST_CASE("bands labelled red, green and blue are used in that order - otherwise 1, 2, 3") {
    const auto dir = scratch_dir("scene_bands");
    const auto bgrn = make_raster((dir / "bgrn.tif").string(), 8, 6, GDT_Byte,
                                  {constant(10, GCI_BlueBand), constant(20, GCI_GreenBand), constant(30, GCI_RedBand),
                                   constant(40)});
    SceneReader labelled(bgrn, {});
    CHECK(labelled.bands() == std::vector<int>{3, 2, 1});
    const auto rgb = read_all(labelled);
    CHECK(rgb[0] == doctest::Approx(30 / 255.0));
    CHECK(rgb[48] == doctest::Approx(20 / 255.0));
    CHECK(rgb[96] == doctest::Approx(10 / 255.0));

    SceneReader chosen(bgrn, {{4, 4, 2}, {}, {}});
    CHECK(chosen.bands() == std::vector<int>{4, 4, 2});
    CHECK(read_all(chosen)[0] == doctest::Approx(40 / 255.0));

    const auto plain = make_raster((dir / "plain.tif").string(), 8, 6, GDT_Byte,
                                   {constant(1), constant(2), constant(3), constant(4)});
    CHECK(SceneReader(plain, {}).bands() == std::vector<int>{1, 2, 3});
}

TEST_CASE("band errors name the file, the band and the fix") {
    const auto dir = scratch_dir("scene_band_errors");
    const auto grey = make_raster((dir / "grey.tif").string(), 8, 6, GDT_Byte, {constant(1)});
    CHECK_THROWS_WITH_AS(SceneReader(grey, {}),
                         (grey + " has 1 band; the model needs three (red, green, blue): choose them with -b "
                                 "(e.g. -b 1 -b 1 -b 1 for a grey image)").c_str(),
                         segearth::UsageError);
    CHECK(SceneReader(grey, {{1, 1, 1}, {}, {}}).bands() == std::vector<int>{1, 1, 1});
    CHECK_THROWS_WITH_AS(SceneReader(grey, {{1, 1, 2}, {}, {}}), ("-b 2: " + grey + " has bands 1..1").c_str(),
                         segearth::UsageError);
    CHECK_THROWS_WITH_AS(SceneReader(grey, {{1, 1}, {}, {}}),
                         "-b was given 2 times: give it three times, for red, green and blue (e.g. -b 3 -b 2 -b 1)",
                         segearth::UsageError);
    CHECK_THROWS_AS(SceneReader((dir / "missing.tif").string(), {}), segearth::FileError);
}

TEST_CASE("16-bit bands: a 2-98 % stretch by default, --scale-range when given") {
    const auto dir = scratch_dir("scene_uint16");
    // Values 0..9999 in a uniform ramp: the 2nd and 98th percentiles are ~200 and ~9800.
    const auto ramp = [](int x, int y) { return static_cast<double>(y * 100 + x); };
    const auto path = make_raster((dir / "u16.tif").string(), 100, 100, GDT_UInt16,
                                  {{GCI_Undefined, {}, ramp}, {GCI_Undefined, {}, ramp}, {GCI_Undefined, {}, ramp}});
    SceneReader stretched(path, {});
    const auto rgb = read_all(stretched);
    CHECK(stretched.scaling_description().find("2-98% stretch") != std::string::npos);
    CHECK(rgb[0] == 0.0f);                                 // below the 2 % point
    CHECK(rgb[9999] == 1.0f);                              // above the 98 % point
    CHECK(rgb[5000] == doctest::Approx(0.5).epsilon(0.02));  // the middle stays in the middle

    SceneReader ranged(path, {{}, {{0, 10000}}, {}});
    const auto r = read_all(ranged);
    CHECK(r[5000] == doctest::Approx(0.5));
    CHECK(r[1234] == doctest::Approx(0.1234));
    CHECK(ranged.scaling_description() == "band 1: 0..10000 (--scale-range); band 2: 0..10000 (--scale-range); "
                                          "band 3: 0..10000 (--scale-range)");
    CHECK_THROWS_AS(SceneReader(path, {{}, {{5, 5}}, {}}), segearth::UsageError);
    CHECK_THROWS_AS(SceneReader(path, {{}, {{0, 1}, {0, 1}}, {}}), segearth::UsageError);
}

TEST_CASE("nodata values make pixels invalid") {
    const auto dir = scratch_dir("scene_nodata");
    const auto value = [](int x, int) { return x < 5 ? 0.0 : 100.0; };
    const auto path = make_raster((dir / "nd.tif").string(), 12, 4, GDT_Byte,
                                  {{GCI_Undefined, 0.0, value}, {GCI_Undefined, 0.0, value}, {GCI_Undefined, 0.0, value}});
    SceneReader reader(path, {});
    CHECK(reader.has_mask());
    std::vector<unsigned char> valid;
    read_all(reader, &valid);
    for (int x = 0; x < 12; ++x) CHECK(valid[static_cast<size_t>(x)] == (x < 5 ? 0 : 1));
    std::vector<unsigned char> native(12 * 4);
    reader.read_valid(false, 0, 0, 12, 4, native.data());
    CHECK(native == valid);
}

TEST_CASE("working grids: --scale, --long-side, --gsd in projected and geographic CRSs") {
    const auto dir = scratch_dir("scene_grids");
    const auto path = make_raster((dir / "utm.tif").string(), 300, 200, GDT_Byte, {constant(1), constant(2), constant(3)});
    SceneReader half(path, {{}, {}, {GridMode::scale, 0.5}});
    CHECK(half.working_grid().width == 150);
    CHECK(half.working_grid().height == 100);
    CHECK((*half.working_grid().geotransform)[1] == doctest::Approx(1.0));
    CHECK((*half.working_grid().geotransform)[5] == doctest::Approx(-1.0));
    CHECK((*half.working_grid().geotransform)[0] == 346000);
    CHECK(read_all(half)[0] == doctest::Approx(1 / 255.0));

    SceneReader longside(path, {{}, {}, {GridMode::long_side, 100}});
    CHECK(longside.working_grid().width == 100);
    CHECK(longside.working_grid().height == 67);

    SceneReader metres(path, {{}, {}, {GridMode::gsd, 2.0}});  // 0.5 m pixels -> 2 m: a quarter
    CHECK(metres.working_grid().width == 75);
    CHECK(metres.working_grid().height == 50);

    // 1e-5 degree pixels at 50 N: about 0.717 m east-west and 1.112 m north-south.
    const auto geographic = make_raster((dir / "wgs84.tif").string(), 1000, 1000, GDT_Byte,
                                        {constant(1), constant(2), constant(3)}, 4326, {7.0, 1e-5, 0, 50.005, 0, -1e-5});
    const auto size = native_pixel_size_metres(geographic);
    CHECK(size[0] == doctest::Approx(0.7169).epsilon(0.002));
    CHECK(size[1] == doctest::Approx(1.1123).epsilon(0.002));
    SceneReader geo(geographic, {{}, {}, {GridMode::gsd, 2.0}});
    CHECK(geo.working_grid().width == 358);
    CHECK(geo.working_grid().height == 556);

    const auto bare = make_raster((dir / "bare.tif").string(), 10, 10, GDT_Byte, {constant(1), constant(2), constant(3)}, 0);
    CHECK_THROWS_WITH_AS(SceneReader(bare, {{}, {}, {GridMode::gsd, 1.0}}),
                         (bare + " is not georeferenced, so --gsd cannot be applied: use --scale or --long-side").c_str(),
                         segearth::UsageError);
}

TEST_CASE("an alpha band masks pixels on the native and on a resampled working grid") {
    const auto dir = scratch_dir("scene_alpha");
    const auto alpha = [](int x, int) { return x < 20 ? 0.0 : 255.0; };
    const auto path = make_raster((dir / "rgba.tif").string(), 40, 10, GDT_Byte,
                                  {constant(10, GCI_RedBand), constant(20, GCI_GreenBand), constant(30, GCI_BlueBand),
                                   {GCI_AlphaBand, std::nullopt, alpha}});
    for (double scale : {1.0, 0.5}) {
        CAPTURE(scale);
        SceneReader reader(path, {{}, {}, {GridMode::scale, scale}});
        CHECK(reader.has_mask());
        std::vector<unsigned char> valid;
        read_all(reader, &valid);
        const int w = reader.working_grid().width;
        CHECK(valid[0] == 0);
        CHECK(valid[static_cast<size_t>(w / 2 - 2)] == 0);
        CHECK(valid[static_cast<size_t>(w / 2 + 1)] == 1);
        CHECK(valid[static_cast<size_t>(w - 1)] == 1);
    }
}

TEST_CASE("--gsd measures ground metres, not map units: Web Mercator at 51 N") {
    const auto dir = scratch_dir("scene_mercator");
    // 1 m Web Mercator pixels around Koeln (y = 6.6e6 m, latitude ~50.9): ~0.63 m on the ground.
    const auto path = make_raster((dir / "merc.tif").string(), 100, 100, GDT_Byte,
                                  {constant(1), constant(2), constant(3)}, 3857, {770000, 1, 0, 6600050, 0, -1});
    const auto size = native_pixel_size_metres(path);
    CHECK(size[0] == doctest::Approx(0.631).epsilon(0.01));
    CHECK(size[1] == doctest::Approx(0.631).epsilon(0.01));
}

TEST_CASE("decode_on_all_cpus: GDAL_NUM_THREADS=ALL_CPUS unless the user chose it, and the same pixels") {
    const auto dir = scratch_dir("scene_reader_threads");
    const auto strips = make_raster((dir / "strips.tif").string(), 300, 200, GDT_Byte,
                                    {{GCI_RedBand, std::nullopt, [](int x, int y) { return (x * 7 + y * 3) % 256; }},
                                     {GCI_GreenBand, std::nullopt, [](int x, int y) { return (x ^ y) % 256; }},
                                     {GCI_BlueBand, std::nullopt, [](int x, int) { return x % 256; }}});
    // Many compressed blocks per read: what GDAL decodes in parallel.
    const auto tiled = (dir / "tiled.tif").string();
    {
        std::unique_ptr<GDALDataset> src(GDALDataset::Open(strips.c_str(), GDAL_OF_RASTER));
        const char* options[] = {"TILED=YES", "BLOCKXSIZE=32", "BLOCKYSIZE=32", "COMPRESS=DEFLATE", nullptr};
        std::unique_ptr<GDALDataset> copy(GetGDALDriverManager()->GetDriverByName("GTiff")->CreateCopy(
            tiled.c_str(), src.get(), FALSE, const_cast<char**>(options), nullptr, nullptr));
        REQUIRE(copy);
    }
    REQUIRE(CPLGetConfigOption("GDAL_NUM_THREADS", nullptr) == nullptr);
    SceneReader one_thread(tiled, {});
    const auto expected = read_all(one_thread);
    decode_on_all_cpus();
    CHECK(std::string(CPLGetConfigOption("GDAL_NUM_THREADS", "")) == "ALL_CPUS");
    SceneReader all_cpus(tiled, {});
    CHECK(read_all(all_cpus) == expected);
    CPLSetConfigOption("GDAL_NUM_THREADS", "1");  // the user's --config or environment wins
    decode_on_all_cpus();
    CHECK(std::string(CPLGetConfigOption("GDAL_NUM_THREADS", "")) == "1");
    CPLSetConfigOption("GDAL_NUM_THREADS", nullptr);
}
