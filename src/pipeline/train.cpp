#include <segearth/pipeline/train.hpp>

#include "device_choice.hpp"
#include "training_crops.hpp"

#include <segearth/core/assets.hpp>
#include <segearth/core/blas_runtime.hpp>
#include <segearth/core/clip_model.hpp>
#include <segearth/core/upsampler/upsampler_file.hpp>
#include <segearth/error.hpp>
#include <segearth/geo/image_sources.hpp>
#include <segearth/geo/rgb_png.hpp>

#include <torch/torch.h>

#include <chrono>
#include <cstdlib>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace segearth::pipeline {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

void check_options(const TrainOptions& o) {
    if (o.images.empty()) throw UsageError("train needs --images: raster files, folders of them, or list files");
    if (o.out.empty()) throw UsageError("train needs --out: where to write the trained upsampler (.safetensors)");
    if (o.batch < 1) throw UsageError("--batch must be at least 1");
    if (o.steps < 0) throw UsageError("--steps must not be negative");
    if (o.epochs < 0 || !std::isfinite(o.epochs)) throw UsageError("--epochs must be a positive number");
    if (o.steps > 0 && o.epochs > 0) throw UsageError("give --steps or --epochs, not both");
    if (!(o.min_valid > 0 && o.min_valid <= 1)) throw UsageError("--min-valid must be in (0, 1]");
    if (o.checkpoint_every < 1) throw UsageError("--checkpoint-every must be at least 1");
    if (o.preview_every < 0) throw UsageError("--preview-every must not be negative");
    const auto& t = o.trainer;
    if (t.n_jitters < 1) throw UsageError("--jitters must be at least 1");
    if (t.jitter.max_pad < 0 || t.jitter.max_pad >= o.crop)
        throw UsageError("--max-pad must be between 0 and the crop size");
    if (!(t.jitter.max_zoom >= 1)) throw UsageError("--max-zoom must be at least 1");
    if (t.projection_dim < 1) throw UsageError("--projection-dim must be at least 1");
    if (!(t.optimizer.lr > 0)) throw UsageError("--lr must be positive");
    if (t.image_weight < 0) throw UsageError("--image-weight must not be negative");
    if (t.clip_grad_steps < 0 || !(t.clip_grad_norm > 0))
        throw UsageError("--clip-grad-steps must not be negative and --clip-grad-norm must be positive");
}

// An existing output is replaced only with --overwrite, or when it belongs to the run being resumed.
void check_output(const std::string& path, const TrainOptions& o, const char* what) {
    if (path.empty() || !fs::exists(path)) return;
    if (o.overwrite) return;
    if (!o.resume.empty() && fs::exists(o.resume) && fs::equivalent(o.resume, checkpoint_path(o.out))) return;
    throw UsageError(std::string(what) + " " + path + " exists: use --overwrite to replace it (or --resume " +
                     checkpoint_path(o.out) + " to continue that run)");
}

int64_t planned_steps(const TrainOptions& o, const TrainingCrops& crops) {
    if (o.steps > 0) return o.steps;
    const double epochs = o.epochs > 0 ? o.epochs : 1.0;
    return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(epochs * static_cast<double>(crops.crops_per_epoch()) /
                                                               static_cast<double>(o.batch))));
}

void write_preview(const std::string& path, const core::UpsamplingPreview& p) {
    constexpr int64_t gap = 4;
    const int64_t h = p.image.size(1), w = p.image.size(2), width = 3 * w + 2 * gap;
    auto canvas = torch::ones({3, h, width});
    int64_t x = 0;
    for (const auto* panel : {&p.image, &p.low_resolution, &p.upsampled}) {
        canvas.slice(2, x, x + w).copy_(*panel);
        x += w + gap;
    }
    const auto bytes = (canvas * 255).round().clamp(0, 255).to(torch::kUInt8).contiguous();
    std::vector<std::uint8_t> planar(bytes.data_ptr<std::uint8_t>(), bytes.data_ptr<std::uint8_t>() + bytes.numel());
    geo::write_rgb_png(path, static_cast<int>(width), static_cast<int>(h), planar);
}

