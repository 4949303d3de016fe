// From averaged query logits to classes (METHOD.md 6, after stitching): logit scale, softmax over all
// queries, class probability = max over its synonyms, argmax, threshold to the background class.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace segearth::core {

struct DecisionRule {
    std::vector<int64_t> query_class;  ///< class index of every query (Vocabulary::query_class())
    int64_t class_count = 0;
    double logit_scale = 50.0;
    double prob_threshold = 0.0;       ///< a winning probability strictly below it becomes bg_index
    int64_t bg_index = 0;

    /// Throws UsageError when the rule is inconsistent (no classes, bg_index out of range...).
    void validate() const;
};

struct Decision {
    torch::Tensor labels;         ///< (H, W) uint8 class index
    torch::Tensor probabilities;  ///< (C, H, W) float32
    torch::Tensor confidence;     ///< (H, W) float32: the winning class's probability
};

/// `logits` (Q, H, W) float32 -> labels, per-class probabilities and confidence.
Decision decide(const torch::Tensor& logits, const DecisionRule& rule);

}  // namespace segearth::core
