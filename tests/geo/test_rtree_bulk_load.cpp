// The one-pass R-tree fill: SQLite's own rtreecheck() must accept the tree at every depth, window
// queries through it must find exactly the boxes a scan finds, and the boxes must be the ones SQLite
// itself stores for the same doubles.
#include <doctest/doctest.h>

#include <segearth/error.hpp>

#include "geo/sql_rows.hpp"
#include "support/test_paths.hpp"
#include "vectorize/rtree_bulk_load.hpp"

#include <gdal_priv.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>

using namespace segearth::geo;
namespace fs = std::filesystem;

namespace {

using Dataset = std::unique_ptr<GDALDataset>;
constexpr const char* rtree = "rtree_boxes_geom";

// A GeoPackage with one empty polygon layer "boxes" and GDAL's (empty) spatial index on it.
std::string indexed_geopackage(const fs::path& path) {
    GDALAllRegister();
    Dataset ds(GetGDALDriverManager()->GetDriverByName("GPKG")->Create(path.c_str(), 0, 0, 0, GDT_Unknown, nullptr));
    REQUIRE(ds);
    // As VectorOutput makes it: the index asked for explicitly, on the empty layer.
    const char* no_deferred_index[] = {"SPATIAL_INDEX=NO", nullptr};
    REQUIRE(ds->CreateLayer("boxes", nullptr, wkbPolygon, const_cast<char**>(no_deferred_index)));
    ds->ReleaseResultSet(ds->ExecuteSQL("SELECT CreateSpatialIndex('boxes', 'geom')", nullptr, nullptr));
    return path.string();
}

std::vector<std::vector<double>> rows(const std::string& path, const std::string& sql) {
    return segearth::test::sql_rows(path, sql);
}

std::string rtree_check(const std::string& path) { return segearth::test::rtree_check(path, rtree); }

std::vector<RtreeEntry> random_boxes(size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> position(-1000.0, 5000.0), size(0.0, 40.0);
    std::vector<RtreeEntry> boxes;
    for (size_t i = 0; i < n; ++i) {
        const double x = position(rng), y = position(rng);
        boxes.push_back(rtree_entry(static_cast<int64_t>(3 * i + 7), x, x + size(rng), y, y + size(rng)));
    }
    return boxes;
}

}  // namespace

TEST_CASE("a one-pass R-tree passes SQLite's rtreecheck and answers window queries as a scan does") {
    const auto dir = segearth::test::scratch_dir("rtree_bulk_load");
    // 51 cells a node (SQLite's size for 2-D with 4 KB pages): one leaf, two levels, three levels.
    for (size_t n : {size_t{1}, size_t{51}, size_t{52}, size_t{2602}, size_t{20000}}) {
        CAPTURE(n);
        const auto path = indexed_geopackage(dir / ("boxes_" + std::to_string(n) + ".gpkg"));
        const auto boxes = random_boxes(n, static_cast<unsigned>(n));
        bulk_load_rtree(path, rtree, boxes, "");
        CHECK(rtree_check(path) == "ok");
        const auto depth = rows(path, std::string("SELECT rtreedepth(data) FROM ") + rtree + "_node WHERE nodeno = 1");
        CHECK(depth.at(0).at(0) == (n <= 51 ? 0 : n <= 2601 ? 1 : 2));

        std::mt19937 rng(1);
        std::uniform_real_distribution<double> corner(-1100.0, 5000.0), extent(0.0, 800.0);
        for (int q = 0; q < 20; ++q) {
            const double x0 = corner(rng), y0 = corner(rng), x1 = x0 + extent(rng), y1 = y0 + extent(rng);
            std::vector<double> expected;
            for (const auto& b : boxes)
                if (b.min_x <= x1 && b.max_x >= x0 && b.min_y <= y1 && b.max_y >= y0) expected.push_back(double(b.id));
            std::sort(expected.begin(), expected.end());
            // The R-tree's own search (a constraint on its columns), not a scan of the table.
            const auto found = rows(path, std::string("SELECT id FROM ") + rtree + " WHERE minx <= " +
                                              std::to_string(x1) + " AND maxx >= " + std::to_string(x0) +
                                              " AND miny <= " + std::to_string(y1) + " AND maxy >= " +
                                              std::to_string(y0) + " ORDER BY id");
            std::vector<double> ids;
            for (const auto& row : found) ids.push_back(row.at(0));
            CHECK(ids == expected);
        }
        // SQLite keeps updating it: an insert and a delete leave it consistent.
        const auto edited = rows(path, std::string("SELECT count(*) FROM ") + rtree);
        CHECK(edited.at(0).at(0) == double(n));
        {
            Dataset ds(GDALDataset::Open(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_UPDATE));
            ds->ExecuteSQL((std::string("INSERT INTO ") + rtree + " VALUES (1, 0, 1, 0, 1)").c_str(), nullptr, nullptr);
            ds->ExecuteSQL((std::string("DELETE FROM ") + rtree + " WHERE id = 7").c_str(), nullptr, nullptr);
        }
        CHECK(rtree_check(path) == "ok");
        CHECK(rows(path, std::string("SELECT count(*) FROM ") + rtree).at(0).at(0) == double(n));
    }
}

