// read_weights on PyTorch files: torch.save state dicts (every dtype, views, nesting, prefixes),
// Lightning checkpoints (read without running anything in them), TorchScript archives and pickled
// nn.Modules, against fixtures from tests/fixtures/make_weights_fixtures.py; and every file that is not
// weights, or a damaged zip archive, with its exact message. Safetensors: test_safetensors.cpp; the
// unpickler's private interface: test_unpickler.cpp.
#include <doctest/doctest.h>

#include <segearth/core/weights.hpp>
#include <segearth/error.hpp>

#include "support/weights_files.hpp"
#include "weights/pickle.hpp"
#include "weights/zip_archive.hpp"

#include <torch/torch.h>

#include <filesystem>
#include <set>
#include <string>

namespace fs = std::filesystem;
using namespace segearth::test::weights;
using segearth::core::read_weights;
using segearth::core::TensorMap;
using segearth::core::to_string;
using segearth::core::detail::PickleValue;
using Kind = PickleValue::Kind;

namespace {

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

TEST_CASE("read_weights bounds crafted nesting and sharing in data.pkl") {
    CHECK(error_reading(fixture("deep.pt")) == fixture("deep.pt").string() + ": data.pkl nests deeper than 64 levels");
    CHECK(error_reading(fixture("shared.pt")) ==
          fixture("shared.pt").string() + ": data.pkl refers to one container over 1000 times");
}
