#!/bin/bash
# SPDX-License-Identifier: MIT
# Evidence cursors are looked up when an alert is built, not fetched for every entry read
# (issue 13): the journal source's records carry boot and clocks only, and source_cursor() finds
# the entry again in the files. TAP.
#
#   ref-lookup.sh KEYTRAIL REF-LOOKUP SOURCE_DIR
#
# REF-LOOKUP (tests/unit/ref-lookup.c) reads files through one sd_journal and through the parallel
# reader (the cursor of the entry its merge hands out, read from the file: the truth) and checks
# every record's looked-up cursor, asked
# while it is read and again after all are read. Journals (systemd-journal-remote from export
# text):
#   - every scenario journal and the bundled samples (a realtime step, clocks out of order, entries
#     stored twice in one file);
#   - "same-time": three sshd logins whose lines carry the very same realtime and monotonic stamps
#     line for line, two in one boot and one in another, and each line stored twice; as one file,
#     as two copies (two seqnum ids: which copy is named decides the s= and i= parts), in both
#     orders, and with the history of tests/scan-parallel.sh (one seqnum id over several files);
#   - a file whose monotonic clock goes back within a boot (the lookup by bisection misses it);
#   - files renamed away after the read (a rotation or vacuum during the scan): still found (held
#     open); emptied in place: a partial cursor, counted;
#   - an entry stored twice under one seqnum id whose second copy is the one read (fleet 233 of
#     tests/journal/fleet-gen.py); keytrail scan --jobs 1 and 2 over it, byte for byte.
# keytrail scan over same-time: the alerts of --jobs 1 and --jobs 2 (the parallel reader) are equal
# byte for byte, and every evidence cursor names the entry of its own connection.
set -u
keytrail=$1 lookup=$2 src=$3
. "$src/tests/journal-lib.sh"
. "$src/tests/tap-lib.sh"

dir=$src/tests/journal

# agree NAME FILE...: every cursor looked up is the one read
agree() {
        local name=$1
        shift
        if "$lookup" "$@" >"$tmp/lookup.out" 2>"$tmp/lookup.err" &&
                grep -q " now_differ=0 later_differ=0 unresolved=0$" "$tmp/lookup.out"; then
                ok "$name: $(tail -n 1 "$tmp/lookup.out")"
        else
                not_ok "$name"
                head -n 5 "$tmp/lookup.out" "$tmp/lookup.err" | sed 's/^/#   /'
        fi
}

