#include "vectorize/strip_polygonizer.hpp"

#include "vectorize/polygon_cleanup.hpp"

#include <segearth/error.hpp>
#include <segearth/geo/gdal_setup.hpp>

#include <gdal_alg.h>
#include <gdal_priv.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <map>
#include <numeric>

namespace segearth::geo {
namespace {

using Interval = std::pair<double, double>;

// The x-intervals where a polygon's exterior runs along the horizontal line y.
std::vector<Interval> intervals_on_line(const OGRGeometry& g, double y) {
    std::vector<Interval> out;
    const auto add_ring = [&](const OGRLinearRing* ring) {
        for (int i = 0; i + 1 < ring->getNumPoints(); ++i)
            if (ring->getY(i) == y && ring->getY(i + 1) == y)
                out.emplace_back(std::min(ring->getX(i), ring->getX(i + 1)), std::max(ring->getX(i), ring->getX(i + 1)));
    };
    // Holes never lie on a strip border, but after MakeValid an outline may be split across rings.
    if (const auto* poly = dynamic_cast<const OGRPolygon*>(&g)) {
        for (const auto* ring : poly) add_ring(ring);
    } else if (const auto* multi = dynamic_cast<const OGRMultiPolygon*>(&g)) {
        for (const auto* part : multi)
            for (const auto* ring : part) add_ring(ring);
    }
    return out;
}

bool joined(const std::vector<Interval>& a, const std::vector<Interval>& b, bool eight_connected) {
    for (const auto& [a0, a1] : a)
        for (const auto& [b0, b1] : b)
            if (eight_connected ? (a0 <= b1 && b0 <= a1) : (a0 < b1 && b0 < a1)) return true;
    return false;
}

struct DisjointSets {
    explicit DisjointSets(size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), size_t{0}); }
    size_t find(size_t i) { return parent[i] == i ? i : parent[i] = find(parent[i]); }
    void unite(size_t a, size_t b) { parent[find(a)] = find(b); }
    std::vector<size_t> parent;
};

}  // namespace

bool pixel_outline_is_simple(const OGRGeometry& geometry) {
    std::vector<std::pair<double, double>> vertices;
    const auto ring_is_simple = [&](const OGRLinearRing* ring) {
        vertices.clear();
        for (int i = 0; i + 1 < ring->getNumPoints(); ++i) vertices.emplace_back(ring->getX(i), ring->getY(i));
        std::sort(vertices.begin(), vertices.end());
        return std::adjacent_find(vertices.begin(), vertices.end()) == vertices.end();
    };
    if (const auto* poly = dynamic_cast<const OGRPolygon*>(&geometry)) {
        for (const auto* ring : poly)
            if (!ring_is_simple(ring)) return false;
        return true;
    }
    return false;  // not a polygon: let GEOS judge
}

namespace {

// Wraps a caller's buffer as a band of an in-memory raster, without a copy.
void add_band_over(GDALDataset& raster, GDALDataType type, const void* data) {
    char pointer[64] = {};
    CPLPrintPointer(pointer, const_cast<void*>(data), sizeof pointer);
    const std::string option = std::string("DATAPOINTER=") + pointer;
    const char* options[] = {option.c_str(), nullptr};
    if (raster.AddBand(type, const_cast<char**>(options)) != CE_None)
        throw Error("cannot wrap a strip for polygonizing: " + last_gdal_error("?"));
}

// GDALPolygonize's output layer: it keeps each region's geometry and value as a piece, which spares
// the Memory driver's copy of every feature and a second copy when reading them back.
class PieceCollector final : public OGRLayer {
public:
    PieceCollector(bool eight_connected, std::vector<StripPieces::Piece>& pieces)
        : definition_(OGRFeatureDefn::CreateFeatureDefn("regions")), eight_connected_(eight_connected),
          pieces_(pieces) {
        definition_->Reference();
        definition_->SetGeomType(wkbPolygon);
        OGRFieldDefn field("value", OFTInteger);
        definition_->AddFieldDefn(&field);
    }
    ~PieceCollector() override { definition_->Release(); }
    PieceCollector(const PieceCollector&) = delete;
    PieceCollector& operator=(const PieceCollector&) = delete;

    OGRFeatureDefn* GetLayerDefn() override { return definition_; }
    void ResetReading() override {}
    OGRFeature* GetNextFeature() override { return nullptr; }
    int TestCapability(const char* capability) override { return EQUAL(capability, OLCSequentialWrite); }

protected:
    OGRErr ICreateFeature(OGRFeature* feature) override {
        StripPieces::Piece p;
        p.region.value = feature->GetFieldAsInteger(0);
        p.region.geometry.reset(feature->StealGeometry());
        if (!p.region.geometry) return OGRERR_NONE;
        // GDAL writes an 8-connected region whose pixels touch at a corner as one self-touching,
        // invalid ring; GEOS needs valid input to join it across borders, and writers valid output.
        if (eight_connected_ || !pixel_outline_is_simple(*p.region.geometry))
            p.region.geometry = valid_polygons(std::move(p.region.geometry));
        if (!p.region.geometry) return OGRERR_NONE;
        p.region.geometry->getEnvelope(&p.envelope);
        pieces_.push_back(std::move(p));
        return OGRERR_NONE;
    }

private:
    OGRFeatureDefn* definition_;
    bool eight_connected_;
    std::vector<StripPieces::Piece>& pieces_;
};

// GDAL's progress callback asking keep_going (GDALPolygonize reports every row).
int polygonize_progress(double, const char*, void* data) {
    return (*static_cast<const std::function<bool()>*>(data))() ? TRUE : FALSE;
}

}  // namespace

