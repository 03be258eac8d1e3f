# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Sourced by the follow tests: TAP helpers, a sd_notify listener, starting and stopping
# `keytrail follow` and waiting for what it tells systemd.

FL_N=0
FL_FAILED=0

fl_ok() {       # fl_ok COND-STATUS DESCRIPTION
        FL_N=$((FL_N + 1))
        if [ "$1" = 0 ]; then
                echo "ok $FL_N - $2"
        else
                echo "not ok $FL_N - $2"
                FL_FAILED=$((FL_FAILED + 1))
        fi
}

fl_diag() { printf '# %s\n' "$@"; }

fl_is() {       # fl_is GOT WANT DESCRIPTION
        if [ "$1" = "$2" ]; then
                fl_ok 0 "$3"
        else
                fl_ok 1 "$3"
                fl_diag "got:  $1" "want: $2"
        fi
}

fl_done() {
        echo "1..$FL_N"
        [ "$FL_FAILED" = 0 ]
}

# fl_scenario_base: base=(the options scan and follow take for the scenario journals of
# tests/journal: the rules, JSON, their accounts' authorized_keys)
fl_scenario_base() {
        local d=$FL_SRC/tests/journal
        base=(--rules "$FL_SRC/rules" --format json
              --authorized-keys "mirror:$d/mirror.authorized_keys"
              --authorized-keys "ops:$d/ops.authorized_keys"
              --authorized-keys "root:$d/root.authorized_keys")
}

# fl_notify_start DIR: a sd_notify listener; sets NOTIFY_SOCKET and FL_NOTIFY (the log file)
fl_notify_start() {
        FL_NOTIFY=$1/notify.log
        : >"$FL_NOTIFY"
        NOTIFY_SOCKET=$1/notify.sock
        export NOTIFY_SOCKET
        python3 "$FL_SRC/tests/follow/notify.py" "$NOTIFY_SOCKET" "$FL_NOTIFY" &
        FL_NOTIFY_PID=$!
        for _ in $(seq 100); do [ -S "$NOTIFY_SOCKET" ] && return 0; sleep 0.02; done
        return 1
}

fl_notify_stop() {
        [ -n "${FL_NOTIFY_PID:-}" ] || return 0
        rm -f "$NOTIFY_SOCKET"
        kill "$FL_NOTIFY_PID" 2>/dev/null
        wait "$FL_NOTIFY_PID" 2>/dev/null
        FL_NOTIFY_PID=
}

# fl_cleanup: the EXIT trap of the tests on scenario journals (trap fl_cleanup EXIT): the notify
# listener, a follow still running, the temporary folder (KEEP=1: kept)
fl_cleanup() {
        fl_notify_stop
        [ -n "${FL_PID:-}" ] && kill "$FL_PID" 2>/dev/null
        [ -n "${KEEP:-}" ] || rm -rf "$tmp"
}

# fl_wait_notify PATTERN [AFTER-LINES] [SECONDS]: wait for a notify message matching the ERE
# PATTERN among the lines after the first AFTER-LINES
fl_wait_notify() {
        local pat=$1 after=${2:-0} secs=${3:-30} i
        for ((i = 0; i < secs * 20; i++)); do
                tail -n +"$((after + 1))" "$FL_NOTIFY" | grep -qE "$pat" && return 0
                sleep 0.05
        done
        return 1
}

fl_notify_lines() { wc -l <"$FL_NOTIFY"; }

# fl_follow_start OUT-PREFIX ARGS...: start keytrail follow in the background (stdout to
# PREFIX.stdout, stderr to PREFIX.stderr, appended); sets FL_PID
fl_follow_start() {
        local prefix=$1
        shift
        "$FL_KEYTRAIL" follow "$@" >>"$prefix.stdout" 2>>"$prefix.stderr" &
        FL_PID=$!
}

# fl_follow_stop: SIGTERM, wait; FL_RC is the exit status (call it in the shell that started it)
fl_follow_stop() {
        kill -TERM "$FL_PID" 2>/dev/null
        wait "$FL_PID"
        FL_RC=$?
}

