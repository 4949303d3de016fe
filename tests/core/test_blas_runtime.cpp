// The fast BLAS path gives the same numbers as the reference BLAS.
#include <doctest/doctest.h>

#include <segearth/core/blas_runtime.hpp>

#include "support/tensor_checks.hpp"

#include <dlfcn.h>

#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <thread>

using namespace segearth::core;

namespace {

// Fortran sgemm_ of Debian's reference BLAS (package libblas3), loaded privately so it does not
// replace the libblas.so.3 libtorch uses.
using sgemm_fn = void (*)(const char*, const char*, const int*, const int*, const int*, const float*, const float*,
                          const int*, const float*, const int*, const float*, float*, const int*);

sgemm_fn reference_sgemm() {
    static void* handle = dlopen("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3", RTLD_NOW | RTLD_LOCAL);
    return handle ? reinterpret_cast<sgemm_fn>(dlsym(handle, "sgemm_")) : nullptr;
}

}  // namespace

TEST_CASE("libtorch matmul on the BLAS in use equals the reference BLAS") {
    const auto sgemm = reference_sgemm();
    const bool have_reference = sgemm != nullptr;
    REQUIRE_MESSAGE(have_reference, "Debian's reference BLAS (libblas3) is not installed");
    const int m = 300, k = 517, n = 211;  // odd sizes exercise the kernels' edge handling
    const auto a = torch::randn({m, k});
    const auto b = torch::randn({k, n});
    const auto fast = torch::matmul(a, b);

    // Row-major C = A B is column-major C^T = B^T A^T.
    auto reference = torch::empty({m, n});
    const float one = 1.0f, zero = 0.0f;
    sgemm("N", "N", &n, &m, &k, &one, b.data_ptr<float>(), &n, a.data_ptr<float>(), &k, &zero,
          reference.data_ptr<float>(), &n);
    CHECK(segearth::test::relative_error(fast, reference) < 1e-5);
}

TEST_CASE("the program runs OpenBLAS with kernels for this CPU's vector width") {
    const auto report = blas_report();
    if (report.core_type.empty()) return;  // not OpenBLAS: nothing to select
    // The test runner's main called select_blas_core_type, as the segearth binary does.
    if (!std::getenv("OPENBLAS_CORETYPE"))
        CHECK(openblas_kernel_rank(report.core_type) >= openblas_kernel_rank(preferred_openblas_core_type()));
    CHECK(report.threads >= 1);
    CHECK(measure_matmul_gflops(256, 1) > 0.0);
}

TEST_CASE("kernel families are ranked by vector width") {
    CHECK(openblas_kernel_rank("Prescott") < openblas_kernel_rank("Sandybridge"));
    CHECK(openblas_kernel_rank("Sandybridge") < openblas_kernel_rank("Haswell"));
    CHECK(openblas_kernel_rank("Zen") == openblas_kernel_rank("Haswell"));
    CHECK(openblas_kernel_rank("Haswell") < openblas_kernel_rank("SkylakeX"));
}

TEST_CASE("set_threads brings the BLAS back to several threads after one") {
    // OpenBLAS 0.3.21 (OpenMP) otherwise stays single-threaded after being set to one thread.
    set_threads(1);
    CHECK(at::get_num_threads() == 1);
    set_threads(2);
    CHECK(at::get_num_threads() == 2);
    using get_fn = int (*)();
    if (auto openblas_threads = reinterpret_cast<get_fn>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"))) {
        const auto a = torch::randn({256, 256});
        torch::matmul(a, a);  // OpenBLAS re-reads its thread count on a call
        CHECK(openblas_threads() == std::min(2, static_cast<int>(std::thread::hardware_concurrency())));
    }
}

TEST_CASE("SingleThreaded runs its scope on one thread and restores the count after") {
    // at::get_num_threads reads OpenMP's count for this thread, the one libtorch's parallel loops use.
    set_threads(2);
    {
        const SingleThreaded one;
        CHECK(at::get_num_threads() == 1);
    }
    CHECK(at::get_num_threads() == 2);
    set_threads(1);
    {
        const SingleThreaded already_one;
        CHECK(at::get_num_threads() == 1);
    }
    CHECK(at::get_num_threads() == 1);
    set_threads(default_thread_count());
}

TEST_CASE("SingleThreaded starts no threads: libtorch's thread pool is left as it is") {
    // at::set_num_threads rebuilds that pool, and a scope per window then started (and spun) new
    // workers each time. The process's threads after a scope must be ones that existed before it.
    const auto thread_ids = [] {
        std::set<std::string> ids;
        for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task"))
            ids.insert(entry.path().filename().string());
        return ids;
    };
    set_threads(2);
    CHECK(at::get_num_threads() == 2);  // libtorch's once-per-thread set-up done before counting
    const auto before = thread_ids();
    for (int window = 0; window < 3; ++window) {
        const SingleThreaded one;
        const auto q = std::get<0>(torch::linalg_qr(torch::randn({64, 32})));
        CHECK(q.size(1) == 32);
    }
    const auto after = thread_ids();
    for (const auto& id : after) CHECK_MESSAGE(before.count(id) == 1, "thread " << id << " started by the scope");
    set_threads(default_thread_count());
}
