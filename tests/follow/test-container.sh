#!/bin/bash
# SPDX-License-Identifier: MIT
# keytrail follow as the service it is meant to be: a booted Debian 12 container
# (tests/container/lib.sh: systemd as PID 1, persistent journald, the stock ssh.service at
# LogLevel VERBOSE), keytrail installed with meson install and started with
# `systemctl start keytrail` under contrib/keytrail.service's hardening, a baseline written by
# `keytrail baseline`, accounts above UID 1000, real ssh clients inside. Asserted:
#   1. alerts appear live in the journal, in /var/log/keytrail/alerts.ndjson and on
#      /run/keytrail/alerts.sock, and are those of a keytrail scan of the same range (every field);
#   2. crash soak: SIGKILL to the service at random instants (KILLS times, default 50) while
#      sessions stream in; systemd restarts it; every alert exactly once in the file and journal;
#   3. journalctl --rotate, --vacuum-files=, systemctl restart systemd-journald during a stream:
#      nothing lost, nothing repeated;
#   4. systemctl reload with a broken rule file (kept running on the old rules, one line why) and a
#      good one; logrotate-style rename + reload;
#   5. systemctl stop: a clean exit with the state committed;
#   and baseline-drift raised by the installed units as they are (the root snapshot job
#   keytrail-keys.service, the unprivileged service reading its snapshot), exactly once across the
#   SIGKILLs; and lines that reach journald after their writer exited (journald stopped during
#   whole logins) tied to their connection by _PID/_UID: no spoofed-entry, no no-session.
#   test-container.sh BUILD_DIR [KILLS]
set -u
BUILD_DIR=$(cd "${1:?usage: test-container.sh BUILD_DIR [KILLS]}" && pwd)
KILLS=${2:-${KT_FOLLOW_KILLS:-50}}
FL_SRC=$(cd "$(dirname "$0")/../.." && pwd)
. "$FL_SRC/tests/follow/lib.sh"

fl_ct_boot "$BUILD_DIR" kt-follow-ct
rules=$(cd "$CT_ROOT" && ls -d usr/share/keytrail/rules usr/local/share/keytrail/rules 2>/dev/null | head -n1)
[ -n "$rules" ] || { echo "Bail out! no rules installed"; exit 1; }
rules=/$rules

# Accounts, keys, the intended authorized_keys, the baseline; then the tampering.
ct_add_user push && ct_add_user other || { echo "Bail out! accounts"; exit 1; }
fl_ct_keys fenced strip unknown others
pub() { cat "$CT_ROOT/root/keys/$1.pub"; }
{
        echo "command=\"echo fenced\",restrict $(pub fenced)"
        echo "command=\"echo strip\",restrict $(pub strip)"
} | fl_ct_authorized_keys push
echo "command=\"echo others\",restrict $(pub others)" | fl_ct_authorized_keys other
fl_ct_baseline
rc=$?
fl_is "$(ct_exec getent passwd keytrail | cut -d: -f7)" /usr/sbin/nologin "sysusers.d: the keytrail system user exists"
fl_is "$rc" 0 "keytrail baseline writes /var/lib/keytrail/baseline in the container"
{
        echo "command=\"echo fenced\",restrict $(pub fenced)"
        echo "restrict $(pub strip)"
        pub unknown
        echo "command=\"echo others\",restrict $(pub others)"
} >"$CT_ROOT/home/push/.ssh/authorized_keys"
# Quick restarts and no start limit, for the soak only; the hardening is the unit's own.
fl_ct_quick_restarts

