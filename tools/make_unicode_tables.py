#!/usr/bin/env python3
"""Generate src/core/text/unicode_tables.{hpp,cpp}: the Unicode and HTML facts CLIP's text cleaning
relies on, taken from the Python that CLIP itself runs on, so the C++ tokenizer agrees with it.

    python3 tools/make_unicode_tables.py src/core/text

Needs the third-party `regex` module (the one CLIP's simple_tokenizer imports as `re`). Every class
is probed through the very expression CLIP uses, with its flags, one code point at a time, rather
than rebuilt from the Unicode category names: that way quirks such as U+0345 (which IGNORECASE makes
match none of CLIP's character classes) and U+017F 'ſ' (which IGNORECASE makes match 's') come along.
"""
import html
import html.entities
import sys
import unicodedata
from pathlib import Path

import regex

MAX_CODE_POINT = 0x10FFFF
LITERAL_LETTERS = "startofendxtlvmd"  # every letter in the literal alternatives of CLIP's split regex


def ranges_of(code_points):
    """Sorted code points -> list of inclusive (first, last) runs."""
    runs = []
    for cp in code_points:
        if runs and runs[-1][1] + 1 == cp:
            runs[-1][1] = cp
        else:
            runs.append([cp, cp])
    return runs


def probe(pattern, flags=0):
    compiled = regex.compile(pattern, flags)
    return [cp for cp in range(MAX_CODE_POINT + 1) if compiled.match(chr(cp))]


def lowercase_runs(mapped):
    """(cp, lower cp) pairs -> runs (first, last, stride, delta) of equal delta and stride 1 or 2.

    Stride 2 captures the alternating upper/lower blocks (Ā ā Ă ă ...); the code points skipped
    inside a stride-2 run are never mapped themselves, because runs are cut from the sorted list.
    """
    runs = []
    for cp, low in mapped:
        delta = low - cp
        if runs:
            first, last, stride, run_delta = runs[-1]
            step = cp - last
            if run_delta == delta and ((first == last and step in (1, 2)) or step == stride):
                runs[-1] = [first, cp, step, delta]
                continue
        runs.append([cp, cp, 1, delta])
    return runs


def u32_literal(text):
    return 'U"' + "".join(c if (c.isascii() and c.isprintable() and c not in '"\\?') else
                          "\\U%08X" % ord(c) for c in text) + '"'


def wrap(items, width=110):
    """Comma-separated items, greedily packed into lines of at most `width` characters."""
    lines, line = [], ""
    for item in items:
        if line and len("    " + line + ", " + item + ",") > width:
            lines.append(line)
            line = item
        else:
            line = line + ", " + item if line else item
    return ",\n    ".join(lines + [line]) if line else ""


def emit_ranges(name, runs):
    items = ["{0x%X, 0x%X}" % (a, b) for a, b in runs]
    return "constexpr CodePointRange %s[] = {\n    %s,\n};\n" % (name, wrap(items))


