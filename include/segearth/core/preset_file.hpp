// A preset: a class file (data/presets/NAME.txt) whose "#:" comment lines also set the decision,
// the bias subtraction, the ground truth's label convention and the colours, so that one name
// gives a dataset's whole setting (METHOD.md 6 and 8).
//
//   # LoveDA (paper Table 1): land cover, 0.3 m.
//   #: prob-threshold 0.3
//   #: bg-index 0
//   #: cls-lambda -0.3
//   #: reduce-zero-label yes
//   #: colours 255,255,255 255,0,0 ...
//   background
//   building,roof,house
//   ...
#pragma once

#include <segearth/core/vocabulary.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <vector>

namespace segearth::core {

struct PresetFile {
    Vocabulary vocabulary;
    std::string description;                      ///< the first comment line, without "# "
    std::optional<double> prob_threshold;         ///< "#: prob-threshold T", 0 <= T <= 1
    std::optional<int64_t> bg_index;              ///< "#: bg-index I", a class of the file
    std::optional<double> cls_lambda;             ///< "#: cls-lambda L", finite (METHOD.md 5)
    std::optional<bool> reduce_zero_label;        ///< "#: reduce-zero-label yes|no" (the ground truth's labels)
    std::vector<std::array<uint8_t, 3>> colours;  ///< "#: colours R,G,B ...", at most one per class
    /// "#: paper-score 448=40.3 896=49.9": the paper's score for the dataset (Table 1's mIoU, or Table
    /// 2's foreground IoU for two classes), in percent, by the working grid's long side.
    std::map<int64_t, double> paper_scores;
};

/// Throws FileError naming the file and line for anything it cannot take: an unknown directive, a
/// value missing, out of range, not finite or followed by other text, a directive given twice.
PresetFile read_preset(const std::filesystem::path& file);

}  // namespace segearth::core
