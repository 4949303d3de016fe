#!/usr/bin/env bash
# The main job on the demo tile that ships in data/demo/ (a 1000 x 1000 aerial GeoTIFF of Cologne,
# 0.5 m, ETRS89 / UTM 32N, from OpenEarthMap): segments it with the paper's OpenEarthMap classes and
# writes the class GeoTIFF, the per-class probabilities and a side-by-side quicklook PNG into one
# folder, then says how to open them in QGIS. scripts/setup.sh runs it last.
#   scripts/demo.sh [--clip PATH] [--upsampler PATH] [--out DIR] [--segearth BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."

out="$PWD/segearth-demo"
segearth=build/apps/segearth/segearth
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --clip|--upsampler) args+=("$1" "$2"); shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --segearth) segearth="$2"; shift 2 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "demo: unknown option $1 (see scripts/demo.sh --help)" >&2; exit 2 ;;
  esac
done
[ -x "$segearth" ] || { echo "demo: $segearth: not built yet (run scripts/setup.sh)" >&2; exit 1; }

mkdir -p "$out"
tile=data/demo/koeln.tif
echo "demo: segmenting $tile into $out"
"$segearth" segment "$tile" "$out/koeln_classes.tif" --preset openearthmap "${args[@]}" \
  --probabilities "$out/koeln_probabilities.tif" --quicklook "$out/koeln_quicklook.png" --overwrite
cat <<TEXT

demo: done. In $out:
  koeln_classes.tif        the classes on the tile's grid, with their names and colours
  koeln_probabilities.tif  one band per class, the probability of each
  koeln_quicklook.png      the tile and its classes side by side, with a legend

Open them in QGIS: qgis $PWD/$tile $out/koeln_classes.tif
(or Layer > Add Layer > Add Raster Layer...). The class raster opens with its own colours and class
names (Paletted/Unique values); set its opacity to 50 % to see the tile under it. The probabilities
are one band per class: pick a band under Symbology > Singleband gray.
TEXT
