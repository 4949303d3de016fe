// segearth: the command users run. The commands that only need GDAL (vectorize, eval) run here, in a
// binary that does not load libtorch: loading it costs ~0.9 s and 160 MB before any work, longer than
// polygonizing a large mask. Every other command, --help included, is handed to segearth-torch by
// exec, with the same arguments, environment and exit status.
#include "command_eval.hpp"
#include "command_main.hpp"
#include "command_vectorize.hpp"

#include <segearth/error.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace {

namespace fs = std::filesystem;

// Beside this binary in the build tree, in libexec once installed.
fs::path torch_binary() {
    std::error_code ec;
    const auto self = fs::read_symlink("/proc/self/exe", ec);
    if (ec) throw segearth::Error("cannot locate the segearth binary (/proc/self/exe): " + ec.message());
    for (const auto& candidate : {self.parent_path() / "segearth-torch",
                                  self.parent_path() / SEGEARTH_LIBEXEC_FROM_BIN / "segearth-torch"})
        if (fs::is_regular_file(candidate, ec)) return candidate;
    throw segearth::Error("segearth-torch, which runs this command, is missing (looked beside " + self.string() +
                          " and in " + (self.parent_path() / SEGEARTH_LIBEXEC_FROM_BIN).lexically_normal().string() +
                          "): reinstall segearth (cmake --install installs both)");
}

int run_in_torch_binary(int, char** argv) {
    const auto binary = torch_binary();
    execv(binary.c_str(), argv);
    throw segearth::Error("cannot run " + binary.string() + ": " + std::strerror(errno));
}

}  // namespace

int main(int argc, char** argv) {
    using namespace segearth::cli;
    return command_main(argc, argv, {&vectorize_command, &eval_command}, run_in_torch_binary);
}
