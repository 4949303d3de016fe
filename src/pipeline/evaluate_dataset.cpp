#include <segearth/pipeline/evaluate_dataset.hpp>

#include <segearth/error.hpp>
#include <segearth/json_text.hpp>
#include <segearth/options/option_info.hpp>
#include <segearth/output_safety.hpp>
#include <segearth/pipeline/segment.hpp>
#include <segearth/stopwatch.hpp>
#include <segearth/temporary_output.hpp>
#include <segearth/text_file.hpp>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

namespace segearth::pipeline {
namespace {

namespace fs = std::filesystem;

constexpr int64_t paper_long_side = 448;  // METHOD.md 6: every dataset's long side
const std::string cache_header = "segearth eval-dataset scores 1";

// Files GDAL reads as rasters, by extension; the sidecars beside them (.aux.xml, .ovr, world files)
// are not images.
bool is_raster_file(const fs::path& path) {
    static const std::set<std::string> extensions{".tif", ".tiff", ".png", ".jpg", ".jpeg", ".jp2",
                                                  ".img", ".vrt", ".bmp", ".gif", ".webp"};
    auto ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    return extensions.count(ext) && path.filename().string()[0] != '.';
}

// stem -> file in `dir`; two rasters with one stem are ambiguous.
std::map<std::string, fs::path> rasters_by_stem(const std::string& dir, const std::string& flag) {
    std::error_code error;
    if (!fs::is_directory(dir, error))
        throw UsageError(flag + " " + dir + ": not a folder" + (fs::exists(dir) ? "" : " (it does not exist)"));
    std::map<std::string, fs::path> found;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (!entry.is_regular_file() || !is_raster_file(entry.path())) continue;
        const auto [it, added] = found.emplace(entry.path().stem().string(), entry.path());
        if (!added)
            throw UsageError(flag + " " + dir + ": " + it->second.filename().string() + " and " +
                             entry.path().filename().string() + " have one stem: keep one of them there");
    }
    return found;
}

// What decides an image's scores: every option of how scenes are segmented (not how the work runs),
// and the two files' sizes and times. A cached result of other settings is redone.
std::string settings_of(const EvaluateDatasetOptions& o, const fs::path& image, const fs::path& label) {
    std::ostringstream s;
    s << segment_scene_option_table().values_text(o.segment);
    for (const auto& file : {image, label})
        s << file.filename().string() << ":" << fs::file_size(file) << ":"
          << fs::last_write_time(file).time_since_epoch().count() << " ";
    auto text = s.str();
    std::replace(text.begin(), text.end(), '\n', ' ');
    return text;
}

struct CacheEntry {
    std::string settings;
    double seconds = 0;
    int64_t ignored = 0;
    std::vector<std::vector<int64_t>> confusion;
};

enum class Cached { missing, stale, valid };

// An image's cached scores: valid only when made with `settings` (a cache may hold results of other
// presets or models, whose matrices are of another size: those are stale, not damaged).
Cached read_cache_entry(const fs::path& file, const std::string& settings, size_t classes, CacheEntry& entry) {
    if (!fs::exists(file)) return Cached::missing;
    const auto lines = read_text_lines(file.string(), "the cached scores");
    const auto bad = [&](const std::string& what) {
        return FileError(file.string() + ": " + what + " (a damaged cache entry: delete it and rerun)");
    };
    if (lines.size() < 4 || lines[0].second != cache_header) throw bad("not a segearth eval-dataset cache file");
    if (lines[1].second.rfind("settings ", 0) != 0 || lines[2].second.rfind("seconds ", 0) != 0 ||
        lines[3].second.rfind("ignored ", 0) != 0)
        throw bad("no settings, seconds or ignored line");
    entry.settings = lines[1].second.substr(9);
    if (entry.settings != settings) return Cached::stale;
    entry.seconds = std::atof(lines[2].second.c_str() + 8);
    entry.ignored = std::atoll(lines[3].second.c_str() + 8);
    entry.confusion.clear();
    for (size_t i = 4; i < lines.size(); ++i) {
        std::istringstream row(lines[i].second);
        std::vector<int64_t> values;
        for (long long v; row >> v;) values.push_back(v);
        if (!row.eof() || values.size() != classes || std::any_of(values.begin(), values.end(), [](int64_t v) { return v < 0; }))
            throw bad("line " + std::to_string(lines[i].first) + " is not a row of " + std::to_string(classes) +
                      " pixel counts");
        entry.confusion.push_back(std::move(values));
    }
    if (entry.confusion.size() != classes) throw bad("not " + std::to_string(classes) + " rows of pixel counts");
    return Cached::valid;
}

void write_cache_entry(const fs::path& file, const CacheEntry& entry) {
    std::ostringstream s;
    s << cache_header << "\nsettings " << entry.settings << "\nseconds " << entry.seconds << "\nignored "
      << entry.ignored << "\n";
    for (const auto& row : entry.confusion) {
        for (size_t i = 0; i < row.size(); ++i) s << (i ? " " : "") << row[i];
        s << "\n";
    }
    write_text_output(file.string(), s.str(), true, ".txt");
}

std::string csv_report(const DatasetReport& r) {
    std::ostringstream s;
    const bool two = r.total.classes.size() == 2;
    s << "stem,image,label,scored_pixels,ignored_pixels,pixel_accuracy,miou" << (two ? ",foreground_iou" : "");
    for (const auto& c : r.total.classes) s << "," << csv_field("iou:" + c.name);
    s << ",seconds,cached\n";
    const auto number = [](double v) { return options::format_number(v); };
    for (const auto& image : r.images) {
        const auto& e = image.scores;
        s << csv_field(image.stem) << "," << csv_field(image.image) << "," << csv_field(image.label) << ","
          << e.scored_pixels << "," << e.ignored_pixels << "," << number(e.pixel_accuracy) << "," << number(e.miou);
        if (two) s << "," << (e.foreground_iou ? number(*e.foreground_iou) : "");
        for (const auto& c : e.classes) s << "," << (c.present ? number(c.iou) : "");
        s << "," << number(image.seconds) << "," << (image.cached ? "yes" : "no") << "\n";
    }
    return s.str();
}

// The scene options' copy for one dataset: its working grid the paper's unless the user chose one.
SegmentOptions protocol_options(const EvaluateDatasetOptions& o, DatasetReport& report) {
    auto s = o.segment;
    if (s.read.grid.mode == geo::GridMode::native) s.read.grid = {geo::GridMode::long_side, double(paper_long_side)};
    report.long_side = s.read.grid.mode == geo::GridMode::long_side ? static_cast<int64_t>(s.read.grid.value) : 0;
    s.overwrite = true;  // predictions are the runner's own files, in its own folders
    return s;
}

DatasetReport run(const EvaluateDatasetOptions& o, const Progress& progress) {
    const Stopwatch started;
    validate(o);
    DatasetReport report;
    const auto classes = load_classes(o.segment.classes);
    report.classes_source = classes.source;
    auto scene = protocol_options(o, report);
    if (const auto it = classes.paper_scores.find(report.long_side); it != classes.paper_scores.end())
        report.paper_score = it->second;
    std::string class_names;
    for (const auto& name : classes.vocabulary.class_names()) class_names += (class_names.empty() ? "" : ";") + name;
    const size_t k = classes.vocabulary.classes.size();

    // The pairs, by stem.
    const auto images = rasters_by_stem(o.images, "--images");
    const auto labels = rasters_by_stem(o.labels, "--labels");
    std::vector<std::pair<fs::path, fs::path>> pairs;
    for (const auto& [stem, image] : images) {
        const auto label = labels.find(stem);
        if (label == labels.end()) report.images_without_label.push_back(image.filename().string());
        else pairs.emplace_back(image, label->second);
    }
    for (const auto& [stem, label] : labels)
        if (!images.count(stem)) report.labels_without_image.push_back(label.filename().string());
    if (pairs.empty())
        throw UsageError("no image in " + o.images + " has a label of the same file stem in " + o.labels +
                         (images.empty() ? " (the folder holds no raster files)" : ""));

    // Outputs: the reports and the cache never land on an input.
    std::vector<NamedPath> outputs{{"--csv", o.csv}, {"--json", o.json}, {"--confusion-png", o.confusion_png}};
    std::vector<NamedPath> inputs;
    for (const auto& [image, label] : pairs) inputs.push_back({"an image", image}), inputs.push_back({"a label", label});
    refuse_outputs_onto_inputs(outputs, inputs);
    for (const auto& [flag, path] : {std::pair{"--csv", &o.csv}, {"--json", &o.json}, {"--confusion-png", &o.confusion_png}})
        if (!path->empty()) geo::check_output_path(*path, o.overwrite, flag);
    for (const auto& dir : {o.images, o.labels})
        if (!o.cache.empty() && same_file(o.cache, dir))
            throw UsageError("--cache " + o.cache + " is an input folder (" + dir + "): choose another folder");
    fs::path work = o.cache;
    std::optional<fs::path> scratch;
    if (work.empty()) {
        scratch = fs::temp_directory_path() / ("segearth-eval-" + std::to_string(::getpid()));
        work = *scratch;
    }
    std::error_code error;
    fs::create_directories(work, error);
    if (error) throw FileError((o.cache.empty() ? "the temporary folder " : "--cache ") + work.string() + ": " + error.message());
    struct RemoveScratch {
        std::optional<fs::path> dir;
        ~RemoveScratch() {
            std::error_code ignored;
            if (dir) fs::remove_all(*dir, ignored);
        }
    } remove_scratch{scratch};

    // The cached results that still hold; the others are (re)computed.
    report.images.resize(pairs.size());
    std::vector<SceneJob> jobs;
    std::vector<size_t> job_image;
    std::vector<std::string> settings(pairs.size());
    for (size_t i = 0; i < pairs.size(); ++i) {
        auto& r = report.images[i];
        r.stem = pairs[i].first.stem().string();
        r.image = pairs[i].first.string(), r.label = pairs[i].second.string();
        settings[i] = settings_of(o, pairs[i].first, pairs[i].second);
        if (!o.cache.empty()) {
            CacheEntry cached;
            const auto state = read_cache_entry(work / (r.stem + ".scores.txt"), settings[i], k, cached);
            if (state == Cached::valid) {
                r.scores = geo::score_confusion(classes.vocabulary.class_names(), cached.confusion,
                                                static_cast<int>(classes.bg_index));
                r.scores.ignored_pixels = cached.ignored;
                r.cached = true, r.seconds = cached.seconds;
                ++report.from_cache;
                continue;
            }
            if (state == Cached::stale) ++report.stale_cache;
        }
        jobs.push_back({r.image, (work / (r.stem + ".classes.tif")).string()});
        job_image.push_back(i);
    }

    // Segment what is left with one loaded model; score each image as it is published.
    size_t done = 0;
    Stopwatch image_clock;
    const Progress per_image = [&](double fraction, const std::string& message) {
        if (!progress) return true;
        const double whole = jobs.empty() ? 1.0 : (static_cast<double>(done) + fraction) / static_cast<double>(jobs.size());
        return progress(whole, message);
    };
    segment_scenes(
        scene, jobs,
        [&](size_t j, const SegmentReport& segmented) {
            auto& r = report.images[job_image[j]];
            if (report.notes.find(segmented.notes) == std::string::npos) report.notes += segmented.notes;
            geo::EvaluateOptions e;
            e.prediction = jobs[j].output;
            e.ground_truth = r.label;
            e.classes = class_names;
            e.reduce_zero_label = classes.reduce_zero_label;
            e.background_index = static_cast<int>(classes.bg_index);
            try {
                r.scores = geo::evaluate(e);
            } catch (const UsageError& refused) {
                throw UsageError(r.label + ": " + refused.what() + " (is it a label of " + classes.source + "?)");
            }
            r.seconds = image_clock.seconds();
            image_clock.restart();
            if (!o.cache.empty())
                write_cache_entry(work / (r.stem + ".scores.txt"),
                                  {settings[job_image[j]], r.seconds, r.scores.ignored_pixels, r.scores.confusion});
            else fs::remove(jobs[j].output, error);
            ++done;
        },
        per_image);

    // One matrix over the dataset.
    std::vector<std::vector<int64_t>> total(k, std::vector<int64_t>(k, 0));
    int64_t ignored = 0;
    for (const auto& r : report.images) {
        for (size_t g = 0; g < k; ++g)
            for (size_t p = 0; p < k; ++p) total[g][p] += r.scores.confusion[g][p];
        ignored += r.scores.ignored_pixels;
    }
    report.total = geo::score_confusion(classes.vocabulary.class_names(), std::move(total), static_cast<int>(classes.bg_index));
    report.total.ignored_pixels = ignored;
    report.seconds = started.seconds();

    if (!o.csv.empty()) write_text_output(o.csv, csv_report(report), o.overwrite, ".csv");
    if (!o.json.empty()) write_text_output(o.json, dataset_json(report), o.overwrite, ".json");
    if (!o.confusion_png.empty()) geo::write_confusion_png(report.total, o.confusion_png, o.overwrite);
    return report;
}

std::string percent(double v) {
    char text[16];
    std::snprintf(text, sizeof text, "%.2f", v);
    return text;
}

}  // namespace

