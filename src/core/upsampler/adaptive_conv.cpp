// Shape checks, device dispatch and autograd for the adaptive convolution and the local correlation.
// Both are built from the three window primitives of window_kernels.hpp; see there for the algebra.
#include <segearth/core/upsampler/adaptive_conv.hpp>

#include "upsampler/window_checks.hpp"
#include "upsampler/window_kernels.hpp"

#include <torch/torch.h>

namespace segearth::core {
namespace {

using detail::WindowShape;
using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

WindowShape shape_from(const torch::Tensor& padded, const torch::Tensor& per_pixel, int64_t radius) {
    TORCH_CHECK(padded.dim() == 4 && per_pixel.dim() == 4, "expected 4-d (N, C, H, W) tensors, got ",
                padded.sizes(), " and ", per_pixel.sizes());
    const WindowShape s{per_pixel.size(0), padded.size(1), per_pixel.size(2), per_pixel.size(3), radius};
    TORCH_CHECK(padded.size(0) == s.batch && padded.size(2) == s.padded_height() && padded.size(3) == s.padded_width(),
                "padded input ", padded.sizes(), " does not match the per-pixel input ", per_pixel.sizes(),
                " with a window radius of ", radius, ": expected (", s.batch, ", C, ", s.padded_height(), ", ",
                s.padded_width(), ")");
    TORCH_CHECK(padded.device() == per_pixel.device() && padded.scalar_type() == per_pixel.scalar_type(),
                "inputs must share device and dtype, got ", padded.device(), "/", padded.scalar_type(), " and ",
                per_pixel.device(), "/", per_pixel.scalar_type());
    return s;
}

enum class Primitive { weighted_sum, correlation, scatter };

// Runs one primitive on contiguous inputs a, b into a fresh output.
torch::Tensor run(Primitive op, const WindowShape& s, const torch::Tensor& a_in, const torch::Tensor& b_in) {
    const auto a = a_in.contiguous(), b = b_in.contiguous();
    std::vector<int64_t> out_shape;
    switch (op) {
        case Primitive::weighted_sum: out_shape = {s.batch, s.channels, s.height, s.width}; break;
        case Primitive::correlation: out_shape = {s.batch, s.taps(), s.height, s.width}; break;
        case Primitive::scatter: out_shape = {s.batch, s.channels, s.padded_height(), s.padded_width()}; break;
    }
    auto out = torch::empty(out_shape, a.options());
    if (a.is_cuda()) {
#ifdef SEGEARTH_WITH_CUDA
        detail::run_window_primitive_cuda(static_cast<int>(op), s, a, b, out);
        return out;
#else
        TORCH_CHECK(false, "this segearth was built without CUDA kernels; run on the CPU (--device cpu)");
#endif
    }
    AT_DISPATCH_FLOATING_TYPES(a.scalar_type(), "window_primitive", [&] {
        const auto* pa = a.data_ptr<scalar_t>();
        const auto* pb = b.data_ptr<scalar_t>();
        auto* po = out.data_ptr<scalar_t>();
        switch (op) {
            case Primitive::weighted_sum: detail::weighted_sum_cpu<scalar_t>(s, pa, pb, po); break;
            case Primitive::correlation: detail::correlation_cpu<scalar_t>(s, pa, pb, po); break;
            case Primitive::scatter: detail::scatter_cpu<scalar_t>(s, pa, pb, po); break;
        }
    });
    return out;
}

// The CPU kernels take float or double; half and bfloat16 run on CUDA only.
void check_dtype(const torch::Tensor& t) {
    TORCH_CHECK(t.is_cuda() || t.scalar_type() == torch::kFloat || t.scalar_type() == torch::kDouble,
                "on the CPU the adaptive convolution takes float32 or float64, got ", t.scalar_type());
}

class AdaptiveConvFunction : public torch::autograd::Function<AdaptiveConvFunction> {
public:
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& padded, const torch::Tensor& kernel) {
        const auto s = shape_from(padded, kernel, detail::window_radius(kernel.size(1)));
        ctx->save_for_backward({padded, kernel});
        return run(Primitive::weighted_sum, s, padded, kernel);
    }
    static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
        const auto saved = ctx->get_saved_variables();
        const auto& padded = saved[0];
        const auto& kernel = saved[1];
        const auto s = shape_from(padded, kernel, detail::window_radius(kernel.size(1)));
        const auto& g = grads[0];
        return {run(Primitive::scatter, s, kernel, g), run(Primitive::correlation, s, padded, g)};
    }
};

class LocalCorrelationFunction : public torch::autograd::Function<LocalCorrelationFunction> {
public:
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& padded, const torch::Tensor& center,
                                 int64_t radius) {
        const auto s = shape_from(padded, center, radius);
        ctx->save_for_backward({padded, center});
        ctx->saved_data["radius"] = radius;
        return run(Primitive::correlation, s, padded, center);
    }
    static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
        const auto saved = ctx->get_saved_variables();
        const auto s = shape_from(saved[0], saved[1], ctx->saved_data["radius"].toInt());
        const auto& g = grads[0];
        return {run(Primitive::scatter, s, g, saved[1]), run(Primitive::weighted_sum, s, saved[0], g),
                torch::Tensor()};
    }
};

}  // namespace

torch::Tensor adaptive_conv(const torch::Tensor& padded, const torch::Tensor& kernel) {
    check_dtype(padded);
    return AdaptiveConvFunction::apply(padded, kernel);
}

torch::Tensor local_correlation(const torch::Tensor& padded, const torch::Tensor& center) {
    check_dtype(padded);
    TORCH_CHECK(padded.dim() == 4 && center.dim() == 4 && (padded.size(2) - center.size(2)) % 2 == 0 &&
                    padded.size(2) - center.size(2) == padded.size(3) - center.size(3) &&
                    padded.size(2) >= center.size(2),
                "local_correlation: padded ", padded.sizes(), " must be center ", center.sizes(),
                " padded by the same even margin on both axes");
    return LocalCorrelationFunction::apply(padded, center, (padded.size(2) - center.size(2)) / 2);
}

bool adaptive_conv_has_cuda() {
#ifdef SEGEARTH_WITH_CUDA
    return true;
#else
    return false;
#endif
}

}  // namespace segearth::core
