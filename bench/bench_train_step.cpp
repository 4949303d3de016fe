// Training steps without GDAL or files: the upsampler trainer (segearth_core) on synthetic smooth crops
// with a random ViT-B/16, on a device and in a precision, the paper's settings by default (batch 8,
// 5 jitters, 224 px). What a GPU machine without GDAL can measure (tools/gpu_check.sh); on the CPU,
// bench_train times the real `segearth train` on the real tile. Prints each step's time and split,
// the images/s of the steps after the first (allocator and kernel warm-up), and on CUDA peak memory.
//
//   build/bench/bench_train_step [--device cpu|cuda] [--precision fp32|bf16] [--batch 8] [--jitters 5]
//                                [--crop 224] [--steps 3] [--threads N]
#include <segearth/core/blas_runtime.hpp>
#include <segearth/core/clip/precision.hpp>
#include <segearth/core/clip_model.hpp>
#include <segearth/core/training/upsampler_trainer.hpp>
#include <segearth/stopwatch.hpp>

#include <torch/torch.h>

#include "gpu_memory.hpp"

#include <cmath>
#include <cstdio>
#include <string>

using namespace segearth;

int main(int argc, char** argv) {
    core::select_blas_core_type(argv);
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    int64_t batch = 8, jitters = 5, crop = 224, steps = 3;
    std::string device_name = "cpu", precision_name = "fp32";
    int threads = core::default_thread_count();
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i], value = argv[i + 1];
        if (flag == "--device") device_name = value;
        else if (flag == "--precision") precision_name = value;
        else if (flag == "--batch") batch = std::stoll(value);
        else if (flag == "--jitters") jitters = std::stoll(value);
        else if (flag == "--crop") crop = std::stoll(value);
        else if (flag == "--steps") steps = std::stoll(value);
        else if (flag == "--threads") threads = std::stoi(value);
        else {
            std::fprintf(stderr, "bench_train_step: unknown flag %s\n", flag.c_str());
            return 2;
        }
    }
    core::set_threads(threads);
    const torch::Device device(device_name);
    core::TrainerOptions options;  // the paper's, as segearth train's defaults
    options.n_jitters = jitters;
    options.precision = core::precisions().parse(precision_name, "--precision");

    torch::manual_seed(0);
    core::ClipModel clip(core::ClipConfig::named("ViT-B/16"));
    core::UpsamplerTrainer trainer(clip, options, device);
    std::printf("bench_train_step: ViT-B/16 (random) + jbu_one, %s %s, batch %lld, %lld jitters, %lld px crops, "
                "%d threads\n", device_name.c_str(), precision_name.c_str(), static_cast<long long>(batch),
                static_cast<long long>(jitters), static_cast<long long>(crop), threads);
    double later_seconds = 0;
    for (int64_t s = 1; s <= steps; ++s) {
        // Smooth crops in [0, 1]: structure at ~16 px, as aerial imagery has.
        const auto coarse = torch::rand({batch, 3, crop / 16, crop / 16});
        const auto crops = torch::upsample_bilinear2d(coarse, {crop, crop}, false);
        const Stopwatch clock;
        const auto r = trainer.step(crops);
        const double seconds = clock.seconds();
        if (s > 1) later_seconds += seconds;
        const auto& t = r.timings;
        std::printf("  step %lld: %.2f s, %.3g images/s (CLIP %.2f s, upsampler forward %.2f s, losses %.2f s, "
                    "backward %.2f s, optimizer %.2f s), loss %.5g\n",
                    static_cast<long long>(s), seconds, static_cast<double>(batch) / seconds, t.clip,
                    t.upsampler_forward, t.losses, t.backward, t.optimizer, r.loss);
        if (!std::isfinite(r.loss)) return 1;
    }
    if (steps > 1)
        std::printf("  steps 2..%lld: %.3g images/s\n", static_cast<long long>(steps),
                    static_cast<double>(batch * (steps - 1)) / later_seconds);
    bench::print_peak_gpu_memory(device);
    return 0;
}
