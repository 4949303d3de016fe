#include <segearth/core/training/jitter.hpp>

#include <torch/torch.h>

#include <cmath>

namespace segearth::core {
namespace {

namespace F = torch::nn::functional;

// Size of a side of `padded` pixels zoomed by z, as interpolate(scale_factor=z) computes it.
int64_t zoomed_size(int64_t padded, double zoom) { return static_cast<int64_t>(std::floor(padded * zoom)); }

// grid_sample coordinates (align_corners false, in [-1, 1]) that sample output pixels
// [offset, offset + n) of a side of `size` pixels zoomed by z: interpolate's source index
// max(0, (i + 0.5) / z - 0.5); the upper end is clamped by the border padding mode, as interpolate
// clamps its right neighbour.
torch::Tensor grid_axis(int64_t offset, int64_t n, int64_t size, double zoom, const torch::TensorOptions& options) {
    const auto i = torch::arange(offset, offset + n, options.dtype(torch::kFloat64));
    const auto source = ((i + 0.5) / zoom - 0.5).clamp_min(0.0);
    return ((2 * source + 1) / static_cast<double>(size) - 1).to(options.dtype());
}

}  // namespace

Jitter sample_jitter(std::mt19937_64& rng, int64_t height, int64_t width, const JitterOptions& options) {
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    Jitter j;
    j.flip = options.flips && unit(rng) > 0.5;
    if (unit(rng) > 0.5) j.zoom = 1.0 + unit(rng) * (options.max_zoom - 1.0);
    const int64_t rows = zoomed_size(height + 2 * options.max_pad, j.zoom) - height + 1;
    const int64_t cols = zoomed_size(width + 2 * options.max_pad, j.zoom) - width + 1;
    j.row = std::uniform_int_distribution<int64_t>(0, rows - 1)(rng);
    j.col = std::uniform_int_distribution<int64_t>(0, cols - 1)(rng);
    return j;
}

torch::Tensor apply_jitter(const torch::Tensor& x, const Jitter& jitter, int64_t max_pad) {
    TORCH_CHECK(x.dim() == 4, "apply_jitter expects (N, C, H, W), got ", x.sizes());
    const int64_t h = x.size(2), w = x.size(3);
    TORCH_CHECK(h > max_pad && w > max_pad, "the jitter's reflection padding of ", max_pad, " needs more than ",
                max_pad, " pixels a side, got ", h, " x ", w);
    const auto padded = max_pad > 0 ? F::pad(x, F::PadFuncOptions({max_pad, max_pad, max_pad, max_pad})
                                                    .mode(torch::kReflect))
                                    : x;
    const int64_t ph = padded.size(2), pw = padded.size(3);
    TORCH_CHECK(jitter.row >= 0 && jitter.col >= 0 && jitter.row + h <= zoomed_size(ph, jitter.zoom) &&
                    jitter.col + w <= zoomed_size(pw, jitter.zoom),
                "jitter crop (", jitter.row, ", ", jitter.col, ") at zoom ", jitter.zoom, " leaves the ", ph, " x ",
                pw, " padded map");
    torch::Tensor cropped;
    if (jitter.zoom == 1.0) {
        cropped = padded.slice(2, jitter.row, jitter.row + h).slice(3, jitter.col, jitter.col + w);
    } else {
        const auto gy = grid_axis(jitter.row, h, ph, jitter.zoom, x.options());
        const auto gx = grid_axis(jitter.col, w, pw, jitter.zoom, x.options());
        const auto grid = torch::stack({gx.view({1, w}).expand({h, w}), gy.view({h, 1}).expand({h, w})}, -1)
                              .unsqueeze(0)
                              .expand({x.size(0), h, w, 2});
        cropped = F::grid_sample(padded, grid, F::GridSampleFuncOptions()
                                                   .mode(torch::kBilinear)
                                                   .padding_mode(torch::kBorder)
                                                   .align_corners(false));
    }
    return jitter.flip ? cropped.flip({3}) : cropped;
}

}  // namespace segearth::core
