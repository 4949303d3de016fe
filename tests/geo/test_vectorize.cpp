// vectorize: GDAL's own polygonize is the reference; strip-streamed polygonizing must give the same
// polygons; each clean-up step is checked on shapes with known answers.
#include <doctest/doctest.h>

#include <segearth/error.hpp>
#include <segearth/geo/vectorize.hpp>

#include "geo/raster_factory.hpp"
#include "geo/sql_rows.hpp"
#include "support/test_paths.hpp"
#include "vectorize/vector_output.hpp"

#include <gdal_alg.h>
#include <ogrsf_frmts.h>

#include <cmath>
#include <filesystem>
#include <random>

using namespace segearth::geo;
using segearth::test::BandSpec;
using segearth::test::make_raster;
using segearth::test::scratch_dir;
namespace fs = std::filesystem;

namespace {

using Dataset = std::unique_ptr<GDALDataset>;

// A class raster: Byte, 0.5 m pixels in UTM 32N (or `epsg`), with category names.
std::string class_raster(const fs::path& path, int w, int h, std::function<double(int, int)> value,
                         std::vector<std::string> names = {"background", "building", "water"}, int epsg = 25832,
                         std::array<double, 6> gt = {346000, 0.5, 0, 5648000, 0, -0.5}) {
    make_raster(path.string(), w, h, GDT_Byte, {{GCI_Undefined, 255.0, value}}, epsg, gt);
    Dataset ds(GDALDataset::Open(path.c_str(), GDAL_OF_RASTER | GDAL_OF_UPDATE));
    std::vector<const char*> list;
    for (auto& n : names) list.push_back(n.c_str());
    list.push_back(nullptr);
    ds->GetRasterBand(1)->SetCategoryNames(const_cast<char**>(list.data()));
    return path.string();
}

// Random blobs of classes 1 and 2 on background 0: rectangles, diagonal touches, holes.
std::function<double(int, int)> blobs(unsigned seed, int w, int h) {
    auto grid = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(w * h), 0);
    std::mt19937 rng(seed);
    for (int k = 0; k < 60; ++k) {
        const int x = static_cast<int>(rng() % static_cast<unsigned>(w)), y = static_cast<int>(rng() % static_cast<unsigned>(h));
        const int bw = 1 + static_cast<int>(rng() % 25), bh = 1 + static_cast<int>(rng() % 40);
        const uint8_t c = static_cast<uint8_t>(1 + rng() % 2);
        for (int yy = y; yy < std::min(h, y + bh); ++yy)
            for (int xx = x; xx < std::min(w, x + bw); ++xx) (*grid)[static_cast<size_t>(yy * w + xx)] = c;
    }
    for (int k = 0; k < 200; ++k)  // speckle
        (*grid)[rng() % static_cast<unsigned>(w * h)] = static_cast<uint8_t>(rng() % 3);
    return [grid, w](int x, int y) { return static_cast<double>((*grid)[static_cast<size_t>(y * w + x)]); };
}

struct LayerSummary {
    long long count = 0;
    double area = 0;  // m2 from geometry (planar, UTM)
    std::unique_ptr<OGRGeometry> geometry_union;
};

LayerSummary summarize(OGRLayer& layer) {
    LayerSummary s;
    OGRMultiPolygon all;
    layer.ResetReading();
    for (auto& f : layer) {
        const OGRGeometry* g = f->GetGeometryRef();
        REQUIRE(g != nullptr);
        CHECK(g->IsValid());
        ++s.count;
        if (const auto* m = dynamic_cast<const OGRMultiPolygon*>(g)) {
            s.area += m->get_Area();
            for (const auto* p : m) all.addGeometry(p);
        } else {
            s.area += dynamic_cast<const OGRPolygon*>(g)->get_Area();
            all.addGeometry(g);
        }
    }
    s.geometry_union.reset(all.IsEmpty() ? new OGRMultiPolygon() : all.UnionCascaded());
    return s;
}

