#include "cli_options.hpp"

#include "cli_progress.hpp"

#include <segearth/error.hpp>
#include <segearth/geo/gdal_setup.hpp>

#include <boost/program_options.hpp>

#include <cstdlib>
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
        } else if (args[i] == "--progress-lines") {
            set_progress_lines(true);
        } else {
            rest.push_back(args[i]);
        }
    }
    args = std::move(rest);
    return common;
}

void print_usage(const options::CommandInfo& command, bool json) {
    std::cout << (json ? options::usage_json(command) : options::usage_help(command));
}

namespace {

// A word that is no option: it does not start with '-', or it is a (negative) number.
bool looks_like_value(const std::string& word) {
    if (word.empty() || word[0] != '-') return true;
    char* end = nullptr;
    std::strtod(word.c_str(), &end);
    return *end == '\0';
}

}  // namespace

ParsedLine parse_line(const options::CommandInfo& command, std::vector<std::string> args) {
    // GDAL's single-dash long options (-of, -co, -nln ...) in the double-dash form Boost knows.
    for (auto& a : args)
        for (const auto& o : command.options)
            if (o.gdal_style && a == "-" + o.name) a = "--" + o.name;
    // An option taking a fixed number of values (--scale-range MIN MAX) takes the next ones as they
    // are, negative numbers included ("--scale-range -1000 3000"), which Boost would read as options.
    std::vector<std::string> spelled;
    for (size_t i = 0; i < args.size(); ++i) {
        spelled.push_back(args[i]);
        for (const auto& o : command.options) {
            if (o.values_per_use < 2 || args[i] != "--" + o.name) continue;
            spelled.pop_back();
            for (int k = 0; k < o.values_per_use && i + 1 < args.size() && looks_like_value(args[i + 1]); ++k)
                spelled.push_back("--" + o.name + "=" + args[++i]);
            if (spelled.empty() || spelled.back().rfind("--" + o.name + "=", 0) != 0) spelled.push_back(args[i]);
        }
    }
    args = std::move(spelled);

    po::options_description described;
    po::positional_options_description order;
    auto add = described.add_options();
    for (const auto& o : command.options) {
        const std::string spec = o.name + (o.short_name.empty() ? "" : "," + o.short_name);
        if (o.type == options::ValueType::boolean) {
            add(spec.c_str(), "");
            continue;
        }
        auto* value = po::value<std::vector<std::string>>()->composing();
        if (o.values_per_use != 1) value->multitoken();
        add(spec.c_str(), value, "");
        if (o.positional) order.add(o.name.c_str(), 1);
    }
    add("help,h", "")("json-usage", "");

    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(described).positional(order).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        throw UsageError(command.name + ": " + e.what() + " (see segearth " + command.name + " --help)");
    }
    ParsedLine line;
    line.help = vm.count("help") > 0;
    line.json_usage = vm.count("json-usage") > 0;
    for (const auto& o : command.options) {
        if (!vm.count(o.name)) continue;
        if (o.type == options::ValueType::boolean) line.given.push_back({o.name, {}});
        else line.given.push_back({o.name, vm[o.name].as<std::vector<std::string>>()});
    }
    return line;
}

}  // namespace segearth::cli
