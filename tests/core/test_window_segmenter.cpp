// The window segmenter (METHOD.md 3-5), the class decision and the window grid (METHOD.md 6),
// each against a direct computation from the method's text.
#include <doctest/doctest.h>

#include <segearth/core/clip_model.hpp>
#include <segearth/core/segmenter/auto_batch.hpp>
#include <segearth/core/segmenter/class_decision.hpp>
#include <segearth/core/segmenter/window_grid.hpp>
#include <segearth/core/segmenter/window_segmenter.hpp>
#include <segearth/core/upsampler/upsampler_file.hpp>
#include <segearth/error.hpp>

#include <torch/cuda.h>

#include "support/tensor_checks.hpp"
#include "support/test_paths.hpp"

using namespace segearth::core;
using segearth::test::fixture;
using segearth::test::random_queries;
using segearth::test::relative_error;
namespace F = torch::nn::functional;

namespace {

torch::Tensor clip_normalised(const torch::Tensor& rgb) {
    const auto mean = torch::tensor({0.48145466, 0.4578275, 0.40821073}).view({1, 3, 1, 1});
    const auto stddev = torch::tensor({0.26862954, 0.26130258, 0.27577711}).view({1, 3, 1, 1});
    return (rgb - mean) / stddev;
}

// METHOD.md 5 written out: cosine similarity of every upsampled feature with every query, plus
// lambda times the [CLS] similarity.
torch::Tensor expected_logits(const torch::Tensor& features, const torch::Tensor& cls, const torch::Tensor& text,
                              double lambda) {
    const auto u = features / features.norm(2, 1, true);
    const auto c = cls / cls.norm(2, 1, true);
    return torch::einsum("nehw,qe->nqhw", {u, text}) + lambda * torch::matmul(c, text.t()).unsqueeze(-1).unsqueeze(-1);
}

}  // namespace

TEST_CASE("window logits: CLIP dense features, SimFeatUp, normalisation and the [CLS] bias term") {
    auto clip = load_clip(fixture("tiny_clip.safetensors")).model;
    auto up = load_upsampler(fixture("upsampler.safetensors"), 32).model;
    const auto text = random_queries(5, 32);
    torch::manual_seed(3);
    const auto windows = torch::rand({2, 3, 64, 48});
    torch::NoGradGuard no_grad;
    const auto x = clip_normalised(windows);
    const auto dense = clip->visual->dense(x, AttentionKind::segearth);

    WindowSegmenter simfeatup(clip, text, UpsamplerKind::simfeatup, up, {AttentionKind::segearth, -0.3});
    const auto got = simfeatup.logits(windows);
    CHECK(got.sizes() == torch::IntArrayRef({2, 5, 64, 48}));
    CHECK(relative_error(got, expected_logits(up->forward(dense.patches, x), dense.cls, text, -0.3)) < 1e-5);

    WindowSegmenter bilinear(clip, text, UpsamplerKind::bilinear, nullptr, {AttentionKind::segearth, 0.0});
    const auto resized = F::interpolate(dense.patches, F::InterpolateFuncOptions().size(std::vector<int64_t>{64, 48})
                                                           .mode(torch::kBilinear).align_corners(false));
    CHECK(relative_error(bilinear.logits(windows), expected_logits(resized, dense.cls, text, 0.0)) < 1e-5);

    WindowSegmenter none(clip, text, UpsamplerKind::none, nullptr, {AttentionKind::segearth, -0.3});
    const auto coarse = expected_logits(dense.patches, dense.cls, text, -0.3);
    const auto upsized = F::interpolate(coarse, F::InterpolateFuncOptions().size(std::vector<int64_t>{64, 48})
                                                    .mode(torch::kBilinear).align_corners(false));
    CHECK(relative_error(none.logits(windows), upsized) < 1e-5);

    // The attention option reaches the last block: MaskCLIP's identity attention gives other logits.
    WindowSegmenter maskclip(clip, text, UpsamplerKind::bilinear, nullptr, {AttentionKind::maskclip, 0.0});
    const auto dense_maskclip = clip->visual->dense(x, AttentionKind::maskclip);
    const auto resized_maskclip = F::interpolate(
        dense_maskclip.patches,
        F::InterpolateFuncOptions().size(std::vector<int64_t>{64, 48}).mode(torch::kBilinear).align_corners(false));
    CHECK(relative_error(maskclip.logits(windows), expected_logits(resized_maskclip, dense_maskclip.cls, text, 0.0)) <
          1e-5);
    CHECK(relative_error(maskclip.logits(windows), bilinear.logits(windows)) > 1e-2);
}

