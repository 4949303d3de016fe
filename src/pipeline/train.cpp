#include <segearth/pipeline/train.hpp>

#include "device_choice.hpp"
#include "training_crops.hpp"
#include "with_project_errors.hpp"

#include <segearth/abandonable_work.hpp>
#include <segearth/core/assets.hpp>
#include <segearth/core/blas_runtime.hpp>
#include <segearth/core/clip_model.hpp>
#include <segearth/core/training/upsampler_trainer.hpp>
#include <segearth/core/upsampler/upsampler_file.hpp>
#include <segearth/error.hpp>
#include <segearth/geo/image_sources.hpp>
#include <segearth/geo/rgb_png.hpp>
#include <segearth/output_safety.hpp>
#include <segearth/stopwatch.hpp>
#include <segearth/temporary_output.hpp>
#include <segearth/write_error.hpp>

#include <torch/torch.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace segearth::pipeline {
namespace {

namespace fs = std::filesystem;

// What one step of training reports, for the log and the progress line.
struct StepProgress {
    core::StepResult step;
    int64_t total_steps = 0;
    double images_per_second = 0;  ///< over this session's steps so far
    double eta_seconds = 0;
    double data_seconds = 0;       ///< reading this step's crops
};

std::string duration(double seconds) {
    if (!(seconds >= 0) || seconds > 1e8) return "?";
    const auto s = static_cast<long long>(seconds + 0.5);
    char text[32];
    if (s >= 3600) std::snprintf(text, sizeof text, "%lldh%02lldm", s / 3600, s % 3600 / 60);
    else if (s >= 60) std::snprintf(text, sizeof text, "%lldm%02llds", s / 60, s % 60);
    else std::snprintf(text, sizeof text, "%llds", s);
    return text;
}

std::string step_line(const StepProgress& p) {
    const auto& s = p.step;
    char line[320];
    std::snprintf(line, sizeof line,
                  "step %lld/%lld  loss %.5g (reconstruction %.5g, image %.5g; projected MSE %.4g)  %.3g images/s  ETA %s",
                  static_cast<long long>(s.step), static_cast<long long>(p.total_steps), s.loss, s.reconstruction,
                  s.image, s.projected_mse, p.images_per_second, duration(p.eta_seconds).c_str());
    return line;
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
    if (o.steps) return *o.steps;
    const double epochs = o.epochs.value_or(1.0);
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
    write_text_output(path, kept, true, ".csv");
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
    void write(const StepProgress& p) {
        if (path_.empty()) return;
        const auto& s = p.step;
        const auto& t = s.timings;
        char line[512];
        std::snprintf(line, sizeof line, "%lld,%.8g,%.8g,%.8g,%.8g,%.5g,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f\n",
                      static_cast<long long>(s.step), s.loss, s.reconstruction, s.image, s.projected_mse, p.images_per_second,
                      p.data_seconds, t.clip, t.upsampler_forward, t.losses, t.backward, t.optimizer);
        out_ << line << std::flush;
        if (!out_) throw write_error(path_, "write the training log", std::strerror(errno));
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

namespace {

TrainReport run_train(const TrainOptions& o, const Progress& progress) {
    // Plan: every option, input and output checked before anything is loaded or written.
    validate(o);
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
    if (o.precision == core::Precision::fp16)
        throw UsageError("--precision fp16: train has no loss scaling, which fp16's narrow range needs; use "
                         "--precision bf16 (mixed precision with float32's range) or fp32");
    auto trainer_options = o.trainer;
    trainer_options.precision = resolve_precision(o.precision, device, core::Precision::bf16);

    TrainReport report;
    report.out = o.out;
    report.checkpoint = checkpoint;
    report.device = device.str();
    report.precision = core::to_string(trainer_options.precision);
    const auto paths = geo::expand_image_sources(o.images);
    // No output lands on an input: the CLIP weights, an image, a list file, or a checkpoint other
    // than the one this run continues (which it replaces by design).
    std::vector<NamedPath> inputs{{"--clip", clip_path.string()}};
    for (const auto& source : o.images) inputs.push_back({"--images", source});
    for (const auto& image : paths) inputs.push_back({"--images", image});
    const bool resuming_own_checkpoint = !o.resume.empty() && same_file(o.resume, checkpoint);
    if (!resuming_own_checkpoint) inputs.push_back({"--resume", o.resume});
    refuse_outputs_onto_inputs({{"--out", o.out}, {"the checkpoint", checkpoint}, {"--log", o.log_csv}}, inputs);
    // The previews (preview_step_NNNNNN.png) replace earlier previews by design, never an input.
    const auto preview_dir = o.preview_dir.empty() ? (out_dir.empty() ? fs::path(".") : out_dir) : fs::path(o.preview_dir);
    if (o.preview_every > 0)
        for (const auto& input : inputs) {
            const fs::path path(input.path);
            const auto folder = path.parent_path().empty() ? fs::path(".") : path.parent_path();
            if (path.filename().string().rfind("preview_step_", 0) == 0 && path.extension() == ".png" &&
                same_file(folder.string(), preview_dir.string()))
                throw UsageError("--preview-every writes preview_step_NNNNNN.png into " + preview_dir.string() +
                                 ", which would replace " + input.what + " " + input.path +
                                 ": choose another --preview-dir");
        }
    auto clip = core::load_clip(clip_path, device);
    const int64_t patch = clip.info.config.vision.patch_size;
    if (o.crop < 2 * patch || o.crop % patch != 0)
        throw UsageError("--crop " + std::to_string(o.crop) + ": use a multiple of the CLIP model's patch size (" +
                         std::to_string(patch) + "), at least " + std::to_string(2 * patch));
    TrainingCrops crops(paths, o.read, o.crop, o.min_valid, o.trainer.seed);
    report.images = crops.image_count();
    const int threads = o.threads > 0 ? o.threads : core::default_thread_count();
    core::set_threads(threads);

    // Shared with the thread that runs each step, which a cancellation may leave running.
    const auto trainer_ptr = std::make_shared<core::UpsamplerTrainer>(clip.model, trainer_options, device);
    auto& trainer = *trainer_ptr;
    int64_t total = planned_steps(o, crops);
    if (!o.resume.empty()) {
        const auto metadata = trainer.load_checkpoint(o.resume);
        const auto sampler = metadata.find("crop_sampler");
        if (sampler == metadata.end()) throw FileError(o.resume + ": the checkpoint has no crop sampler state");
        crops.restore(sampler->second);
        if (!o.steps && !o.epochs && metadata.count("total_steps"))
            total = std::stoll(metadata.at("total_steps"));
    }
    report.first_step = report.last_step = trainer.steps_done();
    report.total_steps = total;
    if (trainer.steps_done() >= total)
        throw UsageError("the checkpoint is at step " + std::to_string(trainer.steps_done()) +
                         ", the run has " + std::to_string(total) + " steps: ask for more with --steps");

    if (o.preview_every > 0) fs::create_directories(preview_dir);
    if (!o.resume.empty()) truncate_log_after(o.log_csv, trainer.steps_done());
    CsvLog log(o.log_csv, !o.resume.empty());
    const auto clip_name = clip_path.filename().string(), clip_crc32 = core::file_crc32(clip_path);
    // The state after the last finished step and the sampler's after its batch: what a
    // cancellation during the next step saves, so that --resume continues the same curve.
    auto finished = trainer.snapshot();
    auto finished_sampler = crops.state();
    int64_t saved_step = trainer.steps_done();
    std::string saved_to = o.resume;  // where the state at saved_step is
    const auto save = [&] {
        core::UpsamplerTrainer::write_checkpoint(checkpoint, finished,
                                                 {{"crop_sampler", finished_sampler},
                                                  {"total_steps", std::to_string(total)},
                                                  {"clip", clip_name},
                                                  {"clip_crc32", clip_crc32}});
        core::save_upsampler(o.out, finished.upsampler, finished.feature_dim,
                             {{"trained_by", "segearth train"},
                              {"steps", std::to_string(finished.step)},
                              {"clip", clip_name},
                              {"clip_crc32", clip_crc32}});
        saved_step = finished.step;
        saved_to = checkpoint;
    };

    AbandonableWorker step_worker;
    const Stopwatch clock;
    torch::Tensor preview_image;
    std::vector<double> reconstruction, mse;
    int64_t images = 0;
    while (trainer.steps_done() < total) {
        const Stopwatch reading;
        const auto batch = crops.next_batch(o.batch);
        const double data_seconds = reading.seconds();
        if (!preview_image.defined()) preview_image = batch.slice(0, 0, 1).clone();

        // A step on a real model takes minutes: it runs on its own thread, and a Ctrl-C during it
        // saves the last finished step and returns at once, leaving the step in flight behind.
        const auto step_started = static_cast<double>(trainer.steps_done()) / static_cast<double>(total);
        auto result = step_worker.run<core::StepResult>(
            [trainer_ptr, batch, threads] {
                core::set_threads(threads);
                return trainer_ptr->step(batch);
            },
            [&] { return !progress || progress(step_started, ""); });
        if (!result) {
            if (finished.step > saved_step) save();
            const auto next = std::to_string(finished.step + 1);
            throw Cancelled(saved_to.empty() ? "interrupted during step " + next + ": nothing was written"
                                             : "interrupted during step " + next + ", which is dropped; continue from step " +
                                                   std::to_string(saved_step) + " with --resume " + saved_to);
        }
        StepProgress done;
        done.step = *result;
        finished = trainer.snapshot();
        finished_sampler = crops.state();
        done.data_seconds = data_seconds;
        done.total_steps = total;
        images += o.batch;
        report.last_step = done.step.step;
        const double elapsed = clock.seconds();
        done.images_per_second = static_cast<double>(images) / elapsed;
        done.eta_seconds = elapsed / static_cast<double>(report.last_step - report.first_step) *
                           static_cast<double>(total - report.last_step);
        add(report.timings, done.step.timings);
        report.data_seconds += data_seconds;
        reconstruction.push_back(done.step.reconstruction);
        mse.push_back(done.step.projected_mse);
        log.write(done);

        const int64_t step = done.step.step;
        if (o.preview_every > 0 && (step % o.preview_every == 0 || step == total)) {
            char name[64];
            std::snprintf(name, sizeof name, "preview_step_%06lld.png", static_cast<long long>(step));
            write_preview((preview_dir / name).string(), trainer.preview(preview_image));
        }
        const bool line = step % o.log_every == 0 || step == total || step == report.first_step + 1;
        const bool keep_going =
            !progress || progress(static_cast<double>(step) / static_cast<double>(total), line ? step_line(done) : "");
        if (step % o.checkpoint_every == 0 || step == total || !keep_going) save();
        // After the checkpoint: --resume continues from here.
        if (!keep_going)
            throw Cancelled("interrupted at step " + std::to_string(step) + "; continue with --resume " + checkpoint);
    }
    report.seconds = clock.seconds();
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

}  // namespace

TrainReport train(const TrainOptions& options, const Progress& progress) {
    return with_project_errors([&] { return run_train(options, progress); });
}

}  // namespace segearth::pipeline
