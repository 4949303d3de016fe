// `segearth segment` end to end on crops of a real aerial GeoTIFF (../shared/data/oem_koeln_50.tif)
// with the tiny random CLIP and upsampler fixtures: georeferencing, outputs QGIS reads, bad inputs,
// and interruption. The numbers are random-model numbers; what is checked is the plumbing.
#include <doctest/doctest.h>

#include "koeln_files.hpp"
#include "run_segearth.hpp"
#include "support/test_paths.hpp"

#include <ogr_spatialref.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <set>
#include <thread>

using segearth::test::fixture;
using segearth::test::run_segearth;
using segearth::test::scratch_dir;
namespace fs = std::filesystem;

namespace {

using Dataset = std::unique_ptr<GDALDataset>;

Dataset open(const fs::path& path) { return segearth::test::open_raster(path); }

fs::path translate(const fs::path& out, std::vector<std::string> args) {
    return segearth::test::translate_koeln(out, std::move(args));
}

// "segment INPUT OUTPUT" with the tiny models, quiet, without the text cache, then `extra`.
std::vector<std::string> segment_args(const fs::path& input, const fs::path& output,
                                      const std::vector<std::string>& extra) {
    std::vector<std::string> args{"segment", input.string(), output.string(),
                                  "--clip", fixture("tiny_clip.safetensors").string(),
                                  "--upsampler", fixture("upsampler.safetensors").string(),
            "--text-cache", "-", "-q"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

std::vector<float> read(GDALDataset& ds, int band) {
    std::vector<float> v(static_cast<size_t>(ds.GetRasterXSize()) * static_cast<size_t>(ds.GetRasterYSize()));
    REQUIRE(ds.GetRasterBand(band)->RasterIO(GF_Read, 0, 0, ds.GetRasterXSize(), ds.GetRasterYSize(), v.data(),
                                             ds.GetRasterXSize(), ds.GetRasterYSize(), GDT_Float32, 0, 0) == CE_None);
    return v;
}

// Nothing but the inputs: no output, no temporary.
void check_no_outputs(const fs::path& dir, const std::vector<std::string>& inputs) {
    for (const auto& entry : fs::directory_iterator(dir)) {
        const auto name = entry.path().filename().string();
        CHECK_MESSAGE(std::find(inputs.begin(), inputs.end(), name) != inputs.end(), "left behind: " << name);
    }
}

// Whether the kernel lists the CPU feature (/proc/cpuinfo's flags, e.g. "avx512_bf16").
bool cpu_flag(const std::string& flag) {
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("flags", 0) == 0) return (line + " ").find(" " + flag + " ") != std::string::npos;
    return false;
}

// Waits (up to a minute) until a temporary output exists in `dir`: the run is writing.
bool wait_for_part_file(const fs::path& dir) {
    for (int i = 0; i < 600; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        for (const auto& entry : fs::directory_iterator(dir))
            if (entry.path().filename().string().find(".part") != std::string::npos) return true;
    }
    return false;
}

}  // namespace

TEST_CASE("segment: class raster on the input's grid with names, colours, settings - probabilities and confidence") {
    const auto dir = scratch_dir("cli_segment");
    const auto input = translate(dir / "crop.tif", {"-srcwin", "400", "300", "200", "150"});
    const auto r = run_segearth(segment_args(input, dir / "classes.tif",
                                             {"--preset", "landcover", "--probabilities", (dir / "p.tif").string(),
                                              "--confidence", (dir / "c.tif").string()}));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(r.err.empty());  // -q
    auto in = open(input);
    auto out = open(dir / "classes.tif");
    std::array<double, 6> gt_in{}, gt_out{};
    in->GetGeoTransform(gt_in.data());
    out->GetGeoTransform(gt_out.data());
    CHECK(gt_out == gt_in);
    CHECK(out->GetRasterXSize() == 200);
    CHECK(out->GetRasterYSize() == 150);
    CHECK(out->GetSpatialRef()->IsSame(in->GetSpatialRef()));
    GDALRasterBand* band = out->GetRasterBand(1);
    CHECK(band->GetRasterDataType() == GDT_Byte);
    CHECK(band->GetNoDataValue() == 255);
    char** names = band->GetCategoryNames();
    REQUIRE(CSLCount(names) == 9);
    CHECK(std::string(names[8]) == "building");
    CHECK(band->GetColorTable()->GetColorEntry(8)->c1 == 222);
    CHECK(std::string(out->GetMetadataItem("SEGEARTH_CLASSES")) ==
          "background;bareland,barren;grass;pavement;road;tree,forest;water,river;cropland;building,roof,house");
    CHECK(std::string(out->GetMetadataItem("SEGEARTH_UPSAMPLER")) == "simfeatup");
    CHECK(std::string(out->GetMetadataItem("SEGEARTH_PROB_THRESHOLD")) == "0.1");

    // Classes, probabilities and confidence agree: label = argmax (or background below 0.1).
    auto p = open(dir / "p.tif");
    auto c = open(dir / "c.tif");
    REQUIRE(p->GetRasterCount() == 9);
    CHECK(std::string(p->GetRasterBand(9)->GetDescription()) == "building");
    const auto labels = read(*out, 1);
    const auto confidence = read(*c, 1);
    std::vector<std::vector<float>> probabilities;
    for (int b = 1; b <= 9; ++b) probabilities.push_back(read(*p, b));
    size_t mismatches = 0;
    std::set<int> seen;
    for (size_t i = 0; i < labels.size(); ++i) {
        int best = 0;
        for (int k = 1; k < 9; ++k)
            if (probabilities[static_cast<size_t>(k)][i] > probabilities[static_cast<size_t>(best)][i]) best = k;
        const float top = probabilities[static_cast<size_t>(best)][i];
        mismatches += std::abs(confidence[i] - top) > 1e-6f;
        mismatches += static_cast<int>(labels[i]) != (top < 0.1f ? 0 : best);
        seen.insert(static_cast<int>(labels[i]));
    }
    CHECK(mismatches == 0);
    CHECK(seen.size() > 1);  // a random model still separates something
    // QGIS's legend: classes.qml beside the class raster, one palette entry per class, named.
    std::stringstream style;
    style << std::ifstream(dir / "classes.qml").rdbuf();
    CHECK(style.str().find("<rasterrenderer type=\"paletted\" band=\"1\"") != std::string::npos);
    CHECK(style.str().find("<paletteEntry value=\"8\" color=\"#de1f07\" alpha=\"255\" label=\"building\"/>") !=
          std::string::npos);
    size_t entries = 0;
    for (auto at = style.str().find("<paletteEntry"); at != std::string::npos; at = style.str().find("<paletteEntry", at + 1))
        ++entries;
    CHECK(entries == 9);
    check_no_outputs(dir, {"crop.tif", "classes.tif", "classes.tif.aux.xml", "classes.qml", "p.tif", "p.tif.aux.xml",
                           "c.tif", "c.tif.aux.xml"});
}

TEST_CASE("segment --device cuda where libtorch sees no GPU: a clear error naming what is missing, no output") {
    // On a machine with an NVIDIA device this path is not taken (tools/gpu_check.sh covers CUDA there).
    if (fs::exists("/dev/nvidia0") || fs::exists("/dev/nvidiactl")) return;
    const auto dir = scratch_dir("cli_segment_no_cuda");
    const auto input = translate(dir / "crop.tif", {"-srcwin", "400", "300", "64", "64"});
    for (const std::string device : {"cuda", "cuda:1"}) {
        CAPTURE(device);
        const auto r = run_segearth(segment_args(input, dir / "out.tif", {"--classes", "a;b", "--device", device}));
        CHECK(r.exit_code == 2);
        CHECK_MESSAGE(r.err == "segearth: --device " + device +
                                   ": this build of libtorch sees no CUDA device; use --device cpu\n",
                      r.err);
        CHECK_FALSE(fs::exists(dir / "out.tif"));
    }
}

TEST_CASE("segment --precision bf16: recorded, close to fp32, or refused where the CPU has no native bf16") {
    const auto dir = scratch_dir("cli_segment_precision");
    const auto input = translate(dir / "crop.tif", {"-srcwin", "400", "300", "120", "100"});
    const auto run = [&](const std::string& precision) {
        return run_segearth(segment_args(input, dir / (precision + ".tif"),
                                         {"--classes", "background;building,roof;road;tree", "--precision", precision,
                                          "--probabilities", (dir / (precision + "_p.tif")).string()}));
    };
    const auto fp32 = run("fp32");
    REQUIRE_MESSAGE(fp32.exit_code == 0, fp32.err);
    const auto bf16 = run("bf16");
    if (!cpu_flag("avx512_bf16") && !cpu_flag("amx_bf16")) {
        CHECK(bf16.exit_code == 2);
        CHECK_MESSAGE(bf16.err.find("segearth: --precision bf16: this CPU has no native bf16 (AVX512_BF16 or AMX") == 0,
                      bf16.err);
        CHECK(bf16.err.find("use --precision fp32") != std::string::npos);
        CHECK_FALSE(fs::exists(dir / "bf16.tif"));
        return;
    }
    REQUIRE_MESSAGE(bf16.exit_code == 0, bf16.err);
    CHECK(std::string(open(dir / "fp32.tif")->GetMetadataItem("SEGEARTH_PRECISION")) == "fp32");
    CHECK(std::string(open(dir / "bf16.tif")->GetMetadataItem("SEGEARTH_PRECISION")) == "bf16");
    auto reference = open(dir / "fp32_p.tif");
    auto other = open(dir / "bf16_p.tif");
    double largest = 0, different = 0;
    for (int b = 1; b <= 4; ++b) {
        const auto want = read(*reference, b), got = read(*other, b);
        for (size_t i = 0; i < want.size(); ++i) {
            REQUIRE(std::isfinite(got[i]));
            largest = std::max(largest, double(std::abs(got[i] - want[i])));
            different += got[i] != want[i];
        }
    }
    MESSAGE("bf16 against fp32: largest probability difference " << largest);
    CHECK(largest < 0.02);
    CHECK(different > 0);  // bf16 was used
}

TEST_CASE("segment's default precision is auto: on the CPU it is fp32, bit for bit, and recorded as fp32") {
    const auto dir = scratch_dir("cli_segment_precision_auto");
    const auto input = translate(dir / "crop.tif", {"-srcwin", "400", "300", "96", "80"});
    const auto run = [&](const std::string& name, std::vector<std::string> flags) {
        flags.insert(flags.end(), {"--classes", "background;building,roof;road", "--device", "cpu", "--probabilities",
                                   (dir / (name + "_p.tif")).string()});
        return run_segearth(segment_args(input, dir / (name + ".tif"), flags));
    };
    const auto by_default = run("default", {}), fp32 = run("fp32", {"--precision", "fp32"});
    REQUIRE_MESSAGE(by_default.exit_code == 0, by_default.err);
    REQUIRE_MESSAGE(fp32.exit_code == 0, fp32.err);
    CHECK(std::string(open(dir / "default.tif")->GetMetadataItem("SEGEARTH_PRECISION")) == "fp32");
    auto a = open(dir / "default_p.tif"), b = open(dir / "fp32_p.tif");
    for (int band = 1; band <= 3; ++band) CHECK(read(*a, band) == read(*b, band));
}

TEST_CASE("segment --preset: the dataset's lambda and background are used, and --cls-lambda or --bg-index win") {
    const auto dir = scratch_dir("cli_segment_preset");
    const auto input = translate(dir / "crop.tif", {"-srcwin", "400", "300", "96", "80"});
    struct Case {
        std::vector<std::string> flags;
        std::string lambda, bg, threshold;
    };
    for (const auto& c : std::vector<Case>{{{"--preset", "xbd"}, "0", "0", "0"},
                                           {{"--preset", "potsdam"}, "-0.3", "5", "0.1"},
                                           {{"--preset", "xbd", "--cls-lambda", "-0.1"}, "-0.1", "0", "0"},
                                           {{"--preset", "potsdam", "--bg-index", "2"}, "-0.3", "2", "0.1"}}) {
        CAPTURE(c.flags[1]);
        auto flags = c.flags;
        flags.push_back("--overwrite");
        const auto r = run_segearth(segment_args(input, dir / "classes.tif", flags));
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        auto out = open(dir / "classes.tif");
        CHECK(std::string(out->GetMetadataItem("SEGEARTH_CLS_LAMBDA")) == c.lambda);
        CHECK(std::string(out->GetMetadataItem("SEGEARTH_BG_INDEX")) == c.bg);
        CHECK(std::string(out->GetMetadataItem("SEGEARTH_PROB_THRESHOLD")) == c.threshold);
        CHECK(std::string(out->GetMetadataItem("SEGEARTH_CLASS_SOURCE")) == "preset " + c.flags[1]);
    }
}

TEST_CASE("segment finds the authors' upsampler in the cache folder, and uses it only for OpenAI's ViT-B/16") {
    const auto dir = scratch_dir("cli_segment_released_upsampler");
    const auto input = translate(dir / "crop.tif", {"-srcwin", "0", "0", "64", "64"});
    const auto cache = dir / "cache";
    fs::create_directories(cache / "segearth");
    const std::map<std::string, std::string> env{{"XDG_CACHE_HOME", cache.string()}};
    const std::vector<std::string> args{"segment", input.string(), (dir / "classes.tif").string(), "--classes", "a;b",
                                        "--clip", fixture("tiny_clip.safetensors").string(), "--text-cache", "-",
                                        "--overwrite"};
    auto r = run_segearth(args, env);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(r.err.find("no SimFeatUp weights found (--upsampler PATH, SEGEARTH_UPSAMPLER, or "
                     "xclip_jbu_one_million_aid.ckpt in " + (cache / "segearth").string()) != std::string::npos);
    CHECK(std::string(open(dir / "classes.tif")->GetMetadataItem("SEGEARTH_UPSAMPLER")) == "bilinear");

    // A checkpoint there serves OpenAI's ViT-B/16: the tiny test CLIP does not get it.
    const auto released = cache / "segearth" / "xclip_jbu_one_million_aid.ckpt";
    fs::copy_file(fixture("upsampler_lightning.ckpt"), released);
    r = run_segearth(args, env);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK_MESSAGE(r.err.find(released.string() + " serves OpenAI's ViT-B/16, not this ") != std::string::npos, r.err);
    CHECK(std::string(open(dir / "classes.tif")->GetMetadataItem("SEGEARTH_UPSAMPLER")) == "bilinear");
}

TEST_CASE("segment with the authors' FeatUp jbu_stack checkpoints: finite probabilities on the real tile") {
    const auto dir = scratch_dir("cli_segment_featup");
    const auto tile = segearth::test::shared_data_file("oem_koeln_50.tif");
    for (const std::string name : {"clip_jbu_stack_cocostuff.ckpt", "maskclip_jbu_stack_cocostuff.ckpt"}) {
        CAPTURE(name);
        const auto up = segearth::test::shared_data_file("featup/" + name);
        const auto r = run_segearth({"segment", tile.string(), (dir / "classes.tif").string(), "--classes",
                                     "building,roof;road;tree;water", "--clip", fixture("tiny_clip_512.safetensors").string(),
                                     "--upsampler", up.string(), "--long-side", "448", "--probabilities",
                                     (dir / "p.tif").string(), "--text-cache", "-", "--overwrite", "-q"});
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        auto classes = open(dir / "classes.tif");
        CHECK(std::string(classes->GetMetadataItem("SEGEARTH_UPSAMPLER_FILE")) == name);
        CHECK(std::string(classes->GetMetadataItem("SEGEARTH_UPSAMPLER_ARCHITECTURE")) == "jbu_stack");
        auto probabilities = open(dir / "p.tif");
        REQUIRE(probabilities->GetRasterCount() == 4);
        REQUIRE(probabilities->GetRasterXSize() == 1000);
        std::vector<float> values(1000 * 1000);
        for (int b = 1; b <= 4; ++b) {
            REQUIRE(probabilities->GetRasterBand(b)->RasterIO(GF_Read, 0, 0, 1000, 1000, values.data(), 1000, 1000,
                                                              GDT_Float32, 0, 0) == CE_None);
            CHECK(std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v) && v >= 0 && v <= 1; }));
            CHECK(*std::max_element(values.begin(), values.end()) > *std::min_element(values.begin(), values.end()));
        }
    }
}

