// A program calling the library gets the CLI user's messages: each entry point validates its
// options (declared ranges, finiteness, the rules between options) before any file is touched.
// The same messages are checked against the binary in tests/cli.
#include <segearth/error.hpp>
#include <segearth/geo/vectorize.hpp>
#include <segearth/pipeline/segment.hpp>
#include <segearth/pipeline/train.hpp>

#include "with_project_errors.hpp"

#include <c10/util/Exception.h>
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

namespace {

using segearth::UsageError;

template <class Options, class Run>
void check_messages(const Options& base, Run run,
                    const std::vector<std::pair<std::function<void(Options&)>, std::string>>& cases) {
    for (const auto& [change, message] : cases) {
        CAPTURE(message);
        auto o = base;
        change(o);
        CHECK_THROWS_WITH_AS(run(o), message.c_str(), UsageError);
    }
}

}  // namespace

TEST_CASE("segment() refuses each bad option with the CLI's message, before touching any file") {
    segearth::pipeline::SegmentOptions base;
    base.input = "/nonexistent/in.tif";
    base.output = "/nonexistent/out.tif";
    base.classes.classes = "a;b";
    const double nan = std::nan(""), inf = HUGE_VAL;
    using O = segearth::pipeline::SegmentOptions;
    check_messages<O>(base, [](const O& o) { return segearth::pipeline::segment(o); },
                      {{[](O& o) { o.input.clear(); }, "segment needs INPUT and OUTPUT, or --inputs and --output-dir (see segearth segment --help)"},
                       {[](O& o) { o.streaming.batch = -1; }, "--batch must be auto or at least 1"},
                       {[](O& o) { o.streaming.ram_mb = 10; }, "--ram 10: give at least 64 (MB)"},
                       {[](O& o) { o.streaming.window = 0; }, "--window must be at least 1 pixel"},
                       {[](O& o) { o.streaming.window = 112, o.streaming.stride = 112; },
                        "--stride 112 with --window 112: the stride must be at least 1 and smaller than the window, "
                        "or windows would leave gaps (the paper uses --window 224 --stride 112)"},
                       {[&](O& o) { o.classes.cls_lambda = nan; }, "--cls-lambda nan: give a finite number"},
                       {[&](O& o) { o.logit_scale = inf; }, "--logit-scale inf: give a finite number"},
                       {[](O& o) { o.logit_scale = 0; }, "--logit-scale must be positive"},
                       {[](O& o) { o.classes.prob_threshold = 1.5; }, "--prob-threshold must be in [0, 1]"},
                       {[](O& o) { o.classes.bg_index = -1; }, "--bg-index must not be negative"},
                       {[](O& o) { o.threads = -1; }, "--threads must not be negative"},
                       {[](O& o) { o.read.bands = {1, 0, 2}; }, "-b 0: bands are numbered from 1"}});
}

TEST_CASE("train() refuses each bad option with the CLI's message, before touching any file") {
    segearth::pipeline::TrainOptions base;
    base.images = {"/nonexistent/tiles"};
    base.out = "/nonexistent/up.safetensors";
    base.crop = 64;
    using O = segearth::pipeline::TrainOptions;
    check_messages<O>(base, [](const O& o) { return segearth::pipeline::train(o); },
                      {{[](O& o) { o.images.clear(); }, "train needs --images: raster files, folders of them, or list files"},
                       {[](O& o) { o.batch = 0; }, "--batch must be at least 1"},
                       {[](O& o) { o.steps = 0; }, "--steps must be at least 1"},
                       {[](O& o) { o.epochs = 0; }, "--epochs must be positive"},
                       {[](O& o) { o.steps = 3, o.epochs = 1; }, "give --steps or --epochs, not both"},
                       {[](O& o) { o.min_valid = 1.5; }, "--min-valid must be in (0, 1]"},
                       {[](O& o) { o.trainer.n_jitters = 0; }, "--jitters must be at least 1"},
                       {[](O& o) { o.trainer.jitter.max_pad = 64; }, "--max-pad must be between 0 and the crop size"},
                       {[](O& o) { o.trainer.jitter.max_zoom = 0.5; }, "--max-zoom must be at least 1"},
                       {[](O& o) { o.trainer.optimizer.lr = 0; }, "--lr must be positive"},
                       {[](O& o) { o.trainer.image_weight = -1; }, "--image-weight must not be negative"},
                       {[](O& o) { o.trainer.clip_grad_norm = 0; },
                        "--clip-grad-steps must not be negative and --clip-grad-norm must be positive"},
                       {[](O& o) { o.checkpoint_every = 0; }, "--checkpoint-every must be at least 1"},
                       {[](O& o) { o.log_every = 0; }, "--log-every must be at least 1"},
                       {[](O& o) { o.preview_every = -1; }, "--preview-every must not be negative"},
                       {[](O& o) { o.threads = -1; }, "--threads must not be negative"}});
}

TEST_CASE("vectorize() refuses each bad option with the CLI's message, before touching any file") {
    segearth::geo::VectorizeOptions base;
    base.input = "/nonexistent/classes.tif";
    base.output = "/nonexistent/out.gpkg";
    using O = segearth::geo::VectorizeOptions;
    check_messages<O>(base, [](const O& o) { return segearth::geo::vectorize(o); },
                      {{[](O& o) { o.output.clear(); }, "vectorize needs CLASSES.tif and OUT.gpkg (see segearth vectorize --help)"},
                       {[](O& o) { o.min_area_m2 = -1; }, "--min-area must not be negative"},
                       {[](O& o) { o.simplify_m = std::nan(""); }, "--simplify nan: give a finite number"},
                       {[](O& o) { o.smooth = 6; }, "--smooth takes 1 to 5 passes"},
                       {[](O& o) { o.smooth = 2, o.regularize = true; },
                        "give --regularize (buildings) or --smooth (natural classes), not both"},
                       {[](O& o) { o.overwrite = o.append = true; }, "give either --overwrite or --append, not both"}});
}

TEST_CASE("a failed TORCH_CHECK leaves the pipeline as the project's Error, without libtorch's backtrace") {
    const auto failing = [] {
        TORCH_CHECK(false, "expected a (3, H, W) image, got ", 4, " dimensions");
        return 0;
    };
    try {
        segearth::pipeline::with_project_errors(failing);
        FAIL("no exception");
    } catch (const segearth::UsageError&) {
        FAIL("a torch failure is no usage error");
    } catch (const segearth::Error& e) {
        CHECK(std::string(e.what()) == "expected a (3, H, W) image, got 4 dimensions");
    }
}
