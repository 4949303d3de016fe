// Clean-up of polygonized regions, in the order users expect: drop small polygons, fill small holes,
// simplify preserving topology, regularise building outlines or smooth natural ones; every result
// valid (GEOS, through OGR).
// Geometries are in map coordinates; sizes are judged in metres through PixelGeometry.
#pragma once

#include "vectorize/pixel_geometry.hpp"

#include <memory>

namespace segearth::geo {

struct CleanupRules {
    double min_area_m2 = 0;
    double fill_holes_m2 = 0;
    double simplify_m = 0;
    bool regularize = false;
    double regularize_max_area_change = 0.1;
    int smooth_iterations = 0;  ///< Chaikin corner cutting, for natural classes (water, vegetation)
};

/// The cleaned polygon(s), or nullptr when the region is dropped. `geometry` must be valid (the strip
/// polygonizer's are: checking each again cost a tenth of vectorize's time).
std::unique_ptr<OGRGeometry> clean_polygon(std::unique_ptr<OGRGeometry> geometry, const CleanupRules& rules,
                                           const PixelGeometry& measure);

/// Right-angled outline of a polygon along its dominant direction: edges are snapped to that
/// direction or its perpendicular and consecutive parallel edges merged. `tolerance` (map units)
/// first removes stair steps. Returns nullptr when no valid right-angled outline results.
std::unique_ptr<OGRPolygon> regularize_polygon(const OGRPolygon& polygon, double tolerance);

/// Chaikin's corner cutting: each pass replaces every corner by two points at 1/4 and 3/4 of its
/// edges, rounding the stair steps of pixel outlines; holes are smoothed too.
std::unique_ptr<OGRPolygon> smooth_polygon(const OGRPolygon& polygon, int iterations);

/// Makes a geometry valid (GEOS) and keeps only its polygonal parts; nullptr when nothing is left.
std::unique_ptr<OGRGeometry> valid_polygons(std::unique_ptr<OGRGeometry> geometry);

}  // namespace segearth::geo
