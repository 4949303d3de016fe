// Read-only access to the records of a PyTorch zip archive (torch.save's and TorchScript's format).
//
// Both writers put every record under one top-level folder named after the file ("archive/data.pkl",
// "ViT-B-16/data.pkl"); names here are relative to that folder ("data.pkl", "data/0").
#pragma once

#include <c10/core/Allocator.h>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace segearth::core::detail {

/// One record's bytes, in memory from the CPU allocator so a tensor can adopt it without a copy.
struct ZipRecord {
    c10::DataPtr data;
    std::size_t size = 0;
};

class ZipArchive {
public:
    /// Opens the archive and reads its directory. Throws FileError naming the file when it is not a
    /// readable zip archive (truncated files lose the directory at their end and fail here).
    explicit ZipArchive(const std::filesystem::path& path);
    ~ZipArchive();
    ZipArchive(ZipArchive&&) noexcept;
    ZipArchive& operator=(ZipArchive&&) noexcept;

    const std::filesystem::path& path() const { return path_; }
    std::vector<std::string> record_names() const;
    bool has_record(const std::string& name) const;
    /// Throws FileError when the record is missing or its bytes cannot be read.
    ZipRecord read_record(const std::string& name) const;
    std::string read_text(const std::string& name) const;

private:
    struct Impl;
    std::filesystem::path path_;
    std::unique_ptr<Impl> impl_;
};

}  // namespace segearth::core::detail
