#!/usr/bin/env bash
# GPU check, the one prepared command for a lent GPU machine (CUDA PyTorch, no GDAL, no internet):
# builds segearth_core (with the CUDA kernels), the GDAL-free scene scheduler and the benchmarks against
# that machine's libtorch; runs the CUDA tests (kernels and upsampler against the CPU) and the scheduler's
# tests; times the upsampler, the whole scene pipeline on a synthetic scene (bench_scene) and training
# steps at the paper's settings (bench_train_step); prints one table. Everything it prints goes to
# OUT_DIR/gpu_check.log, the table to OUT_DIR/table.md as well.
#   tools/gpu_check.sh OUT_DIR [CARRY_DIR]
# CARRY_DIR (default .device) holds what such a machine may lack: doctest/ (its CMake package), zlib/
# (include/), tbb/ (its CMake package and library); tools/prepare_device_carry.sh makes it here. It is
# git-ignored: name it in the device call's carry list (carry: [".device"]).
set -uo pipefail
out="${1:?usage: tools/gpu_check.sh OUT_DIR [CARRY_DIR]}"
carry="$(cd "${2:-.device}" 2>/dev/null && pwd || echo "$PWD/.device")"
mkdir -p "$out"
exec > >(tee "$out/gpu_check.log") 2>&1
started=$(date +%s)
py=$(command -v python3)
torch_prefix=$("$py" -c "import torch; print(torch.utils.cmake_prefix_path)")
card=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
echo "card: $card; $("$py" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)")"
extra=()
[ -f /usr/include/zlib.h ] || extra+=(-DZLIB_INCLUDE_DIR="$carry/zlib/include"
  -DZLIB_LIBRARY="$(ls /usr/lib/x86_64-linux-gnu/libz.so* /lib/x86_64-linux-gnu/libz.so* 2>/dev/null | head -1)")
prefixes="$torch_prefix;$carry/doctest;$carry/tbb"
[ -d "$carry/tbb/lib/x86_64-linux-gnu" ] && export LD_LIBRARY_PATH="$carry/tbb/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
build=/tmp/segearth-gpu
targets=(segearth_core_tests segearth_scheduler_tests bench_upsampler bench_scene bench_train_step)
configure() {
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSEGEARTH_GEO=OFF -DCMAKE_PREFIX_PATH="$prefixes" \
    -DPython3_EXECUTABLE="$py" -DSEGEARTH_CUDA_ARCHITECTURES=90 "${extra[@]}" "$@" > "$build.cmake.log" 2>&1
}
configure || { tail -30 "$build.cmake.log"; exit 1; }
grep -E "CUDA|Torch|scheduler" "$build.cmake.log" | head
if ! cmake --build "$build" -j 16 --target "${targets[@]}" > "$build.build.log" 2>&1; then
  grep -E "error|No rule" "$build.build.log" | head -20
  echo "retrying with C++20, and whatever targets build"; rm -rf "$build"
  configure -DCMAKE_CXX_STANDARD=20 || { tail -30 "$build.cmake.log"; exit 1; }
  for t in "${targets[@]}"; do cmake --build "$build" -j 16 --target "$t" >> "$build.build.log" 2>&1 || echo "build of $t failed"; done
fi
echo "built in $(( $(date +%s) - started )) s"
"$py" tests/fixtures/make_upsampler_fixtures.py "$build/fixtures" | tail -2
"$py" tests/fixtures/make_clip_fixtures.py "$build/fixtures" > /dev/null 2>&1 || echo "(clip fixtures failed; some tests need them)"

row() { printf '| %s | %s |\n' "$1" "$2" >> "$out/table.md"; }
printf '| check (%s, %s) | result |\n|---|---|\n' "$card" "$(date -u +%Y-%m-%d)" > "$out/table.md"
summary() { grep -E "test cases:" | tail -1 | sed 's/\[doctest\] //'; }
r=$(timeout 120 "$build/tests/segearth_core_tests" -sf="*adaptive_conv*,*jbu*,*upsampl*,*window_segmenter*" --no-skip 2>&1 | tee /dev/stderr | summary)
row "CUDA kernels, upsampler and --batch auto vs CPU (core tests)" "${r:-did not run}"
r=$(timeout 120 "$build/tests/segearth_core_tests" -sf="*test_training*" -tc="*on CUDA*" 2>&1 | tee /dev/stderr | summary)
row "training on CUDA: a resume continues the curve (core tests)" "${r:-did not run}"
if [ -x "$build/tests/segearth_scheduler_tests" ]; then
  r=$(timeout 120 "$build/tests/segearth_scheduler_tests" 2>&1 | tee /dev/stderr | summary)
  row "scene scheduler tests (CPU, and CUDA against CPU; no GDAL)" "${r:-did not run}"
fi
r=$(timeout 120 "$build/bench/bench_upsampler" --device cuda --repeats 5 2>&1 | tee /dev/stderr | grep -iE "jbu_one.*(ms|window)" | tail -2 | tr '\n' ';')
row "jbu_one upsampler per window (bench_upsampler --device cuda)" "${r:-did not run}"
if [ -x "$build/bench/bench_scene" ]; then
  for spec in "none fp16 32" "none fp32 32" "jbu_one fp16 32" "jbu_one fp32 16" "jbu_one fp16 auto"; do
    set -- $spec
    r=$(timeout 150 "$build/bench/bench_scene" --device cuda --size 4096 --upsampler "$1" --precision "$2" --batch "$3" 2>&1 |
        tee /dev/stderr | grep -E "windows/s|peak GPU|batch auto" | tr -s ' ' | tr '\n' ';')
    row "bench_scene 4096^2, --upsampler $1, $2, batch $3" "${r:-did not run (see the log)}"
  done
fi
for precision in bf16 fp32; do
  r=$(timeout 90 "$build/bench/bench_train_step" --device cuda --precision "$precision" --steps 3 2>&1 |
      tee /dev/stderr | grep -E "steps 2\.\.|step 3:|peak GPU" | tr -s ' ' | tr '\n' ';')
  row "training, batch 8, 5 jitters, 224 px, $precision (bench_train_step)" "${r:-did not run (see the log)}"
done
echo "total $(( $(date +%s) - started )) s"
cat "$out/table.md"
