#include <segearth/geo/output_raster.hpp>

#include <segearth/error.hpp>
#include <segearth/geo/gdal_setup.hpp>
#include <segearth/temporary_output.hpp>
#include <segearth/write_error.hpp>

#include "gdal_string_list.hpp"
#include "qgis_style.hpp"

#include <cpl_vsi.h>
#include <gdal_priv.h>
#include <ogr_spatialref.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <filesystem>

namespace segearth::geo {
namespace {

bool exists(const std::string& path) {
    VSIStatBufL stat{};
    return VSIStatL(path.c_str(), &stat) == 0;
}

std::string upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return s;
}

std::string option_key(const std::string& option) { return upper(option.substr(0, option.find('='))); }

// Defaults first, then the user's -co, which replace a default of the same name.
std::vector<std::string> merged_options(std::vector<std::string> defaults, const std::vector<std::string>& user) {
    for (const auto& u : user) {
        if (u.find('=') == std::string::npos)
            throw UsageError("-co " + u + ": creation options are NAME=VALUE (e.g. -co COMPRESS=LZW)");
        defaults.erase(std::remove_if(defaults.begin(), defaults.end(),
                                      [&](const std::string& d) { return option_key(d) == option_key(u); }),
                       defaults.end());
        defaults.push_back(u);
    }
    return defaults;
}

}  // namespace

const options::EnumNames<PixelType>& pixel_types() {
    static const options::EnumNames<PixelType> names{{PixelType::float32, "Float32"}, {PixelType::byte, "Byte"}};
    return names;
}

const options::EnumNames<RasterFormat>& raster_formats() {
    static const options::EnumNames<RasterFormat> names{{RasterFormat::gtiff, "GTiff"}, {RasterFormat::cog, "COG"}};
    return names;
}

void check_output_path(const std::string& path, bool overwrite, const std::string& what) {
    ensure_gdal();
    if (path.empty()) throw UsageError(what + ": the output file name is empty");
    if (exists(path) && !overwrite)
        throw UsageError(what + " " + path + " already exists: use --overwrite to replace it");
    const auto folder = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (path.rfind("/vsi", 0) != 0 && !folder.empty() && !std::filesystem::is_directory(folder, ec))
        throw UsageError(what + " " + path + ": the folder " + folder.string() + " does not exist");
}

struct OutputRaster::State {
    // Declared before the dataset, so that the dataset is closed before the files are removed.
    std::unique_ptr<TemporaryOutput> file;     // what is published
    std::unique_ptr<TemporaryOutput> scratch;  // COG: the tiled GTiff the COG copy is made from
    std::unique_ptr<TemporaryOutput> style;    // spec.qgis_style: NAME.qml
    std::unique_ptr<GDALDataset> dataset;
};

