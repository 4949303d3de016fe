#!/usr/bin/env bash
# Shards against the single run: the windows the halo adds and the time it costs (random ViT-B/16 +
# jbu_one made by bench_segment, on the real 1000 x 1000 tile), and merge's throughput on a large
# output grid (the tile segmented onto a 20000 x 20000 grid with the tiny test model: merge's work
# does not depend on the model).
#   bench/bench_shards.sh BUILD_DIR [SHARDS] [WORK_DIR]
set -euo pipefail
build="$1" n="${2:-4}" work="${3:-/tmp/segearth-bench-shards}"
src="$(cd "$(dirname "$0")/.." && pwd)"
segearth="$build/apps/segearth/segearth"
tile="$src/data/demo/koeln.tif"
mkdir -p "$work"
"$build/bench/bench_segment" --image "$tile" --work "$work" --skip-native --skip-scenes > /dev/null
seconds() { local t0 t1; t0=$(date +%s.%N); "$@"; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
common=(--clip "$work/vit_b16_random.safetensors" --upsampler "$work/jbu_one_random.safetensors"
        --classes "background;building,roof;road;tree;water" --text-cache "$work" --overwrite -q)

single=$(seconds "$segearth" segment "$tile" "$work/single.tif" "${common[@]}")
total=0
for i in $(seq 0 $((n - 1))); do
  t=$(seconds "$segearth" segment "$tile" "$work/sharded.tif" "${common[@]}" --shard "$i/$n")
  total=$(echo "$total + $t" | bc)
done
windows=$(cat "$work"/sharded.shard-*-of-"$n".manifest | awk '$1 == "windows" {s += $2} END {print s}')
merge=$(seconds "$segearth" merge "$work/sharded.tif" --overwrite -q)
echo "1000 x 1000 tile, ViT-B/16 + jbu_one, $(nproc) threads: single run ${single} s (64 windows);" \
     "$n shards ${total} s in all ($windows windows); merge ${merge} s"

tiny=(--clip "$build/fixtures/tiny_clip.safetensors" --upsampler bilinear --classes "a;b;c;d" --text-cache - -q
      --overwrite --scale 0.05)
gdal_translate -q -of VRT -outsize 20000 20000 "$tile" "$work/big.vrt"
for i in $(seq 0 $((n - 1))); do
  "$segearth" segment "$work/big.vrt" "$work/big.tif" "${tiny[@]}" --probabilities "$work/big_p.tif" --shard "$i/$n"
done
merge=$(seconds "$segearth" merge "$work/big.tif" --overwrite -q)
echo "merge of $n shards onto a 20000 x 20000 grid (classes Byte + 4 Float32 probability bands):" \
     "${merge} s, $(echo "scale=1; 400 / $merge" | bc) Mpx/s"
