// Time splits of work queued on a device: a lap ends only after the device has finished what was
// queued (CUDA runs asynchronously; without the synchronisation a lap would time the queueing).
#pragma once

#include <segearth/stopwatch.hpp>

#include <torch/cuda.h>
#include <torch/types.h>

namespace segearth::core {

class DeviceStopwatch {
public:
    explicit DeviceStopwatch(const torch::Device& device) : device_(device) {}
    /// Seconds since the last lap (or construction), after the device's queued work.
    double lap() {
        if (device_.is_cuda()) torch::cuda::synchronize(device_.index());
        const double s = clock_.seconds();
        clock_.restart();
        return s;
    }

private:
    torch::Device device_;
    Stopwatch clock_;
};

}  // namespace segearth::core
