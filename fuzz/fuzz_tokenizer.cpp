// Text cleaning and BPE on any bytes (class names come from users): valid or not UTF-8, any length.
#include "fuzz_input.hpp"

#include <segearth/core/tokenizer.hpp>

#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const segearth::core::Tokenizer tokenizer(SEGEARTH_BPE_VOCABULARY);
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    segearth::fuzz::expect_clean([&] {
        const auto ids = tokenizer.tokenize(text);
        if (ids.size() != segearth::core::Tokenizer::default_context_length) __builtin_trap();
        for (const auto id : ids)
            if (id < 0 || id >= tokenizer.vocabulary_size()) __builtin_trap();
    });
    return 0;
}
