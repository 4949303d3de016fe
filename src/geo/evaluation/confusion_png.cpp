// eval --confusion-png: the confusion matrix as a labelled picture, drawn with cairo. Rows are the
// ground truth, columns the prediction; each cell is the share of its row (a row's recall spread over
// the predicted classes), shaded white to blue, with its percentage; each row ends with the class's
// IoU and ground-truth pixel count. A class absent from the ground truth has a grey row.
#include <segearth/geo/evaluate.hpp>

#include <segearth/error.hpp>
#include <segearth/temporary_output.hpp>
#include <segearth/write_error.hpp>

#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

namespace segearth::geo {
namespace {

constexpr const char* font = "DejaVu Sans";

struct Rgb {
    double r, g, b;
};

// White to a dark blue, as the fraction grows.
Rgb shade(double fraction) {
    const Rgb low{1.0, 1.0, 1.0}, high{0.03, 0.19, 0.42};
    const double t = std::clamp(fraction, 0.0, 1.0);
    return {low.r + (high.r - low.r) * t, low.g + (high.g - low.g) * t, low.b + (high.b - low.b) * t};
}

double text_width(cairo_t* cr, const std::string& text) {
    cairo_text_extents_t e;
    cairo_text_extents(cr, text.c_str(), &e);
    return e.x_advance;
}

// Text with its baseline's left end at (x, y), or its right end when `right` is set, or centred.
enum class Align { left, right, centre };
void show(cairo_t* cr, const std::string& text, double x, double y, Align align = Align::left) {
    const double w = text_width(cr, text);
    cairo_move_to(cr, align == Align::left ? x : align == Align::right ? x - w : x - w / 2, y);
    cairo_show_text(cr, text.c_str());
}

std::string percent(double fraction, int decimals) {
    char text[32];
    std::snprintf(text, sizeof text, "%.*f", decimals, 100.0 * fraction);
    return text;
}

using Surface = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;
using Context = std::unique_ptr<cairo_t, decltype(&cairo_destroy)>;

}  // namespace

void write_confusion_png(const EvaluationReport& r, const std::string& path, bool overwrite) {
    const size_t k = r.classes.size();
    if (k == 0 || r.confusion.size() != k) throw Error("internal error: no confusion matrix to draw");
    // Cells shrink with many classes so that the picture stays under ~3000 px; below 28 px the
    // percentages no longer fit and only the shading remains.
    const double cell = std::clamp(2400.0 / static_cast<double>(k), 10.0, 48.0);
    const bool numbers_in_cells = cell >= 28;
    const double label_size = std::clamp(cell * 0.3, 8.0, 13.0);

    // Measure the labels on a scratch surface first: the margins depend on the longest name.
    Surface scratch(cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1), cairo_surface_destroy);
    Context measure(cairo_create(scratch.get()), cairo_destroy);
    cairo_select_font_face(measure.get(), font, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(measure.get(), label_size);
    double longest = 0;
    for (const auto& c : r.classes) longest = std::max(longest, text_width(measure.get(), c.name));
    const double pad = 16, row_label = longest + 12, column_label = longest * 0.75 + 24;
    const double right_columns = 14 + text_width(measure.get(), "100.0") + 18 + text_width(measure.get(), "000000000000");
    const double title = 52;
    const double grid_x = pad + row_label, grid_y = pad + title + column_label;
    const double width = std::max(grid_x + cell * k + right_columns + pad, 640.0);
    const double height = grid_y + cell * k + pad + 18;

    Surface surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, static_cast<int>(std::ceil(width)),
                                               static_cast<int>(std::ceil(height))),
                    cairo_surface_destroy);
    if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS)
        throw FileError(path + ": cannot draw a " + std::to_string(static_cast<int>(width)) + " x " +
                        std::to_string(static_cast<int>(height)) + " picture: " +
                        cairo_status_to_string(cairo_surface_status(surface.get())));
    Context cr_owner(cairo_create(surface.get()), cairo_destroy);
    cairo_t* cr = cr_owner.get();
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, font, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    cairo_set_font_size(cr, 15);
    show(cr, "Confusion matrix: rows ground truth, columns prediction, % of each row", pad, pad + 16);
    cairo_select_font_face(cr, font, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 12);
    std::string summary = "mIoU " + percent(r.miou, 2) + " % over the classes present, pixel accuracy " +
                          percent(r.pixel_accuracy, 2) + " %";
    if (r.foreground_iou) summary += ", foreground IoU " + percent(*r.foreground_iou, 2) + " %";
    summary += ", " + std::to_string(r.scored_pixels) + " pixels";
    show(cr, summary, pad, pad + 36);

    cairo_set_font_size(cr, label_size);
    // Column labels, slanted up to the right from each column's centre.
    for (size_t p = 0; p < k; ++p) {
        cairo_save(cr);
        cairo_move_to(cr, grid_x + cell * (static_cast<double>(p) + 0.5), grid_y - 6);
        cairo_rotate(cr, -M_PI / 4);
        cairo_show_text(cr, r.classes[p].name.c_str());
        cairo_restore(cr);
    }
    const double right_x = grid_x + cell * k + 14;
    show(cr, "IoU %", right_x + text_width(cr, "100.0"), grid_y - 6, Align::right);
    show(cr, "GT pixels", width - pad, grid_y - 6, Align::right);

    // Rows.
    for (size_t g = 0; g < k; ++g) {
        int64_t row_total = 0;
        for (const auto n : r.confusion[g]) row_total += n;
        const double y = grid_y + cell * static_cast<double>(g);
        const double baseline = y + cell / 2 + label_size * 0.35;
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        show(cr, r.classes[g].name, grid_x - 8, baseline, Align::right);
        for (size_t p = 0; p < k; ++p) {
            const double x = grid_x + cell * static_cast<double>(p);
            const double fraction = row_total ? static_cast<double>(r.confusion[g][p]) / static_cast<double>(row_total) : 0;
            const auto c = row_total ? shade(fraction) : Rgb{0.9, 0.9, 0.9};
            cairo_set_source_rgb(cr, c.r, c.g, c.b);
            cairo_rectangle(cr, x, y, cell, cell);
            cairo_fill(cr);
            if (numbers_in_cells && row_total) {
                const double light = fraction > 0.5 ? 1.0 : 0.1;
                cairo_set_source_rgb(cr, light, light, light);
                show(cr, fraction > 0 && fraction < 0.001 ? "<0.1" : percent(fraction, 1), x + cell / 2, baseline,
                     Align::centre);
            }
        }
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        if (r.classes[g].present)
            show(cr, percent(r.classes[g].iou, 1), right_x + text_width(cr, "100.0"), baseline, Align::right);
        else
            show(cr, "-", right_x + text_width(cr, "100.0"), baseline, Align::right);
        show(cr, std::to_string(r.classes[g].gt_pixels), width - pad, baseline, Align::right);
    }
    // The grid's frame and the diagonal (correct) cells outlined.
    cairo_set_line_width(cr, 1);
    cairo_set_source_rgb(cr, 0.55, 0.55, 0.55);
    cairo_rectangle(cr, grid_x + 0.5, grid_y + 0.5, cell * k - 1, cell * k - 1);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.85, 0.33, 0.1);
    for (size_t d = 0; d < k; ++d) {
        cairo_rectangle(cr, grid_x + cell * d + 1, grid_y + cell * d + 1, cell - 2, cell - 2);
        cairo_stroke(cr);
    }
    cairo_surface_flush(surface.get());

    TemporaryOutput file(path, ".png");
    const auto status = cairo_surface_write_to_png(surface.get(), file.temporary().c_str());
    if (status != CAIRO_STATUS_SUCCESS) throw write_error(path, "write", cairo_status_to_string(status));
    file.publish(overwrite);
}

}  // namespace segearth::geo
