#!/bin/bash
# SPDX-License-Identifier: MIT
# keytrail follow on the live journal of the host's journald, with a real sshd (tests/e2e/lib.sh:
# its own port, accounts and keys), real ssh clients, and follow killed with SIGKILL at random
# instants while sessions stream in, restarted at once each time (as systemd would):
#   - every expected alert (unforced-session, unknown-key, wrong-user) appears exactly once in
#     --output and in the journal (--journal), nothing else about the test's accounts;
#   - the same alerts and ids as keytrail scan over the same time range afterwards;
#   - logrotate: the output renamed, SIGHUP: the next alerts go to the new file, none lost;
#   - SIGHUP with a broken rule file keeps the old rules (one line why), with a fixed one and a
#     new baseline reloads both; RELOADING=1 and READY=1 around each reload.
# The host's journald is shared: only alerts about this run's accounts are counted.
#   test-live.sh BUILD_DIR [SESSIONS]
set -u
BUILD_DIR=$(cd "${1:?usage: test-live.sh BUILD_DIR [SESSIONS]}" && pwd)
SESSIONS=${2:-${KT_FOLLOW_SESSIONS:-36}}
FL_SRC=$(cd "$(dirname "$0")/../.." && pwd)
FL_KEYTRAIL=$BUILD_DIR/keytrail

skip_all() { echo "1..0 # SKIP $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip_all "needs root (accounts, sshd)"
[ -x /usr/sbin/sshd ] || skip_all "no /usr/sbin/sshd"
for tool in ssh ssh-keygen jq journalctl perl useradd python3; do
        command -v "$tool" >/dev/null || skip_all "no $tool"
done
grep -q ' /run/systemd/journal/socket$' /proc/net/unix || [ -x /lib/systemd/systemd-journald ] ||
        skip_all "no journald"

. "$FL_SRC/tests/e2e/lib.sh"
. "$FL_SRC/tests/follow/lib.sh"
KT_BIN=$FL_KEYTRAIL
kt_init
kt_defer "fl_notify_stop"
kt_journal_setup
kt_account push
kt_account other
kt_sshd_start bookworm || kt_die "sshd"
W=$KT_TMP/follow
mkdir -p "$W"
fl_notify_start "$W" || kt_die "notify listener"

# Keys: fenced (forced echo; no alert), stripped (its live line lost command=: unforced-session),
# unknown (only in the live file: unknown-key), other's (bound to 'other', used for push:
# wrong-user).
kt_key fenced
kt_key strip
kt_key unknown
kt_key others
kt_intend push "$(kt_line 'command="echo fenced",restrict' fenced)"
kt_intend push "$(kt_line 'command="echo strip",restrict' strip)"
kt_tamper push strip "$(kt_line 'restrict' strip)"
kt_live push "$(kt_line '' unknown)"
kt_intend other "$(kt_line 'command="echo others",restrict' others)"
kt_live push "$(kt_line 'command="echo others",restrict' others)"
cp -r "$FL_SRC/rules" "$W/rules"
mapfile -t BASE < <(kt_baseline_args)
ARGS=(--since "@$(kt_now)" --rules "$W/rules" "${BASE[@]}" --state-dir "$W/state"
      --output "$W/alerts.ndjson" --journal)
EXPECTED=$W/expected
: >"$EXPECTED"

# session KIND: one login of that kind, its expected alert noted
session() {
        local p
        p=$(kt_client_port)
        case $1 in
        fenced) kt_ssh fenced "$p" push anything >/dev/null ;;
        strip) kt_ssh strip "$p" push true >/dev/null
               echo "unforced-session ${KT_USER[push]} ${KT_FP[strip]} $p" >>"$EXPECTED" ;;
        unknown) kt_ssh unknown "$p" push true >/dev/null
                 echo "unknown-key ${KT_USER[push]} ${KT_FP[unknown]} $p" >>"$EXPECTED" ;;
        others) kt_ssh others "$p" push >/dev/null
                echo "wrong-user ${KT_USER[push]} ${KT_FP[others]} $p" >>"$EXPECTED" ;;
        esac
}

