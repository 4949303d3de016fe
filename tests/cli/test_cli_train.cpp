// `segearth train` end to end on crops of the real aerial GeoTIFF (../shared/data/oem_koeln_50.tif)
// with the tiny random CLIP: the losses fall, the upsampler it writes loads in segment, a resumed run
// continues the same loss curve, Ctrl-C leaves a resumable checkpoint, and bad inputs are refused
// with messages that name the file or flag.
#include <doctest/doctest.h>

#include "koeln_files.hpp"
#include "run_segearth.hpp"
#include "support/test_paths.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

using segearth::test::fixture;
using segearth::test::run_segearth;
using segearth::test::scratch_dir;
using segearth::test::shared_data_file;
namespace fs = std::filesystem;

namespace {

// "train" with the tiny CLIP on 64 px crops, quiet, then `extra`.
std::vector<std::string> train_args(const fs::path& out, const std::vector<std::string>& extra) {
    std::vector<std::string> args{"train", "--clip", fixture("tiny_clip.safetensors").string(), "--out", out.string(),
                                  "--crop", "64", "--batch", "2", "-q"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
}

struct LogRow {
    long long step = 0;
    double loss = 0, reconstruction = 0, image = 0, projected_mse = 0;
};

std::vector<LogRow> read_log(const fs::path& csv) {
    std::ifstream in(csv);
    std::string line;
    std::getline(in, line);
    CHECK(line.rfind("step,loss,reconstruction,image,projected_mse,images_per_second,", 0) == 0);
    std::vector<LogRow> rows;
    while (std::getline(in, line)) {
        std::istringstream s(line);
        LogRow r;
        char comma = 0;
        s >> r.step >> comma >> r.loss >> comma >> r.reconstruction >> comma >> r.image >> comma >> r.projected_mse;
        REQUIRE_MESSAGE(s, "unreadable log line: " << line);
        rows.push_back(r);
    }
    return rows;
}

template <class F>
double mean_of(const std::vector<LogRow>& rows, size_t begin, size_t end, F field) {
    double sum = 0;
    for (size_t i = begin; i < end; ++i) sum += field(rows[i]);
    return sum / static_cast<double>(end - begin);
}

}  // namespace

TEST_CASE("train: a few hundred steps on koeln crops lower the losses and the upsampler loads in segment") {
    const auto dir = scratch_dir("cli_train_run");
    const auto out = dir / "up.safetensors";
    const auto log = dir / "log.csv";
    const auto r = run_segearth(train_args(out, {"--images", shared_data_file("oem_koeln_50.tif").string(), "--steps",
                                                 "200", "--jitters", "2", "--log", log.string(), "--preview-every",
                                                 "100", "--seed", "3"}));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto rows = read_log(log);
    REQUIRE(rows.size() == 200);
    CHECK(rows.back().step == 200);
    const auto rec = [](const LogRow& row) { return row.reconstruction; };
    const auto img = [](const LogRow& row) { return row.image; };
    const double rec_start = mean_of(rows, 0, 20, rec), rec_end = mean_of(rows, 180, 200, rec);
    const double img_start = mean_of(rows, 0, 20, img), img_end = mean_of(rows, 180, 200, img);
    MESSAGE("reconstruction loss " << rec_start << " -> " << rec_end << ", image loss " << img_start << " -> "
                                   << img_end);
    CHECK(rec_end < rec_start - 0.1);
    CHECK(img_end < 0.6 * img_start);

    // The previews: image | CLIP features | upsampled features, 64 px high.
    for (const char* name : {"preview_step_000100.png", "preview_step_000200.png"}) {
        auto png = segearth::test::open_raster(dir / name);
        CHECK(png->GetRasterCount() == 3);
        CHECK(png->GetRasterXSize() == 3 * 64 + 2 * 4);
        CHECK(png->GetRasterYSize() == 64);
    }
    CHECK(fs::exists(dir / "up.resume.safetensors"));
    for (const auto& entry : fs::directory_iterator(dir))
        CHECK_MESSAGE(entry.path().filename().string().find(".part") == std::string::npos,
                      "left behind: " << entry.path());

    const auto scene = segearth::test::translate_koeln(dir / "scene.tif", {"-srcwin", "0", "0", "96", "80"});
    const auto seg = run_segearth({"segment", scene.string(), (dir / "classes.tif").string(), "--clip",
                                   fixture("tiny_clip.safetensors").string(), "--upsampler", out.string(),
                                   "--classes", "a;b", "--text-cache", "-", "-q"});
    CHECK_MESSAGE(seg.exit_code == 0, seg.err);
    CHECK(fs::exists(dir / "classes.tif"));
}

TEST_CASE("train --precision: auto is fp32 on the CPU, bf16 trains in mixed precision or is refused without native bf16") {
    const auto dir = scratch_dir("cli_train_precision");
    const auto koeln = shared_data_file("oem_koeln_50.tif").string();
    const auto run = [&](const std::string& name, const std::vector<std::string>& extra) {
        std::vector<std::string> args{"train", "--clip", fixture("tiny_clip.safetensors").string(), "--out",
                                      (dir / (name + ".safetensors")).string(), "--crop", "64", "--batch", "2",
                                      "--images", koeln, "--steps", "2", "--jitters", "1", "--overwrite"};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_segearth(args);
    };
    const auto automatic = run("auto", {});
    REQUIRE_MESSAGE(automatic.exit_code == 0, automatic.err);
    CHECK_MESSAGE(automatic.err.find("of 2 on cpu in fp32 (") != std::string::npos, automatic.err);
    const auto bf16 = run("bf16", {"--precision", "bf16"});
    if (bf16.exit_code != 0) {
        // A CPU without AVX512_BF16 or AMX: the same refusal as segment's, before anything is written.
        CHECK(bf16.exit_code == 2);
        CHECK_MESSAGE(bf16.err.find("segearth: --precision bf16: this CPU has no native bf16") == 0, bf16.err);
        CHECK_FALSE(fs::exists(dir / "bf16.safetensors"));
        return;
    }
    CHECK_MESSAGE(bf16.err.find("of 2 on cpu in bf16 (") != std::string::npos, bf16.err);
    // The upsampler it writes is float32, as every upsampler file: segment loads it at any precision.
    const auto scene = segearth::test::translate_koeln(dir / "scene.tif", {"-srcwin", "0", "0", "64", "64"});
    const auto seg = run_segearth({"segment", scene.string(), (dir / "classes.tif").string(), "--clip",
                                   fixture("tiny_clip.safetensors").string(), "--upsampler",
                                   (dir / "bf16.safetensors").string(), "--classes", "a;b", "--text-cache", "-", "-q",
                                   "--overwrite"});
    CHECK_MESSAGE(seg.exit_code == 0, seg.err);
}

TEST_CASE("train: a resumed run continues the same loss curve") {
    const auto dir = scratch_dir("cli_train_resume");
    const auto image = shared_data_file("oem_koeln_50.tif").string();
    const std::vector<std::string> common{"--images", image, "--jitters", "2", "--seed", "5"};
    auto with = [&](std::vector<std::string> extra) {
        extra.insert(extra.begin(), common.begin(), common.end());
        return extra;
    };
    const auto straight = run_segearth(train_args(dir / "a.safetensors", with({"--steps", "6", "--log",
                                                                              (dir / "a.csv").string()})));
    REQUIRE_MESSAGE(straight.exit_code == 0, straight.err);
    const auto first = run_segearth(train_args(dir / "b.safetensors", with({"--steps", "3", "--log",
                                                                           (dir / "b.csv").string()})));
    REQUIRE_MESSAGE(first.exit_code == 0, first.err);
    const auto second = run_segearth(train_args(
        dir / "b.safetensors",
        with({"--steps", "6", "--log", (dir / "b.csv").string(), "--resume", (dir / "b.resume.safetensors").string()})));
    REQUIRE_MESSAGE(second.exit_code == 0, second.err);
    const auto a = read_log(dir / "a.csv"), b = read_log(dir / "b.csv");
    REQUIRE(a.size() == 6);
    REQUIRE(b.size() == 6);
    for (size_t i = 0; i < 6; ++i) {
        CAPTURE(i);
        CHECK(b[i].step == a[i].step);
        CHECK(b[i].loss == doctest::Approx(a[i].loss).epsilon(1e-5));
        CHECK(b[i].image == doctest::Approx(a[i].image).epsilon(1e-5));
    }
}

TEST_CASE("train: Ctrl-C saves a checkpoint that --resume continues") {
    const auto dir = scratch_dir("cli_train_sigint");
    const auto out = dir / "up.safetensors";
    const auto log = dir / "log.csv";
    auto process = segearth::test::start_segearth(train_args(
        out, {"--images", shared_data_file("oem_koeln_50.tif").string(), "--steps", "100000", "--checkpoint-every",
              "100000", "--log", log.string()}));
    bool stepping = false;
    // Up to 5 minutes: under ctest -j2 beside another training test, OpenMP threads contend for the cores.
    for (int i = 0; i < 3000 && !stepping; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        std::ifstream in(log);
        std::string line;
        int lines = 0;
        while (std::getline(in, line)) ++lines;
        stepping = lines >= 3;  // header and two steps
    }
    REQUIRE(stepping);
    kill(process.pid, SIGINT);
    const auto r = segearth::test::wait_for(process);
    CHECK(r.exit_code == 130);
    const auto checkpoint = dir / "up.resume.safetensors";
    CHECK(r.err.find("with --resume " + checkpoint.string()) != std::string::npos);
    CHECK(r.err.find("segearth: cancelled") != std::string::npos);
    REQUIRE(fs::exists(checkpoint));
    REQUIRE(fs::exists(out));
    const auto steps_done = read_log(log).back().step;

    const auto resumed = run_segearth(train_args(out, {"--images", shared_data_file("oem_koeln_50.tif").string(),
                                                       "--steps", std::to_string(steps_done + 1), "--log",
                                                       log.string(), "--resume", checkpoint.string()}));
    CHECK_MESSAGE(resumed.exit_code == 0, resumed.err);
    CHECK(read_log(log).back().step == steps_done + 1);
}

TEST_CASE("train: bad inputs are refused with what to do, before any output is written") {
    const auto dir = scratch_dir("cli_train_errors");
    const auto out = dir / "up.safetensors";
    const auto grey = segearth::test::translate_koeln(dir / "grey.tif", {"-b", "1"});
    const auto small = segearth::test::translate_koeln(dir / "small.tif", {"-srcwin", "0", "0", "50", "40"});
    fs::create_directories(dir / "empty");
    { std::ofstream(dir / "list.txt") << "# training tiles\nsmall.tif\nmissing.tif\n"; }

    struct Case {
        std::vector<std::string> args;
        int exit_code;
        std::string message;
    };
    const std::vector<Case> cases{
        {train_args(out, {"--images", (dir / "empty").string()}), 2,
         "segearth: --images " + (dir / "empty").string() + ": the folder holds no raster GDAL can read\n"},
        {train_args(out, {"--images", (dir / "nothere.tif").string()}), 2,
         "segearth: --images " + (dir / "nothere.tif").string() + ": no such file or folder\n"},
        {train_args(out, {"--images", (dir / "list.txt").string()}), 2,
         "segearth: --images " + (dir / "list.txt").string() + " line 3: " + (dir / "missing.tif").string() +
             " does not exist\n"},
        {train_args(out, {"--images", small.string()}), 2,
         "segearth: " + small.string() + ": 50 x 40 pixels on the working grid, smaller than the 64 x 64 crop: leave "
         "it out, enlarge the grid with --scale or --gsd, or train on smaller crops with --crop\n"},
        {train_args(out, {"--images", grey.string()}), 2,
         "segearth: " + grey.string() + " has 1 band; the model needs three (red, green, blue): choose them with -b "
         "(e.g. -b 1 -b 1 -b 1 for a grey image)\n"},
        {{"train", "--clip", (dir / "nope.pt").string(), "--images", grey.string(), "--out", out.string()}, 1,
         "segearth: " + (dir / "nope.pt").string() + ": the CLIP weights given by --clip does not exist or is not a "
         "file\n"},
        {{"train", "--clip", fixture("tiny_clip.safetensors").string(), "--images", grey.string(), "--out",
          out.string(), "--crop", "70"},
         2,
         "segearth: --crop 70: use a multiple of the CLIP model's patch size (16), at least 32\n"},
        {train_args(out, {"--images", grey.string(), "--resume", (dir / "nope.resume.safetensors").string()}), 2,
         "segearth: --resume " + (dir / "nope.resume.safetensors").string() +
             ": no such file (it is the up.resume.safetensors file an earlier run wrote beside its --out)\n"},
        {train_args(out, {"--images", grey.string(), "--steps", "3", "--epochs", "1"}), 2,
         "segearth: give --steps or --epochs, not both\n"},
        {{"train", "--images", grey.string()}, 2,
         "segearth: train needs --out: where to write the trained upsampler (.safetensors)\n"},
        {train_args(dir / "nodir" / "up.safetensors", {"--images", grey.string()}), 2,
         "segearth: --out " + (dir / "nodir" / "up.safetensors").string() + ": the folder " +
             (dir / "nodir").string() + " does not exist\n"},
    };
    // Every training option's value is checked before anything is loaded or written.
    const std::vector<std::pair<std::vector<std::string>, std::string>> bad_values{
        {{"--batch", "0"}, "--batch must be at least 1"},
        {{"--steps", "0"}, "--steps must be at least 1"},
        {{"--epochs", "0"}, "--epochs must be positive"},
        {{"--min-valid", "0"}, "--min-valid must be in (0, 1]"},
        {{"--min-valid", "1.5"}, "--min-valid must be in (0, 1]"},
        {{"--jitters", "0"}, "--jitters must be at least 1"},
        {{"--max-pad", "64"}, "--max-pad must be between 0 and the crop size"},
        {{"--max-zoom", "0.5"}, "--max-zoom must be at least 1"},
        {{"--projection-dim", "0"}, "--projection-dim must be at least 1"},
        {{"--lr", "0"}, "--lr must be positive"},
        {{"--image-weight=-1"}, "--image-weight must not be negative"},
        {{"--clip-grad-norm", "0"}, "--clip-grad-steps must not be negative and --clip-grad-norm must be positive"},
        {{"--checkpoint-every", "0"}, "--checkpoint-every must be at least 1"},
        {{"--preview-every=-1"}, "--preview-every must not be negative"},
        {{"--log-every", "0"}, "--log-every must be at least 1"},
        {{"--device", "tpu"}, "--device tpu: use auto, cpu, cuda or cuda:N"},
        {{"--threads=-1"}, "--threads must not be negative"},
        {{"--seed=-1"}, "--seed must not be negative"},
        {{"--lr", "nan"}, "--lr nan: give a finite number"},
        {{"--precision", "fp16"}, "--precision fp16: train has no loss scaling, which fp16's narrow range needs; use "
                                  "--precision bf16 (mixed precision with float32's range) or fp32"},
    };
    for (const auto& [flags, message] : bad_values) {
        CAPTURE(message);
        std::vector<std::string> args{"train", "--clip", fixture("tiny_clip.safetensors").string(), "--images",
                                      grey.string(), "--out", out.string(), "--crop", "64", "-q"};
        args.insert(args.end(), flags.begin(), flags.end());
        const auto r = run_segearth(args);
        CHECK(r.exit_code == 2);
        CHECK(r.err == "segearth: " + message + "\n");
    }
    { std::ofstream(dir / "log.csv") << "step\n"; }
    const auto log_exists = run_segearth(train_args(out, {"--images", grey.string(), "--log", (dir / "log.csv").string()}));
    CHECK(log_exists.exit_code == 2);
    CHECK(log_exists.err == "segearth: --log " + (dir / "log.csv").string() + " exists: use --overwrite to replace it " +
                                "(or --resume " + (dir / "up.resume.safetensors").string() + " to continue that run)\n");
    for (const auto& c : cases) {
        CAPTURE(c.message);
        const auto r = run_segearth(c.args);
        CHECK(r.exit_code == c.exit_code);
        CHECK(r.err == c.message);
    }
    { std::ofstream(out) << "precious"; }
    const auto r = run_segearth(train_args(out, {"--images", shared_data_file("oem_koeln_50.tif").string()}));
    CHECK(r.exit_code == 2);
    CHECK(r.err == "segearth: --out " + out.string() + " exists: use --overwrite to replace it (or --resume " +
                       (dir / "up.resume.safetensors").string() + " to continue that run)\n");
    for (const auto& entry : fs::directory_iterator(dir)) {
        const auto name = entry.path().filename().string();
        CHECK_MESSAGE((name == "grey.tif" || name == "small.tif" || name == "empty" || name == "list.txt" ||
                       name == "log.csv" || name == "up.safetensors" || name.find(".aux.xml") != std::string::npos),
                      "left behind: " << name);
    }
}

TEST_CASE("train: crops that are mostly nodata are drawn again, and all-nodata imagery is refused") {
    const auto dir = scratch_dir("cli_train_nodata");
    // 200 x 200 of the tile with nodata 0, its left 150 columns set to nodata: most 64 px crops are
    // mostly nodata.
    const auto partial = segearth::test::translate_koeln(dir / "partial.tif",
                                                         {"-srcwin", "0", "0", "200", "200", "-a_nodata", "0"});
    const auto blank = segearth::test::translate_koeln(dir / "blank.tif",
                                                       {"-srcwin", "0", "0", "200", "200", "-a_nodata", "0"});
    for (const auto& [path, columns] : {std::pair{partial, 150}, std::pair{blank, 200}}) {
        std::unique_ptr<GDALDataset> ds(GDALDataset::Open(path.c_str(), GDAL_OF_RASTER | GDAL_OF_UPDATE));
        REQUIRE(ds);
        std::vector<unsigned char> zeros(static_cast<size_t>(columns) * 200, 0);
        for (int band = 1; band <= 3; ++band)
            REQUIRE(ds->GetRasterBand(band)->RasterIO(GF_Write, 0, 0, columns, 200, zeros.data(), columns, 200,
                                                      GDT_Byte, 0, 0) == CE_None);
    }
    auto args = train_args(dir / "up.safetensors", {"--images", partial.string(), "--steps", "2", "--jitters", "1"});
    args.erase(std::find(args.begin(), args.end(), "-q"));
    const auto r = run_segearth(args);
    CHECK_MESSAGE(r.exit_code == 0, r.err);
    CHECK(r.err.find("random crops were drawn again for having less than --min-valid valid pixels") != std::string::npos);

    const auto none = run_segearth(train_args(dir / "none.safetensors", {"--images", blank.string(), "--steps", "1"}));
    CHECK(none.exit_code == 1);
    CHECK(none.err == "segearth: the training images are mostly nodata: 1000 random crops in a row had less than 50 % "
                      "valid pixels; lower --min-valid or choose other images\n");
    CHECK_FALSE(fs::exists(dir / "none.safetensors"));
}

TEST_CASE("train: resuming from an older checkpoint replaces the log's later rows instead of repeating them") {
    const auto dir = scratch_dir("cli_train_log_resume");
    const auto out = dir / "up.safetensors", log = dir / "log.csv";
    const auto checkpoint = dir / "up.resume.safetensors", older = dir / "step2.resume.safetensors";
    const std::vector<std::string> common{"--images", shared_data_file("oem_koeln_50.tif").string(), "--jitters", "1",
                                          "--log", log.string()};
    auto with = [&](std::vector<std::string> extra) {
        extra.insert(extra.begin(), common.begin(), common.end());
        return train_args(out, extra);
    };
    REQUIRE(run_segearth(with({"--steps", "2"})).exit_code == 0);
    fs::copy_file(checkpoint, older);
    // As if the run had gone on to step 4 and then died: the log holds rows 3 and 4, the checkpoint
    // given to --resume is at step 2.
    REQUIRE(run_segearth(with({"--steps", "4", "--resume", checkpoint.string()})).exit_code == 0);
    REQUIRE(read_log(log).size() == 4);
    const auto r = run_segearth(with({"--steps", "4", "--resume", older.string(), "--overwrite"}));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto rows = read_log(log);
    REQUIRE(rows.size() == 4);
    for (size_t i = 0; i < rows.size(); ++i) CHECK(rows[i].step == static_cast<long long>(i + 1));
}
