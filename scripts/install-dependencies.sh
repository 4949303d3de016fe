#!/usr/bin/env bash
# Installs what segearth needs to build, test and run fast, from Debian 12's packages.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git ca-certificates curl
  libtorch-dev zlib1g-dev
  libgdal-dev gdal-bin libproj-dev libgeos-dev libtbb-dev libboost-program-options-dev libsqlite3-dev
  doctest-dev
  # eval --confusion-png draws its labelled picture with cairo, in DejaVu Sans.
  libcairo2-dev fonts-dejavu-core
  # OpenBLAS makes libtorch's matmuls ~10x faster than the reference BLAS; libblas3 (the reference)
  # stays installed so the tests can check OpenBLAS's results against it.
  libopenblas0-openmp libblas3
  # tcmalloc as segearth's malloc: glibc's gives libtorch's large buffers back to the kernel on every
  # free (training spent a third of its CPU time re-faulting them).
  libtcmalloc-minimal4
  # The test fixtures are written by an independent Python implementation (tests/fixtures/).
  python3 python3-torch python3-numpy
  # The fuzz targets (scripts/fuzz.sh): clang's libFuzzer, ASan and UBSan runtimes.
  clang libclang-rt-14-dev
)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-dependencies: run as root or install sudo" >&2; exit 1; }
  sudo_cmd=(sudo)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-dependencies: all ${#packages[@]} packages already installed"
  exit 0
fi
echo "install-dependencies: installing ${missing[*]}"
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
