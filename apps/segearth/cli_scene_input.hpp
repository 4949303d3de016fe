// The input options segment and train share: which bands, how values map to [0, 1], and the working
// grid the model sees.
#pragma once

#include <segearth/geo/scene_reader.hpp>

#include <boost/program_options.hpp>

namespace segearth::cli {

/// -b/--band, --scale-range, --gsd, --scale, --long-side.
boost::program_options::options_description scene_input_options();

/// Reads them back; throws UsageError for an odd --scale-range or more than one grid option.
geo::SceneReadOptions scene_read_options(const boost::program_options::variables_map& vm);

}  // namespace segearth::cli
