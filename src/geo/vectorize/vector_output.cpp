#include "vectorize/vector_output.hpp"

#include "gdal_string_list.hpp"

#include <segearth/error.hpp>
#include <segearth/geo/gdal_setup.hpp>
#include <segearth/geo/output_raster.hpp>
#include <segearth/geo/vectorize.hpp>
#include <segearth/write_error.hpp>

#include <cpl_vsi.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

namespace segearth::geo {

namespace {

// The temporary file keeps the driver's extension: some drivers choose by it.
std::string extension_of(const std::string& driver) {
    if (driver == "GeoJSON") return ".geojson";
    if (driver == "FlatGeobuf") return ".fgb";
    if (driver == "ESRI Shapefile") return ".shp";
    return ".gpkg";
}

// SQL's quoting of a text and of a name.
std::string quoted_with(const std::string& text, char quote) {
    std::string out(1, quote);
    for (char c : text) {
        out += c;
        if (c == quote) out += c;
    }
    return out + quote;
}
std::string sql_text(const std::string& text) { return quoted_with(text, '\''); }
std::string sql_name(const std::string& name) { return quoted_with(name, '"'); }

bool has_option(const std::vector<std::string>& options, const std::string& key) {
    for (const auto& o : options)
        if (o.size() > key.size() && o[key.size()] == '=' && EQUALN(o.c_str(), key.c_str(), key.size())) return true;
    return false;
}

void check_destination(const std::string& path, const std::vector<std::string>& companions, bool overwrite,
                       bool append) {
    if (!append) check_output_path(path, overwrite, "output");
    VSIStatBufL stat{};
    for (const auto& companion : companions)
        if (!overwrite && VSIStatL(companion.c_str(), &stat) == 0)
            throw UsageError(companion + " already exists (it would be part of " + path +
                             "): use --overwrite to replace it");
}

}  // namespace

void check_vector_output(const std::string& output, VectorFormat format, bool overwrite, bool append) {
    check_destination(output, vector_companions(output, format), overwrite, append);
}

VectorOutput::VectorOutput(std::string path, const std::string& driver, std::vector<std::string> companions,
                           bool overwrite, bool append, std::vector<std::string> lco)
    : path_(std::move(path)), file_(path_, extension_of(driver)), layer_options_(std::move(lco)),
      shapefile_(driver == "ESRI Shapefile"), replace_(overwrite || append) {
    ensure_gdal();
    if (overwrite && append) throw UsageError("give either --overwrite or --append, not both");
    VSIStatBufL stat{};
    const bool exists = VSIStatL(path_.c_str(), &stat) == 0;
    check_destination(path_, companions, overwrite, append);
    const std::string& temporary = file_.temporary();
    for (auto& companion : companions) {
        const auto written_as = std::filesystem::path(temporary).replace_extension(
            std::filesystem::path(companion).extension());
        companions_.push_back(TemporaryOutput::named(std::move(companion), written_as.string()));
    }
    // Class names are any UTF-8 text: a Shapefile's default encoding (ISO-8859-1) would lose them.
    if (shapefile_ && !has_option(layer_options_, "ENCODING")) layer_options_.push_back("ENCODING=UTF-8");
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
        if (!dataset_) throw write_error(path_, "create", last_gdal_error("is the folder writable?"));
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
    // A GeoPackage's spatial index, unless the user chose (-lco SPATIAL_INDEX=...), is made before the
    // first feature and filled in one pass when the file is finished (rtree_bulk_load.hpp): GDAL 3.6
    // would otherwise fill it one SQLite insert per polygon, the slowest part of a vectorize. GDAL
    // 3.7 and later fill their deferred index in one pass themselves.
    const bool one_pass_index = dataset_->GetDriver() &&
                                EQUAL(dataset_->GetDriver()->GetDescription(), "GPKG") &&
                                !has_option(layer_options_, "SPATIAL_INDEX") &&
                                std::atoi(GDALVersionInfo("VERSION_NUM")) < GDAL_COMPUTE_VERSION(3, 7, 0);
    auto layer_options = layer_options_;
    if (one_pass_index) layer_options.push_back("SPATIAL_INDEX=NO");
    GdalStringList options(layer_options);
    CPLErrorReset();
    OGRLayer* layer = dataset_->CreateLayer(name.c_str(), const_cast<OGRSpatialReference*>(srs), wkbMultiPolygon,
                                             options.get());
    if (!layer) throw write_error(path_, "create layer '" + name + "' in", last_gdal_error("?"));
    if (one_pass_index) {
        const std::string table = layer->GetName(), column = layer->GetGeometryColumn();
        execute("SELECT CreateSpatialIndex(" + sql_text(table) + ", " + sql_text(column) + ")",
                "index layer '" + name + "' in");
        if (!layer->TestCapability(OLCFastSpatialFilter))
            throw write_error(path_, "index layer '" + name + "' in", last_gdal_error("?"));
        // GDAL made the R-tree, its triggers and its gpkg_extensions row; only the insert trigger,
        // which would fill it polygon by polygon, is set aside until finish().
        OnePassIndex index{"rtree_" + table + "_" + column, {}, {}};
        const std::string trigger = index.rtree + "_insert";
        OGRLayer* rows = dataset_->ExecuteSQL(
            ("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = " + sql_text(trigger)).c_str(), nullptr,
            nullptr);
        if (rows) {
            if (std::unique_ptr<OGRFeature> row(rows->GetNextFeature()); row) index.trigger_sql = row->GetFieldAsString(0);
            dataset_->ReleaseResultSet(rows);
        }
        // A GDAL whose trigger has another name keeps its own way of filling the index.
        if (!index.trigger_sql.empty()) {
            execute("DROP TRIGGER " + sql_name(trigger), "index layer '" + name + "' in");
            one_pass_indexes_[layer] = std::move(index);
        }
    }
    written_[layer->GetName()] = 0;
    const auto add = [&](const char* field, OGRFieldType type, int width = 0) {
        OGRFieldDefn definition(field, type);
        definition.SetWidth(width);
        if (layer->CreateField(&definition) != OGRERR_NONE)
            throw write_error(path_, "add field " + std::string(field) + " to", last_gdal_error("?"));
    };
    // In PolygonField's order. A Shapefile's field names have at most 10 characters, its texts 254.
    add("class_id", OFTInteger);
    add("class_name", OFTString, shapefile_ ? 254 : 0);
    add("area_m2", OFTReal);
    add(shapefile_ ? "perim_m" : "perimeter_m", OFTReal);
    if (with_probabilities) {
        add("mean_prob", OFTReal);
        add("max_prob", OFTReal);
    }
    return layer;
}

void VectorOutput::begin_writing() {
    in_transaction_ = dataset_->StartTransaction() == OGRERR_NONE;
}

void VectorOutput::write(OGRLayer* layer, OGRFeature& feature) {
    if (layer->CreateFeature(&feature) != OGRERR_NONE) throw write_error(path_, "write a polygon to", last_gdal_error("?"));
    ++written_[layer->GetName()];
    const auto indexed = one_pass_indexes_.find(layer);
    if (indexed == one_pass_indexes_.end()) return;
    // What the trigger would store: nothing for an empty geometry, else its envelope.
    const OGRGeometry* geometry = feature.GetGeometryRef();
    if (!geometry || geometry->IsEmpty()) return;
    OGREnvelope e;
    geometry->getEnvelope(&e);
    auto& entries = indexed->second.entries;
    entries.push_back(rtree_entry(feature.GetFID(), e.MinX, e.MaxX, e.MinY, e.MaxY));
    if (entries.size() > one_pass_index_limit_) {
        index_by_trigger(layer, indexed->second);
        one_pass_indexes_.erase(indexed);
    }
}

void VectorOutput::execute(const std::string& sql, const std::string& what) {
    CPLErrorReset();
    dataset_->ReleaseResultSet(dataset_->ExecuteSQL(sql.c_str(), nullptr, nullptr));
    if (CPLGetLastErrorType() >= CE_Failure) throw write_error(path_, what, last_gdal_error("?"));
}

// Too many polygons to keep their envelopes: the index gets the ones written so far from the
// table, and its trigger back for the rest.
void VectorOutput::index_by_trigger(OGRLayer* layer, OnePassIndex& index) {
    const std::string geometry = sql_name(layer->GetGeometryColumn());
    execute("INSERT INTO " + sql_name(index.rtree) + " SELECT " + sql_name(layer->GetFIDColumn()) + ", ST_MinX(" +
                geometry + "), ST_MaxX(" + geometry + "), ST_MinY(" + geometry + "), ST_MaxY(" + geometry +
                ") FROM " + sql_name(layer->GetName()) + " WHERE " + geometry + " NOT NULL AND NOT ST_IsEmpty(" +
                geometry + ")",
            "index");
    execute(index.trigger_sql, "index");
}

void VectorOutput::finish() {
    CPLErrorReset();
    if (in_transaction_ && dataset_->CommitTransaction() != OGRERR_NONE)
        throw write_error(path_, "write", last_gdal_error("?"));
    dataset_.reset();  // closes: flushes SQLite
    if (CPLGetLastErrorType() >= CE_Failure) throw write_error(path_, "finish", last_gdal_error("?"));
    for (auto& [layer, index] : one_pass_indexes_)
        bulk_load_rtree(file_.temporary(), index.rtree, std::move(index.entries), index.trigger_sql);
    one_pass_indexes_.clear();

    const std::unique_ptr<GDALDataset> back(GDALDataset::Open(file_.temporary().c_str(), GDAL_OF_VECTOR));
    if (!back) throw write_error(path_, "finish", "what was written cannot be read back: " + last_gdal_error("?"));
    for (const auto& [name, count] : written_) {
        // A one-layer file may name its layer after itself when read back.
        OGRLayer* layer = back->GetLayerCount() == 1 && written_.size() == 1 ? back->GetLayer(0)
                                                                              : back->GetLayerByName(name.c_str());
        const long long held = layer ? layer->GetFeatureCount() : -1;
        if (held != count)
            throw write_error(path_, "finish",
                              "layer '" + name + "' holds " + std::to_string(std::max(held, 0LL)) + " of the " +
                                  std::to_string(count) + " polygons written");
    }
}

void VectorOutput::check_publishable() const {
    for (const auto& companion : companions_) {
        std::error_code ec;
        if (std::filesystem::exists(companion->temporary(), ec)) companion->check_publishable(replace_);
    }
    file_.check_publishable(replace_);
}

void VectorOutput::publish() {
    if (dataset_) throw Error("VectorOutput::publish before finish");
    check_publishable();
    // The companions first: a .shp in place means its .dbf and .shx are too. One the driver did not
    // write (a spatial index) must not survive from the file being replaced.
    for (auto& companion : companions_) {
        std::error_code ec;
        if (std::filesystem::exists(companion->temporary(), ec)) companion->publish(replace_);
        else if (replace_) std::filesystem::remove(companion->path(), ec);
    }
    file_.publish(replace_);
}

}  // namespace segearth::geo
