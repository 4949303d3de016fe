// `segearth segment` as a library function: a georeferenced scene and class names in, a class
// GeoTIFF on the input's grid out (plus optional per-class probabilities and confidence).
//
//   SegmentOptions o;
//   o.input = "ortho.tif"; o.output = "classes.tif"; o.classes.preset = "landcover";
//   o.clip = "ViT-B-16.pt"; o.upsampler = "simfeatup_vit_b16.ckpt";
//   SegmentReport r = segment(o, progress);
#pragma once

#include <segearth/geo/scene_reader.hpp>
#include <segearth/pipeline/class_setup.hpp>
#include <segearth/pipeline/streaming_segmentation.hpp>

#include <map>
#include <string>
#include <vector>

namespace segearth::pipeline {

struct SegmentOptions {
    std::string input, output;
    // Model and assets: flag values; empty means the environment, then the data folders.
    std::string clip, upsampler, vocab, templates;
    ClassRequest classes;
    double cls_lambda = -0.3, logit_scale = 50.0;
    std::string attention = "segearth";
    std::string device = "auto";  ///< auto, cpu, cuda, cuda:N
    int threads = 0;              ///< 0: libtorch's default
    StreamingOptions streaming;   ///< window, stride, batch, ram (output size is set from the grid)
    geo::SceneReadOptions read;   ///< bands, scaling, working grid
    bool output_on_working_grid = false;
    std::string format = "GTiff";
    std::vector<std::string> creation_options;
    std::string probabilities, probabilities_type = "Float32", confidence;
    std::string vector;  ///< --vector OUT.gpkg: polygons of every class but the background, from the result
    bool overwrite = false;
    std::string text_cache_dir;  ///< "" : the user cache folder; "-" : no cache
};

struct SegmentReport {
    StreamingStats stats;
    core::WindowTimings model;  ///< the model's time split (CLIP, upsampler, similarity)
    int64_t working_width = 0, working_height = 0, output_width = 0, output_height = 0;
    std::map<std::string, long long> polygons_per_layer;  ///< with --vector
    std::string device, upsampler, notes;  ///< notes: what the user should know (e.g. no upsampler weights)
    double load_seconds = 0, text_seconds = 0;
};

/// Runs everything: checks the options and outputs before any work, loads the models, streams the
/// scene, and renames the outputs into place only when all are complete. Throws UsageError,
/// FileError or Cancelled; on any error no output file is left behind.
SegmentReport segment(const SegmentOptions& options, const Progress& progress = {});

}  // namespace segearth::pipeline
