// Class rasters to analysis-ready polygons: one GeoPackage layer per class, polygonized by GDAL in
// row strips (memory does not grow with the raster), pieces cut at strip borders merged back with
// GEOS, then cleaned (minimum area, hole filling, simplification, building regularisation), measured
// in metres and written atomically.
//
//   VectorizeOptions o;
//   o.classes = {"building"};
//   o.min_area_m2 = 10; o.fill_holes_m2 = 4; o.simplify_m = 0.5; o.regularize = true;
//   VectorizeReport r = vectorize("classes.tif", "buildings.gpkg", o);
#pragma once

#include <segearth/options/option_table.hpp>
#include <segearth/output_set.hpp>
#include <segearth/progress.hpp>

#include <map>
#include <string>
#include <vector>

namespace segearth::geo {

/// The vector formats written: GeoPackage (any number of layers), GeoJSON, FlatGeobuf and ESRI
/// Shapefile (one layer: one class). `automatic` picks by the output's extension.
enum class VectorFormat { automatic, gpkg, geojson, flatgeobuf, shapefile };
const options::EnumNames<VectorFormat>& vector_formats();  ///< auto, GPKG, GeoJSON, FlatGeobuf, ESRI Shapefile

/// The format `format` means for `output`: the extension's (.gpkg, .geojson/.json, .fgb, .shp) when
/// automatic. Throws UsageError for an extension no format writes (.txt, .kml, none).
VectorFormat resolve_vector_format(const std::string& output, VectorFormat format);

/// The files a vector output writes or replaces beside itself, each as much the output as the file
/// named: a Shapefile's .shx, .dbf, .prj and .cpg, and the stale spatial indexes (.qix, .sbn, .sbx)
/// of one it replaces (a GeoPackage, GeoJSON or FlatGeobuf is one file).
std::vector<std::string> vector_companions(const std::string& output, VectorFormat format);

/// Where a vector output goes, checked before any work: its folder exists, and without `overwrite`
/// neither it (unless `append`) nor any of its companions exists. Throws UsageError naming the file.
void check_vector_output(const std::string& output, VectorFormat format, bool overwrite, bool append);

/// Throws UsageError when `layers` class layers would go into a one-layer format (GeoJSON,
/// FlatGeobuf, Shapefile): the plan phase asks before any work.
void check_layer_count(const std::string& output, VectorFormat format, size_t layers);

struct VectorizeOptions {
    std::string input;                 ///< the class raster
    std::string output;                ///< the GeoPackage
    std::vector<std::string> classes;  ///< names (category names) or indices; empty: all but background
    int background_index = -1;         ///< class left out by default; -1: the raster's SEGEARTH_BG_INDEX, else 0
    VectorFormat format = VectorFormat::automatic;  ///< -of
    std::string layer_prefix;          ///< -nln PREFIX: layers are PREFIX + class name
    std::vector<std::string> layer_creation_options;  ///< -lco
    bool overwrite = false, append = false;
    bool eight_connected = false;      ///< -8: diagonal neighbours join regions
    double min_area_m2 = 0;            ///< drop smaller polygons
    double fill_holes_m2 = 0;          ///< fill smaller holes
    double simplify_m = 0;             ///< topology-preserving simplification tolerance
    bool regularize = false;           ///< right-angled outlines along the polygon's dominant direction
    double regularize_max_area_change = 0.1;  ///< keep the original when the area changes more (fraction)
    int smooth = 0;                    ///< Chaikin smoothing passes for natural classes (water, vegetation)
    std::string probabilities;         ///< segment's --probabilities raster: adds mean_prob, max_prob
    std::string target_srs;            ///< -t_srs: any CRS PROJ understands
    std::string pre_event;             ///< flood mode: a class raster before the event
    std::string water_class = "water"; ///< flood mode: the water class's name (or index) in both rasters
    int strip_rows = 0;                ///< rows polygonized at once; 0: from the raster's block size
};

struct VectorizeReport {
    std::map<std::string, long long> polygons_per_layer;
    long long pieces_merged = 0;  ///< polygons that crossed a strip border and were joined
    double seconds = 0;
};

/// The command, its texts and its options table (CLI, --help, --json-usage).
const options::Command<VectorizeOptions>& vectorize_command();

/// The declared ranges, then the rules between options; throws UsageError naming the flag.
void validate(const VectorizeOptions& options);

/// Throws UsageError / FileError naming the file, class or option at fault; leaves no output behind
/// on any error or cancellation.
VectorizeReport vectorize(const VectorizeOptions& options, const Progress& progress = {});
VectorizeReport vectorize(const std::string& class_raster, const std::string& output, VectorizeOptions options,
                          const Progress& progress = {});

/// vectorize() for a run that publishes several outputs together (segment --vector): the GeoPackage
/// is completed under its temporary name and added to `outputs`, unpublished.
VectorizeReport vectorize_into(const VectorizeOptions& options, OutputSet& outputs, const Progress& progress = {});

}  // namespace segearth::geo
