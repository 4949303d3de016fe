#include "command_vectorize.hpp"

#include "cli_options.hpp"
#include "cli_progress.hpp"

#include <segearth/error.hpp>
#include <segearth/geo/vectorize.hpp>

#include <cstdio>
#include <iostream>

namespace po = boost::program_options;

namespace segearth::cli {
namespace {

po::options_description vectorize_options() {
    po::options_description which("Classes and layers");
    which.add_options()
        ("class", po::value<std::vector<std::string>>()->composing()->value_name("NAME|ID"),
         "a class to vectorize (repeatable); default: every class but the background")
        ("bg-index", po::value<int>()->value_name("I"), "the background class (default: the raster's SEGEARTH_BG_INDEX, else 0)")
        ("nln", po::value<std::string>()->value_name("PREFIX"), "-nln: prefix of the layer names (layers are named after the classes)")
        ("lco", po::value<std::vector<std::string>>()->composing()->value_name("NAME=VALUE"), "-lco: layer creation option")
        ("overwrite", "replace an existing output")
        ("append", "add the layers to an existing GeoPackage")
        ("eight,8", "-8: 8-connectivity (diagonal pixels join regions)");
    po::options_description cleanup("Clean-up (in this order; sizes in metres)");
    cleanup.add_options()
        ("min-area", po::value<double>()->value_name("M2"), "drop polygons smaller than M2 square metres")
        ("fill-holes", po::value<double>()->value_name("M2"), "fill holes smaller than M2 square metres")
        ("simplify", po::value<double>()->value_name("M"), "topology-preserving simplification, tolerance M metres")
        ("regularize", "building footprints: right-angled outlines along each polygon's dominant direction")
        ("regularize-max-change", po::value<double>()->value_name("F")->default_value(0.1, "0.1"),
         "keep a polygon unregularised when its area would change by more than this fraction")
        ("smooth", po::value<int>()->value_name("N"),
         "natural classes (water, vegetation): N passes (1-5) of Chaikin corner cutting, rounding pixel steps");
    po::options_description more("Attributes, CRS, flood mapping");
    more.add_options()
        ("probabilities", po::value<std::string>()->value_name("FILE"),
         "segment's --probabilities raster: adds mean_prob and max_prob per polygon")
        ("t_srs", po::value<std::string>()->value_name("CRS"), "-t_srs: write the polygons in this CRS")
        ("pre-event", po::value<std::string>()->value_name("FILE"),
         "flood mapping: a class raster from before the event; only new water is written (layer new_water)")
        ("water-class", po::value<std::string>()->value_name("NAME|ID")->default_value("water"),
         "the water class in both rasters")
        ("strip-rows", po::value<int>()->value_name("N"), "rows polygonized at once (default: 256 or the block height)")
        ("help,h", "show this help");
    po::options_description all;
    all.add(which).add(cleanup).add(more);
    return all;
}

int run_vectorize(const std::vector<std::string>& arguments) {
    auto args = arguments;
    const auto common = take_common_options(args);
    accept_gdal_style(args, {"nln", "lco", "t_srs"});
    const auto options = vectorize_options();
    const auto vm = parse_command_line("vectorize", args, options, {"input", "output"});
    if (vm.count("help")) {
        print_command_help("vectorize", "CLASSES.tif OUT.gpkg [options]",
                           "Turns a class raster (segearth segment's output, or any single-band integer raster) into "
                           "valid polygons in a GeoPackage, one layer per class, with class_id, class_name, area_m2 "
                           "and perimeter_m. GDAL polygonizes it in strips; polygons cut at strip borders are joined "
                           "with GEOS, so memory does not grow with the raster.",
                           options);
        return 0;
    }
    if (!vm.count("input") || !vm.count("output"))
        throw UsageError("vectorize needs CLASSES.tif and OUT.gpkg (see segearth vectorize --help)");
    geo::VectorizeOptions o;
    if (vm.count("class")) o.classes = vm["class"].as<std::vector<std::string>>();
    if (vm.count("bg-index")) o.background_index = vm["bg-index"].as<int>();
    if (vm.count("nln")) o.layer_prefix = vm["nln"].as<std::string>();
    if (vm.count("lco")) o.layer_creation_options = vm["lco"].as<std::vector<std::string>>();
    o.overwrite = vm.count("overwrite") > 0;
    o.append = vm.count("append") > 0;
    o.eight_connected = vm.count("eight") > 0;
    const auto metres = [&](const char* name, double& target) {
        if (!vm.count(name)) return;
        target = vm[name].as<double>();
        if (!(target >= 0)) throw UsageError(std::string("--") + name + " must not be negative");
    };
    metres("min-area", o.min_area_m2);
    metres("fill-holes", o.fill_holes_m2);
    metres("simplify", o.simplify_m);
    o.regularize = vm.count("regularize") > 0;
    o.regularize_max_area_change = vm["regularize-max-change"].as<double>();
    if (vm.count("smooth")) o.smooth = vm["smooth"].as<int>();
    if (vm.count("probabilities")) o.probabilities = vm["probabilities"].as<std::string>();
    if (vm.count("t_srs")) o.target_srs = vm["t_srs"].as<std::string>();
    if (vm.count("pre-event")) o.pre_event = vm["pre-event"].as<std::string>();
    o.water_class = vm["water-class"].as<std::string>();
    if (vm.count("strip-rows")) o.strip_rows = vm["strip-rows"].as<int>();

    install_interrupt_handler();
    const auto progress = terminal_progress(common.quiet);
    const auto report = geo::vectorize(vm["input"].as<std::string>(), vm["output"].as<std::string>(), o,
                                       [&](double f) { return progress(f, ""); });
    if (!common.quiet) {
        for (const auto& [layer, count] : report.polygons_per_layer)
            std::fprintf(stderr, "%s: %lld polygons\n", layer.c_str(), count);
        std::fprintf(stderr, "%.1f s (%lld pieces joined across strip borders)\n", report.seconds, report.pieces_merged);
    }
    return 0;
}

}  // namespace

const Command vectorize_command{"vectorize", "class raster to cleaned GeoPackage polygons, one layer per class",
                                run_vectorize};

}  // namespace segearth::cli
