// The vector idiom of the hand-written CPU kernels: eight floats in one register through GCC's vector
// extension, and functions cloned per instruction set (AVX-512, FMA, baseline x86-64) and picked at
// load time by CPU feature (target_clones; "arch=" clones would dispatch on CPU model names and never
// pick AMD parts). Sanitizer builds get no clones.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define SEGEARTH_VECTOR_CLONES __attribute__((target_clones("avx512f", "fma", "default")))
#else
#define SEGEARTH_VECTOR_CLONES
#endif

namespace segearth::core::detail {

// Eight floats in one register (two on SSE-only clones); aligned(4) allows unaligned loads and stores.
typedef float v8f __attribute__((vector_size(32), aligned(4)));

}  // namespace segearth::core::detail

// A load of 8 floats, written as an expression rather than a function: a helper returning v8f would
// not be cloned per target and would pass vectors through the baseline ABI.
#define SEGEARTH_LOAD8(p) (*reinterpret_cast<const ::segearth::core::detail::v8f*>(p))
