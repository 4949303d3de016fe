// The argument checks the upsampler's operators share, with the messages users see.
#pragma once

#include <c10/util/Exception.h>

#include <cmath>
#include <cstdint>

namespace segearth::core::detail {

/// The window radius from a per-pixel kernel's tap count (121 -> 5).
inline int64_t window_radius(int64_t taps) {
    const auto side = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(taps))));
    TORCH_CHECK(side * side == taps && side % 2 == 1, "the kernel has ", taps,
                " channels; expected an odd square number of taps, e.g. 121 for an 11 x 11 window");
    return (side - 1) / 2;
}

/// Reflection padding by `pad` needs more than `pad` pixels on each axis of the map it pads.
inline void check_reflection_padding(int64_t height, int64_t width, int64_t pad) {
    TORCH_CHECK(height > pad && width > pad, "the upsampler's reflection padding needs at least ", pad + 1, " x ",
                pad + 1, " pixels at each step, got ", height, " x ", width,
                ": use a larger window or --upsampler bilinear");
}

}  // namespace segearth::core::detail
