// The three local-window primitives the upsampler is built from, on raw float32 NCHW buffers.
// Notation: radius r, window side K = 2r+1, T = K*K taps, tap t = dy*K + dx; an output grid of H x W
// pixels and a padded grid of (H+2r) x (W+2r) whose pixel (y+dy, x+dx) is tap t of pixel (y, x).
//
//   weighted_sum:  out[c, y, x]  = sum_t  k[t, y, x] * xp[c, y+dy, x+dx]           (adaptive convolution)
//   correlation:   out[t, y, x]  = sum_c  xp[c, y+dy, x+dx] * b[c, y, x]          (range kernel, grad of k)
//   scatter:       out[c, Y, X]  = sum_t  k[t, Y-dy, X-dx] * g[c, Y-dy, X-dx]      (transpose of weighted_sum)
//
// adaptive_conv(xp, k) is weighted_sum; its gradients are scatter(k, grad) for xp and
// correlation(xp, grad) for k. local_correlation(xp, b) is correlation; its gradients are
// weighted_sum(grad, xp) for b and scatter(grad, b) for xp. So each device needs only these three.
// None materialises an unfold: memory traffic is the inputs and the output once each, plus the
// windows' rows, which stay in cache.
#pragma once

#include <cstdint>

namespace segearth::core::detail {

struct WindowShape {
    int64_t batch, channels, height, width, radius;
    int64_t side() const { return 2 * radius + 1; }
    int64_t taps() const { return side() * side(); }
    int64_t padded_height() const { return height + 2 * radius; }
    int64_t padded_width() const { return width + 2 * radius; }
};

// CPU versions for float and double (double serves gradient checks), parallel with at::parallel_for.
// Outputs are overwritten, not accumulated.
template <typename T>
void weighted_sum_cpu(const WindowShape& s, const T* xp, const T* k, T* out);
template <typename T>
void correlation_cpu(const WindowShape& s, const T* xp, const T* b, T* out);
template <typename T>
void scatter_cpu(const WindowShape& s, const T* k, const T* g, T* out);

#ifdef SEGEARTH_WITH_CUDA
}  // namespace segearth::core::detail
namespace at { class Tensor; }
namespace segearth::core::detail {
/// CUDA versions (float, half, bfloat16; accumulation in float). `primitive`: 0 weighted_sum,
/// 1 correlation, 2 scatter; a, b, out as for the CPU functions, contiguous, on one CUDA device.
void run_window_primitive_cuda(int primitive, const WindowShape& s, const at::Tensor& a, const at::Tensor& b,
                               at::Tensor& out);
#endif

}  // namespace segearth::core::detail
