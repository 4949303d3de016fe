#include <segearth/pipeline/class_setup.hpp>

#include <segearth/core/assets.hpp>
#include <segearth/core/preset_file.hpp>
#include <segearth/error.hpp>

#include <algorithm>
#include <set>

namespace segearth::pipeline {
namespace {
namespace fs = std::filesystem;

// Distinct colours for classes a preset does not colour (a qualitative palette, dark ones last).
const std::array<std::array<uint8_t, 3>, 12> default_palette{{{31, 119, 180}, {255, 127, 14}, {44, 160, 44},
                                                             {214, 39, 40}, {148, 103, 189}, {140, 86, 75},
                                                             {227, 119, 194}, {188, 189, 34}, {23, 190, 207},
                                                             {127, 127, 127}, {174, 199, 232}, {255, 187, 120}}};

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

fs::path find_preset(const std::string& name) {
    for (const auto& dir : core::data_dirs())
        if (fs::is_regular_file(dir / "presets" / (name + ".txt"))) return dir / "presets" / (name + ".txt");
    std::string known;
    for (const auto& n : preset_names()) known += (known.empty() ? "" : ", ") + n;
    throw UsageError("--preset " + name + ": no such preset (known: " +
                     (known.empty() ? "none found; is the data folder installed?" : known) + ")");
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
        auto preset = core::read_preset(find_preset(request.preset));
        setup.vocabulary = std::move(preset.vocabulary);
        setup.prob_threshold = preset.prob_threshold.value_or(setup.prob_threshold);
        setup.bg_index = preset.bg_index.value_or(setup.bg_index);
        setup.cls_lambda = preset.cls_lambda.value_or(setup.cls_lambda);
        setup.reduce_zero_label = preset.reduce_zero_label.value_or(false);
        setup.colours = std::move(preset.colours);
        setup.paper_scores = std::move(preset.paper_scores);
        setup.source = "preset " + request.preset;
    }
    if (request.prob_threshold) setup.prob_threshold = *request.prob_threshold;
    if (request.bg_index) setup.bg_index = *request.bg_index;
    if (request.cls_lambda) setup.cls_lambda = *request.cls_lambda;
    const size_t count = setup.vocabulary.classes.size();
    setup.colours.resize(std::min(setup.colours.size(), count));
    for (size_t i = setup.colours.size(); i < count; ++i) setup.colours.push_back(default_palette[i % default_palette.size()]);
    return setup;
}

}  // namespace segearth::pipeline
