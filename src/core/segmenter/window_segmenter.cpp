#include <segearth/core/segmenter/window_segmenter.hpp>

#include "device_stopwatch.hpp"

#include <segearth/core/clip/image_normalisation.hpp>
#include <segearth/error.hpp>

#include <torch/cuda.h>
#include <torch/nn/functional/padding.h>
#include <torch/nn/functional/upsampling.h>

namespace segearth::core {
namespace {

namespace F = torch::nn::functional;

torch::Tensor resize_bilinear(const torch::Tensor& x, int64_t h, int64_t w) {
    return F::interpolate(x, F::InterpolateFuncOptions().size(std::vector<int64_t>{h, w})
                                 .mode(torch::kBilinear).align_corners(false));
}

}  // namespace

WindowSegmenter::WindowSegmenter(ClipModel clip, torch::Tensor text_queries, UpsamplerKind kind, JbuUpsampler upsampler,
                                 WindowSegmenterOptions options)
    : clip_(std::move(clip)), text_queries_(std::move(text_queries)), kind_(kind), upsampler_(std::move(upsampler)),
      options_(options) {
    const int64_t width = clip_->config().embed_dim;
    if (text_queries_.dim() != 2 || text_queries_.size(1) != width || text_queries_.size(0) == 0)
        throw Error("text queries must be (Q, " + std::to_string(width) + "), got " +
                    c10::str(text_queries_.sizes()));
    if (kind_ == UpsamplerKind::simfeatup) {
        if (!upsampler_) throw UsageError("the simfeatup upsampler needs its weights (--upsampler PATH)");
        if (upsampler_->feature_dim() != width)
            throw UsageError("the upsampler works on " + std::to_string(upsampler_->feature_dim()) +
                             "-wide features but this CLIP's are " + std::to_string(width) +
                             " wide: train one with 'segearth train' or use --upsampler bilinear");
    }
    text_queries_ = text_queries_.to(device(), torch::kFloat32);
}

int64_t WindowSegmenter::patch_size() const { return clip_->config().vision.patch_size; }

torch::Device WindowSegmenter::device() const { return clip_->visual->proj.device(); }

// The first x2 step's reflection padding by r needs more than r pixels, i.e. r / 2 + 1 tokens.
int64_t WindowSegmenter::minimum_side() const {
    if (kind_ != UpsamplerKind::simfeatup) return patch_size();
    return (upsampler_->step(0)->radius() / 2 + 1) * patch_size();
}

std::vector<JbuKernelMemory>* WindowSegmenter::kernel_memory() {
    return options_.reuse_kernels && device().is_cpu() ? &kernel_memory_ : nullptr;
}

WindowSegmenter::KernelColumns WindowSegmenter::kernel_columns() const {
    KernelColumns columns;
    for (const auto& step : kernel_memory_) columns.computed += step.computed_columns, columns.reused += step.reused_columns;
    return columns;
}

torch::Tensor WindowSegmenter::logits(const torch::Tensor& windows) {
    return logits_on_device(windows).to(torch::kCPU).contiguous();
}

torch::Tensor WindowSegmenter::logits_on_device(const torch::Tensor& windows) {
    TORCH_CHECK(windows.dim() == 4 && windows.size(1) == 3, "windows must be (N, 3, h, w), got ", windows.sizes());
    torch::NoGradGuard no_grad;
    const int64_t h = windows.size(2), w = windows.size(3);
    // Pad to a multiple of the patch size (and at least the upsampler's minimum), floor-half first.
    const auto padded_side = [&](int64_t side) {
        const int64_t p = patch_size();
        return std::max((side + p - 1) / p * p, minimum_side());
    };
    const int64_t top = (padded_side(h) - h) / 2, left = (padded_side(w) - w) / 2;
    const int64_t bottom = padded_side(h) - h - top, right = padded_side(w) - w - left;
    // From pinned memory (the scheduler's batches on CUDA) the copy runs beside the host's work.
    auto x = normalise_clip_image(windows.to(windows.options().device(device()), /*non_blocking=*/windows.is_pinned()));
    if (top || bottom || left || right)
        x = F::pad(x, F::PadFuncOptions({left, right, top, bottom}).mode(torch::kConstant).value(0));
    auto logits = logits_of_padded(x);
    logits = logits.narrow(2, top, h).narrow(3, left, w);
    return logits.to(torch::kFloat32);
}

torch::Tensor WindowSegmenter::logits_of_padded(const torch::Tensor& x) {
    const int64_t h = x.size(2), w = x.size(3);
    DeviceStopwatch watch(device());
    auto dense = clip_->visual->dense(x, options_.attention);
    timings_.clip += watch.lap();
    timings_.windows += x.size(0);
    const auto cls = F::normalize(dense.cls, F::NormalizeFuncOptions().dim(1));
    // The global bias (METHOD.md 5): lambda * <c, T_q>, the same for every pixel of a window.
    const auto bias = (options_.cls_lambda * torch::matmul(cls, text_queries_.t())).view({x.size(0), -1, 1, 1});
    // Cosine similarity as <T_q, U(p)> / |U(p)|: one matrix product over the features as they lie,
    // without writing a normalised copy of them (100 MB per 224 window at width 512). `queries`:
    // (N, Q, e), the text queries in the features' coordinates.
    const auto similarity = [&](const torch::Tensor& features, const torch::Tensor& queries) {
        const int64_t n = features.size(0), e = features.size(1), fh = features.size(2), fw = features.size(3);
        if (features.is_contiguous(torch::MemoryFormat::ChannelsLast)) {
            // The upsampler's CPU output: each pixel's features contiguous. The norm along them is a
            // fast contiguous reduction (10 ms for 512 x 224 x 224); clamped like F::normalize.
            const auto pixels = features.permute({0, 2, 3, 1}).reshape({n, fh * fw, e});  // a view
            const auto norms = torch::linalg_vector_norm(pixels, 2, {-1}).clamp_min(1e-12).view({n, 1, fh, fw});
            return torch::bmm(queries, pixels.transpose(1, 2)).view({n, -1, fh, fw}) / norms;
        }
        // sum of squares then sqrt: 2.6x faster than norm(2, 1) over the channel axis in libtorch 1.13
        // (47 vs 124 ms for 512 x 224 x 224); clamped like F::normalize.
        const auto norms = features.square().sum(1, true).sqrt().clamp_min(1e-12);
        return torch::bmm(queries, features.reshape({n, e, fh * fw})).view({n, -1, fh, fw}) / norms;
    };
    torch::Tensor features = dense.patches;
    auto queries = text_queries_.unsqueeze(0).expand({x.size(0), -1, -1});
    watch.lap();  // the [CLS] bias above is too small to report; it is no upsampler time
    if (kind_ == UpsamplerKind::simfeatup && options_.low_rank && device().is_cpu() &&
        upsampler_->low_rank_pays(dense.patches)) {
        // Exact, on the span of the window's h*w features (JbuUpsampler::forward_low_rank): the
        // queries are projected onto the same basis, which keeps every dot product and norm.
        auto low_rank = upsampler_->forward_low_rank(dense.patches, x, kernel_memory());
        features = std::move(low_rank.coefficients);
        queries = torch::bmm(queries, low_rank.basis);
    } else if (kind_ == UpsamplerKind::simfeatup) {
        features = upsampler_->forward(dense.patches, x, kernel_memory());
    }
    if (kind_ == UpsamplerKind::bilinear) features = resize_bilinear(dense.patches, h, w);
    timings_.upsampler += watch.lap();
    auto logits = similarity(features, queries) + bias;
    if (kind_ == UpsamplerKind::none) logits = resize_bilinear(logits, h, w);
    timings_.similarity += watch.lap();
    return logits;
}

}  // namespace segearth::core
