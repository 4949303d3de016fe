// The one progress convention of the library (GDAL's): a fraction done in [0, 1] and an optional
// message; returning false cancels, and the operation then throws Cancelled after removing its
// unfinished outputs.
#pragma once

#include <functional>
#include <string>

namespace segearth {

using Progress = std::function<bool(double fraction, const std::string& message)>;

/// Calls `progress` (when set) and throws Cancelled when it returns false.
void report(const Progress& progress, double fraction, const std::string& message = {});

/// The part [start, end] of an outer progress: what a step of a longer run reports through.
Progress sub_progress(const Progress& outer, double start, double end);

}  // namespace segearth