// GDAL's polygonize of the whole raster (the reference), polygons per class value.
std::map<int, std::pair<long long, double>> gdal_reference(const std::string& path, bool eight = false) {
    Dataset ds(GDALDataset::Open(path.c_str(), GDAL_OF_RASTER));
    GDALRasterBand* band = ds->GetRasterBand(1);
    GDALDriver* mem = GetGDALDriverManager()->GetDriverByName("MEM");
    Dataset mask(mem->Create("", ds->GetRasterXSize(), ds->GetRasterYSize(), 1, GDT_Byte, nullptr));
    std::vector<uint8_t> v(static_cast<size_t>(ds->GetRasterXSize() * ds->GetRasterYSize()));
    REQUIRE(band->RasterIO(GF_Read, 0, 0, ds->GetRasterXSize(), ds->GetRasterYSize(), v.data(), ds->GetRasterXSize(),
                           ds->GetRasterYSize(), GDT_Byte, 0, 0) == CE_None);
    for (auto& x : v) x = x != 0 && x != 255;
    REQUIRE(mask->GetRasterBand(1)->RasterIO(GF_Write, 0, 0, ds->GetRasterXSize(), ds->GetRasterYSize(), v.data(),
                                             ds->GetRasterXSize(), ds->GetRasterYSize(), GDT_Byte, 0, 0) == CE_None);
    Dataset vectors(GetGDALDriverManager()->GetDriverByName("Memory")->Create("", 0, 0, 0, GDT_Unknown, nullptr));
    OGRLayer* layer = vectors->CreateLayer("ref", nullptr, wkbPolygon, nullptr);
    OGRFieldDefn field("DN", OFTInteger);
    layer->CreateField(&field);
    char opt[] = "8CONNECTED=8";
    char* options[] = {eight ? opt : nullptr, nullptr};
    double gt[6];
    ds->GetGeoTransform(gt);
    mask->SetGeoTransform(gt);
    REQUIRE(GDALPolygonize(band, mask->GetRasterBand(1), layer, 0, options, nullptr, nullptr) == CE_None);
    std::map<int, std::pair<long long, double>> out;
    for (auto& f : *layer) {
        auto& [count, area] = out[f->GetFieldAsInteger(0)];
        ++count;
        area += dynamic_cast<OGRPolygon*>(f->GetGeometryRef())->get_Area();
    }
    return out;
}

Dataset open_vector(const fs::path& path) {
    Dataset ds(GDALDataset::Open(path.c_str(), GDAL_OF_VECTOR));
    REQUIRE_MESSAGE(ds, "cannot open " << path);
    return ds;
}

VectorizeOptions with_strips(int rows) {
    VectorizeOptions o;
    o.strip_rows = rows;
    return o;
}

}  // namespace

TEST_CASE("without clean-up, polygon counts and areas per class equal gdal_polygonize's") {
    const auto dir = scratch_dir("vectorize_reference");
    const auto raster = class_raster(dir / "classes.tif", 300, 220, blobs(1, 300, 220));
    const auto reference = gdal_reference(raster);
    const auto report = vectorize(raster, (dir / "out.gpkg").string(), with_strips(64));
    auto out = open_vector(dir / "out.gpkg");
    for (const auto& [value, name] : std::vector<std::pair<int, std::string>>{{1, "building"}, {2, "water"}}) {
        CAPTURE(name);
        OGRLayer* layer = out->GetLayerByName(name.c_str());
        REQUIRE(layer);
        const auto s = summarize(*layer);
        CHECK(s.count == reference.at(value).first);
        CHECK(s.area == doctest::Approx(reference.at(value).second));
        CHECK(std::string(layer->GetSpatialRef()->GetAuthorityCode(nullptr)) == "25832");
        // The spatial index QGIS uses, made before the first feature, holds every polygon.
        CHECK(layer->TestCapability(OLCFastSpatialFilter));
        const std::string count_sql = "SELECT COUNT(*) FROM rtree_" + name + "_geom";
        OGRLayer* rows = out->ExecuteSQL(count_sql.c_str(), nullptr, nullptr);
        REQUIRE(rows);
        std::unique_ptr<OGRFeature> counted(rows->GetNextFeature());
        CHECK(counted->GetFieldAsInteger64(0) == s.count);
        out->ReleaseResultSet(rows);
    }
    CHECK(out->GetLayerByName("background") == nullptr);
    CHECK(report.pieces_merged > 0);  // the strips really cut polygons

    // The user's -lco SPATIAL_INDEX=NO is kept.
    VectorizeOptions no_index = with_strips(64);
    no_index.layer_creation_options = {"SPATIAL_INDEX=NO"};
    vectorize(raster, (dir / "no_index.gpkg").string(), no_index);
    auto plain = open_vector(dir / "no_index.gpkg");
    CHECK_FALSE(plain->GetLayerByName("building")->TestCapability(OLCFastSpatialFilter));
    CHECK(summarize(*plain->GetLayerByName("building")).count == reference.at(1).first);
}

