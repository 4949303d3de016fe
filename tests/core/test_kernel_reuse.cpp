// Kernels shared between overlapping windows (JbuKernelMemory): a window whose guidance repeats the
// last one's shifted left takes the kernels of the shared columns from it. The upsampled features and
// the logits must equal computing every window alone, for jbu_one and FeatUp's trained jbu_stack,
// batches, shifts that only some steps' grids can follow, unrelated windows and a changed precision;
// and the columns must really be reused where the guidance repeats, and only there.
#include <doctest/doctest.h>

#include <segearth/core/clip_model.hpp>
#include <segearth/core/segmenter/window_segmenter.hpp>
#include <segearth/core/upsampler/upsampler_file.hpp>

#include "support/tensor_checks.hpp"
#include "support/test_paths.hpp"

#include <torch/torch.h>

using namespace segearth::core;
using segearth::test::fixture;
using segearth::test::random_queries;
using segearth::test::relative_error;
using segearth::test::shared_data_file;

namespace {

// float32 rounding only: a reused kernel is the same arithmetic on the same values, but the fix-up's
// matrix products may block a narrower column range differently.
constexpr double tolerance = 1e-6;

// The window of `scene` (1, 3, H, W) starting at column x, as wide as it is tall.
torch::Tensor window_at(const torch::Tensor& scene, int64_t x) {
    return scene.narrow(3, x, scene.size(2)).contiguous();
}

std::vector<int64_t> reused_per_step(const std::vector<JbuKernelMemory>& memory) {
    std::vector<int64_t> reused;
    for (const auto& step : memory) reused.push_back(step.reused_columns);
    return reused;
}

struct Upsamplers {
    const char* name;
    JbuUpsampler model;
    int64_t channels;
};

std::vector<Upsamplers> upsamplers() {
    return {{"jbu_one (test weights)", load_upsampler(fixture("upsampler.safetensors"), 32).model, 32},
            {"jbu_stack (FeatUp's trained CLIP checkpoint)",
             load_upsampler(shared_data_file("featup/clip_jbu_stack_cocostuff.ckpt"), 512).model, 512}};
}

}  // namespace

TEST_CASE("windows sliding along a row reuse their shared kernel columns and upsample exactly as alone") {
    torch::NoGradGuard no_grad;
    for (auto& [name, up, channels] : upsamplers()) {
        const std::string upsampler = name;
        CAPTURE(upsampler);
        torch::manual_seed(3);
        const auto scene = torch::randn({1, 3, 80, 80 + 100});  // windows of 5 x 5 tokens (r = 26 < 32)
        std::vector<JbuKernelMemory> memory, full_width_memory;  // the low-rank path's and forward's
        // Offsets 0, 40, 80 (the paper's half-window stride), then 100 (a pulled-back last window:
        // 20 pixels, which the first step's grid of 8-pixel cells cannot follow).
        for (const int64_t x : {0, 40, 80, 100}) {
            CAPTURE(x);
            const auto window = window_at(scene, x);
            const auto features = torch::randn({1, channels, 5, 5});
            const auto before = reused_per_step(memory);
            const auto shared = up->forward_low_rank(features, window, &memory);
            const auto alone = up->forward_low_rank(features, window);
            CHECK(relative_error(shared.coefficients, alone.coefficients) < tolerance);
            CHECK(relative_error(up->forward(features, window, &full_width_memory), up->forward(features, window)) <
                  tolerance);
            CHECK(reused_per_step(full_width_memory) == reused_per_step(memory));
            const auto after = reused_per_step(memory);
            REQUIRE(after.size() == 4);
            if (x == 0) {
                CHECK(after == std::vector<int64_t>(4, 0));
                continue;
            }
            // Grids 10, 20, 40, 80 pixels wide: a shift of 40 is 5, 10, 20, 40 of their pixels (the
            // first steps' w - 2r columns leave little or nothing to share); 20 is 5, 10 and 20 pixels
            // of the last three grids, whose pooled guidance the previous window repeats.
            const int64_t radius = up->step(0)->radius();
            for (size_t step = 0; step < 4; ++step) {
                CAPTURE(step);
                const int64_t grid = 10 << step, shift = x == 100 ? 20 : 40, factor = 80 / grid;
                const bool follows = shift % factor == 0 && grid - 2 * radius > shift / factor;
                CHECK(after[step] - before[step] == (follows ? grid - shift / factor - 2 * radius : 0));
            }
        }
    }
}

