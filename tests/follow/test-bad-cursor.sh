#!/bin/bash
# follow with a state whose host line holds a cursor sd-journal cannot read (a damaged state, a
# hand edit): that host is said once and read on as with a vacuumed cursor (the entries up to the
# committed time judged silently, the later ones alerted), never left unread; an older state's one
# cursor: every host from its oldest entry, said.
# Usage: test-bad-cursor.sh KEYTRAIL SRCDIR (TAP on stdout)
set -u
FL_KEYTRAIL=$1 FL_SRC=$2
dir=$FL_SRC/tests/journal
. "$FL_SRC/tests/journal-lib.sh"
. "$FL_SRC/tests/follow/lib.sh"
trap fl_cleanup EXIT

fl_scenario_base
bail() { echo "Bail out! $*"; exit 1; }
# the second scenario 2000 s after the first (same host), written while follow is stopped
python3 - "$dir/wrong-user.export" "$tmp/later.export" <<'PY' || bail "export"
import sys
out = []
for line in open(sys.argv[1], encoding="utf-8", errors="surrogateescape").read().split("\n"):
    name, eq, value = line.partition("=")
    if eq and name in ("__REALTIME_TIMESTAMP", "__MONOTONIC_TIMESTAMP", "_SOURCE_REALTIME_TIMESTAMP"):
        value = str(int(value) + 2000 * 1000000)
    elif eq and name == "__CURSOR":
        continue
    out.append(name + eq + value if eq else line)
open(sys.argv[2], "w", encoding="utf-8", errors="surrogateescape").write("\n".join(out))
PY
mkdir -p "$tmp/d"
journal_from_export "$dir/unknown-key.export" "$tmp/d/remote-a.journal" || bail journal-remote
fl_notify_start "$tmp" || { echo "1..0 # SKIP cannot start the notify listener"; exit 0; }
run() {
        fl_follow_start "$tmp/f" --state-dir "$tmp/st" --output "$tmp/out" "${base[@]}" --directory "$tmp/d"
        fl_wait_notify '^[0-9.]+ READY=1' "$(fl_notify_lines)" 20
}
# wait_lines N: until follow's output has N lines (at most 10 s)
wait_lines() {
        for _ in $(seq 100); do
                [ "$(grep -c . "$tmp/out" 2>/dev/null)" -ge "$1" ] && return 0
                sleep 0.1
        done
        return 1
}
run
fl_ok $? "READY=1 once caught up"
first=$("$FL_KEYTRAIL" scan "${base[@]}" --directory "$tmp/d" 2>/dev/null | LC_ALL=C sort)
wait_lines "$(grep -c . <<<"$first")"
fl_follow_stop
fl_is "$(LC_ALL=C sort "$tmp/out")" "$first" "first run: the scenario's alerts, as scan's"
grep -qE '^host [0-9a-f]{32} s=' "$tmp/st/follow.state"
fl_ok $? "  the state holds the host's line"
sed -i -E 's/^(host [0-9a-f]{32}) [^ ]+ /\1 s=nothex;i=zz /' "$tmp/st/follow.state"
journal_from_export "$tmp/later.export" "$tmp/d/remote-a.journal" || bail journal-remote
all=$("$FL_KEYTRAIL" scan "${base[@]}" --directory "$tmp/d" 2>/dev/null | LC_ALL=C sort)
want=$(LC_ALL=C comm -13 <(echo "$first") <(echo "$all"))
[ -n "$want" ] || bail "the later scenario raises no alert"
run
fl_ok $? "cursor mangled: READY=1"
wait_lines "$(( $(grep -c . <<<"$first") + $(grep -c . <<<"$want") ))"
fl_follow_stop
fl_is "$(LC_ALL=C comm -13 <(echo "$first") <(LC_ALL=C sort "$tmp/out"))" "$want" \
        "  the entries after the committed time: alerted, every field as scan's"
fl_is "$(grep -c 'cannot read the journal of host' "$tmp/f.stderr")" 0 "  the host is not left unread"
fl_is "$(grep -c 'host [0-9a-f]*: the committed cursor is no longer in the journal' "$tmp/f.stderr")" 1 \
        "  said once"

# an older state (one cursor, no host lines) with such a cursor: every host goes on from its oldest
# entry, said once for it: the alerts of the past again (better twice than never), but those whose
# ids the state remembers
sed -i -E '/^host /d; s/^cursor .*/cursor s=nothex;i=zz/' "$tmp/st/follow.state"
remembered=$(awk '$1 == "id" { print $2 }' "$tmp/st/follow.state" | LC_ALL=C sort)
again=$(while read -r l; do
        grep -qxF "$(jq -r .id <<<"$l")" <<<"$remembered" || echo "$l"
done <<<"$all")
[ -n "$again" ] || bail "no alert to read again"
before=$(grep -c . "$tmp/out")
run
fl_ok $? "older state's cursor mangled: READY=1"
wait_lines "$((before + $(grep -c . <<<"$again")))"
fl_follow_stop
fl_is "$(tail -n +$((before + 1)) "$tmp/out" | LC_ALL=C sort)" "$again" \
        "  the journal's alerts once more but those the state remembers, every field as scan's"
fl_is "$(grep -c 'the committed cursor is not one the journal reads: host [0-9a-f]\{32\} goes on from its oldest entry' "$tmp/f.stderr")" 1 \
        "  said once"
fl_done
