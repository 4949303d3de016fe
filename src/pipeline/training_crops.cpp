#include "training_crops.hpp"

#include <segearth/error.hpp>

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace segearth::pipeline {
namespace {

constexpr size_t max_open_images = 8;   // GDAL handles kept open between crops
constexpr int max_attempts = 1000;      // consecutive mostly-nodata crops before giving up

}  // namespace

TrainingCrops::TrainingCrops(const std::vector<std::string>& paths, const geo::SceneReadOptions& read, int64_t crop,
                             double min_valid_fraction, uint64_t seed)
    : crop_(crop), min_valid_(min_valid_fraction), rng_(seed) {
    double area = 0;
    for (const auto& path : paths) {
        auto scene = std::make_unique<geo::SceneReader>(path, read);
        const auto& grid = scene->working_grid();
        if (grid.width < crop_ || grid.height < crop_)
            throw UsageError(path + ": " + std::to_string(grid.width) + " x " + std::to_string(grid.height) +
                             " pixels on the working grid, smaller than the " + std::to_string(crop_) + " x " +
                             std::to_string(crop_) + " crop: leave it out, enlarge the grid with --scale or --gsd, "
                             "or train on smaller crops with --crop");
        // Reopening (the cache below holds a few images) must not recompute a non-Byte image's
        // percentile stretch: it reads the whole band.
        auto resolved = read;
        resolved.bands = scene->bands();
        resolved.scale_ranges = scene->scale_ranges();
        images_.push_back({path, grid.width, grid.height, std::move(resolved)});
        area += static_cast<double>(grid.width) * grid.height;
        cumulative_area_.push_back(area);
        if (open_.size() < max_open_images) open_.emplace_back(images_.size() - 1, std::move(scene));
    }
}

int64_t TrainingCrops::crops_per_epoch() const {
    const double crops = cumulative_area_.empty() ? 0 : cumulative_area_.back() / static_cast<double>(crop_ * crop_);
    return std::max<int64_t>(1, std::llround(crops));
}

geo::SceneReader& TrainingCrops::reader(size_t index) {
    const auto it = std::find_if(open_.begin(), open_.end(), [&](const auto& e) { return e.first == index; });
    if (it != open_.end()) {
        open_.splice(open_.begin(), open_, it);
    } else {
        if (open_.size() >= max_open_images) open_.pop_back();
        open_.emplace_front(index, std::make_unique<geo::SceneReader>(images_[index].path, images_[index].read));
    }
    return *open_.front().second;
}

void TrainingCrops::read_crop(float* rgb) {
    const int c = static_cast<int>(crop_);
    const size_t pixels = static_cast<size_t>(c) * c;
    std::vector<unsigned char> valid(pixels);
    std::uniform_real_distribution<double> pick_area(0.0, cumulative_area_.back());
    for (int attempt = 0; attempt < max_attempts; ++attempt) {
        const double at = pick_area(rng_);
        const size_t index = std::min<size_t>(
            std::upper_bound(cumulative_area_.begin(), cumulative_area_.end(), at) - cumulative_area_.begin(),
            images_.size() - 1);
        const auto& image = images_[index];
        const int x = std::uniform_int_distribution<int>(0, image.width - c)(rng_);
        const int y = std::uniform_int_distribution<int>(0, image.height - c)(rng_);
        reader(index).read_working(x, y, c, c, rgb, valid.data());
        const size_t valid_count = static_cast<size_t>(std::count(valid.begin(), valid.end(), 1));
        if (static_cast<double>(valid_count) < min_valid_ * static_cast<double>(pixels) || valid_count == 0) {
            ++rejected_;
            continue;
        }
        if (valid_count < pixels) {
            for (int band = 0; band < 3; ++band) {
                float* plane = rgb + band * pixels;
                double sum = 0;
                for (size_t i = 0; i < pixels; ++i) sum += valid[i] ? plane[i] : 0.0f;
                const auto mean = static_cast<float>(sum / static_cast<double>(valid_count));
                for (size_t i = 0; i < pixels; ++i)
                    if (!valid[i]) plane[i] = mean;
            }
        }
        return;
    }
    throw FileError("the training images are mostly nodata: " + std::to_string(max_attempts) +
                    " random crops in a row had less than " + std::to_string(std::lround(min_valid_ * 100)) +
                    " % valid pixels; lower --min-valid or choose other images");
}

torch::Tensor TrainingCrops::next_batch(int64_t n) {
    auto batch = torch::empty({n, 3, crop_, crop_}, torch::kFloat32);
    for (int64_t i = 0; i < n; ++i) read_crop(batch[i].data_ptr<float>());
    return batch;
}

std::string TrainingCrops::state() const {
    std::ostringstream s;
    s << rng_;
    return s.str();
}

void TrainingCrops::restore(const std::string& state) {
    std::istringstream s(state);
    s >> rng_;
    if (!s) throw FileError("the training checkpoint's crop sampler state is unreadable");
}

}  // namespace segearth::pipeline