EXPECTED=$tmp/expected
: >"$EXPECTED"
PORT=$((20000 + RANDOM % 20000))
# session KIND: one login from a known source port; its expected alert noted
session() {
        local key=$1 user=push cmd=true
        PORT=$((PORT + 1))
        fl_ct_ssh "$key" "$user" "$PORT" "$cmd"
        case $key in
        strip) echo "unforced-session push ${FP[strip]} $PORT" >>"$EXPECTED" ;;
        unknown) echo "unknown-key push ${FP[unknown]} $PORT" >>"$EXPECTED" ;;
        others) echo "wrong-user push ${FP[others]} $PORT" >>"$EXPECTED" ;;
        esac
}
LINE='[.type, .user, .fingerprint, (.source_port | tostring)] | join(" ")'
# The sshd alerts (baseline-drift apart: drift_alerts), from the file and from the journal
# (journal_alerts [journalctl options]).
all_alerts() { cat "$CT_ROOT"/var/log/keytrail/alerts.ndjson* 2>/dev/null; }
file_alerts() { all_alerts | jq -c 'select(.type != "baseline-drift")'; }
journal_all() {
        ct_exec journalctl -q -o json MESSAGE_ID=bcd06bf9b7284bb295fc006f9981a5fd "$@" |
                jq -c '.KEYTRAIL_JSON | fromjson'
}
journal_alerts() { journal_all "$@" | jq -c 'select(.type != "baseline-drift")'; }
DRIFT='[.type, .reason, .user, .fingerprint, .key_location] | join(" ")'
drift_alerts() { all_alerts | jq -r 'select(.type == "baseline-drift") | '"$DRIFT" | LC_ALL=C sort; }
DRIFT_WANT=$(printf '%s\n' \
        "baseline-drift added push ${FP[unknown]} /home/push/.ssh/authorized_keys:3" \
        "baseline-drift added push ${FP[others]} /home/push/.ssh/authorized_keys:4" \
        "baseline-drift options-changed push ${FP[strip]} /home/push/.ssh/authorized_keys:2" |
        LC_ALL=C sort)
# Every alert, spoofed-entry and no-session included: entries sshd sent while journald was away
# reach it after their writer is gone, with no _EXE or _COMM, and must still be tied to their
# connection by the kernel's _PID/_UID (docs/security.md), never raise spoofed-entry.
file_alerts_sshd() { file_alerts; }
# wait_for N: until the file holds N alerts (30 s at most), then a little longer
wait_for() {
        local i
        for ((i = 0; i < 300; i++)); do
                [ "$(file_alerts_sshd | grep -c .)" -ge "$1" ] && break
                sleep 0.1
        done
        sleep 1
}
main_pid() { ct_exec systemctl show -p MainPID --value keytrail; }

