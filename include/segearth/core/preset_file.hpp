// A preset: a class file (data/presets/NAME.txt) whose "#:" comment lines also set the decision
// and the colours, so that one name gives a dataset's whole setting.
//
//   # building: building extraction as in the paper's WHU-Aerial setting.
//   #: prob-threshold 0.6
//   #: bg-index 0
//   #: colours 0,0,0 222,31,7
//   background
//   building
#pragma once

#include <segearth/core/vocabulary.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

namespace segearth::core {

struct PresetFile {
    Vocabulary vocabulary;
    std::optional<double> prob_threshold;         ///< "#: prob-threshold T", 0 <= T <= 1
    std::optional<int64_t> bg_index;              ///< "#: bg-index I", a class of the file
    std::vector<std::array<uint8_t, 3>> colours;  ///< "#: colours R,G,B ...", at most one per class
};

/// Throws FileError naming the file and line for anything it cannot take: an unknown directive, a
/// value missing, out of range, not finite or followed by other text, a directive given twice.
PresetFile read_preset(const std::filesystem::path& file);

}  // namespace segearth::core
