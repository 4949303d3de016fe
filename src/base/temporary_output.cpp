#include <segearth/temporary_output.hpp>

#include <segearth/error.hpp>

#include <unistd.h>

#include <atomic>
#include <cstring>

#include <filesystem>

namespace segearth {

namespace fs = std::filesystem;

namespace {

// The files a signal handler removes: fixed slots of C strings, written in normal context and only
// read (then unlinked) by the handler. A slot's strings are never freed, so a handler that reads
// one while it is being released still holds valid memory; they are a few hundred bytes per output.
constexpr int slot_count = 64, names_per_slot = 4;
std::atomic<const char*> registry[slot_count][names_per_slot];

int register_temporary(const std::string& temporary) {
    const char* main_name = strdup(temporary.c_str());
    for (int slot = 0; slot < slot_count; ++slot) {
        const char* empty = nullptr;
        if (!registry[slot][0].compare_exchange_strong(empty, main_name)) continue;  // taken
        int k = 1;
        for (const char* sidecar : {".aux.xml", "-journal", "-wal"})
            registry[slot][k++].store(strdup((temporary + sidecar).c_str()));
        return slot;
    }
    return -1;  // more outputs than slots: the destructor still removes them; only a hard exit misses them
}

void unregister_temporary(int slot) {
    if (slot < 0) return;
    for (auto& name : registry[slot]) name.store(nullptr);
}

}  // namespace

void remove_temporaries_now() noexcept {
    for (auto& slot : registry)
        for (auto& name : slot)
            if (const char* path = name.load()) ::unlink(path);
}

TemporaryOutput::TemporaryOutput(std::string path, const std::string& suffix)
    : path_(std::move(path)), temporary_(path_ + ".part-" + std::to_string(static_cast<long>(::getpid())) + suffix),
      slot_(register_temporary(temporary_)) {}

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

}  // namespace segearth