# ---- 1. live on every sink, the same as scan ---------------------------------------------------
T0=$(date +%s)
ct_exec systemctl start keytrail
fl_is "$(ct_exec systemctl is-active keytrail)" active "systemctl start keytrail: active (Type=notify, READY=1)"
ct_exec sh -c 'setsid perl -MIO::Socket::UNIX -e "
        my \$c = IO::Socket::UNIX->new(Peer => \"/run/keytrail/alerts.sock\") or die;
        open(my \$o, \">\", \"/root/sock.out\") or die; \$| = 1; select(\$o); \$| = 1;
        while (my \$l = <\$c>) { print \$o \$l; }" </dev/null >/dev/null 2>&1 &'
sleep 0.5
session fenced
session strip
session unknown
session others
wait_for 3
want=$(LC_ALL=C sort "$EXPECTED")
fl_is "$(file_alerts | jq -r "$LINE" | LC_ALL=C sort)" "$want" "live: the alerts in /var/log/keytrail/alerts.ndjson"
fl_is "$(journal_alerts | jq -r "$LINE" | LC_ALL=C sort)" "$want" "live: the alerts in the journal (MESSAGE_ID=bcd06bf9...)"
fl_is "$(jq -r "$LINE" "$CT_ROOT/root/sock.out" | LC_ALL=C sort)" "$want" "live: the alerts on /run/keytrail/alerts.sock"
ct_exec "$KT" scan --baseline /var/lib/keytrail/baseline --since "@$T0" --format json >"$tmp/scan.ndjson" 2>/dev/null
fl_is "$(file_alerts | jq -S -c . | LC_ALL=C sort)" "$(jq -S -c . "$tmp/scan.ndjson" | LC_ALL=C sort)" \
        "live: the same alerts, ids and every field, as keytrail scan of the same range"
ct_exec journalctl -q -o json MESSAGE_ID=bcd06bf9b7284bb295fc006f9981a5fd -n 1 >"$tmp/entry.json"
fl_is "$(jq -r '[.SYSLOG_IDENTIFIER, .PRIORITY, .KEYTRAIL_TYPE, .KEYTRAIL_USER, (.KEYTRAIL_ID | length | tostring)] | join(" ")' "$tmp/entry.json")" \
        "keytrail $(jq -r '.PRIORITY' "$tmp/entry.json") $(jq -r '.KEYTRAIL_TYPE' "$tmp/entry.json") push 32" \
        "journal entry: SYSLOG_IDENTIFIER=keytrail, KEYTRAIL_* fields"
ct_exec sh -c "cat /proc/\$(systemctl show -p MainPID --value keytrail)/status" >"$tmp/status"
uid=$(awk '$1 == "Uid:" { print $2 }' "$tmp/status")
gid=$(awk '$1 == "Gid:" { print $2 }' "$tmp/status")
[ "$uid" = "$(ct_exec id -u keytrail)" ] && [ "$uid" != 0 ]
fl_ok $? "the service runs as the keytrail system user (uid $uid), not root"
jgid=$(ct_exec getent group systemd-journal | cut -d: -f3)
fl_is "$(awk '$1 == "Groups:" { $1 = ""; print }' "$tmp/status" | tr ' ' '\n' | grep . | grep -vx "$gid" | paste -sd' ')" \
        "$jgid" "  with systemd-journal as its only supplementary group"
fl_is "$(awk '$1 == "CapEff:" || $1 == "CapPrm:" || $1 == "CapBnd:" { print $2 }' "$tmp/status" | sort -u)" \
        0000000000000000 "  with no capability at all (effective, permitted, bounding)"
ct_exec systemd-analyze security keytrail.service >"$tmp/security.txt" 2>&1
score=$(sed -n 's/.*Overall exposure level for keytrail.service: \([0-9.]*\).*/\1/p' "$tmp/security.txt")
fl_diag "systemd-analyze security keytrail.service: $score"
awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 1.5) }'
fl_ok $? "systemd-analyze security: exposure $score, at most 1.5"

# baseline-drift under the hardening: the service sees no home (ProtectHome=yes); the snapshot
# keytrail-keys.service took as root before the start shows the three changes made to push's
# authorized_keys since the baseline.
for ((i = 0; i < 100; i++)); do
        [ "$(drift_alerts | grep -c .)" -ge 3 ] && break
        sleep 0.1
done
fl_is "$(drift_alerts)" "$DRIFT_WANT" "baseline-drift from the installed units: a key's command= stripped, two keys added"
fl_is "$(journal_all | jq -r 'select(.type == "baseline-drift") | '"$DRIFT" | LC_ALL=C sort)" "$DRIFT_WANT" \
        "  and in the journal"
fl_is "$(ct_exec stat -c '%U:%G %a' /var/lib/keytrail-keys /var/lib/keytrail-keys/live | paste -sd' ')" \
        "root:keytrail 750 root:keytrail 644" "the snapshot: root's, in a folder only the keytrail group may enter"
