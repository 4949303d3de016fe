// A GeoPackage written the safe way: into OUT.part-PID.gpkg beside OUT, renamed when complete;
// an existing OUT is an error unless overwrite (replace) or append (its layers are kept: the file is
// copied first, so a failure still leaves the original untouched).
#pragma once

#include <ogrsf_frmts.h>

#include <memory>
#include <string>
#include <vector>

namespace segearth::geo {

class VectorOutput {
public:
    VectorOutput(std::string path, bool overwrite, bool append, std::vector<std::string> layer_creation_options);
    ~VectorOutput();  ///< removes the temporary file unless committed
    VectorOutput(const VectorOutput&) = delete;
    VectorOutput& operator=(const VectorOutput&) = delete;

    /// A new polygon layer; throws UsageError when it exists (with append: use another -nln prefix).
    OGRLayer* create_layer(const std::string& name, const OGRSpatialReference* srs, bool with_probabilities);
    /// One transaction for all features (SQLite is slow feature by feature); commit() ends it.
    void begin_writing();
    void commit();

private:
    std::string path_, temporary_;
    std::vector<std::string> layer_options_;
    std::unique_ptr<GDALDataset> dataset_;
    bool committed_ = false, in_transaction_ = false;
};

}  // namespace segearth::geo
