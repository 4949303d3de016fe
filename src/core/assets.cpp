#include <segearth/core/assets.hpp>

#include <segearth/error.hpp>

#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <vector>
#include <system_error>

namespace segearth::core {
namespace fs = std::filesystem;

namespace {

std::string env(const std::string& name) {
    const char* value = name.empty() ? nullptr : std::getenv(name.c_str());
    return value ? std::string(value) : std::string();
}

}  // namespace

fs::path user_cache_dir() {
    if (const auto xdg = env("XDG_CACHE_HOME"); !xdg.empty()) return fs::path(xdg) / "segearth";
    if (const auto home = env("HOME"); !home.empty()) return fs::path(home) / ".cache" / "segearth";
    return fs::temp_directory_path() / "segearth-cache";
}

std::vector<fs::path> data_dirs() {
    std::vector<fs::path> dirs;
    if (const auto dir = env("SEGEARTH_DATA_DIR"); !dir.empty()) dirs.emplace_back(dir);
    std::error_code ec;
    const auto exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) dirs.push_back(exe.parent_path().parent_path() / "share" / "segearth");
#ifdef SEGEARTH_SOURCE_DATA_DIR
    dirs.emplace_back(SEGEARTH_SOURCE_DATA_DIR);
#endif
    dirs.push_back(user_cache_dir());
    return dirs;
}

fs::path find_asset(const AssetSpec& spec, const std::string& explicit_path) {
    auto must_exist = [&spec](const fs::path& path, const std::string& origin) {
        if (!fs::is_regular_file(path))
            throw FileError(path.string() + ": " + spec.description + " given by " + origin +
                            " does not exist or is not a file");
        return path;
    };
    if (!explicit_path.empty()) return must_exist(explicit_path, spec.flag);
    if (const auto value = env(spec.env_var); !value.empty()) return must_exist(value, spec.env_var);
    if (auto found = find_in_data_dirs(spec); !found.empty()) return found;
    std::string looked;
    if (!spec.file_name.empty())
        for (const auto& dir : data_dirs()) looked += (looked.empty() ? "" : ", ") + (dir / spec.file_name).string();
    std::string message = "cannot find " + spec.description;
    if (!looked.empty()) message += " (looked for " + looked + ")";
    message += ": give it with " + spec.flag + " PATH or set " + spec.env_var;
    if (!spec.file_name.empty()) message += ", or put " + spec.file_name + " in " + user_cache_dir().string();
    throw FileError(message);
}

fs::path find_in_data_dirs(const AssetSpec& spec) {
    if (spec.file_name.empty()) return {};
    for (const auto& dir : data_dirs())
        if (fs::is_regular_file(dir / spec.file_name)) return dir / spec.file_name;
    return {};
}

namespace {

std::string hex_crc(uLong crc) {
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08lx", static_cast<unsigned long>(crc));
    return hex;
}

}  // namespace

std::string file_crc32(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw FileError(path.string() + ": cannot read");
    std::vector<char> buffer(1 << 20);
    uLong crc = crc32(0L, Z_NULL, 0);
    while (in) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        crc = crc32(crc, reinterpret_cast<const Bytef*>(buffer.data()), static_cast<uInt>(in.gcount()));
    }
    return hex_crc(crc);
}

std::string text_crc32(const std::string& text) {
    return hex_crc(crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(text.data()), static_cast<uInt>(text.size())));
}

AssetSpec bpe_vocabulary_asset() {
    return {"the CLIP BPE vocabulary", "bpe_simple_vocab_16e6.txt.gz", "--vocab", "SEGEARTH_VOCAB"};
}

AssetSpec prompt_templates_asset() {
    return {"the prompt templates", "imagenet_templates.txt", "--templates", "SEGEARTH_TEMPLATES"};
}

AssetSpec clip_weights_asset() {
    return {"the CLIP weights", "ViT-B-16.pt", "--clip", "SEGEARTH_CLIP"};
}

AssetSpec upsampler_weights_asset() {
    // The authors' released checkpoint (scripts/fetch-assets.sh puts it in the cache folder).
    return {"the SimFeatUp upsampler weights", "xclip_jbu_one_million_aid.ckpt", "--upsampler", "SEGEARTH_UPSAMPLER"};
}

}  // namespace segearth::core
