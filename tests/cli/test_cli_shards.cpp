// Shards of one scene (segment --shard I/N, segearth merge) through the real binary: for 1 to 7 shards
// and more shards than window rows the merge equals the single run bit for bit (classes,
// probabilities, confidence; polygons equal in count and area), merge refuses missing, incomplete
// and mismatched shards naming them, and --shard auto reads each engine's variables.
#include <doctest/doctest.h>

#include "koeln_files.hpp"
#include "run_segearth.hpp"
#include "support/test_paths.hpp"

#include <ogrsf_frmts.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

using segearth::test::fixture;
using segearth::test::run_segearth;
using segearth::test::scratch_dir;
namespace fs = std::filesystem;

namespace {

// Small windows on a crop resampled to another working grid: 9 window rows, and the output rows
// interpolated from two working rows, so that the bands' borders are tested where they are hardest.
std::vector<std::string> segment_args(const fs::path& input, const fs::path& dir, const std::string& stem,
                                      std::vector<std::string> extra) {
    std::vector<std::string> args{"segment", input.string(), (dir / (stem + ".tif")).string(),
                                  "--classes", "building,roof;road;tree;water",
                                  "--clip", fixture("tiny_clip.safetensors").string(),
                                  "--upsampler", fixture("upsampler.safetensors").string(),
                                  "--window", "64", "--stride", "32", "--scale", "0.9",
                                  "--probabilities", (dir / (stem + "_p.tif")).string(),
                                  "--confidence", (dir / (stem + "_c.tif")).string(),
                                  "--vector", (dir / (stem + ".gpkg")).string(),
                                  "--text-cache", "-", "-q"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
}

// Every band's pixels as bytes.
std::vector<unsigned char> pixels(const fs::path& path) {
    auto ds = segearth::test::open_raster(path);
    const int w = ds->GetRasterXSize(), h = ds->GetRasterYSize(), n = ds->GetRasterCount();
    const GDALDataType type = ds->GetRasterBand(1)->GetRasterDataType();
    const int size = GDALGetDataTypeSizeBytes(type);
    std::vector<unsigned char> data(static_cast<size_t>(w) * h * n * size);
    REQUIRE(ds->RasterIO(GF_Read, 0, 0, w, h, data.data(), w, h, type, n, nullptr, 0, 0, 0, nullptr) == CE_None);
    return data;
}

// Polygons per layer and their total area.
std::map<std::string, std::pair<long long, double>> polygons(const fs::path& path) {
    std::unique_ptr<GDALDataset> ds(GDALDataset::Open(path.c_str(), GDAL_OF_VECTOR));
    REQUIRE(ds);
    std::map<std::string, std::pair<long long, double>> layers;
    for (auto* layer : ds->GetLayers()) {
        auto& [count, area] = layers[layer->GetName()];
        for (const auto& feature : *layer) {
            ++count;
            area += OGR_G_Area(OGRGeometry::ToHandle(feature->GetGeometryRef()));
        }
    }
    return layers;
}

}  // namespace

TEST_CASE("segment --shard I/N then merge equals the single run bit for bit, for 1 to 7 shards and 12") {
    const auto dir = scratch_dir("cli_shards");
    const auto input = segearth::test::translate_koeln(dir / "crop.tif", {"-srcwin", "100", "200", "250", "330"});
    auto r = run_segearth(segment_args(input, dir, "single", {}));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto single = pixels(dir / "single.tif"), single_p = pixels(dir / "single_p.tif"),
               single_c = pixels(dir / "single_c.tif");
    const auto single_polygons = polygons(dir / "single.gpkg");
    for (const int n : {1, 2, 3, 4, 5, 6, 7, 12}) {
        CAPTURE(n);
        const auto stem = "merged" + std::to_string(n);
        for (int i = n - 1; i >= 0; --i) {  // in any order
            r = run_segearth(segment_args(input, dir, stem, {"--shard", std::to_string(i) + "/" + std::to_string(n)}));
            REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        }
        CHECK_FALSE(fs::exists(dir / (stem + ".tif")));
        CHECK(fs::exists(dir / (stem + ".shard-0-of-" + std::to_string(n) + ".manifest")));
        r = run_segearth({"merge", (dir / (stem + ".tif")).string(), "-q"});
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        CHECK(pixels(dir / (stem + ".tif")) == single);
        CHECK(pixels(dir / (stem + "_p.tif")) == single_p);
        CHECK(pixels(dir / (stem + "_c.tif")) == single_c);
        const auto merged = polygons(dir / (stem + ".gpkg"));
        REQUIRE(merged.size() == single_polygons.size());
        for (const auto& [layer, counted] : single_polygons) {
            CAPTURE(layer);
            CHECK(merged.at(layer).first == counted.first);
            CHECK(merged.at(layer).second == doctest::Approx(counted.second).epsilon(1e-9));
        }
        auto classes = segearth::test::open_raster(dir / (stem + ".tif"));
        // (GDAL 3.6's GTiff band loads the .aux.xml lazily, and GetCategoryNames alone does not trigger it.)
        CHECK(classes->GetRasterBand(1)->GetNoDataValue() == 255);
        char** names = classes->GetRasterBand(1)->GetCategoryNames();
        REQUIRE(CSLCount(names) == 4);
        CHECK(std::string(names[0]) == "building");
        CHECK(classes->GetRasterBand(1)->GetColorTable() != nullptr);
        CHECK(std::string(classes->GetMetadataItem("SEGEARTH_SHARDS")) == std::to_string(n));
        // The shards are gone; nothing temporary is left.
        for (const auto& entry : fs::directory_iterator(dir)) {
            const auto name = entry.path().filename().string();
            CHECK_MESSAGE(name.find(".shard-") == std::string::npos, name);
            CHECK_MESSAGE(name.find(".part-") == std::string::npos, name);
        }
    }
}

TEST_CASE("merge refuses a missing, incomplete or mismatched shard, naming it and what to rerun") {
    const auto dir = scratch_dir("cli_shards_refused");
    const auto input = segearth::test::translate_koeln(dir / "crop.tif", {"-srcwin", "0", "0", "200", "200"});
    const auto out = (dir / "s.tif").string();
    const auto shard = [&](int i, std::vector<std::string> extra = {}) {
        extra.insert(extra.begin(), {"--shard", std::to_string(i) + "/3"});
        const auto r = run_segearth(segment_args(input, dir, "s", extra));
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    };
    auto r = run_segearth({"merge", out});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("no shards of " + out + " found") != std::string::npos);
    shard(0), shard(2);
    r = run_segearth({"merge", out});
    CHECK(r.exit_code == 2);
    CHECK(r.err == "segearth: shard 1 of 3 is missing or incomplete (no " + (dir / "s.shard-1-of-3.manifest").string() +
                       "): rerun segment with --shard 1/3\n");
    shard(1, {"--prob-threshold", "0.5"});
    r = run_segearth({"merge", out});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("segearth: shard 1 of 3 was made with other settings or another input than shard 0") == 0);
    shard(1);
    {  // a manifest cut short (a crash while it was written cannot do this: it is written atomically)
        const auto manifest = dir / "s.shard-2-of-3.manifest";
        std::stringstream text;
        text << std::ifstream(manifest).rdbuf();
        auto cut = text.str();
        cut = cut.substr(0, cut.rfind("complete"));
        std::ofstream(manifest, std::ios::trunc) << cut;
    }
    r = run_segearth({"merge", out});
    CHECK(r.exit_code == 1);
    CHECK(r.err == "segearth: " + (dir / "s.shard-2-of-3.manifest").string() +
                       ": incomplete (rerun that shard: its files are replaced)\n");
    shard(2);
    r = run_segearth({"merge", out, "-q", "--keep-shards"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(fs::exists(dir / "s.shard-1-of-3.tif"));
    r = run_segearth({"merge", out, "-q"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("already exists: use --overwrite to replace it") != std::string::npos);
    // The shards of an older run of another count are refused rather than mixed.
    r = run_segearth(segment_args(input, dir, "s", {"--shard", "0/1", "--overwrite"}));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    r = run_segearth({"merge", out, "--overwrite"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("has shards of 1 and of 3 parts beside it") != std::string::npos);
}

TEST_CASE("segment --shard auto reads SLURM, Kubernetes and AWS Batch array variables, and says which") {
    const auto dir = scratch_dir("cli_shards_auto");
    const auto input = segearth::test::translate_koeln(dir / "crop.tif", {"-srcwin", "0", "0", "160", "160"});
    struct Engine {
        std::map<std::string, std::string> env;
        std::vector<std::string> extra;
        std::string name;
        int index;
    };
    const std::vector<Engine> engines{
        {{{"SLURM_ARRAY_TASK_ID", "6"}, {"SLURM_ARRAY_TASK_MIN", "5"}, {"SLURM_ARRAY_TASK_COUNT", "3"}}, {}, "SLURM array", 1},
        {{{"JOB_COMPLETION_INDEX", "2"}}, {"--shards", "3"}, "Kubernetes Indexed Job", 2},
        {{{"AWS_BATCH_JOB_ARRAY_INDEX", "0"}, {"AWS_BATCH_JOB_ARRAY_SIZE", "3"}}, {}, "AWS Batch array job", 0}};
    for (const auto& e : engines) {
        CAPTURE(e.name);
        auto args = segment_args(input, dir, "auto", {"--shard", "auto"});
        args.erase(std::find(args.begin(), args.end(), "-q"));
        args.insert(args.end(), e.extra.begin(), e.extra.end());
        const auto r = run_segearth(args, e.env);
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        CHECK_MESSAGE(r.err.find("shard " + std::to_string(e.index) + " of 3 (" + e.name + ")") != std::string::npos, r.err);
        CHECK(fs::exists(dir / ("auto.shard-" + std::to_string(e.index) + "-of-3.manifest")));
    }
    auto r = run_segearth(segment_args(input, dir, "auto", {"--shard", "auto"}), {{"JOB_COMPLETION_INDEX", "1"}});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("needs --shards N") != std::string::npos);
    r = run_segearth(segment_args(input, dir, "auto", {"--shard", "auto"}));
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--shard auto: no array job variables found") != std::string::npos);
    r = run_segearth(segment_args(input, dir, "auto", {"--shard", "3/3"}));
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("shard 3 of 3 (shards count from 0: give I/N with 0 <= I < N)") != std::string::npos);
    r = run_segearth(segment_args(input, dir, "auto", {"--shard", "1-3"}));
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--shard 1-3: give I/N (e.g. 0/4, counted from 0) or auto") != std::string::npos);
}
