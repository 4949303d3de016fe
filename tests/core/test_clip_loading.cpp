// Loading CLIP from every supported file format, and the errors for files that do not fit.
#include <doctest/doctest.h>

#include <segearth/core/clip_model.hpp>
#include <segearth/error.hpp>

#include "support/test_paths.hpp"

#include <fstream>

using namespace segearth::core;
using segearth::test::fixture;

namespace {

bool same_parameters(ClipModel& a, ClipModel& b) {
    const auto pb = b->named_parameters();
    for (const auto& p : a->named_parameters())
        if (!torch::equal(p.value(), pb[p.key()])) return false;
    return true;
}

}  // namespace

TEST_CASE("all formats load the same tiny CLIP") {
    auto reference = load_clip(fixture("tiny_clip.safetensors"));
    CHECK(reference.info.format == WeightsFormat::safetensors);
    CHECK(reference.info.config.vision.width == 128);
    CHECK(reference.info.config.vision.heads == 2);
    CHECK(reference.info.config.vision.layers == 3);
    CHECK(reference.info.config.vision.grid_size == 4);
    CHECK(reference.info.config.text.layers == 2);
    CHECK(reference.info.config.embed_dim == 32);

    const std::vector<std::tuple<std::string, WeightsFormat, std::string>> files{
        {"tiny_clip_torchscript.pt", WeightsFormat::torchscript, ""},
        {"tiny_clip_state_dict.pt", WeightsFormat::torch_save, ""},
        {"tiny_clip_lightning.ckpt", WeightsFormat::lightning_checkpoint, "clip."}};
    for (const auto& [name, format, prefix] : files) {
        CAPTURE(name);
        auto loaded = load_clip(fixture(name));
        CHECK(std::string(to_string(loaded.info.format)) == to_string(format));
        CHECK(loaded.info.prefix == prefix);
        CHECK(same_parameters(loaded.model, reference.model));
    }
}

TEST_CASE("inspect reports the stored dtype and the parameter count") {
    const auto info = inspect_clip(fixture("tiny_clip_torchscript.pt"));
    CHECK(info.dtype == "Half");
    CHECK(info.parameter_count == info.config.parameter_count());
    CHECK(info.parameter_count > 6000000);
}

TEST_CASE("loading a Lightning checkpoint never runs the code its pickle names") {
    // The fixture holds an object whose __reduce__ is os.system("touch <fixtures>/pwned").
    std::filesystem::remove(fixture("pwned"));
    load_clip(fixture("tiny_clip_lightning.ckpt"));
    CHECK_FALSE(std::filesystem::exists(fixture("pwned")));
}

TEST_CASE("a missing tensor is named") {
    const auto file = fixture("tiny_clip_missing.pt");
    CHECK_THROWS_WITH_AS(load_clip(file),
                         (file.string() + ": does not match the ViT (width 128, 3 layers, patch 16, grid 4; text width "
                                          "128, 2 layers; embedding 32) architecture inferred from its shapes; missing "
                                          "tensors (1): visual.proj")
                             .c_str(),
                         segearth::FileError);
}

TEST_CASE("a wrong shape is reported as expected vs found") {
    const auto file = fixture("tiny_clip_mismatch.safetensors");
    CHECK_THROWS_WITH_AS(load_clip(file),
                         (file.string() + ": does not match the ViT (width 128, 3 layers, patch 16, grid 4; text width "
                                          "128, 2 layers; embedding 32) architecture inferred from its shapes; wrong "
                                          "shapes (1): visual.ln_post.weight: expected [128], found [129]")
                             .c_str(),
                         segearth::FileError);
}

TEST_CASE("a file without CLIP tensors is refused") {
    const auto dir = segearth::test::scratch_dir("not_clip");
    write_safetensors(dir / "other.safetensors", {{"conv.weight", torch::zeros({2, 2})}});
    CHECK_THROWS_WITH_AS(load_clip(dir / "other.safetensors"),
                         ((dir / "other.safetensors").string() +
                          ": not a CLIP ViT model: no tensor named 'visual.conv1.weight' (ResNet CLIPs are not "
                          "supported; use a ViT-B/16, ViT-B/32 or ViT-L/14 file)")
                             .c_str(),
                         segearth::FileError);
}

TEST_CASE("a truncated CLIP file is a FileError naming the file") {
    const auto dir = segearth::test::scratch_dir("truncated_clip");
    for (const std::string name : {"tiny_clip_state_dict.pt", "tiny_clip.safetensors", "tiny_clip_torchscript.pt"}) {
        CAPTURE(name);
        const auto source = fixture(name);
        const auto target = dir / name;
        std::ifstream in(source, std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::ofstream(target, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
        CHECK_THROWS_WITH_AS(load_clip(target), doctest::Contains(target.string().c_str()), segearth::FileError);
    }
}
