// The CLIP forwards against an independent Python implementation of METHOD.md
// (tests/fixtures/make_clip_fixtures.py computes expected.safetensors in float64 from the same weights).
#include <doctest/doctest.h>

#include <segearth/core/clip_model.hpp>
#include <segearth/core/weights.hpp>

#include "support/tensor_checks.hpp"
#include "support/test_paths.hpp"

using namespace segearth::core;
using segearth::test::fixture;
using segearth::test::relative_error;

namespace {

constexpr double tolerance = 1e-4;  // float32 against float64 through 3 blocks

struct TinyClip {
    LoadedClip clip = load_clip(fixture("tiny_clip.safetensors"));
    TensorMap expected = read_weights(fixture("expected.safetensors")).tensors;
    const torch::Tensor& want(const std::string& name) const { return expected.at(name); }
};

}  // namespace

TEST_CASE("ordinary image embedding matches the reference") {
    TinyClip t;
    torch::NoGradGuard no_grad;
    CHECK(relative_error(t.clip.model->visual->encode(t.want("image")), t.want("encode_image")) < tolerance);
}

TEST_CASE("dense forward matches the reference for every last-block attention") {
    TinyClip t;
    torch::NoGradGuard no_grad;
    for (const auto& name : attention_kind_names()) {
        CAPTURE(name);
        const auto out = t.clip.model->visual->dense(t.want("image"), parse_attention_kind(name));
        CHECK(relative_error(out.cls, t.want("dense_cls." + name)) < tolerance);
        CHECK(relative_error(out.patches, t.want("dense_patches." + name)) < tolerance);
    }
}

TEST_CASE("the attentions differ from each other (the switch is not ignored)") {
    TinyClip t;
    torch::NoGradGuard no_grad;
    const auto segearth = t.clip.model->visual->dense(t.want("image"), AttentionKind::segearth).patches;
    const auto vanilla = t.clip.model->visual->dense(t.want("image"), AttentionKind::vanilla).patches;
    CHECK(relative_error(segearth, vanilla) > 1e-2);
}

TEST_CASE("dense forward on a non-square grid resamples the positional embedding as the reference") {
    TinyClip t;
    torch::NoGradGuard no_grad;
    const auto out = t.clip.model->visual->dense(t.want("image_odd"));
    CHECK(out.patches.sizes() == torch::IntArrayRef({1, 32, 3, 5}));
    CHECK(relative_error(out.cls, t.want("dense_cls_odd.segearth")) < tolerance);
    CHECK(relative_error(out.patches, t.want("dense_patches_odd.segearth")) < tolerance);
}

TEST_CASE("training features are the last block's input through ln_post and proj") {
    TinyClip t;
    torch::NoGradGuard no_grad;
    CHECK(relative_error(t.clip.model->visual->training_features(t.want("image")), t.want("train_features")) <
          tolerance);
}

TEST_CASE("text embedding matches the reference, incl. a full-length 77-token row") {
    TinyClip t;
    torch::NoGradGuard no_grad;
    CHECK(relative_error(t.clip.model->encode_text(t.want("text_tokens")), t.want("encode_text")) < tolerance);
}

TEST_CASE("text embedding of one row does not depend on the other rows of the batch") {
    // encode_text cuts the batch at its last end-of-text token; a short row alone must give the same.
    TinyClip t;
    torch::NoGradGuard no_grad;
    const auto all = t.clip.model->encode_text(t.want("text_tokens"));
    const auto first = t.clip.model->encode_text(t.want("text_tokens").slice(0, 0, 1));
    CHECK(relative_error(first, all.slice(0, 0, 1)) < 1e-5);
}

TEST_CASE("an image whose size is not a multiple of the patch size is rejected with the sizes") {
    TinyClip t;
    torch::NoGradGuard no_grad;
    CHECK_THROWS_WITH_AS(t.clip.model->visual->dense(torch::zeros({1, 3, 40, 64})),
                         doctest::Contains("image size 40 x 64 is not a positive multiple of the patch size 16"),
                         c10::Error);
}

TEST_CASE("ViT-B/16-shaped random weights save, load and run one 224 x 224 window") {
    ClipModel original(ClipConfig::named("ViT-B/16"));
    original->eval();
    TensorMap tensors;
    for (const auto& p : original->named_parameters()) tensors.emplace(p.key(), p.value().detach());
    const auto file = segearth::test::scratch_dir("vit_b16") / "vit_b16.safetensors";
    write_safetensors(file, tensors);

    auto loaded = load_clip(file);
    CHECK(loaded.info.config.name() == "ViT-B/16");
    torch::NoGradGuard no_grad;
    const auto window = torch::randn({1, 3, 224, 224});
    const auto out = loaded.model->visual->dense(window);
    CHECK(out.cls.sizes() == torch::IntArrayRef({1, 512}));
    CHECK(out.patches.sizes() == torch::IntArrayRef({1, 512, 14, 14}));
    CHECK(torch::isfinite(out.patches).all().item<bool>());
    CHECK(relative_error(out.patches, original->visual->dense(window).patches) < 1e-6);
    std::filesystem::remove(file);
}

TEST_CASE("ViT-B/32 and ViT-L/14 run one 224 x 224 window") {
    torch::NoGradGuard no_grad;
    for (const std::string name : {"ViT-B/32", "ViT-L/14"}) {
        CAPTURE(name);
        ClipModel model(ClipConfig::named(name));
        model->eval();
        const auto out = model->visual->dense(torch::randn({1, 3, 224, 224}));
        const int64_t grid = 224 / model->config().vision.patch_size;
        CHECK(out.patches.sizes() == torch::IntArrayRef({1, model->config().embed_dim, grid, grid}));
        CHECK(torch::isfinite(out.patches).all().item<bool>());
    }
}
