#!/bin/bash
# SPDX-License-Identifier: MIT
# An evidence entry gone from the journal files by the time its alert is built (docs/hacking.md,
# docs/security.md): keytrail scan prints the partial cursor b=;m=;t= for it, the alert's id is
# made from that, and one stderr line says how many there were. TAP.
#
#   unresolved.sh KEYTRAIL SOURCE_DIR
#
# Evidence cursors are looked up when an alert is built. To empty the file between two alerts,
# deterministically and with nothing but what a user could do: the scenario "multiplexed" (one
# connection, two sessions: an unforced-session alert at each, built at two different entries),
# a real journal file (systemd-journal-remote), and keytrail's standard output a pipe that is
# already full. The first alert's line is longer than any stdio buffer (the baseline gives the
# key a forced command of about 12 KB), so writing it blocks keytrail in write(2) on standard
# output (seen in /proc/PID/syscall) after that alert's lookups and before the second alert's.
# The file is then truncated in place (what a file emptied or rewritten during a scan does) and
# the pipe read. All 30 entries were read by then (the source reads 32 ahead), so only the
# lookups meet the emptied file. Asserted, against tests/journal/multiplexed.expected: the first
# alert whole and unchanged; the second whole, with both its cursors partial and its id the
# SHA-256 of the type, session and partial cursors (docs/alerts.md); the stderr line and its
# count, the --stats line, exit status 1. The same run without the truncation gives both alerts
# as expected and no such line.
set -u
keytrail=$1 src=$2
. "$src/tests/journal-lib.sh"
. "$src/tests/golden-lib.sh"
. "$src/tests/tap-lib.sh"
dir=$src/tests/journal

# drive NAME MODE FILE...: keytrail scan over the journal FILEs into a full pipe; once it is blocked
# writing standard output, MODE "empty" truncates each FILE to 0 bytes ("keep": nothing); then the
# pipe is read. Alerts in $tmp/NAME.out, stderr in $tmp/NAME.err; prints "blocked" (or why not)
# and rc=N.
drive() {
        local name=$1 mode=$2 f files=()
        shift 2
        for f in "$@"; do
                files+=(--file "$f")
        done
        python3 - "$mode" "$tmp/$name.out" "$tmp/$name.err" "$keytrail" scan --jobs 1 "${files[@]}" \
                --rules "$src/rules" --authorized-keys "mirror:$tmp/mirror.authorized_keys" \
                --format json --stats <<'PY'
import fcntl, os, subprocess, sys, time
mode, out, err = sys.argv[1:4]
argv = sys.argv[4:]
journals = [argv[i + 1] for i, a in enumerate(argv) if a == '--file']
r, w = os.pipe()
# Fill the pipe: keytrail's first write(2) on it blocks until it is read.
fcntl.fcntl(w, fcntl.F_SETFL, os.O_NONBLOCK)
filled = 0
for chunk in (4096, 1):
    try:
        while True:
            filled += os.write(w, b'.' * chunk)
    except BlockingIOError:
        pass
fcntl.fcntl(w, fcntl.F_SETFL, 0)
with open(err, 'wb') as e:
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=w, stderr=e)
os.close(w)
blocked = False
for _ in range(3000):
    if p.poll() is not None:
        break
    try:
        with open('/proc/%d/syscall' % p.pid) as f:
            sc = f.read().split()
    except OSError:
        break
    if sc[:2] == ['1', '0x1']:  # write(1, ...), waiting for room in the pipe
        blocked = True
        break
    time.sleep(0.01)
print('blocked' if blocked else 'not blocked in write(1) (exit %s)' % p.poll())
if blocked and mode == 'empty':
    for j in journals:
        os.truncate(j, 0)
data = b''
while True:
    b = os.read(r, 65536)
    if not b:
        break
    data += b
rc = p.wait()
with open(out, 'wb') as o:
    o.write(data[filled:])
print('rc=%d' % rc)
PY
}

# The baseline: mirror's push key (tests/journal/mirror.authorized_keys:1) with a forced command
# of 11,948 bytes. The sessions run none (the alerts are unforced-session), so only the alert's
# expected_command grows.
long="rsync --server -vlogDtprze.iLsfxCIvu --delete . $(printf '/srv/mirror/%04d ' $(seq 1 700))"
long=${long% }
{ printf 'command="%s",' "$long"; sed -n '1s/^command="[^"]*",//p' "$dir/mirror.authorized_keys"; } \
        >"$tmp/mirror.authorized_keys"
check "the baseline line: the push key with a forced command of ${#long} bytes" \
        '[ "${#long}" -gt 8192 ] && grep -q " push@client$" "$tmp/mirror.authorized_keys"'

# What the scenario's golden file says, with that command.
want() { jq -S -c --arg c "$long" --arg p "${partial:-}" --arg id "${id:-}" \
        "select(.session_id == $1) | .expected_command = \$c $2" "$dir/multiplexed.expected"; }
