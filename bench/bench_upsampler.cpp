// SimFeatUp benchmark: the adaptive convolution forward and backward at the real sizes of one
// 224 x 224 window (C = 512; 14 -> 28 -> 56 -> 112 -> 224), batch 1 and 4, 1 and 2 threads, against
// the unfold+einsum formulation where that fits in memory; one JBU step's fused inference pass
// against the separate upsample + pad and adaptive convolution; and the full jbu_one forward per
// window with its peak extra memory, against its exact low-rank form, and along a row of sliding windows
// with and without the kernels they share. Random weights.
//
//   build/bench/bench_upsampler [--repeats N]
#include <segearth/core/blas_runtime.hpp>
#include <segearth/core/upsampler/adaptive_conv.hpp>
#include <segearth/core/upsampler/jbu.hpp>
#include <segearth/core/upsampler/upsample_conv.hpp>
#include <segearth/core/upsampler/upsample_pad.hpp>

#include "support/reference_operators.hpp"

#include <torch/cuda.h>
#include <torch/torch.h>

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

using namespace segearth::core;

namespace {

double peak_rss_mb() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_maxrss) / 1024.0;
}

// Best wall time of `repeats` runs, after one warm-up.
double best_seconds(const std::function<void()>& f, int repeats) {
    f();
    double best = 1e30;
    for (int i = 0; i < repeats; ++i) {
        const auto start = std::chrono::steady_clock::now();
        f();
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    return best;
}

constexpr int64_t channels = 512, taps = 121, radius = 5;

}  // namespace

