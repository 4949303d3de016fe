// Preset files (data/presets, or one a user writes): the class list and its "#:" directives.
// Whatever is accepted must be in range: a threshold in [0, 1], a background that is a class, at
// most one colour per class, names that are valid UTF-8.
#include "fuzz_input.hpp"

#include <segearth/core/preset_file.hpp>
#include <segearth/text_file.hpp>

#include <cmath>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto path = segearth::fuzz::as_file(data, size, ".txt");
    segearth::fuzz::expect_clean([&] {
        const auto preset = segearth::core::read_preset(path);
        const auto classes = preset.vocabulary.classes.size();
        if (classes == 0) __builtin_trap();
        if (preset.prob_threshold && !(*preset.prob_threshold >= 0 && *preset.prob_threshold <= 1)) __builtin_trap();
        if (preset.bg_index && (*preset.bg_index < 0 || static_cast<size_t>(*preset.bg_index) >= classes))
            __builtin_trap();
        if (preset.colours.size() > classes) __builtin_trap();
        for (const auto& c : preset.vocabulary.classes)
            for (const auto& name : c)
                if (name.empty() || segearth::invalid_utf8_at(name) != std::string_view::npos) __builtin_trap();
    });
    return 0;
}