DatasetReport evaluate_dataset(const EvaluateDatasetOptions& options, const Progress& progress) {
    return run(options, progress);
}

std::string dataset_table(const DatasetReport& r) {
    std::ostringstream s;
    s << r.images.size() << " images (" << r.from_cache << " from the cache), " << r.classes_source;
    if (r.long_side) s << ", long side " << r.long_side;
    s << "\n" << geo::evaluation_table(r.total);
    const bool two = r.total.foreground_iou.has_value();
    const double ours = 100.0 * (two ? *r.total.foreground_iou : r.total.miou);
    s << (two ? "Foreground IoU: " : "mIoU: ") << percent(ours) << " %";
    if (r.paper_score)
        s << "   paper (Table " << (two ? "2" : "1") << ", long side " << r.long_side << "): " << percent(*r.paper_score)
          << " %   difference " << (ours >= *r.paper_score ? "+" : "") << percent(ours - *r.paper_score);
    s << "\n";
    if (!r.images_without_label.empty())
        s << r.images_without_label.size() << " image(s) without a label were skipped (first: "
          << r.images_without_label.front() << ")\n";
    if (!r.labels_without_image.empty())
        s << r.labels_without_image.size() << " label(s) without an image were skipped (first: "
          << r.labels_without_image.front() << ")\n";
    if (r.stale_cache) s << r.stale_cache << " cached result(s) of other settings or files were redone\n";
    return s.str();
}

std::string dataset_json(const DatasetReport& r) {
    std::ostringstream s;
    const auto number = [](double v) { return options::format_number(v); };
    s << "{\n  \"classes_source\": " << json_string(r.classes_source) << ",\n  \"images\": " << r.images.size()
      << ",\n  \"images_from_cache\": " << r.from_cache << ",\n  \"long_side\": " << r.long_side
      << ",\n  \"miou\": " << number(r.total.miou) << ",\n";
    if (r.total.foreground_iou) s << "  \"foreground_iou\": " << number(*r.total.foreground_iou) << ",\n";
    s << "  \"paper_score\": " << (r.paper_score ? number(std::round(*r.paper_score * 10) / 1000) : "null") << ",\n  \"scores\": ";
    auto scores = geo::evaluation_json(r.total);
    while (!scores.empty() && scores.back() == '\n') scores.pop_back();
    for (size_t at = scores.find('\n'); at != std::string::npos; at = scores.find('\n', at + 3)) scores.replace(at, 1, "\n  ");
    s << scores << "\n}\n";
    return s.str();
}

}  // namespace segearth::pipeline
