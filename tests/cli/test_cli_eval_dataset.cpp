// `segearth eval-dataset` through the real binary on a tiny synthetic dataset (crops of the real tile
// with labels made from its pixel values) and the tiny random model: a complete report whose summed
// matrix an independent count over the kept predictions confirms, resuming from the cache, and the
// errors. The scores are random-model scores; what is checked is the protocol's plumbing.
#include <doctest/doctest.h>

#include "koeln_files.hpp"
#include "run_segearth.hpp"
#include "support/test_paths.hpp"

#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

using segearth::test::fixture;
using segearth::test::run_segearth;
using segearth::test::scratch_dir;
using segearth::test::translate_koeln;
namespace fs = std::filesystem;

namespace {

using Matrix = std::vector<std::vector<int64_t>>;

std::string read_file(const fs::path& path) {
    std::stringstream text;
    text << std::ifstream(path).rdbuf();
    return text.str();
}

// Three images (two GeoTIFF crops and a PNG without georeferencing) and labels 0..top made from the
// first band, with a stripe of 255 (ignored) in the first label.
struct Dataset {
    fs::path images, labels;
};

Dataset make_dataset(const fs::path& dir, const char* top) {
    Dataset d{dir / "images", dir / "labels"};
    fs::create_directories(d.images);
    fs::create_directories(d.labels);
    const std::vector<std::pair<std::string, std::vector<std::string>>> crops{
        {"a", {"-srcwin", "0", "0", "240", "160"}}, {"b", {"-srcwin", "400", "300", "200", "200"}},
        {"c", {"-srcwin", "700", "600", "180", "120"}}};
    for (const auto& [stem, window] : crops) {
        auto image_args = window;
        const bool png = stem == "c";
        if (png) image_args.insert(image_args.end(), {"-of", "PNG"});
        translate_koeln(d.images / (stem + (png ? ".png" : ".tif")), image_args);
        auto label_args = window;
        label_args.insert(label_args.end(), {"-b", "1", "-scale", "0", "255", "0", top, "-ot", "Byte"});
        if (png) label_args.insert(label_args.end(), {"-of", "PNG"});
        translate_koeln(d.labels / (stem + (png ? ".png" : ".tif")), label_args);
    }
    {
        GDALDataset* ds = GDALDataset::Open((d.labels / "a.tif").c_str(), GDAL_OF_RASTER | GDAL_OF_UPDATE);
        REQUIRE(ds);
        std::vector<uint8_t> stripe(240 * 10, 255);
        REQUIRE(ds->GetRasterBand(1)->RasterIO(GF_Write, 0, 0, 240, 10, stripe.data(), 240, 10, GDT_Byte, 0, 0) ==
                CE_None);
        GDALClose(ds);
    }
    return d;
}

std::vector<std::string> eval_args(const Dataset& d, const fs::path& cache, std::vector<std::string> extra) {
    std::vector<std::string> args{"eval-dataset",  "--images", d.images.string(), "--labels", d.labels.string(),
                                  "--clip",        fixture("tiny_clip.safetensors").string(),
                                  "--upsampler",   fixture("upsampler.safetensors").string(),
                                  "--text-cache",  "-",        "--cache",         cache.string(), "-q"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
}

std::vector<int> read_band(const fs::path& path) {
    auto ds = segearth::test::open_raster(path);
    const int w = ds->GetRasterXSize(), h = ds->GetRasterYSize();
    std::vector<int> values(static_cast<size_t>(w) * static_cast<size_t>(h));
    REQUIRE(ds->GetRasterBand(1)->RasterIO(GF_Read, 0, 0, w, h, values.data(), w, h, GDT_Int32, 0, 0) == CE_None);
    return values;
}

// The confusion matrix of the dataset counted here from the kept predictions and the labels.
Matrix count_directly(const Dataset& d, const fs::path& cache, size_t k, bool reduce_zero_label) {
    Matrix m(k, std::vector<int64_t>(k, 0));
    for (const auto& [stem, ext] : {std::pair{"a", ".tif"}, {"b", ".tif"}, {"c", ".png"}}) {
        const auto pred = read_band(cache / (std::string(stem) + ".classes.tif"));
        const auto gt = read_band(d.labels / (std::string(stem) + ext));
        REQUIRE(pred.size() == gt.size());
        for (size_t i = 0; i < gt.size(); ++i) {
            int label = gt[i];
            if (reduce_zero_label) label = label == 0 || label == 255 ? 255 : label - 1;
            if (label == 255 || pred[i] == 255) continue;
            ++m[static_cast<size_t>(label)][static_cast<size_t>(pred[i])];
        }
    }
    return m;
}

// The "confusion" matrix of the JSON report.
Matrix json_confusion(const std::string& json) {
    const auto at = json.find("\"confusion\": [");
    REQUIRE(at != std::string::npos);
    Matrix m;
    int depth = 0;
    for (size_t i = json.find('[', at); i < json.size(); ++i) {
        const char c = json[i];
        if (c == '[' && ++depth == 2) m.emplace_back();
        if (c == ']' && --depth == 0) break;
        if (std::isdigit(static_cast<unsigned char>(c))) {
            size_t used = 0;
            m.back().push_back(std::stoll(json.substr(i), &used));
            i += used - 1;
        }
    }
    return m;
}

}  // namespace

TEST_CASE("eval-dataset: a complete report over the dataset, its matrix counted independently, and resuming") {
    const auto dir = scratch_dir("cli_eval_dataset");
    const auto d = make_dataset(dir, "8");
    const auto cache = dir / "cache";
    const auto json = dir / "scores.json", csv = dir / "images.csv";
    auto r = run_segearth(eval_args(d, cache, {"--preset", "openearthmap", "--json", json.string(), "--csv", csv.string()}));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(r.out.rfind("3 images (0 from the cache), preset openearthmap, long side 448\n", 0) == 0);
    CHECK(r.out.find("mIoU: ") != std::string::npos);
    CHECK(r.out.find("paper (Table 1, long side 448): 40.30 %   difference ") != std::string::npos);
    const auto report = read_file(json);
    CHECK(report.find("\"images\": 3,") != std::string::npos);
    CHECK(report.find("\"paper_score\": 0.403,") != std::string::npos);
    const auto confusion = json_confusion(report);
    CHECK(confusion == count_directly(d, cache, 9, false));
    int64_t scored = 0;
    for (const auto& row : confusion)
        for (const auto n : row) scored += n;
    CHECK(scored == 240 * 150 + 200 * 200 + 180 * 120);  // every pixel but the ignored stripe
    // The predictions lie on the labels' grids: each image at long side 448 was resized back.
    CHECK(segearth::test::open_raster(cache / "b.classes.tif")->GetRasterXSize() == 200);

    // One row per image.
    const auto rows = read_file(csv);
    CHECK(rows.rfind("stem,image,label,scored_pixels,ignored_pixels,pixel_accuracy,miou,iou:background,", 0) == 0);
    CHECK(rows.find("\na," + (d.images / "a.tif").string() + "," + (d.labels / "a.tif").string() + ",36000,2400,") !=
          std::string::npos);
    CHECK(rows.find(",no\n") != std::string::npos);

    // A rerun takes every image from the cache and reports the same numbers.
    auto again = run_segearth(eval_args(d, cache, {"--preset", "openearthmap"}));
    REQUIRE_MESSAGE(again.exit_code == 0, again.err);
    CHECK(again.out.rfind("3 images (3 from the cache)", 0) == 0);
    CHECK(again.out.substr(again.out.find('\n')) == r.out.substr(r.out.find('\n')));

    // A lost entry and a changed label are computed again; the rest still come from the cache.
    fs::remove(cache / "a.scores.txt");
    fs::last_write_time(d.labels / "b.tif", fs::last_write_time(d.labels / "b.tif") + std::chrono::seconds(5));
    again = run_segearth(eval_args(d, cache, {"--preset", "openearthmap"}));
    REQUIRE_MESSAGE(again.exit_code == 0, again.err);
    CHECK(again.out.rfind("3 images (1 from the cache)", 0) == 0);
    CHECK(again.out.find("1 cached result(s) of other settings or files were redone") != std::string::npos);
    // Other settings (another threshold) redo everything.
    again = run_segearth(eval_args(d, cache, {"--preset", "openearthmap", "--prob-threshold", "0.5"}));
    REQUIRE_MESSAGE(again.exit_code == 0, again.err);
    CHECK(again.out.rfind("3 images (0 from the cache)", 0) == 0);
    for (const auto& entry : fs::recursive_directory_iterator(dir))
        CHECK(entry.path().filename().string().find(".part-") == std::string::npos);
}

TEST_CASE("eval-dataset: LoveDA's reduce-zero-label from its preset, and the 896 rows of Table 2") {
    const auto dir = scratch_dir("cli_eval_dataset_conventions");
    const auto d = make_dataset(dir, "7");
    const auto cache = dir / "cache";
    const auto json = dir / "scores.json";
    auto r = run_segearth(eval_args(d, cache, {"--preset", "loveda", "--json", json.string()}));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(json_confusion(read_file(json)) == count_directly(d, cache, 7, true));
    CHECK(r.out.find("paper (Table 1, long side 448): 36.90 %") != std::string::npos);

    // Two classes: the headline is the foreground IoU, beside Table 2's number for the long side.
    const auto two = make_dataset(dir / "buildings", "1");
    r = run_segearth(eval_args(two, dir / "cache896", {"--preset", "inria", "--long-side", "896"}));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(r.out.find("long side 896\n") != std::string::npos);
    CHECK(r.out.find("Foreground IoU: ") != std::string::npos);
    CHECK(r.out.find("paper (Table 2, long side 896): 48.90 %") != std::string::npos);
    // Without a preset (own classes): no paper number, and without --cache nothing is left behind.
    r = run_segearth({"eval-dataset", "--images", two.images.string(), "--labels", two.labels.string(), "--classes",
                      "ground;building", "--clip", fixture("tiny_clip.safetensors").string(), "--text-cache", "-",
                      "-q"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(r.out.find("--classes") != std::string::npos);
    CHECK(r.out.find("paper") == std::string::npos);
}

TEST_CASE("eval-dataset: unpaired files are reported, bad folders and labels are clear errors") {
    const auto dir = scratch_dir("cli_eval_dataset_errors");
    const auto d = make_dataset(dir, "8");
    const auto cache = dir / "cache";
    translate_koeln(d.images / "lonely.tif", {"-srcwin", "0", "0", "64", "64"});
    auto r = run_segearth(eval_args(d, cache, {"--preset", "openearthmap"}));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(r.out.find("1 image(s) without a label were skipped (first: lonely.tif)") != std::string::npos);

    const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
        {eval_args({dir / "nowhere", d.labels}, cache, {"--preset", "openearthmap"}),
         "--images " + (dir / "nowhere").string() + ": not a folder (it does not exist)"},
        {eval_args(d, d.images, {"--preset", "openearthmap"}),
         "--cache " + d.images.string() + " is an input folder (" + d.images.string() + "): choose another folder"},
        {eval_args(d, cache, {}), "no classes given: use --classes "},
        {eval_args(d, cache, {"--preset", "nosuch"}), "--preset nosuch: no such preset (known: "},
        {{"eval-dataset", "--labels", d.labels.string(), "--preset", "openearthmap"}, "--images"},
    };
    for (const auto& [args, message] : cases) {
        CAPTURE(message);
        r = run_segearth(args);
        CHECK(r.exit_code == 2);
        CHECK_MESSAGE(r.err.find(message) != std::string::npos, r.err);
    }
    // A label holding a value the preset has no class for names the label and the preset.
    r = run_segearth(eval_args(d, cache, {"--preset", "wbs-si"}));
    CHECK(r.exit_code == 2);
    CHECK_MESSAGE(r.err.find(" (is it a label of preset wbs-si?)") != std::string::npos, r.err);

    // A damaged cache entry is named, with what to do.
    std::ofstream(cache / "b.scores.txt") << "segearth eval-dataset scores 1\nsettings x\n";
    r = run_segearth(eval_args(d, cache, {"--preset", "openearthmap"}));
    CHECK(r.exit_code == 1);
    CHECK(r.err == "segearth: " + (cache / "b.scores.txt").string() +
                       ": not a segearth eval-dataset cache file (a damaged cache entry: delete it and rerun)\n");
    fs::remove(cache / "b.scores.txt");

    fs::create_directories(dir / "empty");
    r = run_segearth(eval_args({dir / "empty", d.labels}, cache, {"--preset", "openearthmap"}));
    CHECK(r.exit_code == 2);
    CHECK(r.err == "segearth: no image in " + (dir / "empty").string() + " has a label of the same file stem in " +
                       d.labels.string() + " (the folder holds no raster files)\n");
    fs::copy_file(d.labels / "a.tif", d.labels / "a.png");
    r = run_segearth(eval_args(d, cache, {"--preset", "openearthmap"}));
    CHECK(r.exit_code == 2);
    CHECK_MESSAGE(r.err.find("have one stem: keep one of them there") != std::string::npos, r.err);
}