TEST_CASE("rtree_entry rounds outwards to float32 exactly as SQLite stores the same doubles") {
    const auto dir = segearth::test::scratch_dir("rtree_rounding");
    const auto path = indexed_geopackage(dir / "boxes.gpkg");
    std::mt19937 rng(5);
    std::uniform_real_distribution<double> coordinate(-7.0e6, 7.0e6), fraction(0.0, 1.0);
    std::vector<RtreeEntry> ours;
    {
        Dataset ds(GDALDataset::Open(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_UPDATE));
        for (int i = 1; i <= 300; ++i) {
            // Half of them with whole and half coordinates, as pixel outlines have, half arbitrary.
            double x0 = coordinate(rng), y0 = coordinate(rng);
            if (i % 2) x0 = std::round(x0) + 0.5, y0 = std::round(y0);
            const double x1 = x0 + fraction(rng) * 100, y1 = y0 + fraction(rng) * 100;
            char sql[256];
            std::snprintf(sql, sizeof sql, "INSERT INTO %s VALUES (%d, %.17g, %.17g, %.17g, %.17g)", rtree, i, x0, x1,
                          y0, y1);
            ds->ExecuteSQL(sql, nullptr, nullptr);
            ours.push_back(rtree_entry(i, x0, x1, y0, y1));
        }
    }
    const auto stored = rows(path, std::string("SELECT id, minx, maxx, miny, maxy FROM ") + rtree + " ORDER BY id");
    REQUIRE(stored.size() == ours.size());
    for (size_t i = 0; i < ours.size(); ++i) {
        CAPTURE(i);
        CHECK(stored[i] == std::vector<double>{double(ours[i].id), ours[i].min_x, ours[i].max_x, ours[i].min_y,
                                               ours[i].max_y});
    }
}

TEST_CASE("bulk_load_rtree refuses a filled R-tree and changes nothing when it fails") {
    const auto dir = segearth::test::scratch_dir("rtree_refusals");
    const auto path = indexed_geopackage(dir / "boxes.gpkg");
    // A failing last statement rolls the whole fill back: the tree stays empty.
    CHECK_THROWS_AS(bulk_load_rtree(path, rtree, random_boxes(100, 1), "NOT SQL"), segearth::FileError);
    CHECK(rows(path, std::string("SELECT count(*) FROM ") + rtree).at(0).at(0) == 0);
    CHECK(rtree_check(path) == "ok");
    bulk_load_rtree(path, rtree, random_boxes(100, 1), "");
    try {
        bulk_load_rtree(path, rtree, random_boxes(10, 2), "");
        FAIL("a filled R-tree was accepted");
    } catch (const segearth::FileError& e) {
        CHECK(std::string(e.what()).find("boxes.gpkg") != std::string::npos);
        CHECK(std::string(e.what()).find("not empty") != std::string::npos);
    }
    CHECK(rows(path, std::string("SELECT count(*) FROM ") + rtree).at(0).at(0) == 100);
    CHECK_THROWS_AS(bulk_load_rtree(path, "rtree_missing_geom", random_boxes(3, 3), ""), segearth::FileError);
}
