// The linear-algebra back end libtorch runs on, and getting its fast path without user effort.
//
//   int main(int argc, char** argv) {
//       segearth::core::select_blas_core_type(argv);  // first statement: may re-exec
//       ...
//   }
//
// Debian's libtorch calls the system libblas.so.3. When that is OpenBLAS, OpenBLAS picks its kernels
// once, at load time, from its own CPU detection, which takes several current x86 cores for a
// "Prescott" (SSE3) and runs 4-5x slower than it could. OPENBLAS_CORETYPE overrides the detection but
// is read only while the library loads, which happens before main(). So when it is unset we set it from
// the CPU's features and re-execute the program once (a guard variable prevents loops).
#pragma once

#include <string>

namespace segearth::core {

/// Sets OPENBLAS_CORETYPE from the CPU features and re-executes /proc/self/exe when that changes the
/// kernels OpenBLAS would load. Does nothing when the variable is already set, when the BLAS is not
/// OpenBLAS, when SEGEARTH_NO_BLAS_REEXEC is set, or when re-execution fails (then it carries on).
void select_blas_core_type(char** argv);

/// Vector width class of an OpenBLAS kernel family: 0 SSE ("Prescott"...), 1 AVX, 2 AVX2, 3 AVX-512.
int openblas_kernel_rank(const std::string& core_type);

/// The OPENBLAS_CORETYPE this CPU should use ("SkylakeX", "Haswell"), or "" for none.
std::string preferred_openblas_core_type();

/// Sets the number of threads libtorch and the BLAS use. Use this, not at::set_num_threads alone:
/// OpenBLAS 0.3.21 built for OpenMP stays on one thread for good once it has been set to one, until
/// openblas_set_num_threads is called again.
void set_threads(int threads);

/// One thread for the BLAS and OpenMP (libtorch's parallel loops) on this thread while it lives, then
/// the count before. For small LAPACK factorisations (the low-rank upsampler's 512 x 197 QR per
/// window): they make hundreds of tiny BLAS calls, each an OpenMP fork and join, and on a machine with
/// other work running every join waits for a descheduled thread: that QR took 5.8 s on two threads
/// beside a build, and 9-17 ms on one.
class SingleThreaded {
public:
    SingleThreaded();
    ~SingleThreaded();
    SingleThreaded(const SingleThreaded&) = delete;
    SingleThreaded& operator=(const SingleThreaded&) = delete;

private:
    int threads_;
};

/// The threads to use when the user does not say: $OMP_NUM_THREADS when set, else the CPUs this
/// process may run on. (libtorch's own default counts physical cores, which on 2-vCPU cloud machines
/// is often 1 and halves the speed.)
int default_thread_count();

struct BlasReport {
    std::string library;      ///< "OpenBLAS 0.3.21 ..." or "reference BLAS (netlib)".
    std::string core_type;    ///< OpenBLAS' kernel family in use, e.g. "Haswell"; "" if not OpenBLAS.
    std::string cpu_features; ///< e.g. "avx2 fma avx512f".
    int threads = 1;          ///< intra-op threads libtorch uses.
};

BlasReport blas_report();

/// Whether this CPU multiplies bf16 natively (AVX512_BF16 or AMX). Without it oneDNN emulates bf16,
/// slower than float32.
bool cpu_has_native_bf16();

/// Measures an n x n x n matmul through libtorch, float32 or (bf16 = true) bfloat16; returns GFLOP/s
/// (best of `repeats`).
double measure_matmul_gflops(int n = 1024, int repeats = 3, bool bf16 = false);

}  // namespace segearth::core
