#include "vectorize/polygon_cleanup.hpp"

#include <cmath>
#include <limits>
#include <vector>

namespace segearth::geo {
namespace {

// Polygons of a Polygon or MultiPolygon, as a list of owned polygons.
std::vector<std::unique_ptr<OGRPolygon>> polygons_of(const OGRGeometry& g) {
    std::vector<std::unique_ptr<OGRPolygon>> out;
    if (const auto* p = dynamic_cast<const OGRPolygon*>(&g)) out.emplace_back(p->clone());
    if (const auto* m = dynamic_cast<const OGRMultiPolygon*>(&g))
        for (const auto* p : m) out.emplace_back(p->clone());
    if (const auto* c = dynamic_cast<const OGRGeometryCollection*>(&g); c && !dynamic_cast<const OGRMultiPolygon*>(&g))
        for (const auto* part : c)
            for (auto& p : polygons_of(*part)) out.push_back(std::move(p));
    return out;
}

std::unique_ptr<OGRGeometry> assemble(std::vector<std::unique_ptr<OGRPolygon>> parts) {
    if (parts.empty()) return nullptr;
    if (parts.size() == 1) return std::move(parts.front());
    auto multi = std::make_unique<OGRMultiPolygon>();
    for (auto& p : parts) multi->addGeometryDirectly(p.release());
    return multi;
}

// Parts changed one at a time (holes filled, outlines regularised or smoothed) may now overlap: their
// union, so that no area is counted twice and the result is valid.
std::unique_ptr<OGRGeometry> reunite(std::vector<std::unique_ptr<OGRPolygon>> parts) {
    auto g = assemble(std::move(parts));
    if (auto* multi = dynamic_cast<OGRMultiPolygon*>(g.get())) g.reset(multi->UnionCascaded());
    return valid_polygons(std::move(g));
}

// The polygon's orientation (radians, in [0, pi/2)): that of its minimum-area bounding rectangle,
// found by rotating calipers over the convex hull's edges. A pixel outline's hull has long exactly
// axis-parallel edges, so a building aligned with the image grid gets exactly 0, and the stair steps
// of a rotated one do not bias it as edge directions would.
double dominant_direction(const OGRPolygon& polygon) {
    std::unique_ptr<OGRGeometry> hull(polygon.ConvexHull());
    const auto* hull_polygon = dynamic_cast<const OGRPolygon*>(hull.get());
    if (!hull_polygon) return 0;
    const OGRLinearRing* ring = hull_polygon->getExteriorRing();
    double best = 0, best_area = std::numeric_limits<double>::infinity();
    for (int i = 0; i + 1 < ring->getNumPoints(); ++i) {
        double angle = std::atan2(ring->getY(i + 1) - ring->getY(i), ring->getX(i + 1) - ring->getX(i));
        angle = std::fmod(angle, M_PI / 2);
        if (angle < 0) angle += M_PI / 2;
        const double c = std::cos(angle), s = std::sin(angle);
        double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
        for (int k = 0; k < ring->getNumPoints(); ++k) {
            const double x = c * ring->getX(k) + s * ring->getY(k), y = -s * ring->getX(k) + c * ring->getY(k);
            x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
        }
        const double area = (x1 - x0) * (y1 - y0);
        if (area < best_area - 1e-9 * std::abs(best_area)) best_area = area, best = angle;
    }
    return best;
}

}  // namespace

std::unique_ptr<OGRGeometry> valid_polygons(std::unique_ptr<OGRGeometry> geometry) {
    if (!geometry) return nullptr;
    if (!geometry->IsValid()) geometry.reset(geometry->MakeValid());
    if (!geometry) return nullptr;
    return assemble(polygons_of(*geometry));
}

std::unique_ptr<OGRPolygon> regularize_polygon(const OGRPolygon& polygon, double tolerance) {
    const auto* exterior = polygon.getExteriorRing();
    if (!exterior || exterior->getNumPoints() < 5) return nullptr;
    OGRPolygon outline;
    outline.addRing(const_cast<OGRLinearRing*>(exterior));
    std::unique_ptr<OGRGeometry> simplified(outline.SimplifyPreserveTopology(tolerance));
    const auto* simple_polygon = dynamic_cast<const OGRPolygon*>(simplified.get());
    const auto* ring = simple_polygon ? simple_polygon->getExteriorRing() : nullptr;
    if (!ring || ring->getNumPoints() < 5) return nullptr;
    OGRLinearRing work;
    for (int i = 0; i < ring->getNumPoints(); ++i) work.addPoint(ring->getX(i), ring->getY(i));
    const double theta = dominant_direction(polygon), c = std::cos(theta), s = std::sin(theta);
    // Rotate so that the dominant directions are the axes.
    std::vector<std::array<double, 2>> p;
    for (int i = 0; i + 1 < work.getNumPoints(); ++i)
        p.push_back({c * work.getX(i) + s * work.getY(i), -s * work.getX(i) + c * work.getY(i)});
    // Each edge becomes horizontal (at its length-weighted mean y) or vertical (mean x); runs of edges
    // with the same orientation merge into one line.
    struct Line {
        bool horizontal;
        double position, weight;
    };
    std::vector<Line> lines;
    const size_t n = p.size();
    for (size_t i = 0; i < n; ++i) {
        const auto& a = p[i];
        const auto& b = p[(i + 1) % n];
        const double dx = b[0] - a[0], dy = b[1] - a[1], length = std::hypot(dx, dy);
        if (length == 0) continue;
        const bool horizontal = std::abs(dx) >= std::abs(dy);
        const double position = horizontal ? (a[1] + b[1]) / 2 : (a[0] + b[0]) / 2;
        if (!lines.empty() && lines.back().horizontal == horizontal) {
            auto& l = lines.back();
            l.position = (l.position * l.weight + position * length) / (l.weight + length);
            l.weight += length;
        } else {
            lines.push_back({horizontal, position, length});
        }
    }
    while (lines.size() > 1 && lines.front().horizontal == lines.back().horizontal) {
        auto& f = lines.front();
        const auto& l = lines.back();
        f.position = (f.position * f.weight + l.position * l.weight) / (f.weight + l.weight);
        f.weight += l.weight;
        lines.pop_back();
    }
    if (lines.size() < 4 || lines.size() % 2 != 0) return nullptr;
    // Corners: where each line meets the next one (alternating orientations).
    auto result = std::make_unique<OGRPolygon>();
    OGRLinearRing out;
    for (size_t i = 0; i < lines.size(); ++i) {
        const auto& a = lines[i];
        const auto& b = lines[(i + 1) % lines.size()];
        const double x = a.horizontal ? b.position : a.position, y = a.horizontal ? a.position : b.position;
        out.addPoint(c * x - s * y, s * x + c * y);
    }
    out.closeRings();
    result->addRing(&out);
    if (!result->IsValid()) return nullptr;
    return result;
}

std::unique_ptr<OGRPolygon> smooth_polygon(const OGRPolygon& polygon, int iterations) {
    auto out = std::make_unique<OGRPolygon>();
    for (const auto* ring : &polygon) {
        std::vector<std::array<double, 2>> p;
        for (int i = 0; i + 1 < ring->getNumPoints(); ++i) p.push_back({ring->getX(i), ring->getY(i)});
        for (int pass = 0; pass < iterations && p.size() >= 3; ++pass) {
            std::vector<std::array<double, 2>> q;
            for (size_t i = 0; i < p.size(); ++i) {
                const auto& a = p[i];
                const auto& b = p[(i + 1) % p.size()];
                q.push_back({0.75 * a[0] + 0.25 * b[0], 0.75 * a[1] + 0.25 * b[1]});
                q.push_back({0.25 * a[0] + 0.75 * b[0], 0.25 * a[1] + 0.75 * b[1]});
            }
            p = std::move(q);
        }
        OGRLinearRing smoothed;
        for (const auto& v : p) smoothed.addPoint(v[0], v[1]);
        smoothed.closeRings();
        out->addRing(&smoothed);
    }
    return out;
}

std::unique_ptr<OGRGeometry> clean_polygon(std::unique_ptr<OGRGeometry> geometry, const CleanupRules& rules,
                                           const PixelGeometry& measure) {
    if (!geometry) return nullptr;
    if (rules.min_area_m2 > 0 && measure.area_m2(*geometry) < rules.min_area_m2) return nullptr;
    if (rules.fill_holes_m2 > 0) {
        auto parts = polygons_of(*geometry);
        for (auto& p : parts) {
            auto filled = std::make_unique<OGRPolygon>();
            bool first = true;
            for (const auto* ring : p.get()) {
                if (first || measure.ring_area_m2(*ring) >= rules.fill_holes_m2) filled->addRing(const_cast<OGRLinearRing*>(ring));
                first = false;
            }
            p = std::move(filled);
        }
        geometry = reunite(std::move(parts));
        if (!geometry) return nullptr;
    }
    // Tolerances in metres become map units (exactly for projected CRSs, at the raster's origin for
    // geographic ones).
    if (rules.simplify_m > 0) {
        const double tolerance = rules.simplify_m * measure.map_units_per_metre();
        geometry.reset(geometry->SimplifyPreserveTopology(tolerance));
        geometry = valid_polygons(std::move(geometry));
        if (!geometry) return nullptr;
    }
    if (rules.regularize) {
        auto parts = polygons_of(*geometry);
        const double area_before = measure.area_m2(*geometry);
        for (auto& p : parts) {
            const double tolerance =
                std::max(rules.simplify_m, 1.5 * measure.pixel_size_m()) * measure.map_units_per_metre();
            if (auto r = regularize_polygon(*p, tolerance)) {
                // Holes are kept when they stay inside the new outline.
                for (int h = 0; h < p->getNumInteriorRings(); ++h) r->addRing(const_cast<OGRLinearRing*>(p->getInteriorRing(h)));
                if (r->IsValid()) p = std::move(r);
            }
        }
        auto regular = reunite(std::move(parts));
        if (regular && std::abs(measure.area_m2(*regular) - area_before) <= rules.regularize_max_area_change * area_before)
            geometry = std::move(regular);
    }
    if (rules.smooth_iterations > 0) {
        auto parts = polygons_of(*geometry);
        for (auto& p : parts) p = smooth_polygon(*p, rules.smooth_iterations);
        geometry = reunite(std::move(parts));
    }
    return geometry;
}

}  // namespace segearth::geo
