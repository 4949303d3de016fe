#include <segearth/core/upsampler/upsample_pad.hpp>

#include <ATen/Parallel.h>
#include <torch/nn/functional/padding.h>
#include <torch/nn/functional/upsampling.h>
#include <torch/torch.h>

#include <algorithm>
#include <vector>

namespace segearth::core {
namespace {

namespace F = torch::nn::functional;

// Keys' cubic convolution weights (A = -0.75) of the four taps around a sample at fraction t, as
// torch's upsample_bicubic2d computes them.
std::array<double, 4> cubic_weights(double t) {
    constexpr double A = -0.75;
    const auto near = [](double x) { return ((A + 2) * x - (A + 3)) * x * x + 1; };
    const auto far = [](double x) { return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A; };
    return {far(t + 1), near(t), near(1 - t), far(2 - t)};
}

// With a factor of 2 and align_corners false, output 2k samples input k - 0.25 (taps k-2..k+1 at
// t = 0.75) and output 2k+1 samples k + 0.25 (taps k-1..k+2 at t = 0.25): two fixed weight sets.
template <class T>
void upsample_line(const T* in, int64_t n, int64_t stride, T* out, int64_t out_stride, const std::array<T, 4>& even,
                   const std::array<T, 4>& odd) {
    const auto at = [&](int64_t i) { return in[std::clamp<int64_t>(i, 0, n - 1) * stride]; };
    for (int64_t k = 0; k < n; ++k) {
        out[(2 * k) * out_stride] = even[0] * at(k - 2) + even[1] * at(k - 1) + even[2] * at(k) + even[3] * at(k + 1);
        out[(2 * k + 1) * out_stride] = odd[0] * at(k - 1) + odd[1] * at(k) + odd[2] * at(k + 1) + odd[3] * at(k + 2);
    }
}

template <class T>
void fused_kernel(const torch::Tensor& x, torch::Tensor& out, int64_t pad) {
    const int64_t planes = x.size(0) * x.size(1), h = x.size(2), w = x.size(3);
    const int64_t H = 2 * h, W = 2 * w, PW = W + 2 * pad;
    std::array<T, 4> even{}, odd{};
    const auto e = cubic_weights(0.75), o = cubic_weights(0.25);
    for (int i = 0; i < 4; ++i) even[i] = static_cast<T>(e[i]), odd[i] = static_cast<T>(o[i]);
    const T* src = x.data_ptr<T>();
    T* dst = out.data_ptr<T>();
    const auto reflect = [](int64_t i, int64_t n) { return i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i); };
    at::parallel_for(0, planes, 1, [&](int64_t begin, int64_t end) {
        std::vector<T> columns(static_cast<size_t>(H * w));  // vertical pass: (2h, w)
        for (int64_t p = begin; p < end; ++p) {
            const T* plane = src + p * h * w;
            T* target = dst + p * (H + 2 * pad) * PW;
            for (int64_t c = 0; c < w; ++c) upsample_line(plane + c, h, w, columns.data() + c, w, even, odd);
            for (int64_t y = 0; y < H; ++y) {
                T* row = target + (y + pad) * PW;
                upsample_line(columns.data() + y * w, w, 1, row + pad, 1, even, odd);
                for (int64_t i = 1; i <= pad; ++i) row[pad - i] = row[pad + reflect(-i, W)], row[pad + W - 1 + i] = row[pad + reflect(W - 1 + i, W)];
            }
            for (int64_t i = 1; i <= pad; ++i) {
                std::copy_n(target + (pad + reflect(-i, H)) * PW, PW, target + (pad - i) * PW);
                std::copy_n(target + (pad + reflect(H - 1 + i, H)) * PW, PW, target + (pad + H - 1 + i) * PW);
            }
        }
    });
}

}  // namespace

torch::Tensor upsample2x_bicubic_reflect_pad(const torch::Tensor& x, int64_t pad) {
    TORCH_CHECK(x.dim() == 4, "expected (N, C, h, w), got ", x.sizes());
    TORCH_CHECK(2 * x.size(2) > pad && 2 * x.size(3) > pad, "the upsampler's reflection padding needs at least ",
                pad + 1, " x ", pad + 1, " pixels at each step, got ", 2 * x.size(2), " x ", 2 * x.size(3),
                ": use a larger window or --upsampler bilinear");
    const bool fused = x.device().is_cpu() && (x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kDouble) &&
                       !(torch::GradMode::is_enabled() && x.requires_grad());
    if (!fused) {
        const auto upsampled = F::interpolate(x, F::InterpolateFuncOptions()
                                                     .size(std::vector<int64_t>{2 * x.size(2), 2 * x.size(3)})
                                                     .mode(torch::kBicubic)
                                                     .align_corners(false));
        return F::pad(upsampled, F::PadFuncOptions({pad, pad, pad, pad}).mode(torch::kReflect));
    }
    const auto input = x.contiguous();
    auto out = torch::empty({x.size(0), x.size(1), 2 * x.size(2) + 2 * pad, 2 * x.size(3) + 2 * pad}, x.options());
    AT_DISPATCH_FLOATING_TYPES(input.scalar_type(), "upsample2x_bicubic_reflect_pad",
                               [&] { fused_kernel<scalar_t>(input, out, pad); });
    return out;
}

}  // namespace segearth::core
