// Option handling every subcommand shares, in GDAL's conventions.
#pragma once

#include <boost/program_options.hpp>

#include <string>
#include <vector>

namespace segearth::cli {

/// Options common to all commands, taken out of the argument list before the command parses it.
struct CommonOptions {
    bool quiet = false;
};

/// Removes and applies `--config KEY VALUE` (a GDAL configuration option, repeatable) and `-q` /
/// `--quiet`. Throws UsageError for a --config without both values.
CommonOptions take_common_options(std::vector<std::string>& args);

/// Rewrites GDAL's single-dash long options (-of, -co, -nln...) to the double-dash form the parser
/// knows, so that users can type them as in GDAL's own tools.
void accept_gdal_style(std::vector<std::string>& args, const std::vector<std::string>& names);

/// Parses `args` against the command's options; `positionals` names the positional arguments in
/// order (each taken once). Those not declared in `options` are parsed as hidden string values, so
/// help lists only the options. Wraps Boost's errors in UsageError naming the command and pointing
/// at its --help.
boost::program_options::variables_map parse_command_line(const std::string& command,
                                                         const std::vector<std::string>& args,
                                                         const boost::program_options::options_description& options,
                                                         const std::vector<std::string>& positionals);

/// "Usage: segearth <command> <synopsis>" followed by the options' own descriptions.
void print_command_help(const std::string& command, const std::string& synopsis, const std::string& about,
                        const boost::program_options::options_description& options);

}  // namespace segearth::cli
