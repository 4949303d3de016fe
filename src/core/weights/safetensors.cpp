// safetensors (huggingface/safetensors, docs "Format"): an 8-byte little-endian header length N,
// N bytes of UTF-8 JSON {"name": {"dtype": "F16", "shape": [..], "data_offsets": [begin, end]},
// "__metadata__": {"key": "value"}} padded with spaces, then the data; offsets count from the
// first byte after the header. The JSON parser below knows only what such a header may hold.
#include "weights/safetensors.hpp"

#include "utf8.hpp"

#include <segearth/error.hpp>
#include <segearth/temporary_output.hpp>
#include <segearth/write_error.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <utility>
#include <vector>

namespace segearth::core {
namespace {

// The reference implementation refuses headers over 100 MB; a real one is a few hundred KB.
constexpr std::uint64_t max_header_size = 100'000'000;
constexpr int max_json_depth = 16;

struct DtypeName {
    const char* name;
    c10::ScalarType dtype;
};
constexpr DtypeName dtype_names[] = {
    {"F64", c10::ScalarType::Double}, {"F32", c10::ScalarType::Float},  {"F16", c10::ScalarType::Half},
    {"BF16", c10::ScalarType::BFloat16}, {"I64", c10::ScalarType::Long}, {"I32", c10::ScalarType::Int},
    {"I16", c10::ScalarType::Short},  {"I8", c10::ScalarType::Char},    {"U8", c10::ScalarType::Byte},
    {"BOOL", c10::ScalarType::Bool},
};

struct Json {
    enum class Type { null, boolean, number, string, array, object };
    Type type = Type::null;
    bool is_uint = false;  ///< a number without sign, fraction or exponent that fits 64 bits
    std::uint64_t uint = 0;
    std::string string;
    std::vector<Json> array;
    std::vector<std::pair<std::string, Json>> object;
};

// Recursive descent over the header text; positions in errors are file offsets (header + 8).
class JsonParser {
public:
    JsonParser(const std::filesystem::path& path, const std::string& text) : path_(path), text_(text) {}

    Json parse_document() {
        Json value = parse_value(0);
        skip_space();
        if (pos_ != text_.size()) fail("unexpected text after the header object");
        return value;
    }

private:
    [[noreturn]] void fail(const std::string& problem) const {
        throw FileError(path_.string() + ": corrupt safetensors header at byte " + std::to_string(pos_ + 8) + ": " + problem);
    }
    void skip_space() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
            ++pos_;
    }
    bool consume(char c) {
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    void expect(char c) {
        if (!consume(c)) fail(std::string("expected '") + c + "'");
    }
    bool consume_word(const char* word) {
        std::size_t n = std::char_traits<char>::length(word);
        if (text_.compare(pos_, n, word) != 0) return false;
        pos_ += n;
        return true;
    }

    Json parse_value(int depth) {
        if (depth > max_json_depth) fail("nesting deeper than " + std::to_string(max_json_depth) + " levels");
        skip_space();
        if (pos_ >= text_.size()) fail("the header ends too early");
        Json value;
        char c = text_[pos_];
        if (c == '{') {
            ++pos_;
            value.type = Json::Type::object;
            if (consume('}')) return value;
            do {
                skip_space();
                std::string key = parse_string();
                expect(':');
                value.object.emplace_back(std::move(key), parse_value(depth + 1));
            } while (consume(','));
            expect('}');
        } else if (c == '[') {
            ++pos_;
            value.type = Json::Type::array;
            if (consume(']')) return value;
            do value.array.push_back(parse_value(depth + 1));
            while (consume(','));
            expect(']');
        } else if (c == '"') {
            value.type = Json::Type::string;
            value.string = parse_string();
        } else if (consume_word("true") || consume_word("false")) {
            value.type = Json::Type::boolean;
        } else if (consume_word("null")) {
            value.type = Json::Type::null;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            value = parse_number();
        } else {
            fail(std::string("unexpected character '") + c + "'");
        }
        return value;
    }

    Json parse_number() {
        Json value;
        value.type = Json::Type::number;
        bool plain = text_[pos_] != '-';
        if (!plain) ++pos_;
        std::size_t digits = pos_;
        bool overflow = false;
        while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
            overflow |= __builtin_mul_overflow(value.uint, 10u, &value.uint);
            overflow |= __builtin_add_overflow(value.uint, static_cast<unsigned>(text_[pos_] - '0'), &value.uint);
            ++pos_;
        }
        if (pos_ == digits) fail("a number without digits");
        if (text_[digits] == '0' && pos_ - digits > 1) fail("a number with a leading zero");
        if (pos_ < text_.size() && text_[pos_] == '.') {
            plain = false;
            ++pos_;
            std::size_t fraction = pos_;
            while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
            if (pos_ == fraction) fail("a number with an empty fraction");
        }
        if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
            plain = false;
            ++pos_;
            if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
            std::size_t exponent = pos_;
            while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
            if (pos_ == exponent) fail("a number with an empty exponent");
        }
        value.is_uint = plain && !overflow;
        return value;
    }

