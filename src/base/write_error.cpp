#include <segearth/write_error.hpp>

#include <sys/statvfs.h>
#include <unistd.h>

#include <filesystem>

namespace segearth {
namespace fs = std::filesystem;

namespace {

// Writes that fail with less than this free failed for want of space: GDAL and SQLite write
// whole blocks and pages (a compressed 512 x 512 tile, a cache flush), so the disk rarely reaches
// exactly zero before the write that fails.
constexpr long long nearly_full = 64LL << 20;

fs::path existing_folder(const std::string& path) {
    std::error_code ec;
    fs::path p = path.empty() ? fs::path(".") : fs::path(path);
    if (fs::exists(p, ec)) return p;
    p = p.parent_path();
    return p.empty() ? fs::path(".") : p;
}

}  // namespace

long long free_bytes_at(const std::string& path) {
    struct statvfs s {};
    if (::statvfs(existing_folder(path).c_str(), &s) != 0) return -1;
    // root may also fill the blocks reserved for it.
    const auto blocks = ::geteuid() == 0 ? s.f_bfree : s.f_bavail;
    return static_cast<long long>(blocks) * static_cast<long long>(s.f_frsize);
}

FileError write_error(const std::string& path, const std::string& action, const std::string& detail) {
    const long long free = free_bytes_at(path);
    if (free >= 0 && free < nearly_full) {
        auto folder = existing_folder(path);
        if (!fs::is_directory(folder)) folder = folder.parent_path().empty() ? fs::path(".") : folder.parent_path();
        const auto size = free < (1LL << 20) ? std::to_string(free >> 10) + " KB" : std::to_string(free >> 20) + " MB";
        return FileError(path + ": no space left on device (" + size + " free in " +
                         folder.string() + (detail.empty() ? "" : "; " + detail) +
                         "): free some space there or write the output elsewhere");
    }
    return FileError("cannot " + action + " " + path + (detail.empty() ? "" : ": " + detail));
}

}  // namespace segearth
