#include <segearth/core/upsampler/upsample_pad.hpp>

#include "upsampler/upsample_pad_cpu.hpp"
#include "upsampler/window_checks.hpp"

#include <torch/nn/functional/padding.h>
#include <torch/nn/functional/upsampling.h>
#include <torch/torch.h>

#include <vector>

namespace segearth::core {
namespace {

namespace F = torch::nn::functional;

torch::Tensor fused_forward(const torch::Tensor& x, int64_t pad) {
    const auto input = x.contiguous();
    auto out = torch::empty({x.size(0), x.size(1), 2 * x.size(2) + 2 * pad, 2 * x.size(3) + 2 * pad}, x.options());
    AT_DISPATCH_FLOATING_TYPES(input.scalar_type(), "upsample2x_bicubic_reflect_pad", [&] {
        detail::upsample2x_reflect_pad_cpu<scalar_t>(input.data_ptr<scalar_t>(), x.size(0) * x.size(1), x.size(2),
                                                     x.size(3), pad, out.data_ptr<scalar_t>());
    });
    return out;
}

class UpsamplePadFunction : public torch::autograd::Function<UpsamplePadFunction> {
public:
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, int64_t pad) {
        ctx->saved_data["pad"] = pad;
        ctx->saved_data["sizes"] = x.sizes().vec();
        return fused_forward(x, pad);
    }
    static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::tensor_list grads) {
        const auto pad = ctx->saved_data["pad"].toInt();
        const auto grad = grads[0].contiguous();
        auto grad_x = torch::empty(ctx->saved_data["sizes"].toIntVector(), grad.options());
        AT_DISPATCH_FLOATING_TYPES(grad.scalar_type(), "upsample2x_bicubic_reflect_pad_backward", [&] {
            detail::upsample2x_reflect_pad_backward_cpu<scalar_t>(grad.data_ptr<scalar_t>(),
                                                                  grad_x.size(0) * grad_x.size(1), grad_x.size(2),
                                                                  grad_x.size(3), pad, grad_x.data_ptr<scalar_t>());
        });
        return {grad_x, torch::Tensor()};
    }
};

}  // namespace

torch::Tensor upsample2x_bicubic_reflect_pad(const torch::Tensor& x, int64_t pad) {
    TORCH_CHECK(x.dim() == 4, "expected (N, C, h, w), got ", x.sizes());
    detail::check_reflection_padding(2 * x.size(2), 2 * x.size(3), pad);
    const bool fused = x.device().is_cpu() && (x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kDouble);
    if (!fused) {
        const auto upsampled = F::interpolate(x, F::InterpolateFuncOptions()
                                                     .size(std::vector<int64_t>{2 * x.size(2), 2 * x.size(3)})
                                                     .mode(torch::kBicubic)
                                                     .align_corners(false));
        return F::pad(upsampled, F::PadFuncOptions({pad, pad, pad, pad}).mode(torch::kReflect));
    }
    if (torch::GradMode::is_enabled() && x.requires_grad()) return UpsamplePadFunction::apply(x, pad);
    return fused_forward(x, pad);
}

}  // namespace segearth::core
