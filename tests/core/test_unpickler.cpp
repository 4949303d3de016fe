// The unpickler's private interface (weights/pickle.hpp), tested directly: every value kind and the
// opcodes no torch file uses, inert placeholders for unknown globals, persistent ids and tensor views
// checked against their storage, corrupt pickles reported with the byte offset, and every single-byte
// corruption of a real torch.save data.pkl.
#include <doctest/doctest.h>

#include <segearth/error.hpp>

#include "support/weights_files.hpp"
#include "weights/pickle.hpp"
#include "weights/zip_archive.hpp"

#include <torch/torch.h>

#include <cstdint>
#include <string>

using namespace std::string_literals;
using namespace segearth::test::weights;
using segearth::FileError;
using segearth::core::detail::PickleValue;
using Kind = PickleValue::Kind;

namespace {

segearth::core::detail::PickleDocument unpickle_bytes(const std::string& bytes) {
    return segearth::core::detail::unpickle(bytes.data(), bytes.size(), "test.pkl",
                                            [](const std::string& key) -> c10::Storage {
                                                throw FileError("no storage " + key);
                                            });
}

std::string unpickle_error(const std::string& bytes) {
    return message_of([&] { unpickle_bytes(bytes); });
}

// Pickle opcodes by name, so the byte strings in the tests read like pickletools' listings.
std::string k(int value) { return "K" + le(static_cast<std::uint64_t>(value), 1); }     // BININT1
std::string unicode(const std::string& text) { return "X" + le(text.size(), 4) + text; }  // BINUNICODE
std::string global(const std::string& module, const std::string& name) { return "c" + module + "\n" + name + "\n"; }

}  // namespace

TEST_CASE("the unpickler survives every single-byte corruption of a torch.save data.pkl") {
    // A damaged pickle with an intact CRC (a buggy writer, a crafted file) reaches the unpickler.
    // Every byte, two ways: each must give a document (whose tensors load) or a FileError.
    segearth::core::detail::ZipArchive archive(fixture("plain.pt"));
    auto record = archive.read_record("data.pkl");
    const std::string pickle(static_cast<const char*>(record.data.get()), record.size);
    auto load = [&](const std::string& key) {
        auto data = archive.read_record("data/" + key);
        return c10::Storage(c10::Storage::use_byte_size_t(), data.size, std::move(data.data), nullptr, false);
    };
    int documents = 0;
    int errors = 0;
    for (std::size_t i = 0; i < pickle.size(); ++i) {
        for (char replacement : {static_cast<char>(pickle[i] ^ 0xff), 'q'}) {
            std::string bytes = pickle;
            bytes[i] = replacement;
            try {
                auto doc = segearth::core::detail::unpickle(bytes.data(), bytes.size(), "fuzz", load);
                if (doc.root().is(Kind::dict))
                    for (const auto& entry : doc.root().node->entries)
                        if (entry.second.is(Kind::tensor)) doc.tensor(entry.second);
                ++documents;
            } catch (const FileError&) {
                ++errors;
            }
        }
    }
    CHECK(documents > 0);
    CHECK(errors > 0);
}

