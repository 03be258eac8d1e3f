#!/bin/bash
# SPDX-License-Identifier: MIT
# The journal sink across a crash while journald is stalled (tests/container/lib.sh's booted
# Debian 12, keytrail.service as installed). The soak of test-container.sh once saw the journal
# sink repeat alerts after a restart while the file was exact: journald had not written anything
# for 24 s (load 7-12), the alerts of the killed process were still in journald's socket queue,
# the new process gave up waiting for its start marker after 10 s, read the journal back, did not
# find them and sent them again. Here the same, made certain:
#   1. the service reads a few logins, writes their alerts to the file, and sends them to a
#      journald that is stopped (SIGSTOP): they wait in its socket queue; its state cannot be
#      committed meanwhile (the state folder is made read-only to it), as when a SIGKILL lands
#      between the alerts and the next commit;
#   2. SIGKILL; systemd restarts it while journald stays stopped for longer than the old 10 s;
#   3. journald goes on: every alert exactly once in the journal and in the file; the service
#      was ready (following, the file sink alerting) while it waited, and said why in STATUS=.
#      Alerts decided while it waits are held for the journal, then written once.
#   4. a systemctl stop while journald is stopped and the journal sink still waits: a clean,
#      quick exit, and nothing repeated or lost at the next start.
#   test-container-stall.sh BUILD_DIR
set -u
BUILD_DIR=$(cd "${1:?usage: test-container-stall.sh BUILD_DIR}" && pwd)
FL_SRC=$(cd "$(dirname "$0")/../.." && pwd)
. "$FL_SRC/tests/follow/lib.sh"

fl_ct_boot "$BUILD_DIR" kt-follow-stall

# push has one forced key in the baseline; the key "unknown", added after it, raises unknown-key.
ct_add_user push || { echo "Bail out! accounts"; exit 1; }
fl_ct_keys fenced unknown
ak=$CT_ROOT/home/push/.ssh/authorized_keys
echo "command=\"echo fenced\",restrict $(cat "$CT_ROOT/root/keys/fenced.pub")" | fl_ct_authorized_keys push
fl_ct_baseline || { echo "Bail out! keytrail baseline: $(cat "$tmp/baseline.err")"; exit 1; }
cat "$CT_ROOT/root/keys/unknown.pub" >>"$ak"
fl_ct_quick_restarts

EXPECTED=$tmp/expected
: >"$EXPECTED"
PORT=$((20000 + RANDOM % 20000))
login() {       # one login with the unknown key from a known source port; its alert noted
        PORT=$((PORT + 1))
        fl_ct_ssh unknown push "$PORT" true
        echo "unknown-key push ${FP[unknown]} $PORT" >>"$EXPECTED"
}
LINE='[.type, .user, .fingerprint, (.source_port | tostring)] | join(" ")'
file_alerts() { cat "$CT_ROOT"/var/log/keytrail/alerts.ndjson 2>/dev/null | jq -c 'select(.type == "unknown-key")'; }
journal_alerts() {
        ct_exec journalctl -q -o json MESSAGE_ID=bcd06bf9b7284bb295fc006f9981a5fd |
                jq -c '.KEYTRAIL_JSON | fromjson | select(.type == "unknown-key")'
}
wait_alerts() {   # wait_alerts FN N TRIES: until FN prints N unknown-key alerts (TRIES x 0.1 s)
        local i
        for ((i = 0; i < $3; i++)); do
                [ "$("$1" | grep -c .)" -ge "$2" ] && return 0
                sleep 0.1
        done
        return 1
}
wait_file() { wait_alerts file_alerts "$1" 300; }       # 30 s at most
wait_journal() { wait_alerts journal_alerts "$1" 100; } # 10 s at most
main_pid() { ct_exec systemctl show -p MainPID --value keytrail; }
logged() {      # until journald has written the last login's lines (10 s at most)
        local i
        for ((i = 0; i < 100; i++)); do
                [ "$(ct_exec journalctl -q -o cat SYSLOG_IDENTIFIER=sshd --grep "port $PORT ssh2" | grep -c '^Accepted publickey')" -ge 1 ] && break
                sleep 0.1
        done
        sleep 0.5
}
restarted() {   # until systemd has started another main process than $1 (10 s at most)
        local i p
        for ((i = 0; i < 100; i++)); do
                p=$(main_pid)
                [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$1" ] && return 0
                sleep 0.1
        done
        return 1
}
status_text() { ct_exec systemctl show -p StatusText --value keytrail; }
journald() { ct_exec systemctl kill -s "$1" systemd-journald 2>/dev/null; }
notes() { ct_exec journalctl -q -u keytrail -o cat --no-pager | grep -F 'keytrail: '; }

ct_exec systemctl start keytrail
fl_is "$(ct_exec systemctl is-active keytrail)" active "systemctl start keytrail: active"
login
wait_file 1
fl_is "$(journal_alerts | jq -r "$LINE")" "$(cat "$EXPECTED")" "a first alert in the journal"

# ---- 1. alerts sent to a stopped journald, no commit after them ---------------------------------
pid=$(main_pid)
ct_exec chmod 0550 /var/lib/keytrail       # the service's commits fail from now on
ct_exec kill -STOP "$pid"                  # it reads nothing while the logins reach journald
for _ in 1 2 3; do login; done
logged
journald SIGSTOP
ct_exec kill -CONT "$pid"
wait_file 4
fl_ok $? "journald stopped: the service read the logins and wrote their alerts to the file"
sleep 0.5
ct_exec kill -KILL "$pid"
ct_exec chmod 0750 /var/lib/keytrail
T_KILL=$(date +%s)

# ---- 2. restarted while journald stays stopped ---------------------------------------------------
restarted "$pid"
fl_ok $? "SIGKILL: systemd restarted the service"
sleep 15
fl_is "$(ct_exec systemctl is-active keytrail)" active "journald stopped for 15 s: the restarted service is ready (READY=1)"
case $(status_text) in
*"waiting for journald"*) fl_ok 0 "  and says in STATUS= that the journal sink waits for journald" ;;
*) fl_ok 1 "  and says in STATUS= that the journal sink waits for journald"; fl_diag "STATUS: $(status_text)" ;;
esac

