#!/bin/bash
# SPDX-License-Identifier: MIT
# A bounded libFuzzer run of one target over its seed corpus (seeds.sh), for the test suite; a
# crash, leak or timeout fails the test and is kept in BUILD_DIR/fuzz-artifacts/NAME/ (turn it
# into a regression: tests/fuzz/regressions/NAME/, see docs/hacking.md "Fuzzing").
#   run-fuzz.sh FUZZER SOURCE_DIR NAME SECONDS
set -eu
fuzzer=$1 src=$2 name=$3 seconds=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
artifacts=${BUILD_DIR:-$work}/fuzz-artifacts/$name
mkdir -p "$artifacts" "$work/corpus"
"$src/tests/fuzz/seeds.sh" "$src" "$name" "$work/seeds"
set +e
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
        -print_final_stats=1 -artifact_prefix="$artifacts/" "$work/corpus" "$work/seeds" \
        >"$work/log" 2>&1
rc=$?
set -e
tail -n 12 "$work/log"
if [ "$rc" != 0 ]; then
        grep -E "ERROR|SUMMARY|property violated" "$work/log" | head -n 20
        echo "fuzz-$name: failed (exit status $rc); inputs kept in $artifacts"
        exit 1
fi
echo "fuzz-$name: no crash in ${seconds}s ($(ls "$work/corpus" | wc -l) inputs in the corpus)"
