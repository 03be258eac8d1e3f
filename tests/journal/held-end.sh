#!/bin/bash
# SPDX-License-Identifier: MIT
# Lines still held when the input ends (docs/alerts.md, docs/security.md). A user child's line
# written before its monitor's "User child is on pid N" is held on its connection; when a scan's
# input ends with the connection still open and no child named, each such line is judged then:
# spoofed-entry, reason "... had named no user child when the input ended", in entry order across
# connections, after every other alert; the connections stay open (no no-session). follow, whose
# input never ends, judges nothing when it stops, and a restart judges the lines when the monitor
# speaks. TAP.
#
#   held-end.sh KEYTRAIL SOURCE_DIR
#
# Journals (systemd-journal-remote): scenario race-open (tests/journal/gen.py, 38: three
# connections; A holds its child's forced-command line and, later, a forgery from another PID; B
# a forgery then its child's shell line; C's held line is named and taken), race-open split in
# two files, race-child-first cut by --until between the child's line and its monitor's, and the
# monitor lines race-open lacks (written here as export text) for the follow restart. Asserted:
# whole alert lines against race-open.expected, their order, the --stats line, exit status and
# stderr; --jobs 1 = --jobs 2 (one file and two); keytrail report's counts and ids; the text of
# the same journal (--input: nothing attests a writer there, so nothing is held); follow.
set -u
keytrail=$1 src=$2
. "$src/tests/journal-lib.sh"
. "$src/tests/golden-lib.sh"
. "$src/tests/tap-lib.sh"
dir=$src/tests/journal
export TZ=UTC
args=(--rules "$src/rules" --format json --stats
        --authorized-keys "mirror:$dir/mirror.authorized_keys")
held_reason="it names an open connection whose sshd monitor had named no user child when the input ended"

journal_from_export "$dir/race-open.export" "$tmp/open.journal" || exit 1

# scan NAME ARGS...: keytrail scan; stdout $tmp/NAME.json, stderr $tmp/NAME.err, status $tmp/NAME.rc
scan() {
        local name=$1
        shift
        "$keytrail" scan "${args[@]}" "$@" >"$tmp/$name.json" 2>"$tmp/$name.err"
        echo $? >"$tmp/$name.rc"
}
# in_order FILE: the alerts' type, _PID and port, one line each, in the order written
in_order() {
        jq -r '[.type, .sshd_pid, .source_port] | map(tostring) | join(" ")' "$1" | paste -sd,
}

stats_open='keytrail: stats: records=32 matched=21 unmatched=7 spoofed=4 match_errors=0 skipped=0 malformed=0 oversized=0 jobs_limited=0 duplicates=0 connections=3 evicted=0 evicted_authenticated=0 orphan_sessions=0 untied=4 held=5 held_overflow=0 held_at_end=4 hosts_peak=1 alerts=4'
order_open='spoofed-entry 14263 20830,spoofed-entry 14295 20831,spoofed-entry 14271 20831,spoofed-entry 14290 20830'

# -- scan, one thread -------------------------------------------------------------------------
scan j1 --jobs 1 --file "$tmp/open.journal"
check "race-open: exit status 1" '[ "$(cat "$tmp/j1.rc")" = 1 ]'
check "race-open: stderr is the --stats line alone (held=5 held_at_end=4 untied=4)" \
        '[ "$(cat "$tmp/j1.err")" = "$stats_open" ]'
golden_normalise <"$tmp/j1.json" >"$tmp/j1.got"
check "race-open: every field of the 4 alerts is race-open.expected's" \
        'diff -u "$dir/race-open.expected" "$tmp/j1.got" >&2'
check "race-open: in entry order across connections (A's child, B's forgery, B's child, A's forgery)" \
        '[ "$(in_order "$tmp/j1.json")" = "$order_open" ]'
check "race-open: each says the input ended before its monitor named a child" \
        '[ "$(jq -r ".reason | startswith(\"$held_reason (/usr/lib/openssh/sshd-session, _PID \")" "$tmp/j1.json" | sort -u)" = true ]'
check "race-open: and that it could not be tied to sshd-session (not: was not written by it)" \
        '[ "$(jq -r .message "$tmp/j1.json" | grep -c "^An entry claiming to be sshd-session'"'"'s could not be tied to it: $held_reason (\"/usr/lib/openssh/sshd-session\")\.$")" = 4 ]'
check "race-open: evidence cursors resolve to the held entries" \
        'golden_check_cursors "$tmp/open.journal" <"$tmp/j1.json"'

