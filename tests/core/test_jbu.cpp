// SimFeatUp's jbu_one upsampler against an independent Python implementation of METHOD.md 4
// (tests/fixtures/make_upsampler_fixtures.py), and its checkpoint formats.
#include <doctest/doctest.h>

#include <segearth/core/upsampler/adaptive_conv.hpp>
#include <segearth/core/upsampler/upsample_conv.hpp>
#include <segearth/core/upsampler/upsample_pad.hpp>
#include <segearth/core/upsampler/upsampler_file.hpp>
#include <segearth/error.hpp>

#include "upsampler/range_kernel_cpu.hpp"

#include "support/reference_operators.hpp"
#include "support/tensor_checks.hpp"
#include "support/test_paths.hpp"

using namespace segearth::core;
using segearth::test::fixture;
using segearth::test::relative_error;

namespace {

constexpr double tolerance = 1e-4;  // float32 through four steps against float64

TensorMap expected() { return read_weights(fixture("upsampler_expected.safetensors")).tensors; }

// The unfused torch reference of upsample2x_bicubic_reflect_pad: interpolate x2 (bicubic, align_corners
// false), then reflection_pad2d.
torch::Tensor interpolate_then_pad(const torch::Tensor& x, int64_t pad) {
    namespace F = torch::nn::functional;
    const auto upsampled = F::interpolate(x, F::InterpolateFuncOptions()
                                                 .size(std::vector<int64_t>{2 * x.size(2), 2 * x.size(3)})
                                                 .mode(torch::kBicubic)
                                                 .align_corners(false));
    return F::pad(upsampled, F::PadFuncOptions({pad, pad, pad, pad}).mode(torch::kReflect));
}

}  // namespace

TEST_CASE("one JBU step's kernels and output match the reference") {
    auto up = load_upsampler(fixture("upsampler.safetensors"), 32).model;
    const auto e = expected();
    torch::NoGradGuard no_grad;
    const auto& features = e.at("features");
    const auto g = torch::adaptive_avg_pool2d(e.at("guidance"), {8, 8});
    CHECK(relative_error(up->step(0)->kernels(g), e.at("step1_kernels")) < tolerance);
    CHECK(relative_error(up->step(0)->forward(features, e.at("guidance")), e.at("step1")) < tolerance);
}

TEST_CASE("jbu_one upsamples x16 as the reference, square and non-square") {
    auto up = load_upsampler(fixture("upsampler.safetensors"), 32).model;
    const auto e = expected();
    torch::NoGradGuard no_grad;
    const auto out = up->forward(e.at("features"), e.at("guidance"));
    CHECK(out.sizes() == torch::IntArrayRef({2, 32, 64, 64}));
    CHECK(relative_error(out, e.at("output")) < tolerance);
    CHECK(relative_error(up->forward(e.at("features_odd"), e.at("guidance_odd")), e.at("output_odd")) < tolerance);
}

TEST_CASE("the differentiable path (training) and the fused CPU inference path agree") {
    // Inference (eval, no gradient) folds the upsampling into the kernels and runs pixel-major;
    // training runs the autograd operators. Both are checked against the reference above; here
    // against each other, step kernels included, on the non-square input.
    auto up = load_upsampler(fixture("upsampler.safetensors"), 32).model;
    const auto e = expected();
    const auto g = torch::adaptive_avg_pool2d(e.at("guidance_odd"), {2 * e.at("features_odd").size(2),
                                                                     2 * e.at("features_odd").size(3)});
    const auto differentiable = up->forward(e.at("features_odd"), e.at("guidance_odd"));
    const auto differentiable_kernels = up->step(0)->kernels(g);
    REQUIRE(differentiable.requires_grad());
    torch::NoGradGuard no_grad;
    const auto fused = up->forward(e.at("features_odd"), e.at("guidance_odd"));
    CHECK(fused.is_contiguous(torch::MemoryFormat::ChannelsLast));
    CHECK(relative_error(fused, differentiable) < 1e-5);
    CHECK(relative_error(up->step(0)->kernels(g), differentiable_kernels) < 1e-5);
}

