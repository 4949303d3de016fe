// A zip reader for the archives torch.save and torch.jit.save write (PKWARE APPNOTE 6.3: end of
// central directory, optional zip64 records, central directory, local headers; records stored or
// deflated). libtorch's PyTorchStreamReader could do this, but it leaks miniz state whenever its
// constructor throws (a zip that is not a PyTorch archive), hides errors behind c10::Error and
// checks no CRC. Here every offset is checked against the file size before it is read, sizes are
// bounded before anything is allocated, and every record's CRC-32 is verified.
#include "weights/zip_archive.hpp"

#include <segearth/error.hpp>

#include <c10/core/CPUAllocator.h>

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <unistd.h>

namespace segearth::core::detail {
namespace {

constexpr std::uint32_t end_of_directory_signature = 0x06054b50;
constexpr std::uint32_t zip64_end_signature = 0x06064b50;
constexpr std::uint32_t zip64_locator_signature = 0x07064b50;
constexpr std::uint32_t directory_entry_signature = 0x02014b50;
constexpr std::uint32_t local_header_signature = 0x04034b50;
constexpr std::uint64_t end_of_directory_size = 22;
constexpr std::uint64_t max_comment_size = 0xffff;
// Deflate cannot expand data more than ~1032 times; a larger claim is a crafted header.
constexpr std::uint64_t max_deflate_ratio = 1032;

std::uint64_t le(const unsigned char* p, int bytes) {
    std::uint64_t value = 0;
    for (int i = bytes - 1; i >= 0; --i) value = (value << 8) | p[i];
    return value;
}

std::string range(std::uint64_t begin, std::uint64_t end) { return std::to_string(begin) + ".." + std::to_string(end); }

struct Entry {
    std::uint16_t method = 0;
    std::uint32_t crc = 0;
    std::uint64_t compressed_size = 0;
    std::uint64_t size = 0;
    std::uint64_t local_header = 0;
};

using Entries = std::map<std::string, Entry>;  // by name without the archive folder

struct OpenFile {
    int fd = -1;
    std::uint64_t file_size = 0;

    OpenFile() = default;
    OpenFile(const OpenFile&) = delete;
    OpenFile& operator=(const OpenFile&) = delete;
    ~OpenFile() {
        if (fd >= 0) ::close(fd);
    }
};

class Reader {
public:
    Reader(const std::filesystem::path& path, const OpenFile& file) : path_(path), file_(file) {}

    [[noreturn]] void corrupt(const std::string& problem) const {
        throw FileError(path_.string() + ": corrupt zip archive: " + problem);
    }

    void check_range(std::uint64_t offset, std::uint64_t size, const std::string& what) const {
        if (offset > file_.file_size || size > file_.file_size - offset)
            throw FileError(path_.string() + ": truncated: " + what + " needs bytes " + range(offset, offset + size) +
                            " but the file has " + std::to_string(file_.file_size));
    }

    void read(std::uint64_t offset, void* into, std::uint64_t size, const std::string& what) const {
        check_range(offset, size, what);
        auto* out = static_cast<char*>(into);
        while (size > 0) {
            ssize_t got = ::pread(file_.fd, out, static_cast<std::size_t>(std::min<std::uint64_t>(size, 1u << 30)),
                                  static_cast<off_t>(offset));
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) throw FileError(path_.string() + ": cannot read " + what + ": " + std::strerror(got < 0 ? errno : EIO));
            out += got;
            offset += static_cast<std::uint64_t>(got);
            size -= static_cast<std::uint64_t>(got);
        }
    }

