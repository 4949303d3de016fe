// What the weights tests (tests/core/test_weights.cpp, test_safetensors.cpp, test_unpickler.cpp)
// share: the fixtures of tests/fixtures/make_weights_fixtures.py, whose tensors hold
// torch.arange(numel) reshaped and cast; a scratch folder for files made or damaged on the spot; and
// the FileError message an action gives, since every corruption is checked by its exact message.
#pragma once

#include <segearth/core/weights.hpp>
#include <segearth/error.hpp>

#include <doctest/doctest.h>
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <set>
#include <string>
#include <vector>

namespace segearth::test::weights {

inline std::filesystem::path fixture(const std::string& name) {
    return std::filesystem::path(SEGEARTH_FIXTURES_DIR) / "weights" / name;
}

/// A path in the weights tests' scratch folder (kept between tests; each test names its own files).
inline std::filesystem::path scratch(const std::string& name) {
    std::filesystem::path dir = std::filesystem::path(SEGEARTH_TEST_TMP_DIR) / "weights";
    std::filesystem::create_directories(dir);
    return dir / name;
}

inline std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_file(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// `value` as `bytes` little-endian bytes, as the zip, safetensors and pickle formats store integers.
inline std::string le(std::uint64_t value, int bytes) {
    std::string out;
    for (int i = 0; i < bytes; ++i) out += static_cast<char>((value >> (8 * i)) & 0xff);
    return out;
}

/// What the fixtures hold: torch.arange(numel) in `shape`, cast to `dtype`.
inline torch::Tensor arange(std::vector<std::int64_t> shape, torch::Dtype dtype = torch::kFloat32) {
    std::int64_t numel = 1;
    for (auto s : shape) numel *= s;
    return torch::arange(numel, torch::kLong).reshape(shape).to(dtype);
}

inline std::set<std::string> names(const core::TensorMap& tensors) {
    std::set<std::string> out;
    for (const auto& item : tensors) out.insert(item.first);
    return out;
}

inline void check_tensor(const core::TensorMap& tensors, const std::string& name, const torch::Tensor& expected) {
    INFO("tensor ", name);
    REQUIRE(tensors.count(name) == 1);
    const torch::Tensor& actual = tensors.at(name);
    CHECK(std::string(c10::toString(actual.scalar_type())) == c10::toString(expected.scalar_type()));
    CHECK(actual.sizes() == expected.sizes());
    CHECK(torch::equal(actual, expected));
}

/// The message of the FileError `action` throws, or "(no FileError)".
inline std::string message_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const FileError& error) {
        return error.what();
    }
    return "(no FileError)";
}

inline std::string error_reading(const std::filesystem::path& path) {
    return message_of([&] { core::read_weights(path); });
}

}  // namespace segearth::test::weights
