// Safetensors: read_weights on files written from the format's spec (every dtype, metadata),
// write_safetensors (sorted, aligned headers that read back exactly), and every corrupt header with
// its exact message. Fixtures from tests/fixtures/make_weights_fixtures.py.
#include <doctest/doctest.h>

#include <segearth/core/weights.hpp>

#include "support/weights_files.hpp"

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>

namespace fs = std::filesystem;
using namespace segearth::test::weights;
using segearth::core::read_weights;
using segearth::core::TensorMap;
using segearth::core::to_string;

namespace {

// A safetensors file from a header text and `data_size` zero bytes of data.
fs::path raw_safetensors(const std::string& name, const std::string& header, std::size_t data_size,
                         std::uint64_t declared_length = 0) {
    fs::path path = scratch(name);
    write_file(path, le(declared_length ? declared_length : header.size(), 8) + header + std::string(data_size, '\0'));
    return path;
}

}  // namespace

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
