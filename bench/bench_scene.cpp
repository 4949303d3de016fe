// The whole scene pipeline without GDAL: the streaming scheduler (segearth_scheduler) over a synthetic
// size x size scene held in memory, ViT-B/16 + jbu_one with random weights on a device, windows
// batched, every decided row handed to a sink that only counts it. What a GPU machine without GDAL
// can run end to end (tools/gpu_check.sh), and what CI runs on the CPU at a small size.
// Prints windows/s, megapixels/s, the scheduler's time split and, on CUDA, peak GPU memory.
//
//   build/bench/bench_scene [--size 1024] [--device cpu|cuda] [--batch 8|auto] [--precision fp32|bf16|fp16]
//                           [--upsampler jbu_one|none] [--threads N]
#include <segearth/core/blas_runtime.hpp>
#include <segearth/core/clip/precision.hpp>
#include <segearth/core/clip_model.hpp>
#include <segearth/core/segmenter/auto_batch.hpp>
#include <segearth/core/segmenter/window_segmenter.hpp>
#include <segearth/pipeline/streaming_segmentation.hpp>

#include <torch/torch.h>

#include "gpu_memory.hpp"

#include <cstdio>
#include <stdexcept>
#include <string>

using namespace segearth;
namespace F = torch::nn::functional;

namespace {

// A smooth random scene (structure at ~16 px and ~128 px), made one window row at a time on request,
// so that even a 16384^2 scene needs no 3 GB image in memory.
class SyntheticScene : public pipeline::WindowSource {
public:
    explicit SyntheticScene(int64_t size) : size_(size) {
        torch::manual_seed(7);
        coarse_ = torch::rand({1, 3, size / 128 + 2, size / 128 + 2});
        fine_ = torch::rand({1, 3, size / 16 + 2, size / 16 + 2});
    }
    int64_t width() const override { return size_; }
    int64_t height() const override { return size_; }
    void read(int64_t x, int64_t y, int64_t w, int64_t h, torch::Tensor& rgb, torch::Tensor& valid) override {
        const auto at = [&](const torch::Tensor& grid, int64_t cell) {
            const int64_t x0 = x / cell, y0 = y / cell, x1 = (x + w) / cell + 2, y1 = (y + h) / cell + 2;
            const auto part = grid.narrow(2, y0, std::min(y1, grid.size(2)) - y0).narrow(3, x0, std::min(x1, grid.size(3)) - x0);
            const auto up = F::interpolate(part, F::InterpolateFuncOptions()
                                                     .scale_factor(std::vector<double>{double(cell), double(cell)})
                                                     .mode(torch::kBilinear)
                                                     .align_corners(false));
            return up.narrow(2, y - y0 * cell, h).narrow(3, x - x0 * cell, w)[0];
        };
        rgb = (0.6 * at(coarse_, 128) + 0.4 * at(fine_, 16)).contiguous();
        valid = torch::ones({h, w}, torch::kBool);
    }

private:
    int64_t size_;
    torch::Tensor coarse_, fine_;
};

class CountingSink : public pipeline::DecisionSink {
public:
    bool wants_probabilities() const override { return false; }
    bool wants_confidence() const override { return false; }
    void write(int64_t, int64_t, const core::Decision& block, const torch::Tensor&, const Progress&) override {
        pixels += block.labels.numel();
    }
    int64_t pixels = 0;
};

}  // namespace

int main(int argc, char** argv) {
    core::select_blas_core_type(argv);
    int64_t size = 1024, batch = 8;
    std::string device_name = "cpu", precision_name = "fp32", upsampler = "jbu_one";
    int threads = core::default_thread_count();
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i], value = argv[i + 1];
        if (flag == "--size") size = std::stoll(value);
        else if (flag == "--device") device_name = value;
        else if (flag == "--batch") batch = value == "auto" ? 0 : std::stoll(value);
        else if (flag == "--precision") precision_name = value;
        else if (flag == "--upsampler") upsampler = value;
        else if (flag == "--threads") threads = std::stoi(value);
        else {
            std::fprintf(stderr, "bench_scene: unknown flag %s\n", flag.c_str());
            return 2;
        }
    }
    core::set_threads(threads);
    const torch::Device device(device_name);
    const auto precision = core::precisions().parse(precision_name, "--precision");
    torch::NoGradGuard no_grad;

    torch::manual_seed(0);
    core::ClipModel clip(core::ClipConfig::named("ViT-B/16"));
    clip->eval();
    clip->to(device);
    clip->visual->set_precision(precision);
    core::JbuUpsampler up = nullptr;
    if (upsampler == "jbu_one") {
        up = core::JbuUpsampler(512);
        up->eval();
        up->to(device);
        up->set_precision(precision);
    }
    // 6 queries for 5 classes, as "background;building,roof;road;tree;water".
    const auto text = F::normalize(torch::randn({6, 512}), F::NormalizeFuncOptions().dim(1)).to(device);
    core::WindowSegmenter segmenter(clip, text, up ? core::UpsamplerKind::simfeatup : core::UpsamplerKind::none, up);
    const core::DecisionRule rule{{0, 1, 1, 2, 3, 4}, 5, 50.0, 0.0, 0};
    if (batch == 0) {
        const auto sized = core::auto_batch(segmenter, 224);
        batch = sized.windows;
        if (device.is_cuda())
            std::printf("bench_scene: --batch auto: %lld windows (%.0f MB each, %.0f MB free)\n",
                        static_cast<long long>(batch), static_cast<double>(sized.bytes_per_window) / 1048576.0,
                        static_cast<double>(sized.free_bytes) / 1048576.0);
    }

    SyntheticScene scene(size);
    CountingSink sink;
    pipeline::StreamingOptions options;
    options.batch = batch;
    const auto stats = pipeline::segment_stream(segmenter, rule, scene, sink, options);
    const double seconds = stats.total_seconds;
    std::printf("bench_scene: %lld x %lld synthetic scene, ViT-B/16 + %s, %s %s, batch %lld, %d threads\n",
                static_cast<long long>(size), static_cast<long long>(size), upsampler.c_str(), device_name.c_str(),
                precision_name.c_str(), static_cast<long long>(batch), threads);
    std::printf("  %lld windows in %.2f s: %.2f windows/s, %.3f megapixels/s; %lld output pixels\n",
                static_cast<long long>(stats.windows_computed), seconds, stats.windows_computed / seconds,
                static_cast<double>(size) * size / 1e6 / seconds, static_cast<long long>(sink.pixels));
    std::printf("  split: read %.2f s, model %.2f s, stitch %.2f s, decide %.2f s, write %.2f s\n", stats.read_seconds,
                stats.model_seconds, stats.stitch_seconds, stats.decide_seconds, stats.write_seconds);
    bench::print_peak_gpu_memory(device);
    return sink.pixels == size * size ? 0 : 1;
}
