// Weights reading: every format against fixtures from tests/fixtures/make_weights_fixtures.py, whose
// tensors hold torch.arange(numel) reshaped and cast, and every corruption with its exact message.
// The unpickler's private interface is tested directly for opcodes no torch file uses.
#include <doctest/doctest.h>

#include <segearth/core/weights.hpp>
#include <segearth/error.hpp>

#include "weights/pickle.hpp"
#include "weights/zip_archive.hpp"

#include <torch/torch.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace std::string_literals;
using segearth::FileError;
using segearth::core::read_weights;
using segearth::core::TensorMap;
using segearth::core::to_string;
using segearth::core::detail::PickleValue;
using Kind = PickleValue::Kind;

namespace {

fs::path fixture(const std::string& name) { return fs::path(SEGEARTH_FIXTURES_DIR) / "weights" / name; }

fs::path scratch(const std::string& name) {
    fs::path dir = fs::path(SEGEARTH_TEST_TMP_DIR) / "weights";
    fs::create_directories(dir);
    return dir / name;
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const fs::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

torch::Tensor arange(std::vector<std::int64_t> shape, torch::Dtype dtype = torch::kFloat32) {
    std::int64_t numel = 1;
    for (auto s : shape) numel *= s;
    return torch::arange(numel, torch::kLong).reshape(shape).to(dtype);
}

std::set<std::string> names(const TensorMap& tensors) {
    std::set<std::string> out;
    for (const auto& item : tensors) out.insert(item.first);
    return out;
}

void check_tensor(const TensorMap& tensors, const std::string& name, const torch::Tensor& expected) {
    INFO("tensor ", name);
    REQUIRE(tensors.count(name) == 1);
    const torch::Tensor& actual = tensors.at(name);
    CHECK(std::string(c10::toString(actual.scalar_type())) == c10::toString(expected.scalar_type()));
    CHECK(actual.sizes() == expected.sizes());
    CHECK(torch::equal(actual, expected));
}

std::string message_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const FileError& error) {
        return error.what();
    }
    return "(no FileError)";
}

std::string error_reading(const fs::path& path) {
    return message_of([&] { read_weights(path); });
}

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
std::string le(std::uint64_t value, int bytes) {
    std::string out;
    for (int i = 0; i < bytes; ++i) out += static_cast<char>((value >> (8 * i)) & 0xff);
    return out;
}
std::string k(int value) { return "K" + le(static_cast<std::uint64_t>(value), 1); }     // BININT1
std::string unicode(const std::string& text) { return "X" + le(text.size(), 4) + text; }  // BINUNICODE
std::string global(const std::string& module, const std::string& name) { return "c" + module + "\n" + name + "\n"; }

// A safetensors file from a header text and `data_size` zero bytes of data.
fs::path raw_safetensors(const std::string& name, const std::string& header, std::size_t data_size,
                         std::uint64_t declared_length = 0) {
    fs::path path = scratch(name);
    write_file(path, le(declared_length ? declared_length : header.size(), 8) + header + std::string(data_size, '\0'));
    return path;
}

// The offset of a stored (uncompressed) zip entry's data, from its local header.
std::size_t stored_entry_offset(const std::string& zip, const std::string& name) {
    std::size_t at = zip.find(name);
    REQUIRE(at != std::string::npos);
    std::size_t header = at - 30;
    REQUIRE(zip.compare(header, 4, "PK\x03\x04") == 0);
    auto u16 = [&](std::size_t p) { return static_cast<std::size_t>(static_cast<unsigned char>(zip[p])) |
                                           static_cast<std::size_t>(static_cast<unsigned char>(zip[p + 1])) << 8; };
    return header + 30 + u16(header + 26) + u16(header + 28);
}

}  // namespace

