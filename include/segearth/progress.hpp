// The one progress convention of the library (GDAL's): a fraction done in [0, 1] and an optional
// message; returning false cancels, and the operation then throws Cancelled after removing its
// unfinished outputs.
#pragma once

#include <functional>
#include <mutex>
#include <string>

namespace segearth {

using Progress = std::function<bool(double fraction, const std::string& message)>;

/// Calls `progress` (when set) and throws Cancelled when it returns false.
void report(const Progress& progress, double fraction, const std::string& message = {});

/// The part [start, end] of an outer progress: what a step of a longer run reports through.
Progress sub_progress(const Progress& outer, double start, double end);

/// One progress callback for the stages of a pipeline running on several threads: asked one call at
/// a time (callbacks print), and never again once it said no.
class SerialProgress {
public:
    explicit SerialProgress(Progress progress) : progress_(std::move(progress)) {}

    /// Asks at `fraction` (clamped to [0, 1], NaN as 0); false from the first no on.
    bool keep_going(double fraction);
    /// keep_going, throwing Cancelled on a no.
    void check(double fraction);

private:
    Progress progress_;
    std::mutex mutex_;
    bool cancelled_ = false;
};

}  // namespace segearth
