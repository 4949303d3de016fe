#!/usr/bin/env bash
# Renders the README's pictures with GDAL from segearth's outputs.
#   docs/make_pictures.sh CLASSES.tif IMAGE.tif
# CLASSES.tif: `segearth segment IMAGE.tif CLASSES.tif --preset landcover ...` (README's worked example).
set -euo pipefail
classes=$1
image=$2
segearth=${SEGEARTH:-build/apps/segearth/segearth}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
docs=$(dirname "$0")

# Draws the outlines of the polygons in GPKG (layer LAYER) in colour R G B over IMAGE -> PNG.
overlay() {
  local gpkg=$1 layer=$2 png=$3 r=$4 g=$5 b=$6
  ogr2ogr -f GPKG "$work/lines.gpkg" "$gpkg" -dialect SQLite -nln lines -nlt MULTIPOLYGON -overwrite \
    -sql "SELECT ST_Buffer(ST_Boundary(geom), 1.2) AS geom FROM \"$layer\""
  gdal_translate -q -of GTiff "$image" "$work/overlay.tif"
  gdal_rasterize -q -b 1 -b 2 -b 3 -burn "$r" -burn "$g" -burn "$b" -l lines "$work/lines.gpkg" "$work/overlay.tif"
  gdal_translate -q -of PNG -outsize 400 400 -r nearest "$work/overlay.tif" "$png"
  rm -f "$png.aux.xml"
}

"$segearth" vectorize "$classes" "$work/buildings.gpkg" --class building --min-area 20 --fill-holes 5 \
  --simplify 0.5 --regularize -q
overlay "$work/buildings.gpkg" building "$docs/koeln_buildings.png" 255 255 0

# Flood: a river 60 m wide before, 160 m wide and a flooded field after (synthetic class rasters on
# the image's grid; class 2 is water).
size=$(gdalinfo -json "$image" | python3 -c "import json,sys; print(*json.load(sys.stdin)['size'])")
extent=$(gdalinfo -json "$image" | python3 -c "
import json, sys
c = json.load(sys.stdin)['cornerCoordinates']
print(c['upperLeft'][0], c['lowerRight'][1], c['lowerRight'][0], c['upperLeft'][1])")
read -r xmin ymin xmax ymax <<< "$extent"
cat > "$work/water.csv" <<CSV
id,when,WKT
1,before,"POLYGON(($((${xmin%.*} + 200)) $ymin, $((${xmin%.*} + 260)) $ymin, $((${xmin%.*} + 260)) $ymax, $((${xmin%.*} + 200)) $ymax, $((${xmin%.*} + 200)) $ymin))"
2,after,"POLYGON(($((${xmin%.*} + 160)) $ymin, $((${xmin%.*} + 320)) $ymin, $((${xmin%.*} + 320)) $ymax, $((${xmin%.*} + 160)) $ymax, $((${xmin%.*} + 160)) $ymin))"
3,after,"POLYGON(($((${xmin%.*} + 330)) $((${ymin%.*} + 300)), $((${xmin%.*} + 430)) $((${ymin%.*} + 330)), $((${xmin%.*} + 420)) $((${ymin%.*} + 420)), $((${xmin%.*} + 340)) $((${ymin%.*} + 400)), $((${xmin%.*} + 330)) $((${ymin%.*} + 300))))"
CSV
srs=$(gdalsrsinfo -o epsg "$image" | grep -m1 .)
ogr2ogr -f GPKG "$work/water.gpkg" "$work/water.csv" -oo GEOM_POSSIBLE_NAMES=WKT -oo KEEP_GEOM_COLUMNS=NO \
  -a_srs "$srs" -nln water
for when in before after; do
  gdal_create -q -of GTiff -ot Byte -outsize $size -bands 1 -burn 0 -a_srs "$srs" \
    -a_ullr "$xmin" "$ymax" "$xmax" "$ymin" "$work/$when.tif"
  gdal_rasterize -q -burn 2 -where "\"when\" = '$when'" -l water "$work/water.gpkg" "$work/$when.tif"
done
"$segearth" vectorize "$work/after.tif" "$work/flood.gpkg" --pre-event "$work/before.tif" --water-class 2 -q
overlay "$work/flood.gpkg" new_water "$docs/flood_new_water.png" 0 255 255
echo "wrote $docs/koeln_buildings.png and $docs/flood_new_water.png"
