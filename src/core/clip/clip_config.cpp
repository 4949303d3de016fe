#include <segearth/core/clip_config.hpp>

#include <segearth/error.hpp>

#include <cmath>
#include <set>
#include <sstream>

namespace segearth::core {
namespace {

const torch::Tensor& require(const TensorMap& tensors, const std::string& name) {
    const auto it = tensors.find(name);
    if (it == tensors.end())
        throw Error("not a CLIP ViT state dict: tensor '" + name + "' is missing");
    return it->second;
}

// Counts the residual blocks "<prefix>resblocks.N." present, requiring them to be 0..N-1.
int64_t count_blocks(const TensorMap& tensors, const std::string& prefix) {
    std::set<int64_t> indices;
    for (const auto& [name, tensor] : tensors) {
        if (name.rfind(prefix, 0) != 0) continue;
        const auto rest = name.substr(prefix.size());
        const auto dot = rest.find('.');
        if (dot == std::string::npos) continue;
        try {
            indices.insert(std::stoll(rest.substr(0, dot)));
        } catch (const std::exception&) {
            continue;
        }
    }
    if (indices.empty()) throw Error("not a CLIP ViT state dict: no '" + prefix + "N.*' tensors");
    if (*indices.rbegin() + 1 != static_cast<int64_t>(indices.size()))
        throw Error("CLIP state dict has a gap in '" + prefix + "N': blocks are not numbered 0.." +
                    std::to_string(indices.size() - 1));
    return static_cast<int64_t>(indices.size());
}

bool same_shape(const ClipConfig& a, const ClipConfig& b) {
    return a.embed_dim == b.embed_dim && a.vision.width == b.vision.width && a.vision.layers == b.vision.layers &&
           a.vision.patch_size == b.vision.patch_size && a.vision.grid_size == b.vision.grid_size &&
           a.text.width == b.text.width && a.text.layers == b.text.layers;
}

void add_block_shapes(std::map<std::string, std::vector<int64_t>>& shapes, const std::string& prefix,
                      int64_t width) {
    shapes[prefix + "ln_1.weight"] = {width};
    shapes[prefix + "ln_1.bias"] = {width};
    shapes[prefix + "attn.in_proj_weight"] = {3 * width, width};
    shapes[prefix + "attn.in_proj_bias"] = {3 * width};
    shapes[prefix + "attn.out_proj.weight"] = {width, width};
    shapes[prefix + "attn.out_proj.bias"] = {width};
    shapes[prefix + "ln_2.weight"] = {width};
    shapes[prefix + "ln_2.bias"] = {width};
    shapes[prefix + "mlp.c_fc.weight"] = {4 * width, width};
    shapes[prefix + "mlp.c_fc.bias"] = {4 * width};
    shapes[prefix + "mlp.c_proj.weight"] = {width, 4 * width};
    shapes[prefix + "mlp.c_proj.bias"] = {width};
}

}  // namespace

ClipConfig ClipConfig::named(const std::string& name) {
    ClipConfig c;  // defaults are ViT-B/16
    if (name == "ViT-B/16") return c;
    if (name == "ViT-B/32") {
        c.vision.patch_size = 32;
        c.vision.grid_size = 7;
        return c;
    }
    if (name == "ViT-L/14" || name == "ViT-L/14@336px") {
        c.embed_dim = 768;
        c.vision = VisionConfig{1024, 24, 16, 14, name == "ViT-L/14" ? 16 : 24};
        c.text.width = 768;
        c.text.heads = 12;
        return c;
    }
    throw Error("unknown CLIP architecture '" + name + "' (known: ViT-B/16, ViT-B/32, ViT-L/14, ViT-L/14@336px)");
}

std::string ClipConfig::name() const {
    for (const char* known : {"ViT-B/16", "ViT-B/32", "ViT-L/14", "ViT-L/14@336px"})
        if (same_shape(*this, named(known))) return known;
    std::ostringstream s;
    s << "ViT (width " << vision.width << ", " << vision.layers << " layers, patch " << vision.patch_size
      << ", grid " << vision.grid_size << "; text width " << text.width << ", " << text.layers
      << " layers; embedding " << embed_dim << ")";
    return s.str();
}

ClipConfig infer_clip_config(const TensorMap& tensors) {
    ClipConfig c;
    const auto& conv1 = require(tensors, "visual.conv1.weight");
    if (conv1.dim() != 4 || conv1.size(1) != 3 || conv1.size(2) != conv1.size(3))
        throw Error("visual.conv1.weight has shape " + c10::str(conv1.sizes()) +
                    ", expected [width, 3, patch, patch]");
    c.vision.width = conv1.size(0);
    c.vision.patch_size = conv1.size(3);
    c.vision.heads = c.vision.width / 64;
    c.vision.layers = count_blocks(tensors, "visual.transformer.resblocks.");
    const auto tokens = require(tensors, "visual.positional_embedding").size(0);
    c.vision.grid_size = std::llround(std::sqrt(static_cast<double>(tokens - 1)));
    if (c.vision.grid_size * c.vision.grid_size + 1 != tokens)
        throw Error("visual.positional_embedding has " + std::to_string(tokens) +
                    " rows, expected a square grid plus one class token");

    c.embed_dim = require(tensors, "text_projection").size(-1);
    c.text.context_length = require(tensors, "positional_embedding").size(0);
    c.text.vocab_size = require(tensors, "token_embedding.weight").size(0);
    c.text.width = require(tensors, "ln_final.weight").size(0);
    c.text.heads = c.text.width / 64;
    c.text.layers = count_blocks(tensors, "transformer.resblocks.");
    if (c.vision.heads < 1 || c.text.heads < 1)
        throw Error("CLIP widths must be at least 64 (one 64-wide attention head): vision width " +
                    std::to_string(c.vision.width) + ", text width " + std::to_string(c.text.width));
    return c;
}

std::map<std::string, std::vector<int64_t>> clip_parameter_shapes(const ClipConfig& c) {
    std::map<std::string, std::vector<int64_t>> shapes;
    const auto vw = c.vision.width;
    const auto p = c.vision.patch_size;
    shapes["visual.conv1.weight"] = {vw, 3, p, p};
    shapes["visual.class_embedding"] = {vw};
    shapes["visual.positional_embedding"] = {c.vision.grid_size * c.vision.grid_size + 1, vw};
    shapes["visual.ln_pre.weight"] = {vw};
    shapes["visual.ln_pre.bias"] = {vw};
    for (int64_t i = 0; i < c.vision.layers; ++i)
        add_block_shapes(shapes, "visual.transformer.resblocks." + std::to_string(i) + ".", vw);
    shapes["visual.ln_post.weight"] = {vw};
    shapes["visual.ln_post.bias"] = {vw};
    shapes["visual.proj"] = {vw, c.embed_dim};

    const auto tw = c.text.width;
    shapes["token_embedding.weight"] = {c.text.vocab_size, tw};
    shapes["positional_embedding"] = {c.text.context_length, tw};
    for (int64_t i = 0; i < c.text.layers; ++i)
        add_block_shapes(shapes, "transformer.resblocks." + std::to_string(i) + ".", tw);
    shapes["ln_final.weight"] = {tw};
    shapes["ln_final.bias"] = {tw};
    shapes["text_projection"] = {tw, c.embed_dim};
    shapes["logit_scale"] = {};
    return shapes;
}

int64_t ClipConfig::parameter_count() const {
    int64_t total = 0;
    for (const auto& [name, shape] : clip_parameter_shapes(*this)) {
        int64_t n = 1;
        for (auto d : shape) n *= d;
        total += n;
    }
    return total;
}

}  // namespace segearth::core
