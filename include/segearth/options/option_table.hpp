// Each command's options declared once, next to the options struct they fill (the model: GDAL's
// GDALTranslateOptionsNew(argv) and PDAL's addArgs()). One declaration gives the CLI parser, --help,
// the range and choice checks that the library's own validate() runs, and --json-usage.
//
//   OptionTable<VectorizeOptions> t;
//   t.group("Clean-up");
//   t.number("min-area", &VectorizeOptions::min_area_m2).value_name("M2").unit("m2").at_least(0)
//       .help("drop polygons smaller than M2 square metres");
//   t.check(options);   // UsageError "--min-area must not be negative" for -1, as the CLI user gets it
//
// Defaults are the struct's member initialisers: --help and --json-usage read them from T{}.
#pragma once

#include <segearth/error.hpp>
#include <segearth/options/enum_names.hpp>
#include <segearth/options/option_info.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace segearth::options {

// The non-template half: text to values, values to text, the generic checks and their messages.
int64_t parse_integer(const std::string& text, const std::string& flag);
double parse_number(const std::string& text, const std::string& flag);  ///< finite or not; check() decides
/// Throws UsageError when `value` is outside the declared range (or not finite): `message` (with "{}"
/// replaced by the value as typed) when given, else a generic one ("--batch must be at least 1").
void check_range(const OptionInfo& info, const std::string& message, double value);
/// Throws UsageError "FLAG given more than once" unless the option is repeatable.
void check_single_use(const OptionInfo& info, const std::vector<std::string>& values);

/// What the converters call the option in their messages; assign() puts the flag in its place.
inline constexpr const char* self = "{option}";

template <class T>
class OptionTable {
public:
    struct Entry {
        OptionInfo info;
        std::function<void(T&, const std::vector<std::string>&)> assign;  ///< every value given, in order
        std::function<std::optional<std::string>(const T&)> show;         ///< the value as typed; none: unset
        std::function<void(const T&, const OptionInfo&, const std::string&)> check;  ///< throws UsageError
        std::string message;  ///< replaces the generic range message; "{}" is the value
    };

    /// Refines the option just declared.
    class Declaration {
    public:
        explicit Declaration(Entry& e) : e_(e) {}
        Declaration& short_name(std::string s) { return set(e_.info.short_name, std::move(s)); }
        Declaration& gdal_style() { return set(e_.info.gdal_style, true); }
        Declaration& positional() { return set(e_.info.positional, true); }
        Declaration& required() { return set(e_.info.required, true); }
        Declaration& value_name(std::string s) { return set(e_.info.value_name, std::move(s)); }
        Declaration& unit(std::string s) { return set(e_.info.unit, std::move(s)); }
        Declaration& help(std::string s) { return set(e_.info.help, std::move(s)); }
        Declaration& repeatable() { return set(e_.info.repeatable, true); }
        Declaration& values_per_use(int n) { return set(e_.info.values_per_use, n); }
        Declaration& input_path(FileKind kind = FileKind::file) {
            e_.info.file_kind = kind;
            return set(e_.info.path, PathRole::input);
        }
        Declaration& output_path(FileKind kind = FileKind::file) {
            e_.info.file_kind = kind;
            return set(e_.info.path, PathRole::output);
        }
        Declaration& at_least(double v) { e_.info.minimum_exclusive = false; return set(e_.info.minimum, v); }
        Declaration& above(double v) { e_.info.minimum_exclusive = true; return set(e_.info.minimum, v); }
        Declaration& at_most(double v) { e_.info.maximum_exclusive = false; return set(e_.info.maximum, v); }
        Declaration& below(double v) { e_.info.maximum_exclusive = true; return set(e_.info.maximum, v); }
        Declaration& choices(std::vector<std::string> c) { return set(e_.info.choices, std::move(c)); }
        /// The message for a value out of range, instead of the generic one; "{}" is the value.
        Declaration& message(std::string m) { return set(e_.message, std::move(m)); }

    private:
        template <class F, class V>
        Declaration& set(F& field, V&& value) {
            field = std::forward<V>(value);
            return *this;
        }
        Entry& e_;
    };

    /// Options declared from here on belong to this --help group.
    void group(std::string name) { group_ = std::move(name); }

    /// A switch: present sets the bool field to `when_given`.
    template <class Access>
    Declaration flag(std::string name, Access access, bool when_given = true) {
        return add(std::move(name), ValueType::boolean,
                   [access, when_given](T& o, const std::vector<std::string>&) { std::invoke(access, o) = when_given; },
                   [access](const T& o) -> std::optional<std::string> {
                       return std::invoke(access, o) ? "true" : "false";
                   }, {});
    }