    unsigned hex4() {
        if (text_.size() - pos_ < 4) fail("a truncated \\u escape");
        unsigned code = 0;
        for (int i = 0; i < 4; ++i) {
            char h = text_[pos_++];
            code <<= 4;
            if (h >= '0' && h <= '9') code |= static_cast<unsigned>(h - '0');
            else if (h >= 'a' && h <= 'f') code |= static_cast<unsigned>(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F') code |= static_cast<unsigned>(h - 'A' + 10);
            else fail("a \\u escape with a non-hex digit");
        }
        return code;
    }

    std::string parse_string() {
        if (pos_ >= text_.size() || text_[pos_] != '"') fail("expected a string");
        ++pos_;
        std::string out;
        while (true) {
            if (pos_ >= text_.size()) fail("a string without its closing quote");
            char c = text_[pos_++];
            if (c == '"') return out;
            if (static_cast<unsigned char>(c) < 0x20) fail("a control character inside a string");
            if (c != '\\') {
                out += c;
                continue;
            }
            if (pos_ >= text_.size()) fail("a string without its closing quote");
            char e = text_[pos_++];
            switch (e) {
                case '"': case '\\': case '/': out += e; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    unsigned code = hex4();
                    if (code >= 0xD800 && code < 0xDC00) {  // a UTF-16 surrogate pair
                        if (!consume_word("\\u")) fail("a lone UTF-16 surrogate");
                        unsigned low = hex4();
                        if (low < 0xDC00 || low >= 0xE000) fail("a lone UTF-16 surrogate");
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                    } else if (code >= 0xDC00 && code < 0xE000) {
                        fail("a lone UTF-16 surrogate");
                    }
                    detail::append_utf8(out, static_cast<char32_t>(code));
                    break;
                }
                default: fail(std::string("an unknown escape '\\") + e + "'");
            }
        }
    }

    const std::filesystem::path& path_;
    const std::string& text_;
    std::size_t pos_ = 0;
};

struct Entry {
    std::string name;
    c10::ScalarType dtype{};
    std::vector<std::int64_t> shape;
    std::uint64_t begin = 0;
    std::uint64_t end = 0;
};

struct Header {
    std::uint64_t data_start = 0;  ///< 8 + header length
    std::uint64_t file_size = 0;
    std::vector<Entry> entries;
    std::map<std::string, std::string> metadata;
};

std::uint64_t read_le64(const unsigned char* p) {
    std::uint64_t value = 0;
    for (int i = 7; i >= 0; --i) value = (value << 8) | p[i];
    return value;
}

std::string bytes_range(std::uint64_t begin, std::uint64_t end) {
    return std::to_string(begin) + ".." + std::to_string(end);
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
    std::string out = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
    return out + "]";
}

