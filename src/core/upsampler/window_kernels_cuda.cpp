// Glue between libtorch tensors and the CUDA launchers; compiled only when libtorch has CUDA.
#include "upsampler/window_kernels.hpp"
#include "upsampler/window_kernels_cuda.cuh"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/types.h>

namespace segearth::core::detail {

void run_window_primitive_cuda(int primitive, const WindowShape& s, const at::Tensor& a, const at::Tensor& b,
                               at::Tensor& out) {
    namespace cu = segearth::core::detail::cuda;
    cu::Dtype dtype{};
    switch (a.scalar_type()) {
        case at::kFloat: dtype = cu::Dtype::float32; break;
        case at::kDouble: dtype = cu::Dtype::float64; break;
        case at::kHalf: dtype = cu::Dtype::float16; break;
        case at::kBFloat16: dtype = cu::Dtype::bfloat16; break;
        default: TORCH_CHECK(false, "the CUDA adaptive convolution takes float32, float64, float16 or bfloat16, got ",
                             a.scalar_type());
    }
    TORCH_CHECK(b.device() == a.device(), "inputs are on ", a.device(), " and ", b.device());
    const c10::cuda::CUDAGuard guard(a.device());
    const cu::Shape shape{s.batch, s.channels, s.height, s.width, s.radius};
    const auto error = cu::launch_window_primitive(static_cast<cu::Primitive>(primitive), dtype, shape, a.data_ptr(),
                                                   b.data_ptr(), out.data_ptr(),
                                                   at::cuda::getCurrentCUDAStream(a.device().index()).stream());
    TORCH_CHECK(error == cudaSuccess, "CUDA window kernel failed: ", cudaGetErrorString(error));
}

}  // namespace segearth::core::detail
