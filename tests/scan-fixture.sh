#!/bin/bash
# SPDX-License-Identifier: MIT
# Scan one scenario journal and assert every field of every alert against a golden file.
#
#   scan-fixture.sh KEYTRAIL SOURCE_DIR NAME [KEYTRAIL-ARGS...]
#
# tests/journal/NAME.export is turned into a real journal file by systemd-journal-remote, twice
# (two files with different seqnum ids); `keytrail scan` runs over each with the baseline of
# tests/journal/*.authorized_keys. Asserted:
#   - the alerts, each as one line of sorted-key JSON (jq -S -c), sorted, equal
#     tests/journal/NAME.expected byte for byte: every field, the message and the id included;
#     evidence cursors are written without their s= part (the file's random seqnum id);
#   - every evidence cursor resolves, in the journal file scanned, to exactly that entry
#     (journalctl --file X --cursor C);
#   - the exit status is 1 with alerts and 0 without, and nothing is written on stderr;
#   - both copies of the entries give the same alerts (ids included).
#
# To write the golden files from what keytrail says now (then review the diff!):
#     KEYTRAIL_UPDATE_GOLDEN=1 meson test -C build --suite scan
set -eu
keytrail=$1 src=$2 name=$3
shift 3
dir=$src/tests/journal
. "$src/tests/journal-lib.sh"
. "$src/tests/golden-lib.sh"

for copy in a b; do
        journal_from_export "$dir/$name.export" "$tmp/$copy.journal" || exit 1
        set +e
        "$keytrail" scan --file "$tmp/$copy.journal" --rules "$src/rules" --format json \
                --authorized-keys "mirror:$dir/mirror.authorized_keys" \
                --authorized-keys "ops:$dir/ops.authorized_keys" \
                --authorized-keys "root:$dir/root.authorized_keys" "$@" \
                >"$tmp/$copy.json" 2>"$tmp/$copy.err"
        echo $? >"$tmp/$copy.rc"
        set -e
        golden_normalise <"$tmp/$copy.json" >"$tmp/$copy.got" || {
                echo "keytrail's output is not NDJSON:" >&2
                cat "$tmp/$copy.json" >&2
                exit 1
        }
done

fail=0
rc=$(cat "$tmp/a.rc")
if [ -s "$tmp/a.err" ]; then
        echo "unexpected stderr:" >&2
        cat "$tmp/a.err" >&2
        fail=1
fi
if [ -n "${KEYTRAIL_UPDATE_GOLDEN:-}" ]; then
        cp "$tmp/a.got" "$dir/$name.expected"
        echo "wrote $dir/$name.expected"
fi
if ! diff -u "$dir/$name.expected" "$tmp/a.got"; then
        echo "alerts differ from $name.expected (- expected, + got)" >&2
        fail=1
fi
want_rc=0
[ -s "$dir/$name.expected" ] && want_rc=1
if [ "$rc" != "$want_rc" ]; then
        echo "exit status $rc, expected $want_rc" >&2
        fail=1
fi
if ! diff -u "$tmp/a.got" "$tmp/b.got" >&2; then
        echo "two journal files holding the same entries gave different alerts" >&2
        fail=1
fi
for copy in a b; do
        golden_check_cursors "$tmp/$copy.journal" <"$tmp/$copy.json" || fail=1
done
[ "$fail" = 0 ] || exit 1
echo "ok: $name ($(wc -l <"$tmp/a.got") alerts, every field)"
