// The pickle virtual machine: a loop over opcodes with a value stack, a mark stack and a memo, after
// the reference in CPython's Lib/pickle.py and pickletools.py. It reads protocols 0-5 as far as torch
// and Python write them for data: torch.save writes protocol 2 by default; TorchScript's C++ pickler
// writes protocol 2 too, with its modules as NEWOBJ + BUILD(dict of attributes); Python's protocol 4/5
// adds FRAME, MEMOIZE, STACK_GLOBAL and the 8-byte length opcodes.
// The machine runs nothing named in the file: GLOBAL and STACK_GLOBAL only record a name, and what
// REDUCE, NEWOBJ and BINPERSID mean is decided in pickle_torch.cpp.
#include "weights/unpickler.hpp"

#include <charconv>
#include <cstdio>
#include <cstring>
#include <iterator>

namespace segearth::core::detail {

namespace {

// Every opcode of pickle protocols 0-5, named as in CPython's Lib/pickle.py, with the byte that
// stands for it in the stream. Grouped by the protocol that introduced it.
enum class Op : std::uint8_t {
    // Protocol 0 (text arguments end in '\n') and protocol 1 (binary arguments).
    MARK = '(',
    STOP = '.',
    POP = '0',
    POP_MARK = '1',
    DUP = '2',
    FLOAT = 'F',
    INT = 'I',
    BININT = 'J',
    BININT1 = 'K',
    LONG = 'L',
    BININT2 = 'M',
    NONE = 'N',
    PERSID = 'P',
    BINPERSID = 'Q',
    REDUCE = 'R',
    STRING = 'S',
    BINSTRING = 'T',
    SHORT_BINSTRING = 'U',
    UNICODE = 'V',
    BINUNICODE = 'X',
    APPEND = 'a',
    BUILD = 'b',
    GLOBAL = 'c',
    DICT = 'd',
    EMPTY_DICT = '}',
    APPENDS = 'e',
    GET = 'g',
    BINGET = 'h',
    INST = 'i',
    LONG_BINGET = 'j',
    LIST = 'l',
    EMPTY_LIST = ']',
    OBJ = 'o',
    PUT = 'p',
    BINPUT = 'q',
    LONG_BINPUT = 'r',
    SETITEM = 's',
    TUPLE = 't',
    EMPTY_TUPLE = ')',
    SETITEMS = 'u',
    BINFLOAT = 'G',
    // Protocol 2.
    PROTO = 0x80,
    NEWOBJ = 0x81,
    EXT1 = 0x82,
    EXT2 = 0x83,
    EXT4 = 0x84,
    TUPLE1 = 0x85,
    TUPLE2 = 0x86,
    TUPLE3 = 0x87,
    NEWTRUE = 0x88,
    NEWFALSE = 0x89,
    LONG1 = 0x8a,
    LONG4 = 0x8b,
    // Protocol 3.
    BINBYTES = 'B',
    SHORT_BINBYTES = 'C',
    // Protocol 4.
    SHORT_BINUNICODE = 0x8c,
    BINUNICODE8 = 0x8d,
    BINBYTES8 = 0x8e,
    EMPTY_SET = 0x8f,
    ADDITEMS = 0x90,
    FROZENSET = 0x91,
    NEWOBJ_EX = 0x92,
    STACK_GLOBAL = 0x93,
    MEMOIZE = 0x94,
    FRAME = 0x95,
    // Protocol 5.
    BYTEARRAY8 = 0x96,
    NEXT_BUFFER = 0x97,
    READONLY_BUFFER = 0x98,
};

constexpr std::size_t max_long_digits = 4300;  // Python's own limit for int("...")

using Kind = PickleValue::Kind;

PickleValue scalar(Kind kind) {
    PickleValue value;
    value.kind = kind;
    return value;
}

PickleValue integer(std::int64_t v) {
    PickleValue value = scalar(Kind::integer);
    value.integer = v;
    return value;
}

PickleValue boolean(bool v) {
    PickleValue value = scalar(Kind::boolean);
    value.boolean = v;
    return value;
}

PickleValue text(Kind kind, std::string_view bytes) {
    PickleValue value = scalar(kind);
    value.text = std::make_shared<const std::string>(bytes);
    return value;
}

}  // namespace

PickleDocument Unpickler::run() {
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

// ---- reading the byte stream

const char* Unpickler::take(std::uint64_t n) {
    if (n > size_ - pos_)
        fail("needs " + std::to_string(n) + " more bytes but only " + std::to_string(size_ - pos_) + " remain");
    const char* at = data_ + pos_;
    pos_ += static_cast<std::size_t>(n);
    return at;
}

std::uint64_t Unpickler::read_le(int bytes) {
    const auto* p = reinterpret_cast<const unsigned char*>(take(static_cast<std::uint64_t>(bytes)));
    std::uint64_t value = 0;
    for (int i = bytes - 1; i >= 0; --i) value = (value << 8) | p[i];
    return value;
}

std::string_view Unpickler::read_line() {
    const void* end = std::memchr(data_ + pos_, '\n', size_ - pos_);
    if (!end) fail("a text argument has no end of line");
    std::size_t length = static_cast<std::size_t>(static_cast<const char*>(end) - (data_ + pos_));
    std::string_view line(data_ + pos_, length);
    pos_ += length + 1;
    return line;
}

std::int64_t Unpickler::parse_int(std::string_view text) {
    std::int64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size())
        fail("'" + std::string(text) + "' is not an integer that fits 64 bits");
    return value;
}

// LONG1 and LONG4: two's complement, little endian. Up to 8 bytes make an int; longer ones keep
// their bytes (no tensor metadata needs them).
PickleValue Unpickler::long_value(std::uint64_t length) {
    const char* bytes = take(length);
    if (length > 8) return text(Kind::big_integer, std::string_view(bytes, static_cast<std::size_t>(length)));
    std::uint64_t value = 0;
    for (std::uint64_t i = length; i > 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes[i - 1]);
    if (length > 0 && length < 8 && (static_cast<unsigned char>(bytes[length - 1]) & 0x80))
        value |= ~std::uint64_t{0} << (8 * length);  // sign-extend
    return integer(static_cast<std::int64_t>(value));
}

// Protocol 0/1 write Python ints beyond 64 bits in decimal; kept as LONG1 would hold them.
PickleValue Unpickler::decimal_long(std::string_view line) {
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

void Unpickler::push_text(Kind kind, std::uint64_t length) {
    const char* bytes = take(length);
    stack_.push_back(text(kind, std::string_view(bytes, static_cast<std::size_t>(length))));
}

// ---- the stack and the memo; a MARK hides what lies below it from pop() and top()

PickleValue Unpickler::pop() {
    if (stack_.size() <= stack_floor()) fail("pops an empty stack");
    PickleValue value = std::move(stack_.back());
    stack_.pop_back();
    return value;
}

PickleValue& Unpickler::top() {
    if (stack_.size() <= stack_floor()) fail("reads an empty stack");
    return stack_.back();
}

std::vector<PickleValue> Unpickler::pop_mark() {
    if (marks_.empty()) fail("needs a MARK but there is none");
    std::size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<PickleValue> items(std::make_move_iterator(stack_.begin() + static_cast<std::ptrdiff_t>(mark)),
                                   std::make_move_iterator(stack_.end()));
    stack_.resize(mark);
    return items;
}

void Unpickler::memo_put(std::uint64_t index) { memo_[index] = top(); }

void Unpickler::memo_get(std::uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) fail("memo entry " + std::to_string(index) + " was never stored");
    stack_.push_back(it->second);
}

// ---- containers and objects

PickleValue Unpickler::sequence(Kind kind, std::vector<PickleValue> items) {
    PickleValue value = make(kind);
    value.node->items = std::move(items);
    return value;
}

void Unpickler::push_tuple(std::size_t n) {
    std::vector<PickleValue> items(n);
    for (std::size_t i = n; i > 0; --i) items[i - 1] = pop();
    stack_.push_back(sequence(Kind::tuple, std::move(items)));
}

void Unpickler::append(std::vector<PickleValue> items) {
    PickleValue& target = top();
    if (!target.is(Kind::list) && !target.is(Kind::object))
        fail("APPEND to " + std::string(to_string(target.kind)));
    for (auto& item : items) target.node->items.push_back(std::move(item));
}

void Unpickler::set_items(std::vector<PickleValue> items) {
    if (items.size() % 2) fail("SETITEMS with an odd number of items");
    PickleValue& target = top();
    if (!target.is(Kind::dict) && !target.is(Kind::object))
        fail("SETITEM on " + std::string(to_string(target.kind)));
    for (std::size_t i = 0; i < items.size(); i += 2)
        target.node->entries.emplace_back(std::move(items[i]), std::move(items[i + 1]));
}

PickleValue Unpickler::dict_from_pairs(std::vector<PickleValue> items) {
    if (items.size() % 2) fail("DICT with an odd number of items");
    PickleValue dict = make(Kind::dict);
    for (std::size_t i = 0; i < items.size(); i += 2)
        dict.node->entries.emplace_back(std::move(items[i]), std::move(items[i + 1]));
    return dict;
}

// A global is only its name: nothing is imported or looked up.
void Unpickler::push_global(std::string_view module, std::string_view name) {
    stack_.push_back(make_object(Kind::global, std::string(module), std::string(name)));
}

void Unpickler::build() {
    PickleValue state = pop();
    PickleValue& target = top();
    // Dicts (an OrderedDict's _metadata), lists and tensors keep their state on the Python side
    // only; objects record it.
    if (target.is(Kind::object)) target.node->object->state = std::move(state);
}

// ---- one opcode

bool Unpickler::step(std::uint8_t byte) {
    const Op op = static_cast<Op>(byte);
    switch (op) {
        // Framing and the end.
        case Op::PROTO: {
            auto protocol = read_le(1);
            if (protocol > 5) unsupported("pickle protocol " + std::to_string(protocol));
            return false;
        }
        case Op::FRAME: read_le(8); return false;  // a read-ahead hint
        case Op::STOP:
            doc_.root_ = pop();
            return true;

        // The stack.
        case Op::MARK: marks_.push_back(stack_.size()); return false;
        case Op::POP:  // pops the value on top, or a MARK right on top
            if (!marks_.empty() && stack_.size() == marks_.back()) marks_.pop_back();
            else pop();
            return false;
        case Op::POP_MARK: pop_mark(); return false;
        case Op::DUP: {
            PickleValue copy = top();
            stack_.push_back(std::move(copy));
            return false;
        }

        // Scalars.
        case Op::NONE: stack_.push_back(scalar(Kind::none)); return false;
        case Op::NEWTRUE: case Op::NEWFALSE: stack_.push_back(boolean(op == Op::NEWTRUE)); return false;
        case Op::INT: {  // protocol 0 writes True and False as INT "01" and "00"
            std::string_view line = read_line();
            if (line == "00" || line == "01") stack_.push_back(boolean(line == "01"));
            else stack_.push_back(integer(parse_int(line)));
            return false;
        }
        case Op::LONG: {  // decimal with a trailing L
            std::string_view line = read_line();
            if (!line.empty() && line.back() == 'L') line.remove_suffix(1);
            stack_.push_back(decimal_long(line));
            return false;
        }
        case Op::BININT: stack_.push_back(integer(static_cast<std::int32_t>(read_le(4)))); return false;
        case Op::BININT1: stack_.push_back(integer(static_cast<std::int64_t>(read_le(1)))); return false;
        case Op::BININT2: stack_.push_back(integer(static_cast<std::int64_t>(read_le(2)))); return false;
        case Op::LONG1: stack_.push_back(long_value(read_le(1))); return false;
        case Op::LONG4: {
            auto length = static_cast<std::int32_t>(read_le(4));
            if (length < 0) fail("LONG4 with a negative length");
            stack_.push_back(long_value(static_cast<std::uint64_t>(length)));
            return false;
        }
        case Op::FLOAT: {
            std::string_view line = read_line();
            PickleValue value = scalar(Kind::floating);
            auto [end, error] = std::from_chars(line.data(), line.data() + line.size(), value.floating);
            if (error != std::errc() || end != line.data() + line.size()) fail("'" + std::string(line) + "' is not a float");
            stack_.push_back(value);
            return false;
        }
        case Op::BINFLOAT: {  // big-endian IEEE double
            const auto* p = reinterpret_cast<const unsigned char*>(take(8));
            std::uint64_t bits = 0;
            for (int i = 0; i < 8; ++i) bits = (bits << 8) | p[i];
            PickleValue value = scalar(Kind::floating);
            std::memcpy(&value.floating, &bits, sizeof bits);
            stack_.push_back(value);
            return false;
        }

        // Strings and bytes. Python 2 str (the BINSTRINGs) is read as text, as torch.load does with
        // encoding utf-8.
        case Op::SHORT_BINUNICODE: case Op::SHORT_BINSTRING: push_text(Kind::string, read_le(1)); return false;
        case Op::BINUNICODE: push_text(Kind::string, read_le(4)); return false;
        case Op::BINSTRING: {  // a signed length
            auto length = static_cast<std::int32_t>(read_le(4));
            if (length < 0) fail("BINSTRING with a negative length");
            push_text(Kind::string, static_cast<std::uint64_t>(length));
            return false;
        }
        case Op::BINUNICODE8: push_text(Kind::string, read_le(8)); return false;
        case Op::SHORT_BINBYTES: push_text(Kind::bytes, read_le(1)); return false;
        case Op::BINBYTES: push_text(Kind::bytes, read_le(4)); return false;
        case Op::BINBYTES8: case Op::BYTEARRAY8: push_text(Kind::bytes, read_le(8)); return false;

        // Containers.
        case Op::EMPTY_TUPLE: stack_.push_back(make(Kind::tuple)); return false;
        case Op::TUPLE: stack_.push_back(sequence(Kind::tuple, pop_mark())); return false;
        case Op::TUPLE1: push_tuple(1); return false;
        case Op::TUPLE2: push_tuple(2); return false;
        case Op::TUPLE3: push_tuple(3); return false;
        case Op::EMPTY_LIST: stack_.push_back(make(Kind::list)); return false;
        case Op::LIST: stack_.push_back(sequence(Kind::list, pop_mark())); return false;
        case Op::APPEND: {
            PickleValue item = pop();
            std::vector<PickleValue> items;
            items.push_back(std::move(item));
            append(std::move(items));
            return false;
        }
        case Op::APPENDS: append(pop_mark()); return false;
        case Op::EMPTY_DICT: stack_.push_back(make(Kind::dict)); return false;
        case Op::DICT: stack_.push_back(dict_from_pairs(pop_mark())); return false;
        case Op::SETITEM: {
            PickleValue value = pop();
            PickleValue key = pop();
            std::vector<PickleValue> items;
            items.push_back(std::move(key));
            items.push_back(std::move(value));
            set_items(std::move(items));
            return false;
        }
        case Op::SETITEMS: set_items(pop_mark()); return false;
        case Op::EMPTY_SET: stack_.push_back(make(Kind::set)); return false;
        case Op::ADDITEMS: {
            std::vector<PickleValue> items = pop_mark();
            PickleValue& target = top();
            if (!target.is(Kind::set)) fail("ADDITEMS to " + std::string(to_string(target.kind)));
            for (auto& item : items) target.node->items.push_back(std::move(item));
            return false;
        }
        case Op::FROZENSET: stack_.push_back(sequence(Kind::set, pop_mark())); return false;

        // Globals, calls and objects: pickle_torch.cpp gives REDUCE, NEWOBJ and BINPERSID their meaning.
        case Op::GLOBAL: {
            std::string module(read_line());
            std::string name(read_line());
            push_global(module, name);
            return false;
        }
        case Op::STACK_GLOBAL: {
            PickleValue name = pop();
            PickleValue module = pop();
            if (!module.is(Kind::string) || !name.is(Kind::string)) fail("STACK_GLOBAL needs two strings");
            push_global(module.str(), name.str());
            return false;
        }
        case Op::REDUCE: {
            PickleValue args = pop();
            PickleValue callable = pop();
            stack_.push_back(call(callable, std::move(args), PickleValue{}, 0));
            return false;
        }
        case Op::NEWOBJ: case Op::NEWOBJ_EX: {
            PickleValue kwargs = op == Op::NEWOBJ_EX ? pop() : PickleValue{};
            PickleValue args = pop();
            PickleValue cls = pop();
            stack_.push_back(call(cls, std::move(args), std::move(kwargs), 0));
            return false;
        }
        case Op::BUILD: build(); return false;
        case Op::BINPERSID: stack_.push_back(persistent_load(pop())); return false;

        // The memo.
        case Op::PUT: memo_put(static_cast<std::uint64_t>(parse_int(read_line()))); return false;
        case Op::BINPUT: memo_put(read_le(1)); return false;
        case Op::LONG_BINPUT: memo_put(read_le(4)); return false;
        case Op::MEMOIZE: memo_put(memo_.size()); return false;
        case Op::GET: memo_get(static_cast<std::uint64_t>(parse_int(read_line()))); return false;
        case Op::BINGET: memo_get(read_le(1)); return false;
        case Op::LONG_BINGET: memo_get(read_le(4)); return false;

        // Valid pickle that neither torch nor Python writes for data.
        case Op::STRING: unsupported("opcode STRING (protocol 0 text strings)");
        case Op::UNICODE: unsupported("opcode UNICODE (protocol 0 text strings)");
        case Op::PERSID: unsupported("opcode PERSID (protocol 0 persistent ids)");
        case Op::INST: case Op::OBJ: unsupported("opcodes INST and OBJ (protocol 0/1 instances)");
        case Op::EXT1: case Op::EXT2: case Op::EXT4:
            unsupported("opcodes EXT1/EXT2/EXT4 (the copyreg extension registry)");
        case Op::NEXT_BUFFER: case Op::READONLY_BUFFER:
            unsupported("out-of-band buffers (NEXT_BUFFER, READONLY_BUFFER)");
    }
    // No default case, so that the compiler checks that every named opcode has a case above; any
    // other byte ends up here.
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", byte);
    fail(std::string("unknown opcode ") + hex);
}

PickleDocument unpickle(const char* data, std::size_t size, std::string source, StorageLoader load_storage) {
    return Unpickler(data, size, std::move(source), std::move(load_storage)).run();
}

}  // namespace segearth::core::detail
