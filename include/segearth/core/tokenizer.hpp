// CLIP's byte-level BPE tokenizer (METHOD.md section 2).
//
//   segearth::core::Tokenizer tok("data/bpe_simple_vocab_16e6.txt.gz");
//   std::vector<int64_t> ids = tok.tokenize("a photo of a building.");
//   // 49406 320 1125 539 320 2307 269 49407 0 0 ... (77 ids)
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace segearth::core {

class Tokenizer {
public:
    static constexpr int64_t start_of_text = 49406;
    static constexpr int64_t end_of_text = 49407;
    static constexpr int default_context_length = 77;

    /// Reads the gzip BPE vocabulary. Throws FileError naming the file if it is missing or malformed.
    explicit Tokenizer(const std::filesystem::path& bpe_vocabulary_gz);

    /// BPE ids of the cleaned, lower-cased text, without start/end tokens.
    std::vector<int64_t> encode(std::string_view text) const;

    /// [49406, encode(text)..., 49407, 0...] of exactly context_length ids; a text too long is cut so
    /// that the last kept id is 49407 (as CLIP's tokenize(..., truncate=True)).
    std::vector<int64_t> tokenize(std::string_view text, int context_length = default_context_length) const;

    /// Number of ids in the vocabulary (49408 for CLIP's file).
    int64_t vocabulary_size() const { return static_cast<int64_t>(decoder_.size()); }

    /// The BPE string of an id (for diagnostics), e.g. "photo</w>".
    const std::string& token_string(int64_t id) const;

private:
    /// A mutex that copies and moves as a fresh one, so that the cache lock keeps Tokenizer copyable.
    struct CacheMutex {
        std::mutex mutex;
        CacheMutex() = default;
        CacheMutex(const CacheMutex&) {}
        CacheMutex& operator=(const CacheMutex&) { return *this; }
    };

    std::vector<std::string> bpe(const std::string& byte_encoded_word) const;
    void append_word_ids(const std::string& utf8_word, std::vector<int64_t>& ids) const;

    std::array<std::string, 256> byte_encoder_;  // byte -> its printable stand-in, as UTF-8
    std::unordered_map<std::string, int64_t> encoder_;
    std::vector<std::string> decoder_;
    std::unordered_map<std::string, int> merge_ranks_;  // key: "first second"
    // Ids of each word seen so far, keyed by its UTF-8 text; encode() is const and may run on several
    // threads at once, hence the lock.
    mutable std::unordered_map<std::string, std::vector<int64_t>> cache_;
    mutable CacheMutex cache_mutex_;
};

}  // namespace segearth::core
