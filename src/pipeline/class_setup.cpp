#include <segearth/pipeline/class_setup.hpp>

#include <segearth/core/assets.hpp>
#include <segearth/error.hpp>
#include <segearth/text_file.hpp>

#include <algorithm>
#include <set>
#include <sstream>

namespace segearth::pipeline {
namespace {
namespace fs = std::filesystem;

// Distinct colours for classes a preset does not colour (a qualitative palette, dark ones last).
const std::array<std::array<uint8_t, 3>, 12> default_palette{{{31, 119, 180}, {255, 127, 14}, {44, 160, 44},
                                                             {214, 39, 40}, {148, 103, 189}, {140, 86, 75},
                                                             {227, 119, 194}, {188, 189, 34}, {23, 190, 207},
                                                             {127, 127, 127}, {174, 199, 232}, {255, 187, 120}}};

std::array<uint8_t, 3> parse_colour(const std::string& text, const fs::path& file) {
    std::array<uint8_t, 3> rgb{};
    std::istringstream in(text);
    for (size_t i = 0; i < 3; ++i) {
        int v = -1;
        char comma = ',';
        if (i > 0) in >> comma;
        in >> v;
        if (!in || comma != ',' || v < 0 || v > 255)
            throw FileError(file.string() + ": colour '" + text + "' is not R,G,B with values 0..255");
        rgb[i] = static_cast<uint8_t>(v);
    }
    return rgb;
}

// "#: key value..." lines of a preset.
void apply_directives(const fs::path& file, ClassSetup& setup) {
    for (const auto& [number, line] : read_text_lines(file.string(), "the preset")) {
        if (line.rfind("#:", 0) != 0) continue;
        std::istringstream words(line.substr(2));
        std::string key;
        words >> key;
        if (key == "prob-threshold") {
            words >> setup.prob_threshold;
        } else if (key == "bg-index") {
            words >> setup.bg_index;
        } else if (key == "colours") {
            for (std::string c; words >> c;) setup.colours.push_back(parse_colour(c, file));
            continue;
        } else {
            throw FileError(file.string() + ": unknown directive '#: " + key +
                            "' (known: prob-threshold, bg-index, colours)");
        }
        if (!words) throw FileError(file.string() + ": '" + line + "' needs a number");
    }
}

}  // namespace

std::vector<std::string> preset_names() {
    std::set<std::string> names;
    for (const auto& dir : core::data_dirs()) {
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(dir / "presets", ec))
            if (entry.path().extension() == ".txt") names.insert(entry.path().stem().string());
    }
    return {names.begin(), names.end()};
}

ClassSetup load_classes(const ClassRequest& request) {
    const int given = !request.classes.empty() + !request.classes_file.empty() + !request.preset.empty();
    if (given == 0)
        throw UsageError("no classes given: use --classes \"building,roof;water;road\", --classes-file FILE or "
                         "--preset NAME");
    if (given > 1) throw UsageError("give only one of --classes, --classes-file and --preset");
    ClassSetup setup;
    if (!request.classes.empty()) {
        setup.vocabulary = core::Vocabulary::parse(request.classes);
        setup.source = "--classes";
    } else if (!request.classes_file.empty()) {
        setup.vocabulary = core::Vocabulary::read(request.classes_file);
        setup.source = request.classes_file;
    } else {
        fs::path file;
        for (const auto& dir : core::data_dirs())
            if (fs::is_regular_file(dir / "presets" / (request.preset + ".txt"))) {
                file = dir / "presets" / (request.preset + ".txt");
                break;
            }
        if (file.empty()) {
            std::string known;
            for (const auto& n : preset_names()) known += (known.empty() ? "" : ", ") + n;
            throw UsageError("--preset " + request.preset + ": no such preset (known: " +
                             (known.empty() ? "none found; is the data folder installed?" : known) + ")");
        }
        setup.vocabulary = core::Vocabulary::read(file);
        apply_directives(file, setup);
        setup.source = "preset " + request.preset;
    }
    if (request.prob_threshold) setup.prob_threshold = *request.prob_threshold;
    if (request.bg_index) setup.bg_index = *request.bg_index;
    const size_t count = setup.vocabulary.classes.size();
    setup.colours.resize(std::min(setup.colours.size(), count));
    for (size_t i = setup.colours.size(); i < count; ++i) setup.colours.push_back(default_palette[i % default_palette.size()]);
    return setup;
}

}  // namespace segearth::pipeline
