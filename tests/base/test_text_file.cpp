// User text files must be UTF-8 text: binary files and other encodings are refused with the line.
#include <segearth/error.hpp>
#include <segearth/text_file.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

TEST_CASE("invalid_utf8_at finds the first byte that is no UTF-8") {
    CHECK(segearth::invalid_utf8_at("building, Gebäude, 建物") == std::string_view::npos);
    CHECK(segearth::invalid_utf8_at("\xF0\x9F\x8C\x8A water") == std::string_view::npos);  // U+1F30A
    CHECK(segearth::invalid_utf8_at("ab\xFF") == 2);
    CHECK(segearth::invalid_utf8_at("a\xC3") == 1);                 // cut short
    CHECK(segearth::invalid_utf8_at("\xC0\xAF") == 0);              // overlong '/'
    CHECK(segearth::invalid_utf8_at("\xED\xA0\x80") == 0);          // a surrogate
    CHECK(segearth::invalid_utf8_at("\xF4\x90\x80\x80") == 0);      // past U+10FFFF
    CHECK(segearth::invalid_utf8_at("x\xE2\x82") == 1);             // three-byte form cut short
    CHECK(segearth::invalid_utf8_at("caf\xE9") == 3);               // Latin-1
}

TEST_CASE("read_text_lines gives numbered lines without BOM or CR, and refuses binary and non-UTF-8 files") {
    const auto dir = fs::path(SEGEARTH_TEST_TMP_DIR) / "text_file";
    fs::remove_all(dir);
    fs::create_directories(dir);
    { std::ofstream(dir / "ok.txt", std::ios::binary) << "\xEF\xBB\xBFwater\r\nbuilding,roof\r\n"; }
    const auto lines = segearth::read_text_lines((dir / "ok.txt").string(), "the class file");
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == std::pair<int, std::string>{1, "water"});
    CHECK(lines[1] == std::pair<int, std::string>{2, "building,roof"});

    { std::ofstream(dir / "latin1.txt", std::ios::binary) << "water\ncaf\xE9\n"; }
    CHECK_THROWS_WITH_AS(segearth::read_text_lines((dir / "latin1.txt").string(), "the class file"),
                         ((dir / "latin1.txt").string() +
                          ":2: the class file is not UTF-8 text (byte 0xE9 at column 4): save it as UTF-8").c_str(),
                         segearth::FileError);
    { std::ofstream(dir / "binary.bin", std::ios::binary) << std::string("ab\0cd\n", 6); }
    CHECK_THROWS_WITH_AS(segearth::read_text_lines((dir / "binary.bin").string(), "the list of images"),
                         ((dir / "binary.bin").string() +
                          ":1: the list of images is not UTF-8 text (a NUL byte at column 3): is it a binary file?")
                             .c_str(),
                         segearth::FileError);
    CHECK_THROWS_WITH_AS(segearth::read_text_lines((dir / "none.txt").string(), "the preset"),
                         ((dir / "none.txt").string() + ": cannot open the preset").c_str(), segearth::FileError);
}