TEST_CASE("segment --quicklook: the scene and its classes side by side in a PNG, published with the rest") {
    const auto dir = scratch_dir("cli_segment_quicklook");
    const auto input = translate(dir / "crop.tif", {"-srcwin", "0", "0", "300", "200"});
    auto r = run_segearth(segment_args(input, dir / "classes.tif", {"--classes", "building;water", "--quicklook", (dir / "look.png").string()}));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    auto look = open(dir / "look.png");
    CHECK(std::string(look->GetDriver()->GetDescription()) == "PNG");
    CHECK(look->GetRasterXSize() == 2 * 300 + 12 + 2 * 12);  // two halves at the scene's size, gap, margins
    r = run_segearth(segment_args(input, dir / "other.tif", {"--classes", "a;b", "--quicklook", (dir / "look.jpg").string()}));
    CHECK(r.exit_code == 2);
    CHECK(r.err == "segearth: --quicklook " + (dir / "look.jpg").string() + ": the quicklook is a PNG: name it FILE.png\n");
    r = run_segearth(segment_args(input, dir / "other.tif", {"--classes", "a;b", "--quicklook", (dir / "look.png").string()}));
    CHECK(r.exit_code == 2);
    CHECK_FALSE(fs::exists(dir / "other.tif"));
}

TEST_CASE("segment: working grid by --scale, output on it or on the input's grid - weights from the environment") {
    const auto dir = scratch_dir("cli_segment_grid");
    const auto input = translate(dir / "crop.tif", {"-srcwin", "0", "0", "300", "260"});
    const std::map<std::string, std::string> env{{"SEGEARTH_CLIP", fixture("tiny_clip.safetensors").string()},
                                                 {"SEGEARTH_UPSAMPLER", fixture("upsampler.safetensors").string()}};
    auto r = run_segearth({"segment", input.string(), (dir / "working.tif").string(), "--classes", "building;water;road",
                           "--scale", "0.5", "--output-grid", "working", "--text-cache", "-", "-q"},
                          env);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    auto working = open(dir / "working.tif");
    CHECK(working->GetRasterXSize() == 150);
    CHECK(working->GetRasterYSize() == 130);
    std::array<double, 6> gt{};
    working->GetGeoTransform(gt.data());
    CHECK(gt[1] == doctest::Approx(1.0));
    CHECK(std::string(working->GetMetadataItem("SEGEARTH_WORKING_GRID")) == "150 x 130");

    r = run_segearth({"segment", input.string(), (dir / "native.tif").string(), "--classes", "building;water;road",
                      "--scale", "0.5", "--text-cache", "-"},
                     env);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(r.err.find("0...10...20...30...40...50...60...70...80...90...100 - done.") != std::string::npos);
    auto native = open(dir / "native.tif");
    CHECK(native->GetRasterXSize() == 300);
    CHECK(native->GetRasterYSize() == 260);
}

