// segearth info: model files, rasters, tokens, the machine.
#include <doctest/doctest.h>

#include "run_segearth.hpp"
#include "support/test_paths.hpp"

using segearth::test::fixture;
using segearth::test::run_segearth;

TEST_CASE("info on a TorchScript CLIP names format, architecture, parameters and dtype") {
    const auto r = run_segearth({"info", fixture("tiny_clip_torchscript.pt").string()});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("Format: torchscript (TorchScript archive, as OpenAI releases CLIP)\n") != std::string::npos);
    CHECK(r.out.find("Model: CLIP ViT (width 128, 3 layers, patch 16, grid 4;") != std::string::npos);
    CHECK(r.out.find("(stored as Half)") != std::string::npos);
    CHECK(r.out.find("Embedding: 32\n") != std::string::npos);
}

TEST_CASE("info on a Lightning checkpoint reports the prefix") {
    const auto r = run_segearth({"info", fixture("tiny_clip_lightning.ckpt").string()});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("Format: lightning_checkpoint (PyTorch Lightning checkpoint)\n") != std::string::npos);
    CHECK(r.out.find("Tensor name prefix: clip.\n") != std::string::npos);
}

TEST_CASE("info on upsamplers: the authors' checkpoint, a trained one and its training checkpoint") {
    const auto authors = run_segearth({"info", fixture("upsampler_lightning.ckpt").string()});
    CHECK(authors.exit_code == 0);
    CHECK(authors.out.find("Model: SimFeatUp jbu_one upsampler for 32-wide CLIP features\n") != std::string::npos);
    CHECK(authors.out.find("Tensor name prefix: upsampler.\n") != std::string::npos);

    const auto dir = segearth::test::scratch_dir("cli_info_upsampler");
    const auto out = dir / "up.safetensors";
    const auto train = run_segearth({"train", "--clip", fixture("tiny_clip.safetensors").string(), "--images",
                                     segearth::test::shared_data_file("oem_koeln_50.tif").string(), "--out",
                                     out.string(), "--crop", "64", "--batch", "1", "--jitters", "1", "--steps", "2",
                                     "-q"});
    REQUIRE_MESSAGE(train.exit_code == 0, train.err);
    const auto trained = run_segearth({"info", out.string()});
    CHECK(trained.exit_code == 0);
    CHECK(trained.out.find("Format: safetensors (safetensors)\n") != std::string::npos);
    CHECK(trained.out.find("Trained by segearth train for: tiny_clip.safetensors (CRC-32 ") != std::string::npos);
    CHECK(trained.out.find("Steps trained: 2\n") != std::string::npos);
    const auto checkpoint = (dir / "up.resume.safetensors").string();
    const auto resume = run_segearth({"info", checkpoint});
    CHECK(resume.exit_code == 0);
    CHECK(resume.out.find("Training checkpoint: step 2 of 2; continue with segearth train --resume " + checkpoint +
                          "\n") != std::string::npos);
}

TEST_CASE("info names the authors' FeatUp jbu_stack checkpoints") {
    for (const std::string name : {"clip_jbu_stack_cocostuff.ckpt", "maskclip_jbu_stack_cocostuff.ckpt"}) {
        const auto r = run_segearth({"info", segearth::test::shared_data_file("featup/" + name).string()});
        CHECK(r.exit_code == 0);
        CHECK(r.out.find("Format: lightning_checkpoint (PyTorch Lightning checkpoint)\n") != std::string::npos);
        CHECK(r.out.find("Model: FeatUp jbu_stack upsampler for 512-wide CLIP features\n") != std::string::npos);
        CHECK(r.out.find("Layers: 4 independent JBU modules with 7 x 7 windows") != std::string::npos);
    }
}

TEST_CASE("info on a raster shows size, CRS and pixel size") {
    const auto r = run_segearth({"info", segearth::test::shared_data_file("oem_koeln_50.tif").string()});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("Size: 1000 x 1000, 3 band(s)\n") != std::string::npos);
    CHECK(r.out.find("CRS: ETRS89 / UTM zone 32N (EPSG:25832)\n") != std::string::npos);
    CHECK(r.out.find("Pixel size: (0.5, -0.5)\n") != std::string::npos);
}

