#!/usr/bin/env bash
# Puts the model files where segearth looks for them (~/.cache/segearth, or $XDG_CACHE_HOME/segearth):
#  - the CLIP weights: a file the user gives, else OpenAI's official ViT-B/16 from its public
#    address (checked by SHA-256);
#  - the authors' SimFeatUp upsampler for it (xclip_jbu_one_million_aid.ckpt, from likyoo/SegEarth-OV),
#    checked by its git blob id before use, so that segment runs the paper's method by default.
# The BPE vocabulary and prompt templates ship in data/ and need nothing.
#   scripts/fetch-assets.sh [--clip PATH] [--upsampler PATH]
set -euo pipefail
cd "$(dirname "$0")/.."

clip="" upsampler=""
while [ $# -gt 0 ]; do
  case "$1" in
    --clip) clip="$2"; shift 2 ;;
    --upsampler) upsampler="$2"; shift 2 ;;
    *) echo "fetch-assets: unknown option $1" >&2; exit 2 ;;
  esac
done

cache="${XDG_CACHE_HOME:-$HOME/.cache}/segearth"
mkdir -p "$cache"

# OpenAI's published address embeds the file's SHA-256.
clip_sha=5806e77cd80f8b59890b7e101eabd078d9fb84e6937f9e85e4ecb61988df416f
clip_url="https://openaipublic.azureedge.net/clip/models/$clip_sha/ViT-B-16.pt"
clip_target="$cache/ViT-B-16.pt"
# The authors' released checkpoint, as git stores it in their repository.
up_blob=d40f00838331331faa04a926ea5991f5203f91a8
up_name=xclip_jbu_one_million_aid.ckpt
up_url="https://raw.githubusercontent.com/likyoo/SegEarth-OV/main/simfeatup_dev/weights/$up_name"
up_target="$cache/$up_name"

# Downloads URL to TARGET through TARGET.part, keeping it only when CHECK TARGET.part succeeds.
download() {
  local url="$1" target="$2" check="$3"
  if curl -fL --connect-timeout 15 --retry 2 -o "$target.part" "$url" && $check "$target.part"; then
    mv "$target.part" "$target"
    return 0
  fi
  rm -f "$target.part"
  return 1
}
clip_ok() { echo "$clip_sha  $1" | sha256sum -c --quiet; }
upsampler_ok() { scripts/git-blob-id.sh "$1" "$up_blob"; }

fetch_clip() {
  if [ -n "$clip" ]; then
    [ -f "$clip" ] || { echo "fetch-assets: --clip $clip: no such file" >&2; return 1; }
    echo "fetch-assets: using CLIP weights $clip (set SEGEARTH_CLIP=$clip or pass --clip to segearth)"
    return 0
  fi
  if [ -n "${SEGEARTH_CLIP:-}" ] && [ -f "$SEGEARTH_CLIP" ]; then
    echo "fetch-assets: using CLIP weights from SEGEARTH_CLIP=$SEGEARTH_CLIP"
    return 0
  fi
  if [ -f "$clip_target" ]; then
    echo "fetch-assets: CLIP weights already at $clip_target"
    return 0
  fi
  echo "fetch-assets: downloading OpenAI's ViT-B/16 (335 MB) to $clip_target"
  if download "$clip_url" "$clip_target" clip_ok; then
    echo "fetch-assets: CLIP weights at $clip_target"
    return 0
  fi
  cat >&2 <<MSG
fetch-assets: could not obtain the CLIP weights (no internet access, or the download failed).
  Copy OpenAI's ViT-B-16.pt (or a RemoteCLIP / GeoRSCLIP / SkyCLIP checkpoint, or a .safetensors file)
  to $clip_target, or run: scripts/setup.sh --clip /path/to/weights
  (segearth also reads --clip PATH and the SEGEARTH_CLIP environment variable).
MSG
  return 3
}

fetch_upsampler() {
  if [ -n "$upsampler" ]; then
    [ -f "$upsampler" ] || { echo "fetch-assets: --upsampler $upsampler: no such file" >&2; return 1; }
    upsampler_ok "$upsampler" || return 1
    cp "$upsampler" "$up_target.part" && mv "$up_target.part" "$up_target"
    echo "fetch-assets: the authors' SimFeatUp upsampler (checked) at $up_target"
    return 0
  fi
  if [ -f "$up_target" ]; then
    upsampler_ok "$up_target" || { echo "fetch-assets: remove $up_target and run again" >&2; return 1; }
    echo "fetch-assets: SimFeatUp upsampler already at $up_target"
    return 0
  fi
  echo "fetch-assets: downloading the authors' SimFeatUp upsampler to $up_target"
  if download "$up_url" "$up_target" upsampler_ok; then
    echo "fetch-assets: SimFeatUp upsampler at $up_target"
    return 0
  fi
  cat >&2 <<MSG
fetch-assets: could not obtain the SimFeatUp upsampler (no internet access, or the download failed).
  Without it segment upsamples features bilinearly (not the paper's method). Copy $up_name from
  https://github.com/likyoo/SegEarth-OV (simfeatup_dev/weights/) and run:
  scripts/fetch-assets.sh --upsampler /path/to/$up_name
MSG
  return 3
}

status=0
fetch_clip || status=$?
fetch_upsampler || { rc=$?; [ "$status" -ne 0 ] || status=$rc; }
exit "$status"