# ---- 3. journald goes on ------------------------------------------------------------------------
journald SIGCONT
wait_journal 4 || true # the assertions below say what arrived
sleep 3
want=$(LC_ALL=C sort "$EXPECTED")
got=$(journal_alerts | jq -r "$LINE" | LC_ALL=C sort)
fl_is "$got" "$want" "journald back: every alert exactly once in the journal"
if [ "$got" != "$want" ]; then
        fl_diag "keytrail's own notes:"
        notes | sed 's/^/#   /'
fi
fl_is "$(file_alerts | jq -r "$LINE" | LC_ALL=C sort)" "$want" "  and in the file"
case $(status_text) in
following:*) fl_ok 0 "  and STATUS= says following again" ;;
*) fl_ok 1 "  and STATUS= says following again"; fl_diag "STATUS: $(status_text)" ;;
esac
notes | grep -q "did not show a marker"
fl_ok "$([ $? != 0 ]; echo $?)" "  and no note that alerts may appear twice"
login
wait_file 5
sleep 1
fl_is "$(journal_alerts | jq -r "$LINE" | LC_ALL=C sort)" "$(LC_ALL=C sort "$EXPECTED")" \
        "the next alert reaches the journal once too"

# ---- 3b. alerts decided while the journal sink waits: held, then written once -------------------
# The killed service never read these logins (stopped before them): the restarted one decides them
# while journald is stopped, alerts in the file at once, and holds them for the journal, which
# turns out not to have them: written when journald goes on.
pid=$(main_pid)
ct_exec kill -STOP "$pid"
login
login
logged
journald SIGSTOP
ct_exec kill -KILL "$pid"
restarted "$pid"
wait_file 7
fl_ok $? "journald stopped: the restarted service alerts in the file at once"
fl_is "$(journal_alerts | grep -c .)" 5 "  and holds those alerts for the journal"
journald SIGCONT
wait_journal 7 || true # the assertions below say what arrived
sleep 2
fl_is "$(journal_alerts | jq -r "$LINE" | LC_ALL=C sort)" "$(LC_ALL=C sort "$EXPECTED")" \
        "journald back: the held alerts it lacked written, once each"
fl_is "$(file_alerts | jq -r "$LINE" | LC_ALL=C sort)" "$(LC_ALL=C sort "$EXPECTED")" "  and the file exact"

# ---- 4. systemctl stop while the journal sink waits ---------------------------------------------
pid=$(main_pid)
journald SIGSTOP
ct_exec kill -KILL "$pid"
restarted "$pid"
sleep 1
t0=$(date +%s%N)
ct_exec systemctl stop keytrail
t1=$(date +%s%N)
fl_is "$(ct_exec systemctl show -p ExecMainStatus --value keytrail)" 0 \
        "systemctl stop while journald is stopped: exit status 0"
fl_ok "$([ $(((t1 - t0) / 1000000)) -lt 5000 ]; echo $?)" "  within 5 s ($(((t1 - t0) / 1000000)) ms)"
journald SIGCONT
login
ct_exec systemctl start keytrail
wait_file 8
sleep 2
fl_is "$(journal_alerts | jq -r "$LINE" | LC_ALL=C sort)" "$(LC_ALL=C sort "$EXPECTED")" \
        "started again: every alert exactly once in the journal"
fl_is "$(file_alerts | jq -r "$LINE" | LC_ALL=C sort)" "$(LC_ALL=C sort "$EXPECTED")" \
        "  and in the file"
fl_diag "keytrail's notes since the kill: $(ct_exec journalctl -q -u keytrail -o cat --since "@$T_KILL" | grep -F 'keytrail: ' | paste -sd'|')"
fl_done
