#include "text/text_cleaning.hpp"

#include "text/unicode_tables.hpp"
#include "utf8.hpp"

#include <array>
#include <cstdint>

namespace segearth::core::detail {
namespace {

constexpr char32_t replacement_character = 0xFFFD;
constexpr char32_t capital_sigma = 0x3A3;
constexpr char32_t small_sigma = 0x3C3;
constexpr char32_t small_final_sigma = 0x3C2;

// ---- UTF-8 ---------------------------------------------------------------------------------------

// The second byte's range depends on the lead byte (this is what excludes overlong forms,
// surrogates and code points above U+10FFFF); later continuation bytes are always 80..BF.
struct LeadByte {
    int continuation_bytes;
    unsigned char second_min;
    unsigned char second_max;
};

LeadByte classify_lead_byte(unsigned char b) {
    if (b >= 0xC2 && b <= 0xDF) return {1, 0x80, 0xBF};
    if (b == 0xE0) return {2, 0xA0, 0xBF};
    if (b == 0xED) return {2, 0x80, 0x9F};
    if (b >= 0xE1 && b <= 0xEF) return {2, 0x80, 0xBF};
    if (b == 0xF0) return {3, 0x90, 0xBF};
    if (b >= 0xF1 && b <= 0xF3) return {3, 0x80, 0xBF};
    if (b == 0xF4) return {3, 0x80, 0x8F};
    return {-1, 0, 0};  // 80..C1 and F5..FF never start a character
}

// ---- html.unescape -------------------------------------------------------------------------------

bool is_ascii_digit(char32_t c) { return c >= U'0' && c <= U'9'; }

int hex_value(char32_t c) {
    if (c >= U'0' && c <= U'9') return static_cast<int>(c - U'0');
    if (c >= U'a' && c <= U'f') return static_cast<int>(c - U'a') + 10;
    if (c >= U'A' && c <= U'F') return static_cast<int>(c - U'A') + 10;
    return -1;
}

// Python parses the digits as an unbounded integer; everything above U+10FFFF is treated alike,
// so saturating just past it keeps the outcome and avoids overflow.
constexpr std::uint32_t beyond_unicode = 0x110000;

std::uint32_t accumulate_digit(std::uint32_t value, int base, int digit) {
    const std::uint64_t next = static_cast<std::uint64_t>(value) * static_cast<std::uint64_t>(base) +
                               static_cast<std::uint64_t>(digit);
    return next >= beyond_unicode ? beyond_unicode : static_cast<std::uint32_t>(next);
}

void append_numeric_reference(std::uint32_t number, std::u32string& out) {
    if (const std::u32string_view replacement = html_invalid_charref(number); !replacement.empty()) {
        out += replacement;
    } else if ((number >= 0xD800 && number <= 0xDFFF) || number > 0x10FFFF) {
        out += replacement_character;
    } else if (!is_html_invalid_codepoint(number)) {
        out += static_cast<char32_t>(number);
    }
}

// Tries `#[0-9]+;?` then `#[xX][0-9a-fA-F]+;?` at text[start] (just after '&'). Returns the end of
// the match, or start when neither alternative matches.
std::size_t unescape_numeric(std::u32string_view text, std::size_t start, std::u32string& out) {
    if (start >= text.size() || text[start] != U'#') return start;
    std::size_t i = start + 1;
    int base = 10;
    if (i < text.size() && !is_ascii_digit(text[i])) {
        if (text[i] != U'x' && text[i] != U'X') return start;
        base = 16;
        ++i;
    }
    const std::size_t digits_begin = i;
    std::uint32_t number = 0;
    for (; i < text.size(); ++i) {
        const int digit = base == 10 ? (is_ascii_digit(text[i]) ? static_cast<int>(text[i] - U'0') : -1)
                                     : hex_value(text[i]);
        if (digit < 0) break;
        number = accumulate_digit(number, base, digit);
    }
    if (i == digits_begin) return start;
    if (i < text.size() && text[i] == U';') ++i;
    append_numeric_reference(number, out);
    return i;
}

bool ends_entity_name(char32_t c) {
    return c == U'\t' || c == U'\n' || c == U'\f' || c == U' ' || c == U'<' || c == U'&' || c == U'#' ||
           c == U';';
}

// Tries `[^\t\n\f <&#;]{1,32};?` at text[start]. An unknown name falls back to its longest known
// prefix of at least two characters (the legacy names such as "&notin" -> "¬in"), else stays as is.
std::size_t unescape_named(std::u32string_view text, std::size_t start, std::u32string& out) {
    constexpr std::size_t max_name_length = 32;
    std::size_t end = start;
    while (end < text.size() && end - start < max_name_length && !ends_entity_name(text[end])) ++end;
    if (end == start) return start;
    if (end < text.size() && text[end] == U';') ++end;
    const std::u32string_view name = text.substr(start, end - start);
    if (const std::u32string_view value = html5_entity(name); !value.empty()) {
        out += value;
        return end;
    }
    for (std::size_t prefix = name.size() - 1; prefix >= 2; --prefix) {
        if (const std::u32string_view value = html5_entity(name.substr(0, prefix)); !value.empty()) {
            out += value;
            out += name.substr(prefix);
            return end;
        }
    }
    out += U'&';
    out += name;
    return end;
}

// ---- whitespace ----------------------------------------------------------------------------------

std::u32string_view strip_python_spaces(std::u32string_view text) {
    while (!text.empty() && is_python_space(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_python_space(text.back())) text.remove_suffix(1);
    return text;
}

std::u32string collapse_regex_whitespace(std::u32string_view text) {
    std::u32string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        if (!is_regex_whitespace(text[i])) {
            out += text[i++];
            continue;
        }
        out += U' ';
        while (i < text.size() && is_regex_whitespace(text[i])) ++i;
    }
    return out;
}

// ---- lower() -------------------------------------------------------------------------------------

// CPython's rule for U+03A3: final form when a cased letter precedes it and none follows, looking
// past case-ignorable code points (apostrophes, combining marks, ...) on both sides.
bool is_final_sigma(std::u32string_view text, std::size_t position) {
    std::size_t j = position;
    while (j > 0 && is_case_ignorable(text[j - 1])) --j;
    if (j == 0 || !is_cased(text[j - 1])) return false;
    std::size_t k = position + 1;
    while (k < text.size() && is_case_ignorable(text[k])) ++k;
    return k == text.size() || !is_cased(text[k]);
}

// ---- CLIP's split --------------------------------------------------------------------------------

// Matches a literal alternative of CLIP's pattern at text[position], letters compared the way the
// regex module's IGNORECASE compares them (so "'ſ" counts as "'s").
bool matches_literal(std::u32string_view text, std::size_t position, std::string_view literal) {
    if (text.size() - position < literal.size()) return false;
    for (std::size_t i = 0; i < literal.size(); ++i) {
        const char expected = literal[i];
        const char32_t c = text[position + i];
        const bool is_letter = expected >= 'a' && expected <= 'z';
        if (is_letter ? !ignorecase_matches(c, expected) : c != static_cast<char32_t>(expected)) return false;
    }
    return true;
}

// The literal alternatives, in the pattern's order (the first that matches wins).
constexpr std::array<std::string_view, 9> literal_alternatives = {
    "<|startoftext|>", "<|endoftext|>", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};

bool is_clip_other(char32_t c) { return !is_clip_letter(c) && !is_clip_number(c) && !is_clip_gap(c); }

}  // namespace

std::u32string decode_utf8(std::string_view bytes) {
    std::u32string out;
    out.reserve(bytes.size());
    std::size_t i = 0;
    while (i < bytes.size()) {
        const auto lead = static_cast<unsigned char>(bytes[i]);
        if (lead < 0x80) {
            out += static_cast<char32_t>(lead);
            ++i;
            continue;
        }
        const LeadByte kind = classify_lead_byte(lead);
        if (kind.continuation_bytes < 0) {
            out += replacement_character;
            ++i;
            continue;
        }
        char32_t code_point = lead & (0x3F >> kind.continuation_bytes);
        std::size_t j = i + 1;
        bool complete = true;
        for (int k = 0; k < kind.continuation_bytes; ++k, ++j) {
            const unsigned char min = k == 0 ? kind.second_min : 0x80;
            const unsigned char max = k == 0 ? kind.second_max : 0xBF;
            if (j >= bytes.size() || static_cast<unsigned char>(bytes[j]) < min ||
                static_cast<unsigned char>(bytes[j]) > max) {
                complete = false;  // the maximal subpart ends before bytes[j], which is read again
                break;
            }
            code_point = (code_point << 6) | (static_cast<unsigned char>(bytes[j]) & 0x3F);
        }
        out += complete ? code_point : replacement_character;
        i = j;
    }
    return out;
}

std::string encode_utf8(std::u32string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char32_t c : text) append_utf8(out, c);
    return out;
}

