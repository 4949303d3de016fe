// Ctrl-C (SIGINT) and SIGTERM end every command promptly, at whatever stage the signal finds it, on
// scenes large enough that no stage is over by then: exit code 130, the "cancelled" message, no
// output and no temporary file left. The bound is generous (a loaded CI machine); the measured times
// are in RELIABILITY.md.
#include <doctest/doctest.h>

#include "koeln_files.hpp"
#include "run_segearth.hpp"
#include "support/test_paths.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>
#include <tuple>

using segearth::test::fixture;
using segearth::test::scratch_dir;
namespace fs = std::filesystem;

namespace {

constexpr double bound_seconds = 3.0;

struct Stopped {
    segearth::test::RunResult result;
    double seconds_to_exit = 0;
};

// True once the process catches SIGINT and SIGTERM (its handler is installed): before that, on a
// loaded machine still loading its libraries, a signal would just kill it.
bool handles_signals(int pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("SigCgt:", 0) == 0) {
            const auto caught = std::stoull(line.substr(7), nullptr, 16);
            return (caught >> (SIGINT - 1) & 1) && (caught >> (SIGTERM - 1) & 1);
        }
    return false;
}

// Starts segearth, signals it `delay` after it handles signals, and measures how long it takes to exit.
Stopped signal_after(const std::vector<std::string>& args, std::chrono::milliseconds delay, int signal_number) {
    auto process = segearth::test::start_segearth(args);
    for (int i = 0; i < 3000 && !handles_signals(process.pid); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::this_thread::sleep_for(delay);
    const auto sent = std::chrono::steady_clock::now();
    kill(process.pid, signal_number);
    // Poll for the exit without reaping it, so wait_for still collects the status.
    siginfo_t info{};
    waitid(P_PID, static_cast<id_t>(process.pid), &info, WEXITED | WNOWAIT);
    Stopped s;
    s.seconds_to_exit = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
    s.result = segearth::test::wait_for(process);
    return s;
}

void check_stopped(const Stopped& s, const fs::path& dir, const std::vector<std::string>& inputs) {
    CAPTURE(s.result.err);
    CHECK(s.result.exit_code == 130);
    CHECK(s.result.err.find("segearth: cancelled") != std::string::npos);
    CHECK_MESSAGE(s.seconds_to_exit < bound_seconds, "took " << s.seconds_to_exit << " s to exit");
    MESSAGE("exited " << s.seconds_to_exit << " s after the signal");
    for (const auto& entry : fs::directory_iterator(dir)) {
        const auto name = entry.path().filename().string();
        CHECK_MESSAGE(std::find(inputs.begin(), inputs.end(), name) != inputs.end(), "left behind: " << name);
    }
}

}  // namespace

TEST_CASE("segment: SIGINT and SIGTERM stop reading, computing and writing a 100000 x 100000 scene at once") {
    const auto dir = scratch_dir("cli_cancel_segment");
    // A virtual 10^10-pixel scene, segmented at 1/100: reading resamples 100 x 100 pixels per working
    // pixel, and the class raster is written at the scene's full size.
    segearth::test::translate_koeln(dir / "big.vrt", {"-of", "VRT", "-outsize", "100000", "100000"});
    const std::vector<std::string> args{"segment", (dir / "big.vrt").string(), (dir / "out.tif").string(),
                                        "--classes", "a;b", "--clip", fixture("tiny_clip.safetensors").string(),
                                        "--upsampler", fixture("upsampler.safetensors").string(), "--text-cache",
                                        "-", "--scale", "0.01", "--probabilities", (dir / "p.tif").string()};
    for (const auto& [delay_ms, signal_number] : {std::pair{1500, SIGINT}, {4000, SIGTERM}, {7000, SIGINT}}) {
        CAPTURE(delay_ms);
        CAPTURE(signal_number);
        check_stopped(signal_after(args, std::chrono::milliseconds(delay_ms), signal_number), dir, {"big.vrt"});
    }
}

TEST_CASE("segment --shard: SIGTERM (what SLURM and Kubernetes send) leaves no shard file and no manifest") {
    const auto dir = scratch_dir("cli_cancel_shard");
    segearth::test::translate_koeln(dir / "big.vrt", {"-of", "VRT", "-outsize", "100000", "100000"});
    const std::vector<std::string> args{"segment", (dir / "big.vrt").string(), (dir / "out.tif").string(),
                                        "--classes", "a;b", "--clip", fixture("tiny_clip.safetensors").string(),
                                        "--upsampler", fixture("upsampler.safetensors").string(), "--text-cache",
                                        "-", "--scale", "0.01", "--probabilities", (dir / "p.tif").string(),
                                        "--shard", "1/3"};
    check_stopped(signal_after(args, std::chrono::milliseconds(3000), SIGTERM), dir, {"big.vrt"});
}

