// Polygonizing a class raster strip by strip with GDALPolygonize, so that memory does not grow with
// the raster. Polygons are kept in pixel coordinates (x = column, y = row, integers), which makes the
// joins at strip borders exact: a region cut by a border leaves a piece touching it on each side,
// and the pieces whose border intervals overlap (or touch at a corner, with 8-connectivity) are
// unioned. A polygon is complete, and handed on, once it no longer touches the strip's lower border.
#pragma once

#include <segearth/progress.hpp>

#include <ogr_geometry.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace segearth::geo {

struct RegionPolygon {
    int value = 0;                                   ///< the class value of the region
    std::unique_ptr<OGRGeometry> geometry;           ///< Polygon (or MultiPolygon with 8-connectivity)
};

class StripPolygonizer {
public:
    using Emit = std::function<void(RegionPolygon&&)>;

    StripPolygonizer(int width, bool eight_connected, Emit emit);
    ~StripPolygonizer();

    /// Rows [y, y + rows): class values (width * rows) and which pixels to polygonize (1) or not (0).
    /// Strips must come top to bottom without gaps; `last` flushes everything still open. `progress`
    /// hears the fraction of the strip polygonized, row by row; returning false throws Cancelled.
    void add_strip(int y, int rows, const std::vector<int32_t>& values, const std::vector<uint8_t>& selected, bool last,
                   const Progress& progress = {});

    long long pieces_merged() const { return merged_; }

private:
    struct Piece;
    void finish_or_keep(Piece&& piece, int strip_bottom, bool last);

    int width_;
    bool eight_connected_;
    Emit emit_;
    std::vector<Piece> open_;  // pieces touching the last strip's lower border
    long long merged_ = 0;
};

}  // namespace segearth::geo
