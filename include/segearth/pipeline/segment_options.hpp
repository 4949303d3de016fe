// What `segearth segment` takes, as typed values, and its options declared once: the CLI, --help,
// --json-usage and validate() all come from segment_command().
#pragma once

#include <segearth/core/clip/attention_kind.hpp>
#include <segearth/core/clip/precision.hpp>
#include <segearth/core/segmenter/segmenter_types.hpp>
#include <segearth/geo/output_raster.hpp>
#include <segearth/geo/scene_reader.hpp>
#include <segearth/options/option_table.hpp>
#include <segearth/pipeline/batch_naming.hpp>
#include <segearth/pipeline/class_setup.hpp>
#include <segearth/pipeline/device.hpp>
#include <segearth/pipeline/streaming_options.hpp>

#include <optional>
#include <string>
#include <vector>

namespace segearth::pipeline {

/// Where the classes are written: the input's own grid or the working grid the model saw.
enum class OutputGrid { native, working };
const options::EnumNames<OutputGrid>& output_grids();

/// --upsampler PATH|bilinear|none: how features reach the window's resolution.
struct UpsamplerChoice {
    core::UpsamplerKind kind = core::UpsamplerKind::simfeatup;
    /// simfeatup: the weights; empty: $SEGEARTH_UPSAMPLER, and without it bilinear (with a note).
    std::string path;
};

struct SegmentOptions {
    std::string input, output;
    // Model and assets: empty paths mean the environment, then the data folders.
    std::string clip, vocab, templates;
    UpsamplerChoice upsampler;
    ClassRequest classes;
    double logit_scale = 50.0;
    core::AttentionKind attention = core::AttentionKind::segearth;
    /// CLIP's matrix products (precision.hpp); none: auto, fp16 on CUDA (the authors' numerics) and
    /// fp32 on the CPU (resolve_precision).
    std::optional<core::Precision> precision;
    DeviceChoice device;
    int threads = 0;              ///< 0: every core
    StreamingOptions streaming;   ///< window, stride, batch, ram (output size is set from the grid)
    geo::SceneReadOptions read;   ///< bands, scaling, working grid
    OutputGrid output_grid = OutputGrid::native;
    geo::RasterFormat format = geo::RasterFormat::gtiff;
    std::vector<std::string> creation_options;
    std::string probabilities, confidence;
    /// Byte stores round(254 p) with scale 1/254, so that 255 stays free for nodata.
    geo::PixelType probabilities_type = geo::PixelType::float32;
    std::string vector;  ///< --vector OUT.gpkg: polygons of every class but the background, from the result
    std::string quicklook;  ///< --quicklook FILE.png: the scene and its classes side by side, with a legend
    bool overwrite = false;
    std::string text_cache_dir;  ///< "" : the user cache folder; "-" : no cache
    std::string shard;   ///< --shard I/N|auto: this task's band of the scene (shard.hpp); "" : all of it
    int64_t shards = 0;  ///< --shards N: the shard count where the engine does not say it (Kubernetes)
    /// Batch mode (segment_batch.hpp): the scenes of --inputs instead of INPUT OUTPUT; --probabilities,
    /// --confidence, --vector and --quicklook are then name templates in --output-dir.
    BatchNaming batch;
    std::string summary;       ///< --summary PATH: PATH.csv and PATH.json; "" : OUTPUT_DIR/segearth_batch
    int64_t scene_shards = 1;  ///< --scene-shards K: each scene of a batch as K shards (merge joins them)
};

/// The command, its texts and its options table.
const options::Command<SegmentOptions>& segment_command();

/// Parts of segment's table that eval-dataset shares: how a scene is segmented (model, classes,
/// input, windows), and how the work runs (device, threads, batch, memory, text cache).
const options::OptionTable<SegmentOptions>& segment_scene_option_table();
const options::OptionTable<SegmentOptions>& segment_running_option_table();

/// Every check that needs no file: the declared ranges and choices, then the rules between options.
/// Throws UsageError naming the flag, with the CLI's own words.
void validate(const SegmentOptions& options);
/// The part of validate() that holds for any scene: ranges, choices, reading and window rules, output
/// formats (what a batch, or eval-dataset, checks once before naming the scenes).
void validate_settings(const SegmentOptions& options);

/// What decides a result's contents, as text: every option set but those of where the outputs go and
/// how the work runs (threads, cache, shards, batch), and the input file's size and time. The class
/// raster records its CRC-32 (SEGEARTH_SETTINGS_CRC32), so that a batch rerun knows what it may skip;
/// with `output_paths` the output names are part of it (shards of one merge must agree on them).
std::string result_settings(const SegmentOptions& options, bool output_paths);

}  // namespace segearth::pipeline
