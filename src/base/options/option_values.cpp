// Option values: text to numbers and back, and the generic range messages.
#include <segearth/options/option_table.hpp>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace segearth::options {

std::string OptionInfo::flag() const {
    if (positional) {
        std::string upper = value_name.empty() ? name : value_name;
        return upper;
    }
    return (gdal_style ? "-" : "--") + name;
}

std::string or_list(const std::vector<std::string>& words) {
    std::string text;
    for (size_t i = 0; i < words.size(); ++i)
        text += (i == 0 ? "" : i + 1 == words.size() ? " or " : ", ") + words[i];
    return text;
}

std::string format_number(double value) {
    // The fewest significant digits that read back exactly, in plain notation unless the number is
    // very small or large ("50", not "5e+01").
    char text[40];
    for (int precision = 1; precision <= 17; ++precision) {
        std::snprintf(text, sizeof text, "%.*g", precision, value);
        const char* e = std::strchr(text, 'e');
        const bool plain_would_do = e && std::atoi(e + 1) >= -4 && std::atoi(e + 1) < 16;
        if (std::strtod(text, nullptr) == value && !plain_would_do) break;
    }
    return text;
}

int64_t parse_integer(const std::string& text, const std::string& flag) {
    errno = 0;
    char* end = nullptr;
    const long long value = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || errno == ERANGE)
        throw UsageError(flag + " " + text + ": not a whole number");
    return value;
}

double parse_number(const std::string& text, const std::string& flag) {
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0') throw UsageError(flag + " " + text + ": not a number");
    return value;
}

namespace {

std::string bound(double v) { return format_number(v); }

std::string generic_range_message(const OptionInfo& o) {
    const std::string flag = o.flag();
    if (o.minimum && o.maximum)
        return flag + " must be in " + (o.minimum_exclusive ? "(" : "[") + bound(*o.minimum) + ", " + bound(*o.maximum) +
               (o.maximum_exclusive ? ")" : "]");
    if (o.minimum) {
        if (*o.minimum == 0) return flag + (o.minimum_exclusive ? " must be positive" : " must not be negative");
        return flag + (o.minimum_exclusive ? " must be greater than " : " must be at least ") + bound(*o.minimum);
    }
    return flag + (o.maximum_exclusive ? " must be less than " : " must be at most ") + bound(*o.maximum);
}

}  // namespace

void check_range(const OptionInfo& o, const std::string& message, double value) {
    if (!std::isfinite(value)) throw UsageError(o.flag() + " " + format_number(value) + ": give a finite number");
    const bool low = o.minimum && (o.minimum_exclusive ? !(value > *o.minimum) : !(value >= *o.minimum));
    const bool high = o.maximum && (o.maximum_exclusive ? !(value < *o.maximum) : !(value <= *o.maximum));
    if (!low && !high) return;
    if (message.empty()) throw UsageError(generic_range_message(o));
    std::string text = message;
    if (const auto at = text.find("{}"); at != std::string::npos) text.replace(at, 2, format_number(value));
    throw UsageError(text);
}

void check_single_use(const OptionInfo& o, const std::vector<std::string>& values) {
    if (o.repeatable || o.type == ValueType::boolean || o.values_per_use < 1) return;
    if (values.size() > static_cast<size_t>(o.values_per_use))
        throw UsageError(o.flag() + " is given more than once: give it once");
}

}  // namespace segearth::options
