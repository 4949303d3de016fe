// The command line, made from the library's declaration of each command (options::Command): GDAL's
// conventions (single-dash -of, -co ...; --config KEY VALUE; -q), Boost.Program_options for the
// parsing, and --help / --json-usage printed from the same declaration.
#pragma once

#include <segearth/options/option_table.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace segearth::cli {

/// Options common to all commands, taken out of the argument list before the command parses it.
struct CommonOptions {
    bool quiet = false;
};

/// Removes and applies `--config KEY VALUE` (a GDAL configuration option, repeatable), `-q` /
/// `--quiet` and `--progress-lines` (cli_progress.hpp). Throws UsageError for a --config without both
/// values.
CommonOptions take_common_options(std::vector<std::string>& args);

/// What a command line said: help or JSON usage asked for, or the options given with their values.
struct ParsedLine {
    bool help = false, json_usage = false;
    std::vector<std::pair<std::string, std::vector<std::string>>> given;
};

/// Parses `args` against the command's options. Wraps Boost's errors in UsageError naming the
/// command and pointing at its --help.
ParsedLine parse_line(const options::CommandInfo& command, std::vector<std::string> args);

/// --help (text) or --json-usage (JSON) on standard output.
void print_usage(const options::CommandInfo& command, bool json);

/// The command's options from `args`, or nothing when --help or --json-usage was printed instead.
template <class Options>
std::optional<Options> parse_command(const options::Command<Options>& command, std::vector<std::string> args,
                                     CommonOptions& common) {
    common = take_common_options(args);
    const auto info = command.info();
    const auto line = parse_line(info, std::move(args));
    if (line.help || line.json_usage) {
        print_usage(info, line.json_usage);
        return std::nullopt;
    }
    Options options;
    command.options.assign(options, line.given);
    return options;
}

}  // namespace segearth::cli
