// The Unpickler behind unpickle(), private to weights/. One class in two halves, so that the pickle
// format and torch's use of it can be read apart:
// - pickle_machine.cpp: the pickle virtual machine (opcodes, value stack, mark stack, memo), which
//   knows nothing about torch;
// - pickle_torch.cpp: what the machine's REDUCE, NEWOBJ and BINPERSID mean in torch.save and
//   TorchScript files (tensors, storages, OrderedDicts), and the inert placeholders that every other
//   callable becomes.
// Both halves build values into the PickleDocument (a friend of this class) and report errors at the
// offset of the opcode being run.
#pragma once

#include "weights/pickle.hpp"

#include <segearth/error.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace segearth::core::detail {

class Unpickler {
public:
    Unpickler(const char* data, std::size_t size, std::string source, StorageLoader loader)
        : data_(data), size_(size) {
        doc_.source_ = std::move(source);
        doc_.load_storage_ = std::move(loader);
    }

    /// Runs opcodes up to STOP; the document's root is what STOP popped.
    PickleDocument run();

private:
    using Kind = PickleValue::Kind;

    // ---- errors, both halves: "<source>: corrupt pickle at byte N: <problem>"
    [[noreturn]] void fail(const std::string& problem) const {
        throw FileError(doc_.source_ + ": corrupt pickle at byte " + std::to_string(op_offset_) + ": " + problem);
    }
    [[noreturn]] void unsupported(const std::string& what) const {
        throw FileError(doc_.source_ + ": unsupported pickle at byte " + std::to_string(op_offset_) + ": " + what);
    }

    // ---- building values, both halves: nodes belong to the document, so cycles cannot leak
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

    // ---- the machine (pickle_machine.cpp)
    bool step(std::uint8_t byte);  // runs one opcode; true at STOP

    const char* take(std::uint64_t n);
    std::uint64_t read_le(int bytes);
    std::string_view read_line();
    std::int64_t parse_int(std::string_view text);
    PickleValue long_value(std::uint64_t length);
    PickleValue decimal_long(std::string_view line);
    void push_text(Kind kind, std::uint64_t length);

    std::size_t stack_floor() const { return marks_.empty() ? 0 : marks_.back(); }
    PickleValue pop();
    PickleValue& top();
    std::vector<PickleValue> pop_mark();
    void memo_put(std::uint64_t index);
    void memo_get(std::uint64_t index);

    PickleValue sequence(Kind kind, std::vector<PickleValue> items);
    void push_tuple(std::size_t n);
    void append(std::vector<PickleValue> items);
    void set_items(std::vector<PickleValue> items);
    PickleValue dict_from_pairs(std::vector<PickleValue> items);
    void push_global(std::string_view module, std::string_view name);
    void build();

    // ---- what torch's pickles mean (pickle_torch.cpp)
    /// REDUCE, NEWOBJ and NEWOBJ_EX: evaluates the allow-listed torch callables; anything else
    /// becomes a placeholder that holds its arguments.
    PickleValue call(const PickleValue& callable, PickleValue args, PickleValue kwargs, int depth);
    /// BINPERSID: a torch storage, or a placeholder for a storage type libtorch lacks.
    PickleValue persistent_load(const PickleValue& pid);

    std::string qualified(const PickleValue& callable) const;
    PickleValue ordered_dict(const std::vector<PickleValue>& args);
    PickleValue rebuild_tensor(const std::vector<PickleValue>& args);
    std::vector<std::int64_t> int_sequence(const PickleValue& value, const char* what);

    const char* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
    std::size_t op_offset_ = 0;
    std::vector<PickleValue> stack_;
    std::vector<std::size_t> marks_;
    std::unordered_map<std::uint64_t, PickleValue> memo_;
    PickleDocument doc_;
};

}  // namespace segearth::core::detail
