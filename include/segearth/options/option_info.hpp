// What a command and each of its options are, as plain data: the one description that the CLI
// parser, `--help`, validation messages and `--json-usage` (read by the QGIS provider and the job
// generators) are all made from. Tables (option_table.hpp) build these next to the options struct
// they fill.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace segearth::options {

enum class ValueType { boolean, integer, number, text, integer_list, number_list, text_list };

/// Whether the value names a file (or folder) the command reads or writes: the QGIS provider turns
/// these into file widgets, the output-safety rules compare them.
enum class PathRole { none, input, output };

/// What such a path names: a dataset GDAL opens as a raster or as vectors, a folder, or another file
/// (weights, a text list, a PNG, a CSV). The QGIS provider picks its layer, folder or file widget by it.
enum class FileKind { file, raster, vector, folder };

struct OptionInfo {
    std::string name;          ///< the one spelling, without dashes: "cls-lambda" is typed --cls-lambda
    std::string short_name;    ///< "b": also typed -b
    bool gdal_style = false;   ///< typed with one dash, as in GDAL's own tools (-of, -co, -nln, -t_srs)
    bool positional = false;   ///< an argument without a flag (INPUT, OUTPUT), in declaration order
    bool required = false;
    ValueType type = ValueType::text;
    int values_per_use = 1;    ///< --scale-range MIN MAX: 2; 0: one or more (--images A B C)
    bool repeatable = false;   ///< may be given more than once
    std::string value_name;    ///< "PATH", "M2": what --help shows after the flag
    std::string unit;          ///< "m", "m2", "MB", "px" (empty: none)
    std::vector<std::string> choices;
    std::optional<double> minimum, maximum;
    bool minimum_exclusive = false, maximum_exclusive = false;
    std::optional<std::string> default_value;  ///< as it would be typed; none: unset (see help)
    PathRole path = PathRole::none;
    FileKind file_kind = FileKind::file;  ///< with a path role
    std::string help, group;

    /// How users type it and how messages name it: "--cls-lambda", "-of", or a positional's NAME.
    std::string flag() const;
};

struct CommandInfo {
    std::string name, summary, synopsis, description;
    std::vector<OptionInfo> options;  ///< positionals included, in their order
};

/// The command as a JSON document (GDAL 3.11's `--json-usage` convention): name, description,
/// positional arguments and options with type, default, choices, range, unit, help, group and
/// whether it names an input or output file.
std::string usage_json(const CommandInfo& command);

/// `segearth NAME --help`: synopsis, description and the options by group, each with its default.
std::string usage_help(const CommandInfo& command);

/// Shortest text that reads back as exactly `value` ("-0.3", "0.001", "50").
std::string format_number(double value);

}  // namespace segearth::options
