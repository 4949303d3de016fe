// eval's options, declared once.
#include <segearth/geo/evaluate.hpp>

namespace segearth::geo {
namespace {

options::Command<EvaluateOptions> make_command() {
    options::Command<EvaluateOptions> c{
        "eval",
        "score a class raster against ground truth: IoU, precision, recall, F1, mIoU",
        "PRED.tif GT.tif [options]",
        "Counts one confusion matrix over every pixel (read in strips: any size), skipping the ignore value and the "
        "ground truth's nodata, and prints per-class IoU, precision, recall and F1, the pixel accuracy, the mIoU over "
        "the classes present and, for two classes, the IoU of the foreground (METHOD.md 8). When the grids differ "
        "the ground truth is read on the prediction's grid (nearest neighbour); when both rasters name their "
        "classes, they are matched by name.",
        {}};
    auto& t = c.options;
    t.text("prediction", &EvaluateOptions::prediction).positional().required().value_name("PRED.tif").input_path(options::FileKind::raster)
        .help("the class raster to score (segment's output)");
    t.text("ground-truth", &EvaluateOptions::ground_truth).positional().required().value_name("GT.tif").input_path(options::FileKind::raster)
        .help("the ground-truth labels");
    t.group("Labels");
    t.integer("ignore", &EvaluateOptions::ignore_value).value_name("V").help("ground-truth value never scored");
    t.flag("reduce-zero-label", &EvaluateOptions::reduce_zero_label)
        .help("ground truth 0 is ignored and the other labels count from 1 (LoveDA)");
    t.text("classes", &EvaluateOptions::classes)
        .value_name("\"a;b;c\"")
        .help("class names in label order, for rasters that do not name their classes");
    t.integer("bg-index", [](auto& o) -> auto& { return o.background_index; })
        .value_name("I")
        .at_least(-1)
        .help("the background class, for the foreground IoU (-1: PRED's SEGEARTH_BG_INDEX, else 0)");
    t.group("Output");
    t.text("json", &EvaluateOptions::json).value_name("FILE").output_path().help("write the scores as JSON");
    t.text("confusion-png", &EvaluateOptions::confusion_png)
        .value_name("FILE")
        .output_path()
        .help("draw the confusion matrix as a labelled PNG (rows: ground truth, % of each row)");
    t.flag("overwrite", &EvaluateOptions::overwrite).help("replace existing --json and --confusion-png files");
    t.integer("strip-rows", &EvaluateOptions::strip_rows)
        .value_name("N")
        .at_least(0)
        .help("rows read at once (0: 256)");
    return c;
}

}  // namespace

const options::Command<EvaluateOptions>& evaluate_command() {
    static const auto command = make_command();
    return command;
}

void validate(const EvaluateOptions& o) {
    if (o.prediction.empty() || o.ground_truth.empty())
        throw UsageError("eval needs PRED.tif and GT.tif (see segearth eval --help)");
    evaluate_command().options.check(o);
}

}  // namespace segearth::geo