# The container tests (test-container*.sh), after FL_SRC is set:
# fl_ct_boot BUILD_DIR NAME: the test is skipped (TAP "1..0 # SKIP") unless run as root with
# systemd-nspawn and a build without sanitizers; tests/container/lib.sh's container is booted
# and BUILD_DIR installed into it (else "Bail out!"). Sets tmp (a folder /tmp/NAME.XXXXXX, removed
# on exit, after the container) and KT (keytrail's path inside).
fl_ct_boot() {
        local build=$1 name=$2
        [ "$(id -u)" = 0 ] || fl__skip_all "needs root (a booted container)"
        command -v systemd-nspawn >/dev/null ||
                fl__skip_all "no systemd-nspawn (package systemd-container)"
        ldd "$build/keytrail" | grep -q libasan &&
                fl__skip_all "a sanitizer build cannot run in the container"
        . "$FL_SRC/tests/container/lib.sh"
        tmp=$(mktemp -d "/tmp/$name.XXXXXX")
        trap 'rm -rf "$tmp"' EXIT
        ct_boot || { echo "Bail out! the container did not boot"; exit 1; }
        ct_install "$build" || { echo "Bail out! meson install into the container failed"; exit 1; }
        KT=$(ct_exec sh -c 'command -v keytrail')
}
fl__skip_all() { echo "1..0 # SKIP $*"; exit 0; }

# fl_ct_keys NAME...: for each NAME an ed25519 key pair /root/keys/NAME in the container (comment
# NAME@ct) and its fingerprint in FP[NAME]; /root/bindconnect.pl for fl_ct_ssh
fl_ct_keys() {
        local k
        declare -gA FP
        mkdir -p "$CT_ROOT/root/keys"
        for k in "$@"; do
                ssh-keygen -q -t ed25519 -N '' -C "$k@ct" -f "$CT_ROOT/root/keys/$k"
                FP[$k]=$(ssh-keygen -lf "$CT_ROOT/root/keys/$k.pub" | awk '{print $2}')
        done
        cp "$FL_SRC/tests/e2e/bindconnect.pl" "$CT_ROOT/root/bindconnect.pl"
}

# fl_ct_authorized_keys USER: standard input becomes USER's authorized_keys in the container,
# owned by USER, mode 600
fl_ct_authorized_keys() {
        cat >"$CT_ROOT/home/$1/.ssh/authorized_keys" &&
                ct_exec chown "$1:$1" "/home/$1/.ssh/authorized_keys" &&
                ct_exec chmod 600 "/home/$1/.ssh/authorized_keys"
}

# fl_ct_baseline: the keytrail system user (systemd-sysusers), then /var/lib/keytrail/baseline
# written by `keytrail baseline` in the container; its stderr in $tmp/baseline.err, its status
# returned
fl_ct_baseline() {
        ct_exec systemd-sysusers
        ct_exec mkdir -p /var/lib/keytrail
        ct_exec "$KT" baseline --output /var/lib/keytrail/baseline 2>"$tmp/baseline.err"
}

# fl_ct_quick_restarts: systemd restarts keytrail.service after 100 ms, without a start limit
# (a drop-in for the soaks; the hardening stays the unit's own)
fl_ct_quick_restarts() {
        mkdir -p "$CT_ROOT/etc/systemd/system/keytrail.service.d" &&
                printf '[Unit]\nStartLimitIntervalSec=0\n[Service]\nRestartSec=100ms\n' \
                        >"$CT_ROOT/etc/systemd/system/keytrail.service.d/50-test.conf" &&
                ct_exec systemctl daemon-reload
}

# fl_ct_ssh KEY USER PORT CMD: one login inside the container with /root/keys/KEY from
# 127.0.0.1:PORT (/root/bindconnect.pl, tests/e2e/bindconnect.pl), running CMD
fl_ct_ssh() {
        ct_exec timeout 30 ssh -F /dev/null -i "/root/keys/$1" -o BatchMode=yes \
                -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes \
                -o LogLevel=ERROR -o "ProxyCommand=perl /root/bindconnect.pl 127.0.0.1 $3 %h %p" \
                "$2@127.0.0.1" "$4" </dev/null >/dev/null 2>&1
}
