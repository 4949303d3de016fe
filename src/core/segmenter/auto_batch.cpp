#include <segearth/core/segmenter/auto_batch.hpp>

#include <segearth/error.hpp>

#include <torch/torch.h>

#ifdef SEGEARTH_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>
#endif

#include <algorithm>

namespace segearth::core {

AutoBatch auto_batch(WindowSegmenter& segmenter, int64_t window, double memory_share, int64_t most) {
    AutoBatch batch;
    const auto device = segmenter.device();
    if (!device.is_cuda()) return batch;
#ifdef SEGEARTH_WITH_CUDA
    namespace allocator = c10::cuda::CUDACachingAllocator;
    const c10::DeviceIndex index = device.has_index() ? device.index() : 0;
    const c10::cuda::CUDAGuard guard(index);
    const auto timings = segmenter.timings();
    // Peak bytes allocated during a pass of n windows, above what was allocated before it.
    const auto peak_of = [&](int64_t n) {
        torch::cuda::synchronize(index);
        allocator::emptyCache();
        allocator::resetPeakStats(index);
        const int64_t before = allocator::getDeviceStats(index).allocated_bytes[0].current;
        segmenter.logits_on_device(torch::zeros({n, 3, window, window}, torch::TensorOptions().device(device)));
        torch::cuda::synchronize(index);
        return allocator::getDeviceStats(index).allocated_bytes[0].peak - before;
    };
    const int64_t one = peak_of(1), two = peak_of(2);
    allocator::emptyCache();
    size_t free_bytes = 0, total_bytes = 0;
    if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess)
        throw Error("--batch auto: CUDA could not report device " + std::to_string(index) + "'s free memory");
    batch.free_bytes = static_cast<int64_t>(free_bytes);
    batch.bytes_per_window = std::max<int64_t>(two - one, 1 << 20);
    const int64_t fixed = std::max<int64_t>(one - batch.bytes_per_window, 0);  // what any pass needs
    const auto fits = static_cast<int64_t>((memory_share * static_cast<double>(free_bytes) - static_cast<double>(fixed)) /
                                           static_cast<double>(batch.bytes_per_window));
    batch.windows = std::clamp<int64_t>(fits, 1, most);
    segmenter.restore_timings(timings);
#else
    (void)window, (void)memory_share, (void)most;
    throw Error("--batch auto on " + device.str() + ": this build of segearth has no CUDA support");
#endif
    return batch;
}

}  // namespace segearth::core
