// Test runner for segearth_pipeline: picks the fast BLAS path exactly as the segearth binary does, so the
// tests check the numbers users get.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <segearth/core/blas_runtime.hpp>

int main(int argc, char** argv) {
    segearth::core::select_blas_core_type(argv);
    doctest::Context context(argc, argv);
    return context.run();
}
