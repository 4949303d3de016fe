// Shards of one scene (segment --shard I/N|auto, segearth merge): which shard a task is, where its
// files go, and the manifest that says a shard is complete and how it was made.
//
//   const auto shard = resolve_shard("auto", 0);        // from SLURM, Kubernetes or AWS Batch variables
//   shard_path("classes.tif", shard);                   // classes.shard-3-of-8.tif
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace segearth::pipeline {

struct ShardChoice {
    int64_t index = 0, count = 0;  ///< count 0: not sharded
    std::string source;            ///< how it was chosen: "--shard 3/8", "SLURM array", ...
    bool sharded() const { return count > 0; }
};

/// "I/N" (0 <= I < N), or "auto": SLURM (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN of
/// SLURM_ARRAY_TASK_COUNT), Kubernetes Indexed Jobs (JOB_COMPLETION_INDEX of `shards`, --shards N),
/// AWS Batch (AWS_BATCH_JOB_ARRAY_INDEX of AWS_BATCH_JOB_ARRAY_SIZE). "" : not sharded. Throws
/// UsageError naming the flag or variable at fault.
ShardChoice resolve_shard(const std::string& spec, int64_t shards);

/// OUT with ".shard-I-of-N" before its extension: what shard I writes for the output OUT.
std::string shard_path(const std::string& path, int64_t index, int64_t count);
/// The manifest of shard I of OUT: OUT's shard name with the extension ".manifest".
std::string manifest_path(const std::string& output, int64_t index, int64_t count);

/// What a shard leaves beside its rasters, written last (atomically): the shard is complete when its
/// manifest exists.
struct ShardManifest {
    int64_t index = 0, count = 0;
    std::string settings;  ///< CRC-32 of every option that changes results and of the input's identity
    int64_t band_begin = 0, band_end = 0;  ///< output rows
    int64_t width = 0, height = 0;         ///< the whole output grid
    std::optional<std::array<double, 6>> geotransform;  ///< the whole output grid's
    int64_t windows = 0;
    std::string format;                      ///< the merged rasters' GDAL driver
    std::vector<std::string> creation_options;
    /// Final output -> this shard's file, by role: "classes", "probabilities", "confidence".
    std::map<std::string, std::pair<std::string, std::string>> rasters;
    std::string vector;  ///< --vector OUT.gpkg: made by merge from the merged classes
};

void write_manifest(const std::string& path, const ShardManifest& manifest);
/// Throws FileError naming the file when it is not a complete manifest.
ShardManifest read_manifest(const std::string& path);

}  // namespace segearth::pipeline
