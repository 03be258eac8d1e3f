#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/alloc.sh [BUILD_DIR] [JOURNAL_DIR]: the heap of one `keytrail scan` over the bench's
# journal (run bench/run.sh first; JOURNAL_DIR defaults to bench/work/journal): calls to the
# allocator per entry read and the peak of live heap bytes, counted by bench/malloc-count.c, an
# LD_PRELOAD that passes every call on to glibc. Deterministic: it counts calls, not time.
# See bench/README.md.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$SRC/bench
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$SRC/$BUILD ;; esac
WORK=$BENCH/work
JDIR=${2:-$WORK/journal}
KEYS=${KEYS:-$WORK/keys}

die() { echo "alloc.sh: $*" >&2; exit 2; }

[ -x "$BUILD/keytrail" ] || die "$BUILD/keytrail not found"
files=("$JDIR"/*.journal)
[ -e "${files[0]}" ] || die "no journal files in $JDIR (run bench/run.sh first)"
[ -f "$KEYS/baseline.args" ] || die "no $KEYS/baseline.args"

so=$WORK/malloc-count.so
if [ ! -f "$so" ] || [ "$BENCH/malloc-count.c" -nt "$so" ]; then
        cc -std=gnu17 -O2 -Wall -Wextra -shared -fPIC -o "$so" "$BENCH/malloc-count.c"
fi

args=()
for f in "${files[@]}"; do args+=(--file "$f"); done
while read -r a; do args+=(--authorized-keys "$a"); done <"$KEYS/baseline.args"

out=$WORK/alloc.out
rc=0
# --jobs 1: the single-threaded reader (the parallel one adds its batches)
LD_PRELOAD=$so MALLOC_COUNT_OUT=$out "$BUILD/keytrail" scan --jobs 1 "${args[@]}" \
        --rules "$SRC/rules" \
        --format json --stats >/dev/null 2>"$WORK/alloc.stats" || rc=$?
[ $rc -le 1 ] || die "keytrail exited with $rc"
records=$(sed -n 's/.* records=\([0-9]*\).*/\1/p' "$WORK/alloc.stats")
conns=$(sed -n 's/.* connections=\([0-9]*\).*/\1/p' "$WORK/alloc.stats")
[ -n "$records" ] || die "no records= in keytrail --stats"

echo "journal: ${#files[@]} files in $JDIR, $records entries read by keytrail, $conns connections"
awk -v r="$records" -v c="$conns" '{
        for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        calls = v["malloc"] + v["calloc"] + v["realloc"] + v["aligned"]
        printf "allocator calls: %d (malloc %d, calloc %d, realloc %d): %.3f per entry read, %.1f per connection\n",
               calls, v["malloc"], v["calloc"], v["realloc"], calls / r, c ? calls / c : 0
        printf "heap peak (live bytes, malloc_usable_size): %d KiB\n", v["peak_live_bytes"] / 1024
}' "$out"
