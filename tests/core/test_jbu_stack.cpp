// FeatUp's jbu_stack upsampler (METHOD.md 4b): the authors' two trained checkpoints for CLIP ViT-B/16
// load from their CUDA-saved Lightning files and upsample as the independent float64 reference of
// tests/fixtures/make_featup_fixtures.py computes from the same weights.
#include <doctest/doctest.h>

#include <segearth/core/upsampler/upsampler_file.hpp>
#include <segearth/error.hpp>

#include "support/tensor_checks.hpp"
#include "support/test_paths.hpp"

#include <torch/torch.h>

using namespace segearth::core;
using segearth::test::fixture;
using segearth::test::relative_error;
using segearth::test::shared_data_file;

namespace {

constexpr double tolerance = 1e-4;  // float32 through four steps against float64

const char* const checkpoints[][2] = {{"clip", "featup/clip_jbu_stack_cocostuff.ckpt"},
                                      {"maskclip", "featup/maskclip_jbu_stack_cocostuff.ckpt"}};

}  // namespace

TEST_CASE("both FeatUp jbu_stack checkpoints load as four independent 7 x 7 modules") {
    for (const auto& [name, file] : checkpoints) {
        CAPTURE(name);
        auto loaded = load_upsampler(shared_data_file(file), 512);
        CHECK(loaded.prefix == "upsampler.");
        CHECK(loaded.format == WeightsFormat::lightning_checkpoint);
        auto& up = loaded.model;
        CHECK(up->architecture() == JbuArchitecture::stack);
        for (size_t i = 0; i < 4; ++i) CHECK(up->step(i)->radius() == 3);
        CHECK(up->step(0).ptr() != up->step(1).ptr());
        CHECK(up->named_parameters().size() == 4 * 10 + 2);
        // The trained values arrived (each step learned its own temperature).
        CHECK(up->step(0)->range_temp.item<double>() != up->step(1)->range_temp.item<double>());
    }
}

TEST_CASE("jbu_stack upsamples x16 as the float64 reference of METHOD.md 4b") {
    const auto e = read_weights(fixture("featup_expected.safetensors")).tensors;
    torch::NoGradGuard no_grad;
    for (const auto& [name, file] : checkpoints) {
        CAPTURE(name);
        auto up = load_upsampler(shared_data_file(file), 512).model;
        for (const std::string suffix : {"", "_odd"}) {
            CAPTURE(suffix);
            const std::string key = std::string(name) + ".";
            const auto out = up->forward(e.at(key + "features" + suffix), e.at(key + "guidance" + suffix));
            CHECK(relative_error(out, e.at(key + "output" + suffix)) < tolerance);
        }
    }
}

TEST_CASE("jbu_stack's differentiable path gives what the fused inference path gives") {
    const auto e = read_weights(fixture("featup_expected.safetensors")).tensors;
    auto up = load_upsampler(shared_data_file(checkpoints[0][1]), 512).model;
    const auto& features = e.at("clip.features_odd");
    const auto& guidance = e.at("clip.guidance_odd");
    const auto differentiable = up->forward(features, guidance);
    torch::NoGradGuard no_grad;
    CHECK(relative_error(up->forward(features, guidance), differentiable.detach()) < 1e-5);
}

TEST_CASE("a jbu_stack checkpoint missing a module is refused, naming the tensors") {
    auto weights = read_weights(shared_data_file(checkpoints[0][1])).tensors;
    for (auto it = weights.begin(); it != weights.end();)
        it = it->first.rfind("upsampler.up3.", 0) == 0 ? weights.erase(it) : std::next(it);
    const auto file = segearth::test::scratch_dir("jbu_stack_missing") / "partial.safetensors";
    write_safetensors(file, weights, {});
    const std::string message = file.string() + ": not a usable jbu_stack upsampler: missing upsampler.up3.";
    CHECK_THROWS_WITH_AS(load_upsampler(file, 512), doctest::Contains(message.c_str()), segearth::FileError);
}
