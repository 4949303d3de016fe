// train's options, declared once.
#include <segearth/pipeline/train.hpp>

namespace segearth::pipeline {
namespace {

void declare_data(options::OptionTable<TrainOptions>& t) {
    t.group("Model and data");
    t.text("clip", &TrainOptions::clip)
        .value_name("PATH")
        .input_path()
        .help("CLIP weights the upsampler is for (default: $SEGEARTH_CLIP, then ViT-B-16.pt in the data folders)");
    t.texts("images", &TrainOptions::images)
        .values_per_use(0)
        .value_name("SOURCE...")
        .input_path(options::FileKind::raster)
        .help("training imagery: rasters GDAL reads, folders of them (searched recursively), or .txt/.lst files "
              "listing them; no labels needed");
    t.integer("crop", &TrainOptions::crop).value_name("PX").unit("px").help("random crop size on the working grid");
    t.number("min-valid", &TrainOptions::min_valid)
        .value_name("F")
        .above(0)
        .at_most(1)
        .help("crops with a smaller fraction of valid (not nodata) pixels are drawn again");
    t.include(geo::scene_read_option_table(), &TrainOptions::read);
}

void declare_training(options::OptionTable<TrainOptions>& t) {
    t.group("Training (METHOD.md 7; defaults are the paper's)");
    t.integer("steps", &TrainOptions::steps).value_name("N").at_least(1).help("optimizer steps");
    t.number("epochs", &TrainOptions::epochs)
        .value_name("E")
        .above(0)
        .help("or: passes over the images' area in crops (default 1)");
    t.integer("batch", &TrainOptions::batch).value_name("N").at_least(1).help("crops per step");
    t.number("lr", [](auto& o) -> auto& { return o.trainer.optimizer.lr; }).value_name("R").above(0)
        .help("NAdam learning rate");
    t.integer("jitters", [](auto& o) -> auto& { return o.trainer.n_jitters; }).value_name("N").at_least(1)
        .help("jitters per step");
    t.integer("max-pad", [](auto& o) -> auto& { return o.trainer.jitter.max_pad; })
        .value_name("PX")
        .unit("px")
        .at_least(0)
        .message("--max-pad must be between 0 and the crop size")
        .help("jitter reflection padding (less than the crop size)");
    t.number("max-zoom", [](auto& o) -> auto& { return o.trainer.jitter.max_zoom; }).value_name("Z").at_least(1)
        .help("largest jitter zoom");
    t.flag("no-flips", [](auto& o) -> auto& { return o.trainer.jitter.flips; }, false)
        .help("no horizontal flips in the jitter");
    t.integer("projection-dim", [](auto& o) -> auto& { return o.trainer.projection_dim; }).value_name("N").at_least(1)
        .help("width of the random projection in the reconstruction loss");
    t.number("image-weight", [](auto& o) -> auto& { return o.trainer.image_weight; }).value_name("G").at_least(0)
        .help("weight of the content retention loss");
    t.integer("clip-grad-steps", [](auto& o) -> auto& { return o.trainer.clip_grad_steps; })
        .value_name("N")
        .at_least(0)
        .help("clip the gradient norm in the first N steps ...");
    t.number("clip-grad-norm", [](auto& o) -> auto& { return o.trainer.clip_grad_norm; })
        .value_name("X")
        .above(0)
        .message("--clip-grad-steps must not be negative and --clip-grad-norm must be positive")
        .help("... to X");
    t.integer("seed", [](auto& o) -> auto& { return o.trainer.seed; }).value_name("N").at_least(0)
        .help("random seed (a CPU run is reproducible)");
}

void declare_output(options::OptionTable<TrainOptions>& t) {
    t.group("Output");
    t.text("out", &TrainOptions::out)
        .value_name("UPSAMPLER")
        .output_path()
        .help("the trained upsampler (.safetensors), for segment --upsampler; a resumable checkpoint "
              "NAME.resume.safetensors is written beside it");
    t.text("resume", &TrainOptions::resume)
        .value_name("CHECKPOINT")
        .input_path()
        .help("continue from a .resume.safetensors checkpoint");
    t.integer("checkpoint-every", &TrainOptions::checkpoint_every).value_name("N").at_least(1)
        .help("steps between checkpoints");
    t.text("log", &TrainOptions::log_csv)
        .value_name("FILE.csv")
        .output_path()
        .help("a CSV line per step: losses, speed, time split");
    t.integer("log-every", &TrainOptions::log_every).value_name("N").at_least(1).help("steps between progress lines");
    t.integer("preview-every", &TrainOptions::preview_every)
        .value_name("N")
        .at_least(0)
        .help("every N steps a PNG: image | CLIP features | upsampled features (PCA colours); 0: none");
    t.text("preview-dir", &TrainOptions::preview_dir)
        .value_name("DIR")
        .output_path(options::FileKind::folder)
        .help("where the PNGs go (default: beside --out)");
    t.flag("overwrite", &TrainOptions::overwrite).help("replace existing outputs");
}

void declare_running(options::OptionTable<TrainOptions>& t) {
    t.group("Running");
    t.custom("device", options::ValueType::text,
             [](TrainOptions& o, const std::vector<std::string>& v) { o.device = DeviceChoice::parse(v.back()); },
             [](const TrainOptions& o) -> std::optional<std::string> { return o.device.name(); })
        .value_name("auto|cpu|cuda[:N]")
        .help("where training runs");
    t.choice("precision", &TrainOptions::precision, core::precision_choices())
        .value_name("auto|fp32|bf16")
        .help("number format of the largest matrix products (CLIP, the kernel fix-ups, the content retention "
              "net), with float32 weights and optimiser: fp32, bf16 (mixed precision, for CUDA and CPUs with "
              "native bf16, see segearth info --system) or auto: bf16 on CUDA, fp32 on the CPU");
    t.integer("threads", &TrainOptions::threads).value_name("N").at_least(0).help("CPU threads (0: all cores)");
}

options::Command<TrainOptions> make_command() {
    options::Command<TrainOptions> c{
        "train",
        "train a SimFeatUp upsampler for a CLIP model on unlabelled imagery",
        "--images SOURCE... --out UPSAMPLER.safetensors [--clip CLIP] [options]",
        "Trains a SimFeatUp (jbu_one) upsampler for a CLIP model on unlabelled imagery: random crops read through "
        "GDAL, CLIP frozen, the paper's multi-view reconstruction and content retention losses. Ctrl-C saves a "
        "checkpoint that --resume continues.",
        {}};
    declare_data(c.options);
    declare_training(c.options);
    declare_output(c.options);
    declare_running(c.options);
    return c;
}

}  // namespace

const options::Command<TrainOptions>& train_command() {
    static const auto command = make_command();
    return command;
}

void validate(const TrainOptions& o) {
    if (o.images.empty()) throw UsageError("train needs --images: raster files, folders of them, or list files");
    if (o.out.empty()) throw UsageError("train needs --out: where to write the trained upsampler (.safetensors)");
    train_command().options.check(o);
    geo::validate(o.read);
    if (o.steps && o.epochs) throw UsageError("give --steps or --epochs, not both");
    if (o.trainer.jitter.max_pad >= o.crop) throw UsageError("--max-pad must be between 0 and the crop size");
}

}  // namespace segearth::pipeline
