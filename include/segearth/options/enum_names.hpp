// One table of names per enum: what the user types, what metadata records, what --help lists.
//
//   const EnumNames<OutputGrid> names{{OutputGrid::native, "native"}, {OutputGrid::working, "working"}};
//   names.name(OutputGrid::working);          // "working"
//   names.parse("input", "--output-grid");    // UsageError "--output-grid input: use native or working"
#pragma once

#include <segearth/error.hpp>

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace segearth::options {

/// "a", "a or b", "a, b or c".
std::string or_list(const std::vector<std::string>& words);

template <class Enum>
class EnumNames {
public:
    EnumNames(std::initializer_list<std::pair<Enum, const char*>> names) : names_(names) {}

    const char* name(Enum value) const {
        for (const auto& [v, n] : names_)
            if (v == value) return n;
        return "?";
    }
    /// Throws UsageError "FLAG TEXT: use a, b or c" for a name not in the table.
    Enum parse(const std::string& text, const std::string& flag) const {
        for (const auto& [v, n] : names_)
            if (text == n) return v;
        throw UsageError(flag + " " + text + ": use " + or_list(names()));
    }
    std::vector<std::string> names() const {
        std::vector<std::string> all;
        for (const auto& entry : names_) all.emplace_back(entry.second);
        return all;
    }

private:
    std::vector<std::pair<Enum, const char*>> names_;
};

}  // namespace segearth::options
