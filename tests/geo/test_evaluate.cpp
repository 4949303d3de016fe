// eval: hand-made rasters with known answers, random rasters against a direct count, strips equal
// to the whole raster, ground truth on another grid, name matching, and the errors.
#include <doctest/doctest.h>

#include <segearth/error.hpp>
#include <segearth/geo/evaluate.hpp>

#include "raster_factory.hpp"
#include "support/test_paths.hpp"

#include <cmath>
#include <random>

using segearth::geo::evaluate;
using segearth::geo::EvaluateOptions;
using segearth::test::make_raster;
namespace fs = std::filesystem;

namespace {

std::string class_raster(const fs::path& path, int w, int h, std::function<double(int, int)> value,
                         std::optional<double> nodata = {}, int epsg = 25832,
                         std::array<double, 6> gt = {346000, 0.5, 0, 5648000, 0, -0.5}) {
    return make_raster(path.string(), w, h, GDT_Byte, {{GCI_Undefined, nodata, std::move(value)}}, epsg, gt);
}

void name_classes(const std::string& path, const std::vector<const char*>& names) {
    std::unique_ptr<GDALDataset> ds(GDALDataset::Open(path.c_str(), GDAL_OF_RASTER | GDAL_OF_UPDATE));
    std::vector<char*> list;
    for (const char* n : names) list.push_back(const_cast<char*>(n));
    list.push_back(nullptr);
    ds->GetRasterBand(1)->SetCategoryNames(list.data());
}

EvaluateOptions options(const std::string& pred, const std::string& gt) {
    EvaluateOptions o;
    o.prediction = pred;
    o.ground_truth = gt;
    return o;
}

}  // namespace

TEST_CASE("eval: known answers, the ignore value, absent classes and the foreground IoU") {
    const auto dir = segearth::test::scratch_dir("evaluate_known");
    // 10 x 10: GT left half class 1, right half 0; PRED class 1 on the left 6 columns.
    const auto gt = class_raster(dir / "gt.tif", 10, 10, [](int x, int y) { return y == 0 ? 255 : x < 5 ? 1 : 0; });
    const auto pred = class_raster(dir / "pred.tif", 10, 10, [](int x, int) { return x < 6 ? 1 : 0; });
    const auto r = evaluate(options(pred, gt));
    // Row 0 ignored: 90 pixels. Class 1: TP 45, FP 9, FN 0. Class 0: TP 36, FP 0, FN 9.
    CHECK(r.scored_pixels == 90);
    CHECK(r.ignored_pixels == 10);
    REQUIRE(r.classes.size() == 2);
    CHECK(r.classes[1].iou == doctest::Approx(45.0 / 54.0));
    CHECK(r.classes[1].precision == doctest::Approx(45.0 / 54.0));
    CHECK(r.classes[1].recall == doctest::Approx(1.0));
    CHECK(r.classes[0].iou == doctest::Approx(36.0 / 45.0));
    CHECK(r.classes[0].recall == doctest::Approx(36.0 / 45.0));
    CHECK(r.classes[1].f1 == doctest::Approx(2 * (45.0 / 54.0) / (45.0 / 54.0 + 1.0)));
    CHECK(r.miou == doctest::Approx((45.0 / 54.0 + 36.0 / 45.0) / 2));
    CHECK(r.pixel_accuracy == doctest::Approx(81.0 / 90.0));
    REQUIRE(r.foreground_iou);
    CHECK(*r.foreground_iou == doctest::Approx(45.0 / 54.0));
    CHECK(r.confusion == std::vector<std::vector<int64_t>>{{36, 9}, {0, 45}});

    // A class in neither raster does not count in the mIoU; all background scores 1.
    const auto three = class_raster(dir / "three.tif", 10, 10, [](int, int) { return 0; });
    auto o = options(three, three);
    o.classes = "background;building;road";
    const auto all_bg = evaluate(o);
    REQUIRE(all_bg.classes.size() == 3);
    CHECK(all_bg.classes[0].present);
    CHECK_FALSE(all_bg.classes[1].present);
    CHECK(all_bg.miou == doctest::Approx(1.0));
    CHECK_FALSE(all_bg.foreground_iou);
    CHECK(all_bg.classes[1].name == "building");
}

TEST_CASE("eval: --reduce-zero-label ignores 0 and counts the other labels from 1, GT nodata is skipped") {
    const auto dir = segearth::test::scratch_dir("evaluate_rzl");
    // GT (LoveDA style): 0 no data, 1 background, 2 building; 7 is GT's nodata.
    const auto gt = class_raster(dir / "gt.tif", 8, 4, [](int x, int y) { return y == 3 ? 7 : x < 2 ? 0 : x < 5 ? 1 : 2; }, 7.0);
    const auto pred = class_raster(dir / "pred.tif", 8, 4, [](int x, int) { return x < 4 ? 0 : 1; });
    auto o = options(pred, gt);
    o.reduce_zero_label = true;
    const auto r = evaluate(o);
    // Scored: rows 0-2, x 2..7 = 18 pixels. GT class 0 at x 2-4, class 1 at x 5-7; PRED 0 at x < 4.
    CHECK(r.scored_pixels == 18);
    CHECK(r.ignored_pixels == 14);
    CHECK(r.confusion == std::vector<std::vector<int64_t>>{{6, 3}, {0, 9}});
}