TEST_CASE("read_weights reads a torch.save state dict with every dtype and views into one storage") {
    for (const char* file : {"plain.pt", "plain_protocol4.pt", "plain_zip64.pt"}) {
        INFO(file);
        auto weights = read_weights(fixture(file));
        CHECK(std::string(to_string(weights.format)) == "torch_save");
        CHECK(weights.path == fixture(file));
        const TensorMap& t = weights.tensors;
        CHECK(names(t) == std::set<std::string>{"conv.weight", "ln.bias", "emb", "steps", "f64", "i32", "i16", "i8",
                                                "u8", "mask", "logit_scale", "empty", "base", "base_t", "base_rows",
                                                "tagged"});
        check_tensor(t, "conv.weight", arange({2, 3, 2, 2}));
        check_tensor(t, "ln.bias", arange({5}, torch::kFloat16));
        check_tensor(t, "emb", arange({2, 3}, torch::kBFloat16));
        check_tensor(t, "steps", arange({4}, torch::kInt64));
        check_tensor(t, "f64", arange({2}, torch::kFloat64));
        check_tensor(t, "i32", arange({3}, torch::kInt32));
        check_tensor(t, "i16", arange({3}, torch::kInt16));
        check_tensor(t, "i8", arange({3}, torch::kInt8));
        check_tensor(t, "u8", arange({3}, torch::kUInt8));
        check_tensor(t, "mask", torch::tensor({true, false, true}));
        check_tensor(t, "logit_scale", torch::tensor(4.5f));
        check_tensor(t, "empty", torch::zeros({0, 3}));
        check_tensor(t, "base", arange({3, 4}));
        check_tensor(t, "base_t", arange({3, 4}).t());
        check_tensor(t, "base_rows", arange({3, 4}).slice(0, 1, 3));
        check_tensor(t, "tagged", arange({2}, torch::kFloat64));
        CHECK_FALSE(t.at("base_t").is_contiguous());
        CHECK(t.at("base_t").storage().is_alias_of(t.at("base").storage()));
        CHECK(t.at("base_rows").storage_offset() == 4);
    }
}

TEST_CASE("read_weights unwraps model and state_dict levels and strips a shared module. prefix") {
    auto nested = read_weights(fixture("nested_model.pt"));
    CHECK(std::string(to_string(nested.format)) == "torch_save");
    CHECK(names(nested.tensors) == std::set<std::string>{"visual.conv1.weight", "text.proj"});
    check_tensor(nested.tensors, "visual.conv1.weight", arange({2, 2}));

    auto prefixed = read_weights(fixture("module_prefix.pt"));
    CHECK(std::string(to_string(prefixed.format)) == "torch_save");  // "state_dict" and "epoch" alone are no Lightning file
    CHECK(names(prefixed.tensors) == std::set<std::string>{"a", "b.c"});
    check_tensor(prefixed.tensors, "b.c", arange({3}, torch::kFloat16));

    // "module." on only some names is part of the names.
    CHECK(names(read_weights(fixture("partial_prefix.pt")).tensors) == std::set<std::string>{"module.a", "b"});
}

TEST_CASE("read_weights reads a Lightning checkpoint without running anything in it") {
    fs::path marker = fixture("PWNED");
    fs::remove(marker);
    auto weights = read_weights(fixture("lightning.ckpt"));
    CHECK(std::string(to_string(weights.format)) == "lightning_checkpoint");
    CHECK(names(weights.tensors) == std::set<std::string>{"model.upsampler.weight", "model.upsampler.bias"});
    check_tensor(weights.tensors, "model.upsampler.weight", arange({2, 2}));
    check_tensor(weights.tensors, "model.upsampler.bias", arange({2}));
    CHECK_FALSE(fs::exists(marker));

    // The unknown classes and os.system's __reduce__ are inert placeholders with their arguments.
    segearth::core::detail::ZipArchive archive(fixture("lightning.ckpt"));
    auto pkl = archive.read_record("data.pkl");
    auto doc = segearth::core::detail::unpickle(static_cast<const char*>(pkl.data.get()), pkl.size, "ckpt",
                                                [](const std::string&) { return c10::Storage(); });
    const PickleValue* hparams = doc.root().find("hyper_parameters");
    REQUIRE(hparams);
    const PickleValue* evil = hparams->find("evil");
    REQUIRE(evil);
    REQUIRE(evil->is(Kind::object));
    CHECK(evil->node->object->module == "posix");
    CHECK(evil->node->object->name == "system");
    REQUIRE(evil->node->object->args.is(Kind::tuple));
    CHECK(evil->node->object->args.node->items.at(0).str() == "touch " + marker.string());
    const PickleValue* cfg = hparams->find("cfg");
    REQUIRE(cfg);
    CHECK(cfg->node->object->module == "__main__");
    CHECK(cfg->node->object->name == "HParams");
    REQUIRE(cfg->node->object->state.find("name"));
    CHECK(cfg->node->object->state.find("name")->str() == "simfeatup");
    const PickleValue* ns = hparams->find("ns");
    REQUIRE(ns);
    CHECK(ns->node->object->module == "argparse");
    CHECK(ns->node->object->state.find("dim")->integer == 384);
}