TEST_CASE("the GeoPackage index filled in one pass equals GDAL's own and keeps indexing later edits") {
    using segearth::test::sql_rows;
    const auto dir = scratch_dir("vectorize_rtree");
    const auto raster = class_raster(dir / "classes.tif", 300, 220, blobs(3, 300, 220));
    vectorize(raster, (dir / "ours.gpkg").string(), with_strips(64));
    VectorizeOptions gdal_index = with_strips(64);
    gdal_index.layer_creation_options = {"SPATIAL_INDEX=YES"};  // GDAL's own (deferred) index
    vectorize(raster, (dir / "gdal.gpkg").string(), gdal_index);
    const auto ours = (dir / "ours.gpkg").string(), gdal = (dir / "gdal.gpkg").string();
    for (const std::string name : {"building", "water"}) {
        CAPTURE(name);
        const std::string rtree = "rtree_" + name + "_geom";
        const auto entries = sql_rows(ours, "SELECT id, minx, maxx, miny, maxy FROM " + rtree + " ORDER BY id");
        CHECK(entries.size() == sql_rows(ours, "SELECT count(*) FROM " + name).at(0).at(0));
        CHECK(entries == sql_rows(gdal, "SELECT id, minx, maxx, miny, maxy FROM " + rtree + " ORDER BY id"));
        CHECK(segearth::test::rtree_check(ours, rtree) == "ok");
        const std::string triggers = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = '" + name +
                                     "' ORDER BY name";
        const auto trigger_names = [&](const std::string& file) {
            std::vector<std::string> names;
            Dataset ds(GDALDataset::Open(file.c_str(), GDAL_OF_VECTOR));
            OGRLayer* result = ds->ExecuteSQL(triggers.c_str(), nullptr, nullptr);
            for (auto& f : *result) names.push_back(f->GetFieldAsString(0));
            ds->ReleaseResultSet(result);
            return names;
        };
        const auto ours_triggers = trigger_names(ours), gdal_triggers = trigger_names(gdal);
        CHECK(ours_triggers.size() >= 6);  // insert, 4 updates, delete; the feature counts'
        CHECK(ours_triggers == gdal_triggers);
    }
    // The insert trigger is back: a polygon added later (here by GDAL, as QGIS would) is indexed.
    long long added = 0;
    {
        Dataset ds(GDALDataset::Open(ours.c_str(), GDAL_OF_VECTOR | GDAL_OF_UPDATE));
        OGRLayer* layer = ds->GetLayerByName("building");
        OGRFeature feature(layer->GetLayerDefn());
        OGRGeometry* square = nullptr;
        OGRGeometryFactory::createFromWkt("MULTIPOLYGON (((10 20, 11 20, 11 21, 10 21, 10 20)))", nullptr, &square);
        feature.SetGeometryDirectly(square);
        REQUIRE(layer->CreateFeature(&feature) == OGRERR_NONE);
        added = feature.GetFID();
    }
    CHECK(sql_rows(ours, "SELECT minx, maxx, miny, maxy FROM rtree_building_geom WHERE id = " + std::to_string(added)) ==
          std::vector<std::vector<double>>{{10, 11, 20, 21}});
    CHECK(segearth::test::rtree_check(ours, "rtree_building_geom") == "ok");
}

