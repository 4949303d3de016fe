#include <segearth/geo/scene_reader.hpp>

#include "gdal_dataset.hpp"
#include "gdal_string_list.hpp"

#include <segearth/error.hpp>
#include <segearth/geo/gdal_setup.hpp>

#include <gdal_priv.h>
#include <gdal_utils.h>
#include <geodesic.h>
#include <ogr_spatialref.h>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace segearth::geo {
namespace {

std::vector<int> choose_bands(GDALDataset& ds, const std::string& path, std::vector<int> requested) {
    const int count = ds.GetRasterCount();
    if (!requested.empty()) {
        if (requested.size() != 3)
            throw UsageError("-b was given " + std::to_string(requested.size()) +
                             " times: give it three times, for red, green and blue (e.g. -b 3 -b 2 -b 1)");
        for (int b : requested)
            if (b < 1 || b > count)
                throw UsageError("-b " + std::to_string(b) + ": " + path + " has bands 1.." + std::to_string(count));
        return requested;
    }
    std::vector<int> rgb(3, 0);
    for (int b = 1; b <= count; ++b) {
        switch (ds.GetRasterBand(b)->GetColorInterpretation()) {
            case GCI_RedBand: rgb[0] = rgb[0] ? rgb[0] : b; break;
            case GCI_GreenBand: rgb[1] = rgb[1] ? rgb[1] : b; break;
            case GCI_BlueBand: rgb[2] = rgb[2] ? rgb[2] : b; break;
            default: break;
        }
    }
    if (rgb[0] && rgb[1] && rgb[2]) return rgb;
    if (count < 3)
        throw UsageError(path + " has " + std::to_string(count) +
                         (count == 1 ? " band" : " bands") + "; the model needs three (red, green, blue): "
                         "choose them with -b (e.g. -b 1 -b 1 -b 1 for a grey image)");
    return {1, 2, 3};
}

// The 2nd and 98th percentiles of a band from GDAL's approximate histogram.
std::pair<double, double> percentile_stretch(GDALRasterBand& band) {
    // GDAL's approximate statistics sample whole blocks, which skews small rasters; above ~10
    // megapixels they are accurate enough and spare reading the whole scene.
    const int approximate = static_cast<double>(band.GetXSize()) * band.GetYSize() > 1e7 ? TRUE : FALSE;
    double minimum = 0, maximum = 0, mean = 0, stddev = 0;
    if (band.ComputeStatistics(approximate, &minimum, &maximum, &mean, &stddev, nullptr, nullptr) != CE_None)
        throw FileError("cannot compute statistics of band " + std::to_string(band.GetBand()) + ": " +
                        last_gdal_error("GDAL gave no reason") + " (give --scale-range MIN MAX)");
    if (!(maximum > minimum)) return {minimum, minimum + 1};
    constexpr int buckets = 4096;
    std::vector<GUIntBig> histogram(buckets);
    const double width = (maximum - minimum) / buckets;
    if (band.GetHistogram(minimum - width / 2, maximum + width / 2, buckets, histogram.data(), FALSE, approximate, nullptr,
                          nullptr) != CE_None)
        return {minimum, maximum};
    GUIntBig total = 0;
    for (auto n : histogram) total += n;
    const auto value_at = [&](double fraction) {
        GUIntBig seen = 0;
        for (int i = 0; i < buckets; ++i) {
            seen += histogram[static_cast<size_t>(i)];
            if (static_cast<double>(seen) >= fraction * static_cast<double>(total))
                return minimum - width / 2 + (i + 0.5) * (maximum - minimum + width) / buckets;
        }
        return maximum;
    };
    const double low = value_at(0.02), high = value_at(0.98);
    return high > low ? std::pair{low, high} : std::pair{minimum, maximum};
}

// Geodesic lengths (metres, on the CRS's ellipsoid) of one pixel step east and south at the scene's
// centre: right for geographic CRSs and for projections whose map units are not ground metres
// (Web Mercator's are 1/cos(latitude) too long).
std::array<double, 2> pixel_size_metres(GDALDataset& ds, const std::string& path) {
    std::array<double, 6> gt{};
    const OGRSpatialReference* srs = ds.GetSpatialRef();
    if (ds.GetGeoTransform(gt.data()) != CE_None || !srs)
        throw UsageError(path + " is not georeferenced, so --gsd cannot be applied: use --scale or --long-side");
    std::unique_ptr<OGRSpatialReference> geographic(srs->CloneGeogCS());
    if (!geographic)
        throw UsageError(path + ": its CRS has no ellipsoid, so --gsd cannot be applied: use --scale or --long-side");
    geographic->SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);  // x = longitude, y = latitude
    std::unique_ptr<OGRCoordinateTransformation> to_lonlat(OGRCreateCoordinateTransformation(srs, geographic.get()));
    if (!to_lonlat) throw UsageError(path + ": cannot convert its CRS to longitude/latitude for --gsd");
    OGRErr err = OGRERR_NONE;
    const double a = geographic->GetSemiMajor(&err);
    const double inverse_flattening = geographic->GetInvFlattening(&err);
    geod_geodesic g{};
    geod_init(&g, a, inverse_flattening > 0 ? 1.0 / inverse_flattening : 0.0);
    const double cx = ds.GetRasterXSize() / 2.0, cy = ds.GetRasterYSize() / 2.0;
    const auto lonlat = [&](double px, double py) {
        double x = gt[0] + px * gt[1] + py * gt[2], y = gt[3] + px * gt[4] + py * gt[5];
        if (!to_lonlat->Transform(1, &x, &y))
            throw UsageError(path + ": cannot convert the scene's centre to longitude/latitude for --gsd");
        return std::array<double, 2>{x, y};
    };
    const auto distance = [&](std::array<double, 2> p, std::array<double, 2> q) {
        double s12 = 0;
        geod_inverse(&g, p[1], p[0], q[1], q[0], &s12, nullptr, nullptr);
        return s12;
    };
    const auto centre = lonlat(cx, cy);
    return {distance(centre, lonlat(cx + 1, cy)), distance(centre, lonlat(cx, cy + 1))};
}

