// CLIP benchmark: the ViT-B/16 dense forward per 224 x 224 window and the text encoding per query
// (80 templates), on CPU with 1 and 2 threads, with random weights (speed does not depend on them).
//
//   build/bench/bench_clip [--windows N] [--batch B] [--vocab PATH] [--templates PATH]
#include <segearth/core/assets.hpp>
#include <segearth/core/blas_runtime.hpp>
#include <segearth/core/clip_model.hpp>
#include <segearth/core/text_queries.hpp>
#include <segearth/core/vocabulary.hpp>

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

using namespace segearth::core;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Multiply-adds x 2 of the dense forward for one window of gh x gw tokens (METHOD.md 3): patch
// embedding, L-1 full blocks, the modulated last block (3 affinities), ln_post/proj. Softmax and
// LayerNorm are not counted.
double dense_forward_flops(const ClipConfig& c, int64_t gh, int64_t gw) {
    const double w = double(c.vision.width), n = double(gh * gw + 1), p = double(c.vision.patch_size);
    const double patch = 2.0 * (n - 1) * w * 3 * p * p;
    const double attention = 2.0 * n * w * 3 * w + 2.0 * n * n * w * 2 + 2.0 * n * w * w;  // qkv, qk^T + av, out
    const double mlp = 2.0 * n * w * 4 * w * 2;
    const double last = 2.0 * n * w * 3 * w + 2.0 * n * n * w * 4 + 2.0 * n * w * w;  // 3 affinities + av
    const double project = 2.0 * n * w * double(c.embed_dim);
    return patch + double(c.vision.layers - 1) * (attention + mlp) + last + project;
}

std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
    return "unknown CPU";
}

}  // namespace

int main(int argc, char** argv) {
    select_blas_core_type(argv);
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // lines appear as measured, also through a pipe
    int windows = 4, batch = 1;
    std::string bpe, templates_path;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--windows") windows = std::stoi(argv[i + 1]);
        else if (flag == "--batch") batch = std::stoi(argv[i + 1]);
        else if (flag == "--vocab") bpe = argv[i + 1];
        else if (flag == "--templates") templates_path = argv[i + 1];
    }
    const auto blas = blas_report();
    std::printf("Machine: %s, %u hardware threads; BLAS: %s (core %s); CPU features: %s\n", cpu_model().c_str(),
                std::thread::hardware_concurrency(), blas.library.c_str(), blas.core_type.c_str(),
                blas.cpu_features.c_str());

    torch::NoGradGuard no_grad;
    const auto config = ClipConfig::named("ViT-B/16");
    ClipModel model(config);
    model->eval();
    const double flops = dense_forward_flops(config, 14, 14);
    std::printf("ViT-B/16 dense forward: %.2f GFLOP per 224 x 224 window\n", flops / 1e9);

    const Tokenizer tokenizer(find_asset(bpe_vocabulary_asset(), bpe));
    const auto templates = read_templates(find_asset(prompt_templates_asset(), templates_path));

    for (int threads : {1, 2}) {
        set_threads(threads);
        const auto images = torch::randn({batch, 3, 224, 224});
        model->visual->dense(images);  // warm-up
        const auto start = std::chrono::steady_clock::now();
        const int batches = std::max(1, windows / batch);
        for (int i = 0; i < batches; ++i) model->visual->dense(images);
        const double per_window = seconds_since(start) / (batches * batch);
        std::printf("threads %d, batch %d: dense forward %.0f ms per window, %.1f effective GFLOP/s "
                    "(matmul 1024^3: %.1f GFLOP/s)\n",
                    threads, batch, per_window * 1e3, flops / per_window / 1e9, measure_matmul_gflops(1024, 3));

        TextQueryEncoder encoder(model, tokenizer, templates);  // no cache: measure the encoding itself
        encoder.encode({"warm up"});
        const auto text_start = std::chrono::steady_clock::now();
        const std::vector<std::string> names{"building", "road", "water", "tree"};
        encoder.encode(names);
        std::printf("threads %d: text query (%zu templates) %.0f ms per query\n", threads, templates.size(),
                    seconds_since(text_start) / double(names.size()) * 1e3);
    }
    return 0;
}