ct_exec nsenter -t "$(main_pid)" -m ls /home/push >/dev/null 2>&1
fl_is "$?" 2 "the service still sees no home (ProtectHome=yes)"
ct_exec nsenter -t "$(main_pid)" -m sh -c 'echo x >>/var/lib/keytrail-keys/live' 2>/dev/null
fl_ok "$([ $? != 0 ]; echo $?)" "  and cannot change the snapshot (read-only in its mount namespace)"
ct_exec systemd-analyze security keytrail-keys.service >"$tmp/security-keys.txt" 2>&1
fl_diag "systemd-analyze security keytrail-keys.service: $(sed -n 's/.*Overall exposure level for keytrail-keys.service: \([0-9.]*\).*/\1/p' "$tmp/security-keys.txt")"
fl_is "$(ct_exec systemctl is-active keytrail-keys.timer)" active "keytrail-keys.timer is active (wanted by keytrail.service)"
# other_drift N: wait (25 s at most) for the Nth baseline-drift, and expect one more of other's key
other_drift() {
        for ((i = 0; i < 250; i++)); do
                [ "$(drift_alerts | grep -c .)" -ge "$1" ] && break
                sleep 0.1
        done
        DRIFT_WANT=$(printf '%s\n' "$DRIFT_WANT" "baseline-drift options-changed other ${FP[others]} /home/other/.ssh/authorized_keys:1" | LC_ALL=C sort)
}
# A change while running (other's key loses its command=, in place): the timer's next snapshot
# shows it, within about 10 s.
echo "restrict $(pub others)" >"$CT_ROOT/home/other/.ssh/authorized_keys"
other_drift 4
fl_is "$(drift_alerts)" "$DRIFT_WANT" "baseline-drift: a command= stripped while the service runs, seen in the timer's next snapshot"
# The same key, other options again, at the same place: raised too, once, with an id of its own
# (a baseline-drift's evidence carries a digest of the key and both lines, docs/alerts.md).
echo "from=\"127.0.0.1\",restrict $(pub others)" >"$CT_ROOT/home/other/.ssh/authorized_keys"
other_drift 5
fl_is "$(drift_alerts)" "$DRIFT_WANT" "baseline-drift: a second change of the same key at the same place is raised too"
fl_is "$(all_alerts | jq -r 'select(.type == "baseline-drift" and .user == "other") | .observed_command' | LC_ALL=C sort | paste -sd'|')" \
        "from=\"127.0.0.1\",restrict $(pub others)|restrict $(pub others)" "  with its own observed line"
fl_is "$(all_alerts | jq -r 'select(.type == "baseline-drift" and .user == "other") | .id' | LC_ALL=C sort -u | grep -c .)" \
        2 "  and its own id"

# ---- 2. crash soak: SIGKILL at random instants, systemd restarts it ----------------------------
restarts0=$(ct_exec systemctl show -p NRestarts --value keytrail)
(
        kinds=(fenced strip unknown others)
        while [ ! -e "$tmp/soak-done" ]; do session "${kinds[RANDOM % 4]}"; done
) &
STREAM=$!
k=0 last=
for ((i = 0; k < KILLS && i < KILLS * 40; i++)); do
        sleep "0.$((RANDOM % 8 + 1))"
        pid=$(main_pid)
        [ -n "$pid" ] && [ "$pid" != 0 ] && [ "$pid" != "$last" ] || continue
        ct_exec kill -KILL "$pid" 2>/dev/null && k=$((k + 1)) && last=$pid
done
touch "$tmp/soak-done"
wait "$STREAM"
wait_for "$(grep -c . "$EXPECTED")"
sleep 2
restarts=$(( $(ct_exec systemctl show -p NRestarts --value keytrail) - restarts0 ))
fl_ok "$([ "$k" -ge "$KILLS" ] && [ "$restarts" -ge "$KILLS" ]; echo $?)" \
        "soak: $k SIGKILLs, systemd restarted the service $restarts times"
fl_is "$(ct_exec systemctl is-active keytrail)" active "soak: the service is up again"
want=$(LC_ALL=C sort "$EXPECTED")
fl_is "$(file_alerts | jq -r "$LINE" | LC_ALL=C sort)" "$want" \
        "soak: every alert exactly once in the file ($(grep -c . "$EXPECTED") alerts)"
