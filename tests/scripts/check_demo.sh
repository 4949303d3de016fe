#!/usr/bin/env bash
# setup's demo step (scripts/demo.sh) with local weights files (the tiny random test model and
# upsampler): the class GeoTIFF on the demo tile's grid, the probabilities and the quicklook appear in
# the folder it names, and it says how to open them in QGIS.
#   tests/scripts/check_demo.sh SOURCE_DIR SEGEARTH_BINARY FIXTURES_DIR
set -euo pipefail
src="$1" segearth="$2" fixtures="$3"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export XDG_CACHE_HOME="$work/cache"   # the text-query cache, not the user's

"$src/scripts/demo.sh" --segearth "$segearth" --clip "$fixtures/tiny_clip.safetensors" \
  --upsampler "$fixtures/upsampler.safetensors" --out "$work/demo" > "$work/out" 2> "$work/err" ||
  fail "demo.sh failed: $(cat "$work/err")"
for f in koeln_classes.tif koeln_probabilities.tif koeln_quicklook.png; do
  [ -s "$work/demo/$f" ] || fail "no $f in the demo folder"
done
info=$(gdalinfo "$work/demo/koeln_classes.tif")
grep -q "Size is 1000, 1000" <<<"$info" || fail "classes: not on the tile's grid"
grep -q 'ID\["EPSG",25832\]' <<<"$info" || fail "classes: not in ETRS89 / UTM 32N"
grep -q "building" <<<"$info" || fail "classes: no class names"
[ "$(gdalinfo "$work/demo/koeln_probabilities.tif" | grep -c '^Band ')" -eq 9 ] || fail "probabilities: not 9 bands"
gdalinfo "$work/demo/koeln_quicklook.png" | grep -q "Driver: PNG" || fail "quicklook: not a PNG"
grep -q "Open them in QGIS: qgis " "$work/out" || fail "no QGIS instructions: $(cat "$work/out")"
# A bad option is refused before anything runs.
if "$src/scripts/demo.sh" --segearth "$segearth" --nonsense 2>"$work/err"; then fail "bad option accepted"; fi
grep -q "demo: unknown option --nonsense" "$work/err" || fail "message: $(cat "$work/err")"
echo "demo: ok"
