// Separable resampling with fixed taps: every output pixel a weighted sum of K source rows, then of K
// source columns, with the indices and weights given per output row and column. The jitter (K = 2,
// bilinear through reflection padding and zoom) and the downsampler's Gaussian blur (K = 5, reflected
// borders) are both this. Differentiable; on the CPU a parallel kernel with its transpose as the
// backward (torch's index_add and depthwise-convolution backwards ran serially and took ~1 s per
// 512-channel 224 px image), elsewhere torch operators.
#pragma once

#include "reflect_index.hpp"

#include <torch/types.h>

#include <vector>

namespace segearth::core {

struct ResampleAxis {
    torch::Tensor index;   ///< (n, K) int64 source pixels, CPU
    torch::Tensor weight;  ///< (n, K) float64 weights, CPU
};

/// Fills an axis from per-output taps: index[i][k], weight[i][k].
ResampleAxis resample_axis(const std::vector<std::vector<int64_t>>& index, const std::vector<std::vector<double>>& weight);

/// x (N, C, H, W) -> (N, C, rows.n, cols.n).
torch::Tensor separable_resample(const torch::Tensor& x, const ResampleAxis& rows, const ResampleAxis& cols);

}  // namespace segearth::core
