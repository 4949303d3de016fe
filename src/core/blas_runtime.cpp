#include <segearth/core/blas_runtime.hpp>

#include <torch/torch.h>

#include <dlfcn.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace segearth::core {
namespace {

constexpr const char* reexec_guard = "SEGEARTH_BLAS_REEXEC";

// OpenBLAS exports these; they are absent from the reference BLAS. Looked up at run time so that the
// project does not link against OpenBLAS directly (Debian switches libblas.so.3 by alternatives).
using openblas_string_fn = char* (*)();

std::string call_openblas(const char* symbol) {
    auto fn = reinterpret_cast<openblas_string_fn>(dlsym(RTLD_DEFAULT, symbol));
    return fn ? std::string(fn()) : std::string();
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

}  // namespace

int openblas_kernel_rank(const std::string& core) {
    const std::string c = lower(core);
    for (const char* name : {"skylakex", "cooperlake", "sapphirerapids"})
        if (c == name) return 3;
    for (const char* name : {"haswell", "zen", "skylake"})
        if (c == name) return 2;
    if (c == "sandybridge") return 1;
    return 0;
}

std::string preferred_openblas_core_type() {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
    return "";
}

void select_blas_core_type(char** argv) {
    if (std::getenv("OPENBLAS_CORETYPE") || std::getenv("SEGEARTH_NO_BLAS_REEXEC") ||
        std::getenv(reexec_guard))
        return;
    const std::string detected = call_openblas("openblas_get_corename");
    if (detected.empty()) return;  // not OpenBLAS
    const std::string preferred = preferred_openblas_core_type();
    if (preferred.empty() || openblas_kernel_rank(detected) >= openblas_kernel_rank(preferred)) return;
    setenv("OPENBLAS_CORETYPE", preferred.c_str(), 1);
    setenv(reexec_guard, "1", 1);
    execv("/proc/self/exe", argv);
    // execv only returns on failure: carry on with the slow kernels rather than fail.
    unsetenv("OPENBLAS_CORETYPE");
}

void set_threads(int threads) {
    if (threads < 1) threads = 1;
    at::set_num_threads(threads);
    using set_fn = void (*)(int);
    if (auto fn = reinterpret_cast<set_fn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) fn(threads);
}

namespace {

// OpenMP's count for parallel regions started from this thread, and OpenBLAS's, but not libtorch's
// own: at::set_num_threads also rebuilds its pthreadpool (XNNPACK's and QNNPACK's), whose new workers
// spin before they sleep. Once per window that was 3 % of a segment run's CPU on 2 cores.
// Looked up at run time like OpenBLAS's: libgomp comes with libtorch, not on our link line.
void set_openmp_and_blas_threads(int threads) {
    using set_fn = void (*)(int);
    if (auto fn = reinterpret_cast<set_fn>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"))) fn(threads);
    if (auto fn = reinterpret_cast<set_fn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) fn(threads);
}

}  // namespace

// at::get_num_threads first: on a thread's first parallel op libtorch sets OpenMP's count to its own
// (lazily, once per thread), which would undo a count set before it. After that it reads OpenMP's.
SingleThreaded::SingleThreaded() : threads_(at::get_num_threads()) {
    if (threads_ > 1) set_openmp_and_blas_threads(1);
}

SingleThreaded::~SingleThreaded() {
    if (threads_ > 1) set_openmp_and_blas_threads(threads_);
}

int default_thread_count() {
    if (const char* env = std::getenv("OMP_NUM_THREADS")) {
        const int n = std::atoi(env);
        if (n > 0) return n;
    }
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    if (sched_getaffinity(0, sizeof cpus, &cpus) == 0 && CPU_COUNT(&cpus) > 0) return CPU_COUNT(&cpus);
    return std::max(1u, std::thread::hardware_concurrency());
}

BlasReport blas_report() {
    BlasReport report;
    const std::string config = call_openblas("openblas_get_config");
    if (config.empty()) {
        report.library = "reference BLAS (netlib) or another non-OpenBLAS libblas.so.3";
    } else {
        report.library = config;
        report.core_type = call_openblas("openblas_get_corename");
    }
    __builtin_cpu_init();
    std::vector<std::string> features;
    // __builtin_cpu_supports takes only literals, hence the macro.
#define SEGEARTH_FEATURE(name) \
    if (__builtin_cpu_supports(name)) features.emplace_back(name)
    SEGEARTH_FEATURE("sse4.2");
    SEGEARTH_FEATURE("avx");
    SEGEARTH_FEATURE("avx2");
    SEGEARTH_FEATURE("fma");
    SEGEARTH_FEATURE("avx512f");
    SEGEARTH_FEATURE("avx512bw");
    SEGEARTH_FEATURE("avx512vl");
    SEGEARTH_FEATURE("avx512vnni");
    SEGEARTH_FEATURE("avx512bf16");
    SEGEARTH_FEATURE("amx-bf16");
#undef SEGEARTH_FEATURE
    for (const auto& f : features) report.cpu_features += (report.cpu_features.empty() ? "" : " ") + f;
    report.threads = at::get_num_threads();
    return report;
}

bool cpu_has_native_bf16() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") || __builtin_cpu_supports("amx-bf16");
}

double measure_matmul_gflops(int n, int repeats, bool bf16) {
    torch::NoGradGuard no_grad;
    const auto type = bf16 ? torch::kBFloat16 : torch::kFloat32;
    const auto a = torch::randn({n, n}).to(type);
    const auto b = torch::randn({n, n}).to(type);
    auto c = torch::matmul(a, b);  // warm-up: thread pool and kernel selection
    double best = 0.0;
    for (int i = 0; i < repeats; ++i) {
        const auto start = std::chrono::steady_clock::now();
        c = torch::matmul(a, b);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        best = std::max(best, 2.0 * n * n * double(n) / seconds / 1e9);
    }
    return best;
}

}  // namespace segearth::core
