#include "command_train.hpp"

#include "cli_options.hpp"
#include "cli_progress.hpp"

#include <segearth/pipeline/train.hpp>

#include <cstdio>

namespace segearth::cli {
namespace {

int run_train(const std::vector<std::string>& args) {
    CommonOptions common;
    const auto o = parse_command(pipeline::train_command(), args, common);
    if (!o) return 0;
    const auto r = pipeline::train(*o, message_progress(common.quiet));
    if (common.quiet) return 0;
    const auto& t = r.timings;
    std::fprintf(stderr,
                 "%s: steps %lld..%lld of %lld on %s in %s (%zu images) in %.1f s, %.3g images/s "
                 "(CLIP %.1f s, upsampler forward %.1f s, losses %.1f s, backward %.1f s, optimizer %.1f s, "
                 "data %.1f s); mean of the first and last 10 steps: reconstruction loss %.5g -> %.5g, "
                 "projected MSE %.5g -> %.5g\n"
                 "checkpoint: %s\n",
                 r.out.c_str(), static_cast<long long>(r.first_step + 1), static_cast<long long>(r.last_step),
                 static_cast<long long>(r.total_steps), r.device.c_str(), r.precision.c_str(), r.images, r.seconds,
                 r.images_per_second,
                 t.clip, t.upsampler_forward, t.losses, t.backward, t.optimizer, r.data_seconds,
                 r.reconstruction_start, r.reconstruction_end, r.projected_mse_start, r.projected_mse_end,
                 r.checkpoint.c_str());
    if (r.crops_rejected > 0)
        std::fprintf(stderr, "note: %lld random crops were drawn again for having less than --min-valid valid pixels\n",
                     static_cast<long long>(r.crops_rejected));
    return 0;
}

}  // namespace

const Command train_command{"train", run_train, pipeline::train_command().summary};

}  // namespace segearth::cli
