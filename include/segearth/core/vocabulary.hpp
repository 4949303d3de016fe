// What the user asks for: an ordered list of classes, each with one or more names (synonyms).
//
//   auto v = Vocabulary::parse("building,roof,house;water;road");
//   v.query_names();   // {"building", "roof", "house", "water", "road"}
//   v.query_class();   // {0, 0, 0, 1, 2}
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace segearth::core {

struct Vocabulary {
    std::vector<std::vector<std::string>> classes;

    /// "a,b;c;d": classes separated by ';', synonyms by ','. Throws UsageError on an empty class list
    /// or an empty name, quoting the spec.
    static Vocabulary parse(std::string_view spec);
    /// One class per line, synonyms separated by commas, '#' starts a comment line. Throws FileError
    /// naming the file and line for a blank line or an empty name.
    static Vocabulary read(const std::filesystem::path& path);

    std::vector<std::string> query_names() const;
    std::vector<int64_t> query_class() const;
    /// Each class's first name.
    std::vector<std::string> class_names() const;
};

/// The prompt templates ("a photo of a {}.", one per line). Each must contain "{}" once.
std::vector<std::string> read_templates(const std::filesystem::path& path);

/// A template with "{}" replaced by the name.
std::string fill_template(const std::string& prompt_template, const std::string& name);

}  // namespace segearth::core