OutputRaster::OutputRaster(OutputRasterSpec spec) : spec_(std::move(spec)), state_(std::make_unique<State>()) {
    check_output_path(spec_.path, spec_.overwrite, "output");
    const bool cog = upper(spec_.format) == "COG";
    const bool classes = !spec_.category_names.empty();
    for (const auto& option : spec_.creation_options) {
        const auto key = option_key(option);
        const auto value = upper(option.substr(option.find('=') + 1));
        if (classes && (key == "RESAMPLING" || key == "OVERVIEW_RESAMPLING") && value != "NEAREST" && value != "MODE")
            throw UsageError("-co " + option + ": overviews of a class raster must use NEAREST or MODE; " + value +
                             " would invent classes that are not in the data");
    }
    if (spec_.qgis_style && !classes) throw Error("OutputRasterSpec::qgis_style without category names");
    state_->file = std::make_unique<TemporaryOutput>(spec_.path);
    if (spec_.qgis_style) state_->style = std::make_unique<TemporaryOutput>(qgis_style_path(spec_.path), ".qml");
    if (cog) state_->scratch = std::make_unique<TemporaryOutput>(spec_.path, ".gtiff");
    const std::string& written = cog ? state_->scratch->temporary() : state_->file->temporary();

    const std::string driver_name = cog ? "GTiff" : spec_.format;
    GDALDriver* driver = GetGDALDriverManager()->GetDriverByName(driver_name.c_str());
    if (!driver)
        throw UsageError("-of " + spec_.format + ": GDAL has no such raster driver (use GTiff or COG)");
    if (!CSLFetchBoolean(driver->GetMetadata(), GDAL_DCAP_CREATE, FALSE))
        throw UsageError("-of " + spec_.format + ": GDAL's driver cannot write a raster piece by piece; use GTiff or COG");

    std::vector<std::string> defaults;
    if (upper(driver_name) == "GTIFF") defaults = {"TILED=YES", "COMPRESS=DEFLATE", "BIGTIFF=IF_SAFER"};
    // For COG the user's options apply to the final copy, not to the intermediate GTiff.
    GdalStringList options(cog ? defaults : merged_options(defaults, spec_.creation_options));
    CPLErrorReset();
    state_->dataset.reset(driver->Create(written.c_str(), spec_.width, spec_.height, spec_.band_count,
                                         spec_.type == PixelType::byte ? GDT_Byte : GDT_Float32, options.get()));
    if (!state_->dataset)
        throw write_error(spec_.path, "create", "writing " + written + ": " + last_gdal_error("is the folder writable?"));
    GDALDataset& ds = *state_->dataset;
    if (spec_.geotransform) ds.SetGeoTransform(spec_.geotransform->data());
    if (!spec_.crs_wkt.empty()) {
        OGRSpatialReference srs;
        if (srs.importFromWkt(spec_.crs_wkt.c_str()) == OGRERR_NONE) ds.SetSpatialRef(&srs);
    }
    for (const auto& [key, value] : spec_.metadata) ds.SetMetadataItem(key.c_str(), value.c_str());
    for (int b = 1; b <= spec_.band_count; ++b) {
        GDALRasterBand& band = *ds.GetRasterBand(b);
        if (spec_.nodata) band.SetNoDataValue(*spec_.nodata);
        if (static_cast<size_t>(b) <= spec_.band_descriptions.size())
            band.SetDescription(spec_.band_descriptions[static_cast<size_t>(b - 1)].c_str());
        if (spec_.scale_offset) {
            band.SetScale(spec_.scale_offset->first);
            band.SetOffset(spec_.scale_offset->second);
        }
    }
    if (classes) {
        GDALRasterBand& band = *ds.GetRasterBand(1);
        GDALColorTable table;
        for (size_t i = 0; i < spec_.colours.size(); ++i) {
            const GDALColorEntry entry{spec_.colours[i][0], spec_.colours[i][1], spec_.colours[i][2], 255};
            table.SetColorEntry(static_cast<int>(i), &entry);
        }
        band.SetColorTable(&table);
        band.SetColorInterpretation(GCI_PaletteIndex);
        GdalStringList list(spec_.category_names);
        band.SetCategoryNames(list.get());
    }
}

OutputRaster::~OutputRaster() {
    // Abandoned (an error or Ctrl-C): close without writing the cached blocks, which for a large
    // raster takes seconds, and let GDAL delete the file.
    if (state_->dataset && !state_->file->published()) state_->dataset->MarkSuppressOnClose();
}

const std::string& OutputRaster::finished_path() const { return state_->file->temporary(); }

void OutputRaster::write_block(int band, int x, int y, int w, int h, const void* data, const Progress& progress) {
    if (!state_->dataset) throw Error("OutputRaster::write_block after commit");
    const GDALDataType type = spec_.type == PixelType::byte ? GDT_Byte : GDT_Float32;
    const int pixel_bytes = GDALGetDataTypeSizeBytes(type);
    constexpr int piece_width = 4096;  // 16 tiles of 256
    for (int x0 = 0; x0 < w; x0 += piece_width) {
        if (x0 > 0) report(progress, 0.0);
        const int pw = std::min(piece_width, w - x0);
        auto* first = static_cast<GByte*>(const_cast<void*>(data)) + static_cast<size_t>(x0) * pixel_bytes;
        CPLErrorReset();
        if (state_->dataset->GetRasterBand(band)->RasterIO(GF_Write, x + x0, y, pw, h, first, pw, h, type, pixel_bytes,
                                                           static_cast<GSpacing>(w) * pixel_bytes, nullptr) != CE_None)
            throw write_error(spec_.path, "write", last_gdal_error("GDAL gave no reason"));
    }
}

