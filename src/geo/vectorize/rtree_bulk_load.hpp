// A GeoPackage's R-tree filled in one pass. GDAL 3.6 (Debian 12) fills it one SQLite R*-tree
// insert per polygon, through a trigger: for 390,000 building footprints that costs more than
// polygonizing them. Here the envelopes are packed sort-tile-recursive (sorted by x into vertical
// slices, each sorted by y, cut into full nodes, the same again one level up) and the nodes are
// written straight into the R-tree's shadow tables in SQLite's own node format, which SQLite then
// reads and updates as if it had built them (GDAL 3.7 and later do the same themselves).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace segearth::geo {

/// One polygon's envelope as SQLite's R-tree stores it: float32, rounded outwards.
struct RtreeEntry {
    int64_t id = 0;
    float min_x = 0, max_x = 0, min_y = 0, max_y = 0;
};

/// The entry SQLite itself would store for (id, min_x, max_x, min_y, max_y) in double precision.
RtreeEntry rtree_entry(int64_t id, double min_x, double max_x, double min_y, double max_y);

/// Fills the empty R-tree `rtree` (a 2-D `rtree(id, minx, maxx, miny, maxy)` virtual table of the
/// SQLite file `path`, no other connection writing to it) with `entries`, then runs `then_sql`
/// (a trigger to restore) in the same transaction. Throws FileError naming the file on any SQLite
/// error, and when the R-tree is not empty; on error nothing is changed.
void bulk_load_rtree(const std::string& path, const std::string& rtree, std::vector<RtreeEntry> entries,
                     const std::string& then_sql);

}  // namespace segearth::geo
