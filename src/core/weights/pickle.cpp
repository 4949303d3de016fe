// The unpickler: a loop over opcodes with a value stack, a mark stack and a memo, after the
// reference in CPython's Lib/pickle.py and pickletools.py. Facts that shape it:
// - torch.save writes protocol 2 by default; TorchScript's C++ pickler writes protocol 2 too, with
//   its modules as NEWOBJ + BUILD(dict of attributes); Python protocol 4/5 adds FRAME, MEMOIZE,
//   STACK_GLOBAL and the 8-byte length opcodes.
// - Tensors are REDUCE(torch._utils._rebuild_tensor_v2, (storage, offset, size, stride,
//   requires_grad, hooks[, metadata])) where storage comes from BINPERSID on the tuple
//   ('storage', torch.<Type>Storage, key, location, numel) and lives in zip record data/<key>.
// Nothing from the file is ever called: allow-listed names are matched against fixed strings and
// handled here; everything else becomes an inert PickleObject.
#include "weights/pickle.hpp"

#include <segearth/error.hpp>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>
#include <sstream>
#include <unordered_map>

namespace segearth::core::detail {

using Kind = PickleValue::Kind;

const char* to_string(Kind kind) {
    switch (kind) {
        case Kind::none: return "None";
        case Kind::boolean: return "a bool";
        case Kind::integer: return "an int";
        case Kind::big_integer: return "a big int";
        case Kind::floating: return "a float";
        case Kind::string: return "a str";
        case Kind::bytes: return "bytes";
        case Kind::list: return "a list";
        case Kind::tuple: return "a tuple";
        case Kind::dict: return "a dict";
        case Kind::set: return "a set";
        case Kind::global: return "a global";
        case Kind::object: return "an object";
        case Kind::storage: return "a storage";
        case Kind::tensor: return "a tensor";
    }
    return "?";
}

const std::string& PickleValue::str() const {
    static const std::string empty;
    return text ? *text : empty;
}

const PickleValue* PickleValue::find(std::string_view key) const {
    if (kind != Kind::dict) return nullptr;
    for (auto it = node->entries.rbegin(); it != node->entries.rend(); ++it)
        if (it->first.is_string(key)) return &it->second;
    return nullptr;
}

namespace {

// Storage class names torch writes into persistent ids (torch/storage.py, pickler.cpp).
bool storage_dtype(const std::string& name, c10::ScalarType& dtype) {
    static const std::unordered_map<std::string, c10::ScalarType> types = {
        {"DoubleStorage", c10::ScalarType::Double},   {"FloatStorage", c10::ScalarType::Float},
        {"HalfStorage", c10::ScalarType::Half},       {"BFloat16Storage", c10::ScalarType::BFloat16},
        {"LongStorage", c10::ScalarType::Long},       {"IntStorage", c10::ScalarType::Int},
        {"ShortStorage", c10::ScalarType::Short},     {"CharStorage", c10::ScalarType::Char},
        {"ByteStorage", c10::ScalarType::Byte},       {"BoolStorage", c10::ScalarType::Bool},
        {"ComplexFloatStorage", c10::ScalarType::ComplexFloat},
        {"ComplexDoubleStorage", c10::ScalarType::ComplexDouble},
        {"UntypedStorage", c10::ScalarType::Byte},
    };
    auto it = types.find(name);
    if (it == types.end()) return false;
    dtype = it->second;
    return true;
}

// The only callables the unpickler evaluates, each by its own code below.
enum class Builtin {
    none, rebuild_tensor, rebuild_parameter, rebuild_from_type_v2,
    ordered_dict, identity  // torch.jit._pickle's build_*list and restore_type_tag return their argument
};

Builtin find_builtin(const std::string& module, const std::string& name) {
    if (module == "torch._utils") {
        if (name == "_rebuild_tensor_v2" || name == "_rebuild_tensor") return Builtin::rebuild_tensor;
        if (name == "_rebuild_parameter" || name == "_rebuild_parameter_with_state")
            return Builtin::rebuild_parameter;
    }
    if (module == "torch._tensor" && name == "_rebuild_from_type_v2") return Builtin::rebuild_from_type_v2;
    if (module == "collections" && name == "OrderedDict") return Builtin::ordered_dict;
    if (module == "torch.jit._pickle" &&
        (name == "build_intlist" || name == "build_doublelist" || name == "build_boollist" ||
         name == "build_tensorlist" || name == "restore_type_tag"))
        return Builtin::identity;
    return Builtin::none;
}

std::string join(const std::vector<std::int64_t>& values) {
    std::ostringstream out;
    out << '[';
    for (std::size_t i = 0; i < values.size(); ++i) out << (i ? ", " : "") << values[i];
    out << ']';
    return out.str();
}

constexpr std::size_t max_tensor_dims = 64;
constexpr int max_call_depth = 4;  // _rebuild_from_type_v2 wraps another rebuild call
constexpr std::size_t max_long_digits = 4300;  // Python's own limit for int("...")

}  // namespace

class Unpickler {
public:
    Unpickler(const char* data, std::size_t size, std::string source, StorageLoader loader)
        : data_(data), size_(size) {
        doc_.source_ = std::move(source);
        doc_.load_storage_ = std::move(loader);
    }

