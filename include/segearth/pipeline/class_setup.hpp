// Which classes a segmentation looks for, and how it decides and draws them: from --classes,
// --classes-file or a --preset in data/presets (the paper's class lists and thresholds).
#pragma once

#include <segearth/core/vocabulary.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace segearth::pipeline {

struct ClassRequest {
    std::string classes;       ///< "a,b;c;d"
    std::string classes_file;  ///< one class per line, synonyms separated by commas
    std::string preset;        ///< a name in data/presets, e.g. "landcover"
    std::optional<double> prob_threshold;
    std::optional<int64_t> bg_index;
};

struct ClassSetup {
    core::Vocabulary vocabulary;
    double prob_threshold = 0.0;
    int64_t bg_index = 0;
    std::vector<std::array<uint8_t, 3>> colours;  ///< one per class
    std::string source;                          ///< "--classes", the file, or "preset landcover"
};

/// Exactly one of classes / classes_file / preset must be given (UsageError otherwise). Preset
/// files (core/preset_file.hpp) may set "#: prob-threshold T", "#: bg-index I" and "#: colours R,G,B ..."; the request's
/// own threshold and background index win.
ClassSetup load_classes(const ClassRequest& request);

/// The preset names found in the data folders.
std::vector<std::string> preset_names();

}  // namespace segearth::pipeline
