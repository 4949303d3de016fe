// segment's batch mode (segment_batch.hpp).
#include <segearth/pipeline/segment_batch.hpp>

#include "scene_runner.hpp"
#include "with_project_errors.hpp"

#include <segearth/core/assets.hpp>
#include <segearth/error.hpp>
#include <segearth/geo/output_raster.hpp>
#include <segearth/geo/raster_info.hpp>
#include <segearth/json_text.hpp>
#include <segearth/pipeline/shard.hpp>
#include <segearth/stopwatch.hpp>
#include <segearth/temporary_output.hpp>

#include <algorithm>
#include <filesystem>
#include <sstream>

namespace segearth::pipeline {
namespace {

namespace fs = std::filesystem;

// One scene's options as if the user had run segment on it alone.
SegmentOptions scene_options(const SegmentOptions& base, const BatchScene& scene) {
    auto o = base;
    o.batch = {};
    o.summary.clear();
    o.scene_shards = 1;
    o.shard.clear();
    o.shards = 0;
    o.input = scene.input;
    o.output = scene.outputs[0];
    size_t next = 1;
    for (auto* path : {&o.probabilities, &o.confidence, &o.vector, &o.quicklook})
        if (!path->empty()) *path = scene.outputs[next++];
    return o;
}

// The settings stamp of an existing class raster; "" when it has none or cannot be read.
std::string settings_stamp(const std::string& path) {
    try {
        const auto metadata = geo::read_raster_info(path).metadata;
        const auto at = metadata.find("SEGEARTH_SETTINGS_CRC32");
        return at == metadata.end() ? std::string() : at->second;
    } catch (const Error&) {
        return {};
    }
}

enum class Found { nothing, complete, other_settings, partial };

// Whether a scene's outputs are there, made with these settings from this input.
Found existing_outputs(const BatchScene& scene, const SegmentOptions& o, std::string& missing) {
    size_t present = 0;
    for (const auto& out : scene.outputs) {
        if (fs::exists(out)) ++present;
        else if (missing.empty()) missing = out;
    }
    if (present == 0) return Found::nothing;
    if (!fs::exists(scene.outputs[0])) return Found::partial;
    if (settings_stamp(scene.outputs[0]) != core::text_crc32(result_settings(o, false))) return Found::other_settings;
    return present == scene.outputs.size() ? Found::complete : Found::partial;
}

bool shard_complete(const SegmentOptions& o, int64_t index, int64_t count) {
    try {
        return read_manifest(manifest_path(o.output, index, count)).settings == result_settings(o, true);
    } catch (const Error&) {
        return false;  // missing or incomplete
    }
}

void make_folders(const BatchScene& scene) {
    for (const auto& out : scene.outputs) {
        const auto folder = fs::path(out).parent_path();
        std::error_code error;
        if (!folder.empty() && !fs::is_directory(folder) && !fs::create_directories(folder, error) && error)
            throw FileError(folder.string() + ": cannot make the output folder (" + error.message() + ")");
    }
}

std::string summary_base(const SegmentOptions& o, const ShardChoice& task) {
    std::string base = o.summary.empty() ? (fs::path(o.batch.output_dir) / "segearth_batch").string() : o.summary;
    for (const std::string ext : {".csv", ".json"})
        if (base.size() > ext.size() && base.compare(base.size() - ext.size(), ext.size(), ext) == 0)
            base.resize(base.size() - ext.size());
    if (task.sharded()) base += ".task-" + std::to_string(task.index) + "-of-" + std::to_string(task.count);
    return base;
}

std::string seconds_text(double s) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2f", s);
    return text;
}

std::string summary_csv(const BatchReport& r, const std::vector<std::string>& class_names) {
    std::ostringstream s;
    s << "input,output,status,shard,windows,seconds";
    for (const auto& name : class_names) s << "," << csv_field("pixels:" + name);
    s << ",message\n";
    for (const auto& scene : r.scenes) {
        s << csv_field(scene.input) << "," << csv_field(scene.output) << "," << scene.status << ","
          << (scene.shards ? std::to_string(scene.shard) + "/" + std::to_string(scene.shards) : "") << ","
          << scene.windows << "," << seconds_text(scene.seconds);
        for (const auto& name : class_names) {
            s << ",";
            for (const auto& c : scene.classes)
                if (c.name == name) s << c.pixels;
        }
        s << "," << csv_field(scene.message) << "\n";
    }
    return s.str();
}

std::string summary_json(const BatchReport& r) {
    std::ostringstream s;
    s << "{\n  \"task\": " << json_string(r.task) << ",\n  \"done\": " << r.done << ",\n  \"skipped\": " << r.skipped
      << ",\n  \"failed\": " << r.failed << ",\n  \"seconds\": " << seconds_text(r.seconds) << ",\n  \"scenes\": [";
    for (size_t i = 0; i < r.scenes.size(); ++i) {
        const auto& scene = r.scenes[i];
        s << (i ? "," : "") << "\n    {\"input\": " << json_string(scene.input) << ", \"output\": "
          << json_string(scene.output) << ", \"status\": " << json_string(scene.status);
        if (scene.shards) s << ", \"shard\": " << scene.shard << ", \"shards\": " << scene.shards;
        s << ", \"windows\": " << scene.windows << ", \"seconds\": " << seconds_text(scene.seconds)
          << ", \"class_pixels\": {";
        for (size_t c = 0; c < scene.classes.size(); ++c)
            s << (c ? ", " : "") << json_string(scene.classes[c].name) << ": " << scene.classes[c].pixels;
        s << "}, \"message\": " << json_string(scene.message) << "}";
    }
    s << "\n  ]\n}\n";
    return s.str();
}

void write_summary(BatchReport& r, const std::string& base, const std::vector<std::string>& class_names) {
    r.summary_csv = base + ".csv", r.summary_json = base + ".json";
    write_text_output(r.summary_csv, summary_csv(r, class_names), true, ".csv");
    write_text_output(r.summary_json, summary_json(r), true, ".json");
}

// The work of one scene (or one shard of it): skipped when complete, else run; a failure is the
// scene's unless it concerns every scene (the models cannot load).
BatchSceneReport run_unit(SceneRunner& runner, const BatchScene& scene, const SegmentOptions& o, int64_t shard,
                          int64_t shards) {
    BatchSceneReport row;
    row.input = scene.input, row.output = scene.outputs[0];
    if (shards > 1) row.shard = shard, row.shards = shards;
    Stopwatch clock;
    std::string missing;
    const auto found = existing_outputs(scene, o, missing);
    if (found == Found::complete || (shards > 1 && shard_complete(o, shard, shards))) {
        row.status = "skipped";
        row.message = found == Found::complete ? "complete, made with the same settings" : "shard complete";
        if (found == Found::complete) row.classes = geo::count_classes(row.output);
        row.seconds = clock.seconds();
        return row;
    }
    if (!o.overwrite && found != Found::nothing) {
        row.status = "failed";
        row.message = found == Found::other_settings
                          ? row.output + " exists, made with other settings or from a changed input: --overwrite redoes it"
                          : "the outputs of " + scene.input + " are partly there (" + missing +
                                " is not): --overwrite redoes them";
        return row;
    }
    runner.load();  // outside the scene's try: a model that cannot load fails the batch, not a scene
    clock.restart();  // the scene's own time, without the models' load
    try {
        make_folders(scene);
        const auto report = shards > 1 ? runner.segment_shard(o, {shard, shards, "batch"}) : runner.segment(o);
        row.status = "done";
        row.windows = report.stats.windows_computed;
        if (shards <= 1) row.classes = geo::count_classes(row.output);
    } catch (const Cancelled&) {
        throw;
    } catch (const Error& e) {
        row.status = "failed";
        row.message = e.what();
    }
    row.seconds = clock.seconds();
    return row;
}

BatchReport run_batch(const SegmentOptions& o, const std::function<void(const BatchSceneReport&)>& each,
                      const Progress& progress) {
    const Stopwatch started;
    validate(o);
    if (!o.batch.active()) throw UsageError("segment_batch() needs --inputs and --output-dir");
    BatchReport report;
    const auto task = resolve_shard(o.shard, o.shards);
    if (task.sharded()) report.task = "task " + std::to_string(task.index) + " of " + std::to_string(task.count) + " (" + task.source + ")";
    std::vector<std::pair<std::string, std::string>> templates;
    for (const auto& [flag, pattern] : {std::pair{"--probabilities", &o.probabilities}, {"--confidence", &o.confidence},
                                        {"--vector", &o.vector}, {"--quicklook", &o.quicklook}})
        if (!pattern->empty()) templates.push_back({flag, *pattern});
    if (o.scene_shards > 1 && !o.quicklook.empty())
        throw UsageError("--quicklook with --scene-shards: a shard holds a band of the scene; draw the quicklook "
                         "from the merged result");
    const auto summary = summary_base(o, task);
    // Its folder now, not when it is written after the last scene.
    if (!o.summary.empty()) geo::check_output_path(summary + ".csv", true, "--summary");
    const auto scenes = list_batch_scenes(o.batch, templates, report.notes);
    std::error_code error;
    if (!fs::is_directory(o.batch.output_dir) && !fs::create_directories(o.batch.output_dir, error) && error)
        throw FileError("--output-dir " + o.batch.output_dir + ": cannot make the folder (" + error.message() + ")");

    // This task's share: the scene-shard pairs u = scene * K + shard with u = I (mod N).
    struct Unit {
        size_t scene;
        int64_t shard;
    };
    std::vector<Unit> units;
    const auto k = o.scene_shards;
    for (size_t s = 0; s < scenes.size(); ++s)
        for (int64_t shard = 0; shard < k; ++shard) {
            const auto u = static_cast<int64_t>(s) * k + shard;
            if (!task.sharded() || u % task.count == task.index) units.push_back({s, shard});
        }
    if (units.empty()) report.notes += report.task + ": no scene is this task's (" + std::to_string(scenes.size()) +
                                       " scenes x " + std::to_string(k) + " shards)\n";

    size_t finished = 0;
    const Progress per_unit = [&](double fraction, const std::string& message) {
        if (!progress) return true;
        return progress((static_cast<double>(finished) + fraction) / static_cast<double>(std::max<size_t>(units.size(), 1)), message);
    };
    auto base = o;
    base.batch = {}, base.input.clear(), base.output.clear();
    SceneRunner runner(base, per_unit);
    runner.locate();
    report.notes = runner.notes() + report.notes;
    std::vector<std::string> names;  // the summary's class columns, as the scenes report them
    for (const auto& unit : units) {
        const auto& scene = scenes[unit.scene];
        auto row = run_unit(runner, scene, scene_options(o, scene), unit.shard, k);
        row.position = finished + 1, row.count = units.size();
        for (const auto& c : row.classes)
            if (std::find(names.begin(), names.end(), c.name) == names.end()) names.push_back(c.name);
        ++(row.status == "done" ? report.done : row.status == "skipped" ? report.skipped : report.failed);
        report.scenes.push_back(row);
        ++finished;
        if (each) each(row);
        if (row.status == "failed" && o.batch.fail_fast) {
            report.seconds = started.seconds();
            write_summary(report, summary, names);
            throw Error(row.message + " (--fail-fast: the batch stops; summary in " + report.summary_csv + ")");
        }
    }
    report.seconds = started.seconds();
    write_summary(report, summary, names);
    return report;
}

}  // namespace

BatchReport segment_batch(const SegmentOptions& options, const std::function<void(const BatchSceneReport&)>& each,
                          const Progress& progress) {
    return with_project_errors([&] { return run_batch(options, each, progress); });
}

}  // namespace segearth::pipeline