    PickleDocument run() {
        while (true) {
            if (pos_ >= size_) {
                op_offset_ = pos_;
                fail("the data ends without a STOP opcode");
            }
            op_offset_ = pos_;
            if (step(static_cast<std::uint8_t>(data_[pos_++]))) break;
        }
        return std::move(doc_);
    }

private:
    [[noreturn]] void fail(const std::string& problem) const {
        throw FileError(doc_.source_ + ": corrupt pickle at byte " + std::to_string(op_offset_) + ": " + problem);
    }
    [[noreturn]] void unsupported(const std::string& what) const {
        throw FileError(doc_.source_ + ": unsupported pickle at byte " + std::to_string(op_offset_) + ": " + what);
    }

    // ---- reading the byte stream
    const char* take(std::uint64_t n) {
        if (n > size_ - pos_)
            fail("needs " + std::to_string(n) + " more bytes but only " + std::to_string(size_ - pos_) + " remain");
        const char* at = data_ + pos_;
        pos_ += static_cast<std::size_t>(n);
        return at;
    }
    std::uint64_t read_le(int bytes) {
        const auto* p = reinterpret_cast<const unsigned char*>(take(static_cast<std::uint64_t>(bytes)));
        std::uint64_t value = 0;
        for (int i = bytes - 1; i >= 0; --i) value = (value << 8) | p[i];
        return value;
    }
    std::string_view read_line() {
        const void* end = std::memchr(data_ + pos_, '\n', size_ - pos_);
        if (!end) fail("a text argument has no end of line");
        std::size_t length = static_cast<std::size_t>(static_cast<const char*>(end) - (data_ + pos_));
        std::string_view line(data_ + pos_, length);
        pos_ += length + 1;
        return line;
    }
    std::int64_t parse_int(std::string_view text) {
        std::int64_t value = 0;
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (error != std::errc() || end != text.data() + text.size())
            fail("'" + std::string(text) + "' is not an integer that fits 64 bits");
        return value;
    }

    // ---- building values
    PickleValue make(Kind kind) {
        doc_.nodes_.push_back(std::make_unique<PickleNode>());
        PickleValue value;
        value.kind = kind;
        value.node = doc_.nodes_.back().get();
        return value;
    }
    PickleValue make_object(Kind kind, const std::string& module, const std::string& name) {
        PickleValue value = make(kind);
        value.node->object = std::make_unique<PickleObject>();
        value.node->object->module = module;
        value.node->object->name = name;
        return value;
    }
    static PickleValue scalar(Kind kind) {
        PickleValue value;
        value.kind = kind;
        return value;
    }
    static PickleValue integer(std::int64_t v) {
        PickleValue value = scalar(Kind::integer);
        value.integer = v;
        return value;
    }
    static PickleValue text(Kind kind, std::string_view bytes) {
        PickleValue value = scalar(kind);
        value.text = std::make_shared<const std::string>(bytes);
        return value;
    }
    PickleValue sequence(Kind kind, std::vector<PickleValue> items) {
        PickleValue value = make(kind);
        value.node->items = std::move(items);
        return value;
    }

