#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) into build-fuzz/ and runs each for SECONDS
# (default 60) from its seed corpus in fuzz/corpus/; fails on any crash, leak, timeout or
# sanitizer report. New inputs go to build-fuzz/corpus/, never into the repository.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# FUZZ_MAX_RUNS=N also ends each run after N executions (the long runs: 10 million or SECONDS).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(zip_archive unpickler safetensors read_weights tokenizer class_files presets)

cmake -S fuzz -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "$(( $(nproc) < 2 ? 1 : 2 ))"

export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
status=0
for t in "${targets[@]}"; do
  work="build-fuzz/corpus/$t"
  mkdir -p "$work" "build-fuzz/findings/$t"
  log="build-fuzz/fuzz_$t.log"
  echo "fuzz: $t for ${seconds} s"
  if build-fuzz/fuzz_"$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 ${FUZZ_MAX_RUNS:+-runs=$FUZZ_MAX_RUNS} -max_len=65536 \
       -print_final_stats=1 -artifact_prefix="build-fuzz/findings/$t/" "$work" "fuzz/corpus/$t" >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
    echo "fuzz: $t passed: $runs executions ($(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")/s), $cov"
  else
    echo "fuzz: $t FAILED (see $log; the input is in build-fuzz/findings/$t/):" >&2
    grep -E "ERROR|SUMMARY|runtime error" "$log" | head -5 >&2 || true
    status=1
  fi
done
exit $status