TEST_CASE("the authors' Lightning checkpoint format loads only the upsampler") {
    const auto from_ckpt = load_upsampler(fixture("upsampler_lightning.ckpt"), 32);
    CHECK(from_ckpt.format == WeightsFormat::lightning_checkpoint);
    CHECK(from_ckpt.prefix == "upsampler.");
    auto plain = load_upsampler(fixture("upsampler.safetensors"), 32).model;
    const auto theirs = from_ckpt.model->named_parameters();
    for (const auto& p : plain->named_parameters()) {
        CAPTURE(p.key());
        CHECK(torch::equal(p.value(), theirs[p.key()]));
    }
}

TEST_CASE("an upsampler trained for another feature width is refused with what to do") {
    const auto file = fixture("upsampler_768.safetensors");
    CHECK_THROWS_WITH_AS(load_upsampler(file, 32),
                         (file.string() + ": this upsampler was trained for 768-wide features but the CLIP model gives "
                                          "32-wide ones: train one for this model with `segearth train`, or use "
                                          "--upsampler bilinear")
                             .c_str(),
                         segearth::FileError);
}

TEST_CASE("a file without an upsampler is refused") {
    const auto file = fixture("tiny_clip.safetensors");
    CHECK_THROWS_WITH_AS(load_upsampler(file, 32),
                         (file.string() + ": not an upsampler: no tensor named 'up.range_temp' or 'up1.range_temp' "
                                          "(expected the authors' SimFeatUp jbu_one checkpoint, a FeatUp jbu_stack "
                                          "checkpoint or a file written by segearth train)")
                             .c_str(),
                         segearth::FileError);
}

TEST_CASE("segearth's own upsampler files round-trip with their metadata") {
    JbuUpsampler original(48);
    const auto file = segearth::test::scratch_dir("upsampler_file") / "up.safetensors";
    save_upsampler(file, original, {{"trained_on", "test"}});
    auto loaded = load_upsampler(file, 48);
    CHECK(loaded.prefix.empty());
    const auto theirs = loaded.model->named_parameters();
    for (const auto& p : original->named_parameters()) CHECK(torch::equal(p.value(), theirs[p.key()]));
    const auto metadata = read_safetensors_metadata(file);
    CHECK(metadata.at("architecture") == "jbu_one");
    CHECK(metadata.at("feature_dim") == "48");
    CHECK(metadata.at("trained_on") == "test");
}

TEST_CASE("gradients reach every upsampler parameter (training needs them)") {
    JbuUpsampler up(8);
    up->train();
    const auto out = up->forward(torch::randn({1, 8, 3, 3}), torch::randn({1, 3, 48, 48}));
    out.square().mean().backward();
    for (const auto& p : up->named_parameters()) {
        CAPTURE(p.key());
        REQUIRE(p.value().grad().defined());
        CHECK(p.value().grad().abs().sum().item<double>() > 0.0);
    }
}

TEST_CASE("a source too small for the reflection padding is refused with the fix") {
    JbuUpsampler up(8);
    torch::NoGradGuard no_grad;
    CHECK_THROWS_WITH_AS(up->forward(torch::randn({1, 8, 2, 2}), torch::randn({1, 3, 32, 32})),
                         doctest::Contains("the upsampler's reflection padding needs at least 6 x 6 pixels at each "
                                           "step, got 4 x 4: use a larger window or --upsampler bilinear"),
                         c10::Error);
}

TEST_CASE("the fused x2 bicubic upsample + reflection pad equals interpolate then reflection_pad2d") {
    torch::manual_seed(9);
    for (const auto& shape : std::vector<std::vector<int64_t>>{{1, 3, 3, 3}, {2, 5, 7, 4}, {1, 512, 14, 14}, {1, 2, 1, 9}}) {
        CAPTURE(shape[2]);
        CAPTURE(shape[3]);
        for (auto dtype : {torch::kFloat, torch::kDouble}) {
            const auto x = torch::randn(shape, torch::TensorOptions().dtype(dtype));
            const int64_t pad = std::min<int64_t>(5, std::min(2 * shape[2], 2 * shape[3]) - 1);
            const auto expected = interpolate_then_pad(x, pad);
            torch::NoGradGuard no_grad;
            CHECK(relative_error(upsample2x_bicubic_reflect_pad(x, pad), expected) < 1e-6);
        }
    }
}

