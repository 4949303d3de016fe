#!/usr/bin/env bash
# Batch mode against one process a scene: S crops of the real 1000 x 1000 tile segmented by separate
# `segment INPUT OUTPUT` runs (each loads the random ViT-B/16 + jbu_one that bench_segment makes and
# encodes the class texts) and by one `segment --inputs DIR` (loads once), then the batch's rerun,
# which finds every scene complete and skips it.
#   bench/bench_batch.sh BUILD_DIR [SCENES] [WORK_DIR]
set -euo pipefail
build="$1" scenes="${2:-4}" work="${3:-/tmp/segearth-bench-batch}"
src="$(cd "$(dirname "$0")/.." && pwd)"
segearth="$build/apps/segearth/segearth"
tile="$src/data/demo/koeln.tif"
mkdir -p "$work"
rm -rf "$work/scenes" "$work/separate" "$work/batch"
mkdir -p "$work/scenes" "$work/separate"
"$build/bench/bench_segment" --image "$tile" --work "$work" --skip-native --skip-scenes > /dev/null
for i in $(seq 0 $((scenes - 1))); do
  gdal_translate -q -srcwin $(( (i % 2) * 500 )) $(( (i / 2 % 2) * 500 )) 400 400 "$tile" "$work/scenes/s$i.tif"
done
seconds() { local t0 t1; t0=$(date +%s.%N); "$@"; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
# No text cache: every process encodes the classes' 80 templates, as a first run does.
common=(--clip "$work/vit_b16_random.safetensors" --upsampler "$work/jbu_one_random.safetensors"
        --classes "background;building,roof;road;tree;water" --text-cache - -q)

separate=0
for f in "$work"/scenes/*.tif; do
  t=$(seconds "$segearth" segment "$f" "$work/separate/$(basename "$f" .tif)_classes.tif" "${common[@]}")
  separate=$(echo "$separate + $t" | bc)
done
batch=$(seconds "$segearth" segment --inputs "$work/scenes" --output-dir "$work/batch" "${common[@]}")
windows=$(awk -F, 'NR > 1 {s += $5} END {print s}' "$work/batch/segearth_batch.csv")
rerun=$(seconds "$segearth" segment --inputs "$work/scenes" --output-dir "$work/batch" "${common[@]}")
for f in "$work"/separate/*.tif; do
  gdal_translate -q -of ENVI "$f" "$work/separate.raw"
  gdal_translate -q -of ENVI "$work/batch/$(basename "$f")" "$work/batch.raw"
  cmp -s "$work/separate.raw" "$work/batch.raw" || { echo "batch output $(basename "$f") differs from its separate run" >&2; exit 1; }
done
echo "$scenes scenes of 400 x 400 ($windows windows), ViT-B/16 + jbu_one, $(nproc) threads:" \
     "$scenes separate runs ${separate} s; one batch ${batch} s; its rerun (all skipped) ${rerun} s"
