// The benchmarks' report of peak GPU memory: what libtorch's caching allocator handed out at most on
// the device since the process began (nothing is printed off CUDA or in a build without it).
#pragma once

#include <torch/types.h>

#include <cstdio>

#ifdef SEGEARTH_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace segearth::bench {

inline void print_peak_gpu_memory(const torch::Device& device) {
#ifdef SEGEARTH_WITH_CUDA
    if (device.is_cuda()) {
        const auto memory = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index() < 0 ? 0 : device.index());
        std::printf("  peak GPU memory %.0f MB\n",
                    static_cast<double>(memory.allocated_bytes[0].peak) / (1024.0 * 1024.0));
    }
#endif
    (void)device;
}

}  // namespace segearth::bench
