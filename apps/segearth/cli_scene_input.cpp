#include "cli_scene_input.hpp"

#include <segearth/error.hpp>

namespace po = boost::program_options;

namespace segearth::cli {

po::options_description scene_input_options() {
    po::options_description input("Input");
    input.add_options()
        ("band,b", po::value<std::vector<int>>()->composing()->value_name("BAND"),
         "input band for red, green, blue (give it three times; default: the bands labelled RGB, else 1 2 3)")
        ("scale-range", po::value<std::vector<double>>()->multitoken()->composing()->value_name("MIN MAX"),
         "map MIN..MAX to 0..1 (once for all bands or three times); default: Byte as is, other types a "
         "2-98% stretch")
        ("gsd", po::value<double>()->value_name("METRES"), "working ground sampling distance")
        ("scale", po::value<double>()->value_name("F"), "working grid = native size x F")
        ("long-side", po::value<double>()->value_name("N"), "working grid with its long side N pixels (the paper's 448)");
    return input;
}

geo::SceneReadOptions scene_read_options(const po::variables_map& vm) {
    geo::SceneReadOptions read;
    if (vm.count("band")) read.bands = vm["band"].as<std::vector<int>>();
    const auto ranges = vm.count("scale-range") ? vm["scale-range"].as<std::vector<double>>() : std::vector<double>{};
    if (ranges.size() % 2 != 0) throw UsageError("--scale-range takes two numbers, MIN and MAX");
    for (size_t i = 0; i < ranges.size(); i += 2) read.scale_ranges.emplace_back(ranges[i], ranges[i + 1]);
    const int grids = static_cast<int>(vm.count("gsd") + vm.count("scale") + vm.count("long-side"));
    if (grids > 1) throw UsageError("give only one of --gsd, --scale and --long-side");
    if (vm.count("gsd")) read.grid = {geo::GridMode::gsd, vm["gsd"].as<double>()};
    if (vm.count("scale")) read.grid = {geo::GridMode::scale, vm["scale"].as<double>()};
    if (vm.count("long-side")) read.grid = {geo::GridMode::long_side, vm["long-side"].as<double>()};
    return read;
}

}  // namespace segearth::cli
