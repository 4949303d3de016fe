#include "vectorize/pixel_geometry.hpp"

#include <geodesic.h>

#include <cmath>

namespace segearth::geo {
namespace {

template <class F>
void for_each_ring(const OGRGeometry& g, F&& f) {
    const auto polygon = [&](const OGRPolygon& p) {
        for (const auto* ring : p) f(*ring);
    };
    if (const auto* p = dynamic_cast<const OGRPolygon*>(&g)) polygon(*p);
    if (const auto* m = dynamic_cast<const OGRMultiPolygon*>(&g))
        for (const auto* p : m) polygon(*p);
}

}  // namespace

PixelGeometry::PixelGeometry(const std::array<double, 6>& geotransform, const OGRSpatialReference& srs, int width,
                             int height)
    : gt_(geotransform), geographic_(srs.IsGeographic() != 0), unit_(srs.IsProjected() ? srs.GetLinearUnits() : 1.0) {
    if (geographic_) {
        OGRErr err = OGRERR_NONE;
        a_ = srs.GetSemiMajor(&err);
        const double inverse_flattening = srs.GetInvFlattening(&err);
        f_ = inverse_flattening > 0 ? 1.0 / inverse_flattening : 0.0;
        // The ground size of the centre pixel (not the origin's, which may be a sliver at a pole);
        // tolerances need no more precision.
        const double cx = width / 2, cy = height / 2;
        OGRLinearRing ring;
        ring.addPoint(cx, cy), ring.addPoint(cx + 1, cy), ring.addPoint(cx + 1, cy + 1), ring.addPoint(cx, cy + 1);
        ring.addPoint(cx, cy);
        to_map(ring);
        pixel_size_m_ = std::sqrt(std::abs(ring_area_m2(ring)));
    } else {
        pixel_size_m_ = std::sqrt(std::abs(gt_[1] * gt_[5] - gt_[2] * gt_[4])) * unit_;
    }
}

void PixelGeometry::to_map(OGRGeometry& g) const {
    const auto ring = [&](OGRLinearRing& r) {
        for (int i = 0; i < r.getNumPoints(); ++i) {
            const double px = r.getX(i), py = r.getY(i);
            r.setPoint(i, gt_[0] + px * gt_[1] + py * gt_[2], gt_[3] + px * gt_[4] + py * gt_[5]);
        }
    };
    const auto polygon = [&](OGRPolygon& p) {
        for (auto* r : p) ring(*r);
    };
    if (auto* p = dynamic_cast<OGRPolygon*>(&g)) polygon(*p);
    if (auto* m = dynamic_cast<OGRMultiPolygon*>(&g))
        for (auto* p : m) polygon(*p);
    if (auto* r = dynamic_cast<OGRLinearRing*>(&g)) ring(*r);
}

double PixelGeometry::ring_area_m2(const OGRLinearRing& ring) const {
    if (!geographic_) return ring.get_Area() * unit_ * unit_;
    geod_geodesic g{};
    geod_init(&g, a_, f_);
    geod_polygon polygon{};
    geod_polygon_init(&polygon, 0);
    for (int i = 0; i + 1 < ring.getNumPoints(); ++i) geod_polygon_addpoint(&g, &polygon, ring.getY(i), ring.getX(i));
    double area = 0;
    geod_polygon_compute(&g, &polygon, 0, 1, &area, nullptr);
    return std::abs(area);
}

double PixelGeometry::area_m2(const OGRGeometry& map_geometry) const {
    double area = 0;
    const auto polygon = [&](const OGRPolygon& p) {
        bool exterior = true;
        for (const auto* ring : p) {
            area += exterior ? ring_area_m2(*ring) : -ring_area_m2(*ring);
            exterior = false;
        }
    };
    if (const auto* p = dynamic_cast<const OGRPolygon*>(&map_geometry)) polygon(*p);
    if (const auto* m = dynamic_cast<const OGRMultiPolygon*>(&map_geometry))
        for (const auto* p : m) polygon(*p);
    return area;
}

double PixelGeometry::perimeter_m(const OGRGeometry& map_geometry) const {
    double length = 0;
    for_each_ring(map_geometry, [&](const OGRLinearRing& ring) {
        if (!geographic_) {
            length += ring.get_Length() * unit_;
            return;
        }
        geod_geodesic g{};
        geod_init(&g, a_, f_);
        for (int i = 0; i + 1 < ring.getNumPoints(); ++i) {
            double s12 = 0;
            geod_inverse(&g, ring.getY(i), ring.getX(i), ring.getY(i + 1), ring.getX(i + 1), &s12, nullptr, nullptr);
            length += s12;
        }
    });
    return length;
}

}  // namespace segearth::geo
