#!/usr/bin/env bash
# scripts/git-blob-id.sh against git's own answer, and fetch-assets.sh refusing an upsampler whose
# blob id is not the published one (nothing is copied into the cache). No network is used.
#   tests/scripts/check_fetch_assets.sh SOURCE_DIR
set -euo pipefail
src="$1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

printf 'hello\n' > "$work/hello.txt"
id=$("$src/scripts/git-blob-id.sh" "$work/hello.txt")
# "hello\n" is git's best-known blob; git itself, where installed, must agree on any file.
[ "$id" = ce013625030ba8dba906f756967f9e9ca394464a ] || fail "blob id of hello.txt: $id"
head -c 100000 /dev/urandom > "$work/random.bin"
if command -v git >/dev/null; then
  [ "$("$src/scripts/git-blob-id.sh" "$work/random.bin")" = "$(git hash-object "$work/random.bin")" ] ||
    fail "blob id differs from git hash-object"
fi
"$src/scripts/git-blob-id.sh" "$work/hello.txt" ce013625030ba8dba906f756967f9e9ca394464a || fail "match refused"
if "$src/scripts/git-blob-id.sh" "$work/random.bin" ce013625030ba8dba906f756967f9e9ca394464a 2>"$work/err"; then
  fail "mismatch accepted"
fi
grep -q "expected ce013625030ba8dba906f756967f9e9ca394464a: not the published file" "$work/err" || fail "message: $(cat "$work/err")"

# A wrong file given as the upsampler is refused and not installed.
export XDG_CACHE_HOME="$work/cache"
if "$src/scripts/fetch-assets.sh" --clip "$work/hello.txt" --upsampler "$work/random.bin" >"$work/out" 2>"$work/err"; then
  fail "fetch-assets accepted a wrong upsampler"
fi
grep -q "not the published file" "$work/err" || fail "fetch-assets message: $(cat "$work/err")"
[ ! -e "$XDG_CACHE_HOME/segearth/xclip_jbu_one_million_aid.ckpt" ] || fail "the wrong upsampler was installed"
ls "$XDG_CACHE_HOME/segearth" | grep -q . && fail "left in the cache: $(ls "$XDG_CACHE_HOME/segearth")"
echo "fetch-assets checks passed"
