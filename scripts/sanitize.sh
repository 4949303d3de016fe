#!/usr/bin/env bash
# The suites that need no libtorch (base: options, outputs, text files; geo: rasters, vectors) built
# with AddressSanitizer and UndefinedBehaviorSanitizer into build-asan/ and run; then a short smoke
# of every fuzz target (scripts/fuzz.sh). Fails on any sanitizer report.
#   scripts/sanitize.sh [FUZZ_SECONDS]   (default 5 per fuzz target)
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSEGEARTH_SANITIZE=address,undefined \
  -DSEGEARTH_BUILD_BENCHMARKS=OFF -DSEGEARTH_BUILD_APPS=OFF >/dev/null
cmake --build build-asan -j "$(( $(nproc) < 2 ? 1 : 2 ))" --target segearth_base_tests segearth_geo_tests
export ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
build-asan/tests/segearth_base_tests
build-asan/tests/segearth_geo_tests
scripts/fuzz.sh "${1:-5}"
