#include "command_train.hpp"

#include "cli_options.hpp"
#include "cli_progress.hpp"
#include "cli_scene_input.hpp"

#include <segearth/error.hpp>
#include <segearth/pipeline/train.hpp>

#include <cstdio>
#include <string>

namespace po = boost::program_options;

namespace segearth::cli {
namespace {

po::options_description train_options() {
    const core::TrainerOptions t;
    po::options_description model("Model and data");
    model.add_options()
        ("clip", po::value<std::string>()->value_name("PATH"),
         "CLIP weights the upsampler is for (default: $SEGEARTH_CLIP, then ViT-B-16.pt in the data folders)")
        ("images", po::value<std::vector<std::string>>()->multitoken()->composing()->value_name("SOURCE..."),
         "training imagery: rasters GDAL reads, folders of them (searched recursively), or .txt/.lst files "
         "listing them; no labels needed")
        ("crop", po::value<int64_t>()->value_name("PX")->default_value(224), "random crop size on the working grid")
        ("min-valid", po::value<double>()->value_name("F")->default_value(0.5, "0.5"),
         "crops with a smaller fraction of valid (not nodata) pixels are drawn again");
    auto input = scene_input_options();
    po::options_description training("Training (METHOD.md 7; defaults are the paper's)");
    training.add_options()
        ("steps", po::value<int64_t>()->value_name("N"), "optimizer steps")
        ("epochs", po::value<double>()->value_name("E"),
         "or: passes over the images' area in crops (default 1)")
        ("batch", po::value<int64_t>()->value_name("N")->default_value(4), "crops per step")
        ("lr", po::value<double>()->value_name("R")->default_value(t.optimizer.lr, "1e-3"), "NAdam learning rate")
        ("jitters", po::value<int64_t>()->value_name("N")->default_value(t.n_jitters), "jitters per step")
        ("max-pad", po::value<int64_t>()->value_name("PX")->default_value(t.jitter.max_pad), "jitter reflection padding")
        ("max-zoom", po::value<double>()->value_name("Z")->default_value(t.jitter.max_zoom, "2"), "largest jitter zoom")
        ("no-flips", "no horizontal flips in the jitter")
        ("projection-dim", po::value<int64_t>()->value_name("N")->default_value(t.projection_dim),
         "width of the random projection in the reconstruction loss")
        ("image-weight", po::value<double>()->value_name("G")->default_value(t.image_weight, "0.1"),
         "weight of the content retention loss")
        ("clip-grad-steps", po::value<int64_t>()->value_name("N")->default_value(t.clip_grad_steps),
         "clip the gradient norm in the first N steps ...")
        ("clip-grad-norm", po::value<double>()->value_name("X")->default_value(t.clip_grad_norm, "1e-4"), "... to X")
        ("seed", po::value<uint64_t>()->value_name("N")->default_value(0), "random seed (a CPU run is reproducible)");
    po::options_description output("Output");
    output.add_options()
        ("out", po::value<std::string>()->value_name("UPSAMPLER"),
         "the trained upsampler (.safetensors), for segment --upsampler; a resumable checkpoint "
         "NAME.resume.safetensors is written beside it")
        ("resume", po::value<std::string>()->value_name("CHECKPOINT"), "continue from a .resume.safetensors checkpoint")
        ("checkpoint-every", po::value<int64_t>()->value_name("N")->default_value(100), "steps between checkpoints")
        ("log", po::value<std::string>()->value_name("FILE.csv"), "a CSV line per step: losses, speed, time split")
        ("log-every", po::value<int64_t>()->value_name("N")->default_value(10), "steps between progress lines")
        ("preview-every", po::value<int64_t>()->value_name("N")->default_value(0),
         "every N steps a PNG: image | CLIP features | upsampled features (PCA colours)")
        ("preview-dir", po::value<std::string>()->value_name("DIR"), "where the PNGs go (default: beside --out)")
        ("overwrite", "replace existing outputs");
    po::options_description run("Running");
    run.add_options()
        ("device", po::value<std::string>()->value_name("auto|cpu|cuda[:N]")->default_value("auto"), "where training runs")
        ("threads", po::value<int>()->value_name("N"), "CPU threads (default: all cores)")
        ("help,h", "show this help");
    po::options_description all;
    all.add(model).add(input).add(training).add(output).add(run);
    return all;
}

std::string duration(double seconds) {
    if (!(seconds >= 0) || seconds > 1e8) return "?";
    const auto s = static_cast<long long>(seconds + 0.5);
    char text[32];
    if (s >= 3600) std::snprintf(text, sizeof text, "%lldh%02lldm", s / 3600, s % 3600 / 60);
    else if (s >= 60) std::snprintf(text, sizeof text, "%lldm%02llds", s / 60, s % 60);
    else std::snprintf(text, sizeof text, "%llds", s);
    return text;
}

int run_train(const std::vector<std::string>& arguments) {
    auto args = arguments;
    const auto common = take_common_options(args);
    const auto options = train_options();
    const auto vm = parse_command_line("train", args, options, {});
    if (vm.count("help")) {
        print_command_help("train", "--images SOURCE... --out UPSAMPLER.safetensors [--clip CLIP] [options]",
                           "Trains a SimFeatUp (jbu_one) upsampler for a CLIP model on unlabelled imagery: random "
                           "crops read through GDAL, CLIP frozen, the paper's multi-view reconstruction and content "
                           "retention losses. Ctrl-C saves a checkpoint that --resume continues.",
                           options);
        return 0;
    }
    pipeline::TrainOptions o;
    if (vm.count("clip")) o.clip = vm["clip"].as<std::string>();
    if (vm.count("images")) o.images = vm["images"].as<std::vector<std::string>>();
    if (vm.count("out")) o.out = vm["out"].as<std::string>();
    if (vm.count("resume")) o.resume = vm["resume"].as<std::string>();
    o.read = scene_read_options(vm);
    o.crop = vm["crop"].as<int64_t>();
    o.min_valid = vm["min-valid"].as<double>();
    if (vm.count("steps")) o.steps = vm["steps"].as<int64_t>();
    if (vm.count("epochs")) o.epochs = vm["epochs"].as<double>();
    if (vm.count("steps") && o.steps < 1) throw UsageError("--steps must be at least 1");
    if (vm.count("epochs") && !(o.epochs > 0)) throw UsageError("--epochs must be positive");
    o.batch = vm["batch"].as<int64_t>();
    o.trainer.optimizer.lr = vm["lr"].as<double>();
    o.trainer.n_jitters = vm["jitters"].as<int64_t>();
    o.trainer.jitter.max_pad = vm["max-pad"].as<int64_t>();
    o.trainer.jitter.max_zoom = vm["max-zoom"].as<double>();
    o.trainer.jitter.flips = vm.count("no-flips") == 0;
    o.trainer.projection_dim = vm["projection-dim"].as<int64_t>();
    o.trainer.image_weight = vm["image-weight"].as<double>();
    o.trainer.clip_grad_steps = vm["clip-grad-steps"].as<int64_t>();
    o.trainer.clip_grad_norm = vm["clip-grad-norm"].as<double>();
    o.trainer.seed = vm["seed"].as<uint64_t>();
    o.checkpoint_every = vm["checkpoint-every"].as<int64_t>();
    if (vm.count("log")) o.log_csv = vm["log"].as<std::string>();
    o.preview_every = vm["preview-every"].as<int64_t>();
    if (vm.count("preview-dir")) o.preview_dir = vm["preview-dir"].as<std::string>();
    o.overwrite = vm.count("overwrite") > 0;
    o.device = vm["device"].as<std::string>();
    if (vm.count("threads")) o.threads = vm["threads"].as<int>();
    const int64_t log_every = vm["log-every"].as<int64_t>();
    if (log_every < 1) throw UsageError("--log-every must be at least 1");

    install_interrupt_handler();
    const auto checkpoint = pipeline::checkpoint_path(o.out);
    const auto on_step = [&](const pipeline::TrainProgress& p) {
        const auto& s = p.step;
        if (!common.quiet && (s.step % log_every == 0 || s.step == p.total_steps || s.step == 1))
            std::fprintf(stderr, "step %lld/%lld  loss %.5g (reconstruction %.5g, image %.5g; projected MSE %.4g)  %.3g images/s  ETA %s\n",
                         static_cast<long long>(s.step), static_cast<long long>(p.total_steps), s.loss,
                         s.reconstruction, s.image, s.projected_mse, p.images_per_second, duration(p.eta_seconds).c_str());
        if (interrupted()) {
            std::fprintf(stderr, "segearth: interrupted at step %lld; continue with --resume %s\n",
                         static_cast<long long>(s.step), checkpoint.c_str());
            return false;
        }
        return true;
    };
    const auto r = pipeline::train(o, on_step);
    if (!common.quiet) {
        const auto& t = r.timings;
        std::fprintf(stderr,
                     "%s: steps %lld..%lld of %lld on %s (%zu images) in %.1f s, %.3g images/s "
                     "(CLIP %.1f s, upsampler forward %.1f s, losses %.1f s, backward %.1f s, optimizer %.1f s, "
                     "data %.1f s); mean of the first and last 10 steps: reconstruction loss %.5g -> %.5g, "
                     "projected MSE %.5g -> %.5g\n"
                     "checkpoint: %s\n",
                     r.out.c_str(), static_cast<long long>(r.first_step + 1), static_cast<long long>(r.last_step),
                     static_cast<long long>(r.total_steps), r.device.c_str(), r.images, r.seconds,
                     r.images_per_second, t.clip, t.upsampler_forward, t.losses, t.backward, t.optimizer,
                     r.data_seconds, r.reconstruction_start, r.reconstruction_end, r.projected_mse_start,
                     r.projected_mse_end, r.checkpoint.c_str());
        if (r.crops_rejected > 0)
            std::fprintf(stderr, "note: %lld random crops were drawn again for having less than --min-valid valid "
                                 "pixels\n", static_cast<long long>(r.crops_rejected));
    }
    return 0;
}

}  // namespace

const Command train_command{"train", "train a SimFeatUp upsampler for a CLIP model on unlabelled imagery", run_train};

}  // namespace segearth::cli
