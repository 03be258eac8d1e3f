#!/bin/bash
# SPDX-License-Identifier: MIT
# Scan the bundled real sample (tests/data/e2e-openssh-VERSION.export, recorded from the e2e bed by
# tests/data/record.sh) and assert every field of every alert its scenarios provoke, against the
# golden file tests/data/e2e-openssh-VERSION.expected (format: tests/golden-lib.sh): what the
# README's first command shows. Scenarios 04 (stripped), 10 (one of nine concurrent) and 11 (two
# multiplexed sessions) give the four unforced-session; 05 the mismatch (the pull account's key
# swapped to push); 06 unknown-key; 07 no-session; 08 source-refused; 09 wrong-user; 13 the two
# forged lines. Evidence cursors must resolve in the scanned file.
#
#   sample-scan.sh KEYTRAIL SOURCE_DIR VERSION [KEYTRAIL-ARGS...]
# KEYTRAIL_UPDATE_GOLDEN=1 rewrites the golden file from what keytrail says now.
set -eu
keytrail=$1 src=$2 version=$3
shift 3
data=$src/tests/data
golden=$data/e2e-openssh-$version.expected
. "$src/tests/journal-lib.sh"
. "$src/tests/golden-lib.sh"
journal_from_export "$data/e2e-openssh-$version.export" "$tmp/s.journal"
args=()
for f in "$data"/sample-authorized_keys-*; do
        args+=(--authorized-keys "ktdemo${f##*sample-authorized_keys-}:$f")
done
set +e
"$keytrail" scan --file "$tmp/s.journal" --rules "$src/rules" --format json "${args[@]}" "$@" >"$tmp/out"
rc=$?
set -e
fail=0
[ "$rc" = 1 ] || { echo "exit status $rc, expected 1" >&2; fail=1; }
golden_normalise <"$tmp/out" >"$tmp/got"
if [ -n "${KEYTRAIL_UPDATE_GOLDEN:-}" ]; then
        cp "$tmp/got" "$golden"
        echo "wrote $golden"
fi
diff -u "$golden" "$tmp/got" || { echo "alerts differ from $golden (- expected, + got)" >&2; fail=1; }
golden_check_cursors "$tmp/s.journal" <"$tmp/out" || fail=1
[ "$fail" = 0 ] || exit 1
echo "ok: the sample's $(wc -l <"$tmp/got") alerts, every field"
