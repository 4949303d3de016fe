#include <segearth/core/clip/image_normalisation.hpp>

#include <torch/torch.h>

namespace segearth::core {

torch::Tensor normalise_clip_image(const torch::Tensor& rgb01) {
    const auto options = rgb01.options().dtype(torch::kFloat32);
    const auto mean = torch::tensor({0.48145466, 0.4578275, 0.40821073}, options).view({1, 3, 1, 1});
    const auto stddev = torch::tensor({0.26862954, 0.26130258, 0.27577711}, options).view({1, 3, 1, 1});
    return (rgb01.to(torch::kFloat32) - mean) / stddev;
}

}  // namespace segearth::core
