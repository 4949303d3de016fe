#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a working segearth:
#   installs the packages, builds into build/, locates or downloads the CLIP weights and the authors'
#   SimFeatUp upsampler (checked), and runs the main job on the demo tile (scripts/demo.sh).
#   scripts/setup.sh [--clip PATH] [--upsampler PATH] [--skip-assets] [--build-dir DIR] [--build-type TYPE]
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=build
build_type=Release
clip=""
upsampler=""
skip_assets=0
while [ $# -gt 0 ]; do
  case "$1" in
    --clip) clip="$2"; shift 2 ;;
    --upsampler) upsampler="$2"; shift 2 ;;
    --skip-assets) skip_assets=1; shift ;;
    --build-dir) build_dir="$2"; shift 2 ;;
    --build-type) build_type="$2"; shift 2 ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "setup: unknown option $1 (see scripts/setup.sh --help)" >&2; exit 2 ;;
  esac
done

scripts/install-dependencies.sh

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" "${launcher[@]}"
# Two jobs at most: a libtorch translation unit needs about 1 GB of compiler memory.
cmake --build "$build_dir" -j "$(( $(nproc) < 2 ? 1 : 2 ))"

segearth="$build_dir/apps/segearth/segearth"
"$segearth" info --system

if [ "$skip_assets" -eq 1 ]; then
  echo "setup: built; assets skipped (--skip-assets)"
  exit 0
fi
fetch=()
[ -n "$clip" ] && fetch+=(--clip "$clip")
[ -n "$upsampler" ] && fetch+=(--upsampler "$upsampler")
scripts/fetch-assets.sh "${fetch[@]}"
if [ -n "$clip" ]; then
  "$segearth" info "$clip"
else
  "$segearth" info "${SEGEARTH_CLIP:-${XDG_CACHE_HOME:-$HOME/.cache}/segearth/ViT-B-16.pt}"
fi
scripts/demo.sh --segearth "$segearth" "${fetch[@]}"