Entry parse_entry(const std::filesystem::path& path, const std::string& name, const Json& json) {
    auto fail = [&](const std::string& problem) -> FileError {
        return FileError(path.string() + ": safetensors tensor '" + name + "': " + problem);
    };
    if (json.type != Json::Type::object) throw fail("its description is not a JSON object");
    const Json* dtype = nullptr;
    const Json* shape = nullptr;
    const Json* offsets = nullptr;
    for (const auto& [key, value] : json.object) {
        if (key == "dtype") dtype = &value;
        else if (key == "shape") shape = &value;
        else if (key == "data_offsets") offsets = &value;
    }
    if (!dtype || dtype->type != Json::Type::string) throw fail("no \"dtype\" string");
    if (!shape || shape->type != Json::Type::array) throw fail("no \"shape\" array");
    if (!offsets || offsets->type != Json::Type::array || offsets->array.size() != 2 || !offsets->array[0].is_uint ||
        !offsets->array[1].is_uint)
        throw fail("no \"data_offsets\" pair of non-negative integers");

    Entry entry;
    entry.name = name;
    const DtypeName* known = nullptr;
    for (const auto& candidate : dtype_names)
        if (dtype->string == candidate.name) known = &candidate;
    if (!known) {
        bool valid = dtype->string == "U16" || dtype->string == "U32" || dtype->string == "U64" ||
                     dtype->string == "F8_E4M3" || dtype->string == "F8_E5M2";
        throw fail("dtype " + dtype->string + (valid ? " is not supported by libtorch 1.13" : " is not a safetensors dtype"));
    }
    entry.dtype = known->dtype;
    std::uint64_t numel = 1;
    bool overflow = false;
    for (const auto& dim : shape->array) {
        if (!dim.is_uint || dim.uint > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            throw fail("\"shape\" holds something other than a non-negative integer");
        entry.shape.push_back(static_cast<std::int64_t>(dim.uint));
        overflow |= __builtin_mul_overflow(numel, dim.uint, &numel);
    }
    entry.begin = offsets->array[0].uint;
    entry.end = offsets->array[1].uint;
    std::uint64_t nbytes = 0;
    overflow |= __builtin_mul_overflow(numel, static_cast<std::uint64_t>(c10::elementSize(entry.dtype)), &nbytes);
    if (entry.begin > entry.end) throw fail("\"data_offsets\" end before they begin");
    if (overflow || entry.end - entry.begin != nbytes)
        throw fail("\"data_offsets\" hold " + std::to_string(entry.end - entry.begin) + " bytes but " + dtype->string +
                   " of shape " + shape_text(entry.shape) + " needs " + (overflow ? std::string("more") : std::to_string(nbytes)));
    return entry;
}

Header read_header(const std::filesystem::path& path, std::ifstream& in) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(path, error)) throw FileError(path.string() + ": no such file");
    in.open(path, std::ios::binary);
    if (!in) throw FileError(path.string() + ": cannot open the file");
    Header header;
    header.file_size = std::filesystem::file_size(path, error);
    unsigned char prefix[8];
    if (header.file_size < 8 || !in.read(reinterpret_cast<char*>(prefix), 8))
        throw FileError(path.string() + ": too short to be a safetensors file (" + std::to_string(header.file_size) + " bytes)");
    std::uint64_t length = read_le64(prefix);
    if (length > max_header_size)
        throw FileError(path.string() + ": not a safetensors file: its header length " + std::to_string(length) +
                        " is larger than the format's limit of " + std::to_string(max_header_size));
    if (length > header.file_size - 8)
        throw FileError(path.string() + ": truncated: the safetensors header needs bytes 8.." + std::to_string(8 + length) +
                        " but the file has " + std::to_string(header.file_size));
    header.data_start = 8 + length;
    std::string text(static_cast<std::size_t>(length), '\0');
    if (!in.read(text.data(), static_cast<std::streamsize>(length))) throw FileError(path.string() + ": cannot read the safetensors header");

    Json root = JsonParser(path, text).parse_document();
    if (root.type != Json::Type::object) throw FileError(path.string() + ": corrupt safetensors header: it is not a JSON object");
    std::vector<std::string> names;
    for (const auto& [name, value] : root.object) {
        if (std::find(names.begin(), names.end(), name) != names.end())
            throw FileError(path.string() + ": corrupt safetensors header: the name '" + name + "' appears twice");
        names.push_back(name);
        if (name == "__metadata__") {
            if (value.type != Json::Type::object) throw FileError(path.string() + ": safetensors __metadata__ is not a JSON object");
            for (const auto& [key, item] : value.object) {
                if (item.type != Json::Type::string)
                    throw FileError(path.string() + ": safetensors __metadata__ value of '" + key + "' is not a string");
                header.metadata[key] = item.string;
            }
            continue;
        }
        header.entries.push_back(parse_entry(path, name, value));
    }

    // Every tensor inside the data, none overlapping another.
    std::uint64_t data_size = header.file_size - header.data_start;
    std::vector<const Entry*> by_offset;
    for (const auto& entry : header.entries) {
        if (entry.end > data_size)
            throw FileError(path.string() + ": truncated: tensor '" + entry.name + "' needs bytes " +
                            bytes_range(header.data_start + entry.begin, header.data_start + entry.end) +
                            " but the file has " + std::to_string(header.file_size));
        if (entry.end > entry.begin) by_offset.push_back(&entry);
    }
    std::sort(by_offset.begin(), by_offset.end(), [](const Entry* a, const Entry* b) { return a->begin < b->begin; });
    for (std::size_t i = 1; i < by_offset.size(); ++i)
        if (by_offset[i]->begin < by_offset[i - 1]->end)
            throw FileError(path.string() + ": corrupt safetensors header: tensors '" + by_offset[i - 1]->name + "' and '" +
                            by_offset[i]->name + "' overlap");
    return header;
}

std::string json_quote(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char escape[8];
            std::snprintf(escape, sizeof escape, "\\u%04x", static_cast<unsigned>(c));
            out += escape;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

const char* safetensors_dtype(c10::ScalarType dtype) {
    for (const auto& candidate : dtype_names)
        if (candidate.dtype == dtype) return candidate.name;
    return nullptr;
}

}  // namespace

