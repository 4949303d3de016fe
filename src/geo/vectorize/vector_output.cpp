#include "vectorize/vector_output.hpp"

#include "gdal_string_list.hpp"

#include <segearth/error.hpp>
#include <segearth/geo/gdal_setup.hpp>
#include <segearth/geo/output_raster.hpp>

#include <cpl_vsi.h>

#include <filesystem>

namespace segearth::geo {

namespace {

// The temporary file keeps the driver's extension: some drivers choose by it.
std::string extension_of(const std::string& driver) {
    if (driver == "GeoJSON") return ".geojson";
    if (driver == "FlatGeobuf") return ".fgb";
    return ".gpkg";
}

}  // namespace

VectorOutput::VectorOutput(std::string path, const std::string& driver, bool overwrite, bool append,
                           std::vector<std::string> lco)
    : path_(std::move(path)), file_(path_, extension_of(driver)), layer_options_(std::move(lco)),
      replace_(overwrite || append) {
    ensure_gdal();
    if (overwrite && append) throw UsageError("give either --overwrite or --append, not both");
    VSIStatBufL stat{};
    const bool exists = VSIStatL(path_.c_str(), &stat) == 0;
    if (!append) check_output_path(path_, overwrite, "output");
    const std::string& temporary = file_.temporary();
    CPLErrorReset();
    if (append && exists) {
        std::error_code ec;
        std::filesystem::copy_file(path_, temporary, std::filesystem::copy_options::overwrite_existing, ec);
        if (ec) throw FileError("cannot copy " + path_ + " to append to it: " + ec.message());
        dataset_.reset(GDALDataset::Open(temporary.c_str(), GDAL_OF_VECTOR | GDAL_OF_UPDATE));
        if (!dataset_) throw FileError(path_ + ": --append needs a GeoPackage: " + last_gdal_error("GDAL cannot open it"));
    } else {
        GDALDriver* gdal_driver = GetGDALDriverManager()->GetDriverByName(driver.c_str());
        if (!gdal_driver) throw FileError("this GDAL has no " + driver + " driver");
        dataset_.reset(gdal_driver->Create(temporary.c_str(), 0, 0, 0, GDT_Unknown, nullptr));
        if (!dataset_) throw FileError("cannot create " + path_ + ": " + last_gdal_error("is the folder writable?"));
    }
}

VectorOutput::~VectorOutput() {
    dataset_.reset();
    if (!file_.published())
        for (const char* sqlite_sidecar : {"-journal", "-wal", "-shm"})
            VSIUnlink((file_.temporary() + sqlite_sidecar).c_str());
}

OGRLayer* VectorOutput::create_layer(const std::string& name, const OGRSpatialReference* srs, bool with_probabilities) {
    if (dataset_->GetLayerByName(name.c_str()))
        throw UsageError(path_ + " already has a layer '" + name + "': choose a prefix with -nln or use --overwrite");
    GdalStringList options(layer_options_);
    CPLErrorReset();
    OGRLayer* layer = dataset_->CreateLayer(name.c_str(), const_cast<OGRSpatialReference*>(srs), wkbMultiPolygon,
                                             options.get());
    if (!layer) throw FileError("cannot create layer '" + name + "' in " + path_ + ": " + last_gdal_error("?"));
    const auto add = [&](const char* field, OGRFieldType type) {
        OGRFieldDefn definition(field, type);
        if (layer->CreateField(&definition) != OGRERR_NONE)
            throw FileError("cannot add field " + std::string(field) + " to " + path_ + ": " + last_gdal_error("?"));
    };
    add("class_id", OFTInteger);
    add("class_name", OFTString);
    add("area_m2", OFTReal);
    add("perimeter_m", OFTReal);
    if (with_probabilities) {
        add("mean_prob", OFTReal);
        add("max_prob", OFTReal);
    }
    return layer;
}

void VectorOutput::begin_writing() {
    in_transaction_ = dataset_->StartTransaction() == OGRERR_NONE;
}

void VectorOutput::finish() {
    CPLErrorReset();
    if (in_transaction_ && dataset_->CommitTransaction() != OGRERR_NONE)
        throw FileError("cannot write " + path_ + ": " + last_gdal_error("?"));
    dataset_.reset();  // closes: flushes SQLite
    if (CPLGetLastErrorType() >= CE_Failure) throw FileError("cannot finish " + path_ + ": " + last_gdal_error("?"));
}

void VectorOutput::publish() {
    if (dataset_) throw Error("VectorOutput::publish before finish");
    file_.publish(replace_);
}

}  // namespace segearth::geo