got=$(journal_alerts | jq -r "$LINE" | LC_ALL=C sort)
fl_is "$got" "$want" "soak: every alert exactly once in the journal"
if [ "$got" != "$want" ]; then
        # what follow said at each start (recovery notes, e.g. journald's marker not shown in time)
        fl_diag "keytrail's own notes during the soak:"
        ct_exec journalctl -u keytrail -o short-precise --no-pager | grep -F ': keytrail: ' |
                tail -n 60 | sed 's/^/#   /' || true
fi
fl_is "$(drift_alerts)" "$DRIFT_WANT" "soak: every baseline-drift exactly once in the file, after $k restarts"
fl_is "$(journal_all | jq -r 'select(.type == "baseline-drift") | '"$DRIFT" | LC_ALL=C sort)" "$DRIFT_WANT" \
        "soak: every baseline-drift exactly once in the journal"

# ---- 3. rotation, vacuuming and a journald restart during a stream ------------------------------
(
        kinds=(strip unknown fenced)
        for ((j = 0; j < 18; j++)); do session "${kinds[j % 3]}"; done
) &
STREAM=$!
sleep 1
ct_exec journalctl --rotate >/dev/null 2>&1
sleep 1
ct_exec journalctl --vacuum-files=1 >/dev/null 2>&1
sleep 1
ct_exec systemctl restart systemd-journald
wait "$STREAM"
session strip
wait_for "$(grep -c . "$EXPECTED")"
want=$(LC_ALL=C sort "$EXPECTED")
fl_is "$(file_alerts | jq -r "$LINE" | LC_ALL=C sort)" "$want" \
        "journald rotated, vacuumed and restarted during a stream: every alert exactly once in the file, nothing else"
fl_is "$(journal_alerts | jq -r .id | LC_ALL=C sort | uniq -d)" "" "  and none twice in the journal (what the vacuum left)"
fl_is "$(ct_exec journalctl -q -o json MESSAGE_ID=bcd06bf9b7284bb295fc006f9981a5fd -n 1 | jq -r '.KEYTRAIL_JSON | fromjson | '"$LINE")" \
        "$(tail -n1 "$EXPECTED")" "  and the journal sink works after journald's restart"

# ---- 3b. sshd's lines reach journald after their writer is gone ----------------------------------
# journald stopped (SIGSTOP) while whole logins happen: their lines wait in /dev/log's queue, and
# when journald reads them, monitor and user child have exited: no _EXE, no _COMM, only the
# kernel's _PID and _UID. Each must still count, tied by _PID/_UID to its connection: the alerts
# are exactly those of the logins, no spoofed-entry, no no-session.
T_B=$(date +%s)
n_b=$(grep -c . "$EXPECTED")
PORT=$((PORT + 5000)) # past the ports the background streams above took from the same start
sleep 1
ct_exec systemctl kill -s SIGSTOP systemd-journald
for k in strip unknown others fenced; do session "$k"; done
ct_exec systemctl kill -s SIGCONT systemd-journald
wait_for "$(grep -c . "$EXPECTED")"
bare=$(ct_exec journalctl -q -o json --since "@$T_B" SYSLOG_IDENTIFIER=sshd |
        jq -r 'select(._EXE == null and ._COMM == null) | .MESSAGE' | sed 's/ for .*//; s/ from .*//; s/ on pid.*//' | sort -u | paste -sd'|')
fl_diag "lines journald recorded with neither _EXE nor _COMM: $bare"
case "|$bare|" in
*"|Accepted publickey|"*"|Starting session: command|"* | *"|Starting session: command|"*"|Accepted publickey|"*) fl_ok 0 "journald stopped: the monitor's and the user child's lines reached it without _EXE/_COMM" ;;
*) fl_ok 1 "journald stopped: the monitor's and the user child's lines reached it without _EXE/_COMM" ;;
esac
want=$(LC_ALL=C sort "$EXPECTED")
fl_is "$(file_alerts | jq -r "$LINE" | LC_ALL=C sort)" "$want" \
        "journald stopped during whole logins: their alerts exactly once in the file, no spoofed-entry, no no-session"
