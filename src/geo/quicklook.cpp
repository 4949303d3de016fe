// The quicklook: the scene read as segment read it (its bands and value ranges) on a small grid, the
// class raster read on the same grid (nearest), both drawn with cairo beside a legend.
#include <segearth/geo/quicklook.hpp>

#include "gdal_dataset.hpp"

#include <segearth/error.hpp>
#include <segearth/geo/gdal_setup.hpp>
#include <segearth/write_error.hpp>

#include <cairo.h>
#include <gdal_priv.h>

#include <algorithm>
#include <memory>

namespace segearth::geo {
namespace {

constexpr const char* font = "DejaVu Sans";
constexpr int pad = 12, gap = 12, title_height = 26, swatch = 14;

using Surface = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;
using Context = std::unique_ptr<cairo_t, decltype(&cairo_destroy)>;

int long_side_of(const std::string& path) {
    const auto ds = open_raster(path);
    return std::max(ds->GetRasterXSize(), ds->GetRasterYSize());
}

// Planar RGB in [0, 1] -> a cairo RGB24 image (0x00RRGGBB per pixel).
Surface scene_image(const QuicklookInputs& in) {
    auto read = in.read;
    read.grid = {GridMode::long_side, static_cast<double>(std::min(in.long_side, long_side_of(in.scene)))};
    SceneReader reader(in.scene, read);
    const int w = reader.working_grid().width, h = reader.working_grid().height;
    std::vector<float> rgb(static_cast<size_t>(3) * w * h);
    std::vector<unsigned char> valid(static_cast<size_t>(w) * h);
    reader.read_working(0, 0, w, h, rgb.data(), valid.data());
    Surface image(cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h), cairo_surface_destroy);
    cairo_surface_flush(image.get());
    auto* data = cairo_image_surface_get_data(image.get());
    const int stride = cairo_image_surface_get_stride(image.get());
    const size_t plane = static_cast<size_t>(w) * h;
    const auto byte = [](float v) { return static_cast<uint32_t>(std::clamp(v, 0.0f, 1.0f) * 255.0f + 0.5f); };
    for (int y = 0; y < h; ++y) {
        auto* row = reinterpret_cast<uint32_t*>(data + static_cast<size_t>(y) * stride);
        for (int x = 0; x < w; ++x) {
            const size_t i = static_cast<size_t>(y) * w + x;
            row[x] = valid[i] ? (byte(rgb[i]) << 16) | (byte(rgb[plane + i]) << 8) | byte(rgb[2 * plane + i]) : 0x404040;
        }
    }
    cairo_surface_mark_dirty(image.get());
    return image;
}

// The class raster on a w x h grid (nearest), in the classes' colours; nodata dark grey.
Surface class_image(const QuicklookInputs& in, int w, int h) {
    const auto ds = open_raster(in.classes);
    std::vector<uint8_t> labels(static_cast<size_t>(w) * h);
    GDALRasterIOExtraArg nearest;
    INIT_RASTERIO_EXTRA_ARG(nearest);
    nearest.eResampleAlg = GRIORA_NearestNeighbour;
    if (ds->GetRasterBand(1)->RasterIO(GF_Read, 0, 0, ds->GetRasterXSize(), ds->GetRasterYSize(), labels.data(), w, h,
                                       GDT_Byte, 0, 0, &nearest) != CE_None)
        throw FileError(in.classes + ": " + last_gdal_error("cannot read it"));
    Surface image(cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h), cairo_surface_destroy);
    cairo_surface_flush(image.get());
    auto* data = cairo_image_surface_get_data(image.get());
    const int stride = cairo_image_surface_get_stride(image.get());
    for (int y = 0; y < h; ++y) {
        auto* row = reinterpret_cast<uint32_t*>(data + static_cast<size_t>(y) * stride);
        for (int x = 0; x < w; ++x) {
            const uint8_t v = labels[static_cast<size_t>(y) * w + x];
            if (v < in.colours.size()) {
                const auto& c = in.colours[v];
                row[x] = (uint32_t{c[0]} << 16) | (uint32_t{c[1]} << 8) | c[2];
            } else {
                row[x] = 0x404040;
            }
        }
    }
    cairo_surface_mark_dirty(image.get());
    return image;
}

}  // namespace

void draw_quicklook(const QuicklookInputs& in, const std::string& path, const std::string& temporary) {
    const auto scene = scene_image(in);
    const int w = cairo_image_surface_get_width(scene.get()), h = cairo_image_surface_get_height(scene.get());
    const auto classes = class_image(in, w, h);

    // The legend flows in rows under the two images.
    Surface scratch(cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1), cairo_surface_destroy);
    Context measure(cairo_create(scratch.get()), cairo_destroy);
    cairo_select_font_face(measure.get(), font, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(measure.get(), 12);
    const int width = std::max(2 * w + gap + 2 * pad, 360);
    std::vector<std::pair<int, int>> at(in.names.size());  // each entry's (x, row)
    int x = pad, row = 0;
    for (size_t i = 0; i < in.names.size(); ++i) {
        cairo_text_extents_t e;
        cairo_text_extents(measure.get(), in.names[i].c_str(), &e);
        const int entry = swatch + 6 + static_cast<int>(e.x_advance) + 18;
        if (x + entry > width - pad && x > pad) x = pad, ++row;
        at[i] = {x, row};
        x += entry;
    }
    const int legend_top = pad + title_height + h + gap;
    const int height = legend_top + (row + 1) * (swatch + 8) + pad;

    Surface surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height), cairo_surface_destroy);
    Context owner(cairo_create(surface.get()), cairo_destroy);
    cairo_t* cr = owner.get();
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, font, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size(cr, 13);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    cairo_move_to(cr, pad, pad + 14);
    cairo_show_text(cr, "scene");
    cairo_move_to(cr, pad + w + gap, pad + 14);
    cairo_show_text(cr, "classes");
    cairo_set_source_surface(cr, scene.get(), pad, pad + title_height);
    cairo_paint(cr);
    cairo_set_source_surface(cr, classes.get(), pad + w + gap, pad + title_height);
    cairo_paint(cr);
    cairo_select_font_face(cr, font, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 12);
    for (size_t i = 0; i < in.names.size(); ++i) {
        const double ex = at[i].first, ey = legend_top + at[i].second * (swatch + 8);
        const auto c = i < in.colours.size() ? in.colours[i] : std::array<uint8_t, 3>{64, 64, 64};
        cairo_set_source_rgb(cr, c[0] / 255.0, c[1] / 255.0, c[2] / 255.0);
        cairo_rectangle(cr, ex, ey, swatch, swatch);
        cairo_fill_preserve(cr);
        cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
        cairo_set_line_width(cr, 1);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        cairo_move_to(cr, ex + swatch + 6, ey + swatch - 2);
        cairo_show_text(cr, in.names[i].c_str());
    }
    cairo_surface_flush(surface.get());
    const auto status = cairo_surface_write_to_png(surface.get(), temporary.c_str());
    if (status != CAIRO_STATUS_SUCCESS) throw write_error(path, "write", cairo_status_to_string(status));
}

}  // namespace segearth::geo
