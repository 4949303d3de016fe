#include "device_choice.hpp"

#include <segearth/core/blas_runtime.hpp>
#include <segearth/error.hpp>

#include <torch/cuda.h>

#include <cctype>
#include <cstdlib>

namespace segearth::pipeline {

DeviceChoice DeviceChoice::parse(const std::string& text, const std::string& flag) {
    const auto refuse = [&] { return UsageError(flag + " " + text + ": use auto, cpu, cuda or cuda:N"); };
    if (text == "auto") return {Kind::automatic, 0};
    if (text == "cpu") return {Kind::cpu, 0};
    if (text == "cuda") return {Kind::cuda, 0};
    if (text.rfind("cuda:", 0) != 0 || text.size() == 5) throw refuse();
    char* end = nullptr;
    const long index = std::strtol(text.c_str() + 5, &end, 10);
    if (*end != '\0' || index < 0 || index > 1024 || !std::isdigit(static_cast<unsigned char>(text[5]))) throw refuse();
    return {Kind::cuda, static_cast<int>(index)};
}

std::string DeviceChoice::name() const {
    switch (kind) {
        case Kind::automatic: return "auto";
        case Kind::cpu: return "cpu";
        case Kind::cuda: return index == 0 ? "cuda" : "cuda:" + std::to_string(index);
    }
    return "auto";
}

torch::Device choose_device(const DeviceChoice& choice) {
    if (choice.kind == DeviceChoice::Kind::automatic)
        return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
    if (choice.kind == DeviceChoice::Kind::cpu) return torch::Device(torch::kCPU);
    const auto count = static_cast<int64_t>(torch::cuda::device_count());
    if (count == 0)
        throw UsageError("--device " + choice.name() + ": this build of libtorch sees no CUDA device; use --device cpu");
    if (choice.index >= count)
        throw UsageError("--device " + choice.name() + ": there are " + std::to_string(count) + " CUDA devices (0.." +
                         std::to_string(count - 1) + ")");
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(choice.index));
}

core::Precision resolve_precision(const std::optional<core::Precision>& asked, const torch::Device& device,
                                  core::Precision cuda_auto) {
    if (!asked) return device.is_cuda() ? cuda_auto : core::Precision::fp32;
    const auto precision = *asked;
    if (!device.is_cpu()) return precision;
    if (precision == core::Precision::fp16)
        throw UsageError("--precision fp16: libtorch multiplies fp16 only on CUDA; on the CPU use --precision bf16 "
                         "(where the CPU has native bf16) or fp32");
    if (precision == core::Precision::bf16 && !core::cpu_has_native_bf16())
        throw UsageError("--precision bf16: this CPU has no native bf16 (AVX512_BF16 or AMX; it has: " +
                         core::blas_report().cpu_features + "), where bf16 is emulated and slower than fp32: use "
                         "--precision fp32");
    return precision;
}

}  // namespace segearth::pipeline
