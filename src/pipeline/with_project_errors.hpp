// Core's boundary for errors: libtorch reports a failed TORCH_CHECK (a shape, a dtype, an allocation)
// as c10::Error, which is no error of the project's family. Every pipeline entry point runs its work
// through with_project_errors(), so callers and main see only segearth::Error and its exit codes.
#pragma once

#include <segearth/error.hpp>

#include <c10/util/Exception.h>

#include <string>

namespace segearth::pipeline {

template <class Work>
auto with_project_errors(Work&& work) -> decltype(work()) {
    try {
        return work();
    } catch (const c10::Error& e) {
        throw Error(std::string(e.what_without_backtrace()));
    }
}

}  // namespace segearth::pipeline
