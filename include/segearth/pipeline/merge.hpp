// `segearth merge OUT`: the shards of one scene (segment --shard I/N) joined into the outputs a single
// run writes, bit for bit: every shard present, complete and made with the same settings and input,
// their bands stacked into the final rasters (GTiff or COG, names, colours, metadata, overviews), the
// polygons made from the merged classes, then the shards removed.
//
//   MergeOptions o;
//   o.output = "classes.tif";
//   MergeReport r = merge(o);
#pragma once

#include <segearth/options/option_table.hpp>
#include <segearth/pipeline/batch_naming.hpp>
#include <segearth/progress.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace segearth::pipeline {

struct MergeOptions {
    std::string output;        ///< OUT as given to segment (its shards lie beside it)
    bool keep_shards = false;  ///< leave the shard files and manifests in place
    bool overwrite = false;    ///< replace existing final outputs
    BatchNaming batch;         ///< --inputs ... --output-dir: every scene of a batch, named as segment named them
};

struct MergeReport {
    int64_t shards = 0, windows = 0;  ///< windows: summed over the shards (halo rows counted twice)
    std::map<std::string, long long> polygons_per_layer;  ///< when the shards were asked for --vector
    double seconds = 0;
};

const options::Command<MergeOptions>& merge_command();
void validate(const MergeOptions& options);

/// Throws UsageError naming the missing, incomplete or mismatched shard and what to rerun; on any
/// error no final output is left behind and the shards stay.
MergeReport merge(const MergeOptions& options, const Progress& progress = {});

/// One scene of merge_batch().
struct MergeSceneReport {
    std::string input, output;
    std::string status;   ///< "merged", "skipped" (no shards and the output there: merged before) or "failed"
    std::string message;  ///< failed: the error
    MergeReport merged;
};

/// merge() for every scene of options.batch (their OUTPUT named by --output-name in --output-dir, as
/// segment --inputs named them); a scene that fails is reported and the others go on unless
/// --fail-fast. `each` runs after every scene.
std::vector<MergeSceneReport> merge_batch(const MergeOptions& options,
                                          const std::function<void(const MergeSceneReport&)>& each,
                                          std::string& notes, const Progress& progress = {});

}  // namespace segearth::pipeline