# -- scan, two threads: one file, then race-open split in two files ------------------------------
scan j2 --jobs 2 --file "$tmp/open.journal"
check "--jobs 2 (one file): the same alerts, bytes and order" 'cmp -s "$tmp/j1.json" "$tmp/j2.json"'
check "--jobs 2 (one file): the same --stats line and exit status" \
        'cmp -s "$tmp/j1.err" "$tmp/j2.err" && [ "$(cat "$tmp/j2.rc")" = 1 ]'
# A and C's monitors in one file, everything else (B, and every child) in the other.
awk -v RS= -v ORS='\n\n' '/_PID=1413[0-9]\n|_PID=1415[0-9]\n/' "$dir/race-open.export" >"$tmp/part1.export"
awk -v RS= -v ORS='\n\n' '!/_PID=1413[0-9]\n|_PID=1415[0-9]\n/' "$dir/race-open.export" >"$tmp/part2.export"
journal_from_export "$tmp/part1.export" "$tmp/part1.journal" || exit 1
journal_from_export "$tmp/part2.export" "$tmp/part2.journal" || exit 1
scan s1 --jobs 1 --file "$tmp/part1.journal" --file "$tmp/part2.journal"
scan s2 --jobs 2 --file "$tmp/part1.journal" --file "$tmp/part2.journal"
check "split in two files: the same 4 alerts in the same order" \
        '[ "$(in_order "$tmp/s1.json")" = "$order_open" ]'
check "split in two files: --jobs 2 = --jobs 1 (alerts, ids, order, --stats, status)" \
        'cmp -s "$tmp/s1.json" "$tmp/s2.json" && cmp -s "$tmp/s1.err" "$tmp/s2.err" &&
         [ "$(cat "$tmp/s1.rc")" = 1 ] && [ "$(cat "$tmp/s2.rc")" = 1 ]'
check "split in two files: the --stats line is the one file's" \
        '[ "$(cat "$tmp/s1.err")" = "$stats_open" ]'

# -- --until between a child's line and its monitor's: the scan ends in the race's window ------------
journal_from_export "$dir/race-child-first.export" "$tmp/first.journal" || exit 1
# the child's line is at 23:33:24.784415, the monitor's "User child is on pid 14263" at .789070
scan cut --file "$tmp/first.journal" --until @1764200004.786
check "--until in the window: exit 1, one alert" \
        '[ "$(cat "$tmp/cut.rc")" = 1 ] && [ "$(in_order "$tmp/cut.json")" = "spoofed-entry 14263 20830" ]'
check "--until in the window: the child's forced-command line, the input's end as the reason" \
        '[ "$(jq -r "[.rule, .time, .reason, .user, .source_ip] | join(\"|\")" "$tmp/cut.json")" = "sshd.session.start-forced-command|2025-11-26T23:33:24.784415Z|$held_reason (/usr/lib/openssh/sshd-session, _PID 14263, _UID 1001)|mirror|127.0.0.1" ]'
check "--until in the window: held=1 held_at_end=1" \
        'grep -q " untied=1 held=1 held_overflow=0 held_at_end=1 " "$tmp/cut.err"'
scan after --file "$tmp/first.journal" --until @1764200004.790
check "--until just past the monitor's line: no alert (the line is the child's), exit 0" \
        '[ "$(cat "$tmp/after.rc")" = 0 ] && [ ! -s "$tmp/after.json" ] &&
         grep -q " untied=0 held=1 held_overflow=0 held_at_end=0 " "$tmp/after.err"'
for j in 1 2; do
        scan cut$j --jobs $j --file "$tmp/first.journal" --file "$tmp/part2.journal" --until @1764200004.786
done
check "--until in the window, two files: --jobs 2 = --jobs 1" \
        'cmp -s "$tmp/cut1.json" "$tmp/cut2.json" && cmp -s "$tmp/cut1.err" "$tmp/cut2.err" &&
         [ -s "$tmp/cut1.json" ]'

# -- keytrail report: the same alerts -----------------------------------------------------------
"$keytrail" report --file "$tmp/open.journal" --rules "$src/rules" -o json \
        --authorized-keys "mirror:$dir/mirror.authorized_keys" >"$tmp/report.json" 2>"$tmp/report.err"
rc=$?
check "report: exit 1, 4 spoofed-entry in its totals, nothing on stderr" \
        '[ $rc = 1 ] && [ "$(jq -c .totals.alerts_by_type "$tmp/report.json")" = "{\"spoofed-entry\":4}" ] &&
         [ ! -s "$tmp/report.err" ]'
