#!/usr/bin/env bash
# Prints FILE's git blob id: what `git hash-object FILE` prints (SHA-1 of "blob SIZE\0" and the
# bytes), computed without git. With EXPECTED, checks it instead: exit 0 when it matches, 1 (with a
# message naming the file and both ids) when not.
#   scripts/git-blob-id.sh FILE [EXPECTED]
set -euo pipefail
file="$1"
[ -f "$file" ] || { echo "git-blob-id: $file: no such file" >&2; exit 2; }
size=$(stat -c %s "$file")
id=$({ printf 'blob %d\0' "$size"; cat "$file"; } | sha1sum | cut -d' ' -f1)
if [ $# -lt 2 ]; then
  echo "$id"
elif [ "$id" != "$2" ]; then
  echo "git-blob-id: $file has blob id $id, expected $2: not the published file (damaged or replaced)" >&2
  exit 1
fi
