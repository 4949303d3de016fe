#!/usr/bin/env bash
# Copies into CARRY_DIR (default .device) what tools/gpu_check.sh needs from this Debian machine and a
# GPU machine (CUDA PyTorch only) may lack: doctest's header and CMake package, zlib's headers, oneTBB's
# headers, libraries and CMake package, each in its prefix layout so that CMake's relocatable package
# files find them. About 5 MB; an untracked folder travels with the working tree to the device.
#   tools/prepare_device_carry.sh [CARRY_DIR]
set -euo pipefail
carry="${1:-.device}"
multiarch=lib/x86_64-linux-gnu
mkdir -p "$carry/doctest/include" "$carry/doctest/lib/cmake" "$carry/zlib/include" \
  "$carry/tbb/include" "$carry/tbb/$multiarch/cmake"
cp -r /usr/include/doctest "$carry/doctest/include/"
cp -r /usr/lib/cmake/doctest "$carry/doctest/lib/cmake/"
# Debian's doctest package names /usr itself: make it relative to where it lies.
sed -i 's|^set(_IMPORT_PREFIX "/usr")|get_filename_component(_IMPORT_PREFIX "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)|' \
  "$carry/doctest/lib/cmake/doctest/doctestTargets.cmake"
cp /usr/include/zlib.h /usr/include/zconf.h "$carry/zlib/include/" 2>/dev/null ||
  cp /usr/include/zlib.h /usr/include/x86_64-linux-gnu/zconf.h "$carry/zlib/include/"
cp -r /usr/include/oneapi /usr/include/tbb "$carry/tbb/include/"
cp -a /usr/$multiarch/libtbb*.so* "$carry/tbb/$multiarch/"
cp -r /usr/$multiarch/cmake/TBB "$carry/tbb/$multiarch/cmake/"
du -sh "$carry"