TEST_CASE("windows of one batch reuse from the window before them in the batch") {
    torch::NoGradGuard no_grad;
    auto up = load_upsampler(fixture("upsampler.safetensors"), 32).model;
    torch::manual_seed(4);
    const auto scene = torch::randn({1, 3, 64, 64 + 2 * 32});
    const auto windows = torch::cat({window_at(scene, 0), window_at(scene, 32), window_at(scene, 64)});
    const auto features = torch::randn({3, 32, 4, 4});
    std::vector<JbuKernelMemory> memory;
    const auto shared = up->forward_low_rank(features, windows, &memory);
    CHECK(relative_error(shared.coefficients, up->forward_low_rank(features, windows).coefficients) < tolerance);
    // The last grid (64 wide, radius 5, shift 32): 64 - 32 - 10 = 22 columns for each of windows 2 and 3.
    CHECK(memory.at(3).reused_columns == 2 * 22);
    CHECK(memory.at(3).computed_columns == 64 + 2 * (64 - 22));
}

TEST_CASE("unrelated windows, a changed precision and repeating stripes reuse only what is exact") {
    torch::NoGradGuard no_grad;
    auto up = load_upsampler(fixture("upsampler.safetensors"), 32).model;
    torch::manual_seed(5);
    const auto features = torch::randn({1, 32, 4, 4});
    std::vector<JbuKernelMemory> memory;
    up->forward(features, torch::randn({1, 3, 64, 64}), &memory);
    up->forward(features, torch::randn({1, 3, 64, 64}), &memory);  // another image: nothing shared
    CHECK(reused_per_step(memory) == std::vector<int64_t>(4, 0));

    // The same window again, the steps now in bf16: the fp32 kernels of the last call must not be taken.
    const auto scene = torch::randn({1, 3, 64, 96});
    up->forward(features, window_at(scene, 0), &memory);
    up->set_precision(Precision::bf16);
    const auto bf16_shared = up->forward(features, window_at(scene, 32), &memory);
    CHECK(reused_per_step(memory) == std::vector<int64_t>(4, 0));
    CHECK(torch::equal(bf16_shared, up->forward(features, window_at(scene, 32))));
    up->set_precision(Precision::fp32);

    // Vertical stripes repeating every 8 pixels: windows 8 apart are the same image, and so is any
    // shift by a whole period; whatever shift the memory finds, the result is the window's own.
    const auto stripes = torch::randn({1, 3, 64, 8}).repeat({1, 1, 1, 12});
    memory.clear();
    up->forward(features, window_at(stripes, 0), &memory);
    const auto next = up->forward(features, window_at(stripes, 8), &memory);
    CHECK(memory.at(3).reused_columns > 0);
    CHECK(relative_error(next, up->forward(features, window_at(stripes, 8))) < tolerance);
}

TEST_CASE("the window segmenter reuses kernels along a row of windows with the same logits") {
    auto clip = load_clip(fixture("tiny_clip.safetensors")).model;  // embedding 32
    auto up = load_upsampler(fixture("upsampler.safetensors"), 32).model;
    const auto text = random_queries(5, 32, 13);
    torch::manual_seed(6);
    const auto scene = torch::rand({1, 3, 64, 64 + 3 * 32});
    WindowSegmenter reusing(clip, text, UpsamplerKind::simfeatup, up, {AttentionKind::segearth, -0.3, true, true});
    WindowSegmenter alone(clip, text, UpsamplerKind::simfeatup, up, {AttentionKind::segearth, -0.3, true, false});
    for (int64_t x = 0; x <= 3 * 32; x += 32) {
        CAPTURE(x);
        const auto window = window_at(scene, x);
        CHECK(relative_error(reusing.logits(window), alone.logits(window)) < tolerance);
    }
    CHECK(reusing.kernel_columns().reused > 0);
    CHECK(alone.kernel_columns().reused == 0);
    CHECK(alone.kernel_columns().computed == 0);  // no memory at all
}