    std::vector<unsigned char> read_bytes(std::uint64_t offset, std::uint64_t size, const std::string& what) const {
        check_range(offset, size, what);  // before allocating what a crafted header claims
        std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
        read(offset, bytes.data(), size, what);
        return bytes;
    }

private:
    const std::filesystem::path& path_;
    const OpenFile& file_;
};

// The end of central directory record is the last 22 bytes plus a comment of up to 64 KiB.
Entries read_directory(const std::filesystem::path& path, const OpenFile& file) {
    Entries entries;
    Reader reader(path, file);
    std::uint64_t tail_size = std::min(file.file_size, end_of_directory_size + max_comment_size);
    std::vector<unsigned char> tail = reader.read_bytes(file.file_size - tail_size, tail_size, "the zip directory");
    std::uint64_t end = file.file_size;  // offset of the end of central directory record
    for (std::uint64_t i = tail_size >= end_of_directory_size ? tail_size - end_of_directory_size + 1 : 0; i-- > 0;) {
        if (le(&tail[i], 4) == end_of_directory_signature &&
            i + end_of_directory_size + le(&tail[i + 20], 2) == tail_size) {
            end = file.file_size - tail_size + i;
            break;
        }
    }
    if (end == file.file_size)
        throw FileError(path.string() +
                        ": not a readable zip archive: the zip directory at the end of the file is missing (is the file truncated?)");
    const unsigned char* eocd = &tail[end - (file.file_size - tail_size)];
    std::uint64_t count = le(eocd + 10, 2);
    std::uint64_t directory_size = le(eocd + 12, 4);
    std::uint64_t directory_offset = le(eocd + 16, 4);
    std::uint64_t directory_end = end;

    // Zip64 (archives over 4 GiB or 65535 records): a locator just before points at the real values.
    if ((count == 0xffff || directory_size == 0xffffffff || directory_offset == 0xffffffff) && end >= 20) {
        unsigned char locator[20];
        reader.read(end - 20, locator, 20, "the zip64 locator");
        if (le(locator, 4) == zip64_locator_signature) {
            std::uint64_t zip64_offset = le(locator + 8, 8);
            unsigned char record[56];
            reader.read(zip64_offset, record, 56, "the zip64 directory record");
            if (le(record, 4) != zip64_end_signature) reader.corrupt("no zip64 directory record at byte " + std::to_string(zip64_offset));
            count = le(record + 32, 8);
            directory_size = le(record + 40, 8);
            directory_offset = le(record + 48, 8);
            directory_end = zip64_offset;
        }
    }
    if (directory_offset > directory_end || directory_size > directory_end - directory_offset)
        throw FileError(path.string() + ": truncated or corrupt zip archive: its directory claims bytes " +
                        range(directory_offset, directory_offset + directory_size) + " but ends at byte " +
                        std::to_string(directory_end));
    if (count > directory_size / 46) reader.corrupt("the directory claims " + std::to_string(count) + " records");

    std::vector<unsigned char> directory = reader.read_bytes(directory_offset, directory_size, "the zip directory");
    std::string prefix;
    std::uint64_t at = 0;
    for (std::uint64_t n = 0; n < count; ++n) {
        std::string where = "directory entry at byte " + std::to_string(directory_offset + at);
        if (directory.size() - at < 46 || le(&directory[at], 4) != directory_entry_signature) reader.corrupt("bad " + where);
        const unsigned char* e = &directory[at];
        std::uint64_t name_size = le(e + 28, 2), extra_size = le(e + 30, 2), comment_size = le(e + 32, 2);
        if (directory.size() - at - 46 < name_size + extra_size + comment_size) reader.corrupt("the " + where + " runs past the directory");
        std::string name(reinterpret_cast<const char*>(e + 46), static_cast<std::size_t>(name_size));
        Entry entry;
        std::uint64_t flags = le(e + 8, 2);
        entry.method = static_cast<std::uint16_t>(le(e + 10, 2));
        entry.crc = static_cast<std::uint32_t>(le(e + 16, 4));
        entry.compressed_size = le(e + 20, 4);
        entry.size = le(e + 24, 4);
        entry.local_header = le(e + 42, 4);
        // Zip64 extra field (id 1): 8-byte values for exactly the fields saturated above, in order.
        const unsigned char* extra = e + 46 + name_size;
        for (std::uint64_t x = 0; x + 4 <= extra_size;) {
            std::uint64_t id = le(extra + x, 2);
            std::uint64_t field_end = std::min(x + 4 + le(extra + x + 2, 2), extra_size);
            std::uint64_t value = x + 4;
            if (id == 1) {
                for (std::uint64_t* field : {&entry.size, &entry.compressed_size, &entry.local_header}) {
                    if (*field != 0xffffffff) continue;
                    if (value + 8 > field_end) reader.corrupt("a short zip64 field in the " + where);
                    *field = le(extra + value, 8);
                    value += 8;
                }
            }
            x = field_end;
        }
        if (flags & 1) throw FileError(path.string() + ": record '" + name + "' is encrypted");
        at += 46 + name_size + extra_size + comment_size;

        // Both PyTorch writers put every record under one folder named after the file.
        if (n == 0) prefix = name.substr(0, name.find('/') + 1);
        if (prefix.empty() || name.compare(0, prefix.size(), prefix) != 0)
            throw FileError(path.string() + ": not a PyTorch archive: '" + name + "' is not inside the archive's top folder");
        if (name.back() == '/') continue;  // a folder entry, as zip tools write them
        if (!entries.emplace(name.substr(prefix.size()), entry).second)
            reader.corrupt("the record '" + name + "' appears twice");
    }
    return entries;
}

}  // namespace

