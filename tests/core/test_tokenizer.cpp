// CLIP's BPE tokenizer (METHOD.md section 2) against ids that do not come from this code.
//
// Where each expected id list comes from:
//  [method]  METHOD.md section 2 and the issue text: "a photo of a building.".
//  [hf]      huggingface/transformers tests/models/clip/test_tokenization_clip.py,
//            integration_expected_token_ids (CLIPTokenizer, openai/clip-vit-base-patch32) for the
//            shared input string of tests/test_tokenization_common.py.
//  [bumblebee] elixir-nx/bumblebee test/bumblebee/text/clip_tokenizer_test.exs (openai/clip-vit-base-patch32).
//  [apple]   apple/ml-stable-diffusion swift/StableDiffusionTests/StableDiffusionTests.swift
//            (CLIP ViT-L/14's tokenizer, same vocabulary file).
//  [emgu]    emgucv/emgucv test suite, TestClip ("Tokenizer exactness against the huggingface
//            CLIPTokenizer reference").
//  [python]  tools/clip_tokenize_reference.py: METHOD.md section 2 written in Python, where Python's
//            own html.unescape, str.strip, str.lower and the `regex` module do the Unicode and HTML
//            work (the C++ uses generated tables instead). Reproduce a line with
//            python3 tools/clip_tokenize_reference.py data/bpe_simple_vocab_16e6.txt.gz 'TEXT'.
// Neither this code nor the Python check runs ftfy.fix_text (see text_cleaning.hpp), so no case
// below is one that ftfy would change.
#include <doctest/doctest.h>

#include <segearth/core/tokenizer.hpp>
#include <segearth/error.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

using segearth::core::Tokenizer;

