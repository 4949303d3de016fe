// CLIP's text clean-up and pre-tokenisation, in Python's exact semantics (METHOD.md section 2):
//
//   std::u32string text = clean_text("  Caf&amp;eacute;\tZÜRICH ");   // U"café zürich"
//   std::vector<std::string> words = split_words(text);                 // {"café", "zürich"}
//
// CLIP runs ftfy.fix_text, html.unescape twice, str.strip, re.sub(r"\s+", " "), str.strip and
// str.lower, then regex.findall with its word pattern. All of that except ftfy is reproduced here;
// ftfy's repairs (mojibake, NFC, curly quotes, ...) are not, so only text that ftfy leaves alone is
// guaranteed to tokenise as in CLIP (plain prompts and class names are).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace segearth::core::detail {

/// UTF-8 to code points. Never throws: each ill-formed sequence becomes one U+FFFD per maximal
/// subpart, exactly as Python's bytes.decode("utf-8", errors="replace").
std::u32string decode_utf8(std::string_view bytes);

/// Code points to UTF-8 (the text never holds surrogates: decoding and unescaping replace them).
std::string encode_utf8(std::u32string_view text);

/// Python's html.unescape: numeric and HTML5 named references, semicolon-less legacy names included.
std::u32string html_unescape(std::u32string_view text);

/// Python's str.lower(): full mappings (U+0130 -> "i\u0307") and the final-sigma rule.
std::u32string python_lower(std::u32string_view text);

/// CLIP's basic_clean + whitespace_clean + lower() (without ftfy; see above).
std::u32string clean_text(std::string_view utf8_text);

/// The pieces CLIP's regex.findall returns on cleaned text, in UTF-8.
std::vector<std::string> split_words(std::u32string_view cleaned_text);

}  // namespace segearth::core::detail
