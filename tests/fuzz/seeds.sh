#!/bin/bash
# SPDX-License-Identifier: MIT
# Seed corpus of one fuzz target: its committed seeds (tests/fuzz/corpus/NAME), its regressions
# (tests/fuzz/regressions/NAME), and inputs cut from the project's real data (parse fixtures,
# scenario journals, authorized_keys files, rule files), one file per input.
#   seeds.sh SOURCE_DIR NAME OUTDIR
set -eu
src=$1 name=$2 out=$3
mkdir -p "$out"
for d in "$src/tests/fuzz/corpus/$name" "$src/tests/fuzz/regressions/$name"; do
        [ -d "$d" ] && cp "$d"/* "$out"/ 2>/dev/null || true
done
# one_per_line PREFIX: each line of stdin becomes one seed file
one_per_line() {
        local i=0 line
        while IFS= read -r line; do
                i=$((i + 1))
                printf '%s' "$line" >"$out/$1-$i"
        done
}
case $name in
rules-match|alert)
        # the log lines of the parse fixtures (the first line of each record) and every MESSAGE
        # of the scenario journals and the recorded samples
        awk 'BEGIN { rec = 0 } /^#/ { next } /^$/ { rec = 0; next } { if (rec == 0) print; rec++ }' \
                "$src"/tests/fixtures/parse/*.txt | one_per_line fixture
        grep -h '^MESSAGE=' "$src"/tests/journal/*.export "$src"/tests/data/*.export |
                sed 's/^MESSAGE=//' | sort -u | one_per_line journal
        ;;
authkeys)
        cat "$src"/tests/journal/*.authorized_keys "$src"/tests/data/sample-authorized_keys-* |
                one_per_line ak
        ;;
rule-file)
        for f in "$src"/rules/*.rules; do cp "$f" "$out/$(basename "$f")"; done
        ;;
gate-check)
        grep -ho 'rsync --server[^"]*' "$src"/tests/unit/test-gate-rsync.c | sort -u | one_per_line gate
        ;;
esac