TEST_CASE("eval: random rasters against a direct count, and strips of any height equal the whole raster") {
    const auto dir = segearth::test::scratch_dir("evaluate_random");
    std::mt19937 rng(7);
    const int w = 123, h = 77, k = 5;
    std::vector<int> gv(static_cast<size_t>(w * h)), pv(gv.size());
    for (size_t i = 0; i < gv.size(); ++i) {
        gv[i] = static_cast<int>(rng() % 7) == 6 ? 255 : static_cast<int>(rng() % k);
        pv[i] = (rng() % 3 == 0) ? static_cast<int>(rng() % k) : (gv[i] == 255 ? 0 : gv[i]);
    }
    const auto at = [&](const std::vector<int>& v) { return [&v](int x, int y) { return v[static_cast<size_t>(y * w + x)]; }; };
    const auto gt = class_raster(dir / "gt.tif", w, h, at(gv));
    const auto pred = class_raster(dir / "pred.tif", w, h, at(pv));
    std::vector<std::vector<int64_t>> expected(k, std::vector<int64_t>(k, 0));
    for (size_t i = 0; i < gv.size(); ++i)
        if (gv[i] != 255) ++expected[static_cast<size_t>(gv[i])][static_cast<size_t>(pv[i])];
    double miou = 0;
    for (int c = 0; c < k; ++c) {
        int64_t row = 0, col = 0;
        for (int j = 0; j < k; ++j) row += expected[c][j], col += expected[j][c];
        miou += static_cast<double>(expected[c][c]) / static_cast<double>(row + col - expected[c][c]) / k;
    }
    for (const int strip : {1, 7, 76, 0, 500}) {
        CAPTURE(strip);
        auto o = options(pred, gt);
        o.strip_rows = strip;
        const auto r = evaluate(o);
        CHECK(r.confusion == expected);
        CHECK(r.miou == doctest::Approx(miou).epsilon(1e-12));
    }
}

TEST_CASE("eval: ground truth on another grid is read on the prediction's, nearest neighbour") {
    const auto dir = segearth::test::scratch_dir("evaluate_grid");
    const auto value = [](int x, int y) { return (x / 4 + y / 4) % 3; };
    const auto pred = class_raster(dir / "pred.tif", 40, 40, value);
    // The same classes at twice the resolution over a larger area (offset by 8 fine pixels).
    const auto fine = class_raster(dir / "fine.tif", 100, 100,
                                   [&](int x, int y) { return x < 8 || y < 8 || x >= 88 || y >= 88 ? 2 : value((x - 8) / 2, (y - 8) / 2); },
                                   {}, 25832, {346000 - 2, 0.25, 0, 5648000 + 2, 0, -0.25});
    const auto r = evaluate(options(pred, fine));
    CHECK(r.ground_truth_resampled);
    CHECK(r.scored_pixels == 1600);
    CHECK(r.pixel_accuracy == doctest::Approx(1.0));
    // Far away in the same CRS: nothing in common.
    const auto elsewhere = class_raster(dir / "elsewhere.tif", 40, 40, value, {}, 25832,
                                        {500000, 0.5, 0, 5000000, 0, -0.5});
    CHECK_THROWS_WITH_AS(evaluate(options(pred, elsewhere)),
                         (elsewhere + " does not overlap " + pred + ": nothing to score").c_str(), segearth::UsageError);
    const auto plain = class_raster(dir / "plain.tif", 20, 20, value, {}, 0);
    CHECK_THROWS_WITH_AS(evaluate(options(pred, plain)),
                         (pred + " is 40 x 40 and " + plain + " 20 x 20, and without a CRS and geotransform on both "
                                 "they cannot be put on one grid").c_str(),
                         segearth::UsageError);
}

TEST_CASE("eval: classes are matched by name when both rasters name them") {
    const auto dir = segearth::test::scratch_dir("evaluate_names");
    // PRED numbers background 0, water 1, building 2; GT numbers building 0, background 1, water 2.
    const auto pred = class_raster(dir / "pred.tif", 3, 1, [](int x, int) { return x; });
    name_classes(pred, {"background", "water", "building"});
    const auto gt = class_raster(dir / "gt.tif", 3, 1, [](int x, int) { return (x + 1) % 3; });
    name_classes(gt, {"building", "background", "water", "forest"});
    const auto r = evaluate(options(pred, gt));
    CHECK(r.pixel_accuracy == doctest::Approx(1.0));
    CHECK(r.classes[2].name == "building");
    // Without names on GT, values are compared as they are.
    const auto unnamed = class_raster(dir / "unnamed.tif", 3, 1, [](int x, int) { return (x + 1) % 3; });
    CHECK(evaluate(options(pred, unnamed)).pixel_accuracy == doctest::Approx(0.0));
}

