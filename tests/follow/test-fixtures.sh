#!/bin/bash
# SPDX-License-Identifier: MIT
# keytrail follow over the scenario journals (tests/journal/, real journal files made by
# systemd-journal-remote), against keytrail scan over the same files:
#   - every scenario: the same alerts (every field, ids included) on stdout and in --output, but
#     for those scan raises because its input ended with lines held (race-open);
#   - a restart with the state goes on after the cursor and emits nothing again;
#   - the state missing, corrupt or its cursor gone: said once on stderr, and follow goes on;
#   - --socket serves the same lines; --identifier keytrail and --until are refused;
#   - READY=1 once caught up, STATUS= with the counts, exit status 0 on SIGTERM.
#   test-fixtures.sh KEYTRAIL SOURCE_DIR
set -u
FL_KEYTRAIL=$1 FL_SRC=$2
dir=$FL_SRC/tests/journal
. "$FL_SRC/tests/journal-lib.sh"
. "$FL_SRC/tests/golden-lib.sh"
. "$FL_SRC/tests/follow/lib.sh"
trap fl_cleanup EXIT

fl_scenario_base

fl_notify_start "$tmp" || { echo "1..0 # SKIP cannot start the notify listener"; exit 0; }

# run_follow NAME STATE-DIR ARGS...: start, wait until caught up, stop; echo the exit status
run_follow() {
        local name=$1 st=$2 n
        shift 2
        n=$(fl_notify_lines)
        fl_follow_start "$tmp/$name" --state-dir "$st" "${base[@]}" "$@"
        if ! fl_wait_notify '^[0-9.]+ READY=1' "$n" 20; then
                fl_diag "$name: no READY=1"
                cat "$tmp/$name.stderr" >&2
        fi
        fl_follow_stop
        echo "$FL_RC"
}

