// CLIP's byte-level BPE (METHOD.md section 2): every UTF-8 byte of a word stands for one printable
// character, the word's last character is marked "</w>", and adjacent symbols are merged in the
// order the vocabulary file ranks the merges.
#include <segearth/core/tokenizer.hpp>

#include <segearth/error.hpp>

#include "text/text_cleaning.hpp"

#include <zlib.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>
#include <string>

namespace segearth::core {
namespace {

// CLIP uses exactly this many merges (lines 2 to 48895 of the file), which with the 512 byte
// symbols and the two special tokens makes 49408 ids; later lines of the file are ignored.
constexpr std::size_t merge_count = 48894;
constexpr const char* start_of_text_string = "<|startoftext|>";
constexpr const char* end_of_text_string = "<|endoftext|>";
constexpr const char* end_of_word = "</w>";

std::string describe(const std::filesystem::path& path) { return "BPE vocabulary '" + path.string() + "'"; }

// zlib prefixes its messages with the file name, which our message already gives.
std::string zlib_reason(const char* message, const std::filesystem::path& path) {
    const std::string text = message != nullptr ? message : "unknown zlib error";
    const std::string prefix = path.string() + ": ";
    return text.compare(0, prefix.size(), prefix) == 0 ? text.substr(prefix.size()) : text;
}

std::string read_gzip_text(const std::filesystem::path& path) {
    std::error_code error;
    if (!std::filesystem::exists(path, error))
        throw FileError(describe(path) + " not found (it is CLIP's bpe_simple_vocab_16e6.txt.gz)");
    if (std::filesystem::is_directory(path, error))
        throw FileError(describe(path) + " is a directory, not CLIP's bpe_simple_vocab_16e6.txt.gz");
    std::unique_ptr<gzFile_s, int (*)(gzFile)> file(gzopen(path.c_str(), "rb"), &gzclose);
    if (!file) throw FileError(describe(path) + " cannot be opened: " + std::strerror(errno));
    std::string text;
    std::string buffer(1 << 16, '\0');
    int count = 0;
    while ((count = gzread(file.get(), buffer.data(), static_cast<unsigned>(buffer.size()))) > 0)
        text.append(buffer.data(), static_cast<std::size_t>(count));
    // A stream cut short is not a read error to gzread (Z_BUF_ERROR, for files still being written).
    int code = Z_OK;
    const char* message = gzerror(file.get(), &code);
    if (count < 0 || code != Z_OK)
        throw FileError(describe(path) + " is a corrupt gzip file: " + zlib_reason(message, path));
    // zlib reads a file without a gzip header transparently; CLIP's loader would reject it.
    if (gzdirect(file.get()))
        throw FileError(describe(path) + " is not gzip-compressed (expected CLIP's bpe_simple_vocab_16e6.txt.gz)");
    return text;
}

// Python's str.split() on one merge line: the symbols are byte stand-ins, never whitespace.
std::vector<std::string> split_fields(std::string_view line) {
    std::vector<std::string> fields;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
        const std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
        if (i > start) fields.emplace_back(line.substr(start, i - start));
    }
    return fields;
}

// Merge lines 2..48895 as (first, second) pairs.
std::vector<std::pair<std::string, std::string>> parse_merges(const std::string& text,
                                                               const std::filesystem::path& path) {
    std::vector<std::pair<std::string, std::string>> merges;
    merges.reserve(merge_count);
    std::size_t line_start = text.find('\n');  // line 1 is the "#version" header
    std::size_t line_number = 1;
    while (line_start != std::string::npos && merges.size() < merge_count) {
        ++line_start;
        ++line_number;
        const std::size_t line_end = text.find('\n', line_start);
        const std::string_view line(text.data() + line_start,
                                    (line_end == std::string::npos ? text.size() : line_end) - line_start);
        std::vector<std::string> fields = split_fields(line);
        if (fields.size() != 2)
            throw FileError(describe(path) + " line " + std::to_string(line_number) +
                            " is not a merge (two symbols separated by a space): '" + std::string(line) + "'");
        merges.emplace_back(std::move(fields[0]), std::move(fields[1]));
        line_start = line_end;
    }
    if (merges.size() < merge_count)
        throw FileError(describe(path) + " has " + std::to_string(merges.size()) + " merges; CLIP's has " +
                        std::to_string(merge_count) + " (lines 2 to 48895)");
    return merges;
}

std::string utf8_of(unsigned code_point) {
    return detail::encode_utf8(std::u32string(1, static_cast<char32_t>(code_point)));
}

// CLIP's bytes_to_unicode, in its order: the printable Latin-1 bytes stand for themselves and come
// first; the others (controls, space, soft hyphen, ...) get U+0100 onwards, in byte order.
std::vector<std::pair<unsigned char, std::string>> byte_stand_ins() {
    const auto printable = [](unsigned b) {
        return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    };
    std::vector<std::pair<unsigned char, std::string>> order;
    for (unsigned b = 0; b < 256; ++b) {
        if (!printable(b)) continue;
        order.emplace_back(static_cast<unsigned char>(b), utf8_of(b));
    }
    unsigned next = 256;
    for (unsigned b = 0; b < 256; ++b) {
        if (printable(b)) continue;
        order.emplace_back(static_cast<unsigned char>(b), utf8_of(next++));
    }
    return order;
}

// The byte-encoded word as its initial symbols: one code point (one original byte) each.
std::vector<std::string> split_code_points(const std::string& utf8) {
    std::vector<std::string> symbols;
    for (std::size_t i = 0; i < utf8.size();) {
        std::size_t end = i + 1;
        while (end < utf8.size() && (static_cast<unsigned char>(utf8[end]) & 0xC0) == 0x80) ++end;
        symbols.push_back(utf8.substr(i, end - i));
        i = end;
    }
    return symbols;
}

}  // namespace

