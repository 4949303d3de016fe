#include <segearth/core/text_queries.hpp>

#include <segearth/core/vocabulary.hpp>
#include <segearth/core/weights.hpp>
#include <segearth/error.hpp>

#include <torch/torch.h>

#include <cstdio>
#include <cstring>

namespace segearth::core {
namespace fs = std::filesystem;

namespace {

// FNV-1a over 64-bit words: not cryptographic, only to tell weights and template sets apart.
struct Hash64 {
    uint64_t state = 1469598103934665603ULL;
    void add(const void* data, size_t size) {
        const auto* bytes = static_cast<const unsigned char*>(data);
        size_t i = 0;
        for (; i + 8 <= size; i += 8) {
            uint64_t word;
            std::memcpy(&word, bytes + i, 8);
            state = (state ^ word) * 1099511628211ULL;
        }
        for (; i < size; ++i) state = (state ^ bytes[i]) * 1099511628211ULL;
        state ^= size;
    }
};

std::vector<torch::Tensor> text_tensors(ClipModelImpl& model) {
    std::vector<torch::Tensor> tensors;
    for (const auto& p : model.named_parameters())
        if (p.key().rfind("visual.", 0) != 0) tensors.push_back(p.value());
    return tensors;
}

}  // namespace

std::string fingerprint(const std::vector<torch::Tensor>& tensors, const std::vector<std::string>& strings) {
    Hash64 h;
    for (const auto& t : tensors) {
        const auto c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
        h.add(c.data_ptr(), static_cast<size_t>(c.numel()) * sizeof(float));
    }
    for (const auto& s : strings) h.add(s.data(), s.size());
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h.state));
    return hex;
}

TextQueryEncoder::TextQueryEncoder(ClipModel model, const Tokenizer& tokenizer, std::vector<std::string> templates,
                                   fs::path cache_dir)
    : model_(std::move(model)), tokenizer_(tokenizer), templates_(std::move(templates)),
      cache_dir_(std::move(cache_dir)) {
    if (templates_.empty()) throw Error("no prompt templates: give at least one, such as \"a photo of a {}.\"");
    if (!cache_dir_.empty()) key_ = fingerprint(text_tensors(*model_), templates_);
}

fs::path TextQueryEncoder::cache_file() const {
    return cache_dir_.empty() ? fs::path() : cache_dir_ / ("text-queries-" + key_ + ".safetensors");
}

torch::Tensor TextQueryEncoder::encode_uncached(const std::string& name) {
    std::vector<int64_t> ids;
    for (const auto& t : templates_) {
        const auto row = tokenizer_.tokenize(fill_template(t, name), static_cast<int>(model_->config().text.context_length));
        ids.insert(ids.end(), row.begin(), row.end());
    }
    const auto device = model_->positional_embedding.device();
    const auto tokens = torch::tensor(ids, torch::kLong).view({static_cast<int64_t>(templates_.size()), -1}).to(device);
    torch::NoGradGuard no_grad;
    const auto embeddings = torch::nn::functional::normalize(model_->encode_text(tokens),
                                                             torch::nn::functional::NormalizeFuncOptions().dim(-1));
    return torch::nn::functional::normalize(embeddings.mean(0), torch::nn::functional::NormalizeFuncOptions().dim(0));
}

torch::Tensor TextQueryEncoder::encode(const std::vector<std::string>& names) {
    TensorMap cached;
    const auto file = cache_file();
    if (!file.empty() && fs::exists(file)) {
        try {
            cached = read_weights(file).tensors;
        } catch (const Error&) {
            cached.clear();  // a damaged cache is rebuilt, never trusted
        }
    }
    const auto device = model_->positional_embedding.device();
    const auto embed_dim = model_->config().embed_dim;
    std::vector<torch::Tensor> rows;
    bool added = false;
    for (const auto& name : names) {
        auto it = cached.find(name);
        if (it != cached.end() && it->second.dim() == 1 && it->second.size(0) == embed_dim) {
            ++hits_;
            rows.push_back(it->second.to(device, torch::kFloat32));
            continue;
        }
        ++misses_;
        auto row = encode_uncached(name);
        cached[name] = row.to(torch::kCPU).contiguous();
        rows.push_back(row);
        added = true;
    }
    if (added && !file.empty()) {
        try {
            fs::create_directories(cache_dir_);
            write_safetensors(file, cached, {{"content", "segearth text queries"}});
        } catch (const std::exception&) {
            // The cache only saves time: an unwritable cache folder must not fail the run.
        }
    }
    return torch::stack(rows);
}

}  // namespace segearth::core
