// A restricted unpickler for the data.pkl of torch.save and TorchScript archives.
//
// It builds a tree of inert values and never calls anything named in the file: a short allow-list
// of torch's own rebuild functions makes tensors and OrderedDicts, and every other global
// (os.system, builtins.eval, Lightning or omegaconf classes) becomes a PickleObject placeholder
// that only records its name, arguments and state. Storage types libtorch lacks (quantized ones)
// become placeholders too, and so do tensors built on them: a checkpoint fails only where a
// caller needs such a tensor.
//
//   PickleDocument doc = unpickle(bytes, "model.pt: data.pkl", load_storage);
//   const PickleValue* sd = doc.root().find("state_dict");
//   torch::Tensor w = doc.tensor(*sd->find("conv.weight"));
#pragma once

#include <c10/core/Storage.h>
#include <torch/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace segearth::core::detail {

struct PickleNode;

/// One value of the tree. Containers, globals, objects and tensors live in nodes owned by their
/// PickleDocument (so a crafted pickle may make cycles without leaking); strings are shared, so
/// memo lookups copy nothing big.
struct PickleValue {
    enum class Kind : std::uint8_t {
        none, boolean, integer, big_integer, floating, string, bytes,
        list, tuple, dict, set, global, object, storage, tensor
    };
    Kind kind = Kind::none;
    bool boolean = false;
    std::int64_t integer = 0;
    double floating = 0.0;
    /// string (UTF-8 as stored), bytes, or big_integer (two's complement, little endian).
    std::shared_ptr<const std::string> text;
    PickleNode* node = nullptr;

    bool is(Kind k) const { return kind == k; }
    bool is_string(std::string_view value) const { return kind == Kind::string && *text == value; }
    const std::string& str() const;
    /// For a dict: the value of the last entry whose key is this string (a real dict has one).
    const PickleValue* find(std::string_view key) const;
};

const char* to_string(PickleValue::Kind kind);

/// What a persistent id ('storage', torch.FloatStorage, key, location, numel) names.
struct PickleStorage {
    std::string key;
    c10::ScalarType dtype = c10::ScalarType::Float;
    std::int64_t numel = 0;
};

/// A view into a storage, as _rebuild_tensor_v2 describes it, checked to fit the storage.
struct PickleTensor {
    PickleStorage storage;
    std::int64_t offset = 0;
    std::vector<std::int64_t> sizes;
    std::vector<std::int64_t> strides;
};

/// Every global that is not on the allow-list, as NEWOBJ/REDUCE/BUILD left it.
struct PickleObject {
    std::string module;
    std::string name;
    PickleValue args;    ///< tuple given to REDUCE or NEWOBJ (none for a bare GLOBAL)
    PickleValue kwargs;  ///< NEWOBJ_EX's keyword arguments
    PickleValue state;   ///< what BUILD gave it (for nn.Module and TorchScript objects: a dict)
};

/// The payload of a container, global, object, storage or tensor value. The rarer parts are
/// allocated only where used: a crafted pickle of a million EMPTY_LISTs must stay cheap.
struct PickleNode {
    std::vector<PickleValue> items;                             ///< list, tuple, set; object APPENDs
    std::vector<std::pair<PickleValue, PickleValue>> entries;   ///< dict in stream order; object SETITEMs
    std::unique_ptr<PickleObject> object;                       ///< global (module, name) and object
    std::unique_ptr<PickleStorage> storage;
    std::unique_ptr<PickleTensor> tensor;
};

/// Loads the bytes of zip record data/<key>; the document checks that they hold the elements.
using StorageLoader = std::function<c10::Storage(const std::string& key)>;

class PickleDocument {
public:
    PickleDocument() = default;
    PickleDocument(PickleDocument&&) noexcept = default;
    PickleDocument& operator=(PickleDocument&&) noexcept = default;

    const PickleValue& root() const { return root_; }
    /// The tensor a Kind::tensor value describes, as a view into its storage (read on first use
    /// and shared by every view of it). Throws FileError when the record is too short.
    torch::Tensor tensor(const PickleValue& value) const;

private:
    friend class Unpickler;
    std::string source_;
    PickleValue root_;
    std::vector<std::unique_ptr<PickleNode>> nodes_;
    StorageLoader load_storage_;
    mutable std::map<std::string, c10::Storage> storages_;
};

/// Parses a pickle (protocols 0-5, the opcodes torch and Python write for data). `source` prefixes
/// error messages ("model.pt: data.pkl"): "<source>: corrupt pickle at byte N: <problem>".
PickleDocument unpickle(const char* data, std::size_t size, std::string source, StorageLoader load_storage);

}  // namespace segearth::core::detail
