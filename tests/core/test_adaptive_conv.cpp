// The adaptive convolution and local correlation against unfold+einsum references, and their
// gradients against finite differences in double precision.
#include <doctest/doctest.h>

#include <segearth/core/upsampler/adaptive_conv.hpp>

#include "support/reference_operators.hpp"
#include "support/tensor_checks.hpp"

#include <torch/cuda.h>

using namespace segearth::core;
using segearth::test::relative_error;

namespace {

struct Case {
    int64_t n, c, h, w, r;
};

// Shapes chosen to hit the kernels' edges: channel counts that are not multiples of the 4-channel
// block, widths that are not multiples of the 16-wide tile, 1-pixel images, non-square windows.
const std::vector<Case> cases{{1, 1, 1, 1, 1},   {1, 3, 5, 7, 1},  {2, 5, 9, 4, 2},  {1, 8, 16, 16, 5},
                              {2, 17, 11, 35, 5}, {1, 64, 3, 70, 3}, {1, 512, 6, 40, 5}};

torch::Tensor padded_input(const Case& k, torch::ScalarType type = torch::kFloat) {
    return torch::randn({k.n, k.c, k.h + 2 * k.r, k.w + 2 * k.r}, type);
}

torch::Tensor per_pixel_kernel(const Case& k, torch::ScalarType type = torch::kFloat) {
    const int64_t side = 2 * k.r + 1;
    return torch::randn({k.n, side * side, k.h, k.w}, type);
}

// d(sum(out * upstream)) / d(input) by central differences, one element at a time.
torch::Tensor numeric_gradient(const std::function<torch::Tensor()>& f, torch::Tensor input,
                               const torch::Tensor& upstream) {
    auto grad = torch::zeros_like(input);
    auto flat = input.view(-1);
    auto grad_flat = grad.view(-1);
    const double eps = 1e-6;
    for (int64_t i = 0; i < flat.numel(); ++i) {
        const double saved = flat[i].item<double>();
        flat[i] = saved + eps;
        const double plus = (f() * upstream).sum().item<double>();
        flat[i] = saved - eps;
        const double minus = (f() * upstream).sum().item<double>();
        flat[i] = saved;
        grad_flat[i] = (plus - minus) / (2 * eps);
    }
    return grad;
}

}  // namespace

TEST_CASE("adaptive_conv equals the unfold reference on many shapes") {
    torch::manual_seed(1);
    torch::NoGradGuard no_grad;
    for (const auto& k : cases) {
        CAPTURE(k.c);
        CAPTURE(k.h);
        CAPTURE(k.w);
        const auto x = padded_input(k), kernel = per_pixel_kernel(k);
        CHECK(relative_error(adaptive_conv(x, kernel), segearth::test::adaptive_conv_reference(x, kernel)) <= 1e-5);
    }
}

TEST_CASE("local_correlation equals the unfold reference on many shapes") {
    torch::manual_seed(2);
    torch::NoGradGuard no_grad;
    for (const auto& k : cases) {
        CAPTURE(k.c);
        CAPTURE(k.w);
        const auto x = padded_input(k);
        const auto center = torch::randn({k.n, k.c, k.h, k.w});
        CHECK(relative_error(local_correlation(x, center), segearth::test::local_correlation_reference(x, center)) <= 1e-5);
    }
}

TEST_CASE("adaptive_conv gradients for both inputs match finite differences (double)") {
    torch::manual_seed(3);
    for (const Case k : {Case{1, 3, 4, 5, 1}, Case{2, 5, 3, 6, 2}}) {
        auto x = padded_input(k, torch::kDouble).requires_grad_();
        auto kernel = per_pixel_kernel(k, torch::kDouble).requires_grad_();
        const auto upstream = torch::randn({k.n, k.c, k.h, k.w}, torch::kDouble);
        (adaptive_conv(x, kernel) * upstream).sum().backward();
        torch::NoGradGuard no_grad;
        const auto f = [&] { return adaptive_conv(x, kernel); };
        CHECK(relative_error(x.grad(), numeric_gradient(f, x.detach(), upstream)) < 1e-7);
        CHECK(relative_error(kernel.grad(), numeric_gradient(f, kernel.detach(), upstream)) < 1e-7);
    }
}

