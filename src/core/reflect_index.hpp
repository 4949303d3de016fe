// Reflection of an index into [0, n) without repeating the edge pixel, as torch's reflection padding
// does: -1 -> 1, n -> n - 2. Valid for i in (-n, 2n - 1).
#pragma once

#include <cstdint>

namespace segearth::core {

inline int64_t reflect_index(int64_t i, int64_t n) { return i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i); }

}  // namespace segearth::core
