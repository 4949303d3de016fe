// The enum name tables of the model side: one spelling per value.
#include <segearth/core/clip/attention_kind.hpp>
#include <segearth/core/clip/precision.hpp>
#include <segearth/core/segmenter/segmenter_types.hpp>

namespace segearth::core {

const options::EnumNames<AttentionKind>& attention_kinds() {
    static const options::EnumNames<AttentionKind> names{{AttentionKind::segearth, "segearth"},
                                                         {AttentionKind::clearclip, "clearclip"},
                                                         {AttentionKind::sclip, "sclip"},
                                                         {AttentionKind::maskclip, "maskclip"},
                                                         {AttentionKind::vanilla, "vanilla"}};
    return names;
}

const options::EnumNames<Precision>& precisions() {
    static const options::EnumNames<Precision> names{
        {Precision::fp32, "fp32"}, {Precision::bf16, "bf16"}, {Precision::fp16, "fp16"}};
    return names;
}

const options::EnumNames<std::optional<Precision>>& precision_choices() {
    static const options::EnumNames<std::optional<Precision>> names{
        {std::nullopt, "auto"}, {Precision::fp32, "fp32"}, {Precision::bf16, "bf16"}, {Precision::fp16, "fp16"}};
    return names;
}

const options::EnumNames<UpsamplerKind>& upsampler_kinds() {
    static const options::EnumNames<UpsamplerKind> names{
        {UpsamplerKind::simfeatup, "simfeatup"}, {UpsamplerKind::bilinear, "bilinear"}, {UpsamplerKind::none, "none"}};
    return names;
}

}  // namespace segearth::core