TEST_CASE("local_correlation gradients for both inputs match finite differences (double)") {
    torch::manual_seed(4);
    for (const Case k : {Case{1, 3, 4, 5, 1}, Case{2, 2, 3, 6, 2}}) {
        auto x = padded_input(k, torch::kDouble).requires_grad_();
        auto center = torch::randn({k.n, k.c, k.h, k.w}, torch::kDouble).requires_grad_();
        const int64_t side = 2 * k.r + 1;
        const auto upstream = torch::randn({k.n, side * side, k.h, k.w}, torch::kDouble);
        (local_correlation(x, center) * upstream).sum().backward();
        torch::NoGradGuard no_grad;
        const auto f = [&] { return local_correlation(x, center); };
        CHECK(relative_error(x.grad(), numeric_gradient(f, x.detach(), upstream)) < 1e-7);
        CHECK(relative_error(center.grad(), numeric_gradient(f, center.detach(), upstream)) < 1e-7);
    }
}

TEST_CASE("mismatched shapes are refused with what was expected") {
    const auto x = torch::zeros({1, 4, 10, 10});
    CHECK_THROWS_WITH_AS(adaptive_conv(x, torch::zeros({1, 120, 4, 4})),
                         doctest::Contains("the kernel has 120 channels; expected an odd square number of taps"),
                         c10::Error);
    CHECK_THROWS_WITH_AS(adaptive_conv(x, torch::zeros({1, 121, 4, 4})),
                         doctest::Contains("padded input [1, 4, 10, 10] does not match the per-pixel input [1, 121, 4, "
                                           "4] with a window radius of 5: expected (1, C, 14, 14)"),
                         c10::Error);
    CHECK_THROWS_WITH_AS(adaptive_conv(x.to(torch::kHalf), torch::zeros({1, 9, 8, 8}, torch::kHalf)),
                         doctest::Contains("on the CPU the adaptive convolution takes float32 or float64, got Half"),
                         c10::Error);
}

// The CUDA kernels against the CPU ones; these run where a GPU and a CUDA libtorch are present.
TEST_CASE("CUDA kernels equal the CPU kernels, forward and backward, in float32" *
          doctest::skip(!adaptive_conv_has_cuda() || !torch::cuda::is_available())) {
    torch::manual_seed(5);
    for (const auto& k : cases) {
        CAPTURE(k.c);
        CAPTURE(k.w);
        auto x = padded_input(k).requires_grad_();
        auto kernel = per_pixel_kernel(k).requires_grad_();
        auto center = torch::randn({k.n, k.c, k.h, k.w}).requires_grad_();
        const auto upstream = torch::randn({k.n, k.c, k.h, k.w});
        const auto out = adaptive_conv(x, kernel);
        const auto grads = torch::autograd::grad({out}, {x, kernel}, {upstream});

        auto xc = x.detach().cuda().requires_grad_();
        auto kc = kernel.detach().cuda().requires_grad_();
        const auto out_cuda = adaptive_conv(xc, kc);
        const auto grads_cuda = torch::autograd::grad({out_cuda}, {xc, kc}, {upstream.cuda()});
        CHECK(relative_error(out_cuda, out) < 1e-5);
        CHECK(relative_error(grads_cuda[0], grads[0]) < 1e-5);
        CHECK(relative_error(grads_cuda[1], grads[1]) < 1e-5);

        const auto corr = local_correlation(x.detach(), center.detach());
        CHECK(relative_error(local_correlation(x.detach().cuda(), center.detach().cuda()), corr) < 1e-5);
    }
}

TEST_CASE("CUDA kernels in float16 and bfloat16 stay close to float32" *
          doctest::skip(!adaptive_conv_has_cuda() || !torch::cuda::is_available())) {
    torch::manual_seed(6);
    const Case k{2, 64, 20, 28, 5};
    const auto x = padded_input(k).cuda();
    const auto kernel = torch::softmax(per_pixel_kernel(k), 1).cuda();
    const auto reference = adaptive_conv(x, kernel);
    CHECK(relative_error(adaptive_conv(x.to(torch::kHalf), kernel.to(torch::kHalf)), reference) < 5e-3);
    CHECK(relative_error(adaptive_conv(x.to(torch::kBFloat16), kernel.to(torch::kBFloat16)), reference) < 3e-2);
}