TEST_CASE("read_weights reads TorchScript archives as data and keeps parameters and buffers only") {
    const std::set<std::string> expected{"positional_embedding", "block.counts", "block.proj.weight", "block.proj.bias",
                                         "seq.0.weight", "seq.0.bias", "seq.2.weight", "seq.2.bias"};
    for (const char* file : {"traced.pt", "scripted.pt"}) {
        INFO(file);
        auto weights = read_weights(fixture(file));
        CHECK(std::string(to_string(weights.format)) == "torchscript");
        CHECK(names(weights.tensors) == expected);
        check_tensor(weights.tensors, "positional_embedding", arange({2, 3}, torch::kFloat16));
        check_tensor(weights.tensors, "block.counts", arange({3}, torch::kInt64));
        check_tensor(weights.tensors, "block.proj.weight", arange({3, 3}));
        check_tensor(weights.tensors, "seq.2.weight", arange({1, 2}));
    }
    // Without the code that declares parameters and buffers, every tensor attribute counts.
    auto without_code = read_weights(fixture("scripted_without_code.pt"));
    CHECK(std::string(to_string(without_code.format)) == "torchscript");
    std::set<std::string> with_mask = expected;
    with_mask.insert("block.attn_mask");
    CHECK(names(without_code.tensors) == with_mask);
    check_tensor(without_code.tensors, "block.attn_mask", arange({2, 2}));
}

TEST_CASE("read_weights reads a whole pickled nn.Module through its _parameters and _modules") {
    auto weights = read_weights(fixture("whole_module.pt"));
    CHECK(std::string(to_string(weights.format)) == "torch_save");
    CHECK(names(weights.tensors) == std::set<std::string>{"positional_embedding", "block.counts", "block.proj.weight",
                                                          "block.proj.bias", "seq.0.weight", "seq.0.bias",
                                                          "seq.2.weight", "seq.2.bias"});
    check_tensor(weights.tensors, "seq.0.bias", arange({2}));
}

TEST_CASE("read_weights reads safetensors written from the format's spec") {
    auto weights = read_weights(fixture("by_hand.safetensors"));
    CHECK(std::string(to_string(weights.format)) == "safetensors");
    const TensorMap& t = weights.tensors;
    CHECK(names(t) == std::set<std::string>{"w32", "h16", "b16", "i64", "i32", "i16", "i8", "u8", "f64", "flags",
                                            "scalar", "none", "module.not_a_prefix"});
    check_tensor(t, "w32", arange({2, 3}));
    check_tensor(t, "h16", arange({4}, torch::kFloat16));
    check_tensor(t, "b16", arange({2, 2}, torch::kBFloat16));
    check_tensor(t, "i64", arange({3}, torch::kInt64));
    check_tensor(t, "i32", arange({2}, torch::kInt32));
    check_tensor(t, "i16", arange({2}, torch::kInt16));
    check_tensor(t, "i8", arange({2}, torch::kInt8));
    check_tensor(t, "u8", arange({2}, torch::kUInt8));
    check_tensor(t, "f64", arange({2}, torch::kFloat64));
    check_tensor(t, "flags", torch::tensor({false, true}));
    check_tensor(t, "scalar", torch::tensor(2.5f));
    check_tensor(t, "none", torch::zeros({0, 2}));
    CHECK(segearth::core::read_safetensors_metadata(fixture("by_hand.safetensors")) ==
          std::map<std::string, std::string>{{"format", "pt"}, {"note", "caf\xc3\xa9 \"quoted\"\n"}});

    auto unpadded = read_weights(fixture("no_metadata.safetensors"));
    CHECK(names(unpadded.tensors) == std::set<std::string>{"x", "y"});
    CHECK(segearth::core::read_safetensors_metadata(fixture("no_metadata.safetensors")).empty());
}

