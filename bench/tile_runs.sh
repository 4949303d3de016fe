# Sourced by the tile benchmarks (bench_upsampler_ratio.sh, bench_precision.sh) after they set
# `build` and `work`: the random ViT-B/16 and jbu_one that bench_segment makes in $work, the real
# 1000 x 1000 tile (64 windows of 224), the segment options every run shares, and `seconds LINE`,
# the wall time of segment's own summary line ("... 64 windows ... on cpu, batch 1, in 27.3 s (model ...").
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
segearth="$build/apps/segearth/segearth"
tile="$src/data/demo/koeln.tif"
mkdir -p "$work"
"$build/bench/bench_segment" --image "$tile" --work "$work" --skip-native --skip-scenes > /dev/null
common=(--clip "$work/vit_b16_random.safetensors" --classes "background;building,roof;road;tree;water"
        --text-cache "$work" --overwrite)
seconds() { sed -E 's/.* in ([0-9.]+) s \(model.*/\1/' <<< "$1"; }