fl_is "$(journal_alerts --since "@$T_B" | jq -r "$LINE" | LC_ALL=C sort)" \
        "$(tail -n +$((n_b + 1)) "$EXPECTED" | LC_ALL=C sort)" "  and in the journal"
fl_is "$(journal_alerts | jq -r .id | LC_ALL=C sort | uniq -d)" "" "  and none twice in the journal"
fl_is "$(file_alerts | jq -r .id | LC_ALL=C sort | uniq -d)" "" "  and none twice in the file"

# ---- 4. reload: broken rules, good rules, logrotate ---------------------------------------------
cp "$CT_ROOT$rules/sshd.rules" "$tmp/sshd.rules"
echo "broken.rule nonsense (unclosed" >>"$CT_ROOT$rules/sshd.rules"
T_R=$(date +%s)
ct_exec systemctl reload keytrail
fl_is "$(ct_exec systemctl is-active keytrail)" active "reload with a broken rule file: still active"
sleep 0.5
ct_exec journalctl -q -u keytrail --since "@$T_R" -o cat >"$tmp/reload.log"
grep -q "sshd.rules:[0-9]*: " "$tmp/reload.log" && grep -q "reload failed (the line above says why)" "$tmp/reload.log"
fl_ok $? "reload with a broken rule file: FILE:LINE and 'the previous rules stay in use'"
n=$(file_alerts_sshd | grep -c .)
session strip
wait_for $((n + 1))
fl_is "$(file_alerts_sshd | tail -n1 | jq -r "$LINE")" "$(tail -n1 "$EXPECTED")" \
        "reload with a broken rule file: the old rules still decide"
cp "$tmp/sshd.rules" "$CT_ROOT$rules/sshd.rules"
mv "$CT_ROOT/var/log/keytrail/alerts.ndjson" "$CT_ROOT/var/log/keytrail/alerts.ndjson.1"
T_R=$(date +%s)
ct_exec systemctl reload keytrail
sleep 0.5
ct_exec journalctl -q -u keytrail --since "@$T_R" -o cat | grep -q "reloaded the rules and the baseline"
fl_ok $? "reload with good rules: reloaded"
session unknown
wait_for $((n + 2))
fl_is "$(jq -r "$LINE" "$CT_ROOT/var/log/keytrail/alerts.ndjson")" "$(tail -n1 "$EXPECTED")" \
        "logrotate (rename, reload): the next alert is in the new file"
fl_is "$(file_alerts | jq -r .id | LC_ALL=C sort | uniq -d)" "" \
        "logrotate: no alert in both the old and the new file"

# The service cannot change its baseline.
ct_exec sh -c 'echo "# kept" >>/var/lib/keytrail/baseline'
ct_exec nsenter -t "$(main_pid)" -m sh -c 'echo x >>/var/lib/keytrail/baseline' 2>/dev/null
rc=$?
fl_is "$([ "$rc" != 0 ] && echo refused):$(tail -n1 "$CT_ROOT/var/lib/keytrail/baseline")" "refused:# kept" \
        "the baseline is read-only in the service's mount namespace (ReadOnlyPaths=)"

# ---- 5. stop ------------------------------------------------------------------------------------
ct_exec systemctl stop keytrail
fl_is "$(ct_exec systemctl show -p ExecMainStatus --value keytrail)" 0 "systemctl stop: exit status 0"
grep -q '^cursor ' "$CT_ROOT/var/lib/keytrail/follow.state"
fl_ok $? "systemctl stop: the state is committed"
[ -n "${FL_KEEP:-}" ] && { mkdir -p "$FL_KEEP"; cp "$EXPECTED" "$tmp"/*.* "$FL_KEEP/" 2>/dev/null; all_alerts >"$FL_KEEP/alerts.all"; ct_exec journalctl -q -u keytrail -o short-precise >"$FL_KEEP/unit.log"; }
fl_done
