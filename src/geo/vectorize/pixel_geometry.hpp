// From polygons in pixel coordinates to the raster's CRS, and their sizes in metres: planar for
// projected CRSs (map units times the linear unit), geodesic on the ellipsoid (PROJ) for geographic
// ones.
#pragma once

#include <ogr_geometry.h>
#include <ogr_spatialref.h>

#include <array>
#include <cmath>
#include <memory>

namespace segearth::geo {

class PixelGeometry {
public:
    /// `width` x `height`: the raster's size (tolerances use the ground size of its centre pixel).
    PixelGeometry(const std::array<double, 6>& geotransform, const OGRSpatialReference& srs, int width, int height);

    /// Applies the geotransform to every vertex (in place).
    void to_map(OGRGeometry& g) const;
    /// Area in square metres of a polygon or multipolygon in map coordinates (holes subtracted).
    double area_m2(const OGRGeometry& map_geometry) const;
    /// Area in square metres enclosed by one ring in map coordinates.
    double ring_area_m2(const OGRLinearRing& ring) const;
    /// Length in metres of all rings (exterior and holes).
    double perimeter_m(const OGRGeometry& map_geometry) const;
    /// Mean ground size of one pixel in metres (for tolerances given in metres).
    double pixel_size_m() const { return pixel_size_m_; }
    /// Map units per metre on the ground (1 / the linear unit; degrees per metre at the raster's
    /// centre when geographic).
    double map_units_per_metre() const {
        return std::sqrt(std::abs(gt_[1] * gt_[5] - gt_[2] * gt_[4])) / pixel_size_m_;
    }

private:
    std::array<double, 6> gt_;
    bool geographic_;
    double unit_;  // metres per map unit (projected)
    double a_ = 0, f_ = 0;
    double pixel_size_m_ = 1;
};

}  // namespace segearth::geo