namespace {

const std::filesystem::path vocabulary_path = std::filesystem::path(SEGEARTH_DATA_DIR) / "bpe_simple_vocab_16e6.txt.gz";

const Tokenizer& clip_tokenizer() {
    static const Tokenizer tokenizer(vocabulary_path);
    return tokenizer;
}

std::string join(const std::vector<int64_t>& ids) {
    std::string out;
    for (const int64_t id : ids) out += (out.empty() ? "" : " ") + std::to_string(id);
    return out;
}

// encode() as "id id id", so that a failure prints both lists.
std::string ids_of(std::string_view text) { return join(clip_tokenizer().encode(text)); }

std::filesystem::path scratch_file(const std::string& name) {
    const auto dir = std::filesystem::path(SEGEARTH_TEST_TMP_DIR) / "tokenizer";
    std::filesystem::create_directories(dir);
    return dir / name;
}

void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

std::uint32_t crc32_of(const std::string& bytes) {
    std::uint32_t crc = 0xFFFFFFFFu;
    for (const char byte : bytes) {
        crc ^= static_cast<unsigned char>(byte);
        for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

void append_le32(std::string& out, std::uint32_t value) {
    for (int i = 0; i < 4; ++i) out += static_cast<char>((value >> (8 * i)) & 0xFF);
}

// A gzip file holding `text` in one stored (uncompressed) deflate block; enough for small
// hand-made vocabularies without depending on zlib in the tests.
std::string gzip_stored(const std::string& text, bool corrupt_checksum = false) {
    std::string out("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10);
    out += '\x01';  // final block, stored
    const auto length = static_cast<std::uint16_t>(text.size());
    out += static_cast<char>(length & 0xFF);
    out += static_cast<char>(length >> 8);
    out += static_cast<char>(~length & 0xFF);
    out += static_cast<char>((~length >> 8) & 0xFF);
    out += text;
    append_le32(out, crc32_of(text) ^ (corrupt_checksum ? 1u : 0u));
    append_le32(out, static_cast<std::uint32_t>(text.size()));
    return out;
}

std::string quoted(const std::filesystem::path& path) { return "BPE vocabulary '" + path.string() + "'"; }

}  // namespace

TEST_CASE("tokenizer: the vocabulary has CLIP's 49408 ids in CLIP's order") {
    // [python] id order: bytes_to_unicode's order, the same with "</w>", the merges joined, specials.
    const Tokenizer& tok = clip_tokenizer();
    CHECK(tok.vocabulary_size() == 49408);
    CHECK(tok.token_string(0) == "!");              // the printable bytes first, in byte order
    CHECK(tok.token_string(187) == "\xc3\xbf");     // ... up to 'ÿ'
    CHECK(tok.token_string(188) == "\xc4\x80");     // then byte 0x00, standing in as U+0100
    CHECK(tok.token_string(256) == "!</w>");
    CHECK(tok.token_string(512) == "in");           // merge 1 ("i n", line 2)
    CHECK(tok.token_string(49405) == "jekyll</w>"); // merge 48894 (line 48895), the last one used
    CHECK(tok.token_string(49406) == "<|startoftext|>");
    CHECK(tok.token_string(49407) == "<|endoftext|>");
    CHECK(tok.token_string(1125) == "photo</w>");
    CHECK_THROWS_WITH_AS(tok.token_string(49408), "token id 49408 is outside the vocabulary (0 to 49407)",
                         segearth::Error);
    CHECK_THROWS_WITH_AS(tok.token_string(-1), "token id -1 is outside the vocabulary (0 to 49407)",
                         segearth::Error);
}

TEST_CASE("tokenizer: published CLIP tokenisations") {
    const Tokenizer& tok = clip_tokenizer();
    const std::vector<int64_t> building = tok.tokenize("a photo of a building.");
    REQUIRE(building.size() == 77);
    CHECK(join({building.begin(), building.begin() + 9}) == "49406 320 1125 539 320 2307 269 49407 0");  // [method]
    CHECK(ids_of("a photo of a cat") == "320 1125 539 320 2368");                                        // [bumblebee]
    CHECK(ids_of("a photo of a dog") == "320 1125 539 320 1929");                                        // [bumblebee]
    CHECK(ids_of("a photo of an astronaut riding a horse on mars") ==
          "320 1125 539 550 18376 6765 320 4558 525 7496");                                                // [apple]
    CHECK(ids_of("Apple CoreML developer tools on a Macbook Air are fast") ==
          "3055 19622 5780 10929 5771 525 320 20617 1922 631 1953");                                       // [apple]
    CHECK(ids_of("Hello, World! 123") == "3306 267 1002 256 272 273 274");                              // [emgu]
}

TEST_CASE("tokenizer: transformers' multilingual integration string") {
    // [hf]: digits one by one, an accent split into bytes, Chinese, Thai with a combining vowel,
    // runs of spaces and blank lines, "<s>" as punctuation.
    const std::string text =
        "This is a test\n"
        "I was born in 92000, and this is fals\xc3\xa9.\n"
        "\xe7\x94\x9f\xe6\xb4\xbb\xe7\x9a\x84\xe7\x9c\x9f\xe8\xb0\x9b\xe6\x98\xaf\n"
        "Hi  Hello\n"
        "Hi   Hello\n"
        "\n"
        " \n"
        "  \n"
        " Hello\n"
        "<s>\n"
        "hi<s>there\n"
        "The following string should be properly encoded: Hello.\n"
        "But ird and \xe0\xb8\x9b\xe0\xb8\xb5   ird   \xe0\xb8\x94\n"
        "Hey how are you doing";
    const std::vector<int64_t> ids = clip_tokenizer().tokenize(text);
    CHECK(join({ids.begin(), ids.begin() + 74}) ==
          "49406 589 533 320 1628 328 739 2683 530 280 273 271 271 271 267 537 589 533 2778 82 4166 269 33375 162 "
          "112 119 163 248 226 41570 164 108 249 42891 363 1883 3306 1883 3306 3306 283 338 285 1883 283 338 285 "
          "997 518 3473 9696 1535 655 12560 524 33703 281 3306 269 767 2770 537 1777 505 20278 2770 38825 2189 829 "
          "631 592 1960 49407 0");
}

TEST_CASE("tokenizer: punctuation, digits and case") {
    // [python]
    CHECK(ids_of("building, roof & house!?") == "2307 267 6449 261 1212 6004");
    CHECK(ids_of("road... (paved) -- 2 lanes") == "1759 678 263 27898 264 2432 273 10345");
    CHECK(ids_of("2024 floods") == "273 271 273 275 16369");  // every digit is a token of its own
    CHECK(ids_of("3.14") == "274 269 272 275");
    CHECK(ids_of("BUILDING") == "2307");
    CHECK(ids_of("Building Roof") == "2307 6449");
}

TEST_CASE("tokenizer: contractions and apostrophes") {
    // [python]
    CHECK(ids_of("it's") == "585 568");
    CHECK(ids_of("don't") == "847 713");
    CHECK(ids_of("we'll they're i'd i'm we've") == "649 1342 889 982 328 1896 328 880 649 1200");
    CHECK(ids_of("rock 'n' roll") == "2172 262 333 262 3341");
    CHECK(ids_of("''s") == "8445 338");  // the punctuation run takes both quotes before "'s" can match
    // IGNORECASE lets the long s U+017F stand for 's' in "'s": "'ſ" is one piece, not "'" + "ſ".
    CHECK(ids_of("it'\xc5\xbf") == "585 6 129 379");
}

TEST_CASE("tokenizer: HTML entities are unescaped twice, as Python's html.unescape does") {
    // [python]
    CHECK(ids_of("&amp;") == "261");
    CHECK(ids_of("&lt;b&gt;") == "283 321 285");
    CHECK(ids_of("&amp;lt;") == "283");                // the second pass turns "&lt;" into "<"
    CHECK(ids_of("&notin") == "126 361 530");          // legacy name without ';': "¬" + "in"
    CHECK(ids_of("&notin;") == "17788 487");           // the full name: U+2209
    CHECK(ids_of("&#233;t&#xE9;") == "3459 39694");    // "été"
    CHECK(ids_of("&#128;") == "6309");                 // Windows-1252 fix-up: U+20AC
    CHECK(ids_of("&bogus; &#0; &#x110000;") == "261 42907 282 39802 39802");  // kept; U+FFFD twice
    CHECK(ids_of("AT&T") == "536 261 339");
}

TEST_CASE("tokenizer: whitespace is collapsed and stripped") {
    // [python]
    CHECK(ids_of("a  \t\n photo\r\n of ") == "320 1125 539");
    CHECK(ids_of("a\xc2\xa0photo\xe3\x80\x80of") == "320 1125 539");  // no-break and ideographic spaces
    // U+001C..U+001F: str.strip() removes them at the ends, but regex's \s does not match them inside.
    CHECK(ids_of("a\x1fphoto\x1f") == "320 475 1125");
    CHECK(ids_of("\x1c photo") == "1125");
}

TEST_CASE("tokenizer: accents and non-Latin scripts") {
    // [python]
    CHECK(ids_of("caf\xc3\xa9") == "15304");                                          // café
    CHECK(ids_of("Z\xc3\xbcrich") == "89 6522 4021");                                 // Zürich
    CHECK(ids_of("\xe5\x8c\x97\xe4\xba\xac") == "161 234 245 21078 361");             // 北京
    CHECK(ids_of("\xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0") ==
          "38018 13506 23669 27152 39813 27080");                                     // Москва
    CHECK(ids_of("\xe6\x9d\xb1\xe4\xba\xac\xe3\x82\xbf\xe3\x83\xaf\xe3\x83\xbc") ==
          "48338 21078 105 34941 2429 107 30391");                                    // 東京タワー
    CHECK(ids_of("\xe0\xa4\xa8\xe0\xa4\xa6\xe0\xa5\x80") == "3124 101 29552 25751");  // नदी
    // str.lower(): final sigma at a word's end (ΟΔΟΣ -> οδος, ΣΑ -> σα) and İ -> "i" + U+0307.
    CHECK(ids_of("\xce\x9f\xce\x94\xce\x9f\xce\xa3") == "138 123 138 112 138 123 139 480");
    CHECK(ids_of("\xce\x9f\xce\x94\xce\x9f\xce\xa3 \xce\xa3\xce\x91") ==
          "138 123 138 112 138 123 139 480 139 225 138 365");
    CHECK(ids_of("\xc4\xb0stanbul") == "328 16384 11231");
    // U+0345 matches none of CLIP's classes under IGNORECASE, so findall skips it like a space.
    CHECK(ids_of("x\xcd\x85y") == "343 344");
}

TEST_CASE("tokenizer: emoji") {
    // [python]
    CHECK(ids_of("\xf0\x9f\x8f\xa0\xf0\x9f\x8c\x8a") == "1109 254 14302");                 // 🏠🌊
    CHECK(ids_of("\xf0\x9f\x87\xba\xf0\x9f\x87\xb8") == "5688");                           // 🇺🇸
    CHECK(ids_of("flood \xf0\x9f\x8c\x8a water") == "7148 14302 1573");
}

TEST_CASE("tokenizer: special token strings in the text") {
    // [python]
    CHECK(ids_of("<|endoftext|>") == "49407");
    CHECK(ids_of("<|STARTOFTEXT|> hi") == "49406 1883");  // lower-cased first
    // Matched as the special alternative through IGNORECASE, but it is not the special string itself.
    CHECK(ids_of("<|\xc5\xbftartoftext|>") == "27 91 129 123 2002 6659 18169 91 285");
}

TEST_CASE("tokenizer: invalid UTF-8 becomes U+FFFD, one per maximal subpart") {
    // [python] with bytes.decode("utf-8", errors="replace")
    CHECK(ids_of("caf\xe9 au lait") == "20867 39802 2566 572 585");
    CHECK(ids_of("\xff\xfe") == "47356 39802");
    CHECK(ids_of("a\xe2\x82" "b") == "320 39802 321");       // truncated sequence: one U+FFFD
    CHECK(ids_of("\xed\xa0\x80") == "47356 47356 39802");    // an encoded surrogate: three
    CHECK(ids_of("\xf0\x9f\x8c") == "39802");                // truncated at the end of the text
}

TEST_CASE("tokenizer: context length, padding and truncation") {
    const Tokenizer& tok = clip_tokenizer();
    const std::vector<int64_t> empty = tok.tokenize("");
    REQUIRE(empty.size() == 77);
    CHECK(empty[0] == 49406);
    CHECK(empty[1] == 49407);
    CHECK(std::all_of(empty.begin() + 2, empty.end(), [](int64_t id) { return id == 0; }));
    CHECK(tok.tokenize(" \t\n ") == empty);
    CHECK(tok.encode("").empty());

    std::string long_text;
    for (int i = 0; i < 100; ++i) long_text += "building ";
    const std::vector<int64_t> cut = tok.tokenize(long_text);
    REQUIRE(cut.size() == 77);
    CHECK(cut.front() == 49406);
    CHECK(cut.back() == 49407);
    CHECK(std::all_of(cut.begin() + 1, cut.end() - 1, [](int64_t id) { return id == 2307; }));

    CHECK(join(tok.tokenize("a photo", 5)) == "49406 320 1125 49407 0");
    CHECK(join(tok.tokenize("a photo of", 4)) == "49406 320 1125 49407");  // cut: the last kept is 49407
    CHECK(join(tok.tokenize("a photo", 2)) == "49406 49407");
    CHECK_THROWS_WITH_AS(tok.tokenize("a photo", 1),
                         "context length 1 cannot hold the start and end tokens; it must be at least 2",
                         segearth::Error);
}

TEST_CASE("tokenizer: the same text gives the same ids again (cache) and in copies") {
    const Tokenizer& tok = clip_tokenizer();
    const std::string first = ids_of("a satellite image of a flooded river");
    CHECK(ids_of("a satellite image of a flooded river") == first);
    const Tokenizer copy = tok;
    CHECK(join(copy.encode("a satellite image of a flooded river")) == first);
}

TEST_CASE("tokenizer: a missing or broken vocabulary file is a FileError naming it") {
    const auto missing = scratch_file("no_such_vocabulary.txt.gz");
    std::filesystem::remove(missing);
    CHECK_THROWS_WITH_AS(Tokenizer{missing},
                         (quoted(missing) + " not found (it is CLIP's bpe_simple_vocab_16e6.txt.gz)").c_str(),
                         segearth::FileError);

    const auto directory = scratch_file("a_directory.txt.gz");
    std::filesystem::create_directories(directory);
    CHECK_THROWS_WITH_AS(Tokenizer{directory},
                         (quoted(directory) + " is a directory, not CLIP's bpe_simple_vocab_16e6.txt.gz").c_str(),
                         segearth::FileError);

    const auto plain = scratch_file("plain.txt.gz");
    write_bytes(plain, "#version: 0.2\ni n\nt h\n");
    CHECK_THROWS_WITH_AS(
        Tokenizer{plain},
        (quoted(plain) + " is not gzip-compressed (expected CLIP's bpe_simple_vocab_16e6.txt.gz)").c_str(),
        segearth::FileError);

    // The first 4 KiB of the real file: a gzip stream that stops in the middle.
    const auto truncated = scratch_file("truncated.txt.gz");
    {
        std::ifstream in(vocabulary_path, std::ios::binary);
        std::string head(4096, '\0');
        in.read(head.data(), static_cast<std::streamsize>(head.size()));
        write_bytes(truncated, head);
    }
    CHECK_THROWS_WITH_AS(Tokenizer{truncated},
                         (quoted(truncated) + " is a corrupt gzip file: unexpected end of file").c_str(),
                         segearth::FileError);

    const auto bad_checksum = scratch_file("bad_checksum.txt.gz");
    write_bytes(bad_checksum, gzip_stored("#version: 0.2\ni n\n", true));
    CHECK_THROWS_WITH_AS(Tokenizer{bad_checksum},
                         (quoted(bad_checksum) + " is a corrupt gzip file: incorrect data check").c_str(),
                         segearth::FileError);

    const auto malformed = scratch_file("malformed.txt.gz");
    write_bytes(malformed, gzip_stored("#version: 0.2\ni n\nthree part merge\nt h\n"));
    CHECK_THROWS_WITH_AS(
        Tokenizer{malformed},
        (quoted(malformed) + " line 3 is not a merge (two symbols separated by a space): 'three part merge'").c_str(),
        segearth::FileError);

    const auto short_file = scratch_file("short.txt.gz");
    write_bytes(short_file, gzip_stored("#version: 0.2\ni n\nt h"));
    CHECK_THROWS_WITH_AS(Tokenizer{short_file},
                         (quoted(short_file) + " has 2 merges; CLIP's has 48894 (lines 2 to 48895)").c_str(),
                         segearth::FileError);
}
