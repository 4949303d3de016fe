// `segearth train` as a library function: learn a SimFeatUp upsampler for a CLIP model from the
// user's own unlabelled imagery (METHOD.md 7), with resumable checkpoints.
//
//   TrainOptions o;
//   o.clip = "RemoteCLIP-ViT-B-32.pt"; o.images = {"tiles/"}; o.out = "up_rs.safetensors";
//   o.steps = 2000;
//   TrainReport r = train(o, progress);   // progress(fraction, step line every log_every steps)
// Plain types only: a caller needs no torch headers.
#pragma once

#include <segearth/core/training/trainer_options.hpp>
#include <segearth/geo/scene_reader.hpp>
#include <segearth/options/option_table.hpp>
#include <segearth/pipeline/device.hpp>
#include <segearth/progress.hpp>

#include <optional>
#include <string>
#include <vector>

namespace segearth::pipeline {

struct TrainOptions {
    std::string clip;                 ///< CLIP weights (flag value; "" : $SEGEARTH_CLIP, then the data folders)
    std::vector<std::string> images;  ///< rasters, folders of them, list files
    std::string out;                  ///< the trained upsampler (safetensors, loadable by segment --upsampler)
    std::string resume;               ///< a training checkpoint to continue from
    geo::SceneReadOptions read;       ///< bands, scaling, working grid (as segment)
    int64_t crop = 224, batch = 4;
    std::optional<int64_t> steps;     ///< optimizer steps; or:
    std::optional<double> epochs;     ///< passes over the images' area in crops (neither: one epoch)
    double min_valid = 0.5;           ///< crops with a smaller valid fraction are drawn again
    core::TrainerOptions trainer;     ///< jitters, loss weights, optimizer, seed
    DeviceChoice device;
    /// The training networks' largest products and CLIP's (mixed precision: float32 weights and
    /// optimiser); none: auto, bf16 on CUDA and fp32 on the CPU. fp16 is refused (it needs loss scaling).
    std::optional<core::Precision> precision;
    int threads = 0;                  ///< 0: all cores
    int64_t checkpoint_every = 100;   ///< steps between checkpoints (also at the end and on cancel)
    std::string log_csv;              ///< a CSV line per step
    int64_t log_every = 10;           ///< steps between the progress messages (the first and last always)
    int64_t preview_every = 0;        ///< a PNG every N steps (0: none)
    std::string preview_dir;          ///< where the PNGs go (default: beside --out)
    bool overwrite = false;
};

struct TrainReport {
    int64_t first_step = 0, last_step = 0, total_steps = 0;  ///< steps of this session: (first_step, last_step]
    std::string out, checkpoint, device;
    std::string precision;  ///< --precision resolved for the device
    size_t images = 0;
    int64_t crops_rejected = 0;
    double seconds = 0, images_per_second = 0;
    core::StepTimings timings;  ///< summed over the session's steps
    double data_seconds = 0;
    /// Mean reconstruction loss of the session's first and last ten steps.
    double reconstruction_start = 0, reconstruction_end = 0;
    double projected_mse_start = 0, projected_mse_end = 0;  ///< the same for the unweighted residual
};

/// The command, its texts and its options table (CLI, --help, --json-usage).
const options::Command<TrainOptions>& train_command();

/// The declared ranges, then the rules between options; throws UsageError naming the flag.
void validate(const TrainOptions& options);

/// Plan (validate(), inputs, outputs, assets: nothing written), load, then train. `progress` is called
/// after every step with the fraction of steps done and, every log_every steps, a line with the
/// losses, speed and ETA; returning false saves a resumable checkpoint and throws Cancelled, whose
/// note says how to resume. Writes `out` and its checkpoint (checkpoint_path(out)) every
/// checkpoint_every steps and at the end, each atomically.
TrainReport train(const TrainOptions& options, const Progress& progress = {});

/// The full training checkpoint written beside `out`: "up.safetensors" -> "up.resume.safetensors".
std::string checkpoint_path(const std::string& out);

}  // namespace segearth::pipeline