mapfile -t scenarios < <(cd "$dir" && ls ./*.expected | sed 's|^\./||; s|\.expected$||' | LC_ALL=C sort)
for s in "${scenarios[@]}"; do
        journal_from_export "$dir/$s.export" "$tmp/$s.journal" || { fl_ok 1 "$s: journal"; continue; }
        # scan's input ends: lines still held for their monitor are judged then; follow's never
        # ends, so it leaves them held (docs/alerts.md; tests/journal/held-end.sh)
        "$FL_KEYTRAIL" scan --file "$tmp/$s.journal" "${base[@]}" 2>/dev/null |
                jq -c 'select(.reason // "" | contains("when the input ended") | not)' >"$tmp/$s.scan"
        rc=$(run_follow "$s" "$tmp/st-$s" --file "$tmp/$s.journal" --output "$tmp/$s.out" --stdout)
        fl_is "$rc" 0 "$s: follow stops with status 0 on SIGTERM"
        fl_is "$(golden_normalise <"$tmp/$s.out")" "$(golden_normalise <"$tmp/$s.scan")" \
                "$s: --output holds exactly scan's alerts ($(wc -l <"$tmp/$s.scan") alerts)"
        cmp -s "$tmp/$s.out" "$tmp/$s.stdout"
        fl_ok $? "$s: stdout holds the same lines as --output"
        fl_is "$(grep -c . "$tmp/$s.stderr")" 1 "$s: one line on stderr (no state yet)"
        : >"$tmp/$s.stdout"
        rc=$(run_follow "$s" "$tmp/st-$s" --file "$tmp/$s.journal" --output "$tmp/$s.out" --stdout)
        fl_is "$rc" 0 "$s: restart: status 0"
        fl_is "$(golden_normalise <"$tmp/$s.out")" "$(golden_normalise <"$tmp/$s.scan")" \
                "$s: restart: nothing written again"
        fl_is "$(wc -c <"$tmp/$s.stdout")" 0 "$s: restart: nothing on stdout"
        fl_is "$(grep -c . "$tmp/$s.stderr")" 1 "$s: restart: nothing more on stderr"
done

# Readiness and status.
grep -qE 'STATUS=following: entries [0-9]+, open connections [0-9]+, alerts [0-9]+, evicted [0-9]+' "$FL_NOTIFY"
fl_ok $? "STATUS= says entries, open connections, alerts and evictions"

# A corrupt state: said once, follow goes on from the oldest entry (and so repeats).
s=unknown-key
echo "garbage" >"$tmp/st-$s/follow.state"
: >"$tmp/$s.stderr"
rc=$(run_follow "$s" "$tmp/st-$s" --file "$tmp/$s.journal" --stdout)
fl_is "$rc" 0 "corrupt state: follow still runs"
grep -q "follow.state:1: corrupt state, ignoring it: starting from the oldest entry" "$tmp/$s.stderr"
fl_ok $? "corrupt state: said on stderr, naming the line"
fl_is "$(grep -c . "$tmp/$s.stderr")" 1 "corrupt state: said once"
fl_is "$(golden_normalise <"$tmp/$s.stdout")" "$(golden_normalise <"$tmp/$s.scan")" \
        "corrupt state: the alerts are decided again from the oldest entry"

# A host line with a word too many (the state's last line): said naming that line, once; the
# alerts decided again, as for any corrupt state.
: >"$tmp/$s.stderr" && : >"$tmp/$s.stdout"
echo "host 0123456789abcdef0123456789abcdef s=1;i=1 1 extra" >>"$tmp/st-$s/follow.state"
n=$(grep -c '' "$tmp/st-$s/follow.state")
rc=$(run_follow "$s" "$tmp/st-$s" --file "$tmp/$s.journal" --stdout)
fl_is "$rc" 0 "corrupt host line: follow still runs"
fl_is "$(cat "$tmp/$s.stderr")" \
        "keytrail: $tmp/st-$s/follow.state:$n: corrupt state, ignoring it: starting from the oldest entry" \
        "corrupt host line: one line on stderr, naming the file and line"
fl_is "$(golden_normalise <"$tmp/$s.stdout")" "$(golden_normalise <"$tmp/$s.scan")" \
        "corrupt host line: the alerts are decided again from the oldest entry"

# The committed cursor no longer in the journal (vacuumed): said once, nothing judged again.
s=command-mismatch
sed -i -E 's/^(cursor|host [0-9a-f]{32}) s=[0-9a-f]*;i=[0-9a-f]*;/\1 s=00000000000000000000000000000000;i=1;/' \
        "$tmp/st-$s/follow.state"
: >"$tmp/$s.stderr" && : >"$tmp/$s.stdout"
rc=$(run_follow "$s" "$tmp/st-$s" --file "$tmp/$s.journal" --stdout)
fl_is "$rc" 0 "vacuumed cursor: follow still runs"
grep -q "the committed cursor is no longer in the journal (vacuumed?): going on from the oldest entry" "$tmp/$s.stderr"
fl_ok $? "vacuumed cursor: said on stderr"
fl_is "$(grep -c . "$tmp/$s.stderr")" 1 "vacuumed cursor: said once"
fl_is "$(wc -c <"$tmp/$s.stdout")" 0 "vacuumed cursor: what was judged before the commit is not alerted again"

# The state directory is locked: a second follower is refused.
s=no-session
fl_follow_start "$tmp/lock1" --state-dir "$tmp/st-$s" "${base[@]}" --file "$tmp/$s.journal" --stdout
n=0; while [ ! -e "$tmp/st-$s/follow.lock" ] && [ $n -lt 100 ]; do sleep 0.05; n=$((n + 1)); done
sleep 0.3
"$FL_KEYTRAIL" follow --state-dir "$tmp/st-$s" "${base[@]}" --file "$tmp/$s.journal" >/dev/null 2>"$tmp/lock2.err"
fl_is "$?" 2 "a second follower on the same state directory: exit status 2"
fl_is "$(cat "$tmp/lock2.err")" "keytrail: --state-dir: another keytrail follow uses this state directory" \
        "a second follower: one line why"
fl_follow_stop

# --live-keys: a missing or malformed snapshot is said once (FILE:LINE), and the service goes on:
# the journal's alerts still come, and SIGTERM still ends it with status 0.
# (spoofed-entry: its alerts do not depend on the baseline, so some come whatever the host has)
lk=spoofed-entry
if "$FL_KEYTRAIL" baseline --output "$tmp/bl" 2>/dev/null; then
        "$FL_KEYTRAIL" scan --file "$tmp/$lk.journal" --rules "$FL_SRC/rules" --format json \
                --baseline "$tmp/bl" >"$tmp/lk.scan" 2>/dev/null
        fl_ok "$([ -s "$tmp/lk.scan" ]; echo $?)" "--live-keys cases: scan's alerts to compare with"
        for kind in missing malformed; do
                rm -f "$tmp/lk-live"
                [ $kind = malformed ] && { cp "$tmp/bl" "$tmp/lk-live"; echo "key nonsense" >>"$tmp/lk-live"; }
                n=$(fl_notify_lines)
                fl_follow_start "$tmp/lk-$kind" --state-dir "$tmp/st-lk-$kind" --rules "$FL_SRC/rules" \
                        --format json --baseline "$tmp/bl" --live-keys "$tmp/lk-live" --file "$tmp/$lk.journal" --stdout
                fl_wait_notify '^[0-9.]+ READY=1' "$n" 20 || fl_diag "live-keys $kind: no READY=1"
                fl_follow_stop
                if [ $kind = missing ]; then
                        want="keytrail: drift: cannot read the snapshot of the authorized_keys files '$tmp/lk-live': No such file or directory"
                else
                        want="keytrail: drift: $tmp/lk-live:$(grep -c '' "$tmp/lk-live"): missing field"
                fi
                fl_is "$(grep -c -F -x "$want" "$tmp/lk-$kind.stderr")" 1 "--live-keys, a $kind snapshot: said once, naming it"
                fl_is "$FL_RC" 0 "  the service went on and stopped cleanly"
                fl_is "$(golden_normalise <"$tmp/lk-$kind.stdout")" "$(golden_normalise <"$tmp/lk.scan")" \
                        "  and the journal's alerts still came, exactly scan's ($(grep -c . "$tmp/lk.scan"))"
        done
else
        fl_ok 1 "keytrail baseline --output (for the --live-keys cases)"
fi

# Live on a directory: a journal file that appears while follow runs is read at once; a --socket
# reader connected by then gets exactly the new alerts; a restart adds nothing.
# shift_export SECONDS < EXPORT: the same entries, later (a file written after the first one)
shift_export() {
        perl -pe "s/^(__(?:REALTIME|MONOTONIC)_TIMESTAMP=)(\\d+)\$/\$1.(\$2 + $1 * 1000000)/e"
}
mkdir -p "$tmp/live"
journal_from_export "$dir/unforced-session.export" "$tmp/live/a.journal"
shift_export 3600 <"$dir/command-mismatch.export" >"$tmp/b.export"
journal_from_export "$tmp/b.export" "$tmp/b.journal"
"$FL_KEYTRAIL" scan --file "$tmp/live/a.journal" "${base[@]}" >"$tmp/a.scan" 2>/dev/null
"$FL_KEYTRAIL" scan --file "$tmp/b.journal" "${base[@]}" >"$tmp/b.scan" 2>/dev/null
n=$(fl_notify_lines)
fl_follow_start "$tmp/live" --state-dir "$tmp/st-live" "${base[@]}" --directory "$tmp/live" \
        --output "$tmp/live.out" --socket "$tmp/alerts.sock" --stdout
fl_wait_notify '^[0-9.]+ READY=1' "$n" 20
fl_ok $? "live: READY=1 once caught up"
python3 - "$tmp/alerts.sock" "$tmp/sock.out" "$tmp/sock.connected" <<'PY' &
import socket, sys
path, out, flag = sys.argv[1:4]
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.connect(path)
open(flag, "w").close()
c.settimeout(20)
data = b""
try:
    while True:
        d = c.recv(65536)
        if not d:
            break
        data += d
except socket.timeout:
    pass
open(out, "wb").write(data)
PY
reader=$!
for _ in $(seq 100); do [ -e "$tmp/sock.connected" ] && break; sleep 0.05; done
sleep 0.3
mv "$tmp/b.journal" "$tmp/live/b.journal"
for _ in $(seq 200); do [ "$(grep -c . "$tmp/live.out")" -ge 2 ] && break; sleep 0.05; done
sleep 0.3
fl_is "$(golden_normalise <"$tmp/live.out")" "$(cat "$tmp/a.scan" "$tmp/b.scan" | golden_normalise)" \
        "live: the new file's alert is added as it appears"
fl_follow_stop
fl_is "$FL_RC" 0 "live: status 0 on SIGTERM"
wait "$reader"
fl_is "$(golden_normalise <"$tmp/sock.out")" "$(golden_normalise <"$tmp/b.scan")" \
        "--socket: a connected reader gets the NDJSON lines of the alerts decided since"
[ ! -e "$tmp/alerts.sock" ]
fl_ok $? "--socket: the socket file is removed at the stop"
: >"$tmp/live.stdout"
n=$(fl_notify_lines)
fl_follow_start "$tmp/live" --state-dir "$tmp/st-live" "${base[@]}" --directory "$tmp/live" \
        --output "$tmp/live.out" --stdout
fl_wait_notify '^[0-9.]+ READY=1' "$n" 20
fl_follow_stop
fl_is "$(wc -c <"$tmp/live.stdout"):$(grep -c . "$tmp/live.out")" "0:2" "live: a restart adds nothing"

# A forged sshd line that carries keytrail's own MESSAGE_ID and _COMM (anyone can set both): not
# dropped as keytrail's own entry, but judged as scan judges it (spoofed-entry).
journal_from_export "$FL_SRC/tests/follow/data/forged-message-id.export" "$tmp/forged.journal"
"$FL_KEYTRAIL" scan --file "$tmp/forged.journal" "${base[@]}" >"$tmp/forged.scan" 2>/dev/null
rc=$(run_follow forged "$tmp/st-forged" --file "$tmp/forged.journal" --stdout)
fl_is "$(jq -r .type "$tmp/forged.stdout")" spoofed-entry \
        "a forged line with keytrail's MESSAGE_ID is not taken for keytrail's own: spoofed-entry"
fl_is "$(golden_normalise <"$tmp/forged.stdout")" "$(golden_normalise <"$tmp/forged.scan")" \
        "  the same alert as scan"

# Refused options: one line, status 2.
"$FL_KEYTRAIL" follow --state-dir "$tmp/st-x" --identifier keytrail >/dev/null 2>"$tmp/x.err"
fl_is "$?:$(cat "$tmp/x.err")" "2:keytrail: --identifier: 'keytrail' is what keytrail writes its own alerts as" \
        "--identifier keytrail is refused: keytrail's own alerts are never input"
"$FL_KEYTRAIL" follow --state-dir "$tmp/st-x" --until now >/dev/null 2>"$tmp/x.err"
fl_is "$?:$(cat "$tmp/x.err")" "2:keytrail: --until: follow has no end (use keytrail scan)" "--until is refused"
echo x >"$tmp/notadir"
"$FL_KEYTRAIL" follow --state-dir "$tmp/notadir/sub" --file "$tmp/$s.journal" >/dev/null 2>"$tmp/x.err"
fl_is "$?" 2 "an unusable --state-dir: status 2"

fl_done
