#!/bin/bash
# SPDX-License-Identifier: MIT
# keytrail follow over a folder of two hosts' journals (systemd-journal-remote), where host B's
# entries come in late: dated before host A's latest entry, and written after follow has read
# A's (a lagging upload, a clock behind). One sd-journal handle hands out only entries that sort
# after the one it read last, so follow never read them, nor after a restart (review's F3). Now
# each host is read through a handle of its own and keeps its own position in the state.
#   test-late-host.sh KEYTRAIL SOURCE_DIR
# A: scenario unknown-key, 1,000 s later. B (its own machine and boot), each upload later than
# the one before and all before A's: wrong-user at the scenarios' time, a new file written while
# follow waits; no-session-timeout (300 s later) appended in two uploads, the session's lines
# a few seconds after its login, meanwhile B's connection must not be timed out by A's clock;
# unforced-session (500 s later) appended; B's file rotated and unknown-key (600 s later) in a new
# one; follow stopped; command-mismatch (700 s later) appended; follow started again from its
# state. Each time every alert of follow (every field)
# must be scan's over the same folder.
set -u
FL_KEYTRAIL=$1 FL_SRC=$2
dir=$FL_SRC/tests/journal
. "$FL_SRC/tests/journal-lib.sh"
. "$FL_SRC/tests/follow/lib.sh"
trap fl_cleanup EXIT

fl_scenario_base
B_MACHINE=0123456789abcdef0123456789abcdef
B_BOOT=fedcba9876543210fedcba9876543210

# host EXPORT OUT SECONDS [B]: the export moved SECONDS later (both clocks), as host B when B
host() {
        python3 - "$@" <<'PY'
import sys
src, dst, secs = sys.argv[1], sys.argv[2], int(sys.argv[3])
b = len(sys.argv) > 4
out = []
for line in open(src, encoding="utf-8", errors="surrogateescape").read().split("\n"):
    name, eq, value = line.partition("=")
    if eq and name in ("__REALTIME_TIMESTAMP", "__MONOTONIC_TIMESTAMP", "_SOURCE_REALTIME_TIMESTAMP"):
        value = str(int(value) + secs * 1000000)
    elif eq and b and name == "_MACHINE_ID":
        value = "0123456789abcdef0123456789abcdef"
    elif eq and b and name == "_BOOT_ID":
        value = "fedcba9876543210fedcba9876543210"
    elif eq and b and name == "_HOSTNAME":
        value = "hostb"
    elif eq and name == "__CURSOR":
        continue
    out.append(name + eq + value if eq else line)
open(dst, "w", encoding="utf-8", errors="surrogateescape").write("\n".join(out))
PY
}
bail() { echo "Bail out! $*"; exit 1; }
host "$dir/unknown-key.export" "$tmp/a.export" 1000 || bail "export A"
host "$dir/wrong-user.export" "$tmp/b1.export" 0 b || bail "export B1"
host "$dir/unforced-session.export" "$tmp/b2.export" 500 b || bail "export B2"
host "$dir/command-mismatch.export" "$tmp/b3.export" 700 b || bail "export B3"
host "$dir/no-session-timeout.export" "$tmp/b4.export" 300 b || bail "export B4"
host "$dir/unknown-key.export" "$tmp/b5.export" 600 b || bail "export B5"
# B4 in two uploads: up to the login ("Accepted publickey"), then the rest (its session's lines,
# and sshd's own 60 s later, which time the connection out on B's own clock)
python3 - "$tmp/b4.export" "$tmp/b4a.export" "$tmp/b4b.export" <<'PY' || bail "split B4"
import sys
blocks = [b for b in open(sys.argv[1]).read().split("\n\n") if b.strip()]
cut = next(i for i, b in enumerate(blocks) if "MESSAGE=Accepted publickey" in b) + 1
open(sys.argv[2], "w").write("\n\n".join(blocks[:cut]) + "\n\n")
open(sys.argv[3], "w").write("\n\n".join(blocks[cut:]) + "\n\n")
PY

mkdir -p "$tmp/d" "$tmp/ref"
journal_from_export "$tmp/a.export" "$tmp/d/remote-a.journal" || bail journal-remote
for p in b1 b2 b3 b4a b4b b5; do
        journal_from_export "$tmp/$p.export" "$tmp/ref/$p.journal" || bail journal-remote
