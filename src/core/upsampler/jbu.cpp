#include <segearth/core/upsampler/jbu.hpp>

#include <segearth/core/blas_runtime.hpp>

#include <segearth/core/upsampler/adaptive_conv.hpp>
#include <segearth/core/upsampler/upsample_conv.hpp>

#include "linear_rows.hpp"
#include "mixed_precision.hpp"
#include "upsampler/range_kernel_cpu.hpp"
#include "upsampler/window_checks.hpp"

#include <ATen/Parallel.h>
#include <torch/torch.h>

namespace segearth::core {

namespace F = torch::nn::functional;

namespace {

torch::Tensor reflect_pad(const torch::Tensor& x, int64_t r) {
    detail::check_reflection_padding(x.size(2), x.size(3), r);
    return F::pad(x, F::PadFuncOptions({r, r, r, r}).mode(torch::kReflect));
}

// exp(-(u^2 + v^2) / (2 sigma^2)) over the window's normalised offsets u, v in linspace(-1, 1, side),
// as (1, side*side, 1, 1) with tap t = dy*side + dx.
torch::Tensor spatial_kernel(const torch::Tensor& sigma, int64_t side) {
    const auto u = torch::linspace(-1, 1, side, sigma.options());
    const auto d2 = u.view({side, 1}).square() + u.view({1, side}).square();
    return torch::exp(-d2 / (2 * sigma.square())).view({1, side * side, 1, 1});
}

torch::nn::Conv2d conv1x1(int64_t in, int64_t out) {
    return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1));
}

}  // namespace

JbuImpl::JbuImpl(int64_t radius, int64_t guidance_channels, int64_t key_channels) : radius_(radius) {
    const int64_t taps = (2 * radius + 1) * (2 * radius + 1);
    range_temp = register_parameter("range_temp", torch::zeros({}));
    sigma_spatial = register_parameter("sigma_spatial", torch::ones({}));
    range_proj = register_module(
        "range_proj", torch::nn::Sequential(conv1x1(guidance_channels, key_channels), torch::nn::GELU(),
                                            torch::nn::Dropout2d(0.1), conv1x1(key_channels, key_channels)));
    fixup_proj = register_module(
        "fixup_proj", torch::nn::Sequential(conv1x1(taps + guidance_channels, taps), torch::nn::GELU(),
                                            torch::nn::Dropout2d(0.1), conv1x1(taps, taps)));
}

torch::Tensor JbuImpl::kernels(const torch::Tensor& g, JbuKernelMemory* memory) {
    const int64_t side = 2 * radius_ + 1;
    const auto temperature = range_temp.exp().clamp(1e-4, 1e4);
    const auto spatial = spatial_kernel(sigma_spatial, side);
    const bool cpu_inference = !is_training() && !torch::GradMode::is_enabled() && g.device().is_cpu() &&
                               (g.scalar_type() == torch::kFloat || g.scalar_type() == torch::kDouble);
    if (cpu_inference) return pixel_major_kernels(g, temperature, spatial, memory);
    const auto keys = range_proj->forward(g);
    const auto range = torch::softmax(temperature * local_correlation(reflect_pad(keys, radius_), keys), 1);
    auto k = range * spatial;
    k = k / k.sum(1, true).clamp_min(1e-7);
    // fixup_proj's layers one by one, so that its two products run in the step's precision (training
    // in bf16, CUDA in fp16); in fp32 the same calls as fixup_proj->forward.
    auto hidden = torch::gelu(
        conv1x1_in(precision_, *fixup_proj[0]->as<torch::nn::Conv2d>(), torch::cat({k, g}, 1)));
    hidden = fixup_proj[2]->as<torch::nn::Dropout2d>()->forward(hidden);
    // Not renormalised, as the reference.
    return k + 0.1 * conv1x1_in(precision_, *fixup_proj[3]->as<torch::nn::Conv2d>(), hidden);
}

torch::Tensor JbuImpl::range_keys(const torch::Tensor& g) {
    // range_proj's 1x1 convolutions (3 -> 32 -> 32 channels, dropout off) as products over the
    // pixels: 2.1 instead of 10 ms at 224 x 224 here, where libtorch's convolution pays its set-up.
    const auto& key_in = range_proj[0]->as<torch::nn::Conv2d>();
    const auto& key_out = range_proj[3]->as<torch::nn::Conv2d>();
    auto key_hidden = torch::linear(g.permute({0, 2, 3, 1}), key_in->weight.flatten(1), key_in->bias);
    torch::gelu_out(key_hidden, key_hidden);
    return torch::linear(key_hidden, key_out->weight.flatten(1), key_out->bias).permute({0, 3, 1, 2}).contiguous();
}

