// Comparing tensors in tests with messages that show what differs, and the random inputs they share.
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

/// Q random unit rows of width E (text queries as the segmenter takes them), from `seed`.
inline torch::Tensor random_queries(int64_t q, int64_t e, uint64_t seed = 7) {
    torch::manual_seed(seed);
    const auto rows = torch::randn({q, e});
    return rows / rows.norm(2, 1, true);
}

}  // namespace segearth::test