TEST_CASE("the fused upsample + pad backward equals the gradient through interpolate and reflection_pad2d") {
    torch::manual_seed(10);
    for (const auto& shape : std::vector<std::vector<int64_t>>{{1, 3, 3, 3}, {2, 5, 7, 4}, {1, 2, 1, 9}, {1, 4, 14, 14}}) {
        CAPTURE(shape[2]);
        CAPTURE(shape[3]);
        const int64_t pad = std::min<int64_t>(5, std::min(2 * shape[2], 2 * shape[3]) - 1);
        const auto x = torch::randn(shape, torch::TensorOptions().dtype(torch::kDouble).requires_grad(true));
        const auto reference = interpolate_then_pad(x, pad);
        const auto fused = upsample2x_bicubic_reflect_pad(x, pad);
        const auto weights = torch::randn(fused.sizes(), fused.options().requires_grad(false));
        const auto expected = torch::autograd::grad({(reference * weights).sum()}, {x})[0];
        const auto actual = torch::autograd::grad({(fused * weights).sum()}, {x})[0];
        CHECK(relative_error(actual, expected) < 1e-12);
        // And the backward of the float version agrees to float rounding.
        const auto xf = x.detach().to(torch::kFloat).requires_grad_(true);
        const auto actual_f = torch::autograd::grad({(upsample2x_bicubic_reflect_pad(xf, pad) * weights.to(torch::kFloat)).sum()}, {xf})[0];
        CHECK(relative_error(actual_f, expected) < 1e-5);
    }
}

TEST_CASE("the fused inference step equals upsample + pad then adaptive_conv, channels last") {
    torch::manual_seed(11);
    // Channel counts around the 16- and 32-channel blocks, widths around the 6-pixel tile and the border
    // pairs, sources smaller than the 9 x 9 folded window (the general path), non-square sources,
    // batches, and windows other than 11 x 11.
    struct Shape {
        int64_t n, c, h, w, r;
    };
    for (const auto& s : std::vector<Shape>{{1, 1, 3, 3, 5},    {2, 13, 4, 7, 5},   {1, 24, 5, 3, 5},  {1, 40, 9, 6, 5},
                                            {2, 512, 7, 7, 5},  {1, 33, 14, 10, 5}, {2, 24, 12, 19, 5}, {1, 512, 14, 14, 5},
                                            {1, 16, 9, 9, 5},   {1, 6, 4, 5, 2},    {2, 9, 3, 8, 1},    {1, 7, 10, 12, 3},
                                            // 32-channel blocks (AVX-512), then a 16-channel one and a tail
                                            {1, 48, 10, 11, 5}, {2, 208, 9, 13, 5}, {1, 67, 11, 9, 5}}) {
        CAPTURE(s.c);
        CAPTURE(s.h);
        CAPTURE(s.w);
        CAPTURE(s.r);
        for (auto dtype : {torch::kFloat, torch::kDouble}) {
            const auto opts = torch::TensorOptions().dtype(dtype);
            const auto source = torch::randn({s.n, s.c, s.h, s.w}, opts);
            const int64_t side = 2 * s.r + 1;
            const auto kernel = torch::softmax(torch::randn({s.n, side * side, 2 * s.h, 2 * s.w}, opts), 1);
            const auto expected = segearth::test::adaptive_conv_reference(upsample2x_bicubic_reflect_pad(source, s.r), kernel);
            torch::NoGradGuard no_grad;
            const auto fused = upsample_adaptive_conv(source, kernel);
            CHECK(fused.sizes() == expected.sizes());
            CHECK(fused.is_contiguous(torch::MemoryFormat::ChannelsLast));
            CHECK(relative_error(fused, expected) < (dtype == torch::kFloat ? 1e-5 : 1e-12));
            // Channels-last inputs (the previous step's output) give the same result.
            const auto from_channels_last = upsample_adaptive_conv(
                source.contiguous(torch::MemoryFormat::ChannelsLast), kernel.contiguous(torch::MemoryFormat::ChannelsLast));
            CHECK(relative_error(from_channels_last, expected) < (dtype == torch::kFloat ? 1e-5 : 1e-12));
        }
    }
}

