// segment --inputs LIST|DIR|GLOB --output-dir DIR (batch mode) and merge --inputs through the real
// binary: every scene equals its own single run, a rerun skips complete outputs and redoes a deleted
// one, a failing scene is reported while the others go on (--fail-fast stops), the summary says what
// happened, segearth's own outputs in the scenes' folder are no scenes, SIGTERM keeps what was
// published, and an array job over shards of each scene merges into what the plain batch writes, bit
// for bit.
#include <doctest/doctest.h>

#include "koeln_files.hpp"
#include "run_segearth.hpp"
#include "support/test_paths.hpp"

#include <ogrsf_frmts.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

using segearth::test::fixture;
using segearth::test::run_segearth;
using segearth::test::scratch_dir;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> model_args(std::vector<std::string> extra) {
    std::vector<std::string> args{"--classes", "building,roof;road;tree;water",
                                  "--clip", fixture("tiny_clip.safetensors").string(),
                                  "--upsampler", fixture("upsampler.safetensors").string(),
                                  "--window", "64", "--stride", "32", "--text-cache", "-", "--threads", "2"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
}

std::vector<std::string> batch_args(std::vector<std::string> head, std::vector<std::string> extra = {}) {
    auto tail = model_args(std::move(extra));
    head.insert(head.begin(), "segment");
    head.insert(head.end(), tail.begin(), tail.end());
    return head;
}

// Three crops of the real tile, of different sizes.
std::vector<fs::path> make_scenes(const fs::path& folder) {
    fs::create_directories(folder);
    return {segearth::test::translate_koeln(folder / "north.tif", {"-srcwin", "0", "0", "200", "150"}),
            segearth::test::translate_koeln(folder / "east.tif", {"-srcwin", "500", "100", "170", "190"}),
            segearth::test::translate_koeln(folder / "south.tif", {"-srcwin", "300", "700", "160", "160"})};
}

std::vector<unsigned char> pixels(const fs::path& path) {
    auto ds = segearth::test::open_raster(path);
    const int w = ds->GetRasterXSize(), h = ds->GetRasterYSize(), n = ds->GetRasterCount();
    const GDALDataType type = ds->GetRasterBand(1)->GetRasterDataType();
    std::vector<unsigned char> data(static_cast<size_t>(w) * h * n * GDALGetDataTypeSizeBytes(type));
    REQUIRE(ds->RasterIO(GF_Read, 0, 0, w, h, data.data(), w, h, type, n, nullptr, 0, 0, 0, nullptr) == CE_None);
    return data;
}

long long polygon_count(const fs::path& path) {
    std::unique_ptr<GDALDataset> ds(GDALDataset::Open(path.c_str(), GDAL_OF_VECTOR));
    REQUIRE(ds);
    long long n = 0;
    for (auto* layer : ds->GetLayers()) n += layer->GetFeatureCount();
    return n;
}

std::string read_text(const fs::path& path) {
    std::stringstream s;
    s << std::ifstream(path).rdbuf();
    return s.str();
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

bool left_temporaries(const fs::path& dir) {
    for (const auto& entry : fs::recursive_directory_iterator(dir))
        if (entry.path().filename().string().find(".part-") != std::string::npos) return true;
    return false;
}

}  // namespace

TEST_CASE("segment --inputs: each scene as its own run, a rerun skips what is complete and redoes what was deleted") {
    const auto dir = scratch_dir("cli_batch");
    const auto scenes = make_scenes(dir / "scenes");
    const auto out = dir / "maps";
    const std::vector<std::string> outputs{"--probabilities", "{stem}_p.tif", "--vector", "{stem}.gpkg"};
    auto r = run_segearth(batch_args({"--inputs", (dir / "scenes").string(), "--output-dir", out.string()}, outputs));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK_MESSAGE(r.err.find("3 done, 0 skipped, 0 failed") != std::string::npos, r.err);
    // Sorted by name, each scene what segment INPUT OUTPUT writes.
    for (const auto& scene : scenes) {
        const auto stem = scene.stem().string();
        CAPTURE(stem);
        const auto alone = dir / (stem + "_alone.tif");
        const auto single = run_segearth(batch_args({scene.string(), alone.string(), "-q"}));
        REQUIRE_MESSAGE(single.exit_code == 0, single.err);
        CHECK(pixels(out / (stem + "_classes.tif")) == pixels(alone));
        CHECK(fs::exists(out / (stem + "_p.tif")));
        CHECK(polygon_count(out / (stem + ".gpkg")) > 0);
        auto classes = segearth::test::open_raster(out / (stem + "_classes.tif"));
        CHECK(std::string(classes->GetMetadataItem("SEGEARTH_INPUT")) == stem + ".tif");
        CHECK(std::string(classes->GetMetadataItem("SEGEARTH_SETTINGS_CRC32")).size() == 8);
    }
    // The summary: a row per scene in order, its status, windows, seconds and class pixels.
    auto csv = lines(read_text(out / "segearth_batch.csv"));
    REQUIRE(csv.size() == 4);
    CHECK(csv[0] == "input,output,status,shard,windows,seconds,pixels:building,pixels:road,pixels:tree,pixels:water,message");
    CHECK(csv[1].find((dir / "scenes" / "east.tif").string() + "," + (out / "east_classes.tif").string() + ",done,,") == 0);
    CHECK(csv[2].find("north.tif") != std::string::npos);
    CHECK(csv[3].find("south.tif") != std::string::npos);
    {  // the class pixels of a scene without nodata add up to its size
        std::vector<std::string> fields;
        std::istringstream row(csv[2]);
        for (std::string f; std::getline(row, f, ',');) fields.push_back(f);
        REQUIRE(fields.size() >= 10);
        CHECK(std::stoll(fields[4]) > 0);
        CHECK(std::stoll(fields[6]) + std::stoll(fields[7]) + std::stoll(fields[8]) + std::stoll(fields[9]) == 200 * 150);
    }
    const auto json = read_text(out / "segearth_batch.json");
    CHECK(json.find("\"done\": 3,") != std::string::npos);
    CHECK(count(json, "\"status\": \"done\"") == 3);
    CHECK(json.find("\"class_pixels\": {\"building\": ") != std::string::npos);

    // A rerun touches nothing.
    const auto written = fs::last_write_time(out / "north_classes.tif");
    r = run_segearth(batch_args({"--inputs", (dir / "scenes").string(), "--output-dir", out.string()}, outputs));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK_MESSAGE(r.err.find("0 done, 3 skipped, 0 failed") != std::string::npos, r.err);
    CHECK(fs::last_write_time(out / "north_classes.tif") == written);
    CHECK(count(read_text(out / "segearth_batch.csv"), ",skipped,") == 3);
    CHECK(read_text(out / "segearth_batch.csv") .find("complete, made with the same settings") != std::string::npos);

    // A deleted scene is redone, and only it.
    const auto east = pixels(out / "east_classes.tif");
    fs::remove(out / "east_classes.tif");
    fs::remove(out / "east_p.tif");
    fs::remove(out / "east.gpkg");
    r = run_segearth(batch_args({"--inputs", (dir / "scenes").string(), "--output-dir", out.string()}, outputs));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK_MESSAGE(r.err.find("1 done, 2 skipped, 0 failed") != std::string::npos, r.err);
    CHECK(pixels(out / "east_classes.tif") == east);
    CHECK(fs::last_write_time(out / "north_classes.tif") == written);

    // Outputs partly there, or made with other settings, are not replaced without --overwrite.
    fs::remove(out / "south.gpkg");
    r = run_segearth(batch_args({"--inputs", (dir / "scenes").string(), "--output-dir", out.string()},
                                {"--probabilities", "{stem}_p.tif", "--vector", "{stem}.gpkg", "--prob-threshold", "0.3"}));
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(r.err.find("0 done, 0 skipped, 3 failed") != std::string::npos, r.err);
    CHECK(r.err.find((out / "north_classes.tif").string() + " exists, made with other settings or from a changed "
                     "input: --overwrite redoes it") != std::string::npos);
    r = run_segearth(batch_args({"--inputs", (dir / "scenes").string(), "--output-dir", out.string()}, outputs));
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("the outputs of " + (dir / "scenes" / "south.tif").string() + " are partly there (" +
                     (out / "south.gpkg").string() + " is not): --overwrite redoes them") != std::string::npos);
    CHECK_MESSAGE(r.err.find("0 done, 2 skipped, 1 failed") != std::string::npos, r.err);
    auto overwrite = outputs;
    overwrite.push_back("--overwrite");
    r = run_segearth(batch_args({"--inputs", (dir / "scenes").string(), "--output-dir", out.string()}, overwrite));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK_MESSAGE(r.err.find("1 done, 2 skipped, 0 failed") != std::string::npos, r.err);
    // A changed input is redone (its size and time are part of the settings).
    segearth::test::translate_koeln(dir / "scenes" / "north.tif", {"-srcwin", "10", "0", "200", "150"});
    r = run_segearth(batch_args({"--inputs", (dir / "scenes").string(), "--output-dir", out.string()}, overwrite));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK_MESSAGE(r.err.find("1 done, 2 skipped, 0 failed") != std::string::npos, r.err);
    CHECK_FALSE(left_temporaries(dir));
}

