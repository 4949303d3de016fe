// Text side of the method (METHOD.md 2): one embedding per query name, averaged over the prompt
// templates, cached on disk keyed by the text weights and the templates.
//
//   TextQueryEncoder encoder(clip.model, tokenizer, read_templates(templates_path), user_cache_dir());
//   torch::Tensor T = encoder.encode(vocabulary.query_names());   // (Q, E), rows L2-normalised
#pragma once

#include <segearth/core/clip_model.hpp>
#include <segearth/core/tokenizer.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace segearth::core {

class TextQueryEncoder {
public:
    /// `cache_dir` empty: no disk cache.
    TextQueryEncoder(ClipModel model, const Tokenizer& tokenizer, std::vector<std::string> templates,
                     std::filesystem::path cache_dir = {});

    /// (Q, E) float32 on the model's device: for each name, the normalised mean of the normalised
    /// embeddings of every filled template.
    torch::Tensor encode(const std::vector<std::string>& names);

    /// The cache file for this model and these templates ("" without a cache).
    std::filesystem::path cache_file() const;
    int cache_hits() const { return hits_; }
    int cache_misses() const { return misses_; }

private:
    torch::Tensor encode_uncached(const std::string& name);

    ClipModel model_;
    const Tokenizer& tokenizer_;
    std::vector<std::string> templates_;
    std::filesystem::path cache_dir_;
    std::string key_;
    int hits_ = 0, misses_ = 0;
};

/// A 64-bit content hash (hex) of tensors' bytes, in name order; the key for caches of derived data.
std::string fingerprint(const std::vector<torch::Tensor>& tensors, const std::vector<std::string>& strings = {});

}  // namespace segearth::core
