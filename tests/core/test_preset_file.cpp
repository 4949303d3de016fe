// Presets: the shipped ones parse and every class name tokenizes; each malformed directive is a
// FileError naming the file and line.
#include <doctest/doctest.h>

#include <segearth/core/preset_file.hpp>
#include <segearth/core/tokenizer.hpp>
#include <segearth/error.hpp>

#include "support/test_paths.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <unistd.h>

namespace fs = std::filesystem;
using segearth::core::read_preset;

namespace {

fs::path preset_with(const std::string& name, const std::string& text) {
    // One folder per process: ctest runs each test case in its own process, two at a time, and a
    // shared folder would be emptied by one while the other writes into it.
    static const auto dir = segearth::test::scratch_dir("presets_" + std::to_string(::getpid()));
    const auto path = dir / (name + ".txt");
    std::ofstream(path, std::ios::binary) << text;
    return path;
}

}  // namespace

TEST_CASE("every shipped preset parses, sets a threshold and a background, and its names tokenize") {
    const segearth::core::Tokenizer tokenizer(segearth::test::data_file("bpe_simple_vocab_16e6.txt.gz"));
    int presets = 0;
    for (const auto& entry : fs::directory_iterator(segearth::test::data_file("presets"))) {
        CAPTURE(entry.path());
        const auto preset = read_preset(entry.path());
        ++presets;
        CHECK(preset.vocabulary.classes.size() >= 2);
        CHECK(preset.prob_threshold.has_value());
        CHECK(preset.bg_index.has_value());
        CHECK(preset.colours.size() <= preset.vocabulary.classes.size());
        for (const auto& name : preset.vocabulary.query_names()) {
            CAPTURE(name);
            const auto ids = tokenizer.encode(name);
            CHECK_FALSE(ids.empty());
            CHECK(ids.size() < 75);  // fits a prompt template in CLIP's 77 tokens
        }
    }
    CHECK(presets == 21);
}

TEST_CASE("the paper's 17 dataset presets hold METHOD.md 6's settings") {
    struct Expected {
        const char* name;
        size_t classes;
        double threshold;
        int64_t bg;
        double lambda;
        bool reduce_zero_label;
    };
    const std::vector<Expected> datasets{
        {"openearthmap", 9, 0.1, 0, -0.3, false},       {"loveda", 7, 0.3, 0, -0.3, true},
        {"isaid", 16, 0.4, 0, -0.3, false},             {"potsdam", 6, 0.1, 5, -0.3, false},
        {"vaihingen", 6, 0.1, 5, -0.3, false},          {"uavid", 7, 0.3, 0, -0.3, false},
        {"udd5", 5, 0.4, 4, -0.3, false},               {"vdd", 7, 0.3, 0, -0.3, false},
        {"whu-aerial", 2, 0.6, 0, -0.3, false},         {"whu-sat2", 2, 0.7, 0, -0.3, false},
        {"inria", 2, 0.6, 0, -0.3, false},              {"xbd", 2, 0.0, 0, 0.0, false},
        {"chn6-cug", 2, 0.8, 0, -0.3, false},           {"deepglobe-road", 2, 0.7, 0, -0.3, false},
        {"massachusetts-road", 2, 0.7, 0, -0.3, false}, {"spacenet-road", 2, 0.7, 0, -0.3, false},
        {"wbs-si", 2, 0.6, 0, -0.3, false}};
    const auto dir = segearth::test::data_file("presets");
    for (const auto& e : datasets) {
        CAPTURE(e.name);
        const auto p = read_preset(dir / (std::string(e.name) + ".txt"));
        CHECK(p.vocabulary.classes.size() == e.classes);
        CHECK(*p.prob_threshold == e.threshold);
        CHECK(*p.bg_index == e.bg);
        CHECK(*p.cls_lambda == e.lambda);
        CHECK(*p.reduce_zero_label == e.reduce_zero_label);
        CHECK_FALSE(p.description.empty());
        CHECK(p.paper_scores.count(448) == 1);  // every dataset has a 448 row in Table 1 or 2
    }
    // The paper's numbers, spot-checked: Table 1 (mIoU) and Table 2 (IoU, 448 and 896 rows).
    CHECK(read_preset(dir / "openearthmap.txt").paper_scores == std::map<int64_t, double>{{448, 40.3}});
    CHECK(read_preset(dir / "inria.txt").paper_scores == std::map<int64_t, double>{{448, 44.6}, {896, 48.9}});
    CHECK(read_preset(dir / "whu-sat2.txt").paper_scores == std::map<int64_t, double>{{448, 28.4}});
    // Spot checks of Table 7's names and synonyms.
    CHECK(read_preset(dir / "isaid.txt").vocabulary.classes[14][0] == "plane");
    CHECK(read_preset(dir / "potsdam.txt").vocabulary.classes[5] == std::vector<std::string>{"clutter", "background"});
    CHECK(read_preset(dir / "loveda.txt").vocabulary.classes[1] == std::vector<std::string>{"building", "roof", "house"});
}