TEST_CASE("write_safetensors writes sorted and aligned headers and reads back exactly") {
    fs::path path = scratch("written.safetensors");
    write_file(path, "an older file that must be replaced");
    TensorMap tensors{{"b", arange({2})}, {"a", arange({3}, torch::kUInt8)}};
    segearth::core::write_safetensors(path, tensors, {{"k", "v"}});
    std::string bytes = read_file(path);
    std::string header = "{\"__metadata__\":{\"k\":\"v\"},\"a\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[8,11]},"
                         "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    header.append((8 - header.size() % 8) % 8, ' ');
    REQUIRE(bytes.size() == 8 + header.size() + 11);
    CHECK(static_cast<unsigned char>(bytes[0]) == header.size());
    CHECK(bytes.substr(1, 7) == std::string(7, '\0'));
    CHECK(bytes.substr(8, header.size()) == header);

    // Every dtype, a non-contiguous view, and metadata that needs escaping.
    TensorMap all{{"f64", arange({2}, torch::kFloat64)}, {"f32", arange({2, 3}).t()}, {"f16", arange({3}, torch::kFloat16)},
                  {"bf16", arange({2, 2}, torch::kBFloat16)}, {"i64", arange({2}, torch::kInt64)},
                  {"i32", arange({2}, torch::kInt32)}, {"i16", arange({1}, torch::kInt16)}, {"i8", arange({3}, torch::kInt8)},
                  {"u8", arange({1}, torch::kUInt8)}, {"bool", torch::tensor({true, false})}, {"scalar", torch::tensor(7.0)},
                  {"empty", torch::zeros({0})}, {"n\xc3\xa4me \"q\"", arange({1})}};
    std::map<std::string, std::string> metadata{{"quote\"", "back\\slash\ttab\x01"}, {"utf8", "\xc3\xa9"}};
    segearth::core::write_safetensors(path, all, metadata);
    auto back = read_weights(path);
    CHECK(std::string(to_string(back.format)) == "safetensors");
    CHECK(names(back.tensors) == names(all));
    for (const auto& [name, tensor] : all) check_tensor(back.tensors, name, tensor);
    CHECK(segearth::core::read_safetensors_metadata(path) == metadata);
    for (const auto& entry : fs::directory_iterator(path.parent_path()))
        CHECK(entry.path().extension() != ".tmp");

    CHECK(message_of([&] { segearth::core::write_safetensors(path, {{"c", torch::zeros({2}, torch::kComplexFloat)}}); }) ==
          path.string() + ": cannot write tensor 'c': safetensors has no dtype for ComplexFloat");
    fs::path nowhere = scratch("no/such/dir/x.safetensors");
    CHECK(message_of([&] { segearth::core::write_safetensors(nowhere, tensors); }) ==
          nowhere.string() + ": the folder " + nowhere.parent_path().string() + " does not exist");
}

