#include "cli_options.hpp"

#include <segearth/error.hpp>
#include <segearth/geo/gdal_setup.hpp>

#include <iostream>

namespace po = boost::program_options;

namespace segearth::cli {

CommonOptions take_common_options(std::vector<std::string>& args) {
    CommonOptions common;
    std::vector<std::string> rest;
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--config") {
            if (i + 2 >= args.size())
                throw UsageError("--config needs a KEY and a VALUE, e.g. --config GDAL_CACHEMAX 512");
            geo::set_gdal_config(args[i + 1], args[i + 2]);
            i += 2;
        } else if (args[i] == "-q" || args[i] == "--quiet") {
            common.quiet = true;
        } else {
            rest.push_back(args[i]);
        }
    }
    args = std::move(rest);
    return common;
}

void accept_gdal_style(std::vector<std::string>& args, const std::vector<std::string>& names) {
    for (auto& a : args)
        for (const auto& n : names)
            if (a == "-" + n) a = "--" + n;
}

po::variables_map parse_command_line(const std::string& command, const std::vector<std::string>& args,
                                     const po::options_description& options,
                                     const std::vector<std::string>& positionals) {
    po::options_description hidden;
    po::positional_options_description order;
    for (const auto& name : positionals) {
        if (!options.find_nothrow(name, false)) hidden.add_options()(name.c_str(), po::value<std::string>());
        order.add(name.c_str(), 1);
    }
    po::options_description parsed;
    parsed.add(options).add(hidden);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(parsed).positional(order).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        throw UsageError(command + ": " + e.what() + " (see segearth " + command + " --help)");
    }
    return vm;
}

void print_command_help(const std::string& command, const std::string& synopsis, const std::string& about,
                        const po::options_description& options) {
    std::cout << "Usage: segearth " << command << " " << synopsis << "\n\n" << about << "\n\n" << options
              << "\nCommon options: --config KEY VALUE (GDAL configuration option), -q/--quiet.\n";
}

}  // namespace segearth::cli
