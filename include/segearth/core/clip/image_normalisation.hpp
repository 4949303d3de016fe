// CLIP's image normalisation (METHOD.md 1): what every window and training crop goes through.
#pragma once

#include <torch/types.h>

namespace segearth::core {

/// RGB in [0, 1], (N, 3, H, W) -> float32 (x - mean) / std with CLIP's per-channel constants.
torch::Tensor normalise_clip_image(const torch::Tensor& rgb01);

}  // namespace segearth::core