OURS="select(.user == \"${KT_USER[push]}\" or .user == \"${KT_USER[other]}\")"
LINE='[.type, .user, .fingerprint, (.source_port | tostring)] | join(" ")'
instance() { awk '$1 == "instance" { print $2 }' "$W/state/follow.state"; }
journal_alerts() {
        # every follower's entries, not only this instance's: a repeat under a new instance
        # would be a repeat too (the accounts are this run's own)
        journalctl -q -o json MESSAGE_ID=bcd06bf9b7284bb295fc006f9981a5fd --since "${ARGS[1]}" |
                jq -c '.KEYTRAIL_JSON | fromjson'
}
# wait_settled N FILE...: sshd done and the journal synced, then until FILE... hold N of this
# run's alerts (at most 60 s: a missing one then fails the check that follows), and one second
# more, so that a repeat written after them is seen too. No fixed sleep: under the sanitizers on
# a busy machine follow can take seconds to catch up.
wait_settled() {
        local n=$1 i
        shift
        kt_settle
        for ((i = 0; i < 600; i++)); do
                [ "$(cat "$@" 2>/dev/null | jq -r "$OURS | .type" 2>/dev/null | grep -c .)" -ge "$n" ] &&
                        break
                sleep 0.1
        done
        sleep 1
}
# wait_journal N: until the journal sink's entries hold N of this run's alerts (at most 60 s)
wait_journal() {
        local i
        for ((i = 0; i < 600; i++)); do
                [ "$(journal_alerts | jq -r "$OURS | .type" | grep -c .)" -ge "$1" ] && break
                sleep 0.1
        done
}

# ---- 1. the crash soak ----------------------------------------------------------------------
: >"$W/pid"
(
        while [ ! -e "$W/stop" ]; do
                "$FL_KEYTRAIL" follow "${ARGS[@]}" >>"$W/follow.stdout" 2>>"$W/follow.stderr" &
                echo $! >"$W/pid"
                echo $! >>"$W/starts"
                wait $!
        done
) &
SUPERVISOR=$!
kt_defer "touch '$W/stop'; kill -TERM \$(cat '$W/pid') 2>/dev/null; wait $SUPERVISOR"
fl_wait_notify '^[0-9.]+ READY=1' 0 30
fl_ok $? "follow is ready on the live journal"
(
        k=0
        while [ ! -e "$W/killer-stop" ]; do
                sleep "0.$((RANDOM % 6 + 1))$((RANDOM % 10))"
                [ -e "$W/killer-stop" ] && break
                kill -KILL "$(cat "$W/pid")" 2>/dev/null && k=$((k + 1))
        done
        echo "$k" >"$W/kills"
) &
KILLER=$!
kinds=(fenced strip unknown others fenced strip)
for ((i = 0; i < SESSIONS; i++)); do
        session "${kinds[RANDOM % ${#kinds[@]}]}"
done
touch "$W/killer-stop"
wait "$KILLER"
# the last follower started is up (each start says READY=1 once caught up)
for ((i = 0; i < 600; i++)); do
        [ "$(grep -c 'READY=1' "$FL_NOTIFY")" -ge "$(grep -c . "$W/starts")" ] && break
        sleep 0.1
done
wait_settled "$(grep -c . "$EXPECTED")" "$W/alerts.ndjson"
wait_journal "$(grep -c . "$EXPECTED")"
kills=$(cat "$W/kills")
[ "$kills" -ge 5 ]
fl_ok $? "follow was killed with SIGKILL $kills times while $SESSIONS sessions streamed in"
want=$(LC_ALL=C sort "$EXPECTED")
got=$(jq -r "$OURS | $LINE" "$W/alerts.ndjson" | LC_ALL=C sort)
fl_is "$got" "$want" "--output: every expected alert exactly once ($(grep -c . "$EXPECTED") alerts)"
got=$(journal_alerts | jq -r "$OURS | $LINE" | LC_ALL=C sort)
fl_is "$got" "$want" "--journal: every expected alert exactly once"
T1=$(kt_now)
"$FL_KEYTRAIL" scan --since "${ARGS[1]}" --until "@$T1" --rules "$W/rules" "${BASE[@]}" \
        --format json 2>/dev/null | jq -c "$OURS" >"$W/scan.ndjson"
fl_is "$(jq -r "$OURS | .id" "$W/alerts.ndjson" | LC_ALL=C sort)" \
        "$(jq -r '.id' "$W/scan.ndjson" | LC_ALL=C sort)" "the same alert ids as a scan of the same range"
fl_is "$(jq -S -c "$OURS" "$W/alerts.ndjson" | LC_ALL=C sort)" "$(jq -S -c . "$W/scan.ndjson" | LC_ALL=C sort)" \
        "the same alerts, every field, as the scan"
