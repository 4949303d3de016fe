#include <segearth/temporary_output.hpp>

#include <segearth/error.hpp>
#include <segearth/write_error.hpp>

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace segearth {

namespace fs = std::filesystem;

namespace {

// The files a signal handler removes, in fixed slots (no allocation: the handler may only read
// memory and call async-signal-safe functions). A slot is 0 free, 1 being filled, 2 registered.
constexpr int slot_count = 64;
constexpr size_t max_path = 4096;
struct Slot {
    std::atomic<int> state{0};
    char path[max_path];
};
Slot registry[slot_count];
const char* const sidecars[] = {"", ".aux.xml", "-journal", "-wal"};

int register_temporary(const std::string& temporary) {
    if (temporary.size() + 16 >= max_path) return -1;  // the destructor still removes it
    for (int i = 0; i < slot_count; ++i) {
        int expected = 0;
        if (!registry[i].state.compare_exchange_strong(expected, 1)) continue;
        std::memcpy(registry[i].path, temporary.c_str(), temporary.size() + 1);
        registry[i].state.store(2);
        return i;
    }
    return -1;  // more outputs than slots: the destructor still removes them; only a hard exit misses them
}

void unregister_temporary(int slot) {
    if (slot >= 0) registry[slot].state.store(0);
}

}  // namespace

void remove_temporaries_now() noexcept {
    char name[max_path + 16];
    for (auto& slot : registry) {
        if (slot.state.load() != 2) continue;
        const size_t n = std::strlen(slot.path);
        for (const char* sidecar : sidecars) {
            std::memcpy(name, slot.path, n);
            std::memcpy(name + n, sidecar, std::strlen(sidecar) + 1);
            ::unlink(name);
        }
    }
}

TemporaryOutput::TemporaryOutput(std::string path, const std::string& suffix)
    : path_(std::move(path)), temporary_(path_ + ".part-" + std::to_string(static_cast<long>(::getpid())) + suffix),
      slot_(register_temporary(temporary_)) {}

TemporaryOutput::TemporaryOutput(std::string path, std::string temporary, Named)
    : path_(std::move(path)), temporary_(std::move(temporary)), slot_(register_temporary(temporary_)) {}

std::unique_ptr<TemporaryOutput> TemporaryOutput::named(std::string path, std::string temporary) {
    return std::unique_ptr<TemporaryOutput>(new TemporaryOutput(std::move(path), std::move(temporary), Named{}));
}

TemporaryOutput::~TemporaryOutput() {
    if (!published_) discard();
    unregister_temporary(slot_);
}

void TemporaryOutput::discard() {
    std::error_code ignored;
    fs::remove(temporary_, ignored);
    fs::remove(temporary_ + ".aux.xml", ignored);
}

void TemporaryOutput::check_publishable(bool replace) const {
    std::error_code ec;
    if (fs::is_directory(path_, ec)) throw FileError(path_ + " is a folder: choose a file name for the output");
    if (!replace && fs::exists(fs::symlink_status(path_, ec)))
        throw UsageError(path_ + " appeared while this run was writing it: it was kept; use --overwrite to replace it");
    if (!fs::exists(temporary_, ec)) throw Error("internal error: " + temporary_ + " was never written");
}

void TemporaryOutput::publish(bool replace) {
    check_publishable(replace);
    std::error_code ec;
    // A sidecar of the file being replaced would describe the wrong raster.
    const std::string aux = path_ + ".aux.xml";
    fs::remove(aux, ec);
    fs::rename(temporary_, path_, ec);
    if (ec) throw FileError("cannot rename " + temporary_ + " to " + path_ + ": " + ec.message());
    if (fs::exists(temporary_ + ".aux.xml", ec)) fs::rename(temporary_ + ".aux.xml", aux, ec);
    published_ = true;
    unregister_temporary(slot_);
    slot_ = -1;
}

void write_text_output(const std::string& path, const std::string& text, bool replace, const std::string& suffix) {
    TemporaryOutput file(path, suffix);
    {
        std::ofstream out(file.temporary(), std::ios::trunc | std::ios::binary);
        out << text;
        out.close();
        if (!out) throw write_error(path, "write", std::strerror(errno));
    }
    file.publish(replace);
}

}  // namespace segearth
