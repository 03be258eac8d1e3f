#!/bin/bash
# SPDX-License-Identifier: MIT
# Scan the bundled real sample (tests/data/e2e-openssh-VERSION.export, recorded from the e2e bed by
# tests/data/record.sh) and assert the exact alert set its scenarios provoke: what the README's
# first command shows.   sample-scan.sh KEYTRAIL SOURCE_DIR VERSION [KEYTRAIL-ARGS...]
set -eu
keytrail=$1 src=$2 version=$3
shift 3
data=$src/tests/data
. "$src/tests/journal-lib.sh"
journal_from_export "$data/e2e-openssh-$version.export" "$tmp/s.journal"
args=()
for f in "$data"/sample-authorized_keys-*; do
        args+=(--authorized-keys "ktdemo${f##*sample-authorized_keys-}:$f")
done
set +e
"$keytrail" scan --file "$tmp/s.journal" --rules "$src/rules" --format json "${args[@]}" "$@" >"$tmp/out"
rc=$?
set -e
[ "$rc" = 1 ] || { echo "exit status $rc, expected 1" >&2; exit 1; }
# One line per alert: type and user, sorted (fingerprints and ports change with each recording).
# Scenarios 04 (stripped), 10 (one of nine concurrent) and 11 (two multiplexed sessions) give the
# four unforced-session; 05 the mismatch (the pull account's key swapped to push); 06 unknown-key;
# 07 no-session; 08 source-refused; 09 wrong-user; 13 the two forged lines.
jq -r '[.type, (.user // "-")] | join(" ")' "$tmp/out" | LC_ALL=C sort >"$tmp/got"
LC_ALL=C sort >"$tmp/want" <<'WANT'
command-mismatch ktdemopull
no-session ktdemopush
source-refused ktdemopush
spoofed-entry ktdemopush
spoofed-entry ktdemopush
unforced-session ktdemopush
unforced-session ktdemopush
unforced-session ktdemopush
unforced-session ktdemopush
unknown-key ktdemopush
wrong-user ktdemopush
WANT
diff -u "$tmp/want" "$tmp/got"
echo "ok: the sample's $(wc -l <"$tmp/got") alerts"