Tokenizer::Tokenizer(const std::filesystem::path& bpe_vocabulary_gz) {
    const auto merges = parse_merges(read_gzip_text(bpe_vocabulary_gz), bpe_vocabulary_gz);

    const auto stand_ins = byte_stand_ins();
    for (const auto& [byte, symbol] : stand_ins) byte_encoder_[byte] = symbol;
    decoder_.reserve(2 * stand_ins.size() + merges.size() + 2);
    for (const auto& entry : stand_ins) decoder_.push_back(entry.second);
    for (const auto& entry : stand_ins) decoder_.push_back(entry.second + end_of_word);
    for (const auto& [first, second] : merges) decoder_.push_back(first + second);
    decoder_.emplace_back(start_of_text_string);
    decoder_.emplace_back(end_of_text_string);

    // Later duplicates win, as in CLIP's dict(zip(...)).
    for (std::size_t id = 0; id < decoder_.size(); ++id) encoder_[decoder_[id]] = static_cast<int64_t>(id);
    for (std::size_t rank = 0; rank < merges.size(); ++rank)
        merge_ranks_[merges[rank].first + ' ' + merges[rank].second] = static_cast<int>(rank);

    // The special strings map straight to their ids instead of being split into bytes.
    cache_[start_of_text_string] = {start_of_text};
    cache_[end_of_text_string] = {end_of_text};
}

std::vector<std::string> Tokenizer::bpe(const std::string& byte_encoded_word) const {
    std::vector<std::string> symbols = split_code_points(byte_encoded_word);
    if (symbols.empty()) return symbols;
    symbols.back() += end_of_word;
    while (symbols.size() > 1) {
        int best_rank = INT_MAX;
        std::size_t best_at = 0;
        for (std::size_t i = 0; i + 1 < symbols.size(); ++i) {
            const auto found = merge_ranks_.find(symbols[i] + ' ' + symbols[i + 1]);
            if (found != merge_ranks_.end() && found->second < best_rank) {
                best_rank = found->second;
                best_at = i;
            }
        }
        if (best_rank == INT_MAX) break;
        // Merge every occurrence of the pair, left to right, without overlaps.
        const std::string first = symbols[best_at];
        const std::string second = symbols[best_at + 1];
        std::vector<std::string> merged;
        merged.reserve(symbols.size());
        for (std::size_t i = 0; i < symbols.size();) {
            if (i + 1 < symbols.size() && symbols[i] == first && symbols[i + 1] == second) {
                merged.push_back(first + second);
                i += 2;
            } else {
                merged.push_back(std::move(symbols[i]));
                i += 1;
            }
        }
        symbols = std::move(merged);
    }
    return symbols;
}

void Tokenizer::append_word_ids(const std::string& utf8_word, std::vector<int64_t>& ids) const {
    const std::lock_guard<std::mutex> lock(cache_mutex_.mutex);
    auto cached = cache_.find(utf8_word);
    if (cached == cache_.end()) {
        std::string byte_encoded;
        for (const char byte : utf8_word) byte_encoded += byte_encoder_[static_cast<unsigned char>(byte)];
        std::vector<int64_t> word_ids;
        // Every BPE symbol is a byte stand-in or the join of a merge, so all are in the vocabulary.
        for (const std::string& symbol : bpe(byte_encoded)) word_ids.push_back(encoder_.at(symbol));
        cached = cache_.emplace(utf8_word, std::move(word_ids)).first;
    }
    ids.insert(ids.end(), cached->second.begin(), cached->second.end());
}

std::vector<int64_t> Tokenizer::encode(std::string_view text) const {
    std::vector<int64_t> ids;
    for (const std::string& word : detail::split_words(detail::clean_text(text))) append_word_ids(word, ids);
    return ids;
}

std::vector<int64_t> Tokenizer::tokenize(std::string_view text, int context_length) const {
    if (context_length < 2)
        throw Error("context length " + std::to_string(context_length) +
                    " cannot hold the start and end tokens; it must be at least 2");
    std::vector<int64_t> ids{start_of_text};
    const std::vector<int64_t> body = encode(text);
    ids.insert(ids.end(), body.begin(), body.end());
    ids.push_back(end_of_text);
    const auto length = static_cast<std::size_t>(context_length);
    if (ids.size() > length) {
        ids.resize(length);
        ids.back() = end_of_text;
    } else {
        ids.resize(length, 0);
    }
    return ids;
}

const std::string& Tokenizer::token_string(int64_t id) const {
    if (id < 0 || id >= vocabulary_size())
        throw Error("token id " + std::to_string(id) + " is outside the vocabulary (0 to " +
                    std::to_string(vocabulary_size() - 1) + ")");
    return decoder_[static_cast<std::size_t>(id)];
}

}  // namespace segearth::core