want0=$(want 0 '')
want1_found=$(want 1 '')
# The second alert's cursors cut to the parts known without the file, and its id over them:
# SHA-256 of "TYPE\0SESSION\0" and, per cursor, each part but s= and i= with the ';' or NUL after
# it, then "\n"; the first 16 bytes in hex.
partial=$(jq -r 'select(.session_id == 1) | .evidence[] | split(";") |
        map(select(test("^[bmt]="))) | join(";")' "$dir/multiplexed.expected")
id=$({ printf '%s\0' unforced-session 1; printf '%s\0\n' $partial; } | sha256sum | cut -c1-32)
want1=$(want 1 '| .evidence = ($p | split("\n")) | .id = $id')
check "the partial cursors: b=, m=, t= of the two entries (${partial//$'\n'/ })" \
        '[ "$(echo "$partial" | grep -cE "^b=[0-9a-f]{32};m=[0-9a-f]+;t=[0-9a-f]+$")" = 2 ]'
stats='keytrail: stats: records=30 matched=28 unmatched=2 spoofed=0 match_errors=0 skipped=0 malformed=0 oversized=0 jobs_limited=0 duplicates=0 connections=2 evicted=0 evicted_authenticated=0 orphan_sessions=0 untied=0 held=0 held_overflow=0 held_at_end=0 hosts_peak=1 alerts=2'
line='keytrail: 2 evidence entries had left the journal files by the time their alert was built (a file changed during the scan): they have a partial cursor (b=;m=;t=), and their alert ids differ from a scan that finds them'

# ---- the file kept: both alerts as the golden file says ------------------------------------------
journal_from_export "$dir/multiplexed.export" "$tmp/keep.journal" || not_ok "journal"
res=$(drive keep keep "$tmp/keep.journal")
check "kept: keytrail blocked writing the first alert (${res//$'\n'/ })" '[ "$res" = "$(printf "blocked\nrc=1")" ]'
check "kept: both alerts as multiplexed.expected says" \
        '[ "$(golden_normalise <"$tmp/keep.out")" = "$(printf "%s\n" "$want0" "$want1_found" | LC_ALL=C sort)" ]'
check "kept: stderr is the stats line alone" '[ "$(cat "$tmp/keep.err")" = "$stats" ]'

# ---- the file emptied between the two alerts ------------------------------------------------------
journal_from_export "$dir/multiplexed.export" "$tmp/empty.journal" || not_ok "journal"
res=$(drive empty empty "$tmp/empty.journal")
check "emptied: keytrail blocked writing the first alert, then exit status 1 (${res//$'\n'/ })" \
        '[ "$res" = "$(printf "blocked\nrc=1")" ]'
check "emptied: the file was truncated" '[ ! -s "$tmp/empty.journal" ]'
check "emptied: two alert lines, in the order built" \
        '[ "$(jq -r .session_id "$tmp/empty.out" | paste -sd" ")" = "0 1" ]'
check "emptied: the first alert (looked up before) whole and unchanged" \
        '[ "$(sed -n 1p "$tmp/empty.out" | golden_normalise)" = "$want0" ]'
check "emptied: the second alert whole, with partial cursors and id $id" \
        '[ "$(sed -n 2p "$tmp/empty.out" | jq -S -c .)" = "$want1" ]'
check "emptied: its id is not the one a scan that finds the entries gives" \
        '[ "$id" != "$(echo "$want1_found" | jq -r .id)" ]'
check "emptied: stderr is the stats line and the one line that says so, with the count (2)" \
        '[ "$(cat "$tmp/empty.err")" = "$(printf "%s\n" "$stats" "$line")" ]'

# ---- two copies of the entries, both emptied ------------------------------------------------------
# The first 12 entries (both alerts) written twice, as two files of two seqnum ids: the bisection
# finds each entry in both, so every lookup reads the files again (the replay, docs/hacking.md),
# and the first alert's leaves that handle open on the files that are then emptied.
awk 'BEGIN { RS = ""; ORS = "\n\n" } NR <= 12' "$dir/multiplexed.export" >"$tmp/first12.export"
journal_from_export "$tmp/first12.export" "$tmp/c1.journal" &&
        journal_from_export "$tmp/first12.export" "$tmp/c2.journal" || not_ok "journals"
res=$(drive copies empty "$tmp/c1.journal" "$tmp/c2.journal")
check "copies emptied: keytrail blocked writing the first alert, then exit status 1 (${res//$'\n'/ })" \
        '[ "$res" = "$(printf "blocked\nrc=1")" ]'
check "copies emptied: the first alert whole and unchanged" \
        '[ "$(sed -n 1p "$tmp/copies.out" | golden_normalise)" = "$want0" ]'
check "copies emptied: the second alert whole, with partial cursors and id $id" \
        '[ "$(sed -n 2p "$tmp/copies.out" | jq -S -c .)" = "$want1" ] && [ "$(grep -c . "$tmp/copies.out")" = 2 ]'
check "copies emptied: stderr is the stats line and the line that says so, with the count (2)" \
        '[ "$(cat "$tmp/copies.err")" = "$(printf "%s\n" "${stats/records=30 matched=28 unmatched=2/records=12 matched=11 unmatched=1}" "$line" |
                sed "s/connections=2/connections=1/")" ]'
if [ "$failed" != 0 ]; then
        sed 's/^/# /' "$tmp"/*.err
        cut -c1-300 "$tmp"/*.out | sed 's/^/# /'
fi
tap_done