TEST_CASE("the unpickler reads every value kind Python writes in protocols 1 to 5") {
    for (int protocol : {1, 2, 5}) {
        INFO("protocol ", protocol);
        std::string bytes = read_file(fixture("values_protocol" + std::to_string(protocol) + ".pkl"));
        auto doc = unpickle_bytes(bytes);
        const PickleValue& root = doc.root();
        REQUIRE(root.is(Kind::dict));
        CHECK(root.find("i")->integer == 5);
        CHECK(root.find("neg")->integer == -70000);
        CHECK(root.find("big")->is(Kind::big_integer));
        CHECK(root.find("big")->str() == std::string(8, '\0') + "\x40");  // 2**70, little endian
        CHECK(root.find("f")->floating == 1.5);
        CHECK(root.find("s")->str() == "h\xc3\xa9llo");
        CHECK(root.find("b")->is(Kind::bytes) == (protocol >= 3));  // protocol 1/2 pickle bytes via codecs.encode
        const PickleValue* list = root.find("l");
        REQUIRE(list->is(Kind::list));
        CHECK(list->node == root.find("again")->node);  // one list, memoised, referenced twice
        CHECK(list->node->items.at(0).integer == 1);
        CHECK(list->node->items.at(1).node->items.at(1).integer == 3);
        CHECK(root.find("t")->node->items.size() == 4);
        CHECK(root.find("none")->is(Kind::none));
        CHECK(root.find("yes")->boolean);
        CHECK_FALSE(root.find("no")->boolean);
        if (protocol >= 4) {
            CHECK(root.find("fs")->is(Kind::set));
            CHECK(root.find("set")->node->items.at(0).integer == 7);
            CHECK(root.find("ba")->str() == "xy");
        } else {
            // Sets and bytearrays come as builtins calls: inert placeholders.
            CHECK(root.find("set")->is(Kind::object));
            CHECK(root.find("set")->node->object->name == "set");
        }
    }
}

TEST_CASE("the unpickler handles text opcodes and stack operations") {
    // INT 01 (True), LONG, FLOAT, PUT/GET, DUP, POP, POP_MARK, TUPLE2/3, DICT, LIST, BINFLOAT, LONG1.
    std::string bytes = "(" "I01\n" "L123L\n" "F2.5\n" "p7\n" "g7\n" "2" "0" "(" + k(1) + "1" + k(1) + k(2) + "\x86" +
                        k(1) + k(2) + k(3) + "\x87" + "(" + k(9) + k(10) + "d" + "(" + k(5) + "l" + "G\x3f\xf8" +
                        std::string(6, '\0') + "\x8a\x01\xff" + "\x8a\x02\xff\x7f" + "\x8a\x00"s +
                        "L1180591620717411303424L\n" "L-129L\n" "l.";
    auto doc = unpickle_bytes(bytes);
    REQUIRE(doc.root().is(Kind::list));
    const auto& items = doc.root().node->items;
    REQUIRE(items.size() == 14);
    CHECK(items[0].is(Kind::boolean));
    CHECK(items[0].boolean);
    CHECK(items[1].integer == 123);
    CHECK(items[2].floating == 2.5);
    CHECK(items[3].floating == 2.5);  // GET of the memoised float; DUP's copy was popped
    CHECK(items[4].node->items.size() == 2);
    CHECK(items[5].node->items.at(2).integer == 3);
    CHECK(items[6].node->entries.at(0).first.integer == 9);
    CHECK(items[6].node->entries.at(0).second.integer == 10);
    CHECK(items[7].node->items.at(0).integer == 5);
    CHECK(items[8].floating == 1.5);
    CHECK(items[9].integer == -1);
    CHECK(items[10].integer == 32767);
    CHECK(items[11].is(Kind::integer));  // LONG1 with no bytes is 0
    CHECK(items[11].integer == 0);
    CHECK(items[12].is(Kind::big_integer));  // 2**70 as LONG1 would write it
    CHECK(items[12].str() == std::string(8, '\0') + "\x40");
    CHECK(items[13].integer == -129);
}

