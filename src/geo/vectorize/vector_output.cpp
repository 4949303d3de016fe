#include "vectorize/vector_output.hpp"

#include <segearth/error.hpp>
#include <segearth/geo/gdal_setup.hpp>
#include <segearth/geo/output_raster.hpp>

#include <cpl_vsi.h>

#include <filesystem>
#include <unistd.h>

namespace segearth::geo {

VectorOutput::VectorOutput(std::string path, bool overwrite, bool append, std::vector<std::string> lco)
    : path_(std::move(path)), layer_options_(std::move(lco)) {
    ensure_gdal();
    if (overwrite && append) throw UsageError("give either --overwrite or --append, not both");
    VSIStatBufL stat{};
    const bool exists = VSIStatL(path_.c_str(), &stat) == 0;
    if (!append) check_output_path(path_, overwrite, "output");
    temporary_ = path_ + ".part-" + std::to_string(static_cast<long>(getpid())) + ".gpkg";
    CPLErrorReset();
    if (append && exists) {
        std::error_code ec;
        std::filesystem::copy_file(path_, temporary_, std::filesystem::copy_options::overwrite_existing, ec);
        if (ec) {
            VSIUnlink(temporary_.c_str());
            throw FileError("cannot copy " + path_ + " to append to it: " + ec.message());
        }
        dataset_.reset(GDALDataset::Open(temporary_.c_str(), GDAL_OF_VECTOR | GDAL_OF_UPDATE));
        if (!dataset_) {
            VSIUnlink(temporary_.c_str());
            throw FileError(path_ + ": --append needs a GeoPackage: " + last_gdal_error("GDAL cannot open it"));
        }
    } else {
        GDALDriver* gpkg = GetGDALDriverManager()->GetDriverByName("GPKG");
        if (!gpkg) throw FileError("this GDAL has no GeoPackage driver");
        dataset_.reset(gpkg->Create(temporary_.c_str(), 0, 0, 0, GDT_Unknown, nullptr));
        if (!dataset_) {
            const auto reason = last_gdal_error("is the folder writable?");
            VSIUnlink(temporary_.c_str());
            throw FileError("cannot create " + path_ + ": " + reason);
        }
    }
}

VectorOutput::~VectorOutput() {
    dataset_.reset();
    if (!committed_) {
        VSIUnlink(temporary_.c_str());
        VSIUnlink((temporary_ + "-journal").c_str());
        VSIUnlink((temporary_ + "-wal").c_str());
        VSIUnlink((temporary_ + "-shm").c_str());
    }
}

OGRLayer* VectorOutput::create_layer(const std::string& name, const OGRSpatialReference* srs, bool with_probabilities) {
    if (dataset_->GetLayerByName(name.c_str()))
        throw UsageError(path_ + " already has a layer '" + name + "': choose a prefix with -nln or use --overwrite");
    std::vector<const char*> options;
    for (const auto& o : layer_options_) options.push_back(o.c_str());
    options.push_back(nullptr);
    CPLErrorReset();
    OGRLayer* layer = dataset_->CreateLayer(name.c_str(), const_cast<OGRSpatialReference*>(srs), wkbMultiPolygon,
                                             const_cast<char**>(options.data()));
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

void VectorOutput::commit() {
    CPLErrorReset();
    if (in_transaction_ && dataset_->CommitTransaction() != OGRERR_NONE)
        throw FileError("cannot write " + path_ + ": " + last_gdal_error("?"));
    dataset_.reset();  // closes: flushes SQLite
    if (CPLGetLastErrorType() >= CE_Failure) throw FileError("cannot finish " + path_ + ": " + last_gdal_error("?"));
    if (VSIRename(temporary_.c_str(), path_.c_str()) != 0) throw FileError("cannot rename " + temporary_ + " to " + path_);
    committed_ = true;
}

}  // namespace segearth::geo
