// The scores of a confusion matrix (private header of eval).
#pragma once

#include <segearth/geo/evaluate.hpp>

#include <string>
#include <vector>

namespace segearth::geo {

/// Fills r.classes, r.miou, r.pixel_accuracy, r.scored_pixels and (two classes) r.foreground_iou
/// from r.confusion, whose rows and columns are the classes `names`.
void score(EvaluationReport& r, const std::vector<std::string>& names, int background);

}  // namespace segearth::geo
