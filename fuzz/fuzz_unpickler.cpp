// The restricted unpickler on any bytes: it must never execute anything (it cannot: nothing is
// called), never crash, and refuse what it does not understand. Storages it asks for are small.
#include "fuzz_input.hpp"

#include "weights/pickle.hpp"

#include <c10/core/CPUAllocator.h>

#include <set>

using segearth::core::detail::PickleNode;
using segearth::core::detail::PickleValue;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    segearth::fuzz::expect_clean([&] {
        const auto document = segearth::core::detail::unpickle(
            reinterpret_cast<const char*>(data), size, "fuzz", [](const std::string&) {
                return c10::Storage(c10::Storage::use_byte_size_t(), 64, c10::GetCPUAllocator());
            });
        // Walk the value tree (a crafted pickle may make cycles) and materialise every tensor.
        std::set<const PickleNode*> seen;
        std::vector<const PickleValue*> todo{&document.root()};
        while (!todo.empty()) {
            const PickleValue* v = todo.back();
            todo.pop_back();
            if (v->is(PickleValue::Kind::string)) (void)v->str();
            if (!v->node || !seen.insert(v->node).second) continue;
            if (v->is(PickleValue::Kind::tensor)) segearth::fuzz::expect_clean([&] { document.tensor(*v); });
            for (const auto& item : v->node->items) todo.push_back(&item);
            for (const auto& [key, value] : v->node->entries) todo.push_back(&key), todo.push_back(&value);
            if (const auto& o = v->node->object) todo.insert(todo.end(), {&o->args, &o->kwargs, &o->state});
        }
    });
    return 0;
}