TEST_CASE("segment --inputs: a failing scene is reported and the batch goes on, --fail-fast stops at it") {
    const auto dir = scratch_dir("cli_batch_failing");
    make_scenes(dir / "scenes");
    {  // a TIFF cut short: GDAL opens it, its pixels cannot be read
        std::ifstream in(dir / "scenes" / "east.tif", std::ios::binary);
        std::string head(600, '\0');
        in.read(head.data(), 600);
        std::ofstream(dir / "cut.tif", std::ios::binary) << head;
    }
    std::ofstream(dir / "scenes.txt") << "# the batch\nscenes/north.tif\n\ncut.tif\nscenes/south.tif\n";
    const auto out = dir / "maps";
    auto r = run_segearth(batch_args({"--inputs", (dir / "scenes.txt").string(), "--output-dir", out.string()}));
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(r.err.find("2 done, 0 skipped, 1 failed") != std::string::npos, r.err);
    CHECK(r.err.find("[2/3] " + (dir / "cut.tif").string() + ": failed: " + (dir / "cut.tif").string()) != std::string::npos);
    CHECK(fs::exists(out / "north_classes.tif"));
    CHECK(fs::exists(out / "south_classes.tif"));
    CHECK_FALSE(fs::exists(out / "cut_classes.tif"));
    auto csv = lines(read_text(out / "segearth_batch.csv"));
    REQUIRE(csv.size() == 4);
    CHECK(csv[2].find((dir / "cut.tif").string() + "," + (out / "cut_classes.tif").string() + ",failed,,0,") == 0);
    CHECK(csv[2].find("cannot read") != std::string::npos);
    CHECK(read_text(out / "segearth_batch.json").find("\"failed\": 1,") != std::string::npos);
    CHECK_FALSE(left_temporaries(dir));

    // --fail-fast: the batch stops at the failing scene, its summary says so.
    fs::remove_all(out);
    r = run_segearth(batch_args({"--inputs", (dir / "scenes.txt").string(), "--output-dir", out.string(), "--fail-fast",
                                 "--summary", (dir / "run.csv").string()}));
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("(--fail-fast: the batch stops; summary in " + (dir / "run.csv").string() + ")") != std::string::npos);
    CHECK(fs::exists(out / "north_classes.tif"));
    CHECK_FALSE(fs::exists(out / "south_classes.tif"));
    CHECK(lines(read_text(dir / "run.csv")).size() == 3);
    CHECK(fs::exists(dir / "run.json"));
}

