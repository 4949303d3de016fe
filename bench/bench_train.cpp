// Benchmark of `segearth train` (the real binary, as users run it): ViT-B/16 with random weights
// (speed does not depend on them) on 224 px crops of a real aerial tile, the paper's settings (batch 4,
// 5 jitters). Reports training throughput in images/s, the time split per step (frozen CLIP features,
// upsampler forward, losses, backward, optimizer, data loading) from the run's CSV log, and peak RSS.
//
//   build/bench/bench_train [--image TILE.tif] [--threads 2] [--steps 3] [--batch 4] [--precision auto]
//                           [--work DIR]
#include <segearth/core/blas_runtime.hpp>
#include <segearth/core/clip_model.hpp>
#include <segearth/core/weights.hpp>

#include <torch/torch.h>

#include "child_process.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace segearth::core;
using segearth::bench::run_child;

int main(int argc, char** argv) {
    select_blas_core_type(argv);
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    fs::path image = SEGEARTH_BENCH_IMAGE, work = fs::temp_directory_path() / "segearth-bench-train";
    std::string threads = "2", steps = "3", batch = "4", precision = "auto";
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (flag == "--image" && i + 1 < argc) image = argv[++i];
        else if (flag == "--threads" && i + 1 < argc) threads = argv[++i];
        else if (flag == "--steps" && i + 1 < argc) steps = argv[++i];
        else if (flag == "--batch" && i + 1 < argc) batch = argv[++i];
        else if (flag == "--precision" && i + 1 < argc) precision = argv[++i];
        else if (flag == "--work" && i + 1 < argc) work = argv[++i];
    }
    fs::create_directories(work);
    torch::manual_seed(0);
    const auto clip_file = work / "vit_b16_random.safetensors";
    {
        ClipModel clip(ClipConfig::named("ViT-B/16"));
        TensorMap tensors;
        for (const auto& p : clip->named_parameters()) tensors[p.key()] = p.value().detach().to(torch::kFloat16);
        write_safetensors(clip_file, tensors);
    }
    const auto log = work / "train.csv";
    const std::vector<std::string> args{SEGEARTH_BINARY, "train", "--clip", clip_file.string(), "--images",
                                        image.string(), "--out", (work / "up.safetensors").string(), "--steps", steps,
                                        "--batch", batch, "--threads", threads, "--log", log.string(), "--overwrite",
                                        "--log-every", "1", "--precision", precision};
    std::printf("segearth train, ViT-B/16 (random weights) + jbu_one, 224 px crops, batch %s, 5 jitters, %s threads, "
                "%s steps, --precision %s\n", batch.c_str(), threads.c_str(), steps.c_str(), precision.c_str());
    const auto r = run_child(args, work / "train.log");
    std::printf("exit %d, %.1f s wall (model loading included), peak RSS %.0f MB\n  %s\n", r.exit_code, r.wall_seconds,
                r.peak_rss_mb, r.last_line.c_str());

    // Per step, from the CSV: the first step is reported apart (allocator and BLAS warm-up).
    std::ifstream in(log);
    std::string line;
    std::getline(in, line);
    const char* names[] = {"data", "CLIP", "upsampler forward", "losses", "backward", "optimizer"};
    while (std::getline(in, line)) {
        std::vector<double> v;
        std::stringstream s(line);
        for (std::string field; std::getline(s, field, ',');) v.push_back(std::stod(field));
        if (v.size() < 12) continue;
        double total = 0;
        for (int i = 6; i < 12; ++i) total += v[i];
        std::printf("step %.0f: %.1f s, %.3f images/s:", v[0], total, std::stod(batch) / total);
        for (int i = 0; i < 6; ++i) std::printf(" %s %.1f s (%.0f%%)%s", names[i], v[6 + i], 100 * v[6 + i] / total,
                                                i < 5 ? "," : "\n");
    }
    return r.exit_code;
}
