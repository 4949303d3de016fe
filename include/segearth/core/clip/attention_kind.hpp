// Which attention the last vision block uses in the dense (segmentation) forward (METHOD.md 3c).
#pragma once

#include <string>
#include <vector>

namespace segearth::core {

enum class AttentionKind {
    segearth,   ///< softmax(qq^T) + softmax(kk^T) + softmax(vv^T)   (SegEarth-OV)
    clearclip,  ///< softmax(qq^T)                                   (ClearCLIP)
    sclip,      ///< softmax(qq^T) + softmax(kk^T)                   (SCLIP)
    maskclip,   ///< identity: each token attends to itself           (MaskCLIP)
    vanilla,    ///< softmax(qk^T), CLIP's own, without residual/MLP
};

const char* to_string(AttentionKind kind);
/// Parses "segearth", "clearclip", ...; throws UsageError listing the valid names.
AttentionKind parse_attention_kind(const std::string& name);
std::vector<std::string> attention_kind_names();

}  // namespace segearth::core
