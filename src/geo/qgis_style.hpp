// The QGIS style of a class raster (private header): NAME.qml beside NAME.tif, which QGIS applies
// whenever it opens the raster. Without it QGIS 3.22 shows a paletted GeoTIFF with a legend of all
// 256 colour-table entries ("9" ... "255" after the named ones); with it, exactly the classes, named
// and coloured, and nodata transparent (nodata has no entry).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace segearth::geo {

/// The .qml text: a paletted renderer of band 1 with one entry per class value (0, 1, ...).
std::string qgis_class_style(const std::vector<std::string>& names, const std::vector<std::array<uint8_t, 3>>& colours);

}  // namespace segearth::geo
