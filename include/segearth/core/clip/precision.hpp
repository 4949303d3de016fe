// The number format CLIP's vision transformer multiplies in (--precision): fp32 is the reference for
// every accuracy figure; bf16 runs the blocks' matrix products through oneDNN (about 4x the float32 rate
// on CPUs with native bf16, AVX512_BF16 or AMX; CLIP as a whole 2-3x); fp16 is for CUDA (libtorch has no
// CPU fp16 matrix product).
// LayerNorms, the residual stream, the last block's affinities, ln_post/proj, and the similarity stay
// float32 in every mode (clip_blocks.cpp says why); of the upsampler, bf16 converts only the kernel
// fix-up's matrix products (JbuImpl::set_precision).
#pragma once

#include <segearth/options/enum_names.hpp>

#include <optional>

namespace segearth::core {

enum class Precision { fp32, bf16, fp16 };

/// The names users type (--precision) and metadata records.
const options::EnumNames<Precision>& precisions();
inline const char* to_string(Precision precision) { return precisions().name(precision); }
/// The --precision choices of segment and train: the formats, and auto (none) for the device's own,
/// resolved once the device is known.
const options::EnumNames<std::optional<Precision>>& precision_choices();

}  // namespace segearth::core