    /// An integer field (int, int64_t, uint64_t or std::optional of one).
    template <class Access>
    Declaration integer(std::string name, Access access) {
        using Field = std::decay_t<decltype(std::invoke(access, std::declval<T&>()))>;
        using Value = typename Unwrap<Field>::type;
        return add(std::move(name), ValueType::integer,
                   [access](T& o, const std::vector<std::string>& v) {
                       const int64_t value = parse_integer(v.back(), self);
                       // An unsigned field would wrap a negative value past any range check.
                       if (std::is_unsigned_v<Value> && value < 0)
                           throw UsageError(std::string(self) + " must not be negative");
                       std::invoke(access, o) = static_cast<Value>(value);
                   },
                   [access](const T& o) -> std::optional<std::string> {
                       const auto* value = Unwrap<Field>::get(std::invoke(access, o));
                       if (!value) return std::nullopt;
                       return std::to_string(*value);
                   },
                   [access](const T& o, const OptionInfo& info, const std::string& message) {
                       if (const auto* value = Unwrap<Field>::get(std::invoke(access, o)))
                           check_range(info, message, static_cast<double>(*value));
                   });
    }

    /// A floating-point field (double or std::optional<double>); must be finite.
    template <class Access>
    Declaration number(std::string name, Access access) {
        using Field = std::decay_t<decltype(std::invoke(access, std::declval<T&>()))>;
        return add(std::move(name), ValueType::number,
                   [access](T& o, const std::vector<std::string>& v) {
                       std::invoke(access, o) = parse_number(v.back(), self);
                   },
                   [access](const T& o) -> std::optional<std::string> {
                       const auto* value = Unwrap<Field>::get(std::invoke(access, o));
                       if (!value) return std::nullopt;
                       return format_number(*value);
                   },
                   [access](const T& o, const OptionInfo& info, const std::string& message) {
                       if (const auto* value = Unwrap<Field>::get(std::invoke(access, o)))
                           check_range(info, message, *value);
                   });
    }

    /// A text field; an empty text is "not given".
    template <class Access>
    Declaration text(std::string name, Access access) {
        return add(std::move(name), ValueType::text,
                   [access](T& o, const std::vector<std::string>& v) { std::invoke(access, o) = v.back(); },
                   [access](const T& o) -> std::optional<std::string> {
                       const std::string& value = std::invoke(access, o);
                       if (value.empty()) return std::nullopt;
                       return value;
                   }, {});
    }

    /// A list of texts, one value per use (-co A=1 -co B=2) or several (--images A B).
    template <class Access>
    Declaration texts(std::string name, Access access) {
        auto d = add(std::move(name), ValueType::text_list,
                     [access](T& o, const std::vector<std::string>& v) { std::invoke(access, o) = v; },
                     [access](const T& o) { return join(std::invoke(access, o)); }, {});
        return d.repeatable();
    }

    /// A list of integers, one per use (-b 3 -b 2 -b 1).
    template <class Access>
    Declaration integers(std::string name, Access access) {
        auto d = add(std::move(name), ValueType::integer_list,
                     [access](T& o, const std::vector<std::string>& v) {
                         auto& field = std::invoke(access, o);
                         field.clear();
                         for (const auto& text : v)
                             field.push_back(static_cast<typename std::decay_t<decltype(field)>::value_type>(
                                 parse_integer(text, self)));
                     },
                     [access](const T& o) {
                         std::vector<std::string> texts;
                         for (const auto value : std::invoke(access, o)) texts.push_back(std::to_string(value));
                         return join(texts);
                     },
                     [access](const T& o, const OptionInfo& info, const std::string& message) {
                         for (const auto value : std::invoke(access, o))
                             check_range(info, message, static_cast<double>(value));
                     });
        return d.repeatable();
    }

    /// An enum field, typed by its names.
    template <class Enum, class Access>
    Declaration choice(std::string name, Access access, const EnumNames<Enum>& names) {
        auto d = add(std::move(name), ValueType::text,
                     [access, names](T& o, const std::vector<std::string>& v) {
                         std::invoke(access, o) = names.parse(v.back(), self);
                     },
                     [access, names](const T& o) -> std::optional<std::string> {
                         return std::string(names.name(std::invoke(access, o)));
                     }, {});
        return d.choices(names.names());
    }

