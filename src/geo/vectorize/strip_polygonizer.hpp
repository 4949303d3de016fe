// Polygonizing a class raster strip by strip with GDALPolygonize, so that memory does not grow with
// the raster. Polygons are kept in pixel coordinates (x = column, y = row, integers), which makes the
// joins at strip borders exact: a region cut by a border leaves a piece touching it on each side,
// and the pieces whose border intervals overlap (or touch at a corner, with 8-connectivity) are
// unioned. A polygon is complete, and handed on, once it no longer touches the strip's lower border.
//
// The work is split so that strips can be polygonized on several threads: polygonize_strip() depends
// only on its strip; StripPolygonizer::add() joins the strips' pieces, which must come top to bottom.
#pragma once

#include <ogr_geometry.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace segearth::geo {

struct RegionPolygon {
    int value = 0;                                   ///< the class value of the region
    std::unique_ptr<OGRGeometry> geometry;           ///< valid Polygon (or MultiPolygon with 8-connectivity)
};

/// The regions of one strip, rows [y, y + rows), in pixel coordinates; each geometry is valid.
struct StripPieces {
    struct Piece {
        RegionPolygon region;
        OGREnvelope envelope;
    };
    int y = 0, rows = 0;
    std::vector<Piece> pieces;
};

/// Polygonizes rows [y, y + rows): class values (width * rows) and which pixels to polygonize (1) or
/// not (0). GDAL reads both buffers in place. Safe to call for different strips at once. `keep_going`
/// is asked row by row (GDALPolygonize's progress); returning false throws Cancelled.
StripPieces polygonize_strip(int width, bool eight_connected, int y, int rows, const int32_t* values,
                             const uint8_t* selected, const std::function<bool()>& keep_going = {});

/// True when no ring of a polygonized pixel outline passes through a vertex twice. GDAL's
/// 4-connected outlines are valid exactly then (their edges lie on the pixel grid, so rings can only
/// meet at vertices), which spares a GEOS validity check of every polygon.
bool pixel_outline_is_simple(const OGRGeometry& geometry);

class StripPolygonizer {
public:
    using Emit = std::function<void(RegionPolygon&&)>;

    StripPolygonizer(bool eight_connected, Emit emit);
    ~StripPolygonizer();

    /// The pieces of the next strip (strips come top to bottom without gaps); `last` flushes
    /// everything still open. `keep_going` is asked every 1024 pieces; false throws Cancelled.
    void add(StripPieces&& strip, bool last, const std::function<bool()>& keep_going = {});

    long long pieces_merged() const { return merged_; }

private:
    using Piece = StripPieces::Piece;
    void finish_or_keep(Piece&& piece, int strip_bottom, bool last);

    bool eight_connected_;
    Emit emit_;
    std::vector<Piece> open_;  // pieces touching the last strip's lower border
    long long merged_ = 0;
};

}  // namespace segearth::geo