namespace {

// dst = base + 0.1 * fix over (N, h, columns, T): the fix-up's last step in one pass, written straight
// into the kernels' destination (the window's or the reuse buffer's columns), a bf16 `fix` converted
// as it is read. The same operations in the same order as fix * 0.1 + base.
template <class T, class Fix>
void add_fixup(const torch::Tensor& base, const torch::Tensor& fix, const torch::Tensor& dst) {
    const int64_t h = dst.size(1), columns = dst.size(2), taps = dst.size(3);
    TORCH_INTERNAL_ASSERT(fix.is_contiguous() && base.stride(3) == 1 && dst.stride(3) == 1);
    const T* b = base.data_ptr<T>();
    const Fix* f = fix.data_ptr<Fix>();
    T* d = dst.data_ptr<T>();
    at::parallel_for(0, dst.size(0) * h, 1, [&](int64_t begin, int64_t end) {
        for (int64_t row = begin; row < end; ++row) {
            const int64_t i = row / h, y = row % h;
            for (int64_t x = 0; x < columns; ++x) {
                const T* from = b + i * base.stride(0) + y * base.stride(1) + x * base.stride(2);
                const Fix* fixed = f + (row * columns + x) * taps;
                T* to = d + i * dst.stride(0) + y * dst.stride(1) + x * dst.stride(2);
                for (int64_t t = 0; t < taps; ++t) to[t] = from[t] + T(0.1) * static_cast<T>(fixed[t]);
            }
        }
    });
}

}  // namespace

void JbuImpl::kernel_columns(const torch::Tensor& g, const torch::Tensor& keys, const torch::Tensor& padded_keys,
                             int64_t c0, int64_t c1, const torch::Tensor& temperature, const torch::Tensor& spatial,
                             const torch::Tensor& dst) {
    const int64_t n = g.size(0), gc = g.size(1), h = g.size(2), w = g.size(3), taps = spatial.numel(), r = radius_;
    const int64_t columns = c1 - c0;
    const auto guidance = g.narrow(3, c0, columns).contiguous();
    torch::Tensor with_guidance = torch::empty({n, h, columns, taps + gc}, g.options());  // [k, g] per pixel
    {
        // The reflection is the whole window's; the columns' taps read the padded keys around them.
        const auto padded = columns == w ? padded_keys : padded_keys.narrow(3, c0, columns + 2 * r).contiguous();
        const auto correlation = local_correlation(padded, columns == w ? keys : keys.narrow(3, c0, columns).contiguous());
        const auto s = spatial.flatten().to(g.scalar_type()).contiguous();
        AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "normalised_range_kernel", [&] {
            detail::normalised_range_kernel_cpu<scalar_t>(
                correlation.data_ptr<scalar_t>(), temperature.item<scalar_t>(), s.data_ptr<scalar_t>(),
                guidance.data_ptr<scalar_t>(), n, taps, gc, h * columns, with_guidance.data_ptr<scalar_t>());
        });
    }
    const auto& first = fixup_proj[0]->as<torch::nn::Conv2d>();
    const auto& second = fixup_proj[3]->as<torch::nn::Conv2d>();
    // bf16: 2.4x faster here than float32 (measured on the 4 steps of a 224 window, 2 Zen 4 cores):
    // OpenBLAS runs these narrow products (121 outputs) far below its peak, oneDNN's bf16 does not.
    const bool bf16 = precision_ == Precision::bf16 && g.scalar_type() == torch::kFloat;
    const auto type = bf16 ? torch::kBFloat16 : g.scalar_type();
    auto hidden = linear_rows(with_guidance.to(type), first->weight.flatten(1).to(type), first->bias.to(type));
    torch::gelu_out(hidden, hidden);
    auto k = linear_rows(hidden, second->weight.flatten(1).to(type), second->bias.to(type));
    hidden.reset();
    AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "add_fixup", [&] {
        if (bf16) add_fixup<scalar_t, c10::BFloat16>(with_guidance.narrow(3, 0, taps), k, dst);
        else add_fixup<scalar_t, scalar_t>(with_guidance.narrow(3, 0, taps), k, dst);
    });
}

