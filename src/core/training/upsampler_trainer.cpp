#include <segearth/core/training/upsampler_trainer.hpp>

#include "device_stopwatch.hpp"

#include <segearth/core/clip/image_normalisation.hpp>
#include <segearth/error.hpp>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#ifdef SEGEARTH_WITH_CUDA
#include <ATen/cuda/CUDAGeneratorImpl.h>
#endif

#include <sstream>

namespace segearth::core {
namespace {

namespace F = torch::nn::functional;

const std::string checkpoint_content = "simfeatup training checkpoint";

std::vector<std::pair<std::string, torch::Tensor>> trainable_parameters(JbuUpsampler& upsampler,
                                                                        SimFeatUpObjective& objective) {
    std::vector<std::pair<std::string, torch::Tensor>> named;
    for (const auto& p : upsampler->named_parameters()) named.emplace_back("upsampler." + p.key(), p.value());
    for (const auto& p : objective->named_parameters()) named.emplace_back(p.key(), p.value());
    return named;
}

torch::Tensor cpu_generator_state() {
    auto generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    return generator.get_state();
}

void set_cpu_generator_state(const torch::Tensor& state) {
    auto generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(state);
}

// The generator of a CUDA device, whose draws (dropout, the attention downsampler's mask) a resume
// on it must repeat; an undefined tensor on the CPU, where the CPU generator is all there is.
torch::Tensor cuda_generator_state(const torch::Device& device) {
#ifdef SEGEARTH_WITH_CUDA
    if (device.is_cuda()) {
        auto generator = at::cuda::detail::getDefaultCUDAGenerator(device.has_index() ? device.index() : 0);
        std::lock_guard<std::mutex> lock(generator.mutex());
        return generator.get_state();
    }
#endif
    (void)device;
    return {};
}

void set_cuda_generator_state(const torch::Device& device, const torch::Tensor& state) {
#ifdef SEGEARTH_WITH_CUDA
    if (device.is_cuda()) {
        auto generator = at::cuda::detail::getDefaultCUDAGenerator(device.has_index() ? device.index() : 0);
        std::lock_guard<std::mutex> lock(generator.mutex());
        generator.set_state(state);
    }
#endif
    (void)device, (void)state;
}

// Maps (C, h, w) features to RGB in [0, 1]: projection on a PCA basis (C, 3) around `mean`, each
// component stretched between its own 2nd and 98th percentiles (as a GIS viewer stretches a band).
torch::Tensor pca_colours(const torch::Tensor& features, const torch::Tensor& basis, const torch::Tensor& mean) {
    const int64_t c = features.size(0), h = features.size(1), w = features.size(2);
    const auto projected = torch::matmul(features.reshape({c, h * w}).t() - mean, basis);  // (h*w, 3)
    const auto low = torch::quantile(projected, 0.02, 0, true), high = torch::quantile(projected, 0.98, 0, true);
    return ((projected - low) / (high - low).clamp_min(1e-12)).clamp(0, 1).t().reshape({3, h, w});
}

}  // namespace

UpsamplerTrainer::UpsamplerTrainer(ClipModel clip, TrainerOptions options, const torch::Device& device)
    : clip_(std::move(clip)), options_(options), device_(device) {
    // Its own stream, apart from the crop sampler's, which callers seed with the same --seed.
    std::seed_seq jitter_seed{options.seed, static_cast<uint64_t>(0x6a6974746572)};
    jitter_rng_.seed(jitter_seed);
    if (options_.n_jitters < 1) throw UsageError("the number of jitters must be at least 1");
    if (options_.projection_dim < 1) throw UsageError("the random projection needs at least 1 dimension");
    if (options_.precision == Precision::fp16)
        throw UsageError("training in fp16 needs loss scaling, which the trainer does not do: use bf16 or fp32");
    torch::manual_seed(options_.seed);  // the new networks' initial weights come from it too
    const int64_t dim = clip_->config().embed_dim;
    upsampler_ = JbuUpsampler(dim);
    objective_ = SimFeatUpObjective(dim, clip_->config().vision.patch_size);
    upsampler_->to(device_);
    objective_->to(device_);
    upsampler_->train();
    objective_->train();
    clip_->to(device_);
    clip_->eval();
    // After the moves: the networks' weights stay float32 (the master copy NAdam updates); only
    // their largest products round to bf16 (mixed_precision.hpp). CLIP is frozen, so it is converted.
    clip_->visual->set_precision(options_.precision);
    upsampler_->set_precision(options_.precision);
    objective_->crn->set_precision(options_.precision);
    optimizer_ = std::make_unique<NAdam>(trainable_parameters(upsampler_, objective_), options_.optimizer);
}

torch::Tensor UpsamplerTrainer::clip_features(const torch::Tensor& normalised) {
    torch::NoGradGuard no_grad;
    return clip_->visual->training_features(normalised);
}

torch::Tensor UpsamplerTrainer::upsample(const torch::Tensor& features, const torch::Tensor& image) {
    const auto up = upsampler_->forward(features, image);
    const int64_t h = image.size(2), w = image.size(3);
    if (up.size(2) == h && up.size(3) == w) return up;
    // jbu_one upsamples x16: for patch sizes other than 16 (ViT-B/32, ViT-L/14) resized to the image.
    return F::interpolate(up, F::InterpolateFuncOptions()
                                  .size(std::vector<int64_t>{h, w})
                                  .mode(torch::kBilinear)
                                  .align_corners(false));
}

StepResult UpsamplerTrainer::step(const torch::Tensor& images) {
    const int64_t patch = clip_->config().vision.patch_size;
    TORCH_CHECK(images.dim() == 4 && images.size(1) == 3 && images.size(2) % patch == 0 && images.size(3) % patch == 0,
                "training images must be (N, 3, H, W) with H and W multiples of ", patch, ", got ", images.sizes());
    StepResult result;
    DeviceStopwatch watch(device_);
    const auto image = normalise_clip_image(images.to(device_));
    const auto features = clip_features(image);
    result.timings.clip += watch.lap();
    const int64_t h = image.size(2), w = image.size(3);
    const double per_jitter = 1.0 / static_cast<double>(options_.n_jitters);

    optimizer_->zero_grad();
    for (int64_t j = 0; j < options_.n_jitters; ++j) {
        // Recomputed every jitter (fresh dropout), and its graph freed by each backward, as METHOD.md 7.
        const auto upsampled = upsample(features, image);
        result.timings.upsampler_forward += watch.lap();

        const auto jitter = sample_jitter(jitter_rng_, h, w, options_.jitter);
        const auto image_j = apply_jitter(image, jitter, options_.jitter.max_pad);
        const auto features_j = clip_features(image_j);
        result.timings.clip += watch.lap();

        const auto projection = random_projection(features.size(1), options_.projection_dim).to(device_);
        const auto terms = objective_->terms(apply_jitter(upsampled, jitter, options_.jitter.max_pad), features_j,
                                             image_j, projection);
        const auto loss = (terms.reconstruction + options_.image_weight * terms.image) * per_jitter;
        result.timings.losses += watch.lap();

        loss.backward();
        result.timings.backward += watch.lap();
        result.loss += loss.item<double>();
        result.reconstruction += terms.reconstruction.item<double>() * per_jitter;
        result.image += terms.image.item<double>() * per_jitter;
        result.projected_mse += terms.projected_mse.item<double>() * per_jitter;
    }
    if (optimizer_->steps() < options_.clip_grad_steps) {
        std::vector<torch::Tensor> parameters;
        for (const auto& [name, p] : trainable_parameters(upsampler_, objective_)) parameters.push_back(p);
        torch::nn::utils::clip_grad_norm_(parameters, options_.clip_grad_norm);
    }
    optimizer_->step();
    result.timings.optimizer += watch.lap();
    result.step = optimizer_->steps();
    return result;
}

UpsamplingPreview UpsamplerTrainer::preview(const torch::Tensor& image01) {
    torch::NoGradGuard no_grad;
    upsampler_->eval();
    const auto image = normalise_clip_image(image01.slice(0, 0, 1).to(device_));
    const auto low = clip_features(image);
    const auto up = upsample(low, image);
    upsampler_->train();
    const int64_t c = low.size(1), h = image.size(2), w = image.size(3);

    const auto samples = low[0].reshape({c, -1}).t().to(torch::kCPU, torch::kFloat32);  // (pixels, C)
    const auto mean = samples.mean(0, true);
    const auto basis = std::get<2>(torch::linalg_svd(samples - mean, false)).slice(0, 0, 3).t();  // (C, 3)

    UpsamplingPreview preview;
    preview.image = image01[0].to(torch::kCPU, torch::kFloat32).clamp(0, 1);
    const auto low_colours = pca_colours(low[0].to(torch::kCPU, torch::kFloat32), basis, mean);
    preview.low_resolution = F::interpolate(low_colours.unsqueeze(0), F::InterpolateFuncOptions()
                                                                          .size(std::vector<int64_t>{h, w})
                                                                          .mode(torch::kNearest))[0];
    preview.upsampled = pca_colours(up[0].to(torch::kCPU, torch::kFloat32), basis, mean);
    return preview;
}

TrainingSnapshot UpsamplerTrainer::snapshot() {
    torch::NoGradGuard no_grad;
    TrainingSnapshot s;
    s.step = optimizer_->steps();
    for (const auto& [name, p] : trainable_parameters(upsampler_, objective_))
        s.checkpoint.emplace(name, p.detach().to(torch::kCPU).clone().contiguous());
    for (const auto& [name, value] : optimizer_->state()) s.checkpoint.emplace("optimizer." + name, value.clone());
    s.checkpoint.emplace("rng.torch_cpu", cpu_generator_state());
    if (const auto cuda = cuda_generator_state(device_); cuda.defined()) s.checkpoint.emplace("rng.torch_cuda", cuda);
    std::ostringstream rng;
    rng << jitter_rng_;
    s.metadata["segearth_content"] = checkpoint_content;
    s.metadata["architecture"] = "jbu_one";
    s.metadata["precision"] = to_string(options_.precision);  // a resume may use another: the weights are float32
    s.metadata["feature_dim"] = std::to_string(clip_->config().embed_dim);
    s.metadata["patch_size"] = std::to_string(clip_->config().vision.patch_size);
    s.metadata["step"] = std::to_string(s.step);
    s.metadata["jitter_rng"] = rng.str();
    for (const auto& p : upsampler_->named_parameters())
        s.upsampler.emplace(p.key(), p.value().detach().to(torch::kCPU, torch::kFloat32).clone().contiguous());
    s.feature_dim = upsampler_->feature_dim();
    return s;
}

void UpsamplerTrainer::write_checkpoint(const std::filesystem::path& path, const TrainingSnapshot& snapshot,
                                        std::map<std::string, std::string> metadata) {
    for (const auto& [key, value] : snapshot.metadata) metadata[key] = value;
    write_safetensors(path, snapshot.checkpoint, metadata);
}

void UpsamplerTrainer::save_checkpoint(const std::filesystem::path& path, std::map<std::string, std::string> metadata) {
    write_checkpoint(path, snapshot(), std::move(metadata));
}

std::map<std::string, std::string> UpsamplerTrainer::load_checkpoint(const std::filesystem::path& path) {
    const auto weights = read_weights(path);
    auto metadata = weights.format == WeightsFormat::safetensors ? read_safetensors_metadata(path)
                                                                 : std::map<std::string, std::string>{};
    const auto field = [&](const std::string& key) {
        const auto it = metadata.find(key);
        return it == metadata.end() ? std::string() : it->second;
    };
    if (field("segearth_content") != checkpoint_content)
        throw FileError(path.string() + ": not a segearth training checkpoint (--resume takes the .resume.safetensors "
                                        "file that segearth train writes beside its output)");
    for (const auto& [key, expected] : {std::pair{"feature_dim", clip_->config().embed_dim},
                                        std::pair{"patch_size", clip_->config().vision.patch_size}})
        if (field(key) != std::to_string(expected))
            throw FileError(path.string() + ": this checkpoint was trained with " + key + " " + field(key) +
                            " but the CLIP model has " + std::to_string(expected) +
                            ": resume with the CLIP model it was started with");

    torch::NoGradGuard no_grad;
    for (auto& [name, p] : trainable_parameters(upsampler_, objective_)) {
        const auto it = weights.tensors.find(name);
        if (it == weights.tensors.end() || it->second.sizes() != p.sizes())
            throw FileError(path.string() + ": training checkpoint lacks '" + name + "' of shape " +
                            c10::str(p.sizes()));
        p.copy_(it->second);
    }
    TensorMap optimizer_state;
    const std::string prefix = "optimizer.";
    for (const auto& [name, value] : weights.tensors)
        if (name.rfind(prefix, 0) == 0) optimizer_state.emplace(name.substr(prefix.size()), value);
    try {
        optimizer_->load_state(optimizer_state);
    } catch (const Error& e) {
        throw FileError(path.string() + ": " + e.what());
    }
    if (const auto it = weights.tensors.find("rng.torch_cpu"); it != weights.tensors.end())
        set_cpu_generator_state(it->second);
    // A checkpoint from another kind of device resumes with this one's generator as it is: the same
    // training, not the same curve.
    if (const auto it = weights.tensors.find("rng.torch_cuda"); it != weights.tensors.end())
        set_cuda_generator_state(device_, it->second);
    std::istringstream rng(field("jitter_rng"));
    rng >> jitter_rng_;
    if (!rng) throw FileError(path.string() + ": training checkpoint has no valid jitter_rng state");
    return metadata;
}

}  // namespace segearth::core
