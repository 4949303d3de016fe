// Batch mode of segment and merge (--inputs LIST|DIR|GLOB --output-dir DIR): which scenes, and what
// each one's outputs are called. The options are declared once here and included by both commands.
//
//   BatchNaming b;
//   b.inputs = {"scenes/"}; b.output_dir = "maps";            // output name "{stem}_classes.tif"
//   for (const auto& scene : list_batch_scenes(b, {}, notes)) // maps/koeln_classes.tif for scenes/koeln.tif
#pragma once

#include <segearth/options/option_table.hpp>

#include <string>
#include <utility>
#include <vector>

namespace segearth::pipeline {

struct BatchNaming {
    std::vector<std::string> inputs;  ///< raster files, folders of them, list files, quoted patterns
    std::string output_dir;
    std::string output_name = "{stem}_classes.tif";  ///< the class raster's name, in output_dir
    bool fail_fast = false;  ///< stop at the first scene that fails (else report it and go on)
    bool active() const { return !inputs.empty() || !output_dir.empty(); }
};

const options::OptionTable<BatchNaming>& batch_naming_option_table();

/// --inputs and --output-dir together, and an --output-name that tells the scenes apart.
void validate(const BatchNaming& naming);

/// A name template with the scene's {stem} (file name without extension), {name} (with it) and
/// {parent} (its folder's name) put in, inside output_dir. Throws UsageError naming `flag` for a
/// template without a placeholder (every scene would write the same file) or an unknown one.
std::string expand_output_name(const BatchNaming& naming, const std::string& pattern, const std::string& flag,
                               const std::string& input);

struct BatchScene {
    std::string input;
    std::vector<std::string> outputs;  ///< the class raster, then one per template given, in order
};

/// The scenes of --inputs in order, with their outputs named by --output-name and `templates`
/// ({flag, template} of the other outputs, e.g. {"--vector", "{stem}.gpkg"}). Left out, and said in
/// `notes`: segearth's own outputs (rasters with SEGEARTH_* metadata, shard files) and vector files,
/// which a rerun into the scenes' own folder would otherwise take for scenes, and this batch's outputs.
/// Throws UsageError when two scenes would write the same file.
std::vector<BatchScene> list_batch_scenes(const BatchNaming& naming,
                                          const std::vector<std::pair<std::string, std::string>>& templates,
                                          std::string& notes);

}  // namespace segearth::pipeline