fl_is "$(jq -c . "$W/alerts.ndjson" >/dev/null 2>&1; echo $?)" 0 "--output: every line is whole JSON"

# ---- 2. logrotate: rename, SIGHUP, the next alerts in the new file -----------------------------
mv "$W/alerts.ndjson" "$W/alerts.ndjson.1"
n=$(fl_notify_lines)
kill -HUP "$(cat "$W/pid")"
fl_wait_notify '^[0-9.]+ RELOADING=1' "$n" 10 && fl_wait_notify '^[0-9.]+ READY=1' "$n" 10
fl_ok $? "SIGHUP: RELOADING=1, then READY=1"
session strip
session unknown
wait_settled "$(grep -c . "$EXPECTED")" "$W/alerts.ndjson.1" "$W/alerts.ndjson"
want=$(LC_ALL=C sort "$EXPECTED")
got=$(cat "$W/alerts.ndjson.1" "$W/alerts.ndjson" | jq -r "$OURS | $LINE" | LC_ALL=C sort)
fl_is "$got" "$want" "logrotate: the old and the new file hold every alert exactly once"
fl_is "$(jq -r "$OURS | $LINE" "$W/alerts.ndjson" | grep -c .)" 2 "logrotate: the new alerts are in the new file"

# ---- 3. reload: a broken rule file keeps the old set; a good one and a new baseline apply ------
cp "$W/follow.stderr" "$W/follow.stderr.soak"
: >"$W/follow.stderr"
echo "broken.rule nonsense (unclosed" >>"$W/rules/sshd.rules"
n=$(fl_notify_lines)
kill -HUP "$(cat "$W/pid")"
fl_wait_notify '^[0-9.]+ READY=1' "$n" 10
grep -q "sshd.rules:[0-9]*: " "$W/follow.stderr"
fl_ok $? "broken rules: the file and line are named"
grep -q "reload failed (the line above says why): the previous rules and baseline stay in use" \
        "$W/follow.stderr"
fl_ok $? "broken rules: the old set stays in use, said once"
session strip
wait_settled 3 "$W/alerts.ndjson"
fl_is "$(jq -r "$OURS | $LINE" "$W/alerts.ndjson" | grep -c .)" 3 "broken rules: alerts still decided"
sed -i '$d' "$W/rules/sshd.rules"
# the administrator now intends the unknown key
kt_pub unknown >>"$KT_TMP/intended/${KT_USER[push]}"
: >"$W/follow.stderr"
n=$(fl_notify_lines)
kill -HUP "$(cat "$W/pid")"
fl_wait_notify '^[0-9.]+ READY=1' "$n" 10
grep -q "reloaded the rules and the baseline" "$W/follow.stderr"
fl_ok $? "fixed rules: reloaded"
session unknown
session strip
wait_settled 4 "$W/alerts.ndjson"
fl_is "$(jq -r "$OURS | .type" "$W/alerts.ndjson" | LC_ALL=C sort | uniq -c | awk '{print $2 "=" $1}' | paste -sd, -)" \
        "unforced-session=3,unknown-key=1" "reloaded baseline: the key now intended raises nothing"
grep -E 'STATUS=following: entries [0-9]+, open connections [0-9]+, alerts [0-9]+' "$FL_NOTIFY" >/dev/null
fl_ok $? "STATUS= while following"

touch "$W/stop"
kill -TERM "$(cat "$W/pid")"
wait "$SUPERVISOR"
grep -q "^keytrail: " "$W/follow.stderr" && ! grep -vE "^keytrail: (baseline: |reloaded|.*follow.state: no state yet)" "$W/follow.stderr" | grep -q .
fl_ok $? "nothing unexpected on stderr at the end"
cat "$W/follow.stderr.soak" "$W/follow.stderr" | grep -vE "^keytrail: (baseline: |reloaded|.*follow.state: no state yet)" |
        grep -v "^keytrail: .*sshd.rules:[0-9]*: \|reload failed (the line above" | grep . >"$W/unexpected"
fl_is "$(cat "$W/unexpected")" "" "nothing unexpected on stderr during the soak either"
[ "$FL_FAILED" = 0 ] || { fl_diag "notify messages, the last 5:"; tail -n 5 "$FL_NOTIFY" | sed 's/^/# /'; }
[ -n "${FL_KEEP:-}" ] && cp -r "$W" "$FL_KEEP"
fl_done