namespace detail {

bool looks_like_safetensors(const unsigned char* head, std::size_t head_size, std::uintmax_t file_size) {
    // A length past the end of the file still counts, so that read_safetensors reports the truncation.
    if (head_size < 9 || file_size < 9) return false;
    std::uint64_t length = read_le64(head);
    return length >= 2 && length <= max_header_size && head[8] == '{';
}

TensorMap read_safetensors(const std::filesystem::path& path) {
    std::ifstream in;
    Header header = read_header(path, in);
    TensorMap tensors;
    for (const auto& entry : header.entries) {
        torch::Tensor tensor = torch::empty(entry.shape, torch::TensorOptions().dtype(entry.dtype));
        auto nbytes = static_cast<std::streamsize>(entry.end - entry.begin);
        in.seekg(static_cast<std::streamoff>(header.data_start + entry.begin));
        if (nbytes > 0 && !in.read(static_cast<char*>(tensor.data_ptr()), nbytes))
            throw FileError(path.string() + ": cannot read tensor '" + entry.name + "' (bytes " +
                            bytes_range(header.data_start + entry.begin, header.data_start + entry.end) + ")");
        tensors.emplace(entry.name, std::move(tensor));
    }
    return tensors;
}

}  // namespace detail

std::map<std::string, std::string> read_safetensors_metadata(const std::filesystem::path& path) {
    std::ifstream in;
    return read_header(path, in).metadata;
}

void write_safetensors(const std::filesystem::path& path, const TensorMap& tensors,
                       const std::map<std::string, std::string>& metadata) {
    // Data ordered by element size, largest first, so every tensor starts aligned to its element
    // (as the reference writer does); the JSON lists names sorted.
    struct Item {
        const std::string* name;
        torch::Tensor tensor;
        const char* dtype;
    };
    std::vector<Item> items;
    for (const auto& [name, tensor] : tensors) {
        if (name == "__metadata__") throw FileError(path.string() + ": a tensor cannot be named __metadata__ in safetensors");
        const char* dtype = safetensors_dtype(tensor.scalar_type());
        if (!dtype)
            throw FileError(path.string() + ": cannot write tensor '" + name + "': safetensors has no dtype for " +
                            c10::toString(tensor.scalar_type()));
        items.push_back({&name, tensor.detach().to(torch::kCPU).contiguous(), dtype});
    }
    std::stable_sort(items.begin(), items.end(),
                     [](const Item& a, const Item& b) { return a.tensor.element_size() > b.tensor.element_size(); });
    std::map<std::string, std::string> descriptions;
    std::uint64_t offset = 0;
    for (const auto& item : items) {
        std::uint64_t nbytes = item.tensor.nbytes();
        std::string shape;
        for (auto dim : item.tensor.sizes()) shape += (shape.empty() ? "" : ",") + std::to_string(dim);
        descriptions[*item.name] = "{\"dtype\":\"" + std::string(item.dtype) + "\",\"shape\":[" + shape +
                                   "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + nbytes) + "]}";
        offset += nbytes;
    }
    std::string header = "{";
    if (!metadata.empty()) {
        header += "\"__metadata__\":{";
        bool first = true;
        for (const auto& [key, value] : metadata) {
            header += (first ? "" : ",") + json_quote(key) + ":" + json_quote(value);
            first = false;
        }
        header += "}";
    }
    for (const auto& [name, description] : descriptions)
        header += (header.size() > 1 ? "," : "") + json_quote(name) + ":" + description;
    header += "}";
    header.append((8 - header.size() % 8) % 8, ' ');

    // A crash mid-write leaves only the temporary name, which no reader mistakes for the result.
    std::filesystem::path folder = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
    std::error_code status_error;
    if (!std::filesystem::is_directory(folder, status_error))
        throw FileError(path.string() + ": the folder " + folder.string() + " does not exist");
    TemporaryOutput file(path.string(), ".safetensors");
    const std::string& temporary = file.temporary();
    try {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        if (!out) throw FileError(path.string() + ": cannot create " + temporary + ": " + std::strerror(errno));
        unsigned char length[8];
        for (int i = 0; i < 8; ++i) length[i] = static_cast<unsigned char>(static_cast<std::uint64_t>(header.size()) >> (8 * i));
        out.write(reinterpret_cast<const char*>(length), 8);
        out.write(header.data(), static_cast<std::streamsize>(header.size()));
        for (const auto& item : items)
            out.write(static_cast<const char*>(item.tensor.data_ptr()), static_cast<std::streamsize>(item.tensor.nbytes()));
        out.close();
        if (!out) throw write_error(path.string(), "write", "writing " + temporary + ": " + std::strerror(errno));
    } catch (const std::filesystem::filesystem_error& error) {
        throw FileError(path.string() + ": cannot write the file: " + error.code().message());
    }
    file.publish(true);
}

}  // namespace segearth::core
