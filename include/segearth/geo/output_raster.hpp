// A raster output written the way users can trust: under a temporary name in the destination folder,
// renamed only when complete (a crash or Ctrl-C never leaves a file that looks finished), refusing to
// replace an existing file unless asked, with class names, colours and metadata QGIS shows.
//
//   OutputRaster out(spec);               // checks the destination, creates OUT.tif.part-PID
//   out.write_block(1, x, y, w, h, data);  // blocks in any order
//   out.commit();                          // finish() (overviews, COG layout) and publish() (rename);
//                                          // without it nothing remains
#pragma once

#include <segearth/options/enum_names.hpp>
#include <segearth/output_set.hpp>
#include <segearth/progress.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace segearth::geo {

enum class PixelType { byte, float32 };
const options::EnumNames<PixelType>& pixel_types();  ///< GDAL's names: Byte, Float32

/// The formats a streamed raster can be written in (GDAL driver names GTiff and COG).
enum class RasterFormat { gtiff, cog };
const options::EnumNames<RasterFormat>& raster_formats();

struct OutputRasterSpec {
    std::string path;
    std::string format = "GTiff";              ///< "GTiff" or "COG" (any GDAL driver that can Create)
    std::vector<std::string> creation_options;  ///< -co NAME=VALUE, over the defaults
    int width = 0, height = 0, band_count = 1;
    PixelType type = PixelType::byte;
    std::optional<double> nodata;
    std::optional<std::array<double, 6>> geotransform;
    std::string crs_wkt;
    std::vector<std::string> band_descriptions;
    std::optional<std::pair<double, double>> scale_offset;  ///< band value -> scale * value + offset
    std::vector<std::string> category_names;               ///< class raster: one per class value
    std::vector<std::array<uint8_t, 3>> colours;           ///< class raster: one per class value
    std::map<std::string, std::string> metadata;
    std::string overview_resampling;  ///< "" none; NEAREST or MODE for classes, AVERAGE for continuous data
    /// A class raster's QGIS style, NAME.qml beside it (its classes as the legend), published with it
    /// and, like its .aux.xml, replacing an older one.
    bool qgis_style = false;
    bool overwrite = false;
};

class OutputRaster : public PendingOutput {
public:
    /// Throws UsageError when the file exists without `overwrite`, FileError when the folder is not
    /// writable or GDAL cannot create the file.
    explicit OutputRaster(OutputRasterSpec spec);
    ~OutputRaster() override;  ///< removes the temporary files unless commit() succeeded
    OutputRaster(const OutputRaster&) = delete;
    OutputRaster& operator=(const OutputRaster&) = delete;

    /// A w x h block at (x, y) of one band (1-based), row-major uint8_t or float per spec.type. A wide
    /// block is written in pieces a few tiles wide, asking `progress` between them: writing can evict
    /// and compress many cached tiles, and a Ctrl-C should not wait for all of them.
    void write_block(int band, int x, int y, int w, int h, const void* data, const Progress& progress = {});
    /// Adds dataset metadata (e.g. what is only known once the models are loaded).
    void set_metadata(const std::map<std::string, std::string>& items);

    /// Completes the file under its temporary name: overviews, the COG copy, closing. Throws
    /// FileError when GDAL fails, Cancelled when `keep_going` returns false during the slow steps.
    void finish(const Progress& progress = {});
    /// Renames the finished file (and its .aux.xml and .qml) into place. Finish every output of a run before
    /// publishing any (OutputSet), so that a failure leaves none that looks complete. Without
    /// spec.overwrite, a file that appeared at the path meanwhile is not replaced (UsageError).
    void publish() override;
    void check_publishable() const override;
    void commit() { finish(), publish(); }

    const std::string& path() const override { return spec_.path; }
    /// The finished file under its temporary name: what publish() renames (readable after finish()).
    const std::string& finished_path() const;
    const OutputRasterSpec& spec() const { return spec_; }

private:
    struct State;
    OutputRasterSpec spec_;
    std::unique_ptr<State> state_;
};

/// Where QGIS looks for the default style of `raster` (what OutputRasterSpec::qgis_style writes): its
/// name with the extension .qml.
std::string qgis_style_path(const std::string& raster);

/// Throws UsageError "WHAT PATH already exists: use --overwrite to replace it" when `path` exists and
/// `overwrite` is false, and "WHAT PATH: the folder F does not exist" (checked before any work starts).
void check_output_path(const std::string& path, bool overwrite, const std::string& what);

}  // namespace segearth::geo
