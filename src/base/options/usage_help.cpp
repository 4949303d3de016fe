// --help: the synopsis, the description and every option by group, made from the declarations.
#include <segearth/options/option_info.hpp>

#include <sstream>

namespace segearth::options {
namespace {

constexpr size_t help_column = 32, line_width = 100;

// Words of `text` wrapped to the line width, continuation lines indented to `indent`.
std::string wrapped(const std::string& text, size_t first_column, size_t indent) {
    std::istringstream words(text);
    std::string out, word;
    size_t column = first_column;
    bool line_start = true;
    while (words >> word) {
        if (!line_start && column + 1 + word.size() > line_width) {
            out += "\n" + std::string(indent, ' ');
            column = indent;
            line_start = true;
        }
        if (!line_start) {
            out += ' ';
            ++column;
        }
        out += word;
        column += word.size();
        line_start = false;
    }
    return out;
}

std::string flags_column(const OptionInfo& o) {
    std::string text = "  ";
    if (!o.short_name.empty()) text += "-" + o.short_name + ", ";
    text += o.flag();
    if (o.type != ValueType::boolean) text += " " + (o.value_name.empty() ? std::string("VALUE") : o.value_name);
    return text;
}

}  // namespace

std::string usage_help(const CommandInfo& c) {
    std::ostringstream out;
    out << "Usage: segearth " << c.name << " " << c.synopsis << "\n\n" << wrapped(c.description, 0, 0) << "\n";
    std::string group = "\x01";
    for (const auto& o : c.options) {
        if (o.positional) continue;
        if (o.group != group) {
            group = o.group;
            out << "\n" << (group.empty() ? "Options" : group) << ":\n";
        }
        std::string flags = flags_column(o);
        std::string help = o.help;
        if (o.type != ValueType::boolean && o.default_value) help += " [default: " + *o.default_value + "]";
        if (flags.size() + 1 >= help_column) {
            out << flags << "\n" << std::string(help_column, ' ');
        } else {
            out << flags << std::string(help_column - flags.size(), ' ');
        }
        out << wrapped(help, help_column, help_column) << "\n";
    }
    out << "\nCommon options: --config KEY VALUE (GDAL configuration option), -q/--quiet, --progress-lines "
           "(progress as lines 'segearth progress F', for programs), --help, --json-usage (these options as "
           "JSON).\n";
    return out.str();
}

}  // namespace segearth::options
