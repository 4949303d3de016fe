// The output-safety rule, for every command: each output flag pointed at each input of the run
// (directly, through "..", through a symlink) is refused before anything is written, and every
// input is left byte for byte as it was.
#include <doctest/doctest.h>

#include "koeln_files.hpp"
#include "run_segearth.hpp"
#include "support/test_paths.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

using segearth::test::fixture;
using segearth::test::run_segearth;
using segearth::test::scratch_dir;
namespace fs = std::filesystem;

namespace {

std::string bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// Every file of the folder and its content, to compare before and after.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
    std::map<std::string, std::string> files;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file() || e.is_symlink()) files[e.path().string()] = bytes(e.path());
    return files;
}

// `also` is another refusal that may come first (a vector output named like a raster has no format).
void refused_and_unchanged(const fs::path& dir, const std::vector<std::string>& args, const std::string& also = "") {
    const auto before = snapshot(dir);
    const auto r = run_segearth(args);
    CAPTURE(r.err);
    CHECK(r.exit_code == 2);
    CHECK((r.err.find("is the run's input") != std::string::npos ||
           (!also.empty() && r.err.find(also) != std::string::npos)));
    CHECK(snapshot(dir) == before);
}

fs::path copy_to(const fs::path& from, const fs::path& to) {
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
    return to;
}

}  // namespace

TEST_CASE("segment: no output flag may name an input, however it is spelled") {
    const auto dir = scratch_dir("cli_safety_segment");
    const auto input = segearth::test::translate_koeln(dir / "crop.tif", {"-srcwin", "0", "0", "64", "64"});
    const auto clip = copy_to(fixture("tiny_clip.safetensors"), dir / "clip.safetensors");
    const auto upsampler = copy_to(fixture("upsampler.safetensors"), dir / "up.safetensors");
    const auto vocab = copy_to(segearth::test::data_file("bpe_simple_vocab_16e6.txt.gz"), dir / "bpe.txt.gz");
    const auto templates = copy_to(segearth::test::data_file("imagenet_templates.txt"), dir / "templates.txt");
    { std::ofstream(dir / "classes.txt") << "building\nwater\n"; }
    fs::create_directories(dir / "sub");
    fs::create_symlink(input, dir / "link.tif");
    const std::vector<std::string> base{"segment", "--classes-file", (dir / "classes.txt").string(), "--clip",
                                        clip.string(), "--upsampler", upsampler.string(), "--vocab", vocab.string(),
                                        "--templates", templates.string(), "--text-cache", "-", "--overwrite", "-q"};
    const std::vector<std::string> inputs{input.string(),
                                          clip.string(),
                                          upsampler.string(),
                                          vocab.string(),
                                          templates.string(),
                                          (dir / "classes.txt").string(),
                                          (dir / "sub" / ".." / "crop.tif").string(),
                                          (dir / "link.tif").string()};
    const auto out = (dir / "out.tif").string();
    for (const auto& target : inputs) {
        CAPTURE(target);
        // OUTPUT itself, then each optional output.
        auto args = base;
        args.insert(args.begin() + 1, input.string());
        args.insert(args.begin() + 2, target);
        refused_and_unchanged(dir, args);
        for (const char* flag : {"--probabilities", "--confidence", "--vector"}) {
            CAPTURE(flag);
            auto with = base;
            with.insert(with.begin() + 1, input.string());
            with.insert(with.begin() + 2, out);
            with.push_back(flag);
            with.push_back(target);
            refused_and_unchanged(dir, with, std::string(flag) == "--vector" ? "no vector format is written" : "");
        }
    }
    // A Shapefile's companions are outputs too: --vector scene.shp writes scene.dbf.
    const auto as_dbf = copy_to(input, dir / "scene.dbf");
    auto args = base;
    args.insert(args.begin() + 1, as_dbf.string());
    args.insert(args.begin() + 2, out);
    args.push_back("--vector");
    args.push_back((dir / "scene.shp").string());
    refused_and_unchanged(dir, args);
}

TEST_CASE("train: --out, --log and the previews may not name the CLIP weights, an image or a list of images") {
    const auto dir = scratch_dir("cli_safety_train");
    const auto image = segearth::test::translate_koeln(dir / "tile.tif", {"-srcwin", "0", "0", "96", "96"});
    const auto listed = segearth::test::translate_koeln(dir / "listed.tif", {"-srcwin", "96", "0", "96", "96"});
    const auto clip = copy_to(fixture("tiny_clip.safetensors"), dir / "clip.safetensors");
    { std::ofstream(dir / "list.txt") << "listed.tif\n"; }
    const std::vector<std::string> base{"train", "--clip", clip.string(), "--images", image.string(),
                                        (dir / "list.txt").string(), "--crop", "64", "--steps", "1", "--overwrite",
                                        "-q"};
    for (const fs::path& target : std::vector<fs::path>{clip, image, listed, dir / "list.txt"}) {
        CAPTURE(target);
        for (const char* flag : {"--out", "--log"}) {
            CAPTURE(flag);
            auto args = base;
            if (std::string(flag) == "--log") {
                args.push_back("--out");
                args.push_back((dir / "up.safetensors").string());
            }
            args.push_back(flag);
            args.push_back(target.string());
            refused_and_unchanged(dir, args);
        }
    }
    // The previews are outputs too: --preview-every writes preview_step_NNNNNN.png into --preview-dir.
    const auto png = copy_to(image, dir / "preview_step_000001.png");
    for (const std::string& preview_dir : {dir.string(), (dir / "sub" / "..").string()}) {
        fs::create_directories(dir / "sub");
        refused_and_unchanged(dir,
                              {"train", "--clip", clip.string(), "--images", png.string(), "--crop", "64", "--steps",
                               "1", "--out", (dir / "up.safetensors").string(), "--preview-every", "1",
                               "--preview-dir", preview_dir, "-q"},
                              "which would replace --images " + png.string());
    }
}

TEST_CASE("vectorize: OUT.gpkg (or a Shapefile's companion) may not be the class raster, the probabilities or the pre-event raster") {
    const auto dir = scratch_dir("cli_safety_vectorize");
    const auto classes = segearth::test::translate_koeln(dir / "classes.tif", {"-srcwin", "0", "0", "32", "32", "-b", "1"});
    const auto before = segearth::test::translate_koeln(dir / "before.tif", {"-srcwin", "0", "0", "32", "32", "-b", "1"});
    const auto p = segearth::test::translate_koeln(dir / "p.tif", {"-srcwin", "0", "0", "32", "32"});
    // -of GPKG: the format is given, so the names' .tif extension is no reason to refuse.
    refused_and_unchanged(dir, {"vectorize", classes.string(), classes.string(), "-of", "GPKG", "--overwrite", "-q"});
    refused_and_unchanged(dir, {"vectorize", classes.string(), (dir / "x" / ".." / "classes.tif").string(), "-of",
                                "GPKG", "--overwrite"});
    refused_and_unchanged(dir, {"vectorize", classes.string(), p.string(), "--probabilities", p.string(), "-of", "GPKG",
                                "--overwrite"});
    refused_and_unchanged(dir, {"vectorize", classes.string(), before.string(), "--pre-event", before.string(), "-of",
                                "GPKG", "--overwrite"});
    // OUT.shp writes OUT.dbf, OUT.shx and OUT.prj beside it.
    for (const char* name : {"classes.dbf", "classes.shx", "classes.prj"}) {
        const auto input = copy_to(classes, dir / name);
        refused_and_unchanged(dir, {"vectorize", input.string(), (dir / "classes.shp").string(), "--overwrite"});
    }
}
