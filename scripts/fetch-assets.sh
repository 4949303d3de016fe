#!/usr/bin/env bash
# Puts the CLIP weights where segearth looks for them (~/.cache/segearth, or $XDG_CACHE_HOME/segearth):
# a file the user gives, else OpenAI's official ViT-B/16 from its public address (checked by SHA-256).
# The BPE vocabulary and prompt templates ship in data/ and need nothing.
#   scripts/fetch-assets.sh [--clip PATH]
set -euo pipefail

clip=""
while [ $# -gt 0 ]; do
  case "$1" in
    --clip) clip="$2"; shift 2 ;;
    *) echo "fetch-assets: unknown option $1" >&2; exit 2 ;;
  esac
done

cache="${XDG_CACHE_HOME:-$HOME/.cache}/segearth"
target="$cache/ViT-B-16.pt"
mkdir -p "$cache"

# OpenAI's published address embeds the file's SHA-256.
sha=5806e77cd80f8b59890b7e101eabd078d9fb84e6937f9e85e4ecb61988df416f
url="https://openaipublic.azureedge.net/clip/models/$sha/ViT-B-16.pt"

if [ -n "$clip" ]; then
  [ -f "$clip" ] || { echo "fetch-assets: --clip $clip: no such file" >&2; exit 1; }
  echo "fetch-assets: using CLIP weights $clip (set SEGEARTH_CLIP=$clip or pass --clip to segearth)"
  exit 0
fi
if [ -n "${SEGEARTH_CLIP:-}" ] && [ -f "$SEGEARTH_CLIP" ]; then
  echo "fetch-assets: using CLIP weights from SEGEARTH_CLIP=$SEGEARTH_CLIP"
  exit 0
fi
if [ -f "$target" ]; then
  echo "fetch-assets: CLIP weights already at $target"
  exit 0
fi
echo "fetch-assets: downloading OpenAI's ViT-B/16 (335 MB) to $target"
if curl -fL --connect-timeout 15 --retry 2 -o "$target.part" "$url" &&
   echo "$sha  $target.part" | sha256sum -c --quiet; then
  mv "$target.part" "$target"
  echo "fetch-assets: CLIP weights at $target"
  exit 0
fi
rm -f "$target.part"
cat >&2 <<MSG
fetch-assets: could not obtain the CLIP weights (no internet access, or the download failed).
  Copy OpenAI's ViT-B-16.pt (or a RemoteCLIP / GeoRSCLIP / SkyCLIP checkpoint, or a .safetensors file)
  to $target, or run: scripts/setup.sh --clip /path/to/weights
  (segearth also reads --clip PATH and the SEGEARTH_CLIP environment variable).
MSG
exit 3