TEST_CASE("segment --inputs: folders, patterns and lists, own outputs are no scenes, names that collide are refused") {
    const auto dir = scratch_dir("cli_batch_naming");
    make_scenes(dir / "scenes");
    const auto scenes = (dir / "scenes").string();
    // Into the scenes' own folder, with a quicklook: a rerun takes none of its outputs for scenes.
    const std::vector<std::string> outputs{"--quicklook", "{stem}_look.png", "--vector", "{stem}.gpkg"};
    auto r = run_segearth(batch_args({"--inputs", scenes, "--output-dir", scenes}, outputs));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(fs::exists(dir / "scenes" / "north_look.png"));
    r = run_segearth(batch_args({"--inputs", scenes, "--output-dir", scenes}, outputs));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK_MESSAGE(r.err.find("0 done, 3 skipped, 0 failed") != std::string::npos, r.err);
    CHECK_MESSAGE(r.err.find("--inputs: left out 9 files that are segearth's outputs or vectors") != std::string::npos, r.err);
    // A quoted pattern and the {name} template.
    r = run_segearth(batch_args({"--inputs", scenes + "/[ns]*.tif", "--output-dir", (dir / "glob").string(),
                                 "--output-name", "{name}.classes.tif", "-q"}));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(fs::exists(dir / "glob" / "north.tif.classes.tif"));
    CHECK(fs::exists(dir / "glob" / "south.tif.classes.tif"));
    CHECK_FALSE(fs::exists(dir / "glob" / "east.tif.classes.tif"));

    // Two scenes of one stem in two folders: refused, unless {parent} tells them apart.
    fs::create_directories(dir / "a"), fs::create_directories(dir / "b");
    fs::copy_file(dir / "scenes" / "north.tif", dir / "a" / "x.tif");
    fs::copy_file(dir / "scenes" / "south.tif", dir / "b" / "x.tif");
    r = run_segearth(batch_args({"--inputs", (dir / "a").string(), "--inputs", (dir / "b").string(), "--output-dir",
                                 (dir / "ab").string()}));
    CHECK(r.exit_code == 2);
    CHECK(r.err == "segearth: --inputs " + (dir / "a" / "x.tif").string() + " and " + (dir / "b" / "x.tif").string() +
                       " would both write " + (dir / "ab" / "x_classes.tif").string() +
                       ": put {name} or {parent} in the output names\n");
    CHECK_FALSE(fs::exists(dir / "ab"));
    r = run_segearth(batch_args({"--inputs", (dir / "a").string(), "--inputs", (dir / "b").string(), "--output-dir",
                                 (dir / "ab").string(), "--output-name", "{parent}/{stem}.tif", "-q"}));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(fs::exists(dir / "ab" / "a" / "x.tif"));
    CHECK(fs::exists(dir / "ab" / "b" / "x.tif"));

    // The options of batch mode, refused with what to do.
    const std::vector<std::pair<std::vector<std::string>, std::string>> refused{
        {{"--inputs", scenes, "--output-dir", scenes, "--probabilities", "p.tif"},
         "--probabilities p.tif: with --inputs every scene needs its own --probabilities: put {stem} or {name} in it "
         "(e.g. {stem}_p.tif)"},
        {{"--inputs", scenes, "--output-dir", scenes, "--output-name", "{id}.tif"},
         "--output-name {id}.tif: unknown placeholder '{id}' (use {stem}, {name} or {parent})"},
        {{"--inputs", scenes}, "--inputs needs --output-dir DIR (where the scenes' outputs go)"},
        {{scenes + "/north.tif", "x.tif", "--inputs", scenes, "--output-dir", scenes},
         "--inputs names the scenes: give no INPUT OUTPUT with it (the outputs are --output-name in --output-dir)"},
        {{scenes + "/north.tif", "x.tif", "--fail-fast"}, "--fail-fast goes with --inputs and --output-dir"},
        {{scenes + "/north.tif", "x.tif", "--scene-shards", "2"}, "--scene-shards goes with --inputs"},
        {{"--inputs", (dir / "nowhere").string(), "--output-dir", scenes},
         "--inputs " + (dir / "nowhere").string() + ": no such file or folder"},
        {{"--inputs", scenes + "/*.jp2", "--output-dir", scenes}, "--inputs " + scenes + "/*.jp2: the pattern matches no file"},
        {{"--inputs", scenes, "--output-dir", scenes, "--summary", (dir / "nowhere" / "run").string()},
         "--summary " + (dir / "nowhere" / "run.csv").string() + ": the folder " + (dir / "nowhere").string() +
             " does not exist"},
    };
    for (const auto& [args, message] : refused) {
        CAPTURE(message);
        r = run_segearth(batch_args(args));
        CHECK(r.exit_code == 2);
        CHECK(r.err == "segearth: " + message + "\n");
    }
}

