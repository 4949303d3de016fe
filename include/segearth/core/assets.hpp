// Finding the files segearth reads at run time: model weights, the BPE vocabulary, prompt templates.
// Order: the explicit path (a flag), then an environment variable, then the data folders.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace segearth::core {

struct AssetSpec {
    std::string description;  ///< "the CLIP BPE vocabulary"
    std::string file_name;    ///< default name in the data folders; "" when there is no default
    std::string flag;         ///< "--vocab"
    std::string env_var;      ///< "SEGEARTH_VOCAB"
};

/// $SEGEARTH_DATA_DIR, <executable>/../share/segearth, the source tree's data/ (runs from a build
/// tree), and the per-user cache folder, in that order.
std::vector<std::filesystem::path> data_dirs();

/// $XDG_CACHE_HOME/segearth, else ~/.cache/segearth (created on demand by writers).
std::filesystem::path user_cache_dir();

/// Resolves an asset. An explicit path or environment value that does not exist is an error (never
/// silently replaced by a default); with neither, the first data folder holding file_name wins.
/// Throws FileError listing where it looked and how to provide the file.
std::filesystem::path find_asset(const AssetSpec& spec, const std::string& explicit_path = {});

/// The first data folder's spec.file_name, or an empty path: for assets that are optional.
std::filesystem::path find_in_data_dirs(const AssetSpec& spec);

/// The shipped assets.
AssetSpec bpe_vocabulary_asset();
AssetSpec prompt_templates_asset();
AssetSpec clip_weights_asset();
AssetSpec upsampler_weights_asset();

}  // namespace segearth::core

namespace segearth::core {

/// CRC-32 of a file's bytes (zlib's, as `gzip -l` and `crc32` report), 8 hex digits: recorded in
/// outputs so users can tell which weights made them.
std::string file_crc32(const std::filesystem::path& path);
/// The same of a text (the settings a result was made with).
std::string text_crc32(const std::string& text);

}  // namespace segearth::core
