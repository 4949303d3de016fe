// Which classes a segmentation looks for, and how it decides and draws them: from --classes,
// --classes-file or a --preset in data/presets (the paper's class lists and thresholds).
#pragma once

#include <segearth/core/vocabulary.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <map>
#include <string>
#include <vector>

namespace segearth::pipeline {

struct ClassRequest {
    std::string classes;       ///< "a,b;c;d"
    std::string classes_file;  ///< one class per line, synonyms separated by commas
    std::string preset;        ///< a name in data/presets, e.g. "landcover"
    std::optional<double> prob_threshold;
    std::optional<int64_t> bg_index;
    std::optional<double> cls_lambda;
};

struct ClassSetup {
    core::Vocabulary vocabulary;
    double prob_threshold = 0.0;
    int64_t bg_index = 0;
    double cls_lambda = -0.3;        ///< METHOD.md 5; a preset may set another (xBD: 0)
    bool reduce_zero_label = false;  ///< how the preset's dataset numbers its ground truth (eval)
    std::vector<std::array<uint8_t, 3>> colours;  ///< one per class
    std::map<int64_t, double> paper_scores;      ///< a dataset preset's paper numbers (percent, by long side)
    std::string source;                          ///< "--classes", the file, or "preset landcover"
};

/// Exactly one of classes / classes_file / preset must be given (UsageError otherwise). Preset
/// files (core/preset_file.hpp) may set the threshold, background, lambda, label convention and
/// colours; the request's own threshold, background index and lambda win.
ClassSetup load_classes(const ClassRequest& request);

/// The preset names found in the data folders.
std::vector<std::string> preset_names();

/// data/presets/NAME.txt in the first data folder that has it; UsageError naming the known ones.
std::filesystem::path find_preset(const std::string& name);

}  // namespace segearth::pipeline