Grid choose_working_grid(GDALDataset& ds, const std::string& path, const GridRequest& request, const Grid& native) {
    double sx = 1, sy = 1;
    switch (request.mode) {
        case GridMode::native: return native;
        case GridMode::scale:
            if (!(request.value > 0)) throw UsageError("--scale must be positive, got " + std::to_string(request.value));
            sx = sy = request.value;
            break;
        case GridMode::long_side:
            if (!(request.value >= 1)) throw UsageError("--long-side must be at least 1");
            sx = sy = request.value / std::max(native.width, native.height);
            break;
        case GridMode::gsd: {
            if (!(request.value > 0)) throw UsageError("--gsd must be positive (metres), got " + std::to_string(request.value));
            const auto metres = pixel_size_metres(ds, path);
            sx = metres[0] / request.value;
            sy = metres[1] / request.value;
            break;
        }
    }
    const double width = std::round(native.width * sx), height = std::round(native.height * sy);
    if (!(width <= 1e6 && height <= 1e6))
        throw UsageError("the working grid would be " + std::to_string(width) + " x " + std::to_string(height) +
                         " pixels: check --gsd/--scale/--long-side");
    Grid working;
    working.width = std::max(1, static_cast<int>(width));
    working.height = std::max(1, static_cast<int>(height));
    if (native.geotransform) {
        auto gt = *native.geotransform;
        const double fx = static_cast<double>(native.width) / working.width;
        const double fy = static_cast<double>(native.height) / working.height;
        gt[1] *= fx, gt[2] *= fy, gt[4] *= fx, gt[5] *= fy;
        working.geotransform = gt;
    }
    return working;
}

// A virtual (VRT) dataset holding the three bands resampled to the working grid by GDAL.
DatasetPtr resampled_view(GDALDataset& source, const std::vector<int>& bands, const Grid& working) {
    std::vector<std::string> args{"-of", "VRT", "-outsize", std::to_string(working.width),
                                  std::to_string(working.height), "-r", "bilinear", "-ot", "Float32"};
    for (int b : bands) args.insert(args.end(), {"-b", std::to_string(b)});
    // gdal_translate carries a per-dataset mask only when it is not an alpha band; ask for it.
    const int flags = source.GetRasterBand(bands[0])->GetMaskFlags();
    if ((flags & GMF_PER_DATASET) && !(flags & GMF_ALL_VALID)) args.insert(args.end(), {"-mask", "mask"});
    GdalStringList argv(std::move(args));
    std::unique_ptr<GDALTranslateOptions, decltype(&GDALTranslateOptionsFree)> options(
        GDALTranslateOptionsNew(argv.get(), nullptr), GDALTranslateOptionsFree);
    CPLErrorReset();
    DatasetPtr view(GDALDataset::FromHandle(GDALTranslate("", GDALDataset::ToHandle(&source), options.get(), nullptr)));
    if (!view) throw FileError("cannot resample " + std::string(source.GetDescription()) + ": " + last_gdal_error("?"));
    return view;
}

bool all_valid(GDALDataset& ds, const std::vector<int>& bands) {
    for (int b : bands)
        if (!(ds.GetRasterBand(b)->GetMaskFlags() & GMF_ALL_VALID)) return false;
    return true;
}

void read_mask(GDALDataset& ds, const std::vector<int>& bands, int x, int y, int w, int h, unsigned char* valid,
                const std::string& path) {
    const size_t n = static_cast<size_t>(w) * static_cast<size_t>(h);
    std::fill(valid, valid + n, 1);
    std::vector<unsigned char> mask(n);
    for (int b : bands) {
        GDALRasterBand* band = ds.GetRasterBand(b);
        if (band->GetMaskFlags() & GMF_ALL_VALID) continue;
        if (band->GetMaskBand()->RasterIO(GF_Read, x, y, w, h, mask.data(), w, h, GDT_Byte, 0, 0, nullptr) != CE_None)
            throw FileError(path + ": cannot read the mask: " + last_gdal_error("?"));
        for (size_t i = 0; i < n; ++i) valid[i] = valid[i] && mask[i];
    }
}

}  // namespace

