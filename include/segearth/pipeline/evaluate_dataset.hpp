// `segearth eval-dataset`: the paper's evaluation protocol on a labelled dataset. Images and labels
// are paired by file stem, every image is segmented with one loaded model (long side 448, 224 px
// windows every 112 px, the preset's classes and settings), and one confusion matrix is accumulated
// over the whole dataset (METHOD.md 8), reported beside the paper's number. With a cache folder each
// image's matrix is kept, so that a rerun (after Ctrl-C, a crash, or with more images) scores only
// what is new.
//
//   EvaluateDatasetOptions o;
//   o.segment.classes.preset = "openearthmap"; o.images = "oem/images"; o.labels = "oem/labels";
//   o.cache = "oem/segearth-cache";
//   DatasetReport r = evaluate_dataset(o);   // r.total.miou, r.paper_score
#pragma once

#include <segearth/geo/evaluate.hpp>
#include <segearth/options/option_table.hpp>
#include <segearth/pipeline/segment_options.hpp>
#include <segearth/progress.hpp>

#include <optional>
#include <string>
#include <vector>

namespace segearth::pipeline {

struct EvaluateDatasetOptions {
    std::string images, labels;  ///< folders; an image and a label with the same file stem are a pair
    /// How each image is segmented (model, classes, input, windows, running); INPUT and OUTPUT are the
    /// runner's. A working grid left native means the paper's: long side 448.
    SegmentOptions segment;
    std::string csv;     ///< --csv FILE: one row per image
    std::string json;    ///< --json FILE: the dataset's scores
    std::string confusion_png;  ///< --confusion-png FILE: the dataset's matrix as a labelled picture
    std::string cache;   ///< --cache DIR: per-image matrices and predictions, for resuming
    bool overwrite = false;  ///< replace existing --csv / --json / --confusion-png files
};

struct ImageResult {
    std::string stem, image, label;
    geo::EvaluationReport scores;  ///< this image alone
    bool cached = false;           ///< read from the cache, not computed in this run
    double seconds = 0;            ///< segment and score, when computed (as recorded in the cache otherwise)
};

struct DatasetReport {
    std::string classes_source;        ///< "preset openearthmap", or the class file / list
    int64_t long_side = 0;             ///< the working grid's long side; 0 when --gsd or --scale set it
    geo::EvaluationReport total;       ///< one confusion matrix over every image's pixels
    std::optional<double> paper_score; ///< the paper's number for this preset and long side, percent
    std::vector<ImageResult> images;   ///< by stem
    std::vector<std::string> images_without_label, labels_without_image;
    size_t from_cache = 0, stale_cache = 0;  ///< cached results used; cached results of other settings redone
    std::string notes;                 ///< what the user should know (from segment: e.g. no upsampler weights)
    double seconds = 0;
};

/// The command, its texts and its options table (CLI, --help, --json-usage).
const options::Command<EvaluateDatasetOptions>& evaluate_dataset_command();

/// The declared ranges, then the rules between options; throws UsageError naming the flag.
void validate(const EvaluateDatasetOptions& options);

/// Throws UsageError / FileError naming the folder, image, label or option at fault; Cancelled on
/// Ctrl-C (the images already scored stay in the cache).
DatasetReport evaluate_dataset(const EvaluateDatasetOptions& options, const Progress& progress = {});

/// The dataset's table (per class, then the headline score beside the paper's) and its JSON form
/// (keys classes_source, images, long_side, miou or foreground_iou as eval's, paper_score, scores:
/// eval's JSON of the summed matrix).
std::string dataset_table(const DatasetReport& report);
std::string dataset_json(const DatasetReport& report);

}  // namespace segearth::pipeline
