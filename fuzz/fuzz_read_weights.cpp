// The weights loader end to end, as `segearth info` and `segment --clip` call it: format detection,
// then the zip reader, the unpickler and the tensor reconstruction, or the safetensors reader.
#include "fuzz_input.hpp"

#include <segearth/core/weights.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto path = segearth::fuzz::as_file(data, size, ".pt");
    segearth::fuzz::expect_clean([&] {
        const auto file = segearth::core::read_weights(path);
        for (const auto& [name, tensor] : file.tensors) (void)tensor.sum();  // every byte of every tensor
    });
    return 0;
}