done
ids() { jq -r .id "$@" 2>/dev/null | LC_ALL=C sort; }
lines() { LC_ALL=C sort "$@"; }
nos() { sed -E 's/"s=[0-9a-f]{32};/"/g'; } # the evidence's cursors without their file's id
scan_dir() { "$FL_KEYTRAIL" scan "${base[@]}" --directory "$tmp/d" 2>/dev/null | LC_ALL=C sort; }
# wait_lines N: until follow's output has N lines (at most 10 s)
wait_lines() {
        for _ in $(seq 100); do
                [ "$(grep -c . "$tmp/out" 2>/dev/null)" -ge "$1" ] && return 0
                sleep 0.1
        done
        return 1
}
for p in b1 b2 b3 b5; do
        "$FL_KEYTRAIL" scan "${base[@]}" --file "$tmp/ref/$p.journal" >"$tmp/$p.alerts" 2>/dev/null
        [ -s "$tmp/$p.alerts" ] || bail "scenario $p raises no alert"
        jq -e "select(.machine_id == \"$B_MACHINE\" and .boot_id == \"$B_BOOT\" and .host == \"hostb\")" \
                "$tmp/$p.alerts" >/dev/null || bail "scenario $p: not host B's alerts"
done
a_n=$("$FL_KEYTRAIL" scan "${base[@]}" --directory "$tmp/d" 2>/dev/null | grep -c .)
[ "$a_n" -ge 1 ] || bail "host A raises no alert"

fl_notify_start "$tmp" || { echo "1..0 # SKIP cannot start the notify listener"; exit 0; }
fl_follow_start "$tmp/f" --state-dir "$tmp/st" --output "$tmp/out" "${base[@]}" --directory "$tmp/d"
fl_wait_notify '^[0-9.]+ READY=1' 0 20
fl_ok $? "READY=1 once caught up with host A"
wait_lines "$a_n"
fl_is "$(lines "$tmp/out")" "$(scan_dir)" "host A's alerts, as scan gives them"

# upload PART ALERTS DESCRIPTION: B's PART written into its file (journal-remote), then follow's
# output (ALERTS lines more) must be scan's over the folder, every field
n=$a_n
upload() {
        journal_from_export "$tmp/$1.export" "$tmp/d/remote-b.journal" || bail journal-remote
        n=$((n + $2))
        wait_lines "$n"
        fl_is "$(lines "$tmp/out")" "$(scan_dir)" "$3"
}

