// What the pickles of torch.save and TorchScript mean, for the machine of pickle_machine.cpp:
// - Tensors are REDUCE(torch._utils._rebuild_tensor_v2, (storage, offset, size, stride,
//   requires_grad, hooks[, metadata])) where storage comes from BINPERSID on the tuple
//   ('storage', torch.<Type>Storage, key, location, numel) and lives in zip record data/<key>.
// - State dicts are REDUCE(collections.OrderedDict, ()) filled by SETITEMS; TorchScript wraps lists
//   in torch.jit._pickle's build_*list.
// Nothing from the file is ever called: the allow-listed names are matched against fixed strings and
// evaluated by the code below; every other callable (os.system, builtins.eval, Lightning or omegaconf
// classes) becomes an inert PickleObject that only records its name, arguments and state.
#include "weights/unpickler.hpp"

#include <limits>
#include <sstream>

namespace segearth::core::detail {

namespace {

using Kind = PickleValue::Kind;

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

}  // namespace

std::string Unpickler::qualified(const PickleValue& callable) const {
    return callable.node->object->module + "." + callable.node->object->name;
}

// Allow-listed globals are evaluated here, anything else (a global or an earlier placeholder)
// yields a new placeholder holding the arguments.
PickleValue Unpickler::call(const PickleValue& callable, PickleValue args, PickleValue kwargs, int depth) {
    if (!callable.is(Kind::global) && !callable.is(Kind::object))
        fail("calls " + std::string(to_string(callable.kind)));
    if (!args.is(Kind::tuple)) fail("arguments of " + qualified(callable) + " are " + to_string(args.kind) + ", not a tuple");
    const PickleObject& who = *callable.node->object;
    Builtin builtin = callable.is(Kind::global) ? find_builtin(who.module, who.name) : Builtin::none;
    const auto& a = args.node->items;
    // A tensor on a storage type libtorch lacks stays a placeholder, like its storage.
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

PickleValue Unpickler::ordered_dict(const std::vector<PickleValue>& args) {
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

std::vector<std::int64_t> Unpickler::int_sequence(const PickleValue& value, const char* what) {
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
PickleValue Unpickler::rebuild_tensor(const std::vector<PickleValue>& a) {
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
PickleValue Unpickler::persistent_load(const PickleValue& pid) {
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

// The storage is read on the first tensor that needs it and shared by every view of it.
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

}  // namespace segearth::core::detail