TEST_CASE("the unpickler turns every unknown global into an inert placeholder") {
    // builtins.eval("rm -") then BUILD: a placeholder object with its args and state.
    auto doc = unpickle_bytes(global("builtins", "eval") + unicode("rm -") + "\x85" "R" "}" + unicode("a") + k(1) + "sb.");
    REQUIRE(doc.root().is(Kind::object));
    const auto& object = *doc.root().node->object;
    CHECK(object.module == "builtins");
    CHECK(object.name == "eval");
    CHECK(object.args.node->items.at(0).str() == "rm -");
    CHECK(object.state.find("a")->integer == 1);
    // REDUCE on a placeholder gives another placeholder; APPEND and SETITEM on one are recorded.
    auto again = unpickle_bytes(global("omegaconf", "DictConfig") + ")R)R" + k(1) + "a" + k(2) + k(3) + "s.");
    REQUIRE(again.root().is(Kind::object));
    CHECK(again.root().node->object->name == "DictConfig");
    CHECK(again.root().node->items.at(0).integer == 1);
    CHECK(again.root().node->entries.at(0).second.integer == 3);
    // NEWOBJ_EX keeps its keyword arguments.
    auto ex = unpickle_bytes("\x80\x04\x8c\x08" "argparse" "\x8c\x09" "Namespace" "\x93)}\x92.");
    CHECK(ex.root().node->object->kwargs.is(Kind::dict));
}

TEST_CASE("the unpickler reports corrupt pickles with the byte offset") {
    CHECK(unpickle_error("\x80\x02.") == "test.pkl: corrupt pickle at byte 2: pops an empty stack");
    CHECK(unpickle_error("\x80\x02N") == "test.pkl: corrupt pickle at byte 3: the data ends without a STOP opcode");
    CHECK(unpickle_error("h\x05.") == "test.pkl: corrupt pickle at byte 0: memo entry 5 was never stored");
    CHECK(unpickle_error("r" + le(1, 4) + ".") == "test.pkl: corrupt pickle at byte 0: reads an empty stack");
    CHECK(unpickle_error("}" + k(1) + "a.") == "test.pkl: corrupt pickle at byte 3: APPEND to a dict");
    CHECK(unpickle_error("]" + k(1) + k(2) + "s.") == "test.pkl: corrupt pickle at byte 5: SETITEM on a list");
    CHECK(unpickle_error(k(1) + "t.") == "test.pkl: corrupt pickle at byte 2: needs a MARK but there is none");
    CHECK(unpickle_error("(" + k(1) + k(2) + "(" + k(3) + "d.") ==
          "test.pkl: corrupt pickle at byte 8: DICT with an odd number of items");
    CHECK(unpickle_error(k(1) + "(\x85.") == "test.pkl: corrupt pickle at byte 3: pops an empty stack");
    CHECK(unpickle_error("X" + le(255, 4) + "ab.") ==
          "test.pkl: corrupt pickle at byte 0: needs 255 more bytes but only 3 remain");
    CHECK(unpickle_error("\x8d\xff\xff\xff\xff\xff\xff\xff\xff.") ==
          "test.pkl: corrupt pickle at byte 0: needs 18446744073709551615 more bytes but only 1 remain");
    CHECK(unpickle_error("\xff") == "test.pkl: corrupt pickle at byte 0: unknown opcode 0xff");
    CHECK(unpickle_error("cos\nsystem") == "test.pkl: corrupt pickle at byte 0: a text argument has no end of line");
    CHECK(unpickle_error("I12x\n.") == "test.pkl: corrupt pickle at byte 0: '12x' is not an integer that fits 64 bits");
    CHECK(unpickle_error("L" + std::string(5000, '9') + "L\n.") ==
          "test.pkl: corrupt pickle at byte 0: an integer of 5000 digits (the limit is 4300)");
    CHECK(unpickle_error(k(1) + k(2) + "R.") == "test.pkl: corrupt pickle at byte 4: calls an int");
    CHECK(unpickle_error(global("os", "system") + "]R.") ==
          "test.pkl: corrupt pickle at byte 12: arguments of os.system are a list, not a tuple");
    CHECK(unpickle_error(k(1) + k(2) + "\x93.") == "test.pkl: corrupt pickle at byte 4: STACK_GLOBAL needs two strings");
    CHECK(unpickle_error("\x80\x06.") == "test.pkl: unsupported pickle at byte 0: pickle protocol 6");
    CHECK(unpickle_error("S'a'\n.") == "test.pkl: unsupported pickle at byte 0: opcode STRING (protocol 0 text strings)");
    CHECK(unpickle_error("\x82\x01.") ==
          "test.pkl: unsupported pickle at byte 0: opcodes EXT1/EXT2/EXT4 (the copyreg extension registry)");
}

