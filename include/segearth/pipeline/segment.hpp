// `segearth segment` as a library function: a georeferenced scene and class names in, a class
// GeoTIFF on the input's grid out (plus optional per-class probabilities, confidence and polygons).
// Plain types only: a caller needs no torch headers.
//
//   SegmentOptions o;
//   o.input = "ortho.tif"; o.output = "classes.tif"; o.classes.preset = "landcover";
//   o.clip = "ViT-B-16.pt"; o.upsampler.path = "simfeatup_vit_b16.ckpt";
//   SegmentReport r = segment(o, progress);
#pragma once

#include <segearth/core/segmenter/segmenter_types.hpp>
#include <segearth/pipeline/segment_options.hpp>
#include <segearth/pipeline/streaming_options.hpp>
#include <segearth/progress.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace segearth::pipeline {

struct SegmentReport {
    StreamingStats stats;
    core::WindowTimings model;  ///< the model's time split (CLIP, upsampler, similarity)
    int64_t working_width = 0, working_height = 0, output_width = 0, output_height = 0;
    std::map<std::string, long long> polygons_per_layer;  ///< with --vector
    int64_t batch = 0;  ///< windows per forward pass (--batch auto resolved)
    std::string device, upsampler, notes;  ///< notes: what the user should know (e.g. no upsampler weights)
    double load_seconds = 0, text_seconds = 0;
};

/// Runs the command in its phases: plan (validate(), classes, assets, the input and every output
/// checked: nothing written), load (the models), run (stream the scene into the outputs' temporary
/// files), publish (all outputs renamed together, only when all are complete, vectors included).
/// Throws UsageError, FileError or Cancelled; on any error no output file is left behind.
SegmentReport segment(const SegmentOptions& options, const Progress& progress = {});

/// One scene of segment_scenes: its INPUT and OUTPUT.
struct SceneJob {
    std::string input, output;
};

/// segment() for many scenes with the models loaded and the class texts encoded once: `base` gives
/// every option but INPUT and OUTPUT. Each scene is planned, run and published in turn (the same
/// rules as segment()), then `after(index, report)` runs; an error in any stops the loop (the scenes
/// already published stay).
void segment_scenes(const SegmentOptions& base, const std::vector<SceneJob>& scenes,
                    const std::function<void(size_t, const SegmentReport&)>& after, const Progress& progress = {});

}  // namespace segearth::pipeline
