#!/usr/bin/env bash
# The services some tests run for real, from Debian's packages: SLURM and munge for the array-job
# test (tests/scripts/check_slurm.sh starts and stops its own daemons); QGIS (3.22 on Debian 12: its
# qgis_process and Python bindings) for the QGIS provider's tests, and pyflakes for its lint.
# Without them those tests are skipped. CI runs this before the test suite.
set -euo pipefail
packages=(slurm-wlm munge qgis python3-qgis qgis-providers python3-pyflakes)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && { echo "install-test-services: ${packages[*]} already installed"; exit 0; }
sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
echo "install-test-services: installing ${missing[*]}"
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
