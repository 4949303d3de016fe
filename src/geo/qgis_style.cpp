#include "qgis_style.hpp"

#include <segearth/geo/output_raster.hpp>

#include <cstdio>
#include <filesystem>

namespace segearth::geo {
namespace {

std::string xml_attribute(const std::string& text) {
    std::string out;
    for (const char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\n': out += "&#10;"; break;
            default: out += c;
        }
    }
    return out;
}

}  // namespace

std::string qgis_style_path(const std::string& raster) {
    return std::filesystem::path(raster).replace_extension(".qml").string();
}

std::string qgis_class_style(const std::vector<std::string>& names, const std::vector<std::array<uint8_t, 3>>& colours) {
    std::string palette;
    for (size_t i = 0; i < names.size(); ++i) {
        const auto c = i < colours.size() ? colours[i] : std::array<uint8_t, 3>{128, 128, 128};
        char colour[8];
        std::snprintf(colour, sizeof colour, "#%02x%02x%02x", c[0], c[1], c[2]);
        palette += "        <paletteEntry value=\"" + std::to_string(i) + "\" color=\"" + colour +
                   "\" alpha=\"255\" label=\"" + xml_attribute(names[i]) + "\"/>\n";
    }
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
           "<!-- segearth's classes: QGIS applies this style when it opens the raster of the same name -->\n"
           "<qgis version=\"3.22.0\" styleCategories=\"Symbology\">\n"
           "  <pipe>\n"
           "    <rasterrenderer type=\"paletted\" band=\"1\" opacity=\"1\" alphaBand=\"-1\" nodataColor=\"\">\n"
           "      <rasterTransparency/>\n"
           "      <colorPalette>\n" +
           palette +
           "      </colorPalette>\n"
           "    </rasterrenderer>\n"
           "    <brightnesscontrast brightness=\"0\" contrast=\"0\" gamma=\"1\"/>\n"
           "    <huesaturation saturation=\"0\" grayscaleMode=\"0\" colorizeOn=\"0\"/>\n"
           "    <rasterresampler maxOversampling=\"2\"/>\n"
           "  </pipe>\n"
           "  <blendMode>0</blendMode>\n"
           "</qgis>\n";
}

}  // namespace segearth::geo
