// The value tree that unpickle() builds: names of its kinds for error messages, and lookups. The
// unpickler itself is unpickler.hpp: the pickle machine (pickle_machine.cpp) and what torch's pickles
// mean (pickle_torch.cpp).
#include "weights/pickle.hpp"

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

}  // namespace segearth::core::detail