TEST_CASE("info on a missing file fails with exit 1 and names it") {
    const auto r = run_segearth({"info", "/nonexistent/model.pt"});
    CHECK(r.exit_code == 1);
    CHECK(r.err == "segearth: /nonexistent/model.pt: no such file\n");
}

TEST_CASE("info on a mismatched model prints the shape error") {
    const auto file = fixture("tiny_clip_mismatch.safetensors").string();
    const auto r = run_segearth({"info", file});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("visual.ln_post.weight: expected [128], found [129]") != std::string::npos);
}

TEST_CASE("info --tokenize prints the 77 ids of a known CLIP tokenisation") {
    const auto r = run_segearth({"info", "--tokenize", "a photo of a building."},
                                {{"SEGEARTH_VOCAB", segearth::test::data_file("bpe_simple_vocab_16e6.txt.gz").string()}});
    CHECK(r.exit_code == 0);
    std::string expected = "49406 320 1125 539 320 2307 269 49407";
    for (int i = 8; i < 77; ++i) expected += " 0";
    CHECK(r.out == expected + "\n");
}

TEST_CASE("info --tokenize with a missing vocabulary says how to provide it") {
    const auto r = run_segearth({"info", "--tokenize", "x", "--vocab", "/nonexistent/bpe.txt.gz"});
    CHECK(r.exit_code == 1);
    CHECK(r.err == "segearth: /nonexistent/bpe.txt.gz: the CLIP BPE vocabulary given by --vocab does not exist or is "
                   "not a file\n");
}

TEST_CASE("info --system reports BLAS, kernels, threads, CPU features and a measured speed") {
    const auto r = run_segearth({"info", "--system"});
    CHECK(r.exit_code == 0);
    for (const char* line : {"BLAS: ", "BLAS core type: ", "CPU features: ", "Threads: ", "Matmul 1024^3 float32: ",
                             " GFLOP/s\n", "GDAL "})
        CHECK_MESSAGE(r.out.find(line) != std::string::npos, line);
}

TEST_CASE("info with nothing to describe is a usage error") {
    const auto r = run_segearth({"info"});
    CHECK(r.exit_code == 2);
    CHECK(r.err == "segearth: info: give exactly one of FILE, --system, --tokenize TEXT, --preset NAME and --presets (see "
                   "segearth info --help)\n");
}

TEST_CASE("info --help shows the options") {
    const auto r = run_segearth({"info", "--help"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("--tokenize TEXT") != std::string::npos);
    CHECK(r.out.find("--config KEY VALUE") != std::string::npos);
}

TEST_CASE("info --preset prints a preset's classes and settings, --json for programs, --presets lists them all") {
    auto r = run_segearth({"info", "--preset", "potsdam"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(r.out.find("  0  road, parking lot\n") != std::string::npos);
    CHECK(r.out.find("  5  clutter, background   (background)\n") != std::string::npos);
    CHECK(r.out.find("Probability threshold: 0.1\n") != std::string::npos);
    CHECK(r.out.find("[CLS] lambda: -0.3\n") != std::string::npos);

    r = run_segearth({"info", "--preset", "loveda", "--json"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    for (const char* field :
         {R"("classes": [["background"], ["building", "roof", "house"], ["road"], ["water"], ["barren"], ["forest"], ["agricultural"]],)",
          R"("prob_threshold": 0.3,)", R"("bg_index": 0,)", R"("cls_lambda": -0.3,)", R"("reduce_zero_label": true,)"})
        CHECK_MESSAGE(r.out.find(field) != std::string::npos, field << " in " << r.out);

    r = run_segearth({"info", "--presets"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    for (const std::string name : {"openearthmap", "loveda", "isaid", "potsdam", "vaihingen", "uavid", "udd5", "vdd",
                                   "whu-aerial", "whu-sat2", "inria", "xbd", "chn6-cug", "deepglobe-road",
                                   "massachusetts-road", "spacenet-road", "wbs-si", "landcover", "building", "road",
                                   "water"})
        CHECK_MESSAGE(("\n" + r.out).find("\n" + name + " ") != std::string::npos, name);

    r = run_segearth({"info", "--json"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("give exactly one of FILE, --system, --tokenize TEXT, --preset NAME and --presets") !=
          std::string::npos);
    r = run_segearth({"info", "--preset", "nope"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--preset nope: no such preset (known: building, chn6-cug,") != std::string::npos);
}
