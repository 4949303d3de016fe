#include <segearth/progress.hpp>

#include <segearth/error.hpp>

namespace segearth {

void report(const Progress& progress, double fraction, const std::string& message) {
    if (progress && !progress(fraction, message)) throw Cancelled();
}

Progress sub_progress(const Progress& outer, double start, double end) {
    if (!outer) return {};
    return [outer, start, end](double fraction, const std::string& message) {
        return outer(start + (end - start) * fraction, message);
    };
}

}  // namespace segearth