struct ZipArchive::Impl {
    OpenFile file;
    Entries entries;
};

ZipArchive::ZipArchive(const std::filesystem::path& path) : path_(path), impl_(std::make_unique<Impl>()) {
    OpenFile& file = impl_->file;
    file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (file.fd < 0) throw FileError(path.string() + ": cannot open the file: " + std::strerror(errno));
    off_t size = ::lseek(file.fd, 0, SEEK_END);
    if (size < 0) throw FileError(path.string() + ": cannot read the file size: " + std::strerror(errno));
    file.file_size = static_cast<std::uint64_t>(size);
    impl_->entries = read_directory(path, file);
}

ZipArchive::~ZipArchive() = default;
ZipArchive::ZipArchive(ZipArchive&&) noexcept = default;
ZipArchive& ZipArchive::operator=(ZipArchive&&) noexcept = default;

std::vector<std::string> ZipArchive::record_names() const {
    std::vector<std::string> names;
    for (const auto& item : impl_->entries) names.push_back(item.first);
    return names;
}

bool ZipArchive::has_record(const std::string& name) const { return impl_->entries.count(name) > 0; }

ZipRecord ZipArchive::read_record(const std::string& name) const {
    auto found = impl_->entries.find(name);
    if (found == impl_->entries.end()) throw FileError(path_.string() + ": the zip archive has no record '" + name + "'");
    const Entry& entry = found->second;
    Reader reader(path_, impl_->file);
    std::string what = "record '" + name + "'";

    unsigned char local[30];
    reader.read(entry.local_header, local, 30, "the header of " + what);
    if (le(local, 4) != local_header_signature)
        reader.corrupt(what + " has no local header at byte " + std::to_string(entry.local_header));
    std::uint64_t data_offset = entry.local_header + 30 + le(local + 26, 2) + le(local + 28, 2);
    if (entry.method == 0 && entry.compressed_size != entry.size) reader.corrupt(what + " is stored with two different sizes");
    if (entry.method == 8 && entry.size / max_deflate_ratio > entry.compressed_size)
        reader.corrupt(what + " claims to inflate " + std::to_string(entry.compressed_size) + " bytes to " + std::to_string(entry.size));
    if (entry.method != 0 && entry.method != 8)
        throw FileError(path_.string() + ": " + what + " uses zip compression method " + std::to_string(entry.method) +
                        ", which segearth does not read");
    reader.check_range(data_offset, entry.compressed_size, what);

    ZipRecord record{c10::GetCPUAllocator()->allocate(static_cast<std::size_t>(entry.size)), static_cast<std::size_t>(entry.size)};
    auto* out = static_cast<unsigned char*>(record.data.get());
    if (entry.method == 0) {
        reader.read(data_offset, out, entry.size, what);
    } else {
        std::vector<unsigned char> compressed = reader.read_bytes(data_offset, entry.compressed_size, what);
        z_stream stream{};
        if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) throw FileError(path_.string() + ": cannot start zlib");
        stream.next_in = compressed.data();
        stream.avail_in = static_cast<uInt>(compressed.size());  // records we inflate (code, pickles) are small
        stream.next_out = out;
        stream.avail_out = static_cast<uInt>(entry.size);
        int status = compressed.size() > 0xffffffffu || entry.size > 0xffffffffu ? Z_MEM_ERROR : inflate(&stream, Z_FINISH);
        std::uint64_t produced = stream.total_out;
        inflateEnd(&stream);
        if (status != Z_STREAM_END || produced != entry.size) reader.corrupt(what + " does not inflate to its recorded size");
    }
    // torch >= 2.5 may write records without a CRC (compute_crc32=False), leaving 0.
    if (entry.crc != 0 && crc32_z(0, out, static_cast<z_size_t>(entry.size)) != entry.crc)
        throw FileError(path_.string() + ": " + what + " is damaged (its CRC-32 does not match)");
    return record;
}

std::string ZipArchive::read_text(const std::string& name) const {
    ZipRecord record = read_record(name);
    return std::string(static_cast<const char*>(record.data.get()), record.size);
}

}  // namespace segearth::core::detail