TEST_CASE("a preset's directives are read, and a class file without them is a preset too") {
    const auto p = read_preset(preset_with("ok", "# comment\n# more\n#: prob-threshold 0.25\n#: bg-index 1\n"
                                                 "#: cls-lambda 0\n#: reduce-zero-label yes\n#: paper-score 896=12.5 448=1\n"
                                                 "#: colours 1,2,3 4,5,6\nwater,river\nland\n"));
    CHECK(p.description == "comment");
    CHECK(*p.cls_lambda == 0.0);
    CHECK(*p.reduce_zero_label);
    CHECK(p.vocabulary.classes.size() == 2);
    CHECK(*p.prob_threshold == 0.25);
    CHECK(*p.bg_index == 1);
    CHECK(p.paper_scores == std::map<int64_t, double>{{448, 1.0}, {896, 12.5}});
    REQUIRE(p.colours.size() == 2);
    CHECK(p.colours[1] == std::array<uint8_t, 3>{4, 5, 6});
    const auto plain = read_preset(preset_with("plain", "a\nb\n"));
    CHECK_FALSE(plain.prob_threshold);
    CHECK_FALSE(plain.bg_index);
    CHECK_FALSE(plain.cls_lambda);
    CHECK_FALSE(plain.reduce_zero_label);
    CHECK(plain.colours.empty());
}

TEST_CASE("malformed directives are refused naming the file and line") {
    const std::vector<std::pair<std::string, std::string>> cases{
        {"#: prob-threshold nan\na\nb\n", ":1: '#: prob-threshold' takes one number between 0 and 1"},
        {"#: prob-threshold inf\na\nb\n", ":1: '#: prob-threshold' takes one number between 0 and 1"},
        {"#: prob-threshold 1.5\na\nb\n", ":1: '#: prob-threshold' takes one number between 0 and 1"},
        {"#: prob-threshold 0.5x\na\nb\n", ":1: '#: prob-threshold' takes one number between 0 and 1"},
        {"#: prob-threshold\na\nb\n", ":1: '#: prob-threshold' takes one number between 0 and 1"},
        {"#: prob-threshold 0.5 0.6\na\nb\n", ":1: '#: prob-threshold' takes one number between 0 and 1"},
        {"a\n#: bg-index 2\nb\n", ":2: '#: bg-index 2' is not a class of the file (0..1)"},
        {"#: bg-index -1\na\nb\n", ":1: '#: bg-index -1' is not a class of the file (0..1)"},
        {"#: bg-index 0.5\na\nb\n", ":1: '#: bg-index' takes one class index"},
        {"#: colours 1,2,3 4,5,6 7,8,9\na\nb\n", ":1: 3 colours for 2 classes"},
        {"#: colours 1,2,300\na\nb\n", ":1: colour '1,2,300' is not R,G,B with values 0..255"},
        {"#: colours 1,2,3,4\na\nb\n", ":1: colour '1,2,3,4' is not R,G,B with values 0..255"},
        {"#: bg-index 0\n#: bg-index 1\na\nb\n", ":2: '#: bg-index' is given twice"},
        {"#: threshold 0.5\na\nb\n",
         ":1: unknown directive '#: threshold' (known: prob-threshold, bg-index, cls-lambda, reduce-zero-label, colours, "
         "paper-score)"},
        {"#: paper-score 40.3\na\nb\n", ":1: '#: paper-score' takes LONG_SIDE=PERCENT pairs, e.g. 448=40.3 (got '40.3')"},
        {"#: paper-score 448=140\na\nb\n", ":1: '#: paper-score' takes LONG_SIDE=PERCENT pairs, e.g. 448=40.3 (got '448=140')"},
        {"#: paper-score 448=nan\na\nb\n", ":1: '#: paper-score' takes LONG_SIDE=PERCENT pairs, e.g. 448=40.3 (got '448=nan')"},
        {"#: paper-score 448=4x\na\nb\n", ":1: '#: paper-score' takes LONG_SIDE=PERCENT pairs, e.g. 448=40.3 (got '448=4x')"},
        {"#: paper-score 448=1 448=2\na\nb\n", ":1: '#: paper-score' gives long side 448 twice"},
        {"#: paper-score\na\nb\n", ":1: '#: paper-score' takes LONG_SIDE=PERCENT pairs, e.g. 448=40.3"},
        {"#: cls-lambda nan\na\nb\n", ":1: '#: cls-lambda' takes one finite number"},
        {"#: cls-lambda -0.3 x\na\nb\n", ":1: '#: cls-lambda' takes one finite number"},
        {"#: reduce-zero-label maybe\na\nb\n", ":1: '#: reduce-zero-label' takes one yes or no"},
        {"#: reduce-zero-label\na\nb\n", ":1: '#: reduce-zero-label' takes one yes or no"},
    };
    int i = 0;
    for (const auto& [text, message] : cases) {
        CAPTURE(text);
        const auto path = preset_with("bad" + std::to_string(i++), text);
        CHECK_THROWS_WITH_AS(read_preset(path), (path.string() + message).c_str(), segearth::FileError);
    }
}
