#!/usr/bin/env bash
# The README's screenshot of QGIS (Debian's 3.22, under Xvfb) showing a segmented tile with the legend
# segearth's .qml gives it: the scene, its class raster on top, the Layers panel with the class names.
#   docs/make_qgis_screenshot.sh CLASSES.tif IMAGE.tif [OUT.png]
# Needs qgis, xvfb and xauth (apt-get install qgis xvfb xauth).
set -euo pipefail
classes=$(realpath "$1") image=$(realpath "$2") out=$(realpath -m "${3:-$(dirname "$0")/qgis_legend.png}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/shot.py" <<PY
import os

from qgis.core import QgsProject, QgsRasterLayer
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QDockWidget
from qgis.utils import iface

scene = QgsRasterLayer("$image", "$(basename "$image")")
classes = QgsRasterLayer("$classes", "$(basename "$classes")")  # its .qml: the classes as the legend
classes.renderer().setOpacity(0.75)
QgsProject.instance().addMapLayer(scene)
QgsProject.instance().addMapLayer(classes)
root = QgsProject.instance().layerTreeRoot()
root.findLayer(classes.id()).setExpanded(True)
root.findLayer(scene.id()).setExpanded(False)
for dock in iface.mainWindow().findChildren(QDockWidget):
    if dock.objectName() == "Browser":
        dock.hide()
iface.mainWindow().resize(1280, 800)
iface.mapCanvas().setExtent(classes.extent())


def shoot():
    iface.mapCanvas().refreshAllLayers()
    QTimer.singleShot(3000, save)


def save():
    iface.mainWindow().grab().save("$out")
    os._exit(0)  # no "save the project?" question


QTimer.singleShot(3000, shoot)
PY
HOME="$work" QT_QPA_PLATFORM=xcb timeout 120 xvfb-run -a -s "-screen 0 1280x800x24" \
  qgis --nologo --noversioncheck --noplugins --code "$work/shot.py" > "$work/qgis.log" 2>&1 || true
[ -s "$out" ] || { tail -20 "$work/qgis.log" >&2; echo "no screenshot" >&2; exit 1; }
echo "wrote $out"