TEST_CASE("a window that is not a multiple of the patch is zero-padded in normalised space, floor-half first") {
    auto clip = load_clip(fixture("tiny_clip.safetensors")).model;
    auto up = load_upsampler(fixture("upsampler.safetensors"), 32).model;
    const auto text = random_queries(3, 32);
    WindowSegmenter seg(clip, text, UpsamplerKind::simfeatup, up);
    torch::manual_seed(5);
    const auto window = torch::rand({1, 3, 37, 70});  // -> 48 x 80: 5 rows top, 6 bottom; 5 left, 5 right
    torch::NoGradGuard no_grad;
    const auto padded = F::pad(clip_normalised(window), F::PadFuncOptions({5, 5, 5, 6}));
    const auto dense = clip->visual->dense(padded);
    const auto full = expected_logits(up->forward(dense.patches, padded), dense.cls, text, -0.3);
    CHECK(relative_error(seg.logits(window), full.narrow(2, 5, 37).narrow(3, 5, 70)) < 1e-5);

    // Narrower than the upsampler's minimum (3 tokens): padded up to 48 pixels.
    const auto strip = torch::rand({1, 3, 64, 1});
    CHECK(seg.minimum_side() == 48);
    const auto strip_padded = F::pad(clip_normalised(strip), F::PadFuncOptions({23, 24, 0, 0}));
    const auto dense_strip = clip->visual->dense(strip_padded);
    const auto strip_full = expected_logits(up->forward(dense_strip.patches, strip_padded), dense_strip.cls, text, -0.3);
    CHECK(relative_error(seg.logits(strip), strip_full.narrow(3, 23, 1)) < 1e-5);
}

TEST_CASE("--batch auto on the CPU is one window, sized without running the model") {
    auto clip = load_clip(fixture("tiny_clip.safetensors")).model;
    WindowSegmenter seg(clip, random_queries(3, 32), UpsamplerKind::bilinear);
    const auto sized = auto_batch(seg, 224);
    CHECK(sized.windows == 1);
    CHECK(sized.bytes_per_window == 0);
    CHECK(seg.timings().windows == 0);
}

// The CUDA twin (tools/gpu_check.sh): two probe passes measure a window's memory; the batch they
// choose runs, and the probes leave no trace in the timings.
TEST_CASE("--batch auto on CUDA: as many windows as half the free memory holds, and they run" *
          doctest::skip(!torch::cuda::is_available())) {
    auto clip = load_clip(fixture("tiny_clip.safetensors")).model;
    auto up = load_upsampler(fixture("upsampler.safetensors"), 32).model;
    clip->to(torch::kCUDA);
    up->to(torch::kCUDA);
    WindowSegmenter seg(clip, random_queries(3, 32).cuda(), UpsamplerKind::simfeatup, up);
    const auto sized = auto_batch(seg, 64, 0.5, 64);
    MESSAGE("auto batch " << sized.windows << ", " << sized.bytes_per_window << " bytes a window, "
                          << sized.free_bytes << " free");
    CHECK(sized.bytes_per_window > 0);
    CHECK(sized.windows >= 1);
    CHECK(sized.windows <= 64);
    CHECK(seg.timings().windows == 0);
    const auto logits = seg.logits(torch::rand({sized.windows, 3, 64, 64}));
    CHECK(logits.size(0) == sized.windows);
    CHECK(torch::isfinite(logits).all().item<bool>());
}

