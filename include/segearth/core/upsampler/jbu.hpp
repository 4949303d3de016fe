// The joint bilateral upsamplers x16 of CLIP features, guided by the window image, in their two trained
// forms: SimFeatUp's "jbu_one" (METHOD.md 4: one module with an 11 x 11 window applied four times with the
// same weights) and FeatUp's "jbu_stack" (METHOD.md 4b: four independent modules with 7 x 7 windows),
// each followed by the same 1x1 fix-up. Parameter names are the authors', so their checkpoints load
// directly:
//
//   auto up = segearth::core::load_upsampler("xclip_jbu_one_million_aid.ckpt", 512).model;
//   torch::Tensor U = up->forward(F, window);   // F (N, 512, 14, 14), window (N, 3, 224, 224) -> (N, 512, 224, 224)
#pragma once

#include <segearth/core/clip/precision.hpp>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include <vector>

namespace segearth::core {

class JbuImpl;

/// What one step keeps of the last window it computed kernels for, so that the next window, whose
/// guidance repeats the last one's shifted left (overlapping sliding windows in a row), takes the
/// kernels of the shared columns instead of computing them again: a pixel's kernel depends only on
/// the guidance in its own (2r+1)^2 window, so away from both windows' reflected borders the values
/// are the same. Found from the guidance itself (exact equality), never from positions, so any
/// sequence of windows is safe. CPU inference only; one memory per step of one upsampler.
struct JbuKernelMemory {
    torch::Tensor guidance;  ///< (1, G, h, w): the last window's guidance at this step
    torch::Tensor kernels;   ///< (1, h, w, T) pixel-major: its kernels
    const JbuImpl* step = nullptr;
    Precision precision = Precision::fp32;
    int64_t computed_columns = 0, reused_columns = 0;  ///< window columns so far, for tests and benchmarks
};

/// One joint bilateral upsampling step: source (N, C, h, w) guided by an image -> (N, C, 2h, 2w).
class JbuImpl : public torch::nn::Module {
public:
    /// radius 5: jbu_one's 11 x 11 window; 3: jbu_stack's 7 x 7.
    explicit JbuImpl(int64_t radius = 5, int64_t guidance_channels = 3, int64_t key_channels = 32);

    int64_t radius() const { return radius_; }

    /// `memory`: this step's JbuKernelMemory across windows (CPU inference; elsewhere unused), or none.
    torch::Tensor forward(const torch::Tensor& source, const torch::Tensor& guidance, JbuKernelMemory* memory = nullptr);

    /// The per-pixel kernels (N, taps, 2h, 2w) of one step, fix-up included (exposed for tests). For
    /// inference on the CPU (eval mode, no gradient) laid out pixel-major: an (N, 2h, 2w, taps) tensor
    /// seen through a permuted view, the layout the fused upsample_adaptive_conv reads; there `memory`
    /// (if any) supplies the columns a window shares with the one before and keeps this one's.
    torch::Tensor kernels(const torch::Tensor& guidance_small, JbuKernelMemory* memory = nullptr);

    /// bf16 or fp16: the kernel fix-up's two 1x1 convolutions, the step's largest matrix products,
    /// multiply in that format (accumulating in float32; the weights stay float32), on the CPU inference
    /// path (bf16 only) and on the path autograd and CUDA take (training, segment on CUDA); their result
    /// is scaled by 0.1 before it joins the float32 kernel (test_precision.cpp: within 0.3 % of the fp32
    /// kernels). Everything else unchanged.
    void set_precision(Precision precision) { precision_ = precision; }

