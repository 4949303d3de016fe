#include <segearth/temporary_output.hpp>

#include <segearth/error.hpp>

#include <unistd.h>

#include <filesystem>

namespace segearth {

namespace fs = std::filesystem;

TemporaryOutput::TemporaryOutput(std::string path, const std::string& suffix)
    : path_(std::move(path)), temporary_(path_ + ".part-" + std::to_string(static_cast<long>(::getpid())) + suffix) {}

TemporaryOutput::~TemporaryOutput() {
    if (!published_) discard();
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
}

}  // namespace segearth