TEST_CASE("the unpickler checks persistent ids and tensor views against their storage") {
    // _rebuild_tensor_v2(('storage', torch.<type>, '0', 'cpu', numel), offset, size, stride, False, ())
    auto storage = [](const std::string& type, int numel) {
        return "(" + unicode("storage") + global("torch", type) + unicode("0") + unicode("cpu") + k(numel) + "tQ";
    };
    auto rebuild = [](const std::string& view) {
        return global("torch._utils", "_rebuild_tensor_v2") + "(" + view + "\x89)tR.";
    };
    std::string good = rebuild(storage("FloatStorage", 6) + k(1) + k(2) + k(2) + "\x86" + k(1) + k(2) + "\x86");
    torch::Tensor values = torch::arange(6, torch::kFloat32);
    auto doc = segearth::core::detail::unpickle(good.data(), good.size(), "t.pkl", [&](const std::string& key) {
        CHECK(key == "0");
        return values.storage();
    });
    torch::Tensor t = doc.tensor(doc.root());
    CHECK(torch::equal(t, torch::tensor({{1.0f, 3.0f}, {2.0f, 4.0f}})));

    std::string too_far = rebuild(storage("FloatStorage", 6) + k(3) + k(2) + k(2) + "\x86" + k(1) + k(2) + "\x86");
    CHECK(unpickle_error(too_far) == "test.pkl: corrupt pickle at byte " + std::to_string(too_far.size() - 2) +
                                         ": tensor view (offset 3, size [2, 2], stride [1, 2]) needs 7 elements but its "
                                         "storage '0' has 6");
    std::string huge_stride = rebuild(storage("FloatStorage", 6) + k(0) + k(2) + "\x85" + "\x8a\x08" +
                                      "\xff\xff\xff\xff\xff\xff\xff\x7f" + "\x85");
    CHECK(unpickle_error(huge_stride) == "test.pkl: corrupt pickle at byte " + std::to_string(huge_stride.size() - 2) +
                                             ": tensor view (offset 0, size [2], stride [9223372036854775807]) needs more "
                                             "elements but its storage '0' has 6");
    std::string negative = rebuild(storage("FloatStorage", 6) + k(0) + k(2) + "\x85" + "J\xff\xff\xff\xff" + "\x85");
    CHECK(unpickle_error(negative) == "test.pkl: corrupt pickle at byte " + std::to_string(negative.size() - 2) +
                                          ": tensor stride holds a negative or non-integer value");
    // A storage type libtorch cannot hold becomes a placeholder, and so does a tensor built on it.
    auto qint = unpickle_bytes(rebuild(storage("QInt8Storage", 6) + k(0) + k(2) + "\x85" + k(1) + "\x85"));
    REQUIRE(qint.root().is(Kind::object));
    CHECK(qint.root().node->object->name == "_rebuild_tensor_v2");
    const PickleValue& qint_storage = qint.root().node->object->args.node->items.at(0);
    CHECK(qint_storage.node->object->module == "torch");
    CHECK(qint_storage.node->object->name == "QInt8Storage");
    CHECK(unpickle_error(k(1) + "Q.") ==
          "test.pkl: unsupported pickle at byte 2: persistent id is not ('storage', type, key, location, numel)");
    // A storage record shorter than the persistent id says.
    auto short_doc = segearth::core::detail::unpickle(good.data(), good.size(), "t.pkl", [&](const std::string&) {
        return torch::arange(5, torch::kFloat32).storage();
    });
    CHECK(message_of([&] { short_doc.tensor(short_doc.root()); }) ==
          "t.pkl: storage data/0 holds 20 bytes but the pickle says it has 6 elements of Float (24 bytes)");
}