TEST_CASE("eval: bad inputs are refused naming the file") {
    const auto dir = segearth::test::scratch_dir("evaluate_errors");
    const auto pred = class_raster(dir / "pred.tif", 4, 4, [](int, int) { return 3; });
    const auto rgb = make_raster((dir / "float.tif").string(), 4, 4, GDT_Float32, {{}});
    CHECK_THROWS_AS(evaluate(options(pred, rgb)), segearth::UsageError);
    auto o = options(pred, pred);
    o.classes = "a;b";
    CHECK_THROWS_WITH_AS(evaluate(o), "--classes names 2 classes, but the rasters hold the value 3", segearth::UsageError);
    o.classes.clear();
    o.json = pred;
    CHECK_THROWS_AS(evaluate(o), segearth::UsageError);  // the output would replace an input
    try {
        evaluate(options(pred, (dir / "none.tif").string()));
        FAIL("a missing ground truth was accepted");
    } catch (const segearth::FileError& e) {
        CHECK(std::string(e.what()).rfind((dir / "none.tif").string() + ": cannot open the ground truth: ", 0) == 0);
    }
}

namespace {

// The pixels of an RGB(A) PNG within `tolerance` of (r, g, b).
int64_t pixels_near(const fs::path& png, int r, int g, int b, int tolerance = 6) {
    GDALAllRegister();
    std::unique_ptr<GDALDataset> ds(GDALDataset::Open(png.c_str(), GDAL_OF_RASTER));
    REQUIRE(ds);
    REQUIRE(std::string(ds->GetDriver()->GetDescription()) == "PNG");
    const int w = ds->GetRasterXSize(), h = ds->GetRasterYSize();
    std::vector<uint8_t> rgb(static_cast<size_t>(w) * h * 3);
    int bands[] = {1, 2, 3};
    REQUIRE(ds->RasterIO(GF_Read, 0, 0, w, h, rgb.data(), w, h, GDT_Byte, 3, bands, 3, 3 * w, 1) == CE_None);
    int64_t n = 0;
    for (size_t i = 0; i < rgb.size(); i += 3)
        n += std::abs(rgb[i] - r) <= tolerance && std::abs(rgb[i + 1] - g) <= tolerance &&
             std::abs(rgb[i + 2] - b) <= tolerance;
    return n;
}

}  // namespace

TEST_CASE("eval --confusion-png: a labelled picture, rows shaded by their share, written atomically") {
    const auto dir = segearth::test::scratch_dir("eval_confusion_png");
    // Perfect on classes 0 and 1; class 2 always predicted as 0.
    const auto perfect = segearth::geo::score_confusion({"water", "building", "road"},
                                                        {{50, 0, 0}, {0, 30, 0}, {0, 0, 0}}, 0);
    const auto confused = segearth::geo::score_confusion({"water", "building", "road"},
                                                         {{50, 0, 0}, {0, 30, 0}, {20, 0, 0}}, 0);
    segearth::geo::write_confusion_png(perfect, (dir / "perfect.png").string(), false);
    segearth::geo::write_confusion_png(confused, (dir / "confused.png").string(), false);
    // A row entirely in one cell is the darkest shade (8, 48, 107): two such cells, then three; a class
    // absent from the ground truth is a grey row (230, 230, 230) of three cells.
    const auto dark_perfect = pixels_near(dir / "perfect.png", 8, 48, 107);
    const auto dark_confused = pixels_near(dir / "confused.png", 8, 48, 107);
    CHECK(dark_perfect > 0);
    CHECK(dark_confused == doctest::Approx(1.5 * dark_perfect).epsilon(0.05));
    // (anti-aliased text edges pass through that grey too, a few dozen pixels)
    CHECK(pixels_near(dir / "perfect.png", 230, 230, 230, 1) > 3 * 40 * 40);
    CHECK(pixels_near(dir / "confused.png", 230, 230, 230, 1) < 200);
    // More classes, a larger picture; the output is refused when it exists, replaced with overwrite.
    std::vector<std::string> names;
    std::vector<std::vector<int64_t>> many(12, std::vector<int64_t>(12, 1));
    for (int i = 0; i < 12; ++i) names.push_back("class " + std::to_string(i));
    segearth::geo::write_confusion_png(segearth::geo::score_confusion(names, many, 0), (dir / "many.png").string(), false);
    std::unique_ptr<GDALDataset> small(GDALDataset::Open((dir / "perfect.png").c_str(), GDAL_OF_RASTER));
    std::unique_ptr<GDALDataset> large(GDALDataset::Open((dir / "many.png").c_str(), GDAL_OF_RASTER));
    CHECK(large->GetRasterYSize() > small->GetRasterYSize());
    CHECK_THROWS_AS(segearth::geo::write_confusion_png(perfect, (dir / "many.png").string(), false), segearth::UsageError);
    segearth::geo::write_confusion_png(perfect, (dir / "many.png").string(), true);
    for (const auto& entry : fs::directory_iterator(dir))
        CHECK(entry.path().filename().string().find(".part-") == std::string::npos);
}