// On resume, the log's rows after the checkpoint's step (written before a crash or kill between
// checkpoints) are dropped, so that the resumed run's rows replace them instead of repeating them.
void truncate_log_after(const std::string& path, int64_t step) {
    if (path.empty() || !fs::exists(path)) return;
    std::ifstream in(path);
    std::string line, kept;
    for (bool header = true; std::getline(in, line); header = false)
        if (header || std::atoll(line.c_str()) <= step) kept += line + "\n";
    in.close();
    const auto temp = path + ".part";
    {
        std::ofstream out(temp, std::ios::trunc);
        out << kept;
        if (!out) throw FileError(path + ": cannot rewrite the training log");
    }
    fs::rename(temp, path);
}

class CsvLog {
public:
    CsvLog(const std::string& path, bool append) {
        if (path.empty()) return;
        const bool header = !append || !fs::exists(path) || fs::file_size(path) == 0;
        out_.open(path, append ? std::ios::app : std::ios::trunc);
        if (!out_) throw FileError(path + ": cannot write the training log");
        if (header)
            out_ << "step,loss,reconstruction,image,projected_mse,images_per_second,data_s,clip_s,upsampler_forward_s,losses_s,"
                    "backward_s,optimizer_s\n";
        path_ = path;
    }
    void write(const TrainProgress& p) {
        if (path_.empty()) return;
        const auto& s = p.step;
        const auto& t = s.timings;
        char line[512];
        std::snprintf(line, sizeof line, "%lld,%.8g,%.8g,%.8g,%.8g,%.5g,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f\n",
                      static_cast<long long>(s.step), s.loss, s.reconstruction, s.image, s.projected_mse, p.images_per_second,
                      p.data_seconds, t.clip, t.upsampler_forward, t.losses, t.backward, t.optimizer);
        out_ << line << std::flush;
        if (!out_) throw FileError(path_ + ": cannot write the training log (disk full?)");
    }

private:
    std::string path_;
    std::ofstream out_;
};

void add(core::StepTimings& sum, const core::StepTimings& t) {
    sum.clip += t.clip;
    sum.upsampler_forward += t.upsampler_forward;
    sum.losses += t.losses;
    sum.backward += t.backward;
    sum.optimizer += t.optimizer;
}

}  // namespace

std::string checkpoint_path(const std::string& out) {
    fs::path p(out);
    const auto stem = p.extension() == ".safetensors" ? p.stem() : p.filename();
    return (p.parent_path() / (stem.string() + ".resume.safetensors")).string();
}