TEST_CASE("read_weights names the file and the problem for files that are not weights") {
    fs::path missing = scratch("missing.pt");
    fs::remove(missing);
    CHECK(error_reading(missing) == missing.string() + ": no such file");
    fs::path dir = scratch("a_directory.pt");
    fs::create_directories(dir);
    CHECK(error_reading(dir) == dir.string() + ": is a directory, not a weights file");
    fs::path empty = scratch("empty.pt");
    write_file(empty, "");
    CHECK(error_reading(empty) == empty.string() + ": the file is empty");
    fs::path text = scratch("text.pt");
    write_file(text, "just some text\n");
    CHECK(error_reading(text) == text.string() + ": not a weights file (expected a zip archive or safetensors)");
    write_file(text, "version https://git-lfs.github.com/spec/v1\noid sha256:0123\nsize 351\n");
    CHECK(error_reading(text) == text.string() + ": a Git LFS pointer, not the weights it points to: fetch them with git lfs pull");
    write_file(text, "\n<!DOCTYPE html>\n<html><body>Sign in</body></html>");
    CHECK(error_reading(text) == text.string() + ": an HTML page, not weights (did a download fail?)");
    CHECK(error_reading(fixture("quantized.pt")) ==
          fixture("quantized.pt").string() +
              ": tensor 'q' is stored by torch._utils._rebuild_qtensor, which segearth does not read (only dense tensors)");
    CHECK(error_reading(fixture("one_tensor.pt")) ==
          fixture("one_tensor.pt").string() + ": data.pkl holds a single tensor, not a state dict of named tensors");
    CHECK(error_reading(fixture("legacy.pt")) ==
          fixture("legacy.pt").string() +
              ": this is PyTorch's legacy (pre-1.6) torch.save format, which segearth does not read; convert it with "
              "Python: torch.save(torch.load(\"old.pt\", map_location=\"cpu\"), \"new.pt\", "
              "_use_new_zipfile_serialization=True)");
    CHECK(error_reading(fixture("no_tensors.pt")) ==
          fixture("no_tensors.pt").string() + ": no tensors found (data.pkl holds a dict without a state dict)");
    CHECK(error_reading(fixture("no_data_pkl.pt")) ==
          fixture("no_data_pkl.pt").string() + ": a zip archive without data.pkl, so not a PyTorch file");
    CHECK(error_reading(fixture("not_torch.zip")) ==
          fixture("not_torch.zip").string() +
              ": not a PyTorch archive: 'readme.txt' is not inside the archive's top folder");
}

TEST_CASE("read_weights reports truncated and damaged zip archives") {
    const std::string plain = read_file(fixture("plain.pt"));
    fs::path path = scratch("damaged.pt");
    for (std::size_t keep : {plain.size() - 1, plain.size() / 2, std::size_t{100}, std::size_t{3}}) {
        INFO("kept ", keep, " bytes");
        write_file(path, plain.substr(0, keep));
        std::string expected = keep < 4 ? ": not a weights file (expected a zip archive or safetensors)"
                                        : ": not a readable zip archive: the zip directory at the end of the file is "
                                          "missing (is the file truncated?)";
        CHECK(error_reading(path) == path.string() + expected);
    }

    // A flipped byte in a tensor's data fails its CRC-32.
    std::size_t data0 = stored_entry_offset(plain, "plain/data/0");
    std::string bytes = plain;
    bytes[data0 + 5] = static_cast<char>(bytes[data0 + 5] ^ 0x01);
    write_file(path, bytes);
    CHECK(error_reading(path) == path.string() + ": record 'data/0' is damaged (its CRC-32 does not match)");

    // A directory entry claiming more bytes than the file holds.
    std::size_t entry = plain.find("plain/data/0", plain.find("plain/data/0") + 1) - 46;
    REQUIRE(plain.compare(entry, 4, "PK\x01\x02") == 0);
    bytes = plain;
    bytes.replace(entry + 20, 8, le(1 << 20, 4) + le(1 << 20, 4));
    write_file(path, bytes);
    CHECK(error_reading(path) == path.string() + ": truncated: record 'data/0' needs bytes " + std::to_string(data0) +
                                     ".." + std::to_string(data0 + (1 << 20)) + " but the file has " +
                                     std::to_string(plain.size()));
    // ... or a local header somewhere else.
    bytes = plain;
    bytes.replace(entry + 42, 4, le(7, 4));
    write_file(path, bytes);
    CHECK(error_reading(path) == path.string() + ": corrupt zip archive: record 'data/0' has no local header at byte 7");

    CHECK(error_reading(fixture("missing_storage.pt")) ==
          fixture("missing_storage.pt").string() + ": the zip archive has no record 'data/0'");
    CHECK(error_reading(fixture("short_storage.pt")) ==
          fixture("short_storage.pt").string() +
              ": data.pkl: storage data/0 holds 10 bytes but the pickle says it has 24 elements of Float (96 bytes)");
    CHECK(error_reading(fixture("bad_pickle.pt")) ==
          fixture("bad_pickle.pt").string() + ": data.pkl: corrupt pickle at byte 2: unknown opcode 0xff");
}

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

