// safetensors files: the 8-byte length, the JSON header (dtypes, shapes, offsets, metadata) and the
// data they point into.
#include "fuzz_input.hpp"

#include "weights/safetensors.hpp"

#include <segearth/core/weights.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto path = segearth::fuzz::as_file(data, size, ".safetensors");
    segearth::fuzz::expect_clean([&] { segearth::core::detail::read_safetensors(path); });
    segearth::fuzz::expect_clean([&] { segearth::core::read_safetensors_metadata(path); });
    return 0;
}
