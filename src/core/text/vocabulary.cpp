#include <segearth/core/vocabulary.hpp>

#include <segearth/error.hpp>
#include <segearth/text_file.hpp>


namespace segearth::core {
namespace {

std::string trim(std::string_view s) {
    const auto space = " \t\r\n";
    const auto begin = s.find_first_not_of(space);
    if (begin == std::string_view::npos) return {};
    return std::string(s.substr(begin, s.find_last_not_of(space) - begin + 1));
}

std::vector<std::string> split(std::string_view s, char separator) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
        const auto end = s.find(separator, start);
        parts.push_back(trim(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start)));
        if (end == std::string_view::npos) return parts;
        start = end + 1;
    }
}

// The synonyms of one class; `where` says where the text came from for the error message.
std::vector<std::string> parse_class(std::string_view text, const std::string& where) {
    auto names = split(text, ',');
    for (const auto& name : names)
        if (name.empty())
            throw Error(where + ": empty class name in '" + std::string(text) +
                        "' (separate synonyms with single commas)");
    return names;
}

}  // namespace

Vocabulary Vocabulary::parse(std::string_view spec) {
    Vocabulary v;
    if (trim(spec).empty())
        throw UsageError("the class list is empty: give classes like \"building,roof;water;road\"");
    if (invalid_utf8_at(spec) != std::string_view::npos)
        throw UsageError("the class list is not UTF-8 text: give the class names in UTF-8");
    for (const auto& part : split(spec, ';')) {
        if (part.empty())
            throw UsageError("empty class in \"" + std::string(spec) + "\": separate classes with single ';'");
        try {
            v.classes.push_back(parse_class(part, "class list"));
        } catch (const UsageError&) {
            throw;
        } catch (const Error& e) {
            throw UsageError(e.what());
        }
    }
    return v;
}

Vocabulary Vocabulary::read(const std::filesystem::path& path) {
    std::vector<std::string> lines;
    for (auto& [number, line] : read_text_lines(path.string(), "the class file")) lines.push_back(std::move(line));
    while (!lines.empty() && trim(lines.back()).empty()) lines.pop_back();  // trailing newlines are fine
    Vocabulary v;
    for (size_t i = 0; i < lines.size(); ++i) {
        const auto where = path.string() + ":" + std::to_string(i + 1);
        const auto line = trim(lines[i]);
        if (!line.empty() && line.front() == '#') continue;
        if (line.empty())
            throw FileError(where + ": blank line; every line is one class (synonyms separated by commas): "
                                    "remove the blank line or comment it with '#'");
        try {
            v.classes.push_back(parse_class(line, where));
        } catch (const Error& e) {
            throw FileError(e.what());
        }
    }
    if (v.classes.empty()) throw FileError(path.string() + ": the class file has no classes");
    return v;
}

std::vector<std::string> Vocabulary::query_names() const {
    std::vector<std::string> names;
    for (const auto& c : classes) names.insert(names.end(), c.begin(), c.end());
    return names;
}

std::vector<int64_t> Vocabulary::query_class() const {
    std::vector<int64_t> index;
    for (size_t i = 0; i < classes.size(); ++i) index.insert(index.end(), classes[i].size(), static_cast<int64_t>(i));
    return index;
}

std::vector<std::string> Vocabulary::class_names() const {
    std::vector<std::string> names;
    for (const auto& c : classes) names.push_back(c.front());
    return names;
}

std::vector<std::string> read_templates(const std::filesystem::path& path) {
    std::vector<std::string> templates;
    for (auto [number, line] : read_text_lines(path.string(), "the prompt template file")) {
        line = trim(line);
        if (line.empty()) continue;
        const auto at = line.find("{}");
        if (at == std::string::npos || line.find("{}", at + 2) != std::string::npos)
            throw FileError(path.string() + ":" + std::to_string(number) + ": template '" + line +
                            "' must contain \"{}\" exactly once (where the class name goes)");
        templates.push_back(line);
    }
    if (templates.empty()) throw FileError(path.string() + ": no prompt templates in the file");
    return templates;
}

std::string fill_template(const std::string& prompt_template, const std::string& name) {
    auto text = prompt_template;
    return text.replace(text.find("{}"), 2, name);
}

}  // namespace segearth::core