# B's first upload: a new file, every entry dated before A's
upload b1 "$(grep -c . "$tmp/b1.alerts")" "host B's late file: its alerts (every field), as scan's"
fl_is "$(grep -F "\"machine_id\":\"$B_MACHINE\"" "$tmp/out" | nos | lines)" "$(nos <"$tmp/b1.alerts" | lines)" \
        "  host B's alerts are the scenario's own (but the evidence's file id)"

# B's login in one upload, the rest in the next, seconds later on the wall: A's clock, 700 s
# ahead, must not time B's connection out meanwhile
journal_from_export "$tmp/b4a.export" "$tmp/d/remote-b.journal" || bail journal-remote
sleep 3 # follow, caught up, ticks each host's clock meanwhile
grep -q '"type":"no-session"' "$tmp/out"
fl_ok "$((1 - $?))" "a late host's login is not timed out by another host's clock"
upload b4b 1 "  its no-session alert once B's later lines are read, as scan's"

# B's next upload, appended to its file, still before A's latest
upload b2 "$(grep -c . "$tmp/b2.alerts")" "host B's late entries appended to its file: alerted"

# B's file rotated (renamed as journal-remote archives it) and the next upload in a new file: B's
# own handle must take the new file in (its inotify watch)
mv "$tmp/d/remote-b.journal" "$tmp/d/remote-b@0123456789abcdef0123456789abcdef-0000000000000001-0006448800000000.journal"
upload b5 "$(grep -c . "$tmp/b5.alerts")" "host B's file rotated, its next upload in a new file: alerted"

fl_follow_stop
fl_is "$FL_RC" 0 "SIGTERM: exit status 0"
fl_is "$(grep -c '^host ' "$tmp/st/follow.state")" 2 "the state holds a position per host"
grep -q "^host $B_MACHINE " "$tmp/st/follow.state"
fl_ok $? "  host B's among them"

# while follow is stopped, more of B, still dated before A's latest
journal_from_export "$tmp/b3.export" "$tmp/d/remote-b.journal" || bail journal-remote
before=$(grep -c . "$tmp/out")
n=$((before + $(grep -c . "$tmp/b3.alerts")))
lines_before=$(fl_notify_lines)
fl_follow_start "$tmp/g" --state-dir "$tmp/st" --output "$tmp/out" "${base[@]}" --directory "$tmp/d"
fl_wait_notify '^[0-9.]+ READY=1' "$lines_before" 20
fl_ok $? "restarted from the state: READY=1"
wait_lines "$n"
fl_is "$(lines "$tmp/out")" "$(scan_dir)" \
        "after the restart: host B's entries written meanwhile alerted, nothing repeated"
fl_follow_stop
fl_is "$FL_RC" 0 "SIGTERM: exit status 0"
# a state as follow wrote it before hosts had positions of their own: the one cursor (A's last
# entry, the latest); every host goes on after it, nothing is judged again
sed -i '/^host /d' "$tmp/st/follow.state"
before=$(grep -c . "$tmp/out")
lines_before=$(fl_notify_lines)
fl_follow_start "$tmp/h" --state-dir "$tmp/st" --output "$tmp/out" "${base[@]}" --directory "$tmp/d"
fl_wait_notify '^[0-9.]+ READY=1' "$lines_before" 20
fl_ok $? "a state without host lines: READY=1"
fl_follow_stop
fl_is "$(grep -c . "$tmp/out")" "$before" "  nothing alerted again"
fl_is "$(grep -c '^host ' "$tmp/st/follow.state")" 2 "  the new state holds a position per host"
fl_is "$(grep -c . "$tmp/h.stderr")" 0 "  nothing on stderr" || cat "$tmp/h.stderr" >&2

# the bound: 65 machines (one file of journal-remote's, an entry of sshd's each); follow reads 64
# and says so, in STATUS= and in --stats, never silently
python3 - "$tmp/many.export" <<'PY' || bail "export of 65 machines"
import sys
with open(sys.argv[1], "w") as f:
    for i in range(65):
        f.write("__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n_BOOT_ID=%032x\n"
                "_MACHINE_ID=%032x\n_HOSTNAME=h%d\nSYSLOG_IDENTIFIER=sshd\n_PID=600\n_UID=0\n"
                "MESSAGE=Server listening on 0.0.0.0 port 22.\n\n"
                % (1764200000000000 + i, 1000 + i, i + 1, i + 1, i))
PY
journal_from_export "$tmp/many.export" "$tmp/many.journal" || bail journal-remote
lines_before=$(fl_notify_lines)
fl_follow_start "$tmp/m" --stats --state-dir "$tmp/st-many" "${base[@]}" --file "$tmp/many.journal"
fl_wait_notify '^[0-9.]+ READY=1' "$lines_before" 20
fl_ok $? "65 machines: READY=1"
fl_wait_notify 'STATUS=following: .*, hosts unread 1$' "$lines_before" 5
fl_ok $? "  STATUS= ends with ', hosts unread 1'"
fl_follow_stop
fl_is "$(grep -c 'the journal holds more machines than follow reads at once (64): the entries of 1 of them are not read (keytrail scan reads them)' "$tmp/m.stderr")" 1 \
        "  one line on stderr says so"
grep -q ' hosts=64 hosts_unread=1$' "$tmp/m.stderr"
fl_ok $? "  --stats: hosts=64 hosts_unread=1"

fl_is "$(cat "$tmp/f.stderr")" "keytrail: $tmp/st/follow.state: no state yet, starting from the oldest entry" \
        "on stderr: only the first start's line"
fl_is "$(grep -c . "$tmp/g.stderr")" 0 "  and nothing at the second" || cat "$tmp/g.stderr" >&2
fl_done
