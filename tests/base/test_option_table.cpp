// The option declarations: parsing, the generic checks and their messages, defaults from the struct,
// and the JSON usage.
#include <segearth/options/option_table.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

namespace {

using segearth::UsageError;
using namespace segearth::options;

enum class Colour { red, green };

struct Inner {
    double ratio = 0.5;
};

struct Settings {
    std::string input;
    int64_t count = 3;
    double weight = -0.3;
    std::optional<double> threshold;
    bool verbose = false;
    std::vector<std::string> tags;
    std::vector<int> bands;
    Colour colour = Colour::red;
    Inner inner;
};

const EnumNames<Colour>& colours() {
    static const EnumNames<Colour> names{{Colour::red, "red"}, {Colour::green, "green"}};
    return names;
}

OptionTable<Inner> inner_table() {
    OptionTable<Inner> t;
    t.group("Inner");
    t.number("ratio", &Inner::ratio).above(0).at_most(1).help("a fraction");
    return t;
}

OptionTable<Settings> table() {
    OptionTable<Settings> t;
    t.text("input", &Settings::input).positional().required().value_name("INPUT").input_path().help("the input");
    t.group("Main");
    t.integer("count", &Settings::count).value_name("N").at_least(1).help("how many");
    t.number("weight", &Settings::weight).help("a weight");
    t.number("threshold", &Settings::threshold).at_least(0).at_most(1).help("optional");
    t.flag("verbose", &Settings::verbose).short_name("v").help("talk");
    t.texts("co", &Settings::tags).gdal_style().value_name("NAME=VALUE").help("repeatable");
    t.integers("band", &Settings::bands).short_name("b").at_least(1).help("bands");
    t.choice("colour", &Settings::colour, colours()).help("which colour");
    t.include(inner_table(), &Settings::inner);
    return t;
}

Settings parsed(const std::vector<std::pair<std::string, std::vector<std::string>>>& given) {
    Settings s;
    table().assign(s, given);
    return s;
}

}  // namespace

TEST_CASE("an option table sets the struct's fields from the values given") {
    const auto s = parsed({{"input", {"a.tif"}},
                           {"count", {"7"}},
                           {"weight", {"1e-3"}},
                           {"threshold", {"0.25"}},
                           {"verbose", {}},
                           {"co", {"A=1", "B=2"}},
                           {"band", {"3", "2", "1"}},
                           {"colour", {"green"}},
                           {"ratio", {"0.75"}}});
    CHECK(s.input == "a.tif");
    CHECK(s.count == 7);
    CHECK(s.weight == 1e-3);
    CHECK(s.threshold == 0.25);
    CHECK(s.verbose);
    CHECK(s.tags == std::vector<std::string>{"A=1", "B=2"});
    CHECK(s.bands == std::vector<int>{3, 2, 1});
    CHECK(s.colour == Colour::green);
    CHECK(s.inner.ratio == 0.75);
}

TEST_CASE("values that do not parse name the option as the user types it") {
    CHECK_THROWS_WITH_AS(parsed({{"count", {"abc"}}}), "--count abc: not a whole number", UsageError);
    CHECK_THROWS_WITH_AS(parsed({{"weight", {"1.5x"}}}), "--weight 1.5x: not a number", UsageError);
    CHECK_THROWS_WITH_AS(parsed({{"colour", {"blue"}}}), "--colour blue: use red or green", UsageError);
    CHECK_THROWS_WITH_AS(parsed({{"count", {"1", "2"}}}), "--count is given more than once: give it once", UsageError);
}

TEST_CASE("check() applies the declared ranges to the struct, with the CLI's messages") {
    const auto t = table();
    const auto fails = [&](auto change, const std::string& message) {
        Settings s;
        change(s);
        CHECK_THROWS_WITH_AS(t.check(s), message.c_str(), UsageError);
    };
    Settings fine;
    CHECK_NOTHROW(t.check(fine));
    fails([](Settings& s) { s.count = 0; }, "--count must be at least 1");
    fails([](Settings& s) { s.threshold = 1.5; }, "--threshold must be in [0, 1]");
    fails([](Settings& s) { s.weight = std::nan(""); }, "--weight nan: give a finite number");
    fails([](Settings& s) { s.weight = HUGE_VAL; }, "--weight inf: give a finite number");
    fails([](Settings& s) { s.bands = {1, 0}; }, "--band must be at least 1");
    fails([](Settings& s) { s.inner.ratio = 0; }, "--ratio must be in (0, 1]");
    // A declared message replaces the generic one; its {} is the value.
    OptionTable<Settings> ram;
    ram.integer("ram", &Settings::count).at_least(64).message("--ram {}: give at least 64 (MB)");
    Settings small;
    small.count = 10;
    CHECK_THROWS_WITH_AS(ram.check(small), "--ram 10: give at least 64 (MB)", UsageError);
}

TEST_CASE("describe() takes the defaults from the struct's initialisers") {
    const auto options = table().describe();
    const auto find = [&](const std::string& name) {
        for (const auto& o : options)
            if (o.name == name) return o;
        FAIL("no option " << name);
        return OptionInfo{};
    };
    CHECK(find("count").default_value == "3");
    CHECK(find("weight").default_value == "-0.3");
    CHECK(!find("threshold").default_value);
    CHECK(find("verbose").default_value == "false");
    CHECK(find("colour").default_value == "red");
    CHECK(find("colour").choices == std::vector<std::string>{"red", "green"});
    CHECK(find("ratio").default_value == "0.5");
    CHECK(find("ratio").group == "Inner");
    CHECK(find("co").flag() == "-co");
    CHECK(find("input").positional);
    CHECK(find("input").path == PathRole::input);
}

TEST_CASE("format_number gives the shortest text that reads back exactly") {
    CHECK(format_number(-0.3) == "-0.3");
    CHECK(format_number(1e-3) == "0.001");
    CHECK(format_number(1e-4) == "0.0001");
    CHECK(format_number(50) == "50");
    CHECK(format_number(1000) == "1000");
    CHECK(format_number(2048) == "2048");
    CHECK(format_number(1e-5) == "1e-05");
    CHECK(format_number(1e20) == "1e+20");
    CHECK(format_number(0.1 + 0.2) == "0.30000000000000004");
}

TEST_CASE("usage_help lists every option with its default, usage_json as JSON values") {
    const CommandInfo info{"demo", "a demo", "INPUT [options]", "Does things.", table().describe()};
    const auto help = usage_help(info);
    CHECK(help.find("Usage: segearth demo INPUT [options]") == 0);
    CHECK(help.find("--count N") != std::string::npos);
    CHECK(help.find("how many [default: 3]") != std::string::npos);
    CHECK(help.find("-v, --verbose") != std::string::npos);
    CHECK(help.find("-co NAME=VALUE") != std::string::npos);
    const auto json = usage_json(info);
    CHECK(json.find("\"name\": \"count\"") != std::string::npos);
    CHECK(json.find("\"default\": 3,") != std::string::npos);
    CHECK(json.find("\"default\": -0.3,") != std::string::npos);
    CHECK(json.find("\"default\": \"red\",") != std::string::npos);
    CHECK(json.find("\"choices\": [\"red\", \"green\"]") != std::string::npos);
    CHECK(json.find("\"exclusive_minimum\": 0") != std::string::npos);
}