TEST_CASE("the segmenter refuses an upsampler of another width and a missing one") {
    auto clip = load_clip(fixture("tiny_clip.safetensors")).model;
    auto wide = load_upsampler(fixture("upsampler_768.safetensors"), 768).model;
    const auto text = random_queries(2, 32);
    CHECK_THROWS_WITH_AS(WindowSegmenter(clip, text, UpsamplerKind::simfeatup, wide),
                         "the upsampler works on 768-wide features but this CLIP's are 32 wide: train one with "
                         "'segearth train' or use --upsampler bilinear",
                         segearth::UsageError);
    CHECK_THROWS_AS(WindowSegmenter(clip, text, UpsamplerKind::simfeatup, nullptr), segearth::UsageError);
}

TEST_CASE("decision: softmax over all queries x logit scale, synonym max, threshold, lowest index on ties") {
    // Queries: class 0 has two synonyms, class 1 one, class 2 one.
    DecisionRule rule{{0, 0, 1, 2}, 3, 10.0, 0.3, 2};
    rule.validate();
    // Pixel 0: query 1 wins clearly. Pixel 1: classes 0 and 1 tie exactly. Pixel 2: all equal (p = 0.25 < 0.3).
    const auto logits = torch::tensor({{0.0f, 0.1f, 0.3f}, {0.9f, 0.5f, 0.3f}, {0.1f, 0.5f, 0.3f}, {0.2f, 0.0f, 0.3f}})
                            .view({4, 1, 3});
    const auto d = decide(logits, rule);
    const auto p = torch::softmax(logits * 10.0, 0);
    const auto class0 = torch::maximum(p[0], p[1]);
    CHECK(relative_error(d.probabilities[0], class0) < 1e-6);
    CHECK(relative_error(d.probabilities[1], p[2]) < 1e-6);
    CHECK(relative_error(d.probabilities[2], p[3]) < 1e-6);
    CHECK(d.labels.dtype() == torch::kUInt8);
    CHECK(d.labels[0][0].item<int>() == 0);
    CHECK(d.labels[0][1].item<int>() == 0);  // tie between classes 0 and 1: the lower index
    CHECK(d.labels[0][2].item<int>() == 2);  // below the threshold: the background index
    CHECK(d.confidence[0][2].item<float>() == doctest::Approx(0.25));
}

TEST_CASE("decision rules that cannot work are usage errors") {
    CHECK_THROWS_WITH_AS((DecisionRule{{0}, 1, 50, 0, 1}.validate()), "--bg-index 1 is not a class index (0..0)",
                         segearth::UsageError);
    CHECK_THROWS_WITH_AS((DecisionRule{{0}, 1, 50, 1.5, 0}.validate()),
                         "--prob-threshold must lie in [0, 1], got 1.500000", segearth::UsageError);
    CHECK_THROWS_AS((DecisionRule{{}, 0, 50, 0, 0}.validate()), segearth::UsageError);
}

TEST_CASE("window grid: METHOD.md 6's rows, the last window pulled back, one window for small images") {
    const auto spans = window_spans(500, 224, 112);  // n = (500 - 224 + 111) // 112 + 1 = 4
    REQUIRE(spans.size() == 4);
    CHECK(spans[0].begin == 0);
    CHECK(spans[1].begin == 112);
    CHECK(spans[2].begin == 224);
    CHECK(spans[2].end == 448);
    CHECK(spans[3].begin == 276);  // pulled back to end at 500
    CHECK(spans[3].end == 500);
    const auto exact = window_spans(336, 224, 112);
    REQUIRE(exact.size() == 2);
    CHECK(exact[1].begin == 112);
    const auto small = window_spans(100, 224, 112);
    REQUIRE(small.size() == 1);
    CHECK(small[0].begin == 0);
    CHECK(small[0].end == 100);
    CHECK(window_spans(1, 224, 112).size() == 1);
}