TrainReport train(const TrainOptions& o, const TrainCallback& callback) {
    check_options(o);
    const auto checkpoint = checkpoint_path(o.out);
    if (!o.resume.empty() && !fs::exists(o.resume))
        throw UsageError("--resume " + o.resume + ": no such file (it is the " + fs::path(checkpoint).filename().string() +
                         " file an earlier run wrote beside its --out)");
    check_output(o.out, o, "--out");
    check_output(checkpoint, o, "the checkpoint");
    if (o.resume.empty()) check_output(o.log_csv, o, "--log");
    const auto out_dir = fs::path(o.out).parent_path();
    if (!out_dir.empty() && !fs::is_directory(out_dir))
        throw UsageError("--out " + o.out + ": the folder " + out_dir.string() + " does not exist");
    const auto clip_path = core::find_asset(core::clip_weights_asset(), o.clip);
    const auto device = choose_device(o.device);
    if (o.threads < 0) throw UsageError("--threads must be positive");

    TrainReport report;
    report.out = o.out;
    report.checkpoint = checkpoint;
    report.device = device.str();
    const auto paths = geo::expand_image_sources(o.images);
    auto clip = core::load_clip(clip_path, device);
    const int64_t patch = clip.info.config.vision.patch_size;
    if (o.crop < 2 * patch || o.crop % patch != 0)
        throw UsageError("--crop " + std::to_string(o.crop) + ": use a multiple of the CLIP model's patch size (" +
                         std::to_string(patch) + "), at least " + std::to_string(2 * patch));
    TrainingCrops crops(paths, o.read, o.crop, o.min_valid, o.trainer.seed);
    report.images = crops.image_count();
    core::set_threads(o.threads > 0 ? o.threads : core::default_thread_count());

    core::UpsamplerTrainer trainer(clip.model, o.trainer, device);
    int64_t total = planned_steps(o, crops);
    if (!o.resume.empty()) {
        const auto metadata = trainer.load_checkpoint(o.resume);
        const auto sampler = metadata.find("crop_sampler");
        if (sampler == metadata.end()) throw FileError(o.resume + ": the checkpoint has no crop sampler state");
        crops.restore(sampler->second);
        if (o.steps == 0 && o.epochs == 0 && metadata.count("total_steps"))
            total = std::stoll(metadata.at("total_steps"));
    }
    report.first_step = report.last_step = trainer.steps_done();
    report.total_steps = total;
    if (trainer.steps_done() >= total)
        throw UsageError("the checkpoint is at step " + std::to_string(trainer.steps_done()) +
                         ", the run has " + std::to_string(total) + " steps: ask for more with --steps");

    const auto preview_dir = o.preview_dir.empty() ? (out_dir.empty() ? fs::path(".") : out_dir) : fs::path(o.preview_dir);
    if (o.preview_every > 0) fs::create_directories(preview_dir);
    if (!o.resume.empty()) truncate_log_after(o.log_csv, trainer.steps_done());
    CsvLog log(o.log_csv, !o.resume.empty());
    const auto clip_name = clip_path.filename().string(), clip_crc32 = core::file_crc32(clip_path);
    const auto save = [&] {
        trainer.save_checkpoint(checkpoint, {{"crop_sampler", crops.state()},
                                             {"total_steps", std::to_string(total)},
                                             {"clip", clip_name},
                                             {"clip_crc32", clip_crc32}});
        core::save_upsampler(o.out, trainer.upsampler(),
                             {{"trained_by", "segearth train"},
                              {"steps", std::to_string(trainer.steps_done())},
                              {"clip", clip_name},
                              {"clip_crc32", clip_crc32}});
    };

    const auto start = Clock::now();
    torch::Tensor preview_image;
    std::vector<double> reconstruction, mse;
    int64_t images = 0;
    while (trainer.steps_done() < total) {
        const auto read_start = Clock::now();
        const auto batch = crops.next_batch(o.batch);
        const double data_seconds = seconds_since(read_start);
        if (!preview_image.defined()) preview_image = batch.slice(0, 0, 1).clone();

        TrainProgress progress;
        progress.step = trainer.step(batch);
        progress.data_seconds = data_seconds;
        progress.total_steps = total;
        images += o.batch;
        report.last_step = progress.step.step;
        const double elapsed = seconds_since(start);
        progress.images_per_second = static_cast<double>(images) / elapsed;
        progress.eta_seconds = elapsed / static_cast<double>(report.last_step - report.first_step) *
                               static_cast<double>(total - report.last_step);
        add(report.timings, progress.step.timings);
        report.data_seconds += data_seconds;
        reconstruction.push_back(progress.step.reconstruction);
        mse.push_back(progress.step.projected_mse);
        log.write(progress);

        const int64_t step = progress.step.step;
        if (o.preview_every > 0 && (step % o.preview_every == 0 || step == total)) {
            char name[64];
            std::snprintf(name, sizeof name, "preview_step_%06lld.png", static_cast<long long>(step));
            write_preview((preview_dir / name).string(), trainer.preview(preview_image));
        }
        const bool keep_going = !callback || callback(progress);
        if (step % o.checkpoint_every == 0 || step == total || !keep_going) save();
        if (!keep_going) throw Cancelled();  // after the checkpoint: --resume continues from here
    }
    report.seconds = seconds_since(start);
    report.images_per_second = static_cast<double>(images) / report.seconds;
    report.crops_rejected = crops.crops_rejected();
    const size_t k = std::min<size_t>(10, reconstruction.size());
    for (size_t i = 0; i < k; ++i) {
        report.reconstruction_start += reconstruction[i] / static_cast<double>(k);
        report.reconstruction_end += reconstruction[reconstruction.size() - k + i] / static_cast<double>(k);
        report.projected_mse_start += mse[i] / static_cast<double>(k);
        report.projected_mse_end += mse[mse.size() - k + i] / static_cast<double>(k);
    }
    return report;
}

}  // namespace segearth::pipeline
