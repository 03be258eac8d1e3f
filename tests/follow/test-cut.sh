#!/bin/bash
# SPDX-License-Identifier: MIT
# keytrail follow while a journal file it reads is cut short under it. journald truncates its own
# files (the unused tail of each file it archives, and files it gives up on), and sd-journal maps
# them: a page cut off raises SIGBUS when touched. Seen in the booted container when one account's
# flood of logger(1) lines made its journal rotate: keytrail.service killed by SIGBUS, twice in two
# minutes (review3's F2). Here the cut is made certain (real journal files by
# systemd-journal-remote): follow reads a folder of two files, one is truncated to nothing while
# follow waits for more; follow must live on, say so once on stderr, alert on a file that comes
# after, and stop cleanly.
#   test-cut.sh KEYTRAIL SOURCE_DIR
set -u
FL_KEYTRAIL=$1 FL_SRC=$2
dir=$FL_SRC/tests/journal
. "$FL_SRC/tests/journal-lib.sh"
. "$FL_SRC/tests/follow/lib.sh"
trap fl_cleanup EXIT

fl_scenario_base

mkdir -p "$tmp/d" "$tmp/later"
journal_from_export "$dir/unknown-key.export" "$tmp/d/a.journal" || { echo "Bail out! journal-remote"; exit 1; }
journal_from_export "$dir/forgery.export" "$tmp/d/b.journal" || { echo "Bail out! journal-remote"; exit 1; }
# c: a scenario 1,000 s later (both clocks), so that it comes after what follow has read
awk -F= '$1 == "__REALTIME_TIMESTAMP" || $1 == "__MONOTONIC_TIMESTAMP" { printf "%s=%.0f\n", $1, $2 + 1000000000; next } { print }' \
        "$dir/wrong-user.export" >"$tmp/later.export"
journal_from_export "$tmp/later.export" "$tmp/later/c.journal" || { echo "Bail out! journal-remote"; exit 1; }
ids() { jq -r .id "$@" 2>/dev/null | LC_ALL=C sort; }
"$FL_KEYTRAIL" scan "${base[@]}" --directory "$tmp/d" >"$tmp/scan-ab" 2>/dev/null
"$FL_KEYTRAIL" scan "${base[@]}" --file "$tmp/later/c.journal" >"$tmp/scan-c" 2>/dev/null
[ -s "$tmp/scan-ab" ] && [ -s "$tmp/scan-c" ] || { echo "Bail out! the scenarios raise no alert"; exit 1; }

# the listener only now: systemd-journal-remote (above) says READY=1 too
fl_notify_start "$tmp" || { echo "1..0 # SKIP cannot start the notify listener"; exit 0; }
fl_follow_start "$tmp/f" --state-dir "$tmp/st" --output "$tmp/out" "${base[@]}" --directory "$tmp/d"
fl_wait_notify '^[0-9.]+ READY=1' 0 20
fl_ok $? "READY=1 once caught up with the two files"
fl_is "$(ids "$tmp/out")" "$(ids "$tmp/scan-ab")" "  their alerts, as scan gives them"

truncate -s 0 "$tmp/d/b.journal"
sleep 2
kill -0 "$FL_PID" 2>/dev/null
fl_ok $? "a file truncated to nothing under follow: it lives on (no SIGBUS)"
fl_is "$(grep -c 'journal file was cut short while it was read' "$tmp/f.stderr")" 1 \
        "  one line on stderr says so"

cp "$tmp/later/c.journal" "$tmp/d/c.journal"
for _ in $(seq 100); do
        [ "$(ids "$tmp/out" | grep -c .)" -ge "$(($(grep -c . "$tmp/scan-ab") + $(grep -c . "$tmp/scan-c")))" ] && break
        sleep 0.1
done
fl_is "$(ids "$tmp/out")" "$(cat "$tmp/scan-ab" "$tmp/scan-c" | ids)" \
        "a file that comes after: its alerts too, nothing repeated"
fl_follow_stop
fl_is "$FL_RC" 0 "SIGTERM: exit status 0"
fl_done
