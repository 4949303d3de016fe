// SimFeatUp's upsampler, "jbu_one" (METHOD.md 4): one joint bilateral upsampling module applied four
// times with the same weights (x2 each), then a 1x1 fix-up. Parameter names are the authors', so their
// checkpoint loads directly:
//
//   auto up = segearth::core::load_upsampler("simfeatup_vit_b16.ckpt", 512);
//   torch::Tensor U = up->forward(F, window);   // F (N, 512, 14, 14), window (N, 3, 224, 224) -> (N, 512, 224, 224)
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

namespace segearth::core {

/// One joint bilateral upsampling step: source (N, C, h, w) guided by an image -> (N, C, 2h, 2w).
class JbuImpl : public torch::nn::Module {
public:
    static constexpr int64_t radius = 5;  ///< 11 x 11 window
    explicit JbuImpl(int64_t guidance_channels = 3, int64_t key_channels = 32);

    torch::Tensor forward(const torch::Tensor& source, const torch::Tensor& guidance);

    /// The per-pixel kernels (N, 121, 2h, 2w) of one step, fix-up included (exposed for tests). For
    /// inference on the CPU (eval mode, no gradient) laid out pixel-major: an (N, 2h, 2w, 121) tensor
    /// seen through a permuted view, the layout the fused upsample_adaptive_conv reads.
    torch::Tensor kernels(const torch::Tensor& guidance_small);

    torch::Tensor range_temp, sigma_spatial;
    torch::nn::Sequential range_proj{nullptr}, fixup_proj{nullptr};

private:
    // kernels() for CPU inference, the same values computed pixel-major: the softmax, the spatial
    // kernel and the normalisation in one pass over the correlations, then the fix-up's 1x1
    // convolutions as two matrix products over the pixels, with fewer full-size temporaries.
    torch::Tensor pixel_major_kernels(const torch::Tensor& g, const torch::Tensor& temperature,
                                      const torch::Tensor& spatial);
};
TORCH_MODULE(Jbu);

/// The "jbu_one" upsampler: Jbu x 4 (shared weights), then U + 0.1 * conv1x1(U).
class JbuOneImpl : public torch::nn::Module {
public:
    explicit JbuOneImpl(int64_t feature_dim = 512);

    /// features (N, C, h, w), guidance: the normalised window (N, 3, H, W) -> (N, C, 16h, 16w).
    torch::Tensor forward(const torch::Tensor& features, const torch::Tensor& guidance);

    int64_t feature_dim() const { return feature_dim_; }

    Jbu up{nullptr};
    torch::nn::Sequential fixup_proj{nullptr};

private:
    int64_t feature_dim_;
};
TORCH_MODULE(JbuOne);

}  // namespace segearth::core