    // ---- the stack
    std::size_t stack_floor() const { return marks_.empty() ? 0 : marks_.back(); }
    PickleValue pop() {
        if (stack_.size() <= stack_floor()) fail("pops an empty stack");
        PickleValue value = std::move(stack_.back());
        stack_.pop_back();
        return value;
    }
    PickleValue& top() {
        if (stack_.size() <= stack_floor()) fail("reads an empty stack");
        return stack_.back();
    }
    std::vector<PickleValue> pop_mark() {
        if (marks_.empty()) fail("needs a MARK but there is none");
        std::size_t mark = marks_.back();
        marks_.pop_back();
        std::vector<PickleValue> items(std::make_move_iterator(stack_.begin() + static_cast<std::ptrdiff_t>(mark)),
                                       std::make_move_iterator(stack_.end()));
        stack_.resize(mark);
        return items;
    }
    void memo_put(std::uint64_t index) { memo_[index] = top(); }
    void memo_get(std::uint64_t index) {
        auto it = memo_.find(index);
        if (it == memo_.end()) fail("memo entry " + std::to_string(index) + " was never stored");
        stack_.push_back(it->second);
    }

    // ---- containers
    void append(std::vector<PickleValue> items) {
        PickleValue& target = top();
        if (!target.is(Kind::list) && !target.is(Kind::object))
            fail("APPEND to " + std::string(to_string(target.kind)));
        for (auto& item : items) target.node->items.push_back(std::move(item));
    }
    void set_items(std::vector<PickleValue> items) {
        if (items.size() % 2) fail("SETITEMS with an odd number of items");
        PickleValue& target = top();
        if (!target.is(Kind::dict) && !target.is(Kind::object))
            fail("SETITEM on " + std::string(to_string(target.kind)));
        for (std::size_t i = 0; i < items.size(); i += 2)
            target.node->entries.emplace_back(std::move(items[i]), std::move(items[i + 1]));
    }
    PickleValue dict_from_pairs(std::vector<PickleValue> items) {
        if (items.size() % 2) fail("DICT with an odd number of items");
        PickleValue dict = make(Kind::dict);
        for (std::size_t i = 0; i < items.size(); i += 2)
            dict.node->entries.emplace_back(std::move(items[i]), std::move(items[i + 1]));
        return dict;
    }

    // ---- globals and calls
    void push_global(std::string_view module, std::string_view name) {
        stack_.push_back(make_object(Kind::global, std::string(module), std::string(name)));
    }
    std::string qualified(const PickleValue& callable) const {
        return callable.node->object->module + "." + callable.node->object->name;
    }

