#include <segearth/core/preset_file.hpp>

#include <segearth/error.hpp>
#include <segearth/text_file.hpp>

#include <cmath>
#include <set>
#include <sstream>

namespace segearth::core {
namespace {

std::array<uint8_t, 3> parse_colour(const std::string& text, const std::string& where) {
    std::array<uint8_t, 3> rgb{};
    std::istringstream in(text);
    for (size_t i = 0; i < 3; ++i) {
        int v = -1;
        char comma = ',';
        if (i > 0) in >> comma;
        in >> v;
        if (!in || comma != ',' || v < 0 || v > 255)
            throw FileError(where + ": colour '" + text + "' is not R,G,B with values 0..255");
        rgb[i] = static_cast<uint8_t>(v);
    }
    if (in.peek() != std::char_traits<char>::eof())
        throw FileError(where + ": colour '" + text + "' is not R,G,B with values 0..255");
    return rgb;
}

// The one value of "#: key VALUE", with nothing after it.
template <class T>
T single_value(std::istringstream& words, const std::string& where, const std::string& key, const char* what) {
    T value{};
    std::string rest;
    if (!(words >> value) || (words >> rest))
        throw FileError(where + ": '#: " + key + "' takes one " + what);
    return value;
}

}  // namespace

PresetFile read_preset(const std::filesystem::path& file) {
    PresetFile preset;
    preset.vocabulary = Vocabulary::read(file);
    const auto classes = static_cast<int64_t>(preset.vocabulary.classes.size());
    std::set<std::string> seen;
    for (const auto& [number, line] : read_text_lines(file.string(), "the preset")) {
        if (preset.description.empty() && line.rfind("# ", 0) == 0) preset.description = line.substr(2);
        if (line.rfind("#:", 0) != 0) continue;
        const auto where = file.string() + ":" + std::to_string(number);
        std::istringstream words(line.substr(2));
        std::string key;
        words >> key;
        if (!seen.insert(key).second) throw FileError(where + ": '#: " + key + "' is given twice");
        if (key == "prob-threshold") {
            const auto t = single_value<double>(words, where, key, "number between 0 and 1");
            if (!std::isfinite(t) || t < 0 || t > 1)
                throw FileError(where + ": '#: prob-threshold' takes one number between 0 and 1");
            preset.prob_threshold = t;
        } else if (key == "bg-index") {
            const auto i = single_value<int64_t>(words, where, key, "class index");
            if (i < 0 || i >= classes)
                throw FileError(where + ": '#: bg-index " + std::to_string(i) + "' is not a class of the file (0.." +
                                std::to_string(classes - 1) + ")");
            preset.bg_index = i;
        } else if (key == "cls-lambda") {
            const auto l = single_value<double>(words, where, key, "finite number");
            if (!std::isfinite(l)) throw FileError(where + ": '#: cls-lambda' takes one finite number");
            preset.cls_lambda = l;
        } else if (key == "reduce-zero-label") {
            const auto v = single_value<std::string>(words, where, key, "yes or no");
            if (v != "yes" && v != "no") throw FileError(where + ": '#: reduce-zero-label' takes one yes or no");
            preset.reduce_zero_label = v == "yes";
        } else if (key == "colours") {
            for (std::string c; words >> c;) preset.colours.push_back(parse_colour(c, where));
            if (static_cast<int64_t>(preset.colours.size()) > classes)
                throw FileError(where + ": " + std::to_string(preset.colours.size()) + " colours for " +
                                std::to_string(classes) + " classes");
        } else if (key == "paper-score") {
            for (std::string pair; words >> pair;) {
                std::istringstream in(pair);
                int64_t side = 0;
                char equals = 0;
                double score = -1;
                std::string rest;
                if (!(in >> side >> equals >> score) || equals != '=' || (in >> rest) || side < 1 ||
                    !std::isfinite(score) || score < 0 || score > 100)
                    throw FileError(where + ": '#: paper-score' takes LONG_SIDE=PERCENT pairs, e.g. 448=40.3 (got '" +
                                    pair + "')");
                if (!preset.paper_scores.emplace(side, score).second)
                    throw FileError(where + ": '#: paper-score' gives long side " + std::to_string(side) + " twice");
            }
            if (preset.paper_scores.empty())
                throw FileError(where + ": '#: paper-score' takes LONG_SIDE=PERCENT pairs, e.g. 448=40.3");
        } else {
            throw FileError(where + ": unknown directive '#: " + key +
                            "' (known: prob-threshold, bg-index, cls-lambda, reduce-zero-label, colours, paper-score)");
        }
    }
    return preset;
}

}  // namespace segearth::core
