// Scoring a class raster against ground truth (METHOD.md 8): one confusion matrix streamed over
// strips of rows (any size, bounded memory), the ground truth read on the prediction's grid through
// GDAL when the grids differ, classes matched by name when the rasters number them differently.
//
//   EvaluateOptions o;
//   o.prediction = "classes.tif"; o.ground_truth = "labels.tif";
//   EvaluationReport r = evaluate(o);   // r.miou, r.classes[i].iou, r.confusion
#pragma once

#include <segearth/options/option_table.hpp>
#include <segearth/progress.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace segearth::geo {

struct EvaluateOptions {
    std::string prediction;          ///< PRED: segment's class raster (or any integer class raster)
    std::string ground_truth;        ///< GT: the labels
    int ignore_value = 255;          ///< GT value never scored (after --reduce-zero-label)
    bool reduce_zero_label = false;  ///< GT 0 is ignored and the others count from 1 (LoveDA)
    std::string classes;             ///< "a;b;c": names in label order, for rasters without class names
    int background_index = -1;       ///< for the foreground IoU; -1: PRED's SEGEARTH_BG_INDEX, else 0
    std::string json;                ///< --json FILE: the scores as JSON
    std::string confusion_png;       ///< --confusion-png FILE: the matrix as a labelled picture
    bool overwrite = false;          ///< replace an existing --json / --confusion-png file
    int strip_rows = 0;              ///< rows read at once; 0: 256
};

struct ClassScore {
    std::string name;
    bool present = false;  ///< in the ground truth or the prediction (TP + FP + FN > 0)
    double iou = 0, precision = 0, recall = 0, f1 = 0;
    int64_t gt_pixels = 0, predicted_pixels = 0;
};

struct EvaluationReport {
    std::vector<ClassScore> classes;           ///< by class value 0..K-1
    std::vector<std::vector<int64_t>> confusion;  ///< [ground truth][prediction] pixel counts
    double miou = 0;                           ///< mean IoU over the classes present
    double pixel_accuracy = 0;
    std::optional<double> foreground_iou;      ///< two classes: the IoU of the one that is not the background
    int64_t scored_pixels = 0, ignored_pixels = 0;
    bool ground_truth_resampled = false;       ///< GT was read on PRED's grid (nearest neighbour)
    double seconds = 0;
};

/// The command, its texts and its options table (CLI, --help, --json-usage).
const options::Command<EvaluateOptions>& evaluate_command();

/// The declared ranges, then the rules between options; throws UsageError naming the flag.
void validate(const EvaluateOptions& options);

/// Throws UsageError / FileError naming the raster, class or option at fault.
EvaluationReport evaluate(const EvaluateOptions& options, const Progress& progress = {});

/// The scores of a confusion matrix [ground truth][prediction] over the classes `names`, in the same
/// way evaluate() scores (a dataset's matrices summed, for one mIoU over all its pixels);
/// `background` names the background class for the foreground IoU of two classes.
EvaluationReport score_confusion(const std::vector<std::string>& names, std::vector<std::vector<int64_t>> confusion,
                                 int background);

/// The report as a table (per class IoU, precision, recall, F1, ground-truth pixels; then mIoU,
/// pixel accuracy, foreground IoU), and as JSON (keys miou, pixel_accuracy, foreground_iou where it
/// applies, classes: [{name, iou, precision, recall, f1, gt_pixels}], confusion; fractions in [0, 1],
/// null for a class absent from both rasters).
std::string evaluation_table(const EvaluationReport& report);
std::string evaluation_json(const EvaluationReport& report);

/// The confusion matrix as a labelled PNG (rows: ground truth, columns: prediction, each cell the
/// share of its row, shaded and printed; each row's IoU and ground-truth pixels), written atomically.
void write_confusion_png(const EvaluationReport& report, const std::string& path, bool overwrite);

}  // namespace segearth::geo