    // REDUCE and NEWOBJ: allow-listed globals are evaluated here, anything else (a global or an
    // earlier placeholder) yields a new placeholder holding the arguments.
    PickleValue call(const PickleValue& callable, PickleValue args, PickleValue kwargs, int depth) {
        if (!callable.is(Kind::global) && !callable.is(Kind::object))
            fail("calls " + std::string(to_string(callable.kind)));
        if (!args.is(Kind::tuple)) fail("arguments of " + qualified(callable) + " are " + to_string(args.kind) + ", not a tuple");
        const PickleObject& who = *callable.node->object;
        Builtin builtin = callable.is(Kind::global) ? find_builtin(who.module, who.name) : Builtin::none;
        const auto& a = args.node->items;
        bool placeholder_storage = !a.empty() && a[0].is(Kind::object);
        if (builtin == Builtin::rebuild_tensor && placeholder_storage) builtin = Builtin::none;
        switch (builtin) {
            case Builtin::none: break;
            case Builtin::rebuild_tensor: return rebuild_tensor(a);
            case Builtin::rebuild_parameter:
                if (a.empty() || !a[0].is(Kind::tensor)) fail(qualified(callable) + " needs a tensor argument");
                return a[0];
            case Builtin::rebuild_from_type_v2:
                // (func, new_type, args, state): the tensor is func(*args); the Python type is moot.
                if (a.size() < 3 || depth >= max_call_depth) fail(qualified(callable) + " has unexpected arguments");
                return call(a[0], a[2], PickleValue{}, depth + 1);
            case Builtin::ordered_dict: return ordered_dict(a);
            case Builtin::identity:
                if (a.empty()) fail(qualified(callable) + " needs an argument");
                return a[0];
        }
        PickleValue object = make_object(Kind::object, who.module, who.name);
        object.node->object->args = std::move(args);
        object.node->object->kwargs = std::move(kwargs);
        return object;
    }

    PickleValue ordered_dict(const std::vector<PickleValue>& args) {
        PickleValue dict = make(Kind::dict);
        if (args.empty()) return dict;
        if (args.size() != 1 || !(args[0].is(Kind::list) || args[0].is(Kind::tuple)))
            fail("collections.OrderedDict has unexpected arguments");
        for (const auto& pair : args[0].node->items) {
            if (!(pair.is(Kind::tuple) || pair.is(Kind::list)) || pair.node->items.size() != 2)
                fail("collections.OrderedDict needs (key, value) pairs");
            dict.node->entries.emplace_back(pair.node->items[0], pair.node->items[1]);
        }
        return dict;
    }

    std::vector<std::int64_t> int_sequence(const PickleValue& value, const char* what) {
        if (!value.is(Kind::tuple) && !value.is(Kind::list)) fail(std::string("tensor ") + what + " is " + to_string(value.kind));
        if (value.node->items.size() > max_tensor_dims) fail(std::string("tensor ") + what + " has too many dimensions");
        std::vector<std::int64_t> out;
        for (const auto& item : value.node->items) {
            if (!item.is(Kind::integer) || item.integer < 0) fail(std::string("tensor ") + what + " holds a negative or non-integer value");
            out.push_back(item.integer);
        }
        return out;
    }

    // The view must lie inside its storage: the furthest element is offset + sum((size-1)*stride).
    PickleValue rebuild_tensor(const std::vector<PickleValue>& a) {
        if (a.size() < 4) fail("_rebuild_tensor needs (storage, offset, size, stride)");
        if (!a[0].is(Kind::storage)) fail("_rebuild_tensor's first argument is " + std::string(to_string(a[0].kind)) + ", not a storage");
        if (!a[1].is(Kind::integer) || a[1].integer < 0) fail("tensor storage offset is not a non-negative int");
        PickleValue value = make(Kind::tensor);
        auto tensor = std::make_unique<PickleTensor>();
        tensor->storage = *a[0].node->storage;
        tensor->offset = a[1].integer;
        tensor->sizes = int_sequence(a[2], "size");
        tensor->strides = int_sequence(a[3], "stride");
        if (tensor->sizes.size() != tensor->strides.size())
            fail("tensor size " + join(tensor->sizes) + " and stride " + join(tensor->strides) + " differ in length");
        bool empty = false;
        std::int64_t extent = tensor->offset;  // index of the last element, then the count needed
        bool overflow = false;
        for (std::size_t d = 0; d < tensor->sizes.size(); ++d) {
            if (tensor->sizes[d] == 0) empty = true;
            std::int64_t step = 0;
            overflow |= __builtin_mul_overflow(tensor->sizes[d] > 0 ? tensor->sizes[d] - 1 : 0, tensor->strides[d], &step);
            overflow |= __builtin_add_overflow(extent, step, &extent);
        }
        std::int64_t needed = tensor->offset;
        if (!empty) overflow |= __builtin_add_overflow(extent, 1, &needed);
        if (overflow || needed > tensor->storage.numel)
            fail("tensor view (offset " + std::to_string(tensor->offset) + ", size " + join(tensor->sizes) +
                 ", stride " + join(tensor->strides) + ") needs " + (overflow ? std::string("more") : std::to_string(needed)) +
                 " elements but its storage '" + tensor->storage.key + "' has " + std::to_string(tensor->storage.numel));
        value.node->tensor = std::move(tensor);
        return value;
    }