namespace {

// The smallest shift s, 0 < s < w - 2r, with last[:, :, s:] == now[:, :, :w - s] exactly (both
// (G, h, w)); 0 if there is none. Columns [r, w - s - r) of `now` then see through their windows
// exactly what columns [r + s, w - r) of `last` saw, away from both windows' reflected borders.
int64_t repeated_shift(const torch::Tensor& last, const torch::Tensor& now, int64_t radius) {
    if (!last.defined() || last.sizes() != now.sizes() || last.scalar_type() != now.scalar_type()) return 0;
    const int64_t w = now.size(2);
    if (w <= 2 * radius + 1) return 0;
    // Candidates first by one column (the columns of `last` equal to now's first), then whole.
    const auto candidates = last.eq(now.narrow(2, 0, 1)).flatten(0, 1).all(0);
    const auto* is_candidate = candidates.data_ptr<bool>();
    for (int64_t s = 1; s < w - 2 * radius; ++s)
        if (is_candidate[s] && torch::equal(last.narrow(2, s, w - s), now.narrow(2, 0, w - s))) return s;
    return 0;
}

}  // namespace

torch::Tensor JbuImpl::pixel_major_kernels(const torch::Tensor& g, const torch::Tensor& temperature,
                                           const torch::Tensor& spatial, JbuKernelMemory* memory) {
    const auto guidance = g.contiguous();
    // Padded once for the window (the reflection is the whole window's), read by every column range.
    const auto keys = range_keys(guidance), padded_keys = reflect_pad(keys, radius_);
    const int64_t n = g.size(0), h = g.size(2), w = g.size(3), r = radius_;
    auto out = torch::empty({n, h, w, spatial.numel()}, g.options());
    if (!memory) {
        kernel_columns(guidance, keys, padded_keys, 0, w, temperature, spatial, out);
        return out.permute({0, 3, 1, 2});
    }
    if (memory->step != this || memory->precision != precision_) *memory = {};
    for (int64_t b = 0; b < n; ++b) {
        const auto now = guidance.narrow(0, b, 1), now_keys = keys.narrow(0, b, 1);
        const auto now_padded = padded_keys.narrow(0, b, 1);
        const auto last = b == 0 ? memory->guidance : guidance.narrow(0, b - 1, 1);
        const auto last_kernels = b == 0 ? memory->kernels : out.narrow(0, b - 1, 1);
        auto k = out.narrow(0, b, 1);
        const int64_t s = last.defined() ? repeated_shift(last[0], now[0], r) : 0;
        const auto compute = [&](int64_t c0, int64_t c1) {
            kernel_columns(now, now_keys, now_padded, c0, c1, temperature, spatial, k.narrow(2, c0, c1 - c0));
            memory->computed_columns += c1 - c0;
        };
        if (s == 0) {
            compute(0, w);
            continue;
        }
        k.narrow(2, r, w - s - 2 * r).copy_(last_kernels.narrow(2, r + s, w - s - 2 * r));
        memory->reused_columns += w - s - 2 * r;
        compute(0, r);
        compute(w - s - r, w);
    }
    memory->guidance = guidance.narrow(0, n - 1, 1);
    memory->kernels = out.narrow(0, n - 1, 1);
    memory->step = this;
    memory->precision = precision_;
    return out.permute({0, 3, 1, 2});
}

torch::Tensor JbuImpl::forward(const torch::Tensor& source, const torch::Tensor& guidance, JbuKernelMemory* memory) {
    const int64_t h2 = 2 * source.size(2), w2 = 2 * source.size(3);
    const auto k = kernels(F::adaptive_avg_pool2d(guidance, F::AdaptiveAvgPool2dFuncOptions({h2, w2})), memory);
    return upsample_adaptive_conv(source, k);
}

bool JbuUpsamplerImpl::low_rank_pays(const torch::Tensor& features) const {
    return !is_training() && !torch::GradMode::is_enabled() && features.dim() == 4 &&
           features.size(2) * features.size(3) + 1 < feature_dim_;
}

namespace {

// Each step's own memory, sized to the steps (jbu_one's four use one module, at four sizes).
JbuKernelMemory* step_memory(std::vector<JbuKernelMemory>* memory, size_t steps, size_t index) {
    if (!memory) return nullptr;
    if (memory->size() != steps) memory->resize(steps);
    return &(*memory)[index];
}

}  // namespace

