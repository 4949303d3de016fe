// info --preset NAME and info --presets: what a preset sets, for people and (--json) for programs.
#include <segearth/pipeline/info.hpp>

#include <segearth/core/preset_file.hpp>
#include <segearth/json_text.hpp>
#include <segearth/options/option_info.hpp>
#include <segearth/pipeline/class_setup.hpp>

#include <algorithm>
#include <sstream>

namespace segearth::pipeline {
namespace {

// What a preset leaves unset is what segment uses then (ClassSetup's defaults).
struct PresetSettings {
    core::PresetFile file;
    ClassSetup defaults;
    double prob_threshold() const { return file.prob_threshold.value_or(defaults.prob_threshold); }
    int64_t bg_index() const { return file.bg_index.value_or(defaults.bg_index); }
    double cls_lambda() const { return file.cls_lambda.value_or(defaults.cls_lambda); }
    bool reduce_zero_label() const { return file.reduce_zero_label.value_or(defaults.reduce_zero_label); }
};

PresetSettings settings_of(const std::string& name) { return {core::read_preset(find_preset(name)), {}}; }

std::string json_preset(const std::string& name, const PresetSettings& p, const std::string& indent) {
    std::ostringstream s;
    s << indent << "{\n" << indent << "  \"name\": " << json_string(name) << ",\n"
      << indent << "  \"description\": " << json_string(p.file.description) << ",\n"
      << indent << "  \"classes\": [";
    const auto& classes = p.file.vocabulary.classes;
    for (size_t i = 0; i < classes.size(); ++i) {
        s << (i ? ", " : "") << "[";
        for (size_t k = 0; k < classes[i].size(); ++k) s << (k ? ", " : "") << json_string(classes[i][k]);
        s << "]";
    }
    s << "],\n" << indent << "  \"prob_threshold\": " << options::format_number(p.prob_threshold()) << ",\n"
      << indent << "  \"bg_index\": " << p.bg_index() << ",\n"
      << indent << "  \"cls_lambda\": " << options::format_number(p.cls_lambda()) << ",\n"
      << indent << "  \"reduce_zero_label\": " << (p.reduce_zero_label() ? "true" : "false") << ",\n"
      << indent << "  \"paper_scores\": {";
    for (auto it = p.file.paper_scores.begin(); it != p.file.paper_scores.end(); ++it)
        s << (it == p.file.paper_scores.begin() ? "" : ", ") << "\"" << it->first
          << "\": " << options::format_number(it->second);
    s << "},\n"
      << indent << "  \"colours\": [";
    for (size_t i = 0; i < p.file.colours.size(); ++i) {
        const auto& c = p.file.colours[i];
        s << (i ? ", " : "") << "[" << int{c[0]} << ", " << int{c[1]} << ", " << int{c[2]} << "]";
    }
    s << "]\n" << indent << "}";
    return s.str();
}

}  // namespace

std::string describe_preset(const std::string& name, bool json) {
    const auto p = settings_of(name);
    if (json) return json_preset(name, p, "") + "\n";
    std::ostringstream s;
    s << "Preset: " << name << " (" << find_preset(name).string() << ")\n";
    if (!p.file.description.empty()) s << p.file.description << "\n";
    s << "Classes, in label order:\n";
    const auto& classes = p.file.vocabulary.classes;
    for (size_t i = 0; i < classes.size(); ++i) {
        s << "  " << i << "  ";
        for (size_t k = 0; k < classes[i].size(); ++k) s << (k ? ", " : "") << classes[i][k];
        s << (static_cast<int64_t>(i) == p.bg_index() ? "   (background)" : "") << "\n";
    }
    s << "Probability threshold: " << options::format_number(p.prob_threshold()) << "\n"
      << "Background index: " << p.bg_index() << "\n"
      << "[CLS] lambda: " << options::format_number(p.cls_lambda()) << "\n"
      << "Ground truth labels: "
      << (p.reduce_zero_label() ? "reduce-zero-label (0 is ignored, the others count from 1)" : "as the classes")
      << "\n";
    for (const auto& [side, score] : p.file.paper_scores)
        s << "Paper's " << (classes.size() == 2 ? "foreground IoU" : "mIoU") << " at long side " << side << ": "
          << options::format_number(score) << " %\n";
    return s.str();
}

std::string describe_presets(bool json) {
    std::ostringstream s;
    const auto names = preset_names();
    if (json) {
        s << "[";
        for (size_t i = 0; i < names.size(); ++i) s << (i ? ",\n" : "\n") << json_preset(names[i], settings_of(names[i]), "  ");
        s << "\n]\n";
        return s.str();
    }
    size_t width = 0;
    for (const auto& n : names) width = std::max(width, n.size());
    for (const auto& n : names) {
        const auto p = settings_of(n);
        const auto count = std::to_string(p.file.vocabulary.classes.size());
        const auto threshold = options::format_number(p.prob_threshold());
        s << n << std::string(width + 2 - n.size(), ' ') << std::string(2 - std::min<size_t>(2, count.size()), ' ')
          << count << " classes, threshold " << threshold << std::string(5 - std::min<size_t>(4, threshold.size()), ' ')
          << p.file.description << "\n";
    }
    return s.str();
}

}  // namespace segearth::pipeline
