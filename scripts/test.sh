#!/usr/bin/env bash
# Runs the whole test suite of a build made by scripts/setup.sh.
#   scripts/test.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
ctest --test-dir "${1:-build}" --output-on-failure -j 2