TEST_CASE("read_weights bounds crafted nesting and sharing in data.pkl") {
    CHECK(error_reading(fixture("deep.pt")) == fixture("deep.pt").string() + ": data.pkl nests deeper than 64 levels");
    CHECK(error_reading(fixture("shared.pt")) ==
          fixture("shared.pt").string() + ": data.pkl refers to one container over 1000 times");
}

TEST_CASE("read_weights reports corrupt safetensors headers") {
    const std::string entry = R"("t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
    auto error_for = [](const fs::path& path) { return error_reading(path); };
    fs::path path = raw_safetensors("cut_data.safetensors", "{" + entry + "}", 4);
    CHECK(error_for(path) == path.string() + ": truncated: tensor 't' needs bytes 62..70 but the file has 66");
    path = raw_safetensors("cut_header.safetensors", "{\"t\":", 0, 100);
    CHECK(error_for(path) == path.string() + ": truncated: the safetensors header needs bytes 8..108 but the file has 13");
    path = raw_safetensors("huge_header.safetensors", "{}", 0, 1ull << 40);
    CHECK(error_for(path) == path.string() + ": not a weights file (expected a zip archive or safetensors)");
    CHECK(message_of([&] { segearth::core::read_safetensors_metadata(path); }) ==
          path.string() + ": not a safetensors file: its header length 1099511627776 is larger than the format's limit of 100000000");
    path = raw_safetensors("bad_json.safetensors", R"({"t":{"dtype":"F32",}})", 0);
    CHECK(error_for(path) == path.string() + ": corrupt safetensors header at byte 28: expected a string");
    path = raw_safetensors("bad_size.safetensors", R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8);
    CHECK(error_for(path) == path.string() + ": safetensors tensor 't': \"data_offsets\" hold 8 bytes but F32 of shape [3] needs 12");
    path = raw_safetensors("reversed.safetensors", R"({"t":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", 8);
    CHECK(error_for(path) == path.string() + ": safetensors tensor 't': \"data_offsets\" end before they begin");
    path = raw_safetensors("u16.safetensors", R"({"t":{"dtype":"U16","shape":[1],"data_offsets":[0,2]}})", 2);
    CHECK(error_for(path) == path.string() + ": safetensors tensor 't': dtype U16 is not supported by libtorch 1.13");
    path = raw_safetensors("f128.safetensors", R"({"t":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}})", 16);
    CHECK(error_for(path) == path.string() + ": safetensors tensor 't': dtype F128 is not a safetensors dtype");
    path = raw_safetensors("no_shape.safetensors", R"({"t":{"dtype":"F32","data_offsets":[0,4]}})", 4);
    CHECK(error_for(path) == path.string() + ": safetensors tensor 't': no \"shape\" array");
    path = raw_safetensors("negative.safetensors", R"({"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4);
    CHECK(error_for(path) ==
          path.string() + ": safetensors tensor 't': \"shape\" holds something other than a non-negative integer");
    path = raw_safetensors("overlap.safetensors", "{" + entry + R"(,"u":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8);
    CHECK(error_for(path) == path.string() + ": corrupt safetensors header: tensors 't' and 'u' overlap");
    path = raw_safetensors("twice.safetensors", "{" + entry + "," + entry + "}", 8);
    CHECK(error_for(path) == path.string() + ": corrupt safetensors header: the name 't' appears twice");
    path = raw_safetensors("meta.safetensors", R"({"__metadata__":{"epoch":3}})", 0);
    CHECK(error_for(path) == path.string() + ": safetensors __metadata__ value of 'epoch' is not a string");
    path = raw_safetensors("escape.safetensors", R"({"\ud800":{}})", 0);
    CHECK(error_for(path) == path.string() + ": corrupt safetensors header at byte 16: a lone UTF-16 surrogate");
    path = raw_safetensors("deep.safetensors", "{\"a\":" + std::string(20, '[') + std::string(20, ']') + "}", 0);
    CHECK(error_for(path) == path.string() + ": corrupt safetensors header at byte 29: nesting deeper than 16 levels");
    path = raw_safetensors("trailing.safetensors", "{} x", 0);
    CHECK(error_for(path) == path.string() + ": corrupt safetensors header at byte 11: unexpected text after the header object");
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