    torch::Tensor range_temp, sigma_spatial;
    torch::nn::Sequential range_proj{nullptr}, fixup_proj{nullptr};

private:
    // kernels() for CPU inference, the same values computed pixel-major: the softmax, the spatial
    // kernel and the normalisation in one pass over the correlations, then the fix-up's 1x1
    // convolutions as two matrix products over the pixels, with fewer full-size temporaries.
    torch::Tensor pixel_major_kernels(const torch::Tensor& g, const torch::Tensor& temperature,
                                      const torch::Tensor& spatial, JbuKernelMemory* memory);
    // Pixel-major kernels of columns [c0, c1) of windows with guidance g (N, G, h, w), range keys `keys`
    // (N, 32, h, w) and the same reflection-padded by the radius (N, 32, h + 2r, w + 2r), written into
    // dst (N, h, c1 - c0, T; its last axis contiguous).
    void kernel_columns(const torch::Tensor& g, const torch::Tensor& keys, const torch::Tensor& padded_keys,
                        int64_t c0, int64_t c1, const torch::Tensor& temperature, const torch::Tensor& spatial,
                        const torch::Tensor& dst);
    torch::Tensor range_keys(const torch::Tensor& g);

    int64_t radius_;
    Precision precision_ = Precision::fp32;
};
TORCH_MODULE(Jbu);

enum class JbuArchitecture {
    one,    ///< SimFeatUp: module "up" (radius 5) applied at every step
    stack,  ///< FeatUp: modules "up1" .. "up4" (radius 3), one per step
};

/// "jbu_one" or "jbu_stack", the names the authors' configurations use.
const char* to_string(JbuArchitecture architecture);

/// Four x2 JBU steps (the architecture says which modules), then U + 0.1 * conv1x1(U).
class JbuUpsamplerImpl : public torch::nn::Module {
public:
    explicit JbuUpsamplerImpl(int64_t feature_dim = 512, JbuArchitecture architecture = JbuArchitecture::one);

    /// features (N, C, h, w), guidance: the normalised window (N, 3, H, W) -> (N, C, 16h, 16w).
    /// `memory` as for forward_low_rank.
    torch::Tensor forward(const torch::Tensor& features, const torch::Tensor& guidance,
                          std::vector<JbuKernelMemory>* memory = nullptr);

    /// The same result in the span of the window's features (inference only). Every step applies one
    /// spatial operator, made from the image alone, to each channel alike, so forward(F) = Q U(Q^T F)
    /// + b for any orthonormal Q whose span holds F's h*w columns and the fix-up's bias b: the steps
    /// run on r = h*w + 1 channels instead of C (padded with zero columns of Q to a multiple of 16, the
    /// CPU kernel's channel block). Returns the coefficients (N, r, 16h, 16w) with b's added, and Q
    /// (N, C, r); a dot product or a norm of a pixel's features is the same on its coefficients
    /// (against Q^T of the other vector). Worth it where h*w + 1 < C (low_rank_pays).
    struct LowRank {
        torch::Tensor coefficients, basis;
    };
    /// `memory` (CPU inference): one JbuKernelMemory per step, kept by the caller from window to
    /// window (resized here), or none.
    LowRank forward_low_rank(const torch::Tensor& features, const torch::Tensor& guidance,
                             std::vector<JbuKernelMemory>* memory = nullptr);
    /// Whether forward_low_rank saves work for these features: h*w + 1 < C, and inference.
    bool low_rank_pays(const torch::Tensor& features) const;

    /// The number format of the steps' kernel fix-ups (JbuImpl::set_precision), as segment's --precision.
    void set_precision(Precision precision);

    int64_t feature_dim() const { return feature_dim_; }
    JbuArchitecture architecture() const { return architecture_; }
    /// The module of x2 step `index` (0..3): the same one four times in jbu_one.
    Jbu& step(size_t index) { return steps_.at(index); }
    const Jbu& step(size_t index) const { return steps_.at(index); }

    torch::nn::Sequential fixup_proj{nullptr};

private:
    int64_t feature_dim_;
    JbuArchitecture architecture_;
    std::vector<Jbu> steps_;
};
TORCH_MODULE(JbuUpsampler);

}  // namespace segearth::core
