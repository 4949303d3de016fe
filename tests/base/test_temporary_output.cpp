// Outputs written under a temporary name and published by renaming, alone or as a set.
#include <segearth/error.hpp>
#include <segearth/output_set.hpp>
#include <segearth/temporary_output.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;

namespace {

fs::path scratch(const std::string& name) {
    const auto dir = fs::path(SEGEARTH_TEST_TMP_DIR) / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

std::string content(const fs::path& p) {
    std::ifstream in(p);
    std::string s;
    std::getline(in, s);
    return s;
}

// A PendingOutput over a TemporaryOutput, as OutputRaster and the GeoPackage writer are.
class TextOutput : public segearth::PendingOutput {
public:
    TextOutput(const std::string& path, std::string text, bool replace) : file_(path, ".txt"), replace_(replace) {
        std::ofstream(file_.temporary()) << text;
    }
    const std::string& path() const override { return file_.path(); }
    void check_publishable() const override { file_.check_publishable(replace_); }
    void publish() override { file_.publish(replace_); }

private:
    segearth::TemporaryOutput file_;
    bool replace_;
};

}  // namespace

TEST_CASE("a temporary output is removed unless published, and renamed into place when it is") {
    const auto dir = scratch("temporary_output");
    const auto target = (dir / "out.tif").string();
    std::string temporary;
    {
        segearth::TemporaryOutput out(target, ".gtiff");
        temporary = out.temporary();
        CHECK(temporary.find(target + ".part-") == 0);
        CHECK(fs::path(temporary).extension() == ".gtiff");
        std::ofstream(temporary) << "draft";
        std::ofstream(temporary + ".aux.xml") << "sidecar";
    }
    CHECK(!fs::exists(temporary));
    CHECK(!fs::exists(temporary + ".aux.xml"));
    CHECK(!fs::exists(target));
    {
        segearth::TemporaryOutput out(target);
        std::ofstream(out.temporary()) << "done";
        out.publish(false);
    }
    CHECK(content(target) == "done");
}

TEST_CASE("publishing without replace refuses a file that appeared meanwhile") {
    const auto dir = scratch("temporary_output_race");
    const auto target = (dir / "out.txt").string();
    segearth::TemporaryOutput out(target);
    std::ofstream(out.temporary()) << "mine";
    std::ofstream(target) << "theirs";
    CHECK_THROWS_AS(out.publish(false), segearth::UsageError);
    CHECK(content(target) == "theirs");
    out.publish(true);
    CHECK(content(target) == "mine");
}

TEST_CASE("an output set unpublished removes every output, and published renames them all") {
    const auto dir = scratch("output_set");
    {
        segearth::OutputSet set;
        set.add(std::make_unique<TextOutput>((dir / "a.txt").string(), "a", false));
        set.add(std::make_unique<TextOutput>((dir / "b.txt").string(), "b", false));
    }
    CHECK(fs::is_empty(dir));
    {
        segearth::OutputSet set;
        set.add(std::make_unique<TextOutput>((dir / "a.txt").string(), "a", false));
        set.add(std::make_unique<TextOutput>((dir / "b.txt").string(), "b", false));
        set.publish();
    }
    CHECK(content(dir / "a.txt") == "a");
    CHECK(content(dir / "b.txt") == "b");
}

TEST_CASE("an output set publishes none when one of them cannot be published") {
    const auto dir = scratch("output_set_refused");
    std::ofstream(dir / "b.txt") << "precious";
    {
        segearth::OutputSet set;
        set.add(std::make_unique<TextOutput>((dir / "a.txt").string(), "a", false));
        set.add(std::make_unique<TextOutput>((dir / "b.txt").string(), "b", false));
        CHECK_THROWS_AS(set.publish(), segearth::UsageError);
    }
    CHECK(!fs::exists(dir / "a.txt"));
    CHECK(content(dir / "b.txt") == "precious");
}
