// The global sliding-window grid of METHOD.md 6 along one axis: windows of `window` pixels every
// `stride`, the last one pulled back to end at the border; one window covering everything when the
// image is smaller than a window.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace segearth::core {

struct Span {
    int64_t begin = 0, end = 0;  ///< [begin, end)
    int64_t size() const { return end - begin; }
    bool overlaps(int64_t b, int64_t e) const { return begin < e && b < end; }
};

inline std::vector<Span> window_spans(int64_t size, int64_t window, int64_t stride) {
    const int64_t n = std::max<int64_t>(size - window + stride - 1, 0) / stride + 1;
    std::vector<Span> spans;
    spans.reserve(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        const int64_t end = std::min(i * stride + window, size);
        spans.push_back({std::max<int64_t>(end - window, 0), end});
    }
    return spans;
}

}  // namespace segearth::core
