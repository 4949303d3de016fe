// A vector file written the safe way: into OUT.part-PID.EXT beside OUT, renamed when complete;
// an existing OUT is an error unless overwrite (replace) or append (its layers are kept: the file is
// copied first, so a failure still leaves the original untouched). A Shapefile's companions (.dbf,
// .shx, .prj, .cpg) are written and renamed alongside, the .shp last.
#pragma once

#include "vectorize/rtree_bulk_load.hpp"

#include <segearth/output_set.hpp>
#include <segearth/temporary_output.hpp>

#include <ogrsf_frmts.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace segearth::geo {

/// The fields of every polygon layer, in the order they are created (mean_prob and max_prob only
/// with probabilities): features are filled by index, so a format's shorter names change nothing.
enum PolygonField : int { class_id, class_name, area_m2, perimeter_m, mean_prob, max_prob };

class VectorOutput : public PendingOutput {
public:
    /// `driver`: GDAL's name (GPKG, GeoJSON, FlatGeobuf, ESRI Shapefile); append needs GPKG.
    /// `companions`: the files the driver writes beside the output (vector_companions()); they are
    /// published with it, and stale ones of a replaced output removed.
    VectorOutput(std::string path, const std::string& driver, std::vector<std::string> companions, bool overwrite,
                 bool append, std::vector<std::string> layer_creation_options);
    ~VectorOutput() override;  ///< removes the temporary file unless published
    VectorOutput(const VectorOutput&) = delete;
    VectorOutput& operator=(const VectorOutput&) = delete;

    /// A new polygon layer; throws UsageError when it exists (with append: use another -nln prefix).
    OGRLayer* create_layer(const std::string& name, const OGRSpatialReference* srs, bool with_probabilities);
    /// One transaction for all features (SQLite is slow feature by feature); finish() ends it.
    void begin_writing();
    /// Adds a feature to a layer of create_layer(); throws FileError when the driver refuses it.
    void write(OGRLayer* layer, OGRFeature& feature);
    /// Completes the file under its temporary name, then reads it back: every layer must hold what
    /// was written (some drivers, GeoJSON's among them, lose a full disk's failed writes silently).
    void finish();
    /// Renames it into place (after finish()); without overwrite or append, a file that appeared
    /// meanwhile is not replaced.
    void publish() override;
    void check_publishable() const override;
    const std::string& path() const override { return path_; }

    /// Past this many polygons in one layer, its spatial index is filled as GDAL 3.6 fills it (one
    /// SQLite insert each, through the trigger) instead of in one pass at finish(): that many
    /// envelopes (24 bytes each) are kept in memory until then. Tests lower it.
    void limit_one_pass_index(size_t polygons) { one_pass_index_limit_ = polygons; }

private:
    // A GeoPackage layer whose R-tree is filled in one pass by finish(): its insert trigger is set
    // aside meanwhile, and every polygon's envelope kept.
    struct OnePassIndex {
        std::string rtree, trigger_sql;
        std::vector<RtreeEntry> entries;
    };
    void execute(const std::string& sql, const std::string& what);
    void index_by_trigger(OGRLayer* layer, OnePassIndex& index);

    std::string path_;
    TemporaryOutput file_;
    std::vector<std::unique_ptr<TemporaryOutput>> companions_;
    std::vector<std::string> layer_options_;
    std::unique_ptr<GDALDataset> dataset_;
    std::map<std::string, long long> written_;  // features per created layer, by the driver's name for it
    std::map<OGRLayer*, OnePassIndex> one_pass_indexes_;
    size_t one_pass_index_limit_ = size_t{1} << 22;  // 4 million polygons, 100 MB
    bool shapefile_ = false, replace_ = false, in_transaction_ = false;
};

}  // namespace segearth::geo
