// CUDA kernels of the window primitives. Threads run along x so that every load of a row is
// coalesced; each thread accumulates in float (double for float64) whatever the storage type.
#include "window_kernels_cuda.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace segearth::core::detail::cuda {
namespace {

constexpr int threads_per_block = 256;
constexpr int channel_block = 8;  // channels per thread sharing each kernel tap they load

template <typename T> struct Accumulator { using type = float; };
template <> struct Accumulator<double> { using type = double; };

template <typename T> __device__ __forceinline__ typename Accumulator<T>::type load(const T* p) {
    return static_cast<typename Accumulator<T>::type>(*p);
}
template <> __device__ __forceinline__ float load<__half>(const __half* p) { return __half2float(*p); }
template <> __device__ __forceinline__ float load<__nv_bfloat16>(const __nv_bfloat16* p) {
    return __bfloat162float(*p);
}

template <typename T, typename A> __device__ __forceinline__ void store(T* p, A v) { *p = static_cast<T>(v); }
template <> __device__ __forceinline__ void store<__half, float>(__half* p, float v) { *p = __float2half(v); }
template <> __device__ __forceinline__ void store<__nv_bfloat16, float>(__nv_bfloat16* p, float v) {
    *p = __float2bfloat16(v);
}

// grid: (pixels / threads, channel blocks, batch)
template <typename T>
__global__ void weighted_sum_kernel(Shape s, const T* __restrict__ xp, const T* __restrict__ k, T* __restrict__ out) {
    using A = typename Accumulator<T>::type;
    const int64_t hw = s.height * s.width;
    const int64_t pixel = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
    if (pixel >= hw) return;
    const int64_t y = pixel / s.width, x = pixel % s.width, n = blockIdx.z;
    const int64_t side = 2 * s.radius + 1, pw = s.width + 2 * s.radius, phw = (s.height + 2 * s.radius) * pw;
    const int64_t c0 = int64_t(blockIdx.y) * channel_block;
    const int nc = int(min(int64_t(channel_block), s.channels - c0));
    A acc[channel_block] = {};
    const T* k_pixel = k + n * side * side * hw + pixel;
    const T* xp_c0 = xp + (n * s.channels + c0) * phw;
    for (int64_t dy = 0; dy < side; ++dy) {
        for (int64_t dx = 0; dx < side; ++dx) {
            const A w = load(k_pixel + (dy * side + dx) * hw);
            const T* src = xp_c0 + (y + dy) * pw + x + dx;
#pragma unroll
            for (int c = 0; c < channel_block; ++c)
                if (c < nc) acc[c] += w * load(src + c * phw);
        }
    }
    T* out_c0 = out + (n * s.channels + c0) * hw + pixel;
#pragma unroll
    for (int c = 0; c < channel_block; ++c)
        if (c < nc) store(out_c0 + c * hw, acc[c]);
}

// grid: (pixels / threads, window rows dy, batch); each thread sums all channels for one dy's taps.
template <typename T>
__global__ void correlation_kernel(Shape s, const T* __restrict__ xp, const T* __restrict__ b, T* __restrict__ out) {
    using A = typename Accumulator<T>::type;
    constexpr int max_side = 32;
    const int64_t hw = s.height * s.width;
    const int64_t pixel = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
    if (pixel >= hw) return;
    const int64_t y = pixel / s.width, x = pixel % s.width, n = blockIdx.z, dy = blockIdx.y;
    const int side = int(2 * s.radius + 1);
    const int64_t pw = s.width + 2 * s.radius, phw = (s.height + 2 * s.radius) * pw;
    A acc[max_side] = {};
    for (int64_t c = 0; c < s.channels; ++c) {
        const A center = load(b + (n * s.channels + c) * hw + pixel);
        const T* src = xp + (n * s.channels + c) * phw + (y + dy) * pw + x;
        for (int dx = 0; dx < side; ++dx) acc[dx] += center * load(src + dx);
    }
    T* out_row = out + (n * side * side + dy * side) * hw + pixel;
    for (int dx = 0; dx < side; ++dx) store(out_row + dx * hw, acc[dx]);
}

// grid: (padded pixels / threads, channel blocks, batch); a gather, so no atomics are needed.
template <typename T>
__global__ void scatter_kernel(Shape s, const T* __restrict__ k, const T* __restrict__ g, T* __restrict__ out) {
    using A = typename Accumulator<T>::type;
    const int64_t pw = s.width + 2 * s.radius, phw = (s.height + 2 * s.radius) * pw, hw = s.height * s.width;
    const int64_t pixel = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
    if (pixel >= phw) return;
    const int64_t Y = pixel / pw, X = pixel % pw, n = blockIdx.z;
    const int64_t side = 2 * s.radius + 1;
    const int64_t c0 = int64_t(blockIdx.y) * channel_block;
    const int nc = int(min(int64_t(channel_block), s.channels - c0));
    A acc[channel_block] = {};
    const T* g_c0 = g + (n * s.channels + c0) * hw;
    for (int64_t dy = 0; dy < side; ++dy) {
        const int64_t y = Y - dy;
        if (y < 0 || y >= s.height) continue;
        for (int64_t dx = 0; dx < side; ++dx) {
            const int64_t x = X - dx;
            if (x < 0 || x >= s.width) continue;
            const A w = load(k + (n * side * side + dy * side + dx) * hw + y * s.width + x);
#pragma unroll
            for (int c = 0; c < channel_block; ++c)
                if (c < nc) acc[c] += w * load(g_c0 + c * hw + y * s.width + x);
        }
    }
    T* out_c0 = out + (n * s.channels + c0) * phw + pixel;
#pragma unroll
    for (int c = 0; c < channel_block; ++c)
        if (c < nc) store(out_c0 + c * phw, acc[c]);
}

unsigned blocks_for(int64_t items) { return unsigned((items + threads_per_block - 1) / threads_per_block); }

template <typename T>
cudaError_t launch(Primitive primitive, const Shape& s, const void* a, const void* b, void* out, cudaStream_t stream) {
    const int64_t side = 2 * s.radius + 1;
    if (side > 32 || s.batch > 65535) return cudaErrorInvalidValue;
    const auto* pa = static_cast<const T*>(a);
    const auto* pb = static_cast<const T*>(b);
    auto* po = static_cast<T*>(out);
    const unsigned channel_blocks = unsigned((s.channels + channel_block - 1) / channel_block);
    const int64_t pixels = s.height * s.width;
    const int64_t padded_pixels = (s.height + 2 * s.radius) * (s.width + 2 * s.radius);
    switch (primitive) {
        case Primitive::weighted_sum:
            weighted_sum_kernel<T><<<dim3(blocks_for(pixels), channel_blocks, unsigned(s.batch)), threads_per_block, 0,
                                     stream>>>(s, pa, pb, po);
            break;
        case Primitive::correlation:
            correlation_kernel<T><<<dim3(blocks_for(pixels), unsigned(side), unsigned(s.batch)), threads_per_block, 0,
                                    stream>>>(s, pa, pb, po);
            break;
        case Primitive::scatter:
            scatter_kernel<T><<<dim3(blocks_for(padded_pixels), channel_blocks, unsigned(s.batch)), threads_per_block,
                                0, stream>>>(s, pa, pb, po);
            break;
    }
    return cudaGetLastError();
}

}  // namespace

cudaError_t launch_window_primitive(Primitive primitive, Dtype dtype, const Shape& shape, const void* a,
                                    const void* b, void* out, cudaStream_t stream) {
    switch (dtype) {
        case Dtype::float32: return launch<float>(primitive, shape, a, b, out, stream);
        case Dtype::float64: return launch<double>(primitive, shape, a, b, out, stream);
        case Dtype::float16: return launch<__half>(primitive, shape, a, b, out, stream);
        case Dtype::bfloat16: return launch<__nv_bfloat16>(primitive, shape, a, b, out, stream);
    }
    return cudaErrorInvalidValue;
}

}  // namespace segearth::core::detail::cuda
