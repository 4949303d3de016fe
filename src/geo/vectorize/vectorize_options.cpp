// vectorize's options, declared once.
#include <segearth/geo/vectorize.hpp>

#include <cctype>
#include <filesystem>

namespace segearth::geo {
namespace {

options::Command<VectorizeOptions> make_command() {
    options::Command<VectorizeOptions> c{
        "vectorize",
        "class raster to cleaned GeoPackage polygons, one layer per class",
        "CLASSES.tif OUT.gpkg [options]",
        "Turns a class raster (segearth segment's output, or any single-band integer raster) into valid polygons in a "
        "GeoPackage, one layer per class, with class_id, class_name, area_m2 and perimeter_m. GDAL polygonizes it in "
        "strips; polygons cut at strip borders are joined with GEOS, so memory does not grow with the raster.",
        {}};
    auto& t = c.options;
    t.text("input", &VectorizeOptions::input).positional().required().value_name("CLASSES.tif").input_path(options::FileKind::raster)
        .help("the class raster");
    t.text("output", &VectorizeOptions::output).positional().required().value_name("OUT.gpkg").output_path(options::FileKind::vector)
        .help("the vector file: a GeoPackage, or GeoJSON, FlatGeobuf or Shapefile for one class");

    t.group("Classes and layers");
    t.choice("of", &VectorizeOptions::format, vector_formats())
        .gdal_style()
        .value_name("FORMAT")
        .help("GPKG (one layer per class), GeoJSON, FlatGeobuf or \"ESRI Shapefile\" (one layer: one class); "
              "auto: by the extension");
    t.texts("class", &VectorizeOptions::classes)
        .value_name("NAME|ID")
        .help("a class to vectorize (repeatable); default: every class but the background");
    t.integer("bg-index", [](auto& o) -> auto& { return o.background_index; })
        .value_name("I")
        .at_least(-1)
        .help("the background class (-1: the raster's SEGEARTH_BG_INDEX, else 0)");
    t.text("nln", &VectorizeOptions::layer_prefix)
        .gdal_style()
        .value_name("PREFIX")
        .help("prefix of the layer names (layers are named after the classes)");
    t.texts("lco", &VectorizeOptions::layer_creation_options).gdal_style().value_name("NAME=VALUE")
        .help("layer creation option");
    t.flag("overwrite", &VectorizeOptions::overwrite).help("replace an existing output");
    t.flag("append", &VectorizeOptions::append).help("add the layers to an existing GeoPackage");
    t.flag("eight", &VectorizeOptions::eight_connected)
        .short_name("8")
        .help("8-connectivity (diagonal pixels join regions)");

    t.group("Clean-up (in this order; sizes in metres)");
    t.number("min-area", &VectorizeOptions::min_area_m2).value_name("M2").unit("m2").at_least(0)
        .help("drop polygons smaller than M2 square metres");
    t.number("fill-holes", &VectorizeOptions::fill_holes_m2).value_name("M2").unit("m2").at_least(0)
        .help("fill holes smaller than M2 square metres");
    t.number("simplify", &VectorizeOptions::simplify_m).value_name("M").unit("m").at_least(0)
        .help("topology-preserving simplification, tolerance M metres");
    t.flag("regularize", &VectorizeOptions::regularize)
        .help("building footprints: right-angled outlines along each polygon's dominant direction");
    t.number("regularize-max-change", &VectorizeOptions::regularize_max_area_change)
        .value_name("F")
        .at_least(0)
        .help("keep a polygon unregularised when its area would change by more than this fraction");
    t.integer("smooth", &VectorizeOptions::smooth)
        .value_name("N")
        .at_least(0)
        .at_most(5)
        .message("--smooth takes 1 to 5 passes")
        .help("natural classes (water, vegetation): N passes (1-5) of Chaikin corner cutting, rounding pixel steps");

    t.group("Attributes, CRS, flood mapping");
    t.text("probabilities", &VectorizeOptions::probabilities)
        .value_name("FILE")
        .input_path(options::FileKind::raster)
        .help("segment's --probabilities raster: adds mean_prob and max_prob per polygon");
    t.text("t_srs", &VectorizeOptions::target_srs).gdal_style().value_name("CRS")
        .help("write the polygons in this CRS");
    t.text("pre-event", &VectorizeOptions::pre_event)
        .value_name("FILE")
        .input_path(options::FileKind::raster)
        .help("flood mapping: a class raster from before the event; only new water is written (layer new_water)");
    t.text("water-class", &VectorizeOptions::water_class).value_name("NAME|ID").help("the water class in both rasters");
    t.integer("strip-rows", &VectorizeOptions::strip_rows)
        .value_name("N")
        .at_least(0)
        .help("rows polygonized at once (0: 256 or the block height)");
    return c;
}

}  // namespace

const options::EnumNames<VectorFormat>& vector_formats() {
    static const options::EnumNames<VectorFormat> names{{VectorFormat::automatic, "auto"},
                                                        {VectorFormat::gpkg, "GPKG"},
                                                        {VectorFormat::geojson, "GeoJSON"},
                                                        {VectorFormat::flatgeobuf, "FlatGeobuf"},
                                                        {VectorFormat::shapefile, "ESRI Shapefile"}};
    return names;
}

VectorFormat resolve_vector_format(const std::string& output, VectorFormat format) {
    auto extension = std::filesystem::path(output).extension().string();
    for (auto& c : extension) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    // GDAL finds a Shapefile's .dbf and .shx beside a .shp only.
    if (format == VectorFormat::shapefile && extension != ".shp")
        throw UsageError(output + ": a Shapefile's name ends in .shp (its .dbf, .shx and .prj are written beside it)");
    if (format != VectorFormat::automatic) return format;
    if (extension == ".gpkg") return VectorFormat::gpkg;
    if (extension == ".geojson" || extension == ".json") return VectorFormat::geojson;
    if (extension == ".fgb") return VectorFormat::flatgeobuf;
    if (extension == ".shp") return VectorFormat::shapefile;
    throw UsageError(output + ": no vector format is written for the extension '" + extension +
                     "': use .gpkg (GeoPackage, a layer per class), .geojson, .fgb or .shp (one class), or give "
                     "-of (other formats: write a .gpkg and convert it with ogr2ogr)");
}

std::vector<std::string> vector_companions(const std::string& output, VectorFormat format) {
    if (resolve_vector_format(output, format) != VectorFormat::shapefile) return {};
    // GDAL names them after the .shp, whatever its own extension is (out.shp -> out.dbf).
    const auto stem = std::filesystem::path(output).replace_extension().string();
    // The last three are spatial indexes segearth does not write: a replaced Shapefile's would be stale.
    return {stem + ".shx", stem + ".dbf", stem + ".prj", stem + ".cpg", stem + ".qix", stem + ".sbn", stem + ".sbx"};
}

void check_layer_count(const std::string& output, VectorFormat format, size_t layers) {
    format = resolve_vector_format(output, format);
    if (format != VectorFormat::gpkg && layers > 1)
        throw UsageError(output + ": " + vector_formats().name(format) + " holds one layer, and " +
                         std::to_string(layers) + " classes would be written: choose one with --class NAME, "
                         "or write a .gpkg (a layer per class)");
}

const options::Command<VectorizeOptions>& vectorize_command() {
    static const auto command = make_command();
    return command;
}

void validate(const VectorizeOptions& o) {
    if (o.input.empty() || o.output.empty())
        throw UsageError("vectorize needs CLASSES.tif and OUT.gpkg (see segearth vectorize --help)");
    vectorize_command().options.check(o);
    if (o.smooth > 0 && o.regularize) throw UsageError("give --regularize (buildings) or --smooth (natural classes), not both");
    if (o.overwrite && o.append) throw UsageError("give either --overwrite or --append, not both");
    const auto format = resolve_vector_format(o.output, o.format);
    if (o.append && format != VectorFormat::gpkg) throw UsageError("--append adds layers to a GeoPackage (.gpkg) only");
}

}  // namespace segearth::geo
