// The one rule every command applies to its outputs before any work: no output (nor a companion it
// writes beside itself: NAME.aux.xml, NAME.resume.safetensors, ...) may be one of the run's inputs,
// however the two paths are spelled (symlinks, "..", hard links). Writing over an input is how a
// typo destroys a user's data: `train --images s.tif --out s.tif --overwrite`.
//
//   refuse_outputs_onto_inputs({{"--out", out}, {"the checkpoint", checkpoint}},
//                              {{"--clip", clip}, {"--images", image}});
#pragma once

#include <string>
#include <vector>

namespace segearth {

/// A path and how the user named it ("--out", "OUTPUT", "--images").
struct NamedPath {
    std::string what, path;
};

/// True when `a` and `b` are one file: the same file now (hard links included), or the same
/// location once symlinks and ".." are resolved (for paths not yet existing).
bool same_file(const std::string& a, const std::string& b);

/// Throws UsageError "WHAT PATH is the run's input (INPUT_WHAT INPUT_PATH): choose another output
/// name" for the first output that is one of the inputs, and "PATH is given as two different
/// outputs" when two outputs are one file. Empty paths are skipped.
void refuse_outputs_onto_inputs(const std::vector<NamedPath>& outputs, const std::vector<NamedPath>& inputs);

}  // namespace segearth
