#include "device_choice.hpp"

#include <segearth/error.hpp>

#include <torch/cuda.h>

namespace segearth::pipeline {

torch::Device choose_device(const std::string& name) {
    if (name == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
    if (name != "cpu" && name.rfind("cuda", 0) != 0)
        throw UsageError("--device " + name + ": use auto, cpu, cuda or cuda:N");
    torch::Device device(torch::kCPU);
    try {
        device = torch::Device(name);
    } catch (const c10::Error&) {
        throw UsageError("--device " + name + ": use auto, cpu, cuda or cuda:N");
    }
    if (device.is_cuda()) {
        const auto count = static_cast<int64_t>(torch::cuda::device_count());
        if (count == 0)
            throw UsageError("--device " + name + ": this build of libtorch sees no CUDA device; use --device cpu");
        if (device.index() >= count)
            throw UsageError("--device " + name + ": there are " + std::to_string(count) + " CUDA devices (0.." +
                             std::to_string(count - 1) + ")");
    }
    return device;
}

}  // namespace segearth::pipeline
