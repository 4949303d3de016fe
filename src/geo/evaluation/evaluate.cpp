#include <segearth/geo/evaluate.hpp>

#include "class_raster.hpp"
#include "evaluation/scores.hpp"
#include "grid_warp.hpp"

#include <segearth/error.hpp>
#include <segearth/geo/gdal_setup.hpp>
#include <segearth/geo/output_raster.hpp>
#include <segearth/output_safety.hpp>
#include <segearth/stopwatch.hpp>
#include <segearth/temporary_output.hpp>

#include <array>
#include <cmath>
#include <map>
#include <set>

namespace segearth::geo {
namespace {

// Ground-truth pixels the warp found no source for.
constexpr int32_t outside_ground_truth = -2147483647;

// Pixel counts per (ground truth, prediction) pair of raw values: dense for the values 0..255 of
// every Byte raster, a map for the rare others.
struct PairCounts {
    std::vector<int64_t> dense = std::vector<int64_t>(256 * 256, 0);
    std::map<std::pair<int32_t, int32_t>, int64_t> sparse;
    void add(int32_t gt, int32_t pred) {
        if (static_cast<uint32_t>(gt) < 256 && static_cast<uint32_t>(pred) < 256)
            ++dense[static_cast<size_t>(gt) * 256 + static_cast<size_t>(pred)];
        else
            ++sparse[{gt, pred}];
    }
    template <class F>
    void for_each(F&& f) const {
        for (int g = 0; g < 256; ++g)
            for (int p = 0; p < 256; ++p)
                if (const int64_t n = dense[static_cast<size_t>(g) * 256 + static_cast<size_t>(p)]) f(g, p, n);
        for (const auto& [pair, n] : sparse) f(pair.first, pair.second, n);
    }
};

bool same_grid(GDALDataset& a, GDALDataset& b) {
    if (a.GetRasterXSize() != b.GetRasterXSize() || a.GetRasterYSize() != b.GetRasterYSize()) return false;
    std::array<double, 6> ga{}, gb{};
    const bool ha = a.GetGeoTransform(ga.data()) == CE_None, hb = b.GetGeoTransform(gb.data()) == CE_None;
    if (!ha || !hb) return true;  // same size, and nothing says they differ
    const double tolerance = 1e-6 * std::max(std::abs(ga[1]), std::abs(ga[5]));
    for (int i = 0; i < 6; ++i)
        if (std::abs(ga[i] - gb[i]) > tolerance) return false;
    const auto* sa = a.GetSpatialRef();
    const auto* sb = b.GetSpatialRef();
    return !sa || !sb || sa->IsSame(sb);
}

std::vector<std::string> split_names(const std::string& spec) {
    std::vector<std::string> names;
    size_t start = 0;
    while (start <= spec.size()) {
        const size_t end = std::min(spec.find(';', start), spec.size());
        auto name = spec.substr(start, end - start);
        name = name.substr(0, name.find(','));  // a class's first synonym names it
        if (name.empty()) throw UsageError("--classes \"" + spec + "\": an empty class name");
        names.push_back(name);
        start = end + 1;
    }
    return names;
}

}  // namespace

EvaluationReport evaluate(const EvaluateOptions& o, const Progress& progress) {
    const Stopwatch started;
    validate(o);
    refuse_outputs_onto_inputs({{"--json", o.json}, {"--confusion-png", o.confusion_png}},
                               {{"PRED.tif", o.prediction}, {"GT.tif", o.ground_truth}});
    if (!o.json.empty()) check_output_path(o.json, o.overwrite, "--json");
    if (!o.confusion_png.empty()) check_output_path(o.confusion_png, o.overwrite, "--confusion-png");
    // Strips are read once, top to bottom: a large block cache would only hold rows already done.
    limit_gdal_cache(64LL * 1024 * 1024);
    const ClassRaster pred(o.prediction, o.background_index, progress, "the prediction", false);
    const ClassRaster truth(o.ground_truth, 0, progress, "the ground truth", false);
    GDALDataset& pds = *pred.dataset;
    EvaluationReport report;

    // The ground truth on the prediction's grid.
    DatasetPtr warped;
    GDALRasterBand* gt_band = truth.band;
    if (!same_grid(pds, *truth.dataset)) {
        std::array<double, 6> gt{};
        const bool georeferenced = pds.GetGeoTransform(gt.data()) == CE_None && pds.GetSpatialRef() &&
                                   truth.dataset->GetGeoTransform(gt.data()) == CE_None && truth.dataset->GetSpatialRef();
        if (!georeferenced)
            throw UsageError(o.prediction + " is " + std::to_string(pds.GetRasterXSize()) + " x " +
                             std::to_string(pds.GetRasterYSize()) + " and " + o.ground_truth + " " +
                             std::to_string(truth.dataset->GetRasterXSize()) + " x " +
                             std::to_string(truth.dataset->GetRasterYSize()) +
                             ", and without a CRS and geotransform on both they cannot be put on one grid");
        warped = warp_onto_grid(*truth.dataset, pds, outside_ground_truth,
                                o.ground_truth + ": cannot read it on " + o.prediction + "'s grid");
        gt_band = warped->GetRasterBand(1);
        report.ground_truth_resampled = true;
    }

    // One pass: every pixel's (ground truth, prediction) pair.
    const int width = pds.GetRasterXSize(), height = pds.GetRasterYSize();
    int block_w = 0, block_h = 0;
    pred.band->GetBlockSize(&block_w, &block_h);
    // Whole blocks of the prediction per strip, but never a whole single-strip file.
    const int strip_rows = o.strip_rows > 0 ? o.strip_rows : (block_h <= 1024 ? std::max(256, block_h) : 256);
    std::vector<int32_t> p(static_cast<size_t>(width) * static_cast<size_t>(std::min(strip_rows, height)));
    std::vector<int32_t> g(p.size());
    PairCounts counts;
    int64_t covered = 0;
    for (int y = 0; y < height; y += strip_rows) {
        segearth::report(progress, static_cast<double>(y) / height);
        const int rows = std::min(strip_rows, height - y);
        if (pred.band->RasterIO(GF_Read, 0, y, width, rows, p.data(), width, rows, GDT_Int32, 0, 0) != CE_None)
            throw FileError(o.prediction + ": cannot read rows " + std::to_string(y) + "..: " + last_gdal_error("?"));
        if (gt_band->RasterIO(GF_Read, 0, y, width, rows, g.data(), width, rows, GDT_Int32, 0, 0) != CE_None)
            throw FileError(o.ground_truth + ": cannot read rows " + std::to_string(y) + "..: " + last_gdal_error("?"));
        const size_t n = static_cast<size_t>(width) * static_cast<size_t>(rows);
        for (size_t i = 0; i < n; ++i) {
            int32_t label = g[i];
            if (label == outside_ground_truth || (truth.nodata && label == *truth.nodata)) {
                ++report.ignored_pixels;
                continue;
            }
            ++covered;
            if (o.reduce_zero_label) {
                // mmseg's convention: 0 becomes the ignore value, the others count from 1.
                if (label == 0 || label == o.ignore_value) label = o.ignore_value;
                else --label;
            }
            if (label == o.ignore_value || (pred.nodata && p[i] == *pred.nodata)) {
                ++report.ignored_pixels;
                continue;
            }
            if (label < 0) throw UsageError(o.ground_truth + " holds the class value " + std::to_string(label) +
                                            ": class values are 0 or more (is its nodata value set?)");
            if (p[i] < 0) throw UsageError(o.prediction + " holds the class value " + std::to_string(p[i]) +
                                           ": class values are 0 or more (is its nodata value set?)");
            counts.add(label, p[i]);
        }
    }
    segearth::report(progress, 1.0);
    if (report.ground_truth_resampled && covered == 0)
        throw UsageError(o.ground_truth + " does not overlap " + o.prediction + ": nothing to score");

    // The classes: named by --classes, else the prediction's names, else the ground truth's; the
    // ground truth's values matched to the prediction's by name when both rasters name them.
    int32_t largest = -1;
    counts.for_each([&](int32_t gv, int32_t pv, int64_t) { largest = std::max({largest, gv, pv}); });
    std::vector<std::string> names;
    std::map<int32_t, int32_t> gt_to_pred;  // only where the names say so
    const auto gt_name = [&](int v) {
        const int raw = o.reduce_zero_label ? v + 1 : v;
        const auto it = truth.names.find(raw);
        return it == truth.names.end() ? std::string() : it->second;
    };
    if (!o.classes.empty()) {
        names = split_names(o.classes);
        if (largest >= static_cast<int32_t>(names.size()))
            throw UsageError("--classes names " + std::to_string(names.size()) + " classes, but the rasters hold the "
                             "value " + std::to_string(largest));
    } else {
        const auto& source = pred.named ? pred.names : truth.names;
        for (const auto& [v, name] : source) largest = std::max(largest, static_cast<int32_t>(v));
        names.resize(static_cast<size_t>(largest + 1));
        for (size_t v = 0; v < names.size(); ++v) {
            const auto it = source.find(static_cast<int>(v));
            names[v] = it != source.end() ? it->second : "class_" + std::to_string(v);
        }
        if (pred.named && truth.named) {
            std::map<std::string, int32_t> pred_index;
            for (size_t v = 0; v < names.size(); ++v) pred_index.emplace(names[v], static_cast<int32_t>(v));
            std::set<int32_t> gt_values;
            counts.for_each([&](int32_t gv, int32_t, int64_t) { gt_values.insert(gv); });
            for (const int32_t gv : gt_values) {
                const auto name = gt_name(gv);
                if (name.empty()) continue;
                auto it = pred_index.find(name);
                if (it == pred_index.end()) {  // a ground-truth class the prediction does not have
                    names.push_back(name);
                    it = pred_index.emplace(name, static_cast<int32_t>(names.size() - 1)).first;
                }
                gt_to_pred[gv] = it->second;
            }
        }
    }
    const size_t k = names.size();
    report.confusion.assign(k, std::vector<int64_t>(k, 0));
    counts.for_each([&](int32_t gv, int32_t pv, int64_t n) {
        const auto mapped = gt_to_pred.find(gv);
        const int32_t row = mapped != gt_to_pred.end() ? mapped->second : gv;
        if (static_cast<size_t>(row) >= k || static_cast<size_t>(pv) >= k)
            throw UsageError("class value " + std::to_string(std::max(row, pv)) + " has no name: give --classes");
        report.confusion[static_cast<size_t>(row)][static_cast<size_t>(pv)] += n;
    });
    score(report, names, pred.background);
    report.seconds = started.seconds();

    if (!o.json.empty()) write_text_output(o.json, evaluation_json(report), o.overwrite, ".json");
    if (!o.confusion_png.empty()) write_confusion_png(report, o.confusion_png, o.overwrite);
    return report;
}

}  // namespace segearth::geo
