// What every fuzz target shares: the input written to a file when the code under test reads files,
// and the rule for what counts as a finding. segearth's errors (and libtorch's own checks, which the
// pipeline turns into segearth errors) are the expected answer to a bad file; anything else that
// escapes, a crash, a leak, a hang or undefined behaviour is a finding.
#pragma once

#include <segearth/error.hpp>

#include <c10/util/Exception.h>

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace segearth::fuzz {

/// The input as a file in /dev/shm (one per process), rewritten for every run.
inline std::string as_file(const uint8_t* data, size_t size, const char* suffix) {
    const std::string path = "/dev/shm/segearth-fuzz-" + std::to_string(::getpid()) + suffix;
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) __builtin_trap();
    if (size) std::fwrite(data, 1, size, f);
    std::fclose(f);
    return path;
}

/// Runs `work`; the project's errors are fine, everything else propagates and is reported.
template <class Work>
void expect_clean(Work&& work) {
    try {
        work();
    } catch (const segearth::Error&) {
    } catch (const c10::Error&) {
    }
}

}  // namespace segearth::fuzz