JbuUpsamplerImpl::LowRank JbuUpsamplerImpl::forward_low_rank(const torch::Tensor& features, const torch::Tensor& guidance,
                                                             std::vector<JbuKernelMemory>* memory) {
    TORCH_CHECK(low_rank_pays(features), "forward_low_rank: for inference on features with h*w + 1 < ", feature_dim_,
                " channels, got ", features.sizes());
    const int64_t n = features.size(0), c = features.size(1), h = features.size(2), w = features.size(3);
    const auto& conv = fixup_proj[1]->as<torch::nn::Conv2d>();
    const auto fixed = (features + 0.1 * F::conv2d(features, conv->weight)).flatten(2);  // (n, C, hw); no dropout
    const auto bias = (0.1 * conv->bias).view({1, c, 1}).expand({n, c, 1});
    // Q from the reduced QR of [F | b]: its columns span both (rank-deficient inputs included).
    auto basis = [&] {
        const SingleThreaded one_thread;  // a small LAPACK factorisation: see SingleThreaded
        return std::get<0>(torch::linalg_qr(torch::cat({fixed, bias}, 2)));  // (n, C, r)
    }();
    // Zero columns up to a multiple of 16, the CPU kernel's channel block (upsample_conv_cpu.cpp): a
    // remainder (r = 197 = 12 x 16 + 5) would take its scalar path at every pixel. Zero coordinates
    // change no dot product or norm, so the result stays exact.
    if (const int64_t rest = basis.size(2) % 16; rest != 0) basis = F::pad(basis, F::PadFuncOptions({0, 16 - rest}));
    const int64_t r = basis.size(2);
    auto u = torch::bmm(basis.transpose(1, 2), fixed).view({n, r, h, w});
    for (size_t i = 0; i < steps_.size(); ++i) u = steps_[i]->forward(u, guidance, step_memory(memory, steps_.size(), i));
    const auto projected_bias = torch::bmm(basis.transpose(1, 2), bias);  // (n, r, 1)
    return {u.add_(projected_bias.view({n, r, 1, 1})), basis};
}

void JbuUpsamplerImpl::set_precision(Precision precision) {
    for (auto& step : steps_) step->set_precision(precision);
}

const char* to_string(JbuArchitecture architecture) {
    return architecture == JbuArchitecture::one ? "jbu_one" : "jbu_stack";
}

JbuUpsamplerImpl::JbuUpsamplerImpl(int64_t feature_dim, JbuArchitecture architecture)
    : feature_dim_(feature_dim), architecture_(architecture) {
    if (architecture == JbuArchitecture::one) {
        steps_.assign(4, register_module("up", Jbu(5)));
    } else {
        for (int i = 1; i <= 4; ++i) steps_.push_back(register_module("up" + std::to_string(i), Jbu(3)));
    }
    fixup_proj = register_module("fixup_proj",
                                 torch::nn::Sequential(torch::nn::Dropout2d(0.2), conv1x1(feature_dim, feature_dim)));
}

torch::Tensor JbuUpsamplerImpl::forward(const torch::Tensor& features, const torch::Tensor& guidance,
                                        std::vector<JbuKernelMemory>* memory) {
    TORCH_CHECK(features.dim() == 4 && features.size(1) == feature_dim_, "the upsampler expects (N, ", feature_dim_,
                ", h, w) features, got ", features.sizes());
    // The final fix-up, U16 + 0.1 * conv1x1(dropout(U16)), mixes channels (and drops whole channels in
    // training) while every JBU step applies the same spatial weights to each channel. The two commute,
    // so the mixing runs on the 14 x 14 features instead of the 224 x 224 result: exactly the same
    // value (up to float rounding) for 1/256 of the 26 GFLOP the 512 x 512 conv costs at full size.
    // (Each step's weights sum to 1 + the kernel fix-up's, not exactly 1, so only the conv's weight
    // commutes; its bias is added at the end.)
    const auto& dropout = fixup_proj[0];
    const auto& conv = fixup_proj[1]->as<torch::nn::Conv2d>();
    auto u = features + 0.1 * F::conv2d(dropout->as<torch::nn::Dropout2d>()->forward(features), conv->weight);
    for (size_t i = 0; i < steps_.size(); ++i) u = steps_[i]->forward(u, guidance, step_memory(memory, steps_.size(), i));
    const auto bias = 0.1 * conv->bias.view({1, -1, 1, 1});
    // In place where no gradient is needed: u is 100 MB per 224 window.
    return torch::GradMode::is_enabled() ? u + bias : u.add_(bias);
}

}  // namespace segearth::core