    // ('storage', torch.<Type>Storage, key, location, numel): the location is ignored (all to CPU).
    PickleValue persistent_load(const PickleValue& pid) {
        if (!pid.is(Kind::tuple) || pid.node->items.size() < 5 || !pid.node->items[0].is_string("storage"))
            unsupported("persistent id is not ('storage', type, key, location, numel)");
        const auto& p = pid.node->items;
        if (!p[1].is(Kind::global) || p[1].node->object->module != "torch") fail("persistent id has no torch storage type");
        auto storage = std::make_unique<PickleStorage>();
        // Quantized storages and the like: a placeholder, so that only a state dict that needs
        // them fails (in read_weights), not a checkpoint that merely holds one elsewhere.
        if (!storage_dtype(p[1].node->object->name, storage->dtype)) {
            PickleValue placeholder = make_object(Kind::object, "torch", p[1].node->object->name);
            placeholder.node->object->args = pid;
            return placeholder;
        }
        if (!p[2].is(Kind::string) || p[2].str().empty()) fail("persistent id has no storage key");
        storage->key = p[2].str();
        std::int64_t limit = std::numeric_limits<std::int64_t>::max() / 16;
        if (!p[4].is(Kind::integer) || p[4].integer < 0 || p[4].integer > limit) fail("persistent id has an invalid element count");
        storage->numel = p[4].integer;
        PickleValue value = make(Kind::storage);
        value.node->storage = std::move(storage);
        return value;
    }

    void build() {
        PickleValue state = pop();
        PickleValue& target = top();
        // Dicts (an OrderedDict's _metadata), lists and tensors keep their state on the Python side
        // only; objects record it.
        if (target.is(Kind::object)) target.node->object->state = std::move(state);
    }

    PickleValue long_value(std::uint64_t length) {
        const char* bytes = take(length);
        if (length > 8) return text(Kind::big_integer, std::string_view(bytes, static_cast<std::size_t>(length)));
        std::uint64_t value = 0;
        for (std::uint64_t i = length; i > 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes[i - 1]);
        if (length > 0 && length < 8 && (static_cast<unsigned char>(bytes[length - 1]) & 0x80))
            value |= ~std::uint64_t{0} << (8 * length);  // sign-extend
        return integer(static_cast<std::int64_t>(value));
    }

    // Protocol 0/1 write Python ints beyond 64 bits in decimal; kept as LONG1 would hold them.
    PickleValue decimal_long(std::string_view line) {
        std::int64_t small = 0;
        auto [end, error] = std::from_chars(line.data(), line.data() + line.size(), small);
        if (error == std::errc() && end == line.data() + line.size()) return integer(small);
        bool negative = !line.empty() && line.front() == '-';
        std::string_view digits = line.substr(negative ? 1 : 0);
        if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos)
            fail("'" + std::string(line) + "' is not an integer");
        if (digits.size() > max_long_digits)
            fail("an integer of " + std::to_string(digits.size()) + " digits (the limit is " +
                 std::to_string(max_long_digits) + ")");
        std::vector<unsigned char> bytes;  // magnitude, little endian
        for (char digit : digits) {
            unsigned carry = static_cast<unsigned>(digit - '0');
            for (auto& byte : bytes) {
                unsigned value = byte * 10u + carry;
                byte = static_cast<unsigned char>(value & 0xff);
                carry = value >> 8;
            }
            for (; carry; carry >>= 8) bytes.push_back(static_cast<unsigned char>(carry & 0xff));
        }
        if (negative) {  // two's complement: invert and add one
            unsigned carry = 1;
            for (auto& byte : bytes) {
                unsigned value = static_cast<unsigned char>(~byte) + carry;
                byte = static_cast<unsigned char>(value & 0xff);
                carry = value >> 8;
            }
            if (!(bytes.back() & 0x80)) bytes.push_back(0xff);
        } else if (bytes.back() & 0x80) {
            bytes.push_back(0);
        }
        return text(Kind::big_integer, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    }

