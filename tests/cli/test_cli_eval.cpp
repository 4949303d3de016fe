// `segearth eval` through the real binary: the table on stdout, --json written atomically, errors.
#include <doctest/doctest.h>

#include "koeln_files.hpp"
#include "run_segearth.hpp"
#include "support/test_paths.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

using segearth::test::run_segearth;
using segearth::test::scratch_dir;
namespace fs = std::filesystem;

TEST_CASE("eval prints the scores, writes --json, and refuses what it cannot score") {
    const auto dir = scratch_dir("cli_eval");
    const auto classes = [&](const char* name, const char* top) {
        return segearth::test::translate_koeln(
            dir / name, {"-srcwin", "0", "0", "200", "100", "-b", "1", "-scale", "0", "255", "0", top, "-ot", "Byte"});
    };
    const auto pred = classes("pred.tif", "2"), gt = classes("gt.tif", "1");
    const auto json = dir / "scores.json";
    const auto png = dir / "confusion.png";
    auto r = run_segearth({"eval", pred.string(), gt.string(), "--json", json.string(), "--confusion-png", png.string(),
                           "-q"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(segearth::test::open_raster(png)->GetRasterXSize() >= 640);
    CHECK(r.out.rfind("class ", 0) == 0);
    CHECK(r.out.find("mIoU ") != std::string::npos);
    CHECK(r.out.find("20000 pixels scored, 0 ignored") != std::string::npos);
    std::stringstream text;
    text << std::ifstream(json).rdbuf();
    for (const char* key : {"\"miou\": ", "\"pixel_accuracy\": ", "\"classes\": [", "\"confusion\": [["})
        CHECK_MESSAGE(text.str().find(key) != std::string::npos, key);

    r = run_segearth({"eval", pred.string(), gt.string(), "--json", json.string()});
    CHECK(r.exit_code == 2);
    CHECK(r.err == "segearth: --json " + json.string() + " already exists: use --overwrite to replace it\n");
    r = run_segearth({"eval", pred.string(), gt.string(), "--confusion-png", pred.string()});
    CHECK(r.exit_code == 2);
    CHECK(r.err == "segearth: --confusion-png " + pred.string() + " is the run's input (PRED.tif " + pred.string() +
                       "): choose another output name\n");
    r = run_segearth({"eval", pred.string()});
    CHECK(r.exit_code == 2);
    CHECK(r.err == "segearth: eval needs PRED.tif and GT.tif (see segearth eval --help)\n");
    for (const auto& entry : fs::directory_iterator(dir))
        CHECK(entry.path().filename().string().find(".part-") == std::string::npos);
}
