#!/bin/bash
# SPDX-License-Identifier: MIT
# Scan one scenario journal and assert the exact alert set.
#
#   scan-fixture.sh KEYTRAIL SOURCE_DIR NAME
#
# tests/journal/NAME.export is turned into a real journal file by systemd-journal-remote, twice
# (two files with different seqnum ids); `keytrail scan` runs over each with the baseline of
# tests/journal/*.authorized_keys. Asserted: the alert set (type user fingerprint source_port,
# sorted) equals NAME.expected exactly; the exit status is 1 with alerts and 0 without; every
# alert's id is the same over both copies of the entries.
set -eu
keytrail=$1 src=$2 name=$3
dir=$src/tests/journal
. "$src/tests/journal-lib.sh"

for copy in a b; do
        journal_from_export "$dir/$name.export" "$tmp/$copy.journal" || exit 1
        set +e
        "$keytrail" scan --file "$tmp/$copy.journal" --rules "$src/rules" --format json \
                --authorized-keys "mirror:$dir/mirror.authorized_keys" \
                --authorized-keys "ops:$dir/ops.authorized_keys" \
                --authorized-keys "root:$dir/root.authorized_keys" >"$tmp/$copy.json" 2>"$tmp/$copy.err"
        echo $? >"$tmp/$copy.rc"
        set -e
done

rc=$(cat "$tmp/a.rc")
if [ -s "$tmp/a.err" ]; then
        echo "stderr:" >&2
        cat "$tmp/a.err" >&2
fi
jq -r '[.type, (.user // "-"), (.fingerprint // "-"), ((.source_port // "-") | tostring)] | join(" ")' \
        "$tmp/a.json" | LC_ALL=C sort >"$tmp/got"
LC_ALL=C sort "$dir/$name.expected" >"$tmp/want"
if ! diff -u "$tmp/want" "$tmp/got"; then
        echo "alert set differs from $name.expected; full output:" >&2
        cat "$tmp/a.json" >&2
        exit 1
fi
want_rc=0
[ -s "$tmp/want" ] && want_rc=1
if [ "$rc" != "$want_rc" ]; then
        echo "exit status $rc, expected $want_rc" >&2
        exit 1
fi
if ! diff <(jq -r .id "$tmp/a.json" | sort) <(jq -r .id "$tmp/b.json" | sort) >/dev/null; then
        echo "alert ids differ between two journal files holding the same entries" >&2
        exit 1
fi
echo "ok: $name ($(wc -l <"$tmp/got") alerts)"