    void push_text(Kind kind, std::uint64_t length) {
        const char* bytes = take(length);
        stack_.push_back(text(kind, std::string_view(bytes, static_cast<std::size_t>(length))));
    }

    bool step(std::uint8_t op);

    const char* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
    std::size_t op_offset_ = 0;
    std::vector<PickleValue> stack_;
    std::vector<std::size_t> marks_;
    std::unordered_map<std::uint64_t, PickleValue> memo_;
    PickleDocument doc_;
};

// One opcode; returns true at STOP. Codes from CPython's Lib/pickle.py.
bool Unpickler::step(std::uint8_t op) {
    switch (op) {
        case 0x80: {  // PROTO
            auto protocol = read_le(1);
            if (protocol > 5) unsupported("pickle protocol " + std::to_string(protocol));
            return false;
        }
        case 0x95: read_le(8); return false;  // FRAME: a read-ahead hint
        case '.':  // STOP
            doc_.root_ = pop();
            return true;
        case '(': marks_.push_back(stack_.size()); return false;                      // MARK
        case '0':                                                                      // POP
            if (!marks_.empty() && stack_.size() == marks_.back()) marks_.pop_back();
            else pop();
            return false;
        case '1': pop_mark(); return false;                                            // POP_MARK
        case '2': {                                                                    // DUP
            PickleValue copy = top();
            stack_.push_back(std::move(copy));
            return false;
        }
        case 'N': stack_.push_back(scalar(Kind::none)); return false;
        case 0x88: case 0x89: {                                                        // NEWTRUE / NEWFALSE
            PickleValue value = scalar(Kind::boolean);
            value.boolean = op == 0x88;
            stack_.push_back(value);
            return false;
        }
        case 'I': {  // INT (protocol 0; "01"/"00" are True/False)
            std::string_view line = read_line();
            if (line == "00" || line == "01") {
                PickleValue value = scalar(Kind::boolean);
                value.boolean = line == "01";
                stack_.push_back(value);
            } else {
                stack_.push_back(integer(parse_int(line)));
            }
            return false;
        }
        case 'L': {  // LONG (protocol 0): decimal with a trailing L
            std::string_view line = read_line();
            if (!line.empty() && line.back() == 'L') line.remove_suffix(1);
            stack_.push_back(decimal_long(line));
            return false;
        }
        case 'J': stack_.push_back(integer(static_cast<std::int32_t>(read_le(4)))); return false;  // BININT
        case 'K': stack_.push_back(integer(static_cast<std::int64_t>(read_le(1)))); return false;  // BININT1
        case 'M': stack_.push_back(integer(static_cast<std::int64_t>(read_le(2)))); return false;  // BININT2
        case 0x8a: stack_.push_back(long_value(read_le(1))); return false;                        // LONG1
        case 0x8b: {                                                                               // LONG4
            auto length = static_cast<std::int32_t>(read_le(4));
            if (length < 0) fail("LONG4 with a negative length");
            stack_.push_back(long_value(static_cast<std::uint64_t>(length)));
            return false;
        }
        case 'F': {  // FLOAT (protocol 0)
            std::string_view line = read_line();
            PickleValue value = scalar(Kind::floating);
            auto [end, error] = std::from_chars(line.data(), line.data() + line.size(), value.floating);
            if (error != std::errc() || end != line.data() + line.size()) fail("'" + std::string(line) + "' is not a float");
            stack_.push_back(value);
            return false;
        }
        case 'G': {  // BINFLOAT: big-endian IEEE double
            const auto* p = reinterpret_cast<const unsigned char*>(take(8));
            std::uint64_t bits = 0;
            for (int i = 0; i < 8; ++i) bits = (bits << 8) | p[i];
            PickleValue value = scalar(Kind::floating);
            std::memcpy(&value.floating, &bits, sizeof bits);
            stack_.push_back(value);
            return false;
        }
        // Strings: Python 2 str (BINSTRING) is read as text, as torch.load does with encoding utf-8.
        case 0x8c: case 'U': push_text(Kind::string, read_le(1)); return false;  // SHORT_BINUNICODE, SHORT_BINSTRING
        case 'X': push_text(Kind::string, read_le(4)); return false;             // BINUNICODE
        case 'T': {                                                               // BINSTRING (signed length)
            auto length = static_cast<std::int32_t>(read_le(4));
            if (length < 0) fail("BINSTRING with a negative length");
            push_text(Kind::string, static_cast<std::uint64_t>(length));
            return false;
        }
        case 0x8d: push_text(Kind::string, read_le(8)); return false;            // BINUNICODE8
        case 'C': push_text(Kind::bytes, read_le(1)); return false;              // SHORT_BINBYTES
        case 'B': push_text(Kind::bytes, read_le(4)); return false;              // BINBYTES
        case 0x8e: case 0x96: push_text(Kind::bytes, read_le(8)); return false;  // BINBYTES8, BYTEARRAY8
        case ')': stack_.push_back(make(Kind::tuple)); return false;                  // EMPTY_TUPLE
        case 't': stack_.push_back(sequence(Kind::tuple, pop_mark())); return false;  // TUPLE
        case 0x85: case 0x86: case 0x87: {                                             // TUPLE1..3
            std::size_t n = static_cast<std::size_t>(op - 0x84);
            std::vector<PickleValue> items(n);
            for (std::size_t i = n; i > 0; --i) items[i - 1] = pop();
            stack_.push_back(sequence(Kind::tuple, std::move(items)));
            return false;
        }
        case ']': stack_.push_back(make(Kind::list)); return false;                   // EMPTY_LIST
        case 'l': stack_.push_back(sequence(Kind::list, pop_mark())); return false;   // LIST
        case 'a': {                                                                    // APPEND
            PickleValue item = pop();
            std::vector<PickleValue> items;
            items.push_back(std::move(item));
            append(std::move(items));
            return false;
        }
        case 'e': append(pop_mark()); return false;                                   // APPENDS
        case '}': stack_.push_back(make(Kind::dict)); return false;                   // EMPTY_DICT
        case 'd': stack_.push_back(dict_from_pairs(pop_mark())); return false;        // DICT
        case 's': {                                                                    // SETITEM
            PickleValue value = pop();
            PickleValue key = pop();
            std::vector<PickleValue> items;
            items.push_back(std::move(key));
            items.push_back(std::move(value));
            set_items(std::move(items));
            return false;
        }
        case 'u': set_items(pop_mark()); return false;                                // SETITEMS
        case 0x8f: stack_.push_back(make(Kind::set)); return false;                   // EMPTY_SET
        case 0x90: {                                                                   // ADDITEMS
            std::vector<PickleValue> items = pop_mark();
            PickleValue& target = top();
            if (!target.is(Kind::set)) fail("ADDITEMS to " + std::string(to_string(target.kind)));
            for (auto& item : items) target.node->items.push_back(std::move(item));
            return false;
        }
        case 0x91: stack_.push_back(sequence(Kind::set, pop_mark())); return false;   // FROZENSET
        case 'c': {                                                                    // GLOBAL
            std::string module(read_line());
            std::string name(read_line());
            push_global(module, name);
            return false;
        }
        case 0x93: {                                                                   // STACK_GLOBAL
            PickleValue name = pop();
            PickleValue module = pop();
            if (!module.is(Kind::string) || !name.is(Kind::string)) fail("STACK_GLOBAL needs two strings");
            push_global(module.str(), name.str());
            return false;
        }
        case 'R': {                                                                    // REDUCE
            PickleValue args = pop();
            PickleValue callable = pop();
            stack_.push_back(call(callable, std::move(args), PickleValue{}, 0));
            return false;
        }
        case 0x81: case 0x92: {                                                        // NEWOBJ / NEWOBJ_EX
            PickleValue kwargs = op == 0x92 ? pop() : PickleValue{};
            PickleValue args = pop();
            PickleValue cls = pop();
            stack_.push_back(call(cls, std::move(args), std::move(kwargs), 0));
            return false;
        }
        case 'b': build(); return false;                                               // BUILD
        case 'Q': stack_.push_back(persistent_load(pop())); return false;             // BINPERSID
        case 'p': memo_put(static_cast<std::uint64_t>(parse_int(read_line()))); return false;  // PUT
        case 'q': memo_put(read_le(1)); return false;                                 // BINPUT
        case 'r': memo_put(read_le(4)); return false;                                 // LONG_BINPUT
        case 0x94: memo_put(memo_.size()); return false;                              // MEMOIZE
        case 'g': memo_get(static_cast<std::uint64_t>(parse_int(read_line()))); return false;  // GET
        case 'h': memo_get(read_le(1)); return false;                                 // BINGET
        case 'j': memo_get(read_le(4)); return false;                                 // LONG_BINGET
        case 'S': unsupported("opcode STRING (protocol 0 text strings)");
        case 'V': unsupported("opcode UNICODE (protocol 0 text strings)");
        case 'P': unsupported("opcode PERSID (protocol 0 persistent ids)");
        case 'i': case 'o': unsupported("opcodes INST and OBJ (protocol 0/1 instances)");
        case 0x82: case 0x83: case 0x84: unsupported("opcodes EXT1/EXT2/EXT4 (the copyreg extension registry)");
        case 0x97: case 0x98: unsupported("out-of-band buffers (NEXT_BUFFER, READONLY_BUFFER)");
        default: {
            char hex[8];
            std::snprintf(hex, sizeof hex, "0x%02x", op);
            fail(std::string("unknown opcode ") + hex);
        }
    }
}

torch::Tensor PickleDocument::tensor(const PickleValue& value) const {
    if (!value.is(PickleValue::Kind::tensor)) throw FileError(source_ + ": expected a tensor, found " + to_string(value.kind));
    const PickleTensor& spec = *value.node->tensor;
    auto it = storages_.find(spec.storage.key);
    if (it == storages_.end()) {
        c10::Storage storage = load_storage_(spec.storage.key);
        it = storages_.emplace(spec.storage.key, std::move(storage)).first;
    }
    std::size_t needed = static_cast<std::size_t>(spec.storage.numel) * c10::elementSize(spec.storage.dtype);
    if (it->second.nbytes() < needed)
        throw FileError(source_ + ": storage data/" + spec.storage.key + " holds " + std::to_string(it->second.nbytes()) +
                        " bytes but the pickle says it has " + std::to_string(spec.storage.numel) + " elements of " +
                        c10::toString(spec.storage.dtype) + " (" + std::to_string(needed) + " bytes)");
    torch::Tensor tensor = torch::empty({0}, torch::TensorOptions().dtype(spec.storage.dtype));
    tensor.set_(it->second, spec.offset, spec.sizes, spec.strides);
    return tensor;
}

PickleDocument unpickle(const char* data, std::size_t size, std::string source, StorageLoader load_storage) {
    return Unpickler(data, size, std::move(source), std::move(load_storage)).run();
}

}  // namespace segearth::core::detail
