#!/usr/bin/env bash
# The unit suites built with AddressSanitizer and UndefinedBehaviorSanitizer (GCC, Debug) into
# build-asan/ and run: base (options, outputs, text files), geo (rasters, vectors), core (weights
# readers, tokenizer, CLIP, upsampler, training; libtorch itself is not instrumented), scheduler (the
# streaming window scheduler) and pipeline (scene-level options); then a short smoke of every fuzz target (scripts/fuzz.sh). Fails on any
# sanitizer report, leaks included.
#   scripts/sanitize.sh [FUZZ_SECONDS]   (default 5 per fuzz target)
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSEGEARTH_SANITIZE=address,undefined \
  -DSEGEARTH_BUILD_BENCHMARKS=OFF -DSEGEARTH_BUILD_APPS=OFF >/dev/null
suites=(segearth_base_tests segearth_geo_tests segearth_core_tests segearth_scheduler_tests segearth_pipeline_tests)
cmake --build build-asan -j "$(( $(nproc) < 2 ? 1 : 2 ))" --target "${suites[@]}"
# The core suite's small random-weight models (python3-torch), as ctest makes them for build/.
ctest --test-dir build-asan -R '^make_.*_fixtures$' --output-on-failure >/dev/null
export ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}"
# Third-party caches kept until exit by design (fontconfig's), each explained in the file.
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0:${LSAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
for suite in "${suites[@]}"; do
  echo "sanitize: $suite"
  build-asan/tests/"$suite"
done
scripts/fuzz.sh "${1:-5}"
