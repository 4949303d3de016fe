// Training SimFeatUp's jbu_one upsampler on unlabelled images with a frozen CLIP (METHOD.md 7): one
// optimizer step per batch of crops, n jitters per step, NAdam over the upsampler and the
// training-only networks, full checkpoints for resuming.
//
//   UpsamplerTrainer trainer(clip.model, {}, torch::kCPU);
//   for (...) { StepResult r = trainer.step(crops); }     // crops (N, 3, 224, 224) RGB in [0, 1]
//   save_upsampler("up.safetensors", trainer.upsampler());
#pragma once

#include <segearth/core/clip_model.hpp>
#include <segearth/core/training/jitter.hpp>
#include <segearth/core/training/nadam.hpp>
#include <segearth/core/training/simfeatup_objective.hpp>
#include <segearth/core/training/trainer_options.hpp>
#include <segearth/core/upsampler/jbu.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>

namespace segearth::core {

/// Colour pictures of what the upsampler does to one image: the image, CLIP's low-resolution
/// features and the upsampled ones, the two feature maps mapped to RGB by the same 3-component PCA.
struct UpsamplingPreview {
    torch::Tensor image, low_resolution, upsampled;  ///< each (3, H, W) in [0, 1], CPU float
};

/// A copy of what a checkpoint and the upsampler file hold, taken between two steps: written
/// later (while the next step runs, or once it was abandoned) it still describes that moment.
struct TrainingSnapshot {
    int64_t step = 0;
    TensorMap checkpoint;                         ///< every network, the optimizer, the generators
    std::map<std::string, std::string> metadata;  ///< the checkpoint's
    TensorMap upsampler;                          ///< the upsampler's parameters, as save_upsampler names them
    int64_t feature_dim = 0;
};

class UpsamplerTrainer {
public:
    UpsamplerTrainer(ClipModel clip, TrainerOptions options, const torch::Device& device);

    /// One optimizer step on `images` (N, 3, H, W), RGB in [0, 1], H and W multiples of the patch.
    StepResult step(const torch::Tensor& images);

    UpsamplingPreview preview(const torch::Tensor& image);

    JbuUpsampler& upsampler() { return upsampler_; }
    SimFeatUpObjective& objective() { return objective_; }
    int64_t steps_done() const { return optimizer_->steps(); }
    const TrainerOptions& options() const { return options_; }

    /// Everything needed to resume: every network, the optimizer state, the random generators'
    /// states, and `metadata` (e.g. the data sampler's state). Atomic. The upsampler's tensors are
    /// named "upsampler." + its parameter names, so segment can also load this file directly.
    void save_checkpoint(const std::filesystem::path& path, std::map<std::string, std::string> metadata = {});
    /// The state now, copied; write_checkpoint(path, snapshot(), m) is save_checkpoint(path, m).
    TrainingSnapshot snapshot();
    static void write_checkpoint(const std::filesystem::path& path, const TrainingSnapshot& snapshot,
                                 std::map<std::string, std::string> metadata = {});
    /// Restores a save_checkpoint() file and returns its metadata. Throws FileError naming the file
    /// when it is not a training checkpoint or was made for another feature width or patch size.
    std::map<std::string, std::string> load_checkpoint(const std::filesystem::path& path);

private:
    torch::Tensor clip_features(const torch::Tensor& normalised);
    /// The upsampler's output at the image's size (N, C, H, W).
    torch::Tensor upsample(const torch::Tensor& features, const torch::Tensor& image);

    ClipModel clip_;
    TrainerOptions options_;
    torch::Device device_;
    JbuUpsampler upsampler_{nullptr};
    SimFeatUpObjective objective_{nullptr};
    std::unique_ptr<NAdam> optimizer_;
    std::mt19937_64 jitter_rng_;
};

}  // namespace segearth::core
