#include <segearth/text_file.hpp>

#include <segearth/error.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace segearth {

size_t invalid_utf8_at(std::string_view text) {
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const size_t n = text.size();
    for (size_t i = 0; i < n;) {
        const unsigned char c = s[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t length = 0;
        char32_t code = 0, minimum = 0;
        if ((c & 0xE0) == 0xC0) length = 2, code = c & 0x1F, minimum = 0x80;
        else if ((c & 0xF0) == 0xE0) length = 3, code = c & 0x0F, minimum = 0x800;
        else if ((c & 0xF8) == 0xF0) length = 4, code = c & 0x07, minimum = 0x10000;
        else return i;
        if (i + length > n) return i;
        for (size_t k = 1; k < length; ++k) {
            if ((s[i + k] & 0xC0) != 0x80) return i;
            code = (code << 6) | (s[i + k] & 0x3F);
        }
        if (code < minimum || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return i;
        i += length;
    }
    return std::string_view::npos;
}

std::vector<std::pair<int, std::string>> read_text_lines(const std::string& path, const std::string& what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw FileError(path + ": cannot open " + what);
    std::vector<std::pair<int, std::string>> lines;
    int number = 0;
    for (std::string line; std::getline(in, line);) {
        ++number;
        if (number == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const auto where = path + ":" + std::to_string(number) + ": " + what + " is not UTF-8 text (";
        if (const auto nul = line.find('\0'); nul != std::string::npos)
            throw FileError(where + "a NUL byte at column " + std::to_string(nul + 1) + "): is it a binary file?");
        if (const auto bad = invalid_utf8_at(line); bad != std::string_view::npos) {
            char byte[8];
            std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(line[bad]));
            throw FileError(where + "byte " + byte + " at column " + std::to_string(bad + 1) +
                            "): save it as UTF-8");
        }
        lines.emplace_back(number, std::move(line));
    }
    if (in.bad()) throw FileError(path + ": cannot read " + what);
    return lines;
}

}  // namespace segearth
