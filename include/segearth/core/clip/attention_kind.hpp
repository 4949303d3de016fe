// Which attention the last vision block uses in the dense (segmentation) forward (METHOD.md 3c).
#pragma once

#include <segearth/options/enum_names.hpp>

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

/// The names users type (--attention) and metadata records.
const options::EnumNames<AttentionKind>& attention_kinds();
inline const char* to_string(AttentionKind kind) { return attention_kinds().name(kind); }
/// Throws UsageError "--attention NAME: use segearth, clearclip, sclip, maskclip or vanilla".
inline AttentionKind parse_attention_kind(const std::string& name) { return attention_kinds().parse(name, "--attention"); }
inline std::vector<std::string> attention_kind_names() { return attention_kinds().names(); }

}  // namespace segearth::core
