// What `segearth info` reports: a model file, a raster, tokens of a text, or this machine.
// Each returns the text to print; the command only chooses which.
#pragma once

#include <segearth/options/option_table.hpp>

#include <filesystem>
#include <string>

namespace segearth::pipeline {

struct InfoOptions {
    std::string file;      ///< a weights file or raster to describe
    bool system = false;   ///< describe this machine
    std::string tokenize;  ///< print the token ids of this text
    std::string vocab;     ///< the BPE vocabulary for tokenize ("": $SEGEARTH_VOCAB, then the data folders)
    std::string preset;    ///< print this preset (data/presets/NAME.txt)
    bool presets = false;  ///< list the presets
    bool json = false;     ///< --preset / --presets as JSON
};

/// The command, its texts and its options table (CLI, --help, --json-usage).
const options::Command<InfoOptions>& info_command();

/// Exactly one of file, system and tokenize; throws UsageError.
void validate(const InfoOptions& options);

/// The text `segearth info` prints for these options.
std::string info(const InfoOptions& options);

/// A CLIP weights file (format, architecture, parameters, dtype), a SimFeatUp upsampler (feature width,
/// what it was trained for, training progress) or a GDAL raster (size, bands, CRS), chosen by the
/// file's content. Throws FileError when it is none of them.
std::string describe_file(const std::filesystem::path& path);

/// The 77 token ids of `text`, space-separated, with the vocabulary at `bpe_vocabulary`.
std::string describe_tokens(const std::string& text, const std::filesystem::path& bpe_vocabulary);

/// A preset: its classes in label order with their synonyms, threshold, background, lambda and
/// label convention; as JSON with the keys classes (lists of synonyms), prob_threshold, bg_index,
/// cls_lambda, reduce_zero_label (and name, description, colours).
std::string describe_preset(const std::string& name, bool json);

/// Every preset found in the data folders, a line each (name and description), or a JSON list.
std::string describe_presets(bool json);

/// BLAS library, kernel type, threads, CPU features, measured matmul GFLOP/s, libtorch and GDAL
/// versions, CUDA devices.
std::string describe_system();

}  // namespace segearth::pipeline
