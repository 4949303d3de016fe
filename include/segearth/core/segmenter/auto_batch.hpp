// --batch auto: how many windows one forward pass takes on the segmenter's device.
#pragma once

#include <segearth/core/segmenter/window_segmenter.hpp>

#include <cstdint>

namespace segearth::core {

struct AutoBatch {
    int64_t windows = 1;
    int64_t bytes_per_window = 0;  ///< measured on CUDA; 0 on the CPU
    int64_t free_bytes = 0;        ///< the device's free memory before the probe (CUDA)
};

/// On the CPU one window (larger batches gain nothing on a few cores and cost memory). On CUDA as
/// many `window` x `window` windows as `memory_share` of the free GPU memory holds, at most `most`:
/// measured by two probe passes of 1 and 2 windows, whose difference in peak memory is what one more
/// window costs (the model's own memory cancels). The probes' time is not added to the timings.
AutoBatch auto_batch(WindowSegmenter& segmenter, int64_t window, double memory_share = 0.5, int64_t most = 256);

}  // namespace segearth::core
