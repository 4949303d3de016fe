// The --device flag: auto, cpu, cuda or cuda:N, checked against what libtorch sees.
#pragma once

#include <torch/types.h>

#include <string>

namespace segearth::pipeline {

/// "auto" is the first CUDA device when there is one, else the CPU. Throws UsageError naming the
/// flag's value and the valid choices.
torch::Device choose_device(const std::string& name);

}  // namespace segearth::pipeline
