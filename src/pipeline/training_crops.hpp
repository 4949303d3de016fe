// Random training crops read straight from the user's rasters: windowed GDAL reads on each image's
// working grid (never a whole scene), images drawn in proportion to their area, crops that are mostly
// nodata drawn again. The sampler's state goes into training checkpoints, so a resumed run sees the
// same crops as an uninterrupted one.
#pragma once

#include <segearth/geo/scene_reader.hpp>

#include <torch/types.h>

#include <list>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace segearth::pipeline {

class TrainingCrops {
public:
    /// Opens every image once to check it (bands, scaling, size on the working grid). Throws
    /// UsageError/FileError naming the image when it cannot serve crops of `crop` pixels.
    TrainingCrops(const std::vector<std::string>& paths, const geo::SceneReadOptions& read, int64_t crop,
                  double min_valid_fraction, uint64_t seed);

    /// (n, 3, crop, crop) RGB in [0, 1]; nodata pixels get the crop's mean colour.
    torch::Tensor next_batch(int64_t n);

    /// Crops covering the images' total area about once.
    int64_t crops_per_epoch() const;
    size_t image_count() const { return images_.size(); }
    int64_t crops_rejected() const { return rejected_; }

    std::string state() const;
    void restore(const std::string& state);

private:
    struct Image {
        std::string path;
        int width = 0, height = 0;
        geo::SceneReadOptions read;  ///< with the bands and value ranges resolved at the first opening
    };
    geo::SceneReader& reader(size_t index);
    void read_crop(float* rgb);

    std::vector<Image> images_;
    std::vector<double> cumulative_area_;
    int64_t crop_;
    double min_valid_;
    std::mt19937_64 rng_;
    int64_t rejected_ = 0;
    std::list<std::pair<size_t, std::unique_ptr<geo::SceneReader>>> open_;  ///< most recently used first
};

}  // namespace segearth::pipeline
