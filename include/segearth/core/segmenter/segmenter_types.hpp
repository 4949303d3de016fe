// The window segmenter's plain types, for callers that never touch a tensor (the pipeline's public
// headers, a GUI, the eval code): how features are upsampled and where the time went.
#pragma once

#include <segearth/options/enum_names.hpp>

#include <cstdint>

namespace segearth::core {

/// How patch features reach the window's resolution.
enum class UpsamplerKind {
    simfeatup,  ///< the learned jbu_one upsampler (METHOD.md 4)
    bilinear,   ///< features resized bilinearly to the window, then compared with the queries
    none,       ///< logits at the token grid, resized bilinearly to the window (METHOD.md 5)
};
const options::EnumNames<UpsamplerKind>& upsampler_kinds();
inline const char* to_string(UpsamplerKind kind) { return upsampler_kinds().name(kind); }

/// Where the time of logits() went, in seconds (on CUDA, measured after a synchronisation).
struct WindowTimings {
    double clip = 0, upsampler = 0, similarity = 0;
    int64_t windows = 0;
};

}  // namespace segearth::core
