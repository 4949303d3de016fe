#include <segearth/core/upsampler/upsample_conv.hpp>

#include <segearth/core/upsampler/adaptive_conv.hpp>
#include <segearth/core/upsampler/upsample_pad.hpp>

#include "upsampler/upsample_conv_cpu.hpp"
#include "upsampler/window_checks.hpp"

#include <torch/torch.h>


namespace segearth::core {

torch::Tensor upsample_adaptive_conv(const torch::Tensor& source, const torch::Tensor& kernel) {
    TORCH_CHECK(source.dim() == 4 && kernel.dim() == 4, "expected 4-d (N, C, h, w) source and (N, taps, 2h, 2w) "
                "kernel, got ", source.sizes(), " and ", kernel.sizes());
    const int64_t radius = detail::window_radius(kernel.size(1));
    const bool needs_grad = torch::GradMode::is_enabled() && (source.requires_grad() || kernel.requires_grad());
    const bool fused = !needs_grad && source.device().is_cpu() && source.scalar_type() == kernel.scalar_type() &&
                       (source.scalar_type() == torch::kFloat || source.scalar_type() == torch::kDouble);
    if (!fused) return adaptive_conv(upsample2x_bicubic_reflect_pad(source, radius), kernel);

    const int64_t n = source.size(0), c = source.size(1), h = source.size(2), w = source.size(3);
    TORCH_CHECK(kernel.size(0) == n && kernel.size(2) == 2 * h && kernel.size(3) == 2 * w, "kernel ", kernel.sizes(),
                " does not match the source ", source.sizes(), ": expected (", n, ", ", kernel.size(1), ", ", 2 * h,
                ", ", 2 * w, ")");
    detail::check_reflection_padding(2 * h, 2 * w, radius);
    // NHWC views of channels-last memory: free when the tensors are laid out so already.
    const auto src = source.permute({0, 2, 3, 1}).contiguous();
    const auto k = kernel.permute({0, 2, 3, 1}).contiguous();
    auto out = torch::empty({n, 2 * h, 2 * w, c}, source.options());
    AT_DISPATCH_FLOATING_TYPES(src.scalar_type(), "upsample_adaptive_conv", [&] {
        detail::upsample_conv_cpu<scalar_t>(src.data_ptr<scalar_t>(), k.data_ptr<scalar_t>(), n, c, h, w, radius,
                                            out.data_ptr<scalar_t>());
    });
    return out.permute({0, 3, 1, 2});
}

}  // namespace segearth::core
