#!/usr/bin/env bash
# Renders the README's picture of a scene segmented in 4 shards and merged, with the shards' band
# borders drawn, and checks that the merge equals the single run pixel for pixel.
#   docs/make_shard_picture.sh IMAGE.tif [segment options: --clip, --upsampler, --classes/--preset ...]
set -euo pipefail
image=$1
shift
segearth=${SEGEARTH:-build/apps/segearth/segearth}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
docs=$(dirname "$0")
n=4

"$segearth" segment "$image" "$work/single.tif" "$@" -q
for i in $(seq 0 $((n - 1))); do "$segearth" segment "$image" "$work/merged.tif" "$@" --shard "$i/$n" -q; done
# The bands' first rows, from the manifests, before merge removes them.
borders=$(for i in $(seq 1 $((n - 1))); do awk '$1 == "band" {print $2}' "$work/merged.shard-$i-of-$n.manifest"; done)
"$segearth" merge "$work/merged.tif" -q
gdal_translate -q -of ENVI "$work/single.tif" "$work/single.raw"
gdal_translate -q -of ENVI "$work/merged.tif" "$work/merged.raw"
cmp -s "$work/single.raw" "$work/merged.raw" || { echo "the merge differs from the single run" >&2; exit 1; }

# The borders as 3-pixel white bands across the class picture, in its own coordinates.
gdal_translate -q -of GTiff -expand rgb "$work/merged.tif" "$work/picture.tif"
read -r x0 dx y0 dy width <<< "$(gdalinfo -json "$work/picture.tif" | python3 -c "
import json, sys
i = json.load(sys.stdin)
g = i['geoTransform']
print(g[0], g[1], g[3], g[5], i['size'][0])")"
{
  echo "id,WKT"
  for row in $borders; do
    top=$(echo "$y0 + ($row - 1) * $dy" | bc -l) bottom=$(echo "$y0 + ($row + 2) * $dy" | bc -l)
    right=$(echo "$x0 + $width * $dx" | bc -l)
    echo "$row,\"POLYGON(($x0 $top, $right $top, $right $bottom, $x0 $bottom, $x0 $top))\""
  done
} > "$work/borders.csv"
ogr2ogr -f GPKG "$work/borders.gpkg" "$work/borders.csv" -oo GEOM_POSSIBLE_NAMES=WKT -oo KEEP_GEOM_COLUMNS=NO \
  -a_srs "$(gdalsrsinfo -o epsg "$work/picture.tif" | grep -m1 .)" -nln borders
gdal_rasterize -q -b 1 -b 2 -b 3 -burn 255 -burn 255 -burn 255 -l borders "$work/borders.gpkg" "$work/picture.tif"
gdal_translate -q -of PNG -outsize 400 400 -r nearest "$work/picture.tif" "$docs/koeln_shards.png"
rm -f "$docs/koeln_shards.png.aux.xml"
echo "wrote $docs/koeln_shards.png: $n shards (borders at rows" $borders"), merged = single run pixel for pixel"
