// The random geometric jitter of SimFeatUp's training (METHOD.md 7, step 2): reflect-pad, zoom, crop,
// flip. The same jitter is applied to the image and to the upsampled features, so their pixels stay
// in register.
//
//   std::mt19937_64 rng(seed);
//   Jitter j = sample_jitter(rng, 224, 224, {});
//   auto image_j = apply_jitter(image, j, 20);    // (N, C, H, W) -> (N, C, H, W)
//   auto upsampled_j = apply_jitter(upsampled, j, 20);
#pragma once

#include <segearth/core/training/trainer_options.hpp>

#include <torch/types.h>

#include <cstdint>
#include <random>

namespace segearth::core {

struct Jitter {
    double zoom = 1.0;
    int64_t row = 0, col = 0;  ///< top-left corner of the crop in the padded, zoomed map
    bool flip = false;
};

/// Draws a jitter for an H x W map: crop offsets uniform over every position where an H x W window
/// fits in the padded map zoomed by z (its size floor((H + 2 pad) z) as torch's interpolate gives).
Jitter sample_jitter(std::mt19937_64& rng, int64_t height, int64_t width, const JitterOptions& options);

/// Applies `jitter` to (N, C, H, W): reflect-pad by `max_pad`, bilinear zoom (align_corners false,
/// sampling by the scale factor, as interpolate(scale_factor=z)), crop H x W at (row, col), flip.
/// Computed per axis, each output a blend of two gathered pixels: the padded and zoomed maps are
/// never built. Differentiable.
torch::Tensor apply_jitter(const torch::Tensor& x, const Jitter& jitter, int64_t max_pad);

}  // namespace segearth::core