int main(int argc, char** argv) {
    select_blas_core_type(argv);
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // lines appear as measured, also through a pipe
    int repeats = 3;
    std::string device_name = "cpu";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::string(argv[i]) == "--repeats") repeats = std::stoi(argv[i + 1]);
        if (std::string(argv[i]) == "--device") device_name = argv[i + 1];
    }
    if (device_name != "cpu") {  // the upsampler on a GPU: time per window, batch 1 and 16
        const torch::Device device(device_name);
        torch::NoGradGuard no_grad;
        JbuUpsampler up(channels);
        up->eval();
        up->to(device);
        for (int64_t batch : {1, 16}) {
            const auto features = torch::randn({batch, channels, 14, 14}, device);
            const auto window = torch::randn({batch, 3, 224, 224}, device);
            const double seconds = best_seconds([&] {
                up->forward(features, window);
                torch::cuda::synchronize();
            }, repeats);
            std::printf("jbu_one forward on %s, batch %ld: %.2f ms per 224 x 224 window\n", device_name.c_str(), batch,
                        seconds * 1e3 / double(batch));
        }
        return 0;
    }

    // First, before anything else inflates the peak: the full upsampler on one window.
    {
        set_threads(2);
        torch::NoGradGuard no_grad;
        JbuUpsampler up(channels);
        up->eval();
        const auto features = torch::randn({1, channels, 14, 14});
        const auto window = torch::randn({1, 3, 224, 224});
        const double before = peak_rss_mb();
        const double seconds = best_seconds([&] { up->forward(features, window); }, repeats);
        std::printf("jbu_one forward, one 224 x 224 window, 2 threads: %.0f ms, peak extra memory %.0f MB\n",
                    seconds * 1e3, peak_rss_mb() - before);
        set_threads(1);
        std::printf("jbu_one forward, one 224 x 224 window, 1 thread: %.0f ms\n",
                    best_seconds([&] { up->forward(features, window); }, repeats) * 1e3);
        // FeatUp's JBU stack (the paper's Table 5 rows): 7 x 7 windows instead of 11 x 11.
        set_threads(2);
        JbuUpsampler stack(channels, JbuArchitecture::stack);
        stack->eval();
        std::printf("jbu_stack forward, one 224 x 224 window, 2 threads: %.0f ms\n",
                    best_seconds([&] { stack->forward(features, window); }, repeats) * 1e3);
        // The exact low-rank form inference uses (r = 14 * 14 + 1 = 197 channels instead of 512),
        // its QR and projections included, against the full width measured in the same run.
        const double full = best_seconds([&] { up->forward(features, window); }, repeats);
        const double low = best_seconds([&] { up->forward_low_rank(features, window); }, repeats);
        std::printf("jbu_one forward, one 224 x 224 window, 2 threads: full width %.0f ms, low rank (r = 197, padded to 208) %.0f ms "
                    "(%.2fx)\n", full * 1e3, low * 1e3, full / low);
        const double stack_full = best_seconds([&] { stack->forward(features, window); }, repeats);
        const double stack_low = best_seconds([&] { stack->forward_low_rank(features, window); }, repeats);
        std::printf("jbu_stack forward, one 224 x 224 window, 2 threads: full width %.0f ms, low rank %.0f ms (%.2fx)\n",
                    stack_full * 1e3, stack_low * 1e3, stack_full / stack_low);
        // A row of 8 windows at the paper's stride (112) over one image, as segment slides them: each
        // window alone, and with the kernels it shares with the one before taken from it (JbuKernelMemory).
        const auto row = torch::randn({1, 3, 224, 224 + 7 * 112});
        const auto slide = [&](JbuUpsampler& model, bool reuse) {
            std::vector<JbuKernelMemory> memory;
            for (int64_t i = 0; i < 8; ++i)
                model->forward_low_rank(features, row.narrow(3, i * 112, 224).contiguous(), reuse ? &memory : nullptr);
        };
        for (auto* model : {&up, &stack}) {
            const char* name = to_string((*model)->architecture());
            const double alone = best_seconds([&] { slide(*model, false); }, repeats) / 8;
            const double reusing = best_seconds([&] { slide(*model, true); }, repeats) / 8;
            std::printf("%s low rank along a row of 8 windows (stride 112), 2 threads: %.0f ms per window alone, "
                        "%.0f ms reusing the shared kernels (%.2fx)\n", name, alone * 1e3, reusing * 1e3, alone / reusing);
        }
    }

    std::printf("\none JBU step's feature path for inference, C = %ld: x2 bicubic upsampling + reflection padding + "
                "adaptive convolution\n(GFLOP/s counted as 2 x C x 121 x output pixels / time, as above)\n",
                channels);
    std::printf("%-7s %-5s %-7s %14s %14s %12s\n", "output", "batch", "threads", "fused ms", "separate ms",
                "fused GFLOP/s");
    for (int64_t side : {28, 56, 112, 224}) {
        for (int64_t batch : {1, 4}) {
            for (int threads : {1, 2}) {
                set_threads(threads);
                torch::NoGradGuard no_grad;
                // As in jbu_one: the source is the previous step's channels-last output and the
                // kernels come pixel-major from JbuImpl::kernels.
                const auto source = torch::randn({batch, channels, side / 2, side / 2})
                                        .contiguous(torch::MemoryFormat::ChannelsLast);
                const auto k = torch::softmax(torch::randn({batch, side, side, taps}), 3).permute({0, 3, 1, 2});
                const double flops = 2.0 * channels * taps * double(side * side * batch);
                const double fused = best_seconds([&] { upsample_adaptive_conv(source, k); }, repeats);
                const double separate = best_seconds([&] {
                    adaptive_conv(upsample2x_bicubic_reflect_pad(source, radius), k);
                }, repeats);
                std::printf("%-7ld %-5ld %-7d %14.1f %14.1f %12.1f\n", side, batch, threads, fused * 1e3,
                            separate * 1e3, flops / fused / 1e9);
            }
        }
    }

    std::printf("\nadaptive convolution, C = %ld, 11 x 11 taps (GFLOP/s: 2 x C x taps x pixels / time)\n", channels);
    std::printf("%-7s %-5s %-7s %12s %12s %12s %14s\n", "output", "batch", "threads", "forward ms", "backward ms",
                "fwd GFLOP/s", "unfold fwd ms");
    for (int64_t side : {28, 56, 112, 224}) {
        for (int64_t batch : {1, 4}) {
            for (int threads : {1, 2}) {
                set_threads(threads);
                auto x = torch::randn({batch, channels, side + 2 * radius, side + 2 * radius}).requires_grad_();
                auto k = torch::softmax(torch::randn({batch, taps, side, side}), 1).requires_grad_();
                const auto upstream = torch::randn({batch, channels, side, side});
                const double flops = 2.0 * channels * taps * double(side * side * batch);
                const double fwd = best_seconds([&] {
                    torch::NoGradGuard no_grad;
                    adaptive_conv(x, k);
                }, repeats);
                const auto out = adaptive_conv(x, k);
                const double bwd = best_seconds([&] {
                    torch::autograd::grad({out}, {x, k}, {upstream}, /*retain_graph=*/true);
                }, repeats);
                // The unfold holds C x taps x pixels floats: keep it under ~3.5 GB.
                std::string reference = "does not fit";
                if (double(channels * taps) * double(side * side * batch) * 4 < 3.5e9) {
                    char text[32];
                    std::snprintf(text, sizeof text, "%.0f", best_seconds([&] {
                        torch::NoGradGuard no_grad;
                        segearth::test::adaptive_conv_reference(x, k);
                    }, 1) * 1e3);
                    reference = text;
                }
                std::printf("%-7ld %-5ld %-7d %12.1f %12.1f %12.1f %14s\n", side, batch, threads, fwd * 1e3, bwd * 1e3,
                            flops / fwd / 1e9, reference.c_str());
            }
        }
    }
    return 0;
}
