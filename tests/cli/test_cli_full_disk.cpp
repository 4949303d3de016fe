// A full disk is said as such: "PATH: no space left on device (...)" for every command that writes,
// whatever the driver reported, and nothing is left behind on the full filesystem. The disk is a
// tmpfs of 256 KB mounted for the test (the tests run as root, as CI does).
#include <doctest/doctest.h>

#include "koeln_files.hpp"
#include "run_segearth.hpp"
#include "support/test_paths.hpp"

#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

using segearth::test::fixture;
using segearth::test::run_segearth;
using segearth::test::scratch_dir;
namespace fs = std::filesystem;

namespace {

class SmallDisk {
public:
    explicit SmallDisk(const fs::path& dir) : dir_(dir) {
        fs::create_directories(dir_);
        const int rc = ::mount("segearth-test", dir_.c_str(), "tmpfs", 0, "size=256k");
        INFO("mounting a tmpfs needs root (CAP_SYS_ADMIN): " << std::strerror(errno));
        REQUIRE(rc == 0);
        mounted_ = true;
    }
    ~SmallDisk() {
        if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
    }
    SmallDisk(const SmallDisk&) = delete;
    SmallDisk& operator=(const SmallDisk&) = delete;
    const fs::path& dir() const { return dir_; }

    /// Fills it to the last byte with one file.
    void fill() const {
        std::ofstream filler(dir_ / "filler", std::ios::binary);
        const std::string chunk(4096, 'x');
        while (filler.write(chunk.data(), static_cast<std::streamsize>(chunk.size()))) {
        }
    }
    /// The names left on it.
    std::vector<std::string> files() const {
        std::vector<std::string> names;
        for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
        return names;
    }

private:
    fs::path dir_;
    bool mounted_ = false;
};

void check_full_disk_error(const segearth::test::RunResult& r, const std::vector<fs::path>& outputs) {
    CAPTURE(r.err);
    CHECK(r.exit_code == 1);
    bool named = false;
    for (const auto& out : outputs)
        named = named || r.err.rfind("segearth: " + out.string() + ": no space left on device (", 0) == 0;
    CHECK(named);
    CHECK(r.err.find("): free some space there or write the output elsewhere\n") != std::string::npos);
}

}  // namespace

TEST_CASE("segment on a full disk: 'no space left on device' with the output's path, for GTiff and COG") {
    const auto dir = scratch_dir("cli_full_disk_segment");
    const auto input = segearth::test::translate_koeln(dir / "crop.tif", {"-srcwin", "0", "0", "400", "400"});
    SmallDisk disk(dir / "disk");
    for (const char* format : {"GTiff", "COG"}) {
        CAPTURE(format);
        const auto classes = disk.dir() / "classes.tif", probabilities = disk.dir() / "p.tif";
        const auto r = run_segearth({"segment", input.string(), classes.string(), "--classes", "a;b;c;d;e", "--clip",
                                     fixture("tiny_clip.safetensors").string(), "--text-cache", "-", "--probabilities",
                                     probabilities.string(), "--probabilities-type", "Float32", "-of", format, "-co",
                                     "COMPRESS=NONE", "-q"});
        check_full_disk_error(r, {classes, probabilities});
        CHECK(disk.files().empty());
    }
}

TEST_CASE("vectorize and train on a full disk: 'no space left on device' with the output's path") {
    const auto dir = scratch_dir("cli_full_disk_other");
    const auto classes = segearth::test::translate_koeln(
        dir / "classes.tif", {"-srcwin", "0", "0", "300", "300", "-b", "1", "-scale", "0", "255", "0", "1", "-ot", "Byte"});
    const auto image = segearth::test::translate_koeln(dir / "image.tif", {"-srcwin", "0", "0", "128", "128"});
    SmallDisk disk(dir / "disk");
    disk.fill();
    for (const char* name : {"v.gpkg", "v.shp", "v.geojson"}) {
        CAPTURE(name);
        const auto out = disk.dir() / name;
        check_full_disk_error(run_segearth({"vectorize", classes.string(), out.string(), "-q"}), {out});
        CHECK(disk.files() == std::vector<std::string>{"filler"});
    }
    const auto out = disk.dir() / "up.safetensors";
    check_full_disk_error(run_segearth({"train", "--clip", fixture("tiny_clip.safetensors").string(), "--images",
                                        image.string(), "--out", out.string(), "--crop", "64", "--batch", "1",
                                        "--steps", "1", "-q"}),
                          {out, disk.dir() / "up.resume.safetensors"});
    CHECK(disk.files() == std::vector<std::string>{"filler"});
}
