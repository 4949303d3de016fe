// SegEarth-OV on one batch of windows (METHOD.md 3-5): dense CLIP forward with the chosen last-block
// attention, feature upsampling, per-pixel cosine similarity with the text queries, and the [CLS]
// bias term.
//
//   WindowSegmenter seg(clip.model, text_queries, upsampler, {AttentionKind::segearth, -0.3});
//   torch::Tensor logits = seg.logits(windows);   // (N, 3, h, w) RGB in [0, 1] -> (N, Q, h, w)
#pragma once

#include <segearth/core/clip/attention_kind.hpp>
#include <segearth/core/clip_model.hpp>
#include <segearth/core/segmenter/segmenter_types.hpp>
#include <segearth/core/upsampler/jbu.hpp>

#include <string>
#include <vector>

namespace segearth::core {

struct WindowSegmenterOptions {
    AttentionKind attention = AttentionKind::segearth;
    double cls_lambda = -0.3;  ///< weight of <[CLS], T_q> added to every pixel's logit (METHOD.md 5)
    /// SimFeatUp on the span of the window's features where that has fewer channels (exact; CPU only:
    /// not yet measured on CUDA). false: always the full-width path.
    bool low_rank = true;
    /// SimFeatUp on the CPU: each step's kernels of the columns a window shares with the window before
    /// (the next one in a row of sliding windows) taken from that one (JbuKernelMemory; exact).
    /// false: every window computes all of its own.
    bool reuse_kernels = true;
};

class WindowSegmenter {
public:
    /// `text_queries` (Q, E), rows L2-normalised, on the model's device. `upsampler` is required
    /// exactly when `kind` is simfeatup; its feature width must be the model's embedding width.
    WindowSegmenter(ClipModel clip, torch::Tensor text_queries, UpsamplerKind kind, JbuUpsampler upsampler = nullptr,
                    WindowSegmenterOptions options = {});

    /// Logits (N, Q, h, w) on the CPU, float32, for windows (N, 3, h, w) holding RGB in [0, 1] (any
    /// device). Windows whose sides are not multiples of the patch size are zero-padded in normalised
    /// space, floor-half left/top (METHOD.md 3), and the padding is cut off the logits.
    torch::Tensor logits(const torch::Tensor& windows);

    /// The same logits left on the model's device (float32, possibly a view): what the scene
    /// scheduler sums there, so that a GPU copies back only decided rows.
    torch::Tensor logits_on_device(const torch::Tensor& windows);

    int64_t query_count() const { return text_queries_.size(0); }
    int64_t patch_size() const;
    torch::Device device() const;
    const WindowSegmenterOptions& options() const { return options_; }
    const WindowTimings& timings() const { return timings_; }
    /// The upsampler's kernel columns computed and reused so far (reuse_kernels), summed over its steps.
    struct KernelColumns {
        int64_t computed = 0, reused = 0;
    };
    KernelColumns kernel_columns() const;
    /// Puts earlier timings back: passes that were not the user's work (auto_batch's probes).
    void restore_timings(const WindowTimings& timings) { timings_ = timings; }

    /// Smallest window side the upsampler accepts: jbu_one's 11 x 11 reflect-padded window needs at
    /// least 3 tokens (6 pixels after the first x2 step), jbu_stack's 7 x 7 one 2. Smaller windows are
    /// padded up to it.
    int64_t minimum_side() const;

private:
    torch::Tensor logits_of_padded(const torch::Tensor& normalised);
    std::vector<JbuKernelMemory>* kernel_memory();  // none where reuse_kernels is off or not on the CPU

    ClipModel clip_;
    torch::Tensor text_queries_;
    UpsamplerKind kind_;
    JbuUpsampler upsampler_;
    WindowSegmenterOptions options_;
    WindowTimings timings_;
    std::vector<JbuKernelMemory> kernel_memory_;  // the last window's kernels, per upsampler step
};

}  // namespace segearth::core
