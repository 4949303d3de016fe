// What users write about classes: --classes "a,b;c", class files and prompt template files. Whatever
// is accepted must be valid UTF-8 (it becomes category and layer names).
#include "fuzz_input.hpp"

#include <segearth/core/vocabulary.hpp>
#include <segearth/text_file.hpp>

#include <string_view>

namespace {

void check_names(const segearth::core::Vocabulary& v) {
    for (const auto& c : v.classes)
        for (const auto& name : c)
            if (name.empty() || segearth::invalid_utf8_at(name) != std::string_view::npos) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    segearth::fuzz::expect_clean([&] { check_names(segearth::core::Vocabulary::parse(text)); });
    const auto path = segearth::fuzz::as_file(data, size, ".txt");
    segearth::fuzz::expect_clean([&] { check_names(segearth::core::Vocabulary::read(path)); });
    segearth::fuzz::expect_clean([&] {
        for (const auto& t : segearth::core::read_templates(path))
            if (segearth::invalid_utf8_at(t) != std::string_view::npos) __builtin_trap();
    });
    return 0;
}