    /// Anything else (a pair of numbers, a value with its own syntax): the caller converts.
    Declaration custom(std::string name, ValueType type, std::function<void(T&, const std::vector<std::string>&)> assign,
                       std::function<std::optional<std::string>(const T&)> show) {
        return add(std::move(name), type, std::move(assign), std::move(show), {});
    }

    /// Another table's options, for the struct member `access` reaches (the scene input options of
    /// segment and train).
    template <class U, class Access>
    void include(const OptionTable<U>& other, Access access) {
        for (const auto& e : other.entries()) {
            Entry mine{e.info, {}, {}, {}, e.message};
            mine.assign = [a = e.assign, access](T& o, const std::vector<std::string>& v) { a(std::invoke(access, o), v); };
            mine.show = [s = e.show, access](const T& o) { return s(std::invoke(access, o)); };
            if (e.check)
                mine.check = [c = e.check, access](const T& o, const OptionInfo& info, const std::string& m) {
                    c(std::invoke(access, o), info, m);
                };
            entries_.push_back(std::move(mine));
        }
    }

    /// Sets the options given on a command line: (name, values) pairs, each option once with all the
    /// values of all its uses. Throws UsageError for a value that does not parse.
    void assign(T& options, const std::vector<std::pair<std::string, std::vector<std::string>>>& given) const {
        for (const auto& [name, values] : given) {
            const Entry& e = entry(name);
            check_single_use(e.info, values);
            try {
                e.assign(options, values);
            } catch (const UsageError& error) {
                // The converters name the option `self`; the message names it as the user types it.
                std::string text = error.what();
                for (auto at = text.find(self); at != std::string::npos; at = text.find(self))
                    text.replace(at, std::string(self).size(), e.info.flag());
                throw UsageError(text);
            }
        }
    }

    /// The declared ranges and finiteness, on the values in `options`: what the library's validate()
    /// runs first, so that a program gets the CLI user's messages.
    void check(const T& options) const {
        for (const auto& e : entries_)
            if (e.check) e.check(options, e.info, e.message);
    }

    /// The options set in `options` as "--name=value " text, in declaration order, without those named
    /// in `skip`: what made a result, for records that must match on a rerun (caches, shard manifests).
    std::string values_text(const T& options, const std::vector<std::string>& skip = {}) const {
        std::string text;
        for (const auto& e : entries_) {
            if (std::find(skip.begin(), skip.end(), e.info.name) != skip.end()) continue;
            if (const auto value = e.show(options)) text += "--" + e.info.name + "=" + *value + " ";
        }
        return text;
    }

    /// The options as plain descriptions, with their defaults read from T{}.
    std::vector<OptionInfo> describe() const {
        const T defaults{};
        std::vector<OptionInfo> out;
        for (const auto& e : entries_) {
            out.push_back(e.info);
            out.back().default_value = e.show(defaults);
        }
        return out;
    }

    const std::vector<Entry>& entries() const { return entries_; }
    const Entry& entry(const std::string& name) const {
        for (const auto& e : entries_)
            if (e.info.name == name) return e;
        throw Error("internal error: no option '" + name + "' in the table");
    }

private:
    template <class V>
    struct Unwrap {
        using type = V;
        static const V* get(const V& v) { return &v; }
    };
    template <class V>
    struct Unwrap<std::optional<V>> {
        using type = V;
        static const V* get(const std::optional<V>& v) { return v ? &*v : nullptr; }
    };

    static std::optional<std::string> join(const std::vector<std::string>& values) {
        if (values.empty()) return std::nullopt;
        std::string text;
        for (const auto& v : values) text += (text.empty() ? "" : " ") + v;
        return text;
    }

    Declaration add(std::string name, ValueType type, std::function<void(T&, const std::vector<std::string>&)> assign,
                    std::function<std::optional<std::string>(const T&)> show,
                    std::function<void(const T&, const OptionInfo&, const std::string&)> check) {
        Entry e;
        e.info.name = std::move(name);
        e.info.type = type;
        e.info.group = group_;
        e.assign = std::move(assign);
        e.show = std::move(show);
        e.check = std::move(check);
        entries_.push_back(std::move(e));
        return Declaration(entries_.back());
    }

    std::vector<Entry> entries_;
    std::string group_;
};

/// A command of the library: its texts and its options table.
template <class T>
struct Command {
    std::string name, summary, synopsis, description;
    OptionTable<T> options;

    CommandInfo info() const { return {name, summary, synopsis, description, options.describe()}; }
};

}  // namespace segearth::options