TEST_CASE("with a gradient the step runs the differentiable operators") {
    torch::manual_seed(12);
    const auto source = torch::randn({1, 4, 6, 5}, torch::TensorOptions().dtype(torch::kDouble).requires_grad(true));
    const auto kernel = torch::softmax(torch::randn({1, 121, 12, 10}, torch::kDouble), 1);
    const auto out = upsample_adaptive_conv(source, kernel);
    REQUIRE(out.requires_grad());
    const auto expected = segearth::test::adaptive_conv_reference(upsample2x_bicubic_reflect_pad(source, 5), kernel);
    CHECK(relative_error(out, expected) < 1e-12);
    const auto grad = torch::autograd::grad({out.sum()}, {source})[0];
    const auto grad_expected = torch::autograd::grad({expected.sum()}, {source})[0];
    CHECK(relative_error(grad, grad_expected) < 1e-12);
}

TEST_CASE("the fused step refuses kernels that do not fit its source, with what was expected") {
    torch::NoGradGuard no_grad;
    const auto source = torch::randn({1, 4, 6, 5});
    CHECK_THROWS_WITH_AS(upsample_adaptive_conv(source, torch::randn({1, 121, 12, 12})),
                         doctest::Contains("does not match the source [1, 4, 6, 5]: expected (1, 121, 12, 10)"),
                         c10::Error);
    CHECK_THROWS_WITH_AS(upsample_adaptive_conv(source, torch::randn({1, 120, 12, 10})),
                         doctest::Contains("the kernel has 120 channels; expected an odd square number of taps"),
                         c10::Error);
    CHECK_THROWS_WITH_AS(upsample_adaptive_conv(torch::randn({1, 4, 2, 2}), torch::randn({1, 121, 4, 4})),
                         doctest::Contains("reflection padding needs at least 6 x 6 pixels at each step, got 4 x 4"),
                         c10::Error);
}

TEST_CASE("the range kernel pass in float (vector blocks, polynomial exp) equals its double form") {
    // 2 x 100 pixels: three full blocks of 32 (vector path) and a tail of 4 (scalar) per image; a
    // temperature of 60 on correlations in [-1, 1] puts exponents far below -87, where float's
    // exponential flushes to 0.
    const int64_t n = 2, taps = 121, g = 3, pixels = 100;
    torch::manual_seed(11);
    const auto correlation = torch::rand({n, taps, pixels}, torch::kDouble) * 2 - 1;
    const auto spatial = torch::rand({taps}, torch::kDouble);
    const auto guidance = torch::randn({n, g, pixels}, torch::kDouble);
    const auto run = [&](torch::ScalarType type) {
        const auto c = correlation.to(type).contiguous(), s = spatial.to(type).contiguous();
        const auto gd = guidance.to(type).contiguous();
        auto out = torch::empty({n, pixels, taps + g}, c.options());
        AT_DISPATCH_FLOATING_TYPES(type, "range_kernel_test", [&] {
            segearth::core::detail::normalised_range_kernel_cpu<scalar_t>(
                c.data_ptr<scalar_t>(), scalar_t(60), s.data_ptr<scalar_t>(), gd.data_ptr<scalar_t>(), n, taps, g,
                pixels, out.data_ptr<scalar_t>());
        });
        return out.to(torch::kDouble);
    };
    const auto want = run(torch::kDouble), got = run(torch::kFloat);
    CHECK(relative_error(got, want) < 1e-6);
    // Each pixel's kernel part sums to 1 (normalised by sum a s), in the vector blocks and the tail.
    const auto sums = got.narrow(2, 0, taps).sum(2);
    CHECK(torch::allclose(sums, torch::ones_like(sums), 0, 1e-5));
}