void OutputRaster::set_metadata(const std::map<std::string, std::string>& items) {
    for (const auto& [key, value] : items) state_->dataset->SetMetadataItem(key.c_str(), value.c_str());
}

namespace {

// GDAL's progress callback asking the caller's Progress.
int progress_callback(double fraction, const char*, void* data) {
    const auto& progress = *static_cast<const Progress*>(data);
    return !progress || progress(fraction, "") ? TRUE : FALSE;
}

}  // namespace

void OutputRaster::finish(const Progress& progress) {
    if (!state_->dataset) throw Error("OutputRaster::finish called twice");
    GDALDataset& ds = *state_->dataset;
    const bool cog = state_->scratch != nullptr;
    auto* callback_data = const_cast<Progress*>(&progress);
    const auto check_cancel = [&] { report(progress, 1.0); };
    CPLErrorReset();
    if (!cog && !spec_.overview_resampling.empty()) {
        std::vector<int> levels;
        for (int f = 2; std::max(spec_.width, spec_.height) / f >= 256; f *= 2) levels.push_back(f);
        if (!levels.empty() && ds.BuildOverviews(spec_.overview_resampling.c_str(), static_cast<int>(levels.size()),
                                                 levels.data(), 0, nullptr, progress_callback,
                                                 callback_data) != CE_None) {
            check_cancel();
            throw write_error(spec_.path, "build the overviews of", last_gdal_error("?"));
        }
    }
    if (cog) {
        std::vector<std::string> defaults{"COMPRESS=DEFLATE", "BIGTIFF=IF_SAFER"};
        if (!spec_.overview_resampling.empty()) defaults.push_back("OVERVIEW_RESAMPLING=" + spec_.overview_resampling);
        GdalStringList options(merged_options(defaults, spec_.creation_options));
        GDALDriver* driver = GetGDALDriverManager()->GetDriverByName("COG");
        if (!driver) throw UsageError("-of COG: this GDAL has no COG driver (it needs GDAL 3.1 or later)");
        std::unique_ptr<GDALDataset> copy(driver->CreateCopy(state_->file->temporary().c_str(), &ds, FALSE, options.get(),
                                                             progress_callback, callback_data));
        if (!copy) {
            check_cancel();
            throw write_error(spec_.path, "write the COG", last_gdal_error("?"));
        }
        copy.reset();
    }
    state_->dataset.reset();  // closes and flushes
    if (CPLGetLastErrorType() >= CE_Failure)
        throw write_error(spec_.path, "finish", last_gdal_error("?"));
    if (state_->style) {
        std::ofstream out(state_->style->temporary(), std::ios::trunc | std::ios::binary);
        out << qgis_class_style(spec_.category_names, spec_.colours);
        out.close();
        if (!out) throw write_error(state_->style->path(), "write", std::strerror(errno));
    }
}

void OutputRaster::check_publishable() const {
    if (state_->dataset) throw Error("OutputRaster::publish before finish");
    state_->file->check_publishable(spec_.overwrite);
}

void OutputRaster::publish() {
    if (state_->dataset) throw Error("OutputRaster::publish before finish");
    // The style is the raster's sidecar, as its .aux.xml: replaced with it (one left by an earlier run
    // describes a raster that is gone or being replaced). First: the raster's rename is the last step.
    if (state_->style) state_->style->publish(true);
    state_->file->publish(spec_.overwrite);
    if (state_->scratch) state_->scratch->discard();
}

}  // namespace segearth::geo
