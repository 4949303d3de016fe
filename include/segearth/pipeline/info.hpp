// What `segearth info` reports: a model file, a raster, tokens of a text, or this machine.
// Each returns the text to print; the command only chooses which.
#pragma once

#include <filesystem>
#include <string>

namespace segearth::pipeline {

/// A CLIP weights file (format, architecture, parameters, dtype), a SimFeatUp upsampler (feature width,
/// what it was trained for, training progress) or a GDAL raster (size, bands, CRS), chosen by the
/// file's content. Throws FileError when it is none of them.
std::string describe_file(const std::filesystem::path& path);

/// The 77 token ids of `text`, space-separated, with the vocabulary at `bpe_vocabulary`.
std::string describe_tokens(const std::string& text, const std::filesystem::path& bpe_vocabulary);

/// BLAS library, kernel type, threads, CPU features, measured matmul GFLOP/s, libtorch and GDAL
/// versions, CUDA devices.
std::string describe_system();

}  // namespace segearth::pipeline
