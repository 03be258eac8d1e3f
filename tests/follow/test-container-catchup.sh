#!/bin/bash
# SPDX-License-Identifier: MIT
# A restart whose replay outlasts TimeoutStartSec= (tests/container/lib.sh's booted Debian 12,
# keytrail.service as installed, its start timeout lowered to 1 s by a drop-in). READY=1 waits
# for the catch-up, and the replay part of it (from the first line of the oldest connection open
# at the commit to the committed cursor) commits nothing: a connection kept open while many sshd
# lines are written puts that first line far back. Before, systemd killed follow at the start
# timeout and restarted it, and each restart replayed the same window again: the service never
# became ready and followed nothing, for as long as nobody stepped in. Now follow asks for more
# time (EXTEND_TIMEOUT_USEC=) while it reads entries:
#   1. a login kept open; 600,000 lines under sshd's identifier while the service follows them
#      (written by logger(1), which the service is told to trust: lines of no rule, no alert);
#   2. systemctl restart: the replay takes longer than 1 s, the service still becomes active,
#      without being restarted by systemd, and alerts on a new login.
#   test-container-catchup.sh BUILD_DIR
set -u
BUILD_DIR=$(cd "${1:?usage: test-container-catchup.sh BUILD_DIR}" && pwd)
FL_SRC=$(cd "$(dirname "$0")/../.." && pwd)
. "$FL_SRC/tests/follow/lib.sh"

fl_ct_boot "$BUILD_DIR" kt-follow-catchup

ct_add_user longs || { echo "Bail out! accounts"; exit 1; }
fl_ct_keys plain unknown
cat "$CT_ROOT/root/keys/plain.pub" | fl_ct_authorized_keys longs
fl_ct_baseline || { echo "Bail out! keytrail baseline: $(cat "$tmp/baseline.err")"; exit 1; }
cat "$CT_ROOT/root/keys/unknown.pub" >>"$CT_ROOT/home/longs/.ssh/authorized_keys"
# The lines below come from one process: no journald rate limit in the bed (as e2e's bed).
mkdir -p "$CT_ROOT/etc/systemd/journald.conf.d"
printf '[Journal]\nRateLimitIntervalSec=0\n' >"$CT_ROOT/etc/systemd/journald.conf.d/50-test.conf"
ct_exec systemctl restart systemd-journald
mkdir -p "$CT_ROOT/etc/systemd/system/keytrail.service.d"
printf '[Unit]\nStartLimitIntervalSec=0\n[Service]\nRestartSec=100ms\nTimeoutStartSec=1s\n' \
        >"$CT_ROOT/etc/systemd/system/keytrail.service.d/50-test.conf"
echo 'KEYTRAIL_FOLLOW_OPTIONS=--trusted-exe /usr/bin/logger' >"$CT_ROOT/etc/default/keytrail"
ct_exec systemctl daemon-reload

state() { ct_exec sh -c 'cat /var/lib/keytrail/follow.state 2>/dev/null' | awk -v k="$1" '$1 == k { print $2 }'; }
nrestarts() { ct_exec systemctl show -p NRestarts --value keytrail; }
unknown_alerts() {
        cat "$CT_ROOT"/var/log/keytrail/alerts.ndjson 2>/dev/null |
                jq -r 'select(.type == "unknown-key") | .fingerprint' | grep -c .
}

ct_exec systemctl start keytrail
fl_is "$(ct_exec systemctl is-active keytrail)" active "systemctl start keytrail: active"

# ---- 1. a connection kept open, many lines after its first ---------------------------------------
ct_exec timeout 900 ssh -F /dev/null -i /root/keys/plain -o BatchMode=yes \
        -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes \
        -o LogLevel=ERROR longs@127.0.0.1 'sleep 800' </dev/null >/dev/null 2>&1 &
for _ in $(seq 300); do
        r=$(state replay_usec)
        [ -n "$r" ] && [ "$r" != 0 ] && break
        sleep 0.1
done
fl_ok "$([ -n "$r" ] && [ "$r" != 0 ]; echo $?)" "the open login is the committed replay point"
N=600000
seq "$N" | sed 's/^/review line /' >"$CT_ROOT/root/lines"
ct_exec logger -t sshd -f /root/lines
# logger(1) returns once its last datagram is in journald's socket, maybe before journald wrote it:
# the last line's time is asked for until the journal has it.
last=
for _ in $(seq 1200); do
        [ -n "$last" ] || last=$(ct_exec journalctl -q -o json -n 1 SYSLOG_IDENTIFIER=sshd \
                MESSAGE="review line $N" | jq -r .__REALTIME_TIMESTAMP)
        c=$(state cursor_usec)
        [ -n "$c" ] && [ -n "$last" ] && [ "$c" -ge "$last" ] && break
        sleep 0.1
done
fl_ok "$([ -n "$c" ] && [ -n "$last" ] && [ "$c" -ge "$last" ]; echo $?)" \
        "the service followed the $N lines and committed past them"
fl_is "$(state replay_usec)" "$r" "  the login still open: the replay point did not move"
fl_is "$(nrestarts)" 0 "  systemd never restarted it"
if [ "$(nrestarts)" != 0 ] || [ -z "$c" ] || [ -z "$last" ] || [ "$c" -lt "$last" ]; then
        fl_diag "last line at: ${last:-none}, committed: ${c:-none}; keytrail's log:"
        ct_exec journalctl -q -u keytrail -o short-monotonic --no-pager | head -n 30 | sed 's/^/#   /'
fi

# ---- 2. a restart: the replay outlasts the 1 s start timeout -------------------------------------
before=$(nrestarts)
t0=$(date +%s%N)
ct_exec systemctl restart keytrail
rc=$?
t1=$(date +%s%N)
fl_ok "$rc" "systemctl restart keytrail: the start succeeded"
fl_is "$(ct_exec systemctl is-active keytrail)" active "  the service is active"
fl_is "$(nrestarts)" "$before" "  systemd did not restart it (no start timeout)"
ms=$(((t1 - t0) / 1000000))
fl_ok "$([ "$ms" -gt 1000 ]; echo $?)" "  the replay took longer than the start timeout (${ms} ms > 1000 ms)"
ct_exec journalctl -q -u keytrail -o cat --no-pager | grep -q "Failed with result 'timeout'\|start operation timed out"
fl_ok "$([ $? != 0 ]; echo $?)" "  no start timeout in the journal"
n0=$(unknown_alerts)
fl_ct_ssh unknown longs $((20000 + RANDOM % 20000)) true
for _ in $(seq 300); do
        [ "$(unknown_alerts)" -gt "$n0" ] && break
        sleep 0.1
done
fl_ok "$([ "$(unknown_alerts)" -gt "$n0" ]; echo $?)" "a new login after the restart is alerted (unknown-key)"
if [ "$(unknown_alerts)" -le "$n0" ]; then
        fl_diag "keytrail's log:"
        ct_exec journalctl -q -u keytrail -o cat --no-pager | tail -n 20 | sed 's/^/#   /'
fi
fl_done