StripPieces polygonize_strip(int width, bool eight_connected, int y, int rows, const int32_t* values,
                             const uint8_t* selected, const std::function<bool()>& keep_going) {
    ensure_gdal();
    // GDAL polygonizes the strip in pixel coordinates offset to its first row.
    GDALDriver* mem = GetGDALDriverManager()->GetDriverByName("MEM");
    std::unique_ptr<GDALDataset> raster(mem->Create("", width, rows, 0, GDT_Int32, nullptr));
    if (!raster) throw Error("cannot create an in-memory strip for polygonizing: " + last_gdal_error("?"));
    double gt[6] = {0, 1, 0, static_cast<double>(y), 0, 1};
    raster->SetGeoTransform(gt);
    add_band_over(*raster, GDT_Int32, values);
    add_band_over(*raster, GDT_Byte, selected);
    StripPieces strip;
    strip.y = y, strip.rows = rows;
    PieceCollector layer(eight_connected, strip.pieces);
    char eight[] = "8CONNECTED=8";
    char* options[] = {eight_connected ? eight : nullptr, nullptr};
    CPLErrorReset();
    bool refused = false;
    const std::function<bool()> asking = [&] {
        refused = refused || !keep_going();
        return !refused;
    };
    if (GDALPolygonize(raster->GetRasterBand(1), raster->GetRasterBand(2), &layer, 0, options,
                       keep_going ? polygonize_progress : nullptr,
                       keep_going ? const_cast<std::function<bool()>*>(&asking) : nullptr) != CE_None) {
        if (refused) throw Cancelled();
        throw FileError("GDALPolygonize failed: " + last_gdal_error("?"));
    }
    return strip;
}

StripPolygonizer::StripPolygonizer(bool eight_connected, Emit emit)
    : eight_connected_(eight_connected), emit_(std::move(emit)) {}

StripPolygonizer::~StripPolygonizer() = default;

void StripPolygonizer::finish_or_keep(Piece&& piece, int strip_bottom, bool last) {
    if (!last && piece.envelope.MaxY == strip_bottom)
        open_.push_back(std::move(piece));
    else
        emit_(std::move(piece.region));
}

void StripPolygonizer::add(StripPieces&& strip, bool last, const std::function<bool()>& keep_going) {
    const int y = strip.y;
    std::vector<Piece> top, rest;
    long long seen = 0;
    for (auto& p : strip.pieces) {
        if (keep_going && ++seen % 1024 == 0 && !keep_going()) throw Cancelled();
        (y > 0 && p.envelope.MinY == y && !open_.empty() ? top : rest).push_back(std::move(p));
    }

    // Join the open pieces above the border with the new pieces below it.
    std::vector<Piece> candidates = std::move(open_);
    open_.clear();
    const size_t above = candidates.size();
    for (auto& p : top) candidates.push_back(std::move(p));
    std::vector<std::vector<Interval>> on_border(candidates.size());
    for (size_t i = 0; i < candidates.size(); ++i) on_border[i] = intervals_on_line(*candidates[i].region.geometry, y);
    DisjointSets sets(candidates.size());
    for (size_t i = 0; i < above; ++i)
        for (size_t j = above; j < candidates.size(); ++j) {
            const auto& a = candidates[i], &b = candidates[j];
            if (a.region.value != b.region.value || a.envelope.MaxX < b.envelope.MinX ||
                b.envelope.MaxX < a.envelope.MinX)
                continue;
            if (joined(on_border[i], on_border[j], eight_connected_)) sets.unite(i, j);
        }
    std::map<size_t, std::vector<size_t>> groups;
    for (size_t i = 0; i < candidates.size(); ++i) groups[sets.find(i)].push_back(i);
    const int bottom = y + strip.rows;
    for (auto& [root, members] : groups) {
        if (members.size() == 1) {
            finish_or_keep(std::move(candidates[members[0]]), bottom, last);
            continue;
        }
        OGRMultiPolygon parts;
        for (size_t m : members) {
            auto& g = candidates[m].region.geometry;
            if (auto* multi = dynamic_cast<OGRMultiPolygon*>(g.get()))
                for (auto* part : multi) parts.addGeometry(part);
            else
                parts.addGeometry(g.get());
        }
        Piece joined_piece;
        joined_piece.region.value = candidates[members[0]].region.value;
        joined_piece.region.geometry.reset(parts.UnionCascaded());
        if (!joined_piece.region.geometry) throw Error("GEOS could not join polygons across a strip border");
        joined_piece.region.geometry->getEnvelope(&joined_piece.envelope);
        merged_ += static_cast<long long>(members.size()) - 1;
        finish_or_keep(std::move(joined_piece), bottom, last);
    }
    for (auto& p : rest) finish_or_keep(std::move(p), bottom, last);
}

}  // namespace segearth::geo
