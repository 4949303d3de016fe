// --json-usage: the command's options as JSON, for the QGIS provider and the job generators.
#include <segearth/options/option_info.hpp>

#include <cstdio>
#include <sstream>

namespace segearth::options {
namespace {

std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (const unsigned char c : text) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) {
                    char escaped[8];
                    std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
                    out += escaped;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    return out + "\"";
}

const char* type_name(ValueType t) {
    switch (t) {
        case ValueType::boolean: return "boolean";
        case ValueType::integer: return "integer";
        case ValueType::number: return "number";
        case ValueType::text: return "string";
        case ValueType::integer_list: return "integer_list";
        case ValueType::number_list: return "number_list";
        case ValueType::text_list: return "string_list";
    }
    return "string";
}

// A default as a JSON value of the option's type: numbers and booleans bare, lists as arrays.
std::string json_default(const OptionInfo& o) {
    if (!o.default_value) return "null";
    const std::string& v = *o.default_value;
    switch (o.type) {
        case ValueType::boolean:
        case ValueType::integer:
        case ValueType::number: return v;
        case ValueType::text: return quoted(v);
        default: {
            std::string items;
            std::istringstream words(v);
            for (std::string w; words >> w;)
                items += (items.empty() ? "" : ", ") + (o.type == ValueType::text_list ? quoted(w) : w);
            return "[" + items + "]";
        }
    }
}

std::string option_json(const OptionInfo& o, const std::string& indent) {
    std::ostringstream out;
    out << indent << "{\n";
    const auto field = [&](const char* key, const std::string& value, bool last = false) {
        out << indent << "  " << quoted(key) << ": " << value << (last ? "\n" : ",\n");
    };
    field("name", quoted(o.name));
    field("flag", quoted(o.flag()));
    if (!o.short_name.empty()) field("short_name", quoted("-" + o.short_name));
    field("type", quoted(type_name(o.type)));
    field("required", o.required ? "true" : "false");
    field("repeatable", o.repeatable ? "true" : "false");
    field("values_per_use", std::to_string(o.values_per_use));
    field("default", json_default(o));
    if (!o.choices.empty()) {
        std::string list;
        for (const auto& c : o.choices) list += (list.empty() ? "" : ", ") + quoted(c);
        field("choices", "[" + list + "]");
    }
    if (o.minimum) field(o.minimum_exclusive ? "exclusive_minimum" : "minimum", format_number(*o.minimum));
    if (o.maximum) field(o.maximum_exclusive ? "exclusive_maximum" : "maximum", format_number(*o.maximum));
    if (!o.unit.empty()) field("unit", quoted(o.unit));
    if (!o.value_name.empty()) field("metavar", quoted(o.value_name));
    field("input", o.path == PathRole::input ? "true" : "false");
    field("output", o.path == PathRole::output ? "true" : "false");
    field("group", quoted(o.group));
    field("description", quoted(o.help), true);
    out << indent << "}";
    return out.str();
}

}  // namespace

std::string usage_json(const CommandInfo& c) {
    std::ostringstream out;
    out << "{\n  \"name\": " << quoted(c.name) << ",\n  \"full_path\": [\"segearth\", " << quoted(c.name)
        << "],\n  \"summary\": " << quoted(c.summary) << ",\n  \"synopsis\": " << quoted(c.synopsis)
        << ",\n  \"description\": " << quoted(c.description) << ",\n";
    for (const bool positional : {true, false}) {
        out << "  " << quoted(positional ? "input_output_arguments" : "options") << ": [";
        bool first = true;
        for (const auto& o : c.options) {
            if (o.positional != positional) continue;
            out << (first ? "\n" : ",\n") << option_json(o, "    ");
            first = false;
        }
        out << (first ? "]" : "\n  ]") << (positional ? ",\n" : "\n");
    }
    out << "}\n";
    return out.str();
}

}  // namespace segearth::options