std::u32string html_unescape(std::u32string_view text) {
    std::u32string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] != U'&') {
            out += text[i++];
            continue;
        }
        // One pass, left to right, never rescanning a replacement: that is why CLIP unescapes twice.
        std::size_t end = unescape_numeric(text, i + 1, out);
        if (end == i + 1) end = unescape_named(text, i + 1, out);
        if (end == i + 1) out += U'&';
        i = end;
    }
    return out;
}

std::u32string python_lower(std::u32string_view text) {
    std::u32string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char32_t c = text[i];
        if (c == capital_sigma) {
            out += is_final_sigma(text, i) ? small_final_sigma : small_sigma;
        } else if (const std::u32string_view several = multi_lowercase(c); !several.empty()) {
            out += several;
        } else {
            out += simple_lowercase(c);
        }
    }
    return out;
}

std::u32string clean_text(std::string_view utf8_text) {
    const std::u32string unescaped = html_unescape(html_unescape(decode_utf8(utf8_text)));
    const std::u32string collapsed = collapse_regex_whitespace(strip_python_spaces(unescaped));
    return python_lower(strip_python_spaces(collapsed));
}

std::vector<std::string> split_words(std::u32string_view cleaned_text) {
    std::vector<std::string> words;
    const std::u32string_view text = cleaned_text;
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t end = i;
        for (const std::string_view literal : literal_alternatives) {
            if (matches_literal(text, i, literal)) {
                end = i + literal.size();
                break;
            }
        }
        if (end == i) {
            if (is_clip_letter(text[i])) {
                while (end < text.size() && is_clip_letter(text[end])) ++end;
            } else if (is_clip_number(text[i])) {
                end = i + 1;
            } else if (is_clip_other(text[i])) {
                while (end < text.size() && is_clip_other(text[end])) ++end;
            } else {
                ++i;  // whitespace (or U+0345): no alternative matches here
                continue;
            }
        }
        words.push_back(encode_utf8(text.substr(i, end - i)));
        i = end;
    }
    return words;
}

}  // namespace segearth::core::detail
