// The rows of one SQL query on a vector file (SQLite's own SQL for a GeoPackage), as numbers or texts.
#pragma once

#include <doctest/doctest.h>

#include <gdal_priv.h>
#include <ogrsf_frmts.h>

#include <memory>
#include <string>
#include <vector>

namespace segearth::test {

inline std::vector<std::vector<double>> sql_rows(const std::string& path, const std::string& sql) {
    std::unique_ptr<GDALDataset> ds(GDALDataset::Open(path.c_str(), GDAL_OF_VECTOR));
    REQUIRE_MESSAGE(ds, "cannot open " << path);
    OGRLayer* result = ds->ExecuteSQL(sql.c_str(), nullptr, nullptr);
    REQUIRE_MESSAGE(result, sql);
    std::vector<std::vector<double>> out;
    for (std::unique_ptr<OGRFeature> f(result->GetNextFeature()); f; f.reset(result->GetNextFeature())) {
        out.emplace_back();
        for (int i = 0; i < f->GetFieldCount(); ++i) out.back().push_back(f->GetFieldAsDouble(i));
    }
    ds->ReleaseResultSet(result);
    return out;
}

/// The first column of the first row as text ("(no row)" when there is none).
inline std::string sql_text(const std::string& path, const std::string& sql) {
    std::unique_ptr<GDALDataset> ds(GDALDataset::Open(path.c_str(), GDAL_OF_VECTOR));
    REQUIRE_MESSAGE(ds, "cannot open " << path);
    OGRLayer* result = ds->ExecuteSQL(sql.c_str(), nullptr, nullptr);
    REQUIRE_MESSAGE(result, sql);
    std::unique_ptr<OGRFeature> f(result->GetNextFeature());
    std::string text = f ? f->GetFieldAsString(0) : "(no row)";
    ds->ReleaseResultSet(result);
    return text;
}

/// SQLite's own consistency check of an R-tree: "ok" when sound.
inline std::string rtree_check(const std::string& path, const std::string& rtree) {
    return sql_text(path, "SELECT rtreecheck('" + rtree + "')");
}

}  // namespace segearth::test
