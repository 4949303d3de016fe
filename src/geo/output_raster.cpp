#include <segearth/geo/output_raster.hpp>

#include <segearth/error.hpp>
#include <segearth/geo/gdal_setup.hpp>

#include <cpl_vsi.h>
#include <gdal_priv.h>
#include <ogr_spatialref.h>

#include <algorithm>
#include <unistd.h>

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

// A NULL-terminated char* list (GDAL's CSL) over strings it owns.
struct OptionList {
    explicit OptionList(std::vector<std::string> options) : strings(std::move(options)) {
        for (const auto& o : strings) pointers.push_back(o.c_str());
        pointers.push_back(nullptr);
    }
    char** get() { return const_cast<char**>(pointers.data()); }
    std::vector<std::string> strings;
    std::vector<const char*> pointers;
};

}  // namespace

void check_output_path(const std::string& path, bool overwrite, const std::string& what) {
    ensure_gdal();
    if (path.empty()) throw UsageError(what + ": the output file name is empty");
    if (exists(path) && !overwrite)
        throw UsageError(what + " " + path + " already exists: use --overwrite to replace it");
}

struct OutputRaster::State {
    std::string temporary;      // where the raster is written
    std::string cog_temporary;  // the COG copy of it, when the format is COG
    std::unique_ptr<GDALDataset> dataset;
    bool committed = false;

    void remove_files() {
        dataset.reset();
        for (const auto& f : {temporary, cog_temporary}) {
            if (f.empty()) continue;
            VSIUnlink(f.c_str());
            VSIUnlink((f + ".aux.xml").c_str());
        }
    }
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
    const auto pid = std::to_string(static_cast<long>(getpid()));
    state_->temporary = spec_.path + ".part-" + pid + (cog ? ".gtiff" : "");
    if (cog) state_->cog_temporary = spec_.path + ".part-" + pid;

    const std::string driver_name = cog ? "GTiff" : spec_.format;
    GDALDriver* driver = GetGDALDriverManager()->GetDriverByName(driver_name.c_str());
    if (!driver)
        throw UsageError("-of " + spec_.format + ": GDAL has no such raster driver (use GTiff or COG)");
    if (!CSLFetchBoolean(driver->GetMetadata(), GDAL_DCAP_CREATE, FALSE))
        throw UsageError("-of " + spec_.format + ": GDAL's driver cannot write a raster piece by piece; use GTiff or COG");

    std::vector<std::string> defaults;
    if (upper(driver_name) == "GTIFF") defaults = {"TILED=YES", "COMPRESS=DEFLATE", "BIGTIFF=IF_SAFER"};
    // For COG the user's options apply to the final copy, not to the intermediate GTiff.
    OptionList options(cog ? defaults : merged_options(defaults, spec_.creation_options));
    CPLErrorReset();
    state_->dataset.reset(driver->Create(state_->temporary.c_str(), spec_.width, spec_.height, spec_.band_count,
                                         spec_.type == PixelType::byte ? GDT_Byte : GDT_Float32, options.get()));
    if (!state_->dataset)
        throw FileError("cannot create " + spec_.path + " (writing " + state_->temporary +
                        "): " + last_gdal_error("is the folder writable?"));
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
        OptionList list(spec_.category_names);
        band.SetCategoryNames(list.get());
    }
}

OutputRaster::~OutputRaster() {
    if (!state_->committed) state_->remove_files();
}

void OutputRaster::write_block(int band, int x, int y, int w, int h, const void* data) {
    if (!state_->dataset) throw Error("OutputRaster::write_block after commit");
    CPLErrorReset();
    if (state_->dataset->GetRasterBand(band)->RasterIO(GF_Write, x, y, w, h, const_cast<void*>(data), w, h,
                                                       spec_.type == PixelType::byte ? GDT_Byte : GDT_Float32, 0, 0,
                                                       nullptr) != CE_None)
        throw FileError("cannot write " + spec_.path + ": " + last_gdal_error("is the disk full?"));
}

void OutputRaster::set_metadata(const std::map<std::string, std::string>& items) {
    for (const auto& [key, value] : items) state_->dataset->SetMetadataItem(key.c_str(), value.c_str());
}

namespace {

// GDAL's progress callback asking the caller's keep_going().
int keep_going_callback(double, const char*, void* data) {
    const auto& keep_going = *static_cast<const std::function<bool()>*>(data);
    return !keep_going || keep_going() ? TRUE : FALSE;
}

}  // namespace

void OutputRaster::finish(const std::function<bool()>& keep_going) {
    if (!state_->dataset) throw Error("OutputRaster::finish called twice");
    GDALDataset& ds = *state_->dataset;
    const bool cog = !state_->cog_temporary.empty();
    auto* callback_data = const_cast<std::function<bool()>*>(&keep_going);
    const auto check_cancel = [&] {
        if (keep_going && !keep_going()) throw Cancelled();
    };
    CPLErrorReset();
    if (!cog && !spec_.overview_resampling.empty()) {
        std::vector<int> levels;
        for (int f = 2; std::max(spec_.width, spec_.height) / f >= 256; f *= 2) levels.push_back(f);
        if (!levels.empty() && ds.BuildOverviews(spec_.overview_resampling.c_str(), static_cast<int>(levels.size()),
                                                 levels.data(), 0, nullptr, keep_going_callback,
                                                 callback_data) != CE_None) {
            check_cancel();
            throw FileError("cannot build overviews of " + spec_.path + ": " + last_gdal_error("?"));
        }
    }
    if (cog) {
        std::vector<std::string> defaults{"COMPRESS=DEFLATE", "BIGTIFF=IF_SAFER"};
        if (!spec_.overview_resampling.empty()) defaults.push_back("OVERVIEW_RESAMPLING=" + spec_.overview_resampling);
        OptionList options(merged_options(defaults, spec_.creation_options));
        GDALDriver* driver = GetGDALDriverManager()->GetDriverByName("COG");
        if (!driver) throw UsageError("-of COG: this GDAL has no COG driver (it needs GDAL 3.1 or later)");
        std::unique_ptr<GDALDataset> copy(driver->CreateCopy(state_->cog_temporary.c_str(), &ds, FALSE, options.get(),
                                                             keep_going_callback, callback_data));
        if (!copy) {
            check_cancel();
            throw FileError("cannot write " + spec_.path + " as COG: " + last_gdal_error("?"));
        }
        copy.reset();
    }
    state_->dataset.reset();  // closes and flushes
    if (CPLGetLastErrorType() >= CE_Failure)
        throw FileError("cannot finish " + spec_.path + ": " + last_gdal_error("?"));
}

void OutputRaster::publish() {
    if (state_->dataset) throw Error("OutputRaster::publish before finish");
    const bool cog = !state_->cog_temporary.empty();
    const std::string& finished = cog ? state_->cog_temporary : state_->temporary;
    const std::string aux = spec_.path + ".aux.xml";
    if (exists(aux)) VSIUnlink(aux.c_str());  // a stale sidecar of the file being replaced
    if (VSIRename(finished.c_str(), spec_.path.c_str()) != 0)
        throw FileError("cannot rename " + finished + " to " + spec_.path);
    if (exists(finished + ".aux.xml")) VSIRename((finished + ".aux.xml").c_str(), aux.c_str());
    state_->committed = true;
    if (cog) {
        VSIUnlink(state_->temporary.c_str());
        VSIUnlink((state_->temporary + ".aux.xml").c_str());
    }
}

}  // namespace segearth::geo
