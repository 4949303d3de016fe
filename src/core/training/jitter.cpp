#include <segearth/core/training/jitter.hpp>

#include "training/separable_resample.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace segearth::core {
namespace {

// Size of a side of `padded` pixels zoomed by z, as interpolate(scale_factor=z) computes it.
int64_t zoomed_size(int64_t padded, double zoom) { return static_cast<int64_t>(std::floor(padded * zoom)); }

// The jitter along one axis: output pixels [offset, offset + n) of a side of `size` pixels,
// reflect-padded by `pad` and zoomed by z, each a blend of two pixels of the unpadded side.
// interpolate(scale_factor=z) samples padded index max(0, (i + 0.5) / z - 0.5) between its two
// neighbours, the right one clamped to the last padded pixel; padded index p shows pixel
// reflect(p - pad). Reversed for a flip.
ResampleAxis jitter_axis(int64_t offset, int64_t n, int64_t size, int64_t pad, double zoom, bool flip) {
    const int64_t last = size + 2 * pad - 1;
    std::vector<std::vector<int64_t>> index(static_cast<size_t>(n));
    std::vector<std::vector<double>> weight(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        const double source = zoom == 1.0 ? static_cast<double>(offset + i)
                                          : std::max(0.0, (static_cast<double>(offset + i) + 0.5) / zoom - 0.5);
        const auto i0 = std::min<int64_t>(static_cast<int64_t>(std::floor(source)), last);
        const double f = source - static_cast<double>(i0);
        const auto at = static_cast<size_t>(flip ? n - 1 - i : i);
        index[at] = {reflect_index(i0 - pad, size), reflect_index(std::min<int64_t>(i0 + 1, last) - pad, size)};
        weight[at] = {1 - f, f};
    }
    return resample_axis(index, weight);
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
    const int64_t ph = h + 2 * max_pad, pw = w + 2 * max_pad;
    TORCH_CHECK(jitter.row >= 0 && jitter.col >= 0 && jitter.row + h <= zoomed_size(ph, jitter.zoom) &&
                    jitter.col + w <= zoomed_size(pw, jitter.zoom),
                "jitter crop (", jitter.row, ", ", jitter.col, ") at zoom ", jitter.zoom, " leaves the ", ph, " x ",
                pw, " padded map");
    // Separable, each output a blend of two source pixels per axis: neither the padded map nor the
    // zoomed one (for 512 channels at 224 px, 140 MB and up to 570 MB per image) is formed.
    return separable_resample(x, jitter_axis(jitter.row, h, h, max_pad, jitter.zoom, false),
                              jitter_axis(jitter.col, w, w, max_pad, jitter.zoom, jitter.flip));
}

}  // namespace segearth::core
