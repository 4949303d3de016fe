// The --device choice resolved against what libtorch sees.
#pragma once

#include <segearth/pipeline/device.hpp>

#include <torch/types.h>

namespace segearth::pipeline {

/// Throws UsageError naming the flag's value when the CUDA device does not exist.
torch::Device choose_device(const DeviceChoice& choice);

}  // namespace segearth::pipeline
