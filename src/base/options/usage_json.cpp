// --json-usage: the command's options as JSON, for the QGIS provider and the job generators.
#include <segearth/options/option_info.hpp>

#include <segearth/json_text.hpp>

#include <cstdio>
#include <sstream>

namespace segearth::options {
namespace {

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
        case ValueType::text: return json_string(v);
        default: {
            std::string items;
            std::istringstream words(v);
            for (std::string w; words >> w;)
                items += (items.empty() ? "" : ", ") + (o.type == ValueType::text_list ? json_string(w) : w);
            return "[" + items + "]";
        }
    }
}

std::string option_json(const OptionInfo& o, const std::string& indent) {
    std::ostringstream out;
    out << indent << "{\n";
    const auto field = [&](const char* key, const std::string& value, bool last = false) {
        out << indent << "  " << json_string(key) << ": " << value << (last ? "\n" : ",\n");
    };
    field("name", json_string(o.name));
    field("flag", json_string(o.flag()));
    if (!o.short_name.empty()) field("short_name", json_string("-" + o.short_name));
    field("type", json_string(type_name(o.type)));
    field("required", o.required ? "true" : "false");
    field("repeatable", o.repeatable ? "true" : "false");
    field("values_per_use", std::to_string(o.values_per_use));
    field("default", json_default(o));
    if (!o.choices.empty()) {
        std::string list;
        for (const auto& c : o.choices) list += (list.empty() ? "" : ", ") + json_string(c);
        field("choices", "[" + list + "]");
    }
    if (o.minimum) field(o.minimum_exclusive ? "exclusive_minimum" : "minimum", format_number(*o.minimum));
    if (o.maximum) field(o.maximum_exclusive ? "exclusive_maximum" : "maximum", format_number(*o.maximum));
    if (!o.unit.empty()) field("unit", json_string(o.unit));
    if (!o.value_name.empty()) field("metavar", json_string(o.value_name));
    field("input", o.path == PathRole::input ? "true" : "false");
    field("output", o.path == PathRole::output ? "true" : "false");
    if (o.path != PathRole::none) {
        static const char* const kinds[] = {"file", "raster", "vector", "folder"};
        field("file_kind", json_string(kinds[static_cast<int>(o.file_kind)]));
    }
    field("group", json_string(o.group));
    field("description", json_string(o.help), true);
    out << indent << "}";
    return out.str();
}

}  // namespace

std::string usage_json(const CommandInfo& c) {
    std::ostringstream out;
    out << "{\n  \"name\": " << json_string(c.name) << ",\n  \"full_path\": [\"segearth\", " << json_string(c.name)
        << "],\n  \"summary\": " << json_string(c.summary) << ",\n  \"synopsis\": " << json_string(c.synopsis)
        << ",\n  \"description\": " << json_string(c.description) << ",\n";
    for (const bool positional : {true, false}) {
        out << "  " << json_string(positional ? "input_output_arguments" : "options") << ": [";
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
