// Comparing tensors in tests with messages that show what differs.
#pragma once

#include <doctest/doctest.h>
#include <torch/torch.h>

namespace segearth::test {

/// max |a - b| / max |b|: the error relative to the scale of the expected values.
inline double relative_error(const torch::Tensor& actual, const torch::Tensor& expected) {
    REQUIRE_MESSAGE(actual.sizes() == expected.sizes(),
                    "shape " << actual.sizes() << " != expected " << expected.sizes());
    const auto a = actual.detach().to(torch::kCPU, torch::kDouble);
    const auto b = expected.detach().to(torch::kCPU, torch::kDouble);
    const double scale = std::max(b.abs().max().item<double>(), 1e-30);
    return (a - b).abs().max().item<double>() / scale;
}

}  // namespace segearth::test
