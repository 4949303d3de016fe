// CPU kernels of the fused x2 bicubic upsampling + reflection padding and of its backward (see
// upsample_pad.hpp). Built with OpenMP (at::parallel_for is inline code that runs serially without
// it) and without the precompiled torch header; planes run in parallel, each on its own buffers.
#include "upsample_pad_cpu.hpp"

#include "bicubic_x2.hpp"
#include "reflect_index.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <array>
#include <vector>

namespace segearth::core::detail {
namespace {

// One line upsampled x2 with the two fixed weight sets of BicubicX2 (taps clamped at the borders).
template <class T>
void upsample_line(const T* in, int64_t n, int64_t stride, T* out, int64_t out_stride, const std::array<T, 4>& even,
                   const std::array<T, 4>& odd) {
    const auto at = [&](int64_t i) { return in[std::clamp<int64_t>(i, 0, n - 1) * stride]; };
    for (int64_t k = 0; k < n; ++k) {
        out[(2 * k) * out_stride] = even[0] * at(k - 2) + even[1] * at(k - 1) + even[2] * at(k) + even[3] * at(k + 1);
        out[(2 * k + 1) * out_stride] = odd[0] * at(k - 1) + odd[1] * at(k) + odd[2] * at(k + 1) + odd[3] * at(k + 2);
    }
}

// The transpose of upsample_line: every output's gradient goes back to the four inputs it was made
// from (clamped at the borders exactly as the forward clamps). `in_grad` must start at zero.
template <class T>
void upsample_line_adjoint(const T* out_grad, int64_t n, int64_t out_stride, T* in_grad, int64_t stride,
                           const std::array<T, 4>& even, const std::array<T, 4>& odd) {
    const auto at = [&](int64_t i) -> T& { return in_grad[std::clamp<int64_t>(i, 0, n - 1) * stride]; };
    for (int64_t k = 0; k < n; ++k) {
        const T e = out_grad[(2 * k) * out_stride], o = out_grad[(2 * k + 1) * out_stride];
        at(k - 2) += even[0] * e, at(k - 1) += even[1] * e, at(k) += even[2] * e, at(k + 1) += even[3] * e;
        at(k - 1) += odd[0] * o, at(k) += odd[1] * o, at(k + 1) += odd[2] * o, at(k + 2) += odd[3] * o;
    }
}

}  // namespace

template <class T>
void upsample2x_reflect_pad_cpu(const T* src, int64_t planes, int64_t h, int64_t w, int64_t pad, T* dst) {
    const int64_t H = 2 * h, W = 2 * w, PW = W + 2 * pad;
    const BicubicX2<T> cubic;
    const auto& even = cubic.even;
    const auto& odd = cubic.odd;
    at::parallel_for(0, planes, 1, [&](int64_t begin, int64_t end) {
        std::vector<T> columns(static_cast<size_t>(H * w));  // vertical pass: (2h, w)
        for (int64_t p = begin; p < end; ++p) {
            const T* plane = src + p * h * w;
            T* target = dst + p * (H + 2 * pad) * PW;
            for (int64_t c = 0; c < w; ++c) upsample_line(plane + c, h, w, columns.data() + c, w, even, odd);
            for (int64_t y = 0; y < H; ++y) {
                T* row = target + (y + pad) * PW;
                upsample_line(columns.data() + y * w, w, 1, row + pad, 1, even, odd);
                for (int64_t i = 1; i <= pad; ++i) row[pad - i] = row[pad + reflect_index(-i, W)], row[pad + W - 1 + i] = row[pad + reflect_index(W - 1 + i, W)];
            }
            for (int64_t i = 1; i <= pad; ++i) {
                std::copy_n(target + (pad + reflect_index(-i, H)) * PW, PW, target + (pad - i) * PW);
                std::copy_n(target + (pad + reflect_index(H - 1 + i, H)) * PW, PW, target + (pad + H - 1 + i) * PW);
            }
        }
    });
}

// The backward of upsample2x_reflect_pad_cpu: the padded gradient (N, C, 2h + 2 pad, 2w + 2 pad) folded back onto
// the rows and columns the reflection copied, then the two cubic passes transposed. Per plane, so
// planes run in parallel without atomics (torch's own bicubic backward runs serially here).
template <class T>
void upsample2x_reflect_pad_backward_cpu(const T* src, int64_t planes, int64_t h, int64_t w, int64_t pad, T* dst) {
    const int64_t H = 2 * h, W = 2 * w, PH = H + 2 * pad, PW = W + 2 * pad;
    const BicubicX2<T> cubic;
    const auto& even = cubic.even;
    const auto& odd = cubic.odd;
    at::parallel_for(0, planes, 1, [&](int64_t begin, int64_t end) {
        std::vector<T> folded(static_cast<size_t>(H * W)), rows(static_cast<size_t>(H * w));
        for (int64_t p = begin; p < end; ++p) {
            const T* g = src + p * PH * PW;
            std::fill(folded.begin(), folded.end(), T(0));
            for (int64_t r = 0; r < PH; ++r) {
                T* target = folded.data() + reflect_index(r - pad, H) * W;
                const T* row = g + r * PW;
                for (int64_t c = 0; c < pad; ++c) target[reflect_index(c - pad, W)] += row[c];
                for (int64_t c = 0; c < W; ++c) target[c] += row[pad + c];
                for (int64_t c = pad + W; c < PW; ++c) target[reflect_index(c - pad, W)] += row[c];
            }
            std::fill(rows.begin(), rows.end(), T(0));
            for (int64_t y = 0; y < H; ++y) upsample_line_adjoint(folded.data() + y * W, w, 1, rows.data() + y * w, 1, even, odd);
            T* plane = dst + p * h * w;
            std::fill(plane, plane + h * w, T(0));
            for (int64_t c = 0; c < w; ++c) upsample_line_adjoint(rows.data() + c, h, w, plane + c, w, even, odd);
        }
    });
}

template void upsample2x_reflect_pad_cpu<float>(const float*, int64_t, int64_t, int64_t, int64_t, float*);
template void upsample2x_reflect_pad_cpu<double>(const double*, int64_t, int64_t, int64_t, int64_t, double*);
template void upsample2x_reflect_pad_backward_cpu<float>(const float*, int64_t, int64_t, int64_t, int64_t, float*);
template void upsample2x_reflect_pad_backward_cpu<double>(const double*, int64_t, int64_t, int64_t, int64_t,
                                                          double*);

}  // namespace segearth::core::detail
