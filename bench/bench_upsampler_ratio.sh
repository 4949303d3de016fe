#!/usr/bin/env bash
# segment end to end with the upsampler against --upsampler none (CLIP alone: the bound), measured in
# one run so that the ratio holds on any machine: the real 1000 x 1000 tile (64 windows of 224), the
# random ViT-B/16 and jbu_one that bench_segment makes, fp32, every core.
#   bench/bench_upsampler_ratio.sh BUILD_DIR [WORK_DIR]
set -euo pipefail
build="$1" work="${2:-/tmp/segearth-bench-ratio}"
source "$(dirname "$0")/tile_runs.sh"
# The run's own summary line: "... 64 windows ... in 27.3 s (model 25.1 s: CLIP 12.0 s, upsampler 9.9 s; ..."
run() { "$segearth" segment "$tile" "$work/out.tif" "${common[@]}" "$@" 2>&1 >/dev/null | grep "windows (" ; }
with=$(run --upsampler "$work/jbu_one_random.safetensors")
without=$(run --upsampler none)
a=$(seconds "$with") b=$(seconds "$without")
echo "with jbu_one: $with"
echo "--upsampler none: $without"
echo "windows/s: jbu_one $(echo "scale=2; 64 / $a" | bc), none $(echo "scale=2; 64 / $b" | bc);" \
     "jbu_one reaches $(echo "scale=1; 100 * $b / $a" | bc) % of the CLIP-only rate ($(nproc) threads)"
