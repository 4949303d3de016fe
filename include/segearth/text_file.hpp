// Text files the user gives (class lists, presets, prompt templates, image lists), read one way:
// they must be UTF-8 text, so that binary garbage is refused with the file and line instead of
// becoming "classes" of random bytes, and every name written from them (category names, layer
// names) is valid UTF-8.
//
//   for (const auto& [number, line] : read_text_lines("classes.txt", "the class file")) ...
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace segearth {

/// The lines of a UTF-8 text file (a leading BOM and Windows line ends removed), each with its
/// 1-based number. Throws FileError "PATH: cannot open WHAT" when it cannot be read, and
/// "PATH:LINE: WHAT is not UTF-8 text (...)" for a NUL byte or an invalid UTF-8 sequence.
std::vector<std::pair<int, std::string>> read_text_lines(const std::string& path, const std::string& what);

/// The byte offset of the first invalid UTF-8 sequence in `text` (overlong forms, surrogates and
/// code points past U+10FFFF included), or npos when it is valid.
size_t invalid_utf8_at(std::string_view text);

}  // namespace segearth