TEST_CASE("segment --inputs --scene-shards K --shard I/N over an array, then merge --inputs, equals the plain batch") {
    const auto dir = scratch_dir("cli_batch_shards");
    make_scenes(dir / "scenes");
    const auto scenes = (dir / "scenes").string();
    const std::vector<std::string> outputs{"--probabilities", "{stem}_p.tif", "--vector", "{stem}.gpkg", "-q"};
    auto r = run_segearth(batch_args({"--inputs", scenes, "--output-dir", (dir / "plain").string()}, outputs));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    // 3 scenes x 2 shards = 6 pairs among 4 tasks (tasks 0 and 1 take two each), one through SLURM's variables.
    const auto sharded = (dir / "sharded").string();
    for (int task = 3; task >= 0; --task) {
        auto args = batch_args({"--inputs", scenes, "--output-dir", sharded, "--scene-shards", "2"}, outputs);
        std::map<std::string, std::string> env;
        if (task == 2) {
            args.insert(args.end(), {"--shard", "auto"});
            env = {{"SLURM_ARRAY_TASK_ID", "2"}, {"SLURM_ARRAY_TASK_COUNT", "4"}};
        } else {
            args.insert(args.end(), {"--shard", std::to_string(task) + "/4"});
        }
        r = run_segearth(args, env);
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        const auto csv = lines(read_text(dir / "sharded" / ("segearth_batch.task-" + std::to_string(task) + "-of-4.csv")));
        CHECK(csv.size() == (task < 2 ? 3u : 2u));
    }
    // east: pairs 0, 1 (tasks 0, 1); north: 2, 3 (tasks 2, 3); south: 4, 5 (tasks 0, 1).
    CHECK(read_text(dir / "sharded" / "segearth_batch.task-2-of-4.csv").find("north.tif,") != std::string::npos);
    CHECK(fs::exists(dir / "sharded" / "south_classes.shard-1-of-2.manifest"));
    CHECK_FALSE(fs::exists(dir / "sharded" / "south_classes.tif"));
    // A retried task finds its shards complete.
    r = run_segearth(batch_args({"--inputs", scenes, "--output-dir", sharded, "--scene-shards", "2", "--shard", "1/4"},
                                {"--probabilities", "{stem}_p.tif", "--vector", "{stem}.gpkg"}));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK_MESSAGE(r.err.find("0 done, 2 skipped, 0 failed") != std::string::npos, r.err);

    r = run_segearth({"merge", "--inputs", scenes, "--output-dir", sharded});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK_MESSAGE(r.err.find("3 merged, 0 skipped, 0 failed") != std::string::npos, r.err);
    for (const std::string stem : {"east", "north", "south"}) {
        CAPTURE(stem);
        CHECK(pixels(dir / "sharded" / (stem + "_classes.tif")) == pixels(dir / "plain" / (stem + "_classes.tif")));
        CHECK(pixels(dir / "sharded" / (stem + "_p.tif")) == pixels(dir / "plain" / (stem + "_p.tif")));
        CHECK(polygon_count(dir / "sharded" / (stem + ".gpkg")) == polygon_count(dir / "plain" / (stem + ".gpkg")));
        CHECK_FALSE(fs::exists(dir / "sharded" / (stem + "_classes.shard-0-of-2.manifest")));
    }
    // Merged results are complete results: a plain batch rerun there skips them, merge again too.
    r = run_segearth(batch_args({"--inputs", scenes, "--output-dir", sharded}, {"--probabilities", "{stem}_p.tif", "--vector", "{stem}.gpkg"}));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK_MESSAGE(r.err.find("0 done, 3 skipped, 0 failed") != std::string::npos, r.err);
    r = run_segearth({"merge", "--inputs", scenes, "--output-dir", sharded});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK_MESSAGE(r.err.find("0 merged, 3 skipped, 0 failed") != std::string::npos, r.err);
    // A scene without its shards fails, named, and the others are merged.
    fs::remove(dir / "plain" / "north_classes.tif");
    r = run_segearth({"merge", "--inputs", scenes, "--output-dir", (dir / "plain").string()});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("no shards of " + (dir / "plain" / "north_classes.tif").string() + " found") != std::string::npos);
    CHECK_MESSAGE(r.err.find("0 merged, 2 skipped, 1 failed") != std::string::npos, r.err);
    CHECK_FALSE(left_temporaries(dir));
}

