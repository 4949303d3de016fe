// The --device choice resolved against what libtorch sees.
#pragma once

#include <segearth/core/clip/precision.hpp>
#include <segearth/pipeline/device.hpp>

#include <torch/types.h>

#include <optional>

namespace segearth::pipeline {

/// Throws UsageError naming the flag's value when the CUDA device does not exist.
torch::Device choose_device(const DeviceChoice& choice);

/// --precision resolved for the device: auto is `cuda_auto` on CUDA and fp32 on the CPU. fp16 on the
/// CPU, and bf16 on a CPU that only emulates it, are refused with what to use instead.
core::Precision resolve_precision(const std::optional<core::Precision>& asked, const torch::Device& device,
                                  core::Precision cuda_auto);

}  // namespace segearth::pipeline
