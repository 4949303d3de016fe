// SimFeatUp on the span of a window's features (JbuUpsampler::forward_low_rank, used by the window
// segmenter where h*w + 1 < C): the logits equal the full-width path's for every attention mode, a
// batch of two and non-square windows, with the tiny test CLIP and with a 512-wide CLIP and FeatUp's
// real jbu_stack checkpoint at the paper's 224 window; it is used only where it has fewer channels.
#include <doctest/doctest.h>

#include <segearth/core/clip_model.hpp>
#include <segearth/core/segmenter/window_segmenter.hpp>
#include <segearth/core/upsampler/upsampler_file.hpp>

#include "support/tensor_checks.hpp"
#include "support/test_paths.hpp"

using namespace segearth::core;
using segearth::test::fixture;
using segearth::test::random_queries;
using segearth::test::relative_error;

TEST_CASE("low-rank SimFeatUp gives the full-width logits for every attention mode, batch 2, non-square windows") {
    auto clip = load_clip(fixture("tiny_clip.safetensors")).model;  // embedding 32
    auto up = load_upsampler(fixture("upsampler.safetensors"), 32).model;
    const auto text = random_queries(6, 32, 11);
    torch::manual_seed(5);
    // Tokens: 4 x 3 (r = 13), 5 x 4 (r = 21), 3 x 6 (r = 19): fewer than 32 channels.
    for (const auto& [h, w] : {std::pair{64, 48}, {80, 64}, {48, 96}}) {
        const auto windows = torch::rand({2, 3, h, w});
        for (const auto attention : {AttentionKind::segearth, AttentionKind::clearclip, AttentionKind::sclip,
                                     AttentionKind::maskclip, AttentionKind::vanilla}) {
            const std::string mode = to_string(attention);
            CAPTURE(h);
            CAPTURE(w);
            CAPTURE(mode);
            WindowSegmenter low(clip, text, UpsamplerKind::simfeatup, up, {attention, -0.3, true});
            WindowSegmenter full(clip, text, UpsamplerKind::simfeatup, up, {attention, -0.3, false});
            CHECK(relative_error(low.logits(windows), full.logits(windows)) < 1e-5);
        }
    }
}

TEST_CASE("low-rank SimFeatUp is used only for inference on fewer than C channels") {
    auto up = load_upsampler(fixture("upsampler.safetensors"), 32).model;
    torch::NoGradGuard no_grad;
    CHECK(up->low_rank_pays(torch::zeros({1, 32, 3, 10})));    // r = 31 < 32
    CHECK_FALSE(up->low_rank_pays(torch::zeros({1, 32, 1, 31})));  // r = 32 = C: nothing saved
    CHECK_FALSE(up->low_rank_pays(torch::zeros({2, 32, 6, 6})));   // r = 37 > C
    {
        torch::AutoGradMode grad(true);  // training: the full-width path, with its gradients
        CHECK_FALSE(up->low_rank_pays(torch::zeros({1, 32, 3, 3})));
    }
    up->train();
    CHECK_FALSE(up->low_rank_pays(torch::zeros({1, 32, 3, 3})));
    up->eval();
    CHECK_THROWS(up->forward_low_rank(torch::zeros({1, 32, 6, 6}), torch::zeros({1, 3, 96, 96})));
    // r >= C: the segmenter takes the full-width path and gives its logits.
    auto clip = load_clip(fixture("tiny_clip.safetensors")).model;
    const auto text = random_queries(4, 32, 11);
    torch::manual_seed(9);
    const auto windows = torch::rand({1, 3, 96, 96});  // 6 x 6 tokens
    WindowSegmenter low(clip, text, UpsamplerKind::simfeatup, up, {AttentionKind::segearth, -0.3, true});
    WindowSegmenter full(clip, text, UpsamplerKind::simfeatup, up, {AttentionKind::segearth, -0.3, false});
    CHECK(torch::equal(low.logits(windows), full.logits(windows)));
}

TEST_CASE("low-rank SimFeatUp at the paper's size: a 512-wide CLIP and FeatUp's jbu_stack on 224 windows (r = 197)") {
    auto clip = load_clip(fixture("tiny_clip_512.safetensors")).model;
    auto up = load_upsampler(segearth::test::shared_data_file("featup/clip_jbu_stack_cocostuff.ckpt"), 512).model;
    const auto text = random_queries(9, 512, 11);
    torch::manual_seed(2);
    const auto windows = torch::rand({2, 3, 224, 224});
    WindowSegmenter low(clip, text, UpsamplerKind::simfeatup, up, {AttentionKind::segearth, -0.3, true});
    WindowSegmenter full(clip, text, UpsamplerKind::simfeatup, up, {AttentionKind::segearth, -0.3, false});
    const auto a = low.logits(windows), b = full.logits(windows);
    CHECK(relative_error(a, b) < 1e-5);
    CHECK(a.argmax(1).eq(b.argmax(1)).to(torch::kFloat).mean().item<double>() > 0.9999);
}
