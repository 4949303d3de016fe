// Architecture inference from tensor shapes, as OpenAI's loader does it.
#include <doctest/doctest.h>

#include <segearth/core/clip_config.hpp>
#include <segearth/error.hpp>

#include <torch/torch.h>

using namespace segearth::core;

namespace {

// Tensors with the right shapes and no memory: inference only looks at shapes.
TensorMap shapes_only(const ClipConfig& config) {
    TensorMap tensors;
    for (const auto& [name, shape] : clip_parameter_shapes(config))
        tensors.emplace(name, torch::zeros({}).expand(shape));
    return tensors;
}

}  // namespace

TEST_CASE("OpenAI's released ViT shapes are recognised by name with their parameter counts") {
    // Parameter counts of OpenAI's released checkpoints (incl. logit_scale), as published for them.
    const std::vector<std::pair<std::string, int64_t>> known{
        {"ViT-B/32", 151277313}, {"ViT-B/16", 149620737}, {"ViT-L/14", 427616513}};
    for (const auto& [name, count] : known) {
        CAPTURE(name);
        const auto config = infer_clip_config(shapes_only(ClipConfig::named(name)));
        CHECK(config.name() == name);
        CHECK(config.parameter_count() == count);
    }
}

TEST_CASE("inferred fields of ViT-L/14") {
    const auto c = infer_clip_config(shapes_only(ClipConfig::named("ViT-L/14")));
    CHECK(c.vision.width == 1024);
    CHECK(c.vision.layers == 24);
    CHECK(c.vision.heads == 16);
    CHECK(c.vision.patch_size == 14);
    CHECK(c.vision.grid_size == 16);
    CHECK(c.vision.image_size() == 224);
    CHECK(c.text.width == 768);
    CHECK(c.text.heads == 12);
    CHECK(c.text.layers == 12);
    CHECK(c.embed_dim == 768);
}

TEST_CASE("an unnamed shape is described, not refused") {
    ClipConfig c;
    c.vision.layers = 3;
    c.vision.width = 128;
    c.vision.heads = 2;
    CHECK(infer_clip_config(shapes_only(c)).name() ==
          "ViT (width 128, 3 layers, patch 16, grid 14; text width 512, 12 layers; embedding 512)");
}

TEST_CASE("inference errors name the tensor") {
    auto tensors = shapes_only(ClipConfig::named("ViT-B/16"));
    tensors.erase("text_projection");
    CHECK_THROWS_WITH_AS(infer_clip_config(tensors), "not a CLIP ViT state dict: tensor 'text_projection' is missing",
                         segearth::Error);
    tensors = shapes_only(ClipConfig::named("ViT-B/16"));
    tensors["visual.positional_embedding"] = torch::zeros({1}).expand({196, 768});
    CHECK_THROWS_WITH_AS(infer_clip_config(tensors),
                         "visual.positional_embedding has 196 rows, expected a square grid plus one class token",
                         segearth::Error);
    tensors = shapes_only(ClipConfig::named("ViT-B/16"));
    for (auto it = tensors.begin(); it != tensors.end();)
        it = it->first.rfind("visual.transformer.resblocks.3.", 0) == 0 ? tensors.erase(it) : std::next(it);
    CHECK_THROWS_WITH_AS(infer_clip_config(tensors),
                         "CLIP state dict has a gap in 'visual.transformer.resblocks.N': blocks are not numbered 0..10",
                         segearth::Error);
}

TEST_CASE("unknown architecture names are refused with the known ones") {
    CHECK_THROWS_WITH_AS(ClipConfig::named("ViT-H/14"),
                         "unknown CLIP architecture 'ViT-H/14' (known: ViT-B/16, ViT-B/32, ViT-L/14, ViT-L/14@336px)",
                         segearth::Error);
}
