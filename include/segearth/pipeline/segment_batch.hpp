// `segearth segment --inputs LIST|DIR|GLOB --output-dir DIR`: many scenes with the models loaded and
// the class texts encoded once. A scene whose outputs are all there and were made with the same
// settings from the same input (the class raster's SEGEARTH_SETTINGS_CRC32) is skipped, so a rerun
// resumes; a failing scene is reported and the batch goes on (--fail-fast stops it); the summary
// (CSV and JSON) is written atomically at the end. With --shard the scenes (or, with --scene-shards
// K, the scene-shard pairs) are divided among the tasks of an array job.
//
//   SegmentOptions o;  // with o.batch.inputs = {"scenes/"}, o.batch.output_dir = "maps"
//   BatchReport r = segment_batch(o, [](const BatchSceneReport& s) { std::cerr << s.input << "\n"; });
#pragma once

#include <segearth/geo/class_counts.hpp>
#include <segearth/pipeline/segment.hpp>

#include <functional>
#include <string>
#include <vector>

namespace segearth::pipeline {

struct BatchSceneReport {
    std::string input, output;
    std::string status;  ///< "done", "skipped" (complete with the same settings) or "failed"
    std::string message;  ///< failed: the error; else what the user should know
    int64_t shard = -1, shards = 0;  ///< with --scene-shards: which shard of the scene this was
    int64_t windows = 0;
    double seconds = 0;
    std::vector<geo::ClassCount> classes;  ///< the class raster's pixels (whole scenes, done or skipped)
    size_t position = 0, count = 0;  ///< its place in this task's work, from 1
};

struct BatchReport {
    std::vector<BatchSceneReport> scenes;  ///< this task's, in order
    size_t done = 0, skipped = 0, failed = 0;
    std::string task;  ///< "" or "task 3 of 8 (SLURM array)"
    std::string notes, summary_csv, summary_json;
    double seconds = 0;  ///< the whole batch, the models' load included
};

/// Throws UsageError for options every scene shares (and for a scene that fails with --fail-fast,
/// after writing the summary); a scene's own failure is its report's. `each` runs after every scene.
BatchReport segment_batch(const SegmentOptions& options, const std::function<void(const BatchSceneReport&)>& each,
                          const Progress& progress = {});

}  // namespace segearth::pipeline