# ---- every scenario ---------------------------------------------------------------------------------
mkdir -p "$tmp/all"
for e in "$dir"/*.export "$src"/tests/data/*.export; do
        name=$(basename "$e" .export)
        journal_from_export "$e" "$tmp/all/$name.journal" || { not_ok "$name: journal"; continue; }
        agree "$name" "$tmp/all/$name.journal"
done

# ---- the same stamps ---------------------------------------------------------------------------------
# line BOOT PID UID T MESSAGE: one sshd entry at realtime 1764400000000000 + T ms, monotonic
# 9000000 + T ms, stored twice (journald stamps each entry, so only a copy repeats all of them)
line() {
        local k
        for k in 1 2; do
                printf '__REALTIME_TIMESTAMP=%s\n__MONOTONIC_TIMESTAMP=%s\n_BOOT_ID=%s\n' \
                        $((1764400000000000 + $4 * 1000)) $((9000000 + $4 * 1000)) "$1"
                printf '_MACHINE_ID=4c6f0b5e8f6a4c9aa1f2e3d4c5b6a7b8\n_HOSTNAME=mirror1\n'
                printf '_TRANSPORT=syslog\nPRIORITY=6\nSYSLOG_FACILITY=4\nSYSLOG_IDENTIFIER=sshd\n'
                printf 'SYSLOG_PID=%s\n_PID=%s\n_UID=%s\n_GID=%s\n_COMM=sshd\n' "$2" "$2" "$3" "$3"
                printf '_EXE=/usr/sbin/sshd\nMESSAGE=%s\n\n' "$5"
        done
}
# login BOOT PID PORT: a mirror key login that opens a shell-less command session (unforced)
login() {
        local fp=SHA256:v1OYgLqE0uPPeTYTiBk6UCZonQszUikoWIJWyrMJLA0 child=$(($2 + 3))
        echo "$1 $2 0 1 Connection from 203.0.113.9 port $3 on 10.0.0.4 port 22 rdomain \"\""
        echo "$1 $2 0 2 Accepted key ED25519 $fp found at /home/mirror/.ssh/authorized_keys:1"
        echo "$1 $2 0 3 Accepted publickey for mirror from 203.0.113.9 port $3 ssh2: ED25519 $fp"
        echo "$1 $2 0 4 User child is on pid $child"
        echo "$1 $child 1001 5 Starting session: command for mirror from 203.0.113.9 port $3 id 0"
        echo "$1 $child 1001 6 Close session: user mirror from 203.0.113.9 port $3 id 0"
        echo "$1 $child 1001 7 Disconnected from user mirror 203.0.113.9 port $3"
        echo "$1 $2 0 8 pam_unix(sshd:session): session closed for user mirror"
}
b1=0b1e5ad2d3c94bd59b4f7a5e0c2b1a07 b2=0b1e5ad2d3c94bd59b4f7a5e0c2b1a08
{
        login $b1 9800 56100
        login $b1 9900 56200
        login $b2 9800 56300
} | sort -s -k4,4n | while read -r boot pid uid t msg; do
        line "$boot" "$pid" "$uid" "$t" "$msg"
done >"$tmp/same-time.export"
mkdir -p "$tmp/st"
journal_from_export "$tmp/same-time.export" "$tmp/st/a.journal" &&
        journal_from_export "$tmp/same-time.export" "$tmp/st/b.journal" || not_ok "same-time: journals"
check "same-time: 48 entries at 8 stamps, in two boots" \
        '[ "$(journalctl --file "$tmp/st/a.journal" -o export | grep -c "^__REALTIME_TIMESTAMP=")" = 48 ] &&
         [ "$(journalctl --file "$tmp/st/a.journal" -o export | grep "^__MONOTONIC_TIMESTAMP=" | sort -u | wc -l)" = 8 ] &&
         [ "$(journalctl --file "$tmp/st/a.journal" -o export | grep "^_BOOT_ID=" | sort -u | wc -l)" = 2 ]'
agree "same-time, one file" "$tmp/st/a.journal"
agree "same-time, two copies" "$tmp/st/a.journal" "$tmp/st/b.journal"
agree "same-time, two copies, the other order" "$tmp/st/b.journal" "$tmp/st/a.journal"

# one seqnum id over several files (tests/scan-parallel.sh's history): a, a + more (b), with the
# same-time file's entries appended to a copy of b
mkdir -p "$tmp/h"
chunk() { awk -v a="$2" -v b="$3" 'BEGIN { RS = ""; ORS = "\n\n" } NR > a && NR <= b' "$1"; }
chunk "$src/tests/data/e2e-openssh-9.2.export" 0 100 >"$tmp/c1"
chunk "$src/tests/data/e2e-openssh-9.2.export" 100 200 >"$tmp/c2"
journal_from_export "$tmp/c1" "$tmp/h/a.journal" && cp "$tmp/h/a.journal" "$tmp/h/b.journal" &&
        journal_from_export "$tmp/c2" "$tmp/h/b.journal" && cp "$tmp/h/b.journal" "$tmp/h/c.journal" &&
        journal_from_export "$tmp/same-time.export" "$tmp/h/c.journal" || not_ok "history: journals"
agree "history (one seqnum id over three files)" "$tmp/h/a.journal" "$tmp/h/b.journal" "$tmp/h/c.journal"
agree "history and copies" "$tmp/h/c.journal" "$tmp/st/a.journal" "$tmp/h/a.journal" "$tmp/st/b.journal"

# ---- a monotonic clock that goes back inside one boot of one file ------------------------------------
for t in 5 6 2 7 3 8; do
        line $b1 9700 0 "$t" "Connection closed by 192.0.2.$t port 22 [preauth]"
done >"$tmp/back.export"
journal_from_export "$tmp/back.export" "$tmp/back.journal" || not_ok "back: journal"
agree "monotonic clock going back" "$tmp/back.journal"

# ---- an entry stored twice under one seqnum id -----------------------------------------------------------
# Two seqnums, identical fields (the fleet of review2's fuzzer, seed 233: tests/journal/fleet-gen.py,
# equal clocks over nine files, one of them holding an entry twice). In this order of the files
# sd-journal's merge hands out the SECOND copy (the first is passed over at a tie with another
# file's entry); the bisection finds both, and the earlier seqnum is not the one read: the lookup
# reads the files again (replay()). Before: --jobs 1's evidence named the copy never read, where
# --jobs 2's named the one read (later_differ=1).
mkdir -p "$tmp/fleet/j"
python3 "$dir/fleet-gen.py" 233 "$tmp/fleet" "$src"/tests/data/e2e-openssh-*.export >/dev/null
while read -r op a c; do
        case $op in
        new | append) journal_from_export "$c" "$tmp/fleet/j/$a" ;;
        copy) cp "$tmp/fleet/j/$a" "$tmp/fleet/j/$c" ;;
        esac
done <"$tmp/fleet/plan"
fleet=()
for f in f1 f5-more f2 f0 f5-again f4 f3 f5-copy f5; do fleet+=("$tmp/fleet/j/$f.journal"); done
check "fleet 233: nine files, entries stored again" \
        '"$lookup" "${fleet[@]}" >"$tmp/fleet.out" 2>&1; grep -q " stored_again=1[0-9] " "$tmp/fleet.out"'
agree "an entry stored twice in one seqnum id, its second copy read (fleet 233)" "${fleet[@]}"
fleet_files=()
for f in "${fleet[@]}"; do fleet_files+=(--file "$f"); done

# ---- the files gone before the alert --------------------------------------------------------------------
# renamed or deleted (rotation, vacuum) during the scan: the source holds them open
mkdir -p "$tmp/gone"
cp "$tmp/st/a.journal" "$tmp/gone/a.journal"
cp "$tmp/back.journal" "$tmp/gone/b.journal"
agree "files renamed away after the read (held open)" --renamed "$tmp/gone/a.journal" "$tmp/gone/b.journal"
check "... and they were renamed" '[ ! -e "$tmp/gone/a.journal" ] && [ -e "$tmp/gone/a.journal.gone" ]'
# emptied in place: nothing left to find
cp "$tmp/st/a.journal" "$tmp/gone/c.journal"
"$lookup" --emptied "$tmp/gone/c.journal" >"$tmp/gone.out" 2>&1
check "files emptied after the read: each cursor partial (b=;m=;t=) and counted ($(tail -n 1 "$tmp/gone.out"))" \
        '[ "$(tail -n 1 "$tmp/gone.out")" = "entries=48 seek=48 stored_again=24 now_differ=0 later_differ=0 unresolved=48" ]'

# ---- keytrail scan: looked up = read --------------------------------------------------------------------
kargs=(--rules "$src/rules" --format json --stats --authorized-keys "mirror:$dir/mirror.authorized_keys")
for j in 1 2; do
        "$keytrail" scan --jobs $j "${kargs[@]}" --file "$tmp/st/a.journal" --file "$tmp/st/b.journal" \
                >"$tmp/scan.$j" 2>"$tmp/scan-err.$j"
        echo "rc=$?" >>"$tmp/scan.$j"
done
check "same-time: keytrail scan --jobs 1 equals --jobs 2, byte for byte" \
        'cmp -s "$tmp/scan.1" "$tmp/scan.2" && cmp -s "$tmp/scan-err.1" "$tmp/scan-err.2"'
check "same-time, two copies: read to their ends, nothing said but the stats (exit 1)" \
        '[ "$(tail -n 1 "$tmp/scan.1")" = rc=1 ] && [ "$(grep -vc "^keytrail: stats:" "$tmp/scan-err.1")" = 0 ]'
"$keytrail" scan --jobs 1 "${kargs[@]}" --file "$tmp/st/a.journal" >"$tmp/scan.a" 2>"$tmp/scan-err.a"
check "same-time: 3 unforced-session alerts, each with its own two entries" \
        '[ "$(grep -c "\"type\":\"unforced-session\"" "$tmp/scan.a")" = 3 ] &&
         [ "$(jq -r ".evidence[]" "$tmp/scan.a" | sort -u | wc -l)" = 6 ]'
# each evidence cursor names its own connection's line: Accepted for the alert's port, and the
# session of its child (the file's entries by cursor, from journalctl -o export's __CURSOR)
journalctl --file "$tmp/st/a.journal" -o export |
        awk '/^__CURSOR=/ { c = substr($0, 10) } /^MESSAGE=/ { print c "\t" substr($0, 9) }' >"$tmp/bycursor"
bad=0
while read -r port cur; do
        msg=$(awk -F '\t' -v c="$cur" '$1 == c { print $2 }' "$tmp/bycursor")
        case $msg in
        "Accepted publickey for mirror from 203.0.113.9 port $port "* | \
                "Starting session: command for mirror from 203.0.113.9 port $port id 0") ;;
        *) bad=1; echo "# port $port: $cur is '$msg'" ;;
        esac
done < <(jq -r '.source_port as $p | .evidence[] | "\($p) \(.)"' "$tmp/scan.a")
check "same-time: every evidence cursor is its connection's own line" '[ $bad = 0 ]'
check "same-time: nothing said on stderr but the stats" \
        '[ "$(grep -vc "^keytrail: stats:" "$tmp/scan-err.a")" = 0 ]'

# fleet 233 (above): the alerts of --jobs 1 and --jobs 2 are equal byte for byte, evidence included
fargs=(--rules "$src/rules" --format json --stats)
for f in mirror ops root; do fargs+=(--authorized-keys "$f:$dir/$f.authorized_keys"); done
for f in "$src"/tests/data/sample-authorized_keys-*; do
        fargs+=(--authorized-keys "ktdemo${f##*sample-authorized_keys-}:$f")
done
for j in 1 2; do
        "$keytrail" scan --jobs $j "${fargs[@]}" "${fleet_files[@]}" >"$tmp/fleet.$j" 2>"$tmp/fleet-err.$j"
        echo "rc=$?" >>"$tmp/fleet.$j"
done
check "fleet 233: keytrail scan --jobs 1 equals --jobs 2, byte for byte ($(grep -c "^{" "$tmp/fleet.1") alerts)" \
        '[ "$(grep -c "^{" "$tmp/fleet.1")" -gt 100 ] &&
         cmp -s "$tmp/fleet.1" "$tmp/fleet.2" && cmp -s "$tmp/fleet-err.1" "$tmp/fleet-err.2"'

tap_done
