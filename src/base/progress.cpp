#include <segearth/progress.hpp>

#include <segearth/error.hpp>

#include <algorithm>

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

bool SerialProgress::keep_going(double fraction) {
    const std::lock_guard<std::mutex> lock(mutex_);
    const double within = fraction > 0 ? std::min(fraction, 1.0) : 0.0;  // NaN (0 of 0 done) too
    cancelled_ = cancelled_ || (progress_ && !progress_(within, ""));
    return !cancelled_;
}

void SerialProgress::check(double fraction) {
    if (!keep_going(fraction)) throw Cancelled();
}

}  // namespace segearth