TEST_CASE("past its envelope limit a layer is indexed by GDAL's trigger, with the same entries") {
    const auto dir = scratch_dir("vectorize_rtree_limit");
    OGRSpatialReference utm;
    utm.importFromEPSG(25832);
    const auto write_squares = [&](const fs::path& path, size_t limit) {
        VectorOutput out(path.string(), "GPKG", {}, false, false, {});
        if (limit) out.limit_one_pass_index(limit);
        OGRLayer* layer = out.create_layer("squares", &utm, false);
        out.begin_writing();
        for (int i = 0; i < 40; ++i) {
            OGRFeature feature(layer->GetLayerDefn());
            const double x = 346000.25 + 3.5 * (i % 7), y = 5648000.75 - 2.5 * i;
            OGRPolygon square;
            OGRLinearRing ring;
            for (const auto& [dx, dy] : {std::pair{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}) ring.addPoint(x + dx, y + dy);
            square.addRing(&ring);
            feature.SetGeometryDirectly(OGRGeometryFactory::forceToMultiPolygon(square.clone()));
            out.write(layer, feature);
        }
        out.finish();
        out.publish();
        return path.string();
    };
    const auto one_pass = write_squares(dir / "one_pass.gpkg", 0);
    const auto by_trigger = write_squares(dir / "by_trigger.gpkg", 10);
    const std::string entries = "SELECT id, minx, maxx, miny, maxy FROM rtree_squares_geom ORDER BY id";
    CHECK(segearth::test::sql_rows(one_pass, entries).size() == 40);
    CHECK(segearth::test::sql_rows(by_trigger, entries) == segearth::test::sql_rows(one_pass, entries));
    CHECK(segearth::test::rtree_check(by_trigger, "rtree_squares_geom") == "ok");
}

TEST_CASE("strip-streamed polygonizing equals whole-raster polygonizing at every strip height") {
    const auto dir = scratch_dir("vectorize_strips");
    const auto raster = class_raster(dir / "classes.tif", 257, 301, blobs(2, 257, 301));
    vectorize(raster, (dir / "whole.gpkg").string(), with_strips(100000));
    auto whole = open_vector(dir / "whole.gpkg");
    for (int rows : {1, 7, 64, 300}) {
        CAPTURE(rows);
        const auto path = dir / ("strips_" + std::to_string(rows) + ".gpkg");
        vectorize(raster, path.string(), with_strips(rows));
        auto strips = open_vector(path);
        for (const char* name : {"building", "water"}) {
            const auto a = summarize(*whole->GetLayerByName(name));
            const auto b = summarize(*strips->GetLayerByName(name));
            CHECK(a.count == b.count);
            CHECK(a.area == doctest::Approx(b.area));
            std::unique_ptr<OGRGeometry> difference(a.geometry_union->SymDifference(b.geometry_union.get()));
            const double difference_area = difference ? OGR_G_Area(OGRGeometry::ToHandle(difference.get())) : 0.0;
            CHECK(difference_area < 1e-6);
        }
    }
    // 8-connectivity: same total area as GDAL's 8-connected polygonize.
    VectorizeOptions eight = with_strips(7);
    eight.eight_connected = true;
    vectorize(raster, (dir / "eight.gpkg").string(), eight);
    auto e = open_vector(dir / "eight.gpkg");
    const auto reference = gdal_reference(raster, true);
    const auto eight_summary = summarize(*e->GetLayerByName("building"));
    CHECK(eight_summary.count == reference.at(1).first);  // one feature per 8-connected region, as GDAL
    CHECK(eight_summary.area == doctest::Approx(reference.at(1).second));
}

TEST_CASE("clean-up: speckle dropped, small holes filled, large holes kept, simplification valid") {
    const auto dir = scratch_dir("vectorize_cleanup");
    // A 60 x 60 px (30 x 30 m) square with a 2 x 2 px hole (1 m2) and a 10 x 10 px hole (25 m2), and a
    // single-pixel speck (0.25 m2).
    const auto value = [](int x, int y) {
        if (x == 90 && y == 5) return 1.0;
        const bool square = x >= 10 && x < 70 && y >= 10 && y < 70;
        const bool small_hole = x >= 20 && x < 22 && y >= 20 && y < 22;
        const bool large_hole = x >= 40 && x < 50 && y >= 40 && y < 50;
        return square && !small_hole && !large_hole ? 1.0 : 0.0;
    };
    const auto raster = class_raster(dir / "square.tif", 100, 80, value);
    VectorizeOptions o;
    o.min_area_m2 = 1;
    o.fill_holes_m2 = 5;
    vectorize(raster, (dir / "clean.gpkg").string(), o);
    auto out = open_vector(dir / "clean.gpkg");
    OGRLayer* layer = out->GetLayerByName("building");
    REQUIRE(layer->GetFeatureCount() == 1);
    auto feature = std::unique_ptr<OGRFeature>(layer->GetNextFeature());
    const auto* polygon = dynamic_cast<const OGRMultiPolygon*>(feature->GetGeometryRef())->getGeometryRef(0);
    CHECK(polygon->getNumInteriorRings() == 1);
    CHECK(feature->GetFieldAsDouble("area_m2") == doctest::Approx(900 - 25));
    CHECK(feature->GetFieldAsDouble("perimeter_m") == doctest::Approx(4 * 30 + 4 * 5));

    // Jagged diagonal edges simplify to few vertices and stay valid.
    const auto staircase = class_raster(dir / "stairs.tif", 80, 80, [](int x, int y) { return x + y < 100 && x > 5 && y > 5 ? 1.0 : 0.0; });
    VectorizeOptions simplify;
    simplify.simplify_m = 1.0;
    vectorize(staircase, (dir / "simple.gpkg").string(), simplify);
    vectorize(staircase, (dir / "raw.gpkg").string(), {});
    auto simple = open_vector(dir / "simple.gpkg");
    auto raw = open_vector(dir / "raw.gpkg");
    const auto points = [](GDALDataset& ds) {
        auto f = std::unique_ptr<OGRFeature>(ds.GetLayerByName("building")->GetNextFeature());
        CHECK(f->GetGeometryRef()->IsValid());
        return dynamic_cast<const OGRMultiPolygon*>(f->GetGeometryRef())->getGeometryRef(0)->getExteriorRing()->getNumPoints();
    };
    CHECK(points(*raw) > 100);
    CHECK(points(*simple) < 10);
}

TEST_CASE("--regularize turns a jagged L-shaped building into a right-angled outline") {
    const auto dir = scratch_dir("vectorize_regularize");
    // An L of 40 x 40 px minus a 20 x 20 corner, with one-pixel bumps along its edges.
    const auto value = [](int x, int y) {
        const bool l = x >= 10 && x < 50 && y >= 10 && y < 50 && !(x >= 30 && y >= 30);
        const bool bump = (y == 9 && x % 7 == 0 && x > 10 && x < 48) || (x == 50 && y % 5 == 0 && y > 12 && y < 28);
        const bool dent = x == 10 && y % 6 == 0 && y > 12 && y < 48;
        return (l || bump) && !dent ? 1.0 : 0.0;
    };
    const auto raster = class_raster(dir / "l.tif", 70, 70, value);
    VectorizeOptions o;
    o.regularize = true;
    vectorize(raster, (dir / "l.gpkg").string(), o);
    auto out = open_vector(dir / "l.gpkg");
    auto f = std::unique_ptr<OGRFeature>(out->GetLayerByName("building")->GetNextFeature());
    const auto* ring = dynamic_cast<const OGRMultiPolygon*>(f->GetGeometryRef())->getGeometryRef(0)->getExteriorRing();
    CHECK(ring->getNumPoints() == 7);  // six corners, closed
    for (int i = 0; i + 1 < ring->getNumPoints(); ++i) {
        const double dx = ring->getX(i + 1) - ring->getX(i), dy = ring->getY(i + 1) - ring->getY(i);
        CHECK(std::min(std::abs(dx), std::abs(dy)) < 1e-6);  // every edge axis-parallel
    }
    CHECK(f->GetFieldAsDouble("area_m2") == doctest::Approx(0.25 * (1600 - 400)).epsilon(0.05));
}

TEST_CASE("areas in metres in a geographic CRS (geodesic), and -t_srs keeps geometries valid") {
    const auto dir = scratch_dir("vectorize_geographic");
    // 100 x 100 px of 1e-5 degrees at 50 N: about 71.7 m x 111.2 m.
    const auto raster = class_raster(dir / "wgs84.tif", 120, 120,
                                     [](int x, int y) { return x >= 10 && x < 110 && y >= 10 && y < 110 ? 1.0 : 0.0; },
                                     {"background", "building"}, 4326, {7.0, 1e-5, 0, 50.0006, 0, -1e-5});
    vectorize(raster, (dir / "out.gpkg").string(), {});
    auto out = open_vector(dir / "out.gpkg");
    auto f = std::unique_ptr<OGRFeature>(out->GetLayerByName("building")->GetNextFeature());
    CHECK(f->GetFieldAsDouble("area_m2") == doctest::Approx(71.69 * 111.23).epsilon(0.002));
    CHECK(f->GetFieldAsDouble("perimeter_m") == doctest::Approx(2 * (71.69 + 111.23)).epsilon(0.002));

    const auto utm = class_raster(dir / "utm.tif", 50, 50, [](int x, int y) { return (x - 25) * (x - 25) + (y - 25) * (y - 25) < 300 ? 1.0 : 0.0; });
    VectorizeOptions o;
    o.target_srs = "EPSG:4326";
    vectorize(utm, (dir / "lonlat.gpkg").string(), o);
    auto lonlat = open_vector(dir / "lonlat.gpkg");
    OGRLayer* layer = lonlat->GetLayerByName("building");
    CHECK(std::string(layer->GetSpatialRef()->GetAuthorityCode(nullptr)) == "4326");
    auto g = std::unique_ptr<OGRFeature>(layer->GetNextFeature());
    CHECK(g->GetGeometryRef()->IsValid());
    OGREnvelope e;
    g->GetGeometryRef()->getEnvelope(&e);
    CHECK(e.MinX == doctest::Approx(6.80).epsilon(0.01));  // Koeln's longitude
}

TEST_CASE("mean_prob and max_prob from segment's probability raster") {
    const auto dir = scratch_dir("vectorize_probabilities");
    const auto raster = class_raster(dir / "classes.tif", 40, 40, [](int x, int) { return x < 20 ? 0.0 : 1.0; },
                                     {"background", "building"});
    make_raster((dir / "p.tif").string(), 40, 40, GDT_Float32,
                {{GCI_Undefined, {}, [](int, int) { return 0.0; }},
                 {GCI_Undefined, {}, [](int x, int y) { return x == 30 && y == 30 ? 0.9 : 0.5; }}});
    VectorizeOptions o;
    o.probabilities = (dir / "p.tif").string();
    vectorize(raster, (dir / "out.gpkg").string(), o);
    auto out = open_vector(dir / "out.gpkg");
    auto f = std::unique_ptr<OGRFeature>(out->GetLayerByName("building")->GetNextFeature());
    CHECK(f->GetFieldAsDouble("max_prob") == doctest::Approx(0.9));
    CHECK(f->GetFieldAsDouble("mean_prob") == doctest::Approx((0.5 * 799 + 0.9) / 800));
}

TEST_CASE("flood mapping: only water that was not water before the event") {
    const auto dir = scratch_dir("vectorize_flood");
    const std::vector<std::string> names{"background", "building", "water"};
    const auto pre = class_raster(dir / "pre.tif", 60, 40, [](int x, int) { return x < 10 ? 2.0 : 0.0; }, names);
    const auto post = class_raster(dir / "post.tif", 60, 40, [](int x, int) { return x < 30 ? 2.0 : 0.0; }, names);
    VectorizeOptions o;
    o.pre_event = pre;
    vectorize(post, (dir / "flood.gpkg").string(), o);
    auto out = open_vector(dir / "flood.gpkg");
    OGRLayer* layer = out->GetLayerByName("new_water");
    REQUIRE(layer);
    REQUIRE(layer->GetFeatureCount() == 1);
    auto f = std::unique_ptr<OGRFeature>(layer->GetNextFeature());
    CHECK(f->GetFieldAsDouble("area_m2") == doctest::Approx(20 * 40 * 0.25));
}

TEST_CASE("vectorize: bad inputs are clear errors and leave no output") {
    const auto dir = scratch_dir("vectorize_errors");
    const auto raster = class_raster(dir / "classes.tif", 20, 20, [](int x, int) { return x < 10 ? 1.0 : 0.0; });
    const auto out = (dir / "out.gpkg").string();
    const auto float_raster = make_raster((dir / "float.tif").string(), 20, 20, GDT_Float32, {{}});
    CHECK_THROWS_WITH_AS(vectorize(float_raster, out, {}),
                         (float_raster + " is not a class raster: it must be one band of integer class values (as "
                                         "segearth segment writes); it has 1 band(s) of Float32").c_str(),
                         segearth::UsageError);
    VectorizeOptions unknown;
    unknown.classes = {"roads"};
    CHECK_THROWS_WITH_AS(vectorize(raster, out, unknown),
                         ("unknown class 'roads' in " + raster + " (its classes: 0 background, 1 building, 2 water)").c_str(),
                         segearth::UsageError);
    const auto bare = make_raster((dir / "bare.tif").string(), 20, 20, GDT_Byte, {{}}, 0);
    CHECK_THROWS_AS(vectorize(bare, out, {}), segearth::UsageError);
    VectorizeOptions bad_srs;
    bad_srs.target_srs = "EPSG:nonsense";
    CHECK_THROWS_WITH_AS(vectorize(raster, out, bad_srs), "-t_srs EPSG:nonsense: PROJ does not know this CRS (try EPSG:4326)",
                         segearth::UsageError);
    const auto small = make_raster((dir / "p_small.tif").string(), 10, 10, GDT_Float32, {{}, {}, {}});
    VectorizeOptions mismatched;
    mismatched.probabilities = small;
    CHECK_THROWS_WITH_AS(vectorize(raster, out, mismatched),
                         (small + " is 10 x 10, the class raster 20 x 20: give the probabilities written by the same "
                                  "segment run").c_str(),
                         segearth::UsageError);
    VectorizeOptions too_smooth;
    too_smooth.smooth = 9;
    CHECK_THROWS_WITH_AS(vectorize(raster, out, too_smooth), "--smooth takes 1 to 5 passes", segearth::UsageError);
    VectorizeOptions no_pre_event;
    no_pre_event.pre_event = (dir / "missing_pre.tif").string();
    CHECK_THROWS_AS(vectorize(raster, out, no_pre_event), segearth::FileError);
    CHECK(!fs::exists(out));
    for (const auto& entry : fs::directory_iterator(dir))
        CHECK(entry.path().filename().string().find(".part") == std::string::npos);

    vectorize(raster, out, {});
    CHECK_THROWS_WITH_AS(vectorize(raster, out, {}), ("output " + out + " already exists: use --overwrite to replace it").c_str(),
                         segearth::UsageError);
    VectorizeOptions overwrite;
    overwrite.overwrite = true;
    overwrite.classes = {"building"};
    vectorize(raster, out, overwrite);
    VectorizeOptions append;
    append.append = true;
    append.layer_prefix = "again_";
    append.classes = {"building"};
    vectorize(raster, out, append);
    auto ds = open_vector(out);
    CHECK(ds->GetLayerCount() == 2);  // building (the overwrite) and again_building (the append)
    CHECK(ds->GetLayerByName("again_building") != nullptr);
}

TEST_CASE("--smooth rounds the pixel steps of a natural outline and keeps its area") {
    const auto dir = scratch_dir("vectorize_smooth");
    // A disc of radius 20 px (10 m): its pixel outline is all right angles.
    const auto raster = class_raster(dir / "pond.tif", 60, 60,
                                     [](int x, int y) { return (x - 30) * (x - 30) + (y - 30) * (y - 30) < 400 ? 2.0 : 0.0; });
    VectorizeOptions o;
    o.classes = {"water"};
    o.smooth = 3;
    vectorize(raster, (dir / "smooth.gpkg").string(), o);
    auto out = open_vector(dir / "smooth.gpkg");
    auto f = std::unique_ptr<OGRFeature>(out->GetLayerByName("water")->GetNextFeature());
    CHECK(f->GetGeometryRef()->IsValid());
    const auto* ring = dynamic_cast<const OGRMultiPolygon*>(f->GetGeometryRef())->getGeometryRef(0)->getExteriorRing();
    int right_angles = 0;
    for (int i = 1; i + 1 < ring->getNumPoints(); ++i) {
        const double ax = ring->getX(i) - ring->getX(i - 1), ay = ring->getY(i) - ring->getY(i - 1);
        const double bx = ring->getX(i + 1) - ring->getX(i), by = ring->getY(i + 1) - ring->getY(i);
        right_angles += std::abs(ax * bx + ay * by) < 1e-9 * std::hypot(ax, ay) * std::hypot(bx, by);
    }
    CHECK(right_angles == 0);
    CHECK(f->GetFieldAsDouble("area_m2") == doctest::Approx(M_PI * 100).epsilon(0.05));
    VectorizeOptions both = o;
    both.regularize = true;
    CHECK_THROWS_AS(vectorize(raster, (dir / "both.gpkg").string(), both), segearth::UsageError);
}
