#!/usr/bin/env bash
# The zip QGIS's plugin manager installs (Plugins > Manage and Install Plugins > Install from ZIP):
# the plugin as built (with its usage snapshots) in a folder named segearth.
#   plugins/qgis/make_zip.sh BUILD_DIR [OUT.zip]
set -euo pipefail
plugin="$1/plugins/qgis/segearth"
out=${2:-segearth-qgis-plugin.zip}
[ -f "$plugin/metadata.txt" ] || { echo "no plugin in $1 (cmake --build $1 first)" >&2; exit 1; }
python3 - "$plugin" "$out" <<'PY'
import os, sys, zipfile
plugin, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out + ".part", "w", zipfile.ZIP_DEFLATED) as z:
    for folder, dirs, files in os.walk(plugin):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            path = os.path.join(folder, name)
            z.write(path, os.path.join("segearth", os.path.relpath(path, plugin)))
os.replace(out + ".part", out)
version = [l.split("=", 1)[1].strip() for l in open(os.path.join(plugin, "metadata.txt")) if l.startswith("version=")]
print("wrote {} (segearth plugin {}, {} files)".format(out, version[0], len(zipfile.ZipFile(out).namelist())))
PY