TEST_CASE("segment: nodata pixels get 255, COG output, band selection") {
    const auto dir = scratch_dir("cli_segment_nodata");
    const auto input = translate(dir / "crop.tif", {"-srcwin", "500", "500", "180", "120", "-a_nodata", "0"});
    {
        // Blank the left 50 columns in all three bands: nodata.
        Dataset ds(GDALDataset::Open(input.c_str(), GDAL_OF_RASTER | GDAL_OF_UPDATE));
        std::vector<uint8_t> zeros(50 * 120, 0);
        for (int b = 1; b <= 3; ++b)
            REQUIRE(ds->GetRasterBand(b)->RasterIO(GF_Write, 0, 0, 50, 120, zeros.data(), 50, 120, GDT_Byte, 0, 0) ==
                    CE_None);
    }
    const auto r = run_segearth(segment_args(input, dir / "out.tif",
                                             {"--classes", "building;tree;road", "-of", "COG", "-b", "3", "-b", "2",
                                              "-b", "1"}));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    auto out = open(dir / "out.tif");
    CHECK(std::string(out->GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE")) == "COG");
    CHECK(std::string(out->GetMetadataItem("SEGEARTH_BANDS")) == "3,2,1");
    const auto labels = read(*out, 1);
    size_t wrong = 0;
    for (int y = 0; y < 120; ++y)
        for (int x = 0; x < 180; ++x) {
            const float v = labels[static_cast<size_t>(y * 180 + x)];
            wrong += x < 50 ? v != 255 : v > 2;
        }
    CHECK(wrong == 0);
}

TEST_CASE("segment: every bad input is a clear error and leaves no file behind") {
    const auto dir = scratch_dir("cli_segment_errors");
    const auto input = translate(dir / "crop.tif", {"-srcwin", "0", "0", "64", "64"});
    const auto grey = translate(dir / "grey.tif", {"-srcwin", "0", "0", "64", "64", "-b", "1"});
    {
        std::ofstream(dir / "blank.txt") << "building\n\nwater\n";
        // The start of a PNG: what a wrong file given as --classes-file looks like.
        std::ofstream(dir / "garbage.bin", std::ios::binary) << std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\xff\xfe", 18);
    }
    const auto out = (dir / "out.tif").string();
    struct Case {
        std::vector<std::string> args;
        int exit_code;
        std::string message;
    };
    const std::vector<Case> cases{
        {{"segment", (dir / "missing.tif").string(), out, "--classes", "a;b"}, 1,
         (dir / "missing.tif").string() + ": cannot open as a raster: "},
        {{"segment", grey.string(), out, "--classes", "a;b"}, 2,
         grey.string() + " has 1 band; the model needs three (red, green, blue): choose them with -b (e.g. -b 1 -b 1 "
                         "-b 1 for a grey image)"},
        {{"segment", input.string(), out, "--classes", "a;b", "-b", "1", "-b", "2", "-b", "7"}, 2,
         "-b 7: " + input.string() + " has bands 1..3"},
        {{"segment", input.string(), out, "--classes", ""}, 2,
         "--classes is empty: name at least one class, e.g. --classes \"building;water\""},
        {{"segment", input.string(), out}, 2,
         "no classes given: use --classes \"building,roof;water;road\", --classes-file FILE or --preset NAME"},
        {{"segment", input.string(), out, "--classes-file", (dir / "blank.txt").string()}, 1,
         (dir / "blank.txt").string() + ":2: blank line; every line is one class (synonyms separated by commas): "
                                        "remove the blank line or comment it with '#'"},
        {{"segment", input.string(), out, "--classes-file", (dir / "garbage.bin").string()}, 1,
         (dir / "garbage.bin").string() + ":1: the class file is not UTF-8 text (byte 0x89 at column 1): save it as "
                                          "UTF-8"},
        {{"segment", input.string(), out, "--classes", "a;\xff\xfe"}, 2,
         "the class list is not UTF-8 text: give the class names in UTF-8"},
        {{"segment", input.string(), out, "--classes", "a;b", "--window", "112", "--stride", "112"}, 2,
         "--stride 112 with --window 112: the stride must be at least 1 and smaller than the window"},
        {{"segment", input.string(), out, "--classes", "a;b", "--preset", "water"}, 2,
         "give only one of --classes, --classes-file and --preset"},
        {{"segment", input.string(), out, "--preset", "forest"}, 2, "--preset forest: no such preset (known: "},
        {{"segment", input.string(), out, "--classes", "a;b", "--clip", "/nonexistent/ViT-B-16.pt"}, 1,
         "/nonexistent/ViT-B-16.pt: the CLIP weights given by --clip does not exist or is not a file"},
        {{"segment", input.string(), out, "--classes", "a;b", "--clip", fixture("tiny_clip.safetensors").string(),
          "--upsampler", "/nonexistent/up.ckpt"},
         1, "/nonexistent/up.ckpt: the SimFeatUp upsampler weights given by --upsampler does not exist or is not a file"},
        {{"segment", input.string(), out, "--classes", "a;b", "--clip", fixture("tiny_clip.safetensors").string(),
          "--upsampler", fixture("upsampler_768.safetensors").string()},
         1, fixture("upsampler_768.safetensors").string() + ": this upsampler was trained for 768-wide features"},
        {{"segment", input.string(), out, "--classes", "a;b", "--device", "tpu"}, 2, "--device tpu: use auto, cpu, cuda or cuda:N"},
        {{"segment", input.string(), out, "--classes", "a;b", "--precision", "fp64"}, 2,
         "--precision fp64: use auto, fp32, bf16 or fp16"},
        {{"segment", input.string(), out, "--classes", "a;b", "--precision", "fp16", "--device", "cpu"}, 2,
         "--precision fp16: libtorch multiplies fp16 only on CUDA; on the CPU use --precision bf16 (where the CPU has "
         "native bf16) or fp32"},
        {{"segment", input.string(), out, "--classes", "a;b", "-of", "PNG"}, 2,
         "-of PNG: use GTiff or COG"},
        {{"segment", input.string(), input.string(), "--classes", "a;b", "--overwrite"}, 2,
         "OUTPUT " + input.string() + " is the run's input (INPUT " + input.string() + "): choose another output name"},
        {{"segment", input.string(), out, "--classes", "a;b", "--probabilities", (dir / "p.tif").string(),
          "--probabilities-type", "Int16"},
         2, "--probabilities-type Int16: use Float32 or Byte"},
        {{"segment", input.string(), out, "--classes", "a;b", "--output-grid", "input"}, 2,
         "--output-grid input: use native or working"},
        {{"segment", input.string(), out, "--classes", "a;b", "--scale", "-1"}, 2, "--scale must be positive, got -1"},
        {{"segment", input.string(), out, "--classes", "a;b", "--gsd", "0"}, 2, "--gsd must be positive (metres), got 0"},
        {{"segment", input.string(), out, "--classes", "a;b", "--long-side", "0"}, 2, "--long-side must be at least 1"},
        {{"segment", input.string(), out, "--classes", "a;b", "--scale", "0.5", "--gsd", "1"}, 2,
         "give only one of --gsd, --scale and --long-side"},
        {{"segment", input.string(), out, "--classes", "a;b", "--scale-range", "0", "--window", "224"}, 2,
         "--scale-range takes two numbers, MIN and MAX"},
        {{"segment", input.string(), out, "--classes", "a;b", "--batch", "0"}, 2,
         "--batch 0: give auto or a number of windows, at least 1"},
        {{"segment", input.string(), out, "--classes", "a;b", "--batch", "8x"}, 2,
         "--batch 8x: give auto or a number of windows, at least 1"},
        {{"segment", input.string(), out, "--classes", "a;b", "--ram", "10"}, 2, "--ram 10: give at least 64 (MB)"},
        {{"segment", input.string(), out, "--classes", "a;b", "--cls-lambda", "nan"}, 2,
         "--cls-lambda nan: give a finite number"},
        {{"segment", input.string(), out, "--classes", "a;b", "--logit-scale", "inf"}, 2,
         "--logit-scale inf: give a finite number"},
        {{"segment", input.string(), out, "--classes", "a;b", "--prob-threshold", "1.5"}, 2,
         "--prob-threshold must be in [0, 1]"},
        {{"segment", input.string(), out, "--classes", "a;b", "--threads=-1"}, 2, "--threads must not be negative"},
        {{"segment", input.string(), out, "--classes", "a;b", "--window", "abc"}, 2, "--window abc: not a whole number"},
        {{"segment", input.string(), out, "--classes", "a;b", "--clip", "a.pt", "--clip", "b.pt"}, 2,
         "--clip is given more than once: give it once"},
        // Checked before any model loads: the tiny CLIP is not given, so reaching the load would fail otherwise.
        {{"segment", input.string(), out, "--classes", "a;b", "--clip", "/nonexistent/clip.pt", "--vector",
          (dir / "no_such_folder" / "v.gpkg").string()},
         2, "output " + (dir / "no_such_folder" / "v.gpkg").string() + ": the folder " +
                (dir / "no_such_folder").string() + " does not exist"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.message);
        const auto r = run_segearth(concat(c.args, {"--text-cache", "-"}));
        CHECK(r.exit_code == c.exit_code);
        CHECK_MESSAGE(r.err.find("segearth: " + c.message) == 0, r.err);
        check_no_outputs(dir, {"crop.tif", "grey.tif", "blank.txt", "garbage.bin"});
    }

    // An existing output is never replaced without --overwrite.
    { std::ofstream(out) << "precious"; }
    const auto r = run_segearth(segment_args(input, out, {"--classes", "a;b"}));
    CHECK(r.exit_code == 2);
    CHECK(r.err == "segearth: output " + out + " already exists: use --overwrite to replace it\n");
    std::ifstream kept(out);
    std::string content;
    kept >> content;
    CHECK(content == "precious");
    const auto replaced = run_segearth(segment_args(input, out, {"--classes", "a;b", "--overwrite"}));
    CHECK(replaced.exit_code == 0);
    CHECK(open(out)->GetRasterXSize() == 64);
}

TEST_CASE("segment --vector: a failing vectorize step leaves no raster and no GeoPackage") {
    const auto dir = scratch_dir("cli_segment_vector_fails");
    const auto input = translate(dir / "crop.tif", {"-srcwin", "0", "0", "64", "64"});
    // One class, and it is the background: the polygon step has nothing to vectorize and fails after
    // the rasters are complete.
    const auto r = run_segearth(segment_args(input, dir / "out.tif",
                                             {"--classes", "a", "--probabilities", (dir / "p.tif").string(), "--vector",
                                              (dir / "v.gpkg").string()}));
    CHECK(r.exit_code == 2);
    CHECK_MESSAGE(r.err.find("has no classes besides the background: nothing to vectorize") != std::string::npos, r.err);
    check_no_outputs(dir, {"crop.tif"});
}

TEST_CASE("segment: Ctrl-C stops the run with exit code 130 and leaves no output that looks complete") {
    const auto dir = scratch_dir("cli_segment_sigint");
    const auto input = translate(dir / "scene.tif", {"-outsize", "400%", "100%"});  // 4000 x 1000: ~2 minutes of windows
    const auto out = dir / "out.tif";
    auto process = segearth::test::start_segearth(
        segment_args(input, out, {"--classes", "a;b", "--probabilities", (dir / "p.tif").string()}));
    // Wait until the outputs are being written (their temporary files exist), then interrupt.
    CHECK(wait_for_part_file(dir));
    std::this_thread::sleep_for(std::chrono::seconds(1));
    kill(process.pid, SIGINT);
    const auto r = segearth::test::wait_for(process);
    CHECK(r.exit_code == 130);
    CHECK(r.err.find("segearth: cancelled") != std::string::npos);
    check_no_outputs(dir, {"scene.tif"});
}

TEST_CASE("segment: a second Ctrl-C ends the run at once and still leaves no temporary file") {
    const auto dir = scratch_dir("cli_segment_sigint_twice");
    const auto input = translate(dir / "scene.tif", {"-outsize", "400%", "100%"});
    const auto out = dir / "out.tif";
    // Big batches: the first Ctrl-C waits for the forward pass in progress, the second does not.
    auto process = segearth::test::start_segearth(segment_args(
        input, out, {"--classes", "a;b", "--probabilities", (dir / "p.tif").string(), "--batch", "64"}));
    CHECK(wait_for_part_file(dir));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    kill(process.pid, SIGINT);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    kill(process.pid, SIGINT);
    const auto r = segearth::test::wait_for(process);
    CHECK(r.exit_code == 130);
    CHECK_MESSAGE(r.err.find("segearth: cancelled at once (second interrupt); temporary files removed") !=
                      std::string::npos,
                  r.err);
    check_no_outputs(dir, {"scene.tif"});
}
