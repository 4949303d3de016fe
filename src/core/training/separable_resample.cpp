#include "training/separable_resample.hpp"

#include "training/separable_resample_cpu.hpp"

#include <torch/torch.h>

namespace segearth::core {
namespace {

detail::TapTable table_of(const ResampleAxis& a) {
    return {a.index.data_ptr<int64_t>(), a.weight.data_ptr<double>(), a.index.size(0), a.index.size(1)};
}

// Any device and dtype: a weighted sum of gathered rows, then of gathered columns.
torch::Tensor resample_with_torch(const torch::Tensor& x, const ResampleAxis& rows, const ResampleAxis& cols) {
    const auto along = [&](const torch::Tensor& t, int64_t dim, const ResampleAxis& a) {
        std::vector<int64_t> shape{1, 1, 1, 1};
        shape[static_cast<size_t>(dim)] = a.index.size(0);
        torch::Tensor sum;
        for (int64_t k = 0; k < a.index.size(1); ++k) {
            const auto term = t.index_select(dim, a.index.select(1, k).contiguous().to(t.device())) *
                              a.weight.select(1, k).to(t.options()).view(shape);
            sum = sum.defined() ? sum + term : term;
        }
        return sum;
    };
    return along(along(x, 2, rows), 3, cols);
}

class SeparableResampleFunction : public torch::autograd::Function<SeparableResampleFunction> {
public:
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                                 const ResampleAxis& rows, const ResampleAxis& cols) {
        const auto input = x.contiguous();
        auto out = torch::empty({x.size(0), x.size(1), rows.index.size(0), cols.index.size(0)}, x.options());
        AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "separable_resample", [&] {
            detail::separable_resample_cpu<scalar_t>(input.data_ptr<scalar_t>(), x.size(0) * x.size(1), x.size(2),
                                                     x.size(3), table_of(rows), table_of(cols),
                                                     out.data_ptr<scalar_t>());
        });
        ctx->saved_data["sizes"] = x.sizes().vec();
        ctx->saved_data["rows.index"] = rows.index;
        ctx->saved_data["rows.weight"] = rows.weight;
        ctx->saved_data["cols.index"] = cols.index;
        ctx->saved_data["cols.weight"] = cols.weight;
        return out;
    }
    static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::tensor_list grads) {
        const ResampleAxis rows{ctx->saved_data["rows.index"].toTensor(), ctx->saved_data["rows.weight"].toTensor()};
        const ResampleAxis cols{ctx->saved_data["cols.index"].toTensor(), ctx->saved_data["cols.weight"].toTensor()};
        const auto sizes = ctx->saved_data["sizes"].toIntVector();
        const auto grad = grads[0].contiguous();
        auto grad_x = torch::empty(sizes, grad.options());
        AT_DISPATCH_FLOATING_TYPES(grad.scalar_type(), "separable_resample_backward", [&] {
            detail::separable_resample_backward_cpu<scalar_t>(grad.data_ptr<scalar_t>(), sizes[0] * sizes[1],
                                                              sizes[2], sizes[3], table_of(rows), table_of(cols),
                                                              grad_x.data_ptr<scalar_t>());
        });
        return {grad_x, torch::Tensor(), torch::Tensor()};
    }
};

}  // namespace

ResampleAxis resample_axis(const std::vector<std::vector<int64_t>>& index, const std::vector<std::vector<double>>& weight) {
    const auto n = static_cast<int64_t>(index.size());
    const auto taps = n ? static_cast<int64_t>(index[0].size()) : 0;
    ResampleAxis a{torch::empty({n, taps}, torch::kInt64), torch::empty({n, taps}, torch::kFloat64)};
    auto ia = a.index.accessor<int64_t, 2>();
    auto wa = a.weight.accessor<double, 2>();
    for (int64_t i = 0; i < n; ++i)
        for (int64_t k = 0; k < taps; ++k) ia[i][k] = index[i][k], wa[i][k] = weight[i][k];
    return a;
}

torch::Tensor separable_resample(const torch::Tensor& x, const ResampleAxis& rows, const ResampleAxis& cols) {
    TORCH_CHECK(x.dim() == 4, "separable_resample expects (N, C, H, W), got ", x.sizes());
    for (const auto* a : {&rows, &cols}) {
        const int64_t size = x.size(a == &rows ? 2 : 3);
        TORCH_CHECK(a->index.numel() == 0 || (a->index.min().item<int64_t>() >= 0 && a->index.max().item<int64_t>() < size),
                    "separable_resample: a tap index leaves the ", size, "-pixel side");
    }
    if (x.device().is_cpu() && (x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kDouble))
        return SeparableResampleFunction::apply(x, rows, cols);
    return resample_with_torch(x, rows, cols);
}

}  // namespace segearth::core
