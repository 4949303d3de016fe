#include <segearth/core/training/jitter.hpp>

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

namespace segearth::core {
namespace {

// Size of a side of `padded` pixels zoomed by z, as interpolate(scale_factor=z) computes it.
int64_t zoomed_size(int64_t padded, double zoom) { return static_cast<int64_t>(std::floor(padded * zoom)); }

int64_t reflect(int64_t i, int64_t n) { return i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i); }

// The jitter along one axis as a matrix (n, size): output pixels [offset, offset + n) of a side of
// `size` pixels, reflect-padded by `pad` and zoomed by z, each a linear combination of the unpadded
// side. interpolate(scale_factor=z) samples padded index max(0, (i + 0.5) / z - 0.5) between its two
// neighbours, the right one clamped to the last padded pixel; a padded index p shows pixel
// reflect(p - pad). Rows reversed for a flip.
torch::Tensor axis_matrix(int64_t offset, int64_t n, int64_t size, int64_t pad, double zoom, bool flip,
                          const torch::TensorOptions& options) {
    const int64_t last = size + 2 * pad - 1;
    auto m = torch::zeros({n, size}, torch::kFloat64);
    auto a = m.accessor<double, 2>();
    for (int64_t i = 0; i < n; ++i) {
        const double source = zoom == 1.0 ? static_cast<double>(offset + i)
                                          : std::max(0.0, (static_cast<double>(offset + i) + 0.5) / zoom - 0.5);
        const auto i0 = std::min<int64_t>(static_cast<int64_t>(std::floor(source)), last);
        const auto i1 = std::min<int64_t>(i0 + 1, last);
        const double f = source - static_cast<double>(i0);
        const int64_t row = flip ? n - 1 - i : i;
        a[row][reflect(i0 - pad, size)] += 1 - f;
        if (f > 0) a[row][reflect(i1 - pad, size)] += f;
    }
    return m.to(options);
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
    // Separable: rows then columns, each a matrix product with a (224 x 224) interpolation matrix.
    // Neither the padded map nor the zoomed one (for 512 channels at 224 px, 140 MB and up to 570 MB
    // per image) is formed, and forward and backward both run as matrix products (BLAS), where
    // grid_sample's backward took a second per image.
    const auto rows = axis_matrix(jitter.row, h, h, max_pad, jitter.zoom, false, x.options());
    const auto cols = axis_matrix(jitter.col, w, w, max_pad, jitter.zoom, jitter.flip, x.options());
    return torch::matmul(rows, torch::matmul(x, cols.t()));
}

}  // namespace segearth::core
