// White-box tests of the strip polygonizer's shortcut: GDAL's 4-connected outlines are taken as
// valid without GEOS when no ring repeats a vertex. The check must never pass an outline GEOS calls
// invalid, and must catch the self-touching rings 8-connectivity produces.
#include <doctest/doctest.h>

#include "vectorize/strip_polygonizer.hpp"

#include <gdal_alg.h>
#include <gdal_priv.h>
#include <ogrsf_frmts.h>

#include <memory>
#include <random>
#include <vector>

using namespace segearth::geo;

namespace {

// GDAL's own polygonize of a w x h mask (1 = region), every polygon in pixel coordinates.
std::vector<std::unique_ptr<OGRGeometry>> gdal_outlines(const std::vector<uint8_t>& mask, int w, int h, bool eight) {
    GDALAllRegister();
    std::unique_ptr<GDALDataset> raster(
        GetGDALDriverManager()->GetDriverByName("MEM")->Create("", w, h, 1, GDT_Byte, nullptr));
    REQUIRE(raster->GetRasterBand(1)->RasterIO(GF_Write, 0, 0, w, h, const_cast<uint8_t*>(mask.data()), w, h, GDT_Byte,
                                               0, 0) == CE_None);
    std::unique_ptr<GDALDataset> vectors(
        GetGDALDriverManager()->GetDriverByName("Memory")->Create("", 0, 0, 0, GDT_Unknown, nullptr));
    OGRLayer* layer = vectors->CreateLayer("r", nullptr, wkbPolygon, nullptr);
    OGRFieldDefn field("v", OFTInteger);
    layer->CreateField(&field);
    char opt[] = "8CONNECTED=8";
    char* options[] = {eight ? opt : nullptr, nullptr};
    GDALRasterBand* band = raster->GetRasterBand(1);
    REQUIRE(GDALPolygonize(band, band, layer, 0, options, nullptr, nullptr) == CE_None);
    std::vector<std::unique_ptr<OGRGeometry>> out;
    for (auto& f : *layer) out.emplace_back(f->StealGeometry());
    return out;
}

std::vector<uint8_t> random_mask(unsigned seed, int w, int h, double density) {
    std::mt19937 rng(seed);
    std::bernoulli_distribution on(density);
    std::vector<uint8_t> mask(static_cast<size_t>(w * h));
    for (auto& m : mask) m = on(rng) ? 1 : 0;
    return mask;
}

}  // namespace

TEST_CASE("pixel_outline_is_simple: never passes an outline GEOS finds invalid") {
    long long outlines = 0, simple = 0;
    for (unsigned seed = 0; seed < 12; ++seed)
        for (double density : {0.3, 0.5, 0.7}) {
            for (const auto& g : gdal_outlines(random_mask(seed, 48, 40, density), 48, 40, false)) {
                ++outlines;
                if (pixel_outline_is_simple(*g)) {
                    ++simple;
                    CHECK(g->IsValid());
                }
            }
        }
    CHECK(outlines > 1000);
    CHECK(simple == outlines);  // GDAL 3.6's 4-connected outlines: the GEOS check is never needed
}

TEST_CASE("pixel_outline_is_simple: catches the self-touching rings of 8-connected regions") {
    // Two pixels touching at a corner: GDAL's 8-connected outline is one ring through (1, 1) twice.
    const std::vector<uint8_t> diagonal{1, 0, 0, 1};
    const auto outlines = gdal_outlines(diagonal, 2, 2, true);
    REQUIRE(outlines.size() == 1);
    CHECK_FALSE(outlines[0]->IsValid());
    CHECK_FALSE(pixel_outline_is_simple(*outlines[0]));

    // And on random masks: wherever GEOS says invalid, the check says not simple.
    long long invalid = 0;
    for (unsigned seed = 0; seed < 6; ++seed)
        for (const auto& g : gdal_outlines(random_mask(seed, 40, 40, 0.5), 40, 40, true))
            if (!g->IsValid()) {
                ++invalid;
                CHECK_FALSE(pixel_outline_is_simple(*g));
            }
    CHECK(invalid > 0);
}

TEST_CASE("polygonize_strip reads the caller's buffers in place, rows offset to the strip") {
    // A 2-row strip starting at row 10: one region of value 3, one of value 5 not selected.
    const int w = 6;
    std::vector<int32_t> values{3, 3, 0, 5, 5, 0, 3, 3, 0, 5, 5, 0};
    std::vector<uint8_t> selected{1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0};
    const auto strip = polygonize_strip(w, false, 10, 2, values.data(), selected.data());
    CHECK(strip.y == 10);
    CHECK(strip.rows == 2);
    REQUIRE(strip.pieces.size() == 1);
    CHECK(strip.pieces[0].region.value == 3);
    CHECK(strip.pieces[0].envelope.MinY == 10);
    CHECK(strip.pieces[0].envelope.MaxY == 12);
    CHECK(strip.pieces[0].envelope.MaxX == 2);
}