check "report: the scan's alert ids" \
        '[ "$(jq -r ".alerts[].id" "$tmp/report.json" | sort)" = "$(jq -r .id "$tmp/j1.json" | sort)" ]'

# -- the same lines as text: nothing attests a writer, nothing is held ------------------------------
journalctl --file "$tmp/open.journal" -o short-precise --no-pager >"$tmp/open.log"
for j in 1 2; do
        scan text$j --jobs $j --input "$tmp/open.log"
done
check "--input: nothing held, nothing judged at the end" \
        'grep -q " held=0 held_overflow=0 held_at_end=0 " "$tmp/text1.err" &&
         ! grep -q "when the input ended" "$tmp/text1.json"'
check "--input: --jobs 2 = --jobs 1" \
        'cmp -s "$tmp/text1.json" "$tmp/text2.json" && cmp -s "$tmp/text1.err" "$tmp/text2.err"'

# -- follow: stopping judges nothing; a restart judges the lines when their monitor speaks ----------
# The monitor lines race-open lacks, 2 s after its last entry, in a second file.
{
        for m in "14132 14263" "14140 14271"; do
                set -- $m
                t=$((1764200007000000 + ${2: -1}))
                printf '%s\n' "__REALTIME_TIMESTAMP=$t" "__MONOTONIC_TIMESTAMP=$((t - 1764200000000000 + 5000000))" \
                        _BOOT_ID=0b1e5ad2d3c94bd59b4f7a5e0c2b1a01 _MACHINE_ID=4c6f0b5e8f6a4c9aa1f2e3d4c5b6a7b8 \
                        _HOSTNAME=mirror1 _TRANSPORT=syslog PRIORITY=6 SYSLOG_FACILITY=4 \
                        SYSLOG_IDENTIFIER=sshd-session "SYSLOG_PID=$1" "_PID=$1" _UID=0 _GID=0 \
                        _COMM=sshd-session _EXE=/usr/lib/openssh/sshd-session \
                        "MESSAGE=User child is on pid $2" ""
        done
} >"$tmp/named.export"
journal_from_export "$tmp/named.export" "$tmp/named.journal" || exit 1
# What a scan of both files gives: A's child taken, A's forgery spoofed-entry (another PID than the
# one named), B's forgery spoofed-entry, B's child's shell of a forced key unforced-session.
scan both --file "$tmp/open.journal" --file "$tmp/named.journal"
check "both files: the held lines judged by the monitor's lines, not at the end" \
        '[ "$(in_order "$tmp/both.json")" = "spoofed-entry 14290 20830,spoofed-entry 14295 20831,unforced-session 14140 20831" ] &&
         grep -q " held=5 held_overflow=0 held_at_end=0 " "$tmp/both.err" &&
         ! grep -q "when the input ended" "$tmp/both.json"'

# follow FILE... (in $tmp/fl.N.*): runs until it has read every entry, then SIGTERM
fl=0
follow() {
        local files=() f pid i last
        fl=$((fl + 1))
        for f in "$@"; do
                files+=(--file "$f")
        done
        "$keytrail" follow "${files[@]}" --state-dir "$tmp/state" "${args[@]}" \
                >"$tmp/fl.$fl.json" 2>"$tmp/fl.$fl.err" &
        pid=$!
        # follow commits the cursor of the last entry it read (follow.state); wait for it
        last=$(journalctl --file "${@: -1}" -o export -n 1 --no-pager | sed -n 's/^__CURSOR=//p')
        for i in $(seq 150); do
                grep -qxF "cursor $last" "$tmp/state/follow.state" 2>/dev/null && break
                sleep 0.1
        done
        sleep 0.3
        kill -TERM $pid
        wait $pid
        echo $? >"$tmp/fl.$fl.rc"
}
mkdir "$tmp/state"
follow "$tmp/open.journal"
check "follow stopped with lines held: no alert, exit 0" \
        '[ ! -s "$tmp/fl.1.json" ] && [ "$(cat "$tmp/fl.1.rc")" = 0 ]'
check "follow stopped with lines held: held=5 held_at_end=0 (nothing judged at the stop)" \
        'grep -q " untied=0 held=5 held_overflow=0 held_at_end=0 " "$tmp/fl.1.err"'
follow "$tmp/open.journal" "$tmp/named.journal"
check "follow restarted, the monitors' lines come: exactly the scan of both files (ids, order)" \
        'cmp -s "$tmp/fl.2.json" "$tmp/both.json" && [ "$(cat "$tmp/fl.2.rc")" = 0 ]'

tap_done
