// Reading a scene for segmentation: three bands of any GDAL raster, scaled to [0, 1], on a working
// grid resampled by GDAL (bilinear), with the validity mask from nodata values and mask bands.
//
//   SceneReader scene("ortho.tif", {.grid = {GridMode::gsd, 0.5}});
//   scene.read_working(x, y, w, h, rgb.data(), valid.data());   // planar RGB floats, 1 = valid
#pragma once

#include <segearth/options/option_table.hpp>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace segearth::geo {

enum class GridMode {
    native,     ///< the input's own pixels
    gsd,        ///< a target ground sampling distance in metres
    scale,      ///< a factor on the native size
    long_side,  ///< the paper's protocol: the long side becomes N pixels
};

struct GridRequest {
    GridMode mode = GridMode::native;
    double value = 0;
};

struct SceneReadOptions {
    std::vector<int> bands;  ///< 1-based; empty: the Red/Green/Blue bands if labelled so, else 1, 2, 3
    /// Value ranges mapped to [0, 1]: none (Byte as is, other types a 2-98 % stretch), one for all
    /// bands, or one per band.
    std::vector<std::pair<double, double>> scale_ranges;
    GridRequest grid;
};

/// -b/--band, --scale-range, --gsd, --scale and --long-side: the input options segment and train
/// share, declared once.
const options::OptionTable<SceneReadOptions>& scene_read_option_table();

/// The checks that need no file: bands from 1, finite grid values and value ranges. SceneReader
/// runs it first; segment and train run it in their own validate().
void validate(const SceneReadOptions& options);

/// A pixel grid: size and (when georeferenced) its geotransform.
struct Grid {
    int width = 0, height = 0;
    std::optional<std::array<double, 6>> geotransform;
};

class SceneReader {
public:
    /// Opens and checks everything up front; throws FileError/UsageError naming the file, band or
    /// flag at fault.
    SceneReader(const std::string& path, const SceneReadOptions& options);
    ~SceneReader();
    SceneReader(const SceneReader&) = delete;
    SceneReader& operator=(const SceneReader&) = delete;

    const std::string& path() const { return path_; }
    const Grid& native_grid() const { return native_; }
    const Grid& working_grid() const { return working_; }
    const std::string& crs_wkt() const { return crs_wkt_; }
    const std::vector<int>& bands() const { return bands_; }
    /// The value range mapped to [0, 1] for each of the three bands, as resolved (given, Byte, or the
    /// 2-98 % stretch computed at opening). Passing them back as scale_ranges reopens the file
    /// without recomputing statistics.
    const std::vector<std::pair<double, double>>& scale_ranges() const { return ranges_; }
    /// The per-band value ranges mapped to [0, 1] and where they came from, for the output's metadata.
    const std::string& scaling_description() const { return scaling_description_; }
    bool has_mask() const { return has_mask_; }

    /// Rows [y, y+h) and columns [x, x+w) of the working grid: planar RGB in [0, 1] (3*w*h floats)
    /// and validity (w*h bytes, 1 = valid). Not thread-safe; use from one thread at a time.
    void read_working(int x, int y, int w, int h, float* rgb, unsigned char* valid);
    /// Validity on the native grid, or on the working grid with `working`, through separate GDAL
    /// handles: may run beside read_working (not beside itself).
    void read_valid(bool working, int x, int y, int w, int h, unsigned char* valid);

private:
    struct Handles;
    std::string path_;
    std::unique_ptr<Handles> handles_;
    Grid native_, working_;
    std::string crs_wkt_;
    std::vector<int> bands_;
    std::vector<std::pair<double, double>> ranges_;
    std::string scaling_description_;
    bool has_mask_ = false;
};

/// The native pixel size in metres (x, y): projected CRSs through their linear unit, geographic ones
/// by the geodesic distance across one pixel at the scene's centre. Throws UsageError when the raster
/// is not georeferenced.
std::array<double, 2> native_pixel_size_metres(const std::string& path);

}  // namespace segearth::geo
