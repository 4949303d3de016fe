// Launchers of the CUDA window primitives (see window_kernels.hpp for what each computes). Plain CUDA
// with raw pointers and no libtorch headers, so the .cu file compiles wherever nvcc exists, including
// machines whose libtorch has no CUDA (the build's compile check uses that).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace segearth::core::detail::cuda {

enum class Dtype { float32, float64, float16, bfloat16 };
enum class Primitive { weighted_sum = 0, correlation = 1, scatter = 2 };

struct Shape {
    int64_t batch, channels, height, width, radius;
};

/// Runs one primitive on `stream`; a, b and out are contiguous device buffers of `dtype`.
/// Returns the launch's error code (cudaSuccess when queued).
cudaError_t launch_window_primitive(Primitive primitive, Dtype dtype, const Shape& shape, const void* a,
                                    const void* b, void* out, cudaStream_t stream);

}  // namespace segearth::core::detail::cuda