TEST_CASE("vectorize: SIGINT and SIGTERM stop listing the classes and polygonizing a 50000 x 50000 raster at once") {
    const auto dir = scratch_dir("cli_cancel_vectorize");
    segearth::test::translate_koeln(dir / "classes.tif", {"-b", "1", "-scale", "0", "255", "0", "2", "-ot", "Byte"});
    segearth::test::translate_koeln(dir / "named.tif", {"-b", "1", "-scale", "0", "255", "0", "2", "-ot", "Byte"});
    GDALAllRegister();
    {
        std::unique_ptr<GDALDataset> named(GDALDataset::Open((dir / "named.tif").c_str(), GDAL_OF_UPDATE));
        REQUIRE(named);
        const char* names[] = {"background", "low", "high", nullptr};
        named->GetRasterBand(1)->SetCategoryNames(const_cast<char**>(names));
    }
    // 50000 x 50000 views of them: without class names vectorize first lists the values present (a
    // pass over the raster); with them it polygonizes at once.
    const auto view = [&](const std::string& from, const std::string& to) {
        return segearth::test::translate(dir / from, dir / to, {"-of", "VRT", "-outsize", "50000", "50000", "-r", "near"})
            .string();
    };
    const auto unnamed = view("classes.tif", "big.vrt"), named = view("named.tif", "big_named.vrt");
    // named.tif.aux.xml: where GDAL keeps the category names the test set.
    const std::vector<std::string> inputs{"classes.tif", "named.tif", "named.tif.aux.xml", "big.vrt", "big_named.vrt"};
    for (const auto& [raster, delay_ms, signal_number] :
         {std::tuple{unnamed, 1500, SIGINT}, {named, 1500, SIGTERM}, {named, 4000, SIGINT}}) {
        CAPTURE(raster);
        CAPTURE(delay_ms);
        check_stopped(signal_after({"vectorize", raster, (dir / "out.gpkg").string()}, std::chrono::milliseconds(delay_ms),
                                   signal_number),
                      dir, inputs);
    }
}

namespace {

// "step,loss" of each line of a training log, as printed.
std::vector<std::string> step_and_loss(const fs::path& log) {
    std::ifstream in(log);
    std::vector<std::string> rows;
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) rows.push_back(line.substr(0, line.find(',', line.find(',') + 1)));
    return rows;
}

}  // namespace

TEST_CASE("train: SIGINT and SIGTERM end a long step at once, and --resume continues from the last finished step") {
    const auto dir = scratch_dir("cli_cancel_train");
    // 256 px crops with the tiny CLIP: a step takes seconds (a real ViT-B/16 step takes minutes).
    const auto image = segearth::test::shared_data_file("oem_koeln_50.tif").string();
    const auto args = [&](const std::string& steps, const std::vector<std::string>& extra) {
        std::vector<std::string> a{"train", "--clip", fixture("tiny_clip.safetensors").string(), "--images", image,
                                   "--out", (dir / "up.safetensors").string(), "--crop", "256", "--batch", "1",
                                   "--steps", steps, "--checkpoint-every", "1000", "-q"};
        a.insert(a.end(), extra.begin(), extra.end());
        return a;
    };
    const auto checkpoint = (dir / "up.resume.safetensors").string();

    // Stopped during the first step: nothing to keep, nothing written.
    auto first = signal_after(args("1000", {}), std::chrono::milliseconds(1000), SIGINT);
    check_stopped(first, dir, {});
    CHECK(first.result.err.find("interrupted during step 1: nothing was written") != std::string::npos);

    // The two steps uninterrupted, for reference.
    const auto reference_log = dir / "reference.csv";
    REQUIRE(segearth::test::run_segearth(args("2", {"--log", reference_log.string()})).exit_code == 0);
    const auto reference = step_and_loss(reference_log);
    REQUIRE(reference.size() == 2);
    for (const char* name : {"up.safetensors", "up.resume.safetensors"}) fs::remove(dir / name);

    // Stopped during the second step: the first is saved, and --resume repeats the second exactly.
    const auto log = dir / "log.csv";
    auto process = segearth::test::start_segearth(args("1000", {"--log", log.string()}));
    // Up to 5 minutes for the first step: a loaded CI machine runs another training test beside this one.
    for (int i = 0; i < 6000 && step_and_loss(log).size() < 1; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    REQUIRE(step_and_loss(log).size() == 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const auto sent = std::chrono::steady_clock::now();
    kill(process.pid, SIGTERM);
    siginfo_t info{};
    waitid(P_PID, static_cast<id_t>(process.pid), &info, WEXITED | WNOWAIT);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
    const auto r = segearth::test::wait_for(process);
    CAPTURE(r.err);
    CHECK(r.exit_code == 130);
    CHECK_MESSAGE(seconds < bound_seconds, "took " << seconds << " s to exit");
    MESSAGE("exited " << seconds << " s after the signal, during step 2");
    CHECK(r.err.find("interrupted during step 2, which is dropped; continue from step 1 with --resume " + checkpoint) !=
          std::string::npos);
    CHECK(step_and_loss(log) == std::vector<std::string>{reference[0]});
    for (const auto& entry : fs::directory_iterator(dir))
        CHECK(entry.path().filename().string().find(".part-") == std::string::npos);
    const auto resumed = segearth::test::run_segearth(args("2", {"--log", log.string(), "--resume", checkpoint}));
    CHECK_MESSAGE(resumed.exit_code == 0, resumed.err);
    CHECK(step_and_loss(log) == reference);
}