TEST_CASE("segment --inputs: SIGTERM keeps the scenes already published, leaves nothing half-written, and a rerun resumes") {
    const auto dir = scratch_dir("cli_batch_sigterm");
    fs::create_directories(dir / "scenes");
    segearth::test::translate_koeln(dir / "scenes" / "a.tif", {"-srcwin", "0", "0", "160", "160"});
    // b: the tile as a 4000 x 4000 VRT, thousands of windows: still running when the signal comes.
    segearth::test::translate_koeln(dir / "scenes" / "b.vrt", {"-of", "VRT", "-outsize", "4000", "4000"});
    const auto out = dir / "maps";
    const auto args = batch_args({"--inputs", (dir / "scenes").string(), "--output-dir", out.string()},
                                 {"--probabilities", "{stem}_p.tif"});
    auto process = segearth::test::start_segearth(args);
    for (int i = 0; i < 6000 && !fs::exists(out / "a_p.tif"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(fs::exists(out / "a_classes.tif"));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // into b's windows
    kill(process.pid, SIGTERM);
    const auto r = segearth::test::wait_for(process);
    CHECK(r.exit_code == 130);
    CHECK(r.err.find("segearth: cancelled") != std::string::npos);
    CHECK(fs::exists(out / "a_classes.tif"));
    CHECK(fs::exists(out / "a_p.tif"));
    CHECK_FALSE(fs::exists(out / "b_classes.tif"));
    CHECK_FALSE(fs::exists(out / "b_p.tif"));
    CHECK_FALSE(left_temporaries(dir));
    // The rerun (b made small) skips a and does b.
    fs::remove(dir / "scenes" / "b.vrt");
    segearth::test::translate_koeln(dir / "scenes" / "b.tif", {"-srcwin", "200", "0", "160", "160"});
    const auto again = run_segearth(args);
    REQUIRE_MESSAGE(again.exit_code == 0, again.err);
    CHECK_MESSAGE(again.err.find("1 done, 1 skipped, 0 failed") != std::string::npos, again.err);
}
