#!/usr/bin/env bash
# GPU check, run on a machine with CUDA PyTorch (no GDAL): builds segearth_core with the CUDA kernels,
# runs the adaptive-convolution and upsampler tests (CUDA against CPU), and times the upsampler.
#   tools/gpu_check.sh [CARRY_DIR]   CARRY_DIR holds doctest/ and zlib/ if the machine lacks them
set -uo pipefail
carry="${1:-.device}"
py=$(command -v python3)
torch_prefix=$("$py" -c "import torch; print(torch.utils.cmake_prefix_path)")
nvidia-smi -L
"$py" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)"
zlib_flags=()
[ -f /usr/include/zlib.h ] || zlib_flags=(-DZLIB_INCLUDE_DIR="$PWD/$carry/zlib/include"
  -DZLIB_LIBRARY="$(ls /usr/lib/x86_64-linux-gnu/libz.so* /lib/x86_64-linux-gnu/libz.so* 2>/dev/null | head -1)")
build=/tmp/segearth-gpu
configure() {
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSEGEARTH_GEO=OFF \
    -DCMAKE_PREFIX_PATH="$torch_prefix;$PWD/$carry/doctest" -DPython3_EXECUTABLE="$py" \
    -DSEGEARTH_CUDA_ARCHITECTURES=90 "${zlib_flags[@]}" "$@" > "$build.cmake.log" 2>&1
}
configure || { tail -30 "$build.cmake.log"; exit 1; }
grep -E "CUDA|Torch" "$build.cmake.log" | head
if ! cmake --build "$build" -j 16 --target segearth_core_tests bench_upsampler > "$build.build.log" 2>&1; then
  grep -E "error" "$build.build.log" | head -20
  echo "retrying with C++20"; rm -rf "$build"
  configure -DCMAKE_CXX_STANDARD=20 || { tail -30 "$build.cmake.log"; exit 1; }
  cmake --build "$build" -j 16 --target segearth_core_tests bench_upsampler > "$build.build.log" 2>&1 ||
    { grep -E "error" "$build.build.log" | head -30; exit 1; }
fi
"$py" tests/fixtures/make_upsampler_fixtures.py "$build/fixtures" | tail -2
"$py" tests/fixtures/make_clip_fixtures.py "$build/fixtures" > /dev/null 2>&1 || echo "(clip fixtures failed; one jbu test needs them)"
"$build/tests/segearth_core_tests" -sf="*adaptive_conv*,*jbu*" --no-skip 2>&1 | tail -25
"$build/bench/bench_upsampler" --device cuda --repeats 5
