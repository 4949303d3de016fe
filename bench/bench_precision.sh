#!/usr/bin/env bash
# --precision bf16 against fp32, speed and accuracy measured in one run so that the ratios hold on any
# machine with native bf16: the real 1000 x 1000 tile (64 windows of 224), the random ViT-B/16 and
# jbu_one that bench_segment makes, every core. Accuracy against fp32 (the reference): the largest
# probability difference, label agreement over all pixels and over those whose fp32 top-2 margin
# exceeds 1e-3 (where the fp32 decision itself is not a coin toss).
#   bench/bench_precision.sh BUILD_DIR [WORK_DIR]
set -euo pipefail
build="$1" work="${2:-/tmp/segearth-bench-precision}"
source "$(dirname "$0")/tile_runs.sh"
"$segearth" info --system | grep -E "CPU features|Matmul"
for upsampler in none jbu_one; do
    [ "$upsampler" = jbu_one ] && u="$work/jbu_one_random.safetensors" || u=none
    declare -A took
    for precision in fp32 bf16; do
        line=$("$segearth" segment "$tile" "$work/$upsampler-$precision.tif" "${common[@]}" --upsampler "$u" \
                   --precision "$precision" --probabilities "$work/$upsampler-$precision-p.tif" 2>&1 >/dev/null |
               grep "windows (")
        took[$precision]=$(seconds "$line")
        echo "--upsampler $upsampler --precision $precision: ${line#*: }"
    done
    echo "--upsampler $upsampler: bf16 $(echo "scale=2; ${took[fp32]} / ${took[bf16]}" | bc)x the fp32 speed"
    /usr/bin/python3 - "$work/$upsampler-fp32-p.tif" "$work/$upsampler-bf16-p.tif" <<'PY'
import sys
import numpy as np
from osgeo import gdal
reference, other = (gdal.Open(p).ReadAsArray().astype(np.float64) for p in sys.argv[1:3])
top2 = np.sort(reference, axis=0)[-2:]
decided = (top2[1] - top2[0]) > 1e-3
same = reference.argmax(0) == other.argmax(0)
print(f"  accuracy against fp32: max |p difference| {np.abs(reference - other).max():.2e}; labels agree on "
      f"{100 * same.mean():.3f} % of pixels, {100 * same[decided].mean():.3f} % of the "
      f"{100 * decided.mean():.1f} % whose fp32 top-2 margin exceeds 1e-3")
PY
done
