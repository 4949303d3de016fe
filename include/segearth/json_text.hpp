// Text fields of the machine-readable outputs: JSON string literals (--json-usage, info --json) and
// CSV fields (eval-dataset --csv, the batch summary).
#pragma once

#include <string>

namespace segearth {

/// `text` as a JSON string, quotes included; UTF-8 passes through, control characters are escaped.
std::string json_string(const std::string& text);

/// `text` as one CSV field (RFC 4180): quoted, with quotes doubled, when it holds a comma, quote or line end.
std::string csv_field(const std::string& text);

}  // namespace segearth
