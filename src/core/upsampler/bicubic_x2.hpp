// The two fixed weight sets of an exact x2 bicubic upsampling (torch's upsample_bicubic2d, A = -0.75,
// align_corners false): output 2k samples input k - 0.25 from taps k-2..k+1, output 2k+1 samples
// k + 0.25 from taps k-1..k+2 (taps clamped to the border, as torch clamps).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

namespace segearth::core::detail {

template <class T>
struct BicubicX2 {
    std::array<T, 4> even{}, odd{};

    BicubicX2() {
        // Keys' cubic convolution weights of the four taps around a sample at fraction t.
        const auto weights = [](double t) {
            constexpr double A = -0.75;
            const auto near = [](double x) { return ((A + 2) * x - (A + 3)) * x * x + 1; };
            const auto far = [](double x) { return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A; };
            return std::array<double, 4>{far(t + 1), near(t), near(1 - t), far(2 - t)};
        };
        const auto e = weights(0.75), o = weights(0.25);
        for (int i = 0; i < 4; ++i) even[i] = static_cast<T>(e[i]), odd[i] = static_cast<T>(o[i]);
    }

    /// The weights of output `i` (of 2n) and the first of its four input taps (before clamping); the
    /// taps follow the same rule for coordinates outside [0, 2n) (floor(i / 2) - 2 or - 1).
    const std::array<T, 4>& weights_of(int64_t i) const { return i % 2 == 0 ? even : odd; }
    static int64_t first_tap(int64_t i) {
        const int64_t half = i >= 0 ? i / 2 : -((1 - i) / 2);  // floor(i / 2)
        return half - (i - 2 * half == 0 ? 2 : 1);
    }
    static int64_t clamp_tap(int64_t i, int64_t n) { return std::clamp<int64_t>(i, 0, n - 1); }
};

}  // namespace segearth::core::detail
