// Private entry points of the safetensors reader, for read_weights' format detection.
#pragma once

#include <segearth/core/weights.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>

namespace segearth::core::detail {

/// Whether the first bytes of a file look like a safetensors header: a plausible little-endian
/// length followed by '{'.
bool looks_like_safetensors(const unsigned char* head, std::size_t head_size, std::uintmax_t file_size);

/// Every tensor of a safetensors file, validated against the file's size. Throws FileError.
TensorMap read_safetensors(const std::filesystem::path& path);

}  // namespace segearth::core::detail
