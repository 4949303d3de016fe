// METHOD.md 8 from a confusion matrix: per-class IoU, precision, recall, F1; mIoU over the classes
// present; pixel accuracy; the foreground IoU of a two-class problem. And the report's two forms.
#include "evaluation/scores.hpp"

#include <segearth/error.hpp>
#include <segearth/json_text.hpp>
#include <segearth/options/option_info.hpp>

#include <cmath>
#include <cstdio>
#include <sstream>

namespace segearth::geo {

void score(EvaluationReport& r, const std::vector<std::string>& names, int background) {
    const size_t k = names.size();
    std::vector<int64_t> predicted(k, 0), actual(k, 0);
    int64_t total = 0, correct = 0;
    for (size_t g = 0; g < k; ++g)
        for (size_t p = 0; p < k; ++p) {
            const int64_t n = r.confusion[g][p];
            actual[g] += n, predicted[p] += n, total += n;
            if (g == p) correct += n;
        }
    r.scored_pixels = total;
    r.pixel_accuracy = total ? static_cast<double>(correct) / static_cast<double>(total) : 0.0;
    r.classes.assign(k, {});
    double iou_sum = 0;
    int present = 0;
    const auto ratio = [](int64_t a, int64_t b) { return b ? static_cast<double>(a) / static_cast<double>(b) : 0.0; };
    for (size_t c = 0; c < k; ++c) {
        auto& s = r.classes[c];
        const int64_t tp = r.confusion[c][c], fp = predicted[c] - tp, fn = actual[c] - tp;
        s.name = names[c];
        s.gt_pixels = actual[c], s.predicted_pixels = predicted[c];
        s.present = tp + fp + fn > 0;
        s.iou = ratio(tp, tp + fp + fn);
        s.precision = ratio(tp, tp + fp);
        s.recall = ratio(tp, tp + fn);
        s.f1 = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0.0;
        if (s.present) iou_sum += s.iou, ++present;
    }
    r.miou = present ? iou_sum / present : 0.0;
    if (k == 2 && background >= 0 && background < 2) r.foreground_iou = r.classes[1 - background].iou;
}

EvaluationReport score_confusion(const std::vector<std::string>& names, std::vector<std::vector<int64_t>> confusion,
                                 int background) {
    if (confusion.size() != names.size())
        throw Error("internal error: a confusion matrix of " + std::to_string(confusion.size()) + " rows for " +
                    std::to_string(names.size()) + " classes");
    EvaluationReport r;
    r.confusion = std::move(confusion);
    score(r, names, background);
    return r;
}

namespace {

std::string percent(double fraction) {
    char text[16];
    std::snprintf(text, sizeof text, "%6.2f", 100.0 * fraction);
    return text;
}

}  // namespace

std::string evaluation_table(const EvaluationReport& r) {
    size_t width = 5;
    for (const auto& c : r.classes) width = std::max(width, c.name.size());
    std::ostringstream s;
    s << "class" << std::string(width - 5, ' ') << "     IoU  precision  recall      F1   GT pixels\n";
    for (const auto& c : r.classes) {
        s << c.name << std::string(width - c.name.size(), ' ');
        if (c.present)
            s << "  " << percent(c.iou) << "     " << percent(c.precision) << "  " << percent(c.recall) << "  "
              << percent(c.f1);
        else
            s << "       -          -       -       -";
        s << "  " << std::string(10 - std::min<size_t>(10, std::to_string(c.gt_pixels).size()), ' ') << c.gt_pixels
          << "\n";
    }
    s << "mIoU " << percent(r.miou) << " % over the classes present, pixel accuracy " << percent(r.pixel_accuracy)
      << " %";
    if (r.foreground_iou) s << ", foreground IoU " << percent(*r.foreground_iou) << " %";
    s << "\n" << r.scored_pixels << " pixels scored, " << r.ignored_pixels << " ignored"
      << (r.ground_truth_resampled ? " (ground truth read on the prediction's grid, nearest neighbour)" : "") << "\n";
    return s.str();
}

std::string evaluation_json(const EvaluationReport& r) {
    const auto number = [](double v) { return options::format_number(v); };
    std::ostringstream s;
    s << "{\n  \"miou\": " << number(r.miou) << ",\n  \"pixel_accuracy\": " << number(r.pixel_accuracy) << ",\n";
    if (r.foreground_iou) s << "  \"foreground_iou\": " << number(*r.foreground_iou) << ",\n";
    s << "  \"scored_pixels\": " << r.scored_pixels << ",\n  \"ignored_pixels\": " << r.ignored_pixels
      << ",\n  \"classes\": [";
    for (size_t i = 0; i < r.classes.size(); ++i) {
        const auto& c = r.classes[i];
        const auto value = [&](double v) { return c.present ? number(v) : std::string("null"); };
        s << (i ? "," : "") << "\n    {\"name\": " << json_string(c.name) << ", \"iou\": " << value(c.iou)
          << ", \"precision\": " << value(c.precision) << ", \"recall\": " << value(c.recall)
          << ", \"f1\": " << value(c.f1) << ", \"gt_pixels\": " << c.gt_pixels
          << ", \"predicted_pixels\": " << c.predicted_pixels << "}";
    }
    s << "\n  ],\n  \"confusion\": [";
    for (size_t g = 0; g < r.confusion.size(); ++g) {
        s << (g ? ", " : "") << "[";
        for (size_t p = 0; p < r.confusion[g].size(); ++p) s << (p ? ", " : "") << r.confusion[g][p];
        s << "]";
    }
    s << "]\n}\n";
    return s.str();
}

}  // namespace segearth::geo
