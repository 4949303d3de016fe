// The scene input options, declared once for every command that reads imagery.
#include <segearth/geo/scene_reader.hpp>

#include <cmath>

namespace segearth::geo {
namespace {

// --gsd, --scale and --long-side all set the one working grid: a second one is a usage error.
auto grid_option(GridMode mode, const char* flag) {
    return [mode, flag](SceneReadOptions& o, const std::vector<std::string>& values) {
        if (o.grid.mode != GridMode::native && o.grid.mode != mode)
            throw UsageError("give only one of --gsd, --scale and --long-side");
        o.grid = {mode, options::parse_number(values.back(), flag)};
    };
}

auto grid_value(GridMode mode) {
    return [mode](const SceneReadOptions& o) -> std::optional<std::string> {
        if (o.grid.mode != mode) return std::nullopt;
        return options::format_number(o.grid.value);
    };
}

options::OptionTable<SceneReadOptions> make_table() {
    using options::ValueType;
    options::OptionTable<SceneReadOptions> t;
    t.group("Input");
    t.integers("band", &SceneReadOptions::bands)
        .short_name("b")
        .value_name("BAND")
        .at_least(1)
        .message("-b {}: bands are numbered from 1")
        .help("input band for red, green, blue (give it three times; default: the bands labelled RGB, else 1 2 3)");
    t.custom("scale-range", ValueType::number_list,
             [](SceneReadOptions& o, const std::vector<std::string>& v) {
                 if (v.size() % 2 != 0) throw UsageError("--scale-range takes two numbers, MIN and MAX");
                 o.scale_ranges.clear();
                 for (size_t i = 0; i < v.size(); i += 2)
                     o.scale_ranges.emplace_back(options::parse_number(v[i], "--scale-range"),
                                                 options::parse_number(v[i + 1], "--scale-range"));
             },
             [](const SceneReadOptions& o) -> std::optional<std::string> {
                 if (o.scale_ranges.empty()) return std::nullopt;
                 std::string text;
                 for (const auto& [low, high] : o.scale_ranges)
                     text += (text.empty() ? "" : " ") + options::format_number(low) + " " + options::format_number(high);
                 return text;
             })
        .values_per_use(2)
        .repeatable()
        .value_name("MIN MAX")
        .help("map MIN..MAX to 0..1 (once for all bands or three times); default: Byte as is, other types a 2-98% "
              "stretch");
    t.custom("gsd", ValueType::number, grid_option(GridMode::gsd, "--gsd"), grid_value(GridMode::gsd))
        .value_name("METRES")
        .unit("m")
        .above(0)
        .help("working ground sampling distance");
    t.custom("scale", ValueType::number, grid_option(GridMode::scale, "--scale"), grid_value(GridMode::scale))
        .value_name("F")
        .above(0)
        .help("working grid = native size x F");
    t.custom("long-side", ValueType::number, grid_option(GridMode::long_side, "--long-side"),
             grid_value(GridMode::long_side))
        .value_name("N")
        .unit("px")
        .at_least(1)
        .help("working grid with its long side N pixels (the paper's 448)");
    return t;
}

const char* grid_flag(GridMode mode) {
    switch (mode) {
        case GridMode::gsd: return "--gsd";
        case GridMode::scale: return "--scale";
        case GridMode::long_side: return "--long-side";
        case GridMode::native: break;
    }
    return "";
}

}  // namespace

const options::OptionTable<SceneReadOptions>& scene_read_option_table() {
    static const auto table = make_table();
    return table;
}

void validate(const SceneReadOptions& o) {
    scene_read_option_table().check(o);
    const auto finite = [](const std::string& flag, double v) {
        if (!std::isfinite(v)) throw UsageError(flag + " " + options::format_number(v) + ": give a finite number");
    };
    if (o.grid.mode != GridMode::native) finite(grid_flag(o.grid.mode), o.grid.value);
    for (const auto& [low, high] : o.scale_ranges) {
        finite("--scale-range", low);
        finite("--scale-range", high);
    }
}

}  // namespace segearth::geo
