#include <segearth/core/segmenter/class_decision.hpp>

#include <segearth/error.hpp>

#include <torch/torch.h>

namespace segearth::core {

void DecisionRule::validate() const {
    if (class_count <= 0) throw UsageError("the class list is empty: give --classes, --classes-file or --preset");
    if (class_count > 255)
        throw UsageError("at most 255 classes fit a Byte class raster (255 is nodata); got " +
                         std::to_string(class_count));
    if (bg_index < 0 || bg_index >= class_count)
        throw UsageError("--bg-index " + std::to_string(bg_index) + " is not a class index (0.." +
                         std::to_string(class_count - 1) + ")");
    if (!(prob_threshold >= 0.0 && prob_threshold <= 1.0))
        throw UsageError("--prob-threshold must lie in [0, 1], got " + std::to_string(prob_threshold));
    for (auto c : query_class)
        if (c < 0 || c >= class_count) throw Error("query class index out of range");
}

Decision decide(const torch::Tensor& logits, const DecisionRule& rule) {
    TORCH_CHECK(logits.dim() == 3 && logits.size(0) == static_cast<int64_t>(rule.query_class.size()),
                "logits must be (", rule.query_class.size(), ", H, W), got ", logits.sizes());
    const auto query_probabilities = torch::softmax(logits.to(torch::kFloat32) * rule.logit_scale, 0);
    std::vector<torch::Tensor> per_class(static_cast<size_t>(rule.class_count));
    for (size_t q = 0; q < rule.query_class.size(); ++q) {
        auto& p = per_class[static_cast<size_t>(rule.query_class[q])];
        p = p.defined() ? torch::maximum(p, query_probabilities[static_cast<int64_t>(q)])
                        : query_probabilities[static_cast<int64_t>(q)];
    }
    for (auto& p : per_class)
        if (!p.defined()) p = torch::zeros_like(query_probabilities[0]);  // a class without queries
    Decision d;
    d.probabilities = torch::stack(per_class);
    // torch::max returns the first maximal index, which is METHOD.md's "lowest index on ties".
    auto [confidence, labels] = d.probabilities.max(0);
    labels.masked_fill_(confidence < rule.prob_threshold, rule.bg_index);
    d.labels = labels.to(torch::kUInt8);
    d.confidence = confidence;
    return d;
}

}  // namespace segearth::core