struct SceneReader::Handles {
    DatasetPtr source;      // read by read_working when the working grid is the native one
    DatasetPtr resampled;   // the working-grid view, otherwise
    DatasetPtr mask_source, mask_resampled;  // second handles, for read_valid
    std::vector<int> working_bands;  // band numbers in the datasets on the working grid
};

SceneReader::SceneReader(const std::string& path, const SceneReadOptions& options)
    : path_(path), handles_(std::make_unique<Handles>()) {
    validate(options);
    auto& h = *handles_;
    h.source = open_raster(path);
    GDALDataset& ds = *h.source;
    bands_ = choose_bands(ds, path, options.bands);
    native_.width = ds.GetRasterXSize();
    native_.height = ds.GetRasterYSize();
    std::array<double, 6> gt{};
    if (ds.GetGeoTransform(gt.data()) == CE_None) native_.geotransform = gt;
    if (const OGRSpatialReference* srs = ds.GetSpatialRef()) {
        char* wkt = nullptr;
        const char* wkt_options[] = {"FORMAT=WKT2_2018", nullptr};
        srs->exportToWkt(&wkt, wkt_options);
        crs_wkt_ = wkt ? wkt : "";
        CPLFree(wkt);
    }

    if (!options.scale_ranges.empty() && options.scale_ranges.size() != 1 && options.scale_ranges.size() != 3)
        throw UsageError("--scale-range was given " + std::to_string(options.scale_ranges.size()) +
                         " times: give it once (all bands) or three times (one per band)");
    std::ostringstream description;
    for (size_t i = 0; i < 3; ++i) {
        GDALRasterBand& band = *ds.GetRasterBand(bands_[i]);
        std::pair<double, double> range;
        std::string source;
        if (!options.scale_ranges.empty()) {
            range = options.scale_ranges[options.scale_ranges.size() == 1 ? 0 : i];
            if (!(range.second > range.first))
                throw UsageError("--scale-range " + std::to_string(range.first) + " " + std::to_string(range.second) +
                                 ": MAX must be greater than MIN");
            source = "--scale-range";
        } else if (band.GetRasterDataType() == GDT_Byte) {
            range = {0, 255};
            source = "Byte";
        } else {
            range = percentile_stretch(band);
            source = "2-98% stretch";
        }
        ranges_.push_back(range);
        description << (i ? "; " : "") << "band " << bands_[i] << ": " << range.first << ".." << range.second << " ("
                    << source << ")";
    }
    scaling_description_ = description.str();

    working_ = choose_working_grid(ds, path, options.grid, native_);
    if (working_.width == native_.width && working_.height == native_.height) {
        working_ = native_;
        h.working_bands = bands_;
    } else {
        h.resampled = resampled_view(ds, bands_, working_);
        h.working_bands = {1, 2, 3};
    }
    has_mask_ = !all_valid(ds, bands_);
    h.mask_source = open_raster(path);
    if (h.resampled) h.mask_resampled = resampled_view(*h.mask_source, bands_, working_);
}

SceneReader::~SceneReader() = default;

void SceneReader::read_working(int x, int y, int w, int h, float* rgb, unsigned char* valid) {
    GDALDataset& ds = handles_->resampled ? *handles_->resampled : *handles_->source;
    auto& bands = handles_->working_bands;
    const GSpacing pixel = sizeof(float), line = pixel * w, band_spacing = line * h;
    if (ds.RasterIO(GF_Read, x, y, w, h, rgb, w, h, GDT_Float32, 3, bands.data(), pixel, line, band_spacing,
                    nullptr) != CE_None)
        throw FileError(path_ + ": cannot read pixels (" + std::to_string(x) + ", " + std::to_string(y) + ", " +
                        std::to_string(w) + " x " + std::to_string(h) + "): " + last_gdal_error("?"));
    const size_t n = static_cast<size_t>(w) * static_cast<size_t>(h);
    for (size_t b = 0; b < 3; ++b) {
        const auto [low, high] = ranges_[b];
        const float offset = static_cast<float>(low), scale = static_cast<float>(1.0 / (high - low));
        float* p = rgb + b * n;
        for (size_t i = 0; i < n; ++i) {
            const float v = (p[i] - offset) * scale;
            p[i] = v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f;  // NaN (e.g. under nodata) becomes 0
        }
    }
    read_mask(ds, bands, x, y, w, h, valid, path_);
}

void SceneReader::read_valid(bool working, int x, int y, int w, int h, unsigned char* valid) {
    if (working && handles_->mask_resampled)
        read_mask(*handles_->mask_resampled, handles_->working_bands, x, y, w, h, valid, path_);
    else
        read_mask(*handles_->mask_source, bands_, x, y, w, h, valid, path_);
}

std::array<double, 2> native_pixel_size_metres(const std::string& path) {
    auto ds = open_raster(path);
    return pixel_size_metres(*ds, path);
}

}  // namespace segearth::geo
