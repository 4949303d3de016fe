// JSON string literals for the machine-readable outputs (--json-usage, info --json).
#pragma once

#include <string>

namespace segearth {

/// `text` as a JSON string, quotes included; UTF-8 passes through, control characters are escaped.
std::string json_string(const std::string& text);

}  // namespace segearth
