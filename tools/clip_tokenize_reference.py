#!/usr/bin/env python3
"""Independent cross-check of the C++ tokenizer: CLIP's tokenisation written from METHOD.md section 2
with Python's own html.unescape, str.strip, str.lower and the `regex` module, so that the Unicode and
HTML work is done by Python itself rather than by the tables the C++ code is generated from.
Like the C++ code (and unlike CLIP), it does not run ftfy.fix_text first.

    python3 tools/clip_tokenize_reference.py data/bpe_simple_vocab_16e6.txt.gz "a photo of a building."
    320 1125 539 320 2307 269                 (encode: ids without the start and end tokens)

Backslash escapes in an argument are decoded ("\\t", "\\u00e9"); with the prefix "bytes:", "\\xNN" are raw
bytes, decoded as UTF-8 with errors="replace" as the C++ code does ("bytes:caf\\xe9").
"""
import gzip
import html
import sys

import regex

WORD_PATTERN = regex.compile(
    r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+",
    regex.IGNORECASE)
SOT, EOT = 49406, 49407
MERGES = 48894


def byte_symbols():
    printable = [b for b in range(256) if 33 <= b <= 126 or 161 <= b <= 172 or 174 <= b <= 255]
    others = [b for b in range(256) if b not in printable]
    table = {b: chr(b) for b in printable}
    table.update({b: chr(256 + n) for n, b in enumerate(others)})
    return [table[b] for b in printable + others], table


class Reference:
    def __init__(self, path):
        lines = gzip.open(path, "rt", encoding="utf-8").read().split("\n")[1:1 + MERGES]
        pairs = [tuple(line.split()) for line in lines]
        ordered, self.byte_table = byte_symbols()
        vocab = ordered + [s + "</w>" for s in ordered] + ["".join(p) for p in pairs]
        vocab += ["<|startoftext|>", "<|endoftext|>"]
        self.ids = {token: i for i, token in enumerate(vocab)}
        self.rank = {pair: i for i, pair in enumerate(pairs)}

    def merge(self, symbols):
        while len(symbols) > 1:
            ranked = [(self.rank.get((a, b), None), i) for i, (a, b) in enumerate(zip(symbols, symbols[1:]))]
            ranked = [(r, i) for r, i in ranked if r is not None]
            if not ranked:
                break
            _, at = min(ranked)
            pair = (symbols[at], symbols[at + 1])
            out, i = [], 0
            while i < len(symbols):
                if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
                    out.append(pair[0] + pair[1])
                    i += 2
                else:
                    out.append(symbols[i])
                    i += 1
            symbols = out
        return symbols

    def encode(self, text):
        text = html.unescape(html.unescape(text)).strip()
        text = regex.sub(r"\s+", " ", text).strip().lower()
        ids = []
        for word in WORD_PATTERN.findall(text):
            if word in ("<|startoftext|>", "<|endoftext|>"):
                ids.append(self.ids[word])
                continue
            symbols = [self.byte_table[b] for b in word.encode("utf-8")]
            symbols[-1] += "</w>"
            ids += [self.ids[s] for s in self.merge(symbols)]
        return ids

    def tokenize(self, text, context_length=77):
        ids = [SOT] + self.encode(text) + [EOT]
        if len(ids) > context_length:
            ids = ids[:context_length]
            ids[-1] = EOT
        return ids + [0] * (context_length - len(ids))


def parse_argument(argument):
    """Backslash escapes as in a Python literal; a "bytes:" prefix makes \\xNN raw bytes of UTF-8."""
    as_bytes = argument.startswith("bytes:")
    if as_bytes:
        argument = argument[len("bytes:"):]
    text = argument.encode("latin-1", "backslashreplace").decode("unicode_escape")
    return text.encode("latin-1").decode("utf-8", errors="replace") if as_bytes else text


if __name__ == "__main__":
    reference = Reference(sys.argv[1])
    for argument in sys.argv[2:]:
        print(" ".join(str(i) for i in reference.encode(parse_argument(argument))))
