// CPU kernels behind separable_resample, on raw contiguous buffers of `planes` planes; parallel over
// planes. Built with OpenMP and without the precompiled torch header (see src/core/CMakeLists.txt).
#pragma once

#include <cstdint>

namespace segearth::core::detail {

struct TapTable {
    const int64_t* index;  ///< (n, taps)
    const double* weight;  ///< (n, taps)
    int64_t n, taps;
};

/// src (planes, H, W) -> dst (planes, rows.n, cols.n).
template <class T>
void separable_resample_cpu(const T* src, int64_t planes, int64_t H, int64_t W, const TapTable& rows,
                            const TapTable& cols, T* dst);

/// The transpose: grad (planes, rows.n, cols.n) -> grad_src (planes, H, W), overwritten.
template <class T>
void separable_resample_backward_cpu(const T* grad, int64_t planes, int64_t H, int64_t W, const TapTable& rows,
                                     const TapTable& cols, T* grad_src);

}  // namespace segearth::core::detail