def main(out_dir):
    out_dir = Path(out_dir)
    ignore_case = regex.IGNORECASE

    letters = probe(r"[\p{L}]", ignore_case)
    numbers = probe(r"[\p{N}]", ignore_case)
    others = probe(r"[^\s\p{L}\p{N}]", ignore_case)
    sets = [set(letters), set(numbers), set(others)]
    for i in range(3):
        for j in range(i + 1, 3):
            assert not sets[i] & sets[j], "CLIP's character classes overlap; the scanner assumes not"
    covered = sets[0] | sets[1] | sets[2]
    split_gaps = [cp for cp in range(MAX_CODE_POINT + 1) if cp not in covered]
    regex_spaces = probe(r"\s")
    python_spaces = [cp for cp in range(MAX_CODE_POINT + 1) if chr(cp).isspace()]

    # Python's str.lower() (full mappings; the final-sigma rule is applied by the C++ code).
    single, multi = [], []
    for cp in range(MAX_CODE_POINT + 1):
        low = chr(cp).lower()
        if low == chr(cp):
            continue
        (single if len(low) == 1 else multi).append((cp, low if len(low) > 1 else ord(low)))
    assert chr(0x3A3).lower() == "\u03c3"

    # CPython lowers U+03A3 to final sigma by the Cased / Case_Ignorable properties, which Python does
    # not expose; read them off str.lower() itself. "cΣ" gives ς iff c is cased and not ignorable;
    # "AcΣ" gives ς iff c is ignorable or cased.
    cased, ignorable = [], []
    for cp in range(MAX_CODE_POINT + 1):
        c = chr(cp)
        if 0xD800 <= cp <= 0xDFFF:
            continue
        cased_not_ignorable = (c + "\u03a3").lower()[-1] == "\u03c2"
        ignorable_or_cased = ("A" + c + "\u03a3").lower()[-1] == "\u03c2"
        if cased_not_ignorable:
            cased.append(cp)
        elif ignorable_or_cased:
            ignorable.append(cp)

    # Code points that IGNORECASE lets stand for a lower-case ASCII letter of the literal alternatives.
    fold_pairs = []
    for letter in sorted(set(LITERAL_LETTERS)):
        compiled = regex.compile(regex.escape(letter), ignore_case)
        fold_pairs += [(cp, letter) for cp in range(MAX_CODE_POINT + 1)
                       if chr(cp) != letter and compiled.match(chr(cp))]
    fold_pairs.sort()

    entities = sorted(html.entities.html5.items())
    invalid_charrefs = sorted(html._invalid_charrefs.items())
    invalid_codepoints = sorted(html._invalid_codepoints)

    provenance = ("Python %s (str methods: Unicode %s) and regex %s (its own Unicode data)" %
                  (sys.version.split()[0], unicodedata.unidata_version, regex.__version__))
    banner = ("// GENERATED by tools/make_unicode_tables.py\n// from %s.\n"
              "// Do not edit; regenerate with a python3 that has `regex`:\n"
              "//   python3 tools/make_unicode_tables.py src/core/text\n" % provenance)

    hpp = banner + """// The Unicode and HTML facts CLIP's text cleaning needs (text_cleaning.hpp), as Python sees them.
#pragma once

#include <cstdint>
#include <string_view>

namespace segearth::core::detail {

/// Matches CLIP's `[\\p{L}]` (with IGNORECASE): a letter, joined into runs.
bool is_clip_letter(char32_t c);
/// Matches CLIP's `[\\p{N}]` (with IGNORECASE): a number, one token each.
bool is_clip_number(char32_t c);
/// Matches none of CLIP's character classes (whitespace, and U+0345): skipped between pieces.
bool is_clip_gap(char32_t c);
/// The `regex` module's `\\s`: what CLIP collapses to one space.
bool is_regex_whitespace(char32_t c);
/// Python's str.isspace(): what str.strip() removes.
bool is_python_space(char32_t c);

/// Python's str.lower() of one code point when that is a single code point (else c itself).
char32_t simple_lowercase(char32_t c);
/// Python's str.lower() of c when it is several code points (U+0130), else an empty view.
std::u32string_view multi_lowercase(char32_t c);
/// The Cased and Case_Ignorable properties behind Python's final-sigma rule; a code point that is
/// both counts only as ignorable, which is all the rule looks at.
bool is_cased(char32_t c);
bool is_case_ignorable(char32_t c);

/// Whether c matches the lower-case ASCII letter `letter` under the regex module's IGNORECASE.
bool ignorecase_matches(char32_t c, char letter);

/// html.entities.html5[name] (name with or without its ';'), or an empty view when absent.
std::u32string_view html5_entity(std::u32string_view name);
/// Longest entity name in html.entities.html5, ';' included.
constexpr std::size_t html5_longest_name = %d;
/// html._invalid_charrefs: numeric references HTML replaces (e.g. &#128; -> U+20AC); empty if none.
std::u32string_view html_invalid_charref(std::uint32_t number);
/// html._invalid_codepoints: numeric references html.unescape drops.
bool is_html_invalid_codepoint(std::uint32_t number);

}  // namespace segearth::core::detail
""" % max(len(k) for k, _ in entities)

    parts = [banner, """#include "text/unicode_tables.hpp"

#include <algorithm>
#include <cstddef>
#include <iterator>

namespace segearth::core::detail {
namespace {

struct CodePointRange {
    char32_t first;
    char32_t last;
};

template <std::size_t N>
bool in_ranges(const CodePointRange (&ranges)[N], char32_t c) {
    const auto* it = std::upper_bound(std::begin(ranges), std::end(ranges), c,
                                      [](char32_t value, const CodePointRange& r) { return value < r.first; });
    return it != std::begin(ranges) && c <= std::prev(it)->last;
}

"""]
    parts.append(emit_ranges("letter_ranges", ranges_of(letters)))
    parts.append(emit_ranges("number_ranges", ranges_of(numbers)))
    parts.append(emit_ranges("gap_ranges", ranges_of(split_gaps)))
    parts.append(emit_ranges("regex_space_ranges", ranges_of(regex_spaces)))
    parts.append(emit_ranges("python_space_ranges", ranges_of(python_spaces)))
    parts.append(emit_ranges("cased_ranges", ranges_of(cased)))
    parts.append(emit_ranges("case_ignorable_ranges", ranges_of(ignorable)))
    parts.append(emit_ranges("html_invalid_codepoint_ranges", ranges_of(invalid_codepoints)))

    runs = lowercase_runs(single)
    items = ["{0x%X, 0x%X, %d, %d}" % tuple(r) for r in runs]
    parts.append("""
// Runs of code points sharing one lower-case offset; stride 2 for alternating upper/lower blocks.
struct LowercaseRun {
    char32_t first;
    char32_t last;
    std::int32_t stride;
    std::int32_t delta;
};
constexpr LowercaseRun lowercase_runs[] = {
    """ + wrap(items) + ",\n};\n")

    parts.append("""
struct MultiLowercase {
    char32_t code_point;
    const char32_t* lower;
};
constexpr MultiLowercase multi_lowercases[] = {
""" + "".join("    {0x%X, %s},\n" % (cp, u32_literal(low)) for cp, low in multi) + "};\n")

    parts.append("""
struct FoldPair {
    char32_t code_point;
    char letter;
};
constexpr FoldPair ignorecase_folds[] = {
""" + "".join("    {0x%X, '%s'},\n" % pair for pair in fold_pairs) + "};\n")

    entity_items = ["{%s, %s}" % (u32_literal(k), u32_literal(v)) for k, v in entities]
    parts.append("""
struct Html5Entity {
    const char32_t* name;
    const char32_t* value;
};
// Sorted by name (code point order), for binary search.
constexpr Html5Entity html5_entities[] = {
    """ + wrap(entity_items) + ",\n};\n")

    parts.append("""
struct InvalidCharref {
    std::uint32_t number;
    const char32_t* replacement;
};
constexpr InvalidCharref html_invalid_charrefs[] = {
""" + "".join("    {0x%X, %s},\n" % (n, u32_literal(v)) for n, v in invalid_charrefs) + "};\n")

    parts.append("""
}  // namespace

bool is_clip_letter(char32_t c) { return in_ranges(letter_ranges, c); }
bool is_clip_number(char32_t c) { return in_ranges(number_ranges, c); }
bool is_clip_gap(char32_t c) { return in_ranges(gap_ranges, c); }
bool is_regex_whitespace(char32_t c) { return in_ranges(regex_space_ranges, c); }
bool is_python_space(char32_t c) { return in_ranges(python_space_ranges, c); }
bool is_cased(char32_t c) { return in_ranges(cased_ranges, c); }
bool is_case_ignorable(char32_t c) { return in_ranges(case_ignorable_ranges, c); }
bool is_html_invalid_codepoint(std::uint32_t number) {
    return number <= 0x10FFFF && in_ranges(html_invalid_codepoint_ranges, static_cast<char32_t>(number));
}

char32_t simple_lowercase(char32_t c) {
    const auto* it = std::upper_bound(std::begin(lowercase_runs), std::end(lowercase_runs), c,
                                      [](char32_t value, const LowercaseRun& r) { return value < r.first; });
    if (it == std::begin(lowercase_runs)) return c;
    const LowercaseRun& run = *std::prev(it);
    if (c > run.last || (c - run.first) % static_cast<char32_t>(run.stride) != 0) return c;
    return static_cast<char32_t>(static_cast<std::int32_t>(c) + run.delta);
}

std::u32string_view multi_lowercase(char32_t c) {
    for (const MultiLowercase& entry : multi_lowercases)
        if (entry.code_point == c) return entry.lower;
    return {};
}

bool ignorecase_matches(char32_t c, char letter) {
    if (c == static_cast<char32_t>(letter)) return true;
    for (const FoldPair& pair : ignorecase_folds)
        if (pair.code_point == c && pair.letter == letter) return true;
    return false;
}

std::u32string_view html5_entity(std::u32string_view name) {
    const auto* it = std::lower_bound(std::begin(html5_entities), std::end(html5_entities), name,
                                      [](const Html5Entity& e, std::u32string_view key) {
                                          return std::u32string_view(e.name) < key;
                                      });
    if (it == std::end(html5_entities) || std::u32string_view(it->name) != name) return {};
    return it->value;
}

std::u32string_view html_invalid_charref(std::uint32_t number) {
    for (const InvalidCharref& entry : html_invalid_charrefs)
        if (entry.number == number) return entry.replacement;
    return {};
}

}  // namespace segearth::core::detail
""")
    (out_dir / "unicode_tables.hpp").write_text(hpp)
    (out_dir / "unicode_tables.cpp").write_text("".join(parts))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_unicode_tables.py OUTPUT_DIR")
    main(sys.argv[1])
