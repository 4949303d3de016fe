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

struct StripPolygonizer::Piece {
    int value = 0;
    std::unique_ptr<OGRGeometry> geometry;
    OGREnvelope envelope;
};

StripPolygonizer::StripPolygonizer(int width, bool eight_connected, Emit emit)
    : width_(width), eight_connected_(eight_connected), emit_(std::move(emit)) {
    ensure_gdal();
}

StripPolygonizer::~StripPolygonizer() = default;

void StripPolygonizer::finish_or_keep(Piece&& piece, int strip_bottom, bool last) {
    if (!last && piece.envelope.MaxY == strip_bottom)
        open_.push_back(std::move(piece));
    else
        emit_({piece.value, std::move(piece.geometry)});
}

namespace {

// GDAL's progress callback asking a Progress (GDALPolygonize reports every row).
int polygonize_progress(double fraction, const char*, void* data) {
    const auto& progress = *static_cast<const Progress*>(data);
    return progress(fraction, "") ? TRUE : FALSE;
}

}  // namespace

void StripPolygonizer::add_strip(int y, int rows, const std::vector<int32_t>& values,
                                 const std::vector<uint8_t>& selected, bool last, const Progress& progress) {
    // GDAL polygonizes the strip in pixel coordinates offset to its first row.
    GDALDriver* mem = GetGDALDriverManager()->GetDriverByName("MEM");
    std::unique_ptr<GDALDataset> raster(mem->Create("", width_, rows, 2, GDT_Int32, nullptr));
    double gt[6] = {0, 1, 0, static_cast<double>(y), 0, 1};
    raster->SetGeoTransform(gt);
    std::vector<int32_t> mask(selected.begin(), selected.end());
    if (raster->GetRasterBand(1)->RasterIO(GF_Write, 0, 0, width_, rows, const_cast<int32_t*>(values.data()), width_,
                                           rows, GDT_Int32, 0, 0) != CE_None ||
        raster->GetRasterBand(2)->RasterIO(GF_Write, 0, 0, width_, rows, mask.data(), width_, rows, GDT_Int32, 0, 0) !=
            CE_None)
        throw Error("cannot fill the in-memory strip for polygonizing");
    GDALDriver* memory = GetGDALDriverManager()->GetDriverByName("Memory");
    std::unique_ptr<GDALDataset> vectors(memory->Create("", 0, 0, 0, GDT_Unknown, nullptr));
    OGRLayer* layer = vectors->CreateLayer("regions", nullptr, wkbPolygon, nullptr);
    OGRFieldDefn field("value", OFTInteger);
    layer->CreateField(&field);
    char eight[] = "8CONNECTED=8";
    char* options[] = {eight_connected_ ? eight : nullptr, nullptr};
    CPLErrorReset();
    bool refused = false;
    const Progress asking = [&](double fraction, const std::string& message) {
        refused = refused || !progress(fraction, message);
        return !refused;
    };
    if (GDALPolygonize(raster->GetRasterBand(1), raster->GetRasterBand(2), layer, 0, options,
                       progress ? polygonize_progress : nullptr, progress ? const_cast<Progress*>(&asking) : nullptr) !=
        CE_None) {
        if (refused) throw Cancelled();
        throw FileError("GDALPolygonize failed: " + last_gdal_error("?"));
    }

    std::vector<Piece> top, rest;
    long long seen = 0;
    for (auto& feature : *layer) {
        if (progress && ++seen % 1024 == 0 && !progress(1.0, "")) throw Cancelled();
        Piece p;
        p.value = feature->GetFieldAsInteger(0);
        p.geometry.reset(feature->StealGeometry());
        // GDAL writes an 8-connected region whose pixels touch at a corner as one self-touching,
        // invalid ring; GEOS needs valid input to join it across borders.
        if (eight_connected_) p.geometry = valid_polygons(std::move(p.geometry));
        if (!p.geometry) continue;
        p.geometry->getEnvelope(&p.envelope);
        (y > 0 && p.envelope.MinY == y && !open_.empty() ? top : rest).push_back(std::move(p));
    }

    // Join the open pieces above the border with the new pieces below it.
    std::vector<Piece> candidates = std::move(open_);
    open_.clear();
    const size_t above = candidates.size();
    for (auto& p : top) candidates.push_back(std::move(p));
    std::vector<std::vector<Interval>> on_border(candidates.size());
    for (size_t i = 0; i < candidates.size(); ++i) on_border[i] = intervals_on_line(*candidates[i].geometry, y);
    DisjointSets sets(candidates.size());
    for (size_t i = 0; i < above; ++i)
        for (size_t j = above; j < candidates.size(); ++j) {
            const auto& a = candidates[i], &b = candidates[j];
            if (a.value != b.value || a.envelope.MaxX < b.envelope.MinX || b.envelope.MaxX < a.envelope.MinX) continue;
            if (joined(on_border[i], on_border[j], eight_connected_)) sets.unite(i, j);
        }
    std::map<size_t, std::vector<size_t>> groups;
    for (size_t i = 0; i < candidates.size(); ++i) groups[sets.find(i)].push_back(i);
    const int bottom = y + rows;
    for (auto& [root, members] : groups) {
        if (members.size() == 1) {
            finish_or_keep(std::move(candidates[members[0]]), bottom, last);
            continue;
        }
        OGRMultiPolygon parts;
        for (size_t m : members) {
            auto& g = candidates[m].geometry;
            if (auto* multi = dynamic_cast<OGRMultiPolygon*>(g.get()))
                for (auto* part : multi) parts.addGeometry(part);
            else
                parts.addGeometry(g.get());
        }
        Piece joined_piece;
        joined_piece.value = candidates[members[0]].value;
        joined_piece.geometry.reset(parts.UnionCascaded());
        if (!joined_piece.geometry) throw Error("GEOS could not join polygons across a strip border");
        joined_piece.geometry->getEnvelope(&joined_piece.envelope);
        merged_ += static_cast<long long>(members.size()) - 1;
        finish_or_keep(std::move(joined_piece), bottom, last);
    }
    for (auto& p : rest) finish_or_keep(std::move(p), bottom, last);
}

}  // namespace segearth::geo
