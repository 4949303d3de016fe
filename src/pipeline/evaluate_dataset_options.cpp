// eval-dataset's options, declared once: its own (folders, reports, cache) and segment's.
#include <segearth/pipeline/evaluate_dataset.hpp>

#include <segearth/error.hpp>

namespace segearth::pipeline {
namespace {

options::Command<EvaluateDatasetOptions> make_command() {
    options::Command<EvaluateDatasetOptions> c{
        "eval-dataset",
        "the paper's protocol on a labelled dataset: segment every image, one mIoU beside the paper's",
        "--preset NAME --images DIR --labels DIR [segment options]",
        "Pairs the images and labels of two folders by file stem (labels as the dataset numbers them: the preset's "
        "classes in order, 255 ignored, LoveDA's reduce-zero-label from its preset), segments every image with one "
        "loaded model under the paper's protocol (long side 448 unless --long-side, --gsd or --scale says otherwise; "
        "224 px windows every 112 px; the preset's threshold, background and lambda), scores it on the label's grid, "
        "and accumulates one confusion matrix over the dataset (METHOD.md 8). Prints per-class IoU, precision, "
        "recall and F1 and the mIoU (two classes: the foreground IoU) beside the paper's number for the preset. "
        "--classes or --classes-file instead of --preset score your own labelled patches.",
        {}};
    auto& t = c.options;
    t.group("Dataset");
    t.text("images", &EvaluateDatasetOptions::images).required().value_name("DIR").input_path(options::FileKind::folder)
        .help("the images (any raster GDAL reads: .tif, .png, .jpg, ...)");
    t.text("labels", &EvaluateDatasetOptions::labels).required().value_name("DIR").input_path(options::FileKind::folder)
        .help("the labels, one per image with the same file stem");
    t.text("cache", &EvaluateDatasetOptions::cache)
        .value_name("DIR")
        .output_path(options::FileKind::folder)
        .help("keep each image's prediction and scores here; a rerun with the same settings skips the images "
              "already scored");
    t.include(segment_scene_option_table(), &EvaluateDatasetOptions::segment);
    t.group("Reports");
    t.text("csv", &EvaluateDatasetOptions::csv).value_name("FILE").output_path()
        .help("one row per image: pixels scored, pixel accuracy, mIoU, each class's IoU");
    t.text("json", &EvaluateDatasetOptions::json).value_name("FILE").output_path()
        .help("the dataset's scores as JSON (eval's keys, with the paper's number)");
    t.text("confusion-png", &EvaluateDatasetOptions::confusion_png)
        .value_name("FILE")
        .output_path()
        .help("draw the dataset's confusion matrix as a labelled PNG");
    t.flag("overwrite", &EvaluateDatasetOptions::overwrite)
        .help("replace existing --csv, --json and --confusion-png files");
    t.include(segment_running_option_table(), &EvaluateDatasetOptions::segment);
    return c;
}

}  // namespace

const options::Command<EvaluateDatasetOptions>& evaluate_dataset_command() {
    static const auto command = make_command();
    return command;
}

void validate(const EvaluateDatasetOptions& o) {
    if (o.images.empty() || o.labels.empty())
        throw UsageError("eval-dataset needs --images DIR and --labels DIR (see segearth eval-dataset --help)");
    evaluate_dataset_command().options.check(o);
    geo::validate(o.segment.read);
    validate(o.segment.streaming);
}

}  // namespace segearth::pipeline
