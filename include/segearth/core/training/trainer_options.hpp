// The upsampler trainer's settings and per-step results as plain data (no torch), for the pipeline's
// public train.hpp and its callers.
#pragma once

#include <segearth/core/clip/precision.hpp>

#include <cstdint>

namespace segearth::core {

struct JitterOptions {
    int64_t max_pad = 20;   ///< reflection padding in pixels before zooming
    double max_zoom = 2.0;  ///< zoom z ~ U(1, max_zoom) with probability 0.5, else 1
    bool flips = true;      ///< horizontal flip with probability 0.5
};

struct NAdamOptions {
    double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0, momentum_decay = 4e-3;
};

struct TrainerOptions {
    int64_t n_jitters = 5;
    JitterOptions jitter;
    int64_t projection_dim = 30;
    double image_weight = 0.1;  ///< gamma: weight of the content retention loss
    NAdamOptions optimizer;     ///< lr 1e-3
    int64_t clip_grad_steps = 10;  ///< the first steps clip the gradient norm ...
    double clip_grad_norm = 1e-4;  ///< ... to this
    uint64_t seed = 0;             ///< seeds the jitters and libtorch's generator (projections, masks, dropout)
    /// fp32, or bf16: mixed precision, where CLIP's products, the kernel fix-ups' and the CRN's C -> C
    /// convolution multiply in bf16 while weights, optimiser and every other operation stay float32
    /// (no loss scaling needed: bf16 has float32's range). fp16 is refused: it would need loss scaling.
    Precision precision = Precision::fp32;
};

/// Where a step's time went, in seconds (on CUDA, measured after synchronising).
struct StepTimings {
    double clip = 0;               ///< frozen CLIP features of the batch and of every jittered batch
    double upsampler_forward = 0;  ///< the upsampler, every jitter
    double losses = 0;             ///< jitter, downsampler, scale net, CRN
    double backward = 0;           ///< autograd through all of them
    double optimizer = 0;          ///< clipping and the NAdam update
};

struct StepResult {
    int64_t step = 0;  ///< 1-based index of the step just taken
    double loss = 0, reconstruction = 0, image = 0;  ///< summed over the jitters (each / n_jitters)
    double projected_mse = 0;  ///< mean over the jitters of the unweighted projected residual (diagnostic)
    StepTimings timings;
};

}  // namespace segearth::core
