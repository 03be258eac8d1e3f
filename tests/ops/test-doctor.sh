#!/bin/bash
# SPDX-License-Identifier: MIT
# keytrail doctor in a booted Debian 12 container (tests/container/lib.sh: systemd as PID 1, a
# persistent journal, the stock ssh.service at LogLevel VERBOSE): with nothing wrong, then each
# fault introduced alone and undone (sshd at LogLevel INFO, volatile journal storage, an account
# outside the systemd-journal group, a stale baseline, a stopped unit, a broken rule, a missing
# baseline, a gate key without ExposeAuthInfo). Each time: the exit status, and the status of
# every check (the faulty one fails, every other one is as with nothing wrong), in JSON and text.
#   test-doctor.sh BUILD_DIR SOURCE_DIR          TAP on stdout
set -u
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
if [ "$(id -u)" != 0 ]; then
        echo "1..0 # SKIP needs root (a booted container)"
        exit 0
fi
for t in systemd-nspawn nsenter jq; do
        command -v "$t" >/dev/null || { echo "1..0 # SKIP $t is missing"; exit 0; }
done
. "$src/tests/container/lib.sh"

. "$src/tests/ops/tap-lib.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ops_container_with_keytrail "$build" "$src"

# a stand-in for keytrail's unit: a real service that the unit check asks systemd about
ct_exec systemd-run --quiet --unit=kt-doctor-test.service /bin/sleep infinity ||
        bail "systemd-run failed"
unit=(--unit kt-doctor-test.service)

user=ktdoc$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
ct_add_user "$user" || bail "ct_add_user failed"
ct_exec ssh-keygen -q -t ed25519 -N '' -C doc -f /root/k >/dev/null || bail "ssh-keygen"
ct_exec sh -c "cp /root/k.pub /home/$user/.ssh/authorized_keys && chown $user /home/$user/.ssh/authorized_keys"
# an entry from the account itself, so that its own journal file (user-UID.journal) exists
uid=$(ct_exec id -u "$user")
ct_exec setpriv --reuid "$uid" --regid "$uid" --clear-groups logger -t kt-doctor-test hello
ct_exec journalctl --flush >/dev/null 2>&1
ct_exec install -d -m 755 /var/lib/keytrail
ct_exec keytrail baseline --output /var/lib/keytrail/baseline 2>"$tmp/err" ||
        not_ok "keytrail baseline in the container" "$tmp/err"

# doctor [RUN-AS...]: the JSON report into $tmp/json, "check=status ..." into $tmp/st, exit in $rc
doctor() {
        ct_exec "$@" keytrail doctor --format json "${unit[@]}" >"$tmp/json" 2>"$tmp/err"
        rc=$?
        jq -r '"\(.check)=\(.status)"' "$tmp/json" 2>/dev/null | sort | tr '\n' ' ' >"$tmp/st"
}
# expect TITLE RC CHECK[=STATUS]...: exit status RC, each CHECK fails (or has STATUS), the others
# are as in $base
expect() {
        local title=$1 want_rc=$2 want c
        shift 2
        want=$base
        for c in "$@"; do
                case $c in *=*) ;; *) c=$c=fail ;; esac
                want=$(printf '%s' "$want" | sed -E "s/(^| )${c%%=*}=[a-z]+/\1$c/")
        done
        if [ "$rc" = "$want_rc" ] && [ "$(cat "$tmp/st")" = "$want" ]; then
                ok "$title"
        else
                echo "exit $rc, want $want_rc" >"$tmp/why"
                printf 'got:  %s\nwant: %s\n' "$(cat "$tmp/st")" "$want" >>"$tmp/why"
                not_ok "$title" "$tmp/why" "$tmp/json" "$tmp/err"
        fi
}

# ---- nothing wrong -------------------------------------------------------------------------------
doctor
base="expose-auth-info=ok gate-candidates=ok journal-access=ok journal-storage=ok rules=ok sshd-loglevel=ok unit=ok baseline=ok "
base=$(printf '%s\n' $base | sort | tr '\n' ' ')
expect "nothing wrong: every check ok, exit 0" 0
if [ "$(jq -s 'length' "$tmp/json")" = 8 ] && jq -s -e 'map(select(.status == "ok") | .fix == null) | all' "$tmp/json" >/dev/null &&
        jq -s -e 'map(select(.check == "sshd-loglevel"))[0] | .message == "sshd logs at LogLevel VERBOSE"' "$tmp/json" >/dev/null; then
        ok "eight JSON objects, no fix when ok, the LogLevel named"
else not_ok "the JSON report" "$tmp/json"; fi
ct_exec keytrail doctor "${unit[@]}" >"$tmp/text" 2>"$tmp/err"
if [ $? = 0 ] && [ "$(wc -l <"$tmp/text")" = 8 ] && ! grep -qv '^ok   [a-z-]*: ' "$tmp/text"; then
        ok "text: one line per check, 'ok   CHECK: ...'"
else not_ok "text report" "$tmp/text" "$tmp/err"; fi

# ---- LogLevel INFO (an earlier sshd_config.d file wins) -----------------------------------------
ct_exec sh -c 'echo "LogLevel INFO" > /etc/ssh/sshd_config.d/10-fault.conf'
doctor
expect "sshd at LogLevel INFO: sshd-loglevel fails, exit 1" 1 sshd-loglevel
jq -s -e 'map(select(.check == "sshd-loglevel"))[0] | (.message | test("LogLevel INFO, below VERBOSE")) and (.fix | test("LogLevel VERBOSE"))' \
        "$tmp/json" >/dev/null && ok "it names the level and the fix" || not_ok "LogLevel message" "$tmp/json"
ct_exec rm /etc/ssh/sshd_config.d/10-fault.conf

# ---- volatile journal storage ----------------------------------------------------------------------
ct_exec sh -c 'printf "[Journal]\nStorage=volatile\n" > /etc/systemd/journald.conf.d/90-fault.conf'
doctor
expect "Storage=volatile: journal-storage fails, exit 1" 1 journal-storage
jq -s -e 'map(select(.check == "journal-storage"))[0] | .message | test("volatile \\(Storage=volatile\\).*lost at every reboot")' \
        "$tmp/json" >/dev/null && ok "it says the history is lost at reboot" || not_ok "storage message" "$tmp/json"
ct_exec rm /etc/systemd/journald.conf.d/90-fault.conf

# ---- an account outside the systemd-journal group ---------------------------------------------------
gid=$(ct_exec id -g "$user")
ct_exec chmod 755 "/home/$user"
doctor setpriv --reuid "$uid" --regid "$gid" --clear-groups
# not root: sshd -T and the live files are out of reach (warn), the journal is the failure
base_user=$(printf '%s' "$base" | sed -E 's/sshd-loglevel=ok/sshd-loglevel=warn/; s/baseline=ok/baseline=warn/')
saved=$base base=$base_user
expect "no journal group: journal-access fails, exit 1 (sshd -T and the live files: warn)" 1 journal-access
jq -s -e 'map(select(.check == "journal-access"))[0] | (.message | test("cannot read [0-9]+ of [0-9]+ journal files \\([1-9][0-9]* system")) and (.fix | test("systemd-journal"))' \
        "$tmp/json" >/dev/null && ok "it counts the unreadable files and names the group" || not_ok "access message" "$tmp/json"
jgid=$(ct_exec getent group systemd-journal | cut -d: -f3)
doctor setpriv --reuid "$uid" --regid "$gid" --groups "$jgid"
expect "in the systemd-journal group: journal-access ok, exit 0" 0
base=$saved

# ---- a stale baseline ----------------------------------------------------------------------------------
ct_exec ssh-keygen -q -t ed25519 -N '' -C new -f /root/k2 >/dev/null
ct_exec sh -c "cat /root/k2.pub >> /home/$user/.ssh/authorized_keys"
doctor
expect "a key added since the baseline: baseline fails (stale), exit 1" 1 baseline
fp=$(ct_exec ssh-keygen -lf /root/k2.pub | cut -d' ' -f2)
jq -s -e --arg fp "$fp" --arg u "$user" 'map(select(.check == "baseline"))[0] | ((.message | test("is stale: 1 key added, 0 removed")) and (.message | contains("added: " + $u + " /home/" + $u + "/.ssh/authorized_keys:2 " + $fp)) and (.fix | test("keytrail baseline --output")))' \
        "$tmp/json" >/dev/null && ok "it names the added key, FILE:LINE and fingerprint" || not_ok "stale message" "$tmp/json"
ct_exec sh -c "sed -i 's/^ssh-ed25519 \\(.*\\) doc\$/command=\"true\" ssh-ed25519 \\1 doc/' /home/$user/.ssh/authorized_keys"
doctor
expect "command= added to a key as well: still stale, and a gate candidate (warn)" 1 baseline gate-candidates=warn
jq -s -e 'map(select(.check == "baseline"))[0] | .message | test("1 key added, 0 removed, 1 with changed options")' "$tmp/json" >/dev/null &&
        ok "the changed options are counted" || not_ok "options changed" "$tmp/json"
jq -s -e 'map(select(.check == "gate-candidates"))[0] | .status == "warn"' "$tmp/json" >/dev/null &&
        ok "gate-candidates only warns" || not_ok "gate-candidates warns" "$tmp/json"
ct_exec keytrail baseline --output /var/lib/keytrail/baseline 2>/dev/null
doctor
base_gate=$(printf '%s' "$base" | sed -E 's/gate-candidates=ok/gate-candidates=warn/')
saved=$base base=$base_gate
expect "the baseline rewritten: ok again, exit 0 (a warning is not a failure)" 0

# ---- a key running keytrail-gate without ExposeAuthInfo --------------------------------------------------
ct_exec sh -c "sed -i 's/^command=\"true\"/command=\"\\/usr\\/bin\\/keytrail-gate --allow true\"/' /home/$user/.ssh/authorized_keys"
ct_exec keytrail baseline --output /var/lib/keytrail/baseline 2>/dev/null
base=$saved
doctor
expect "the gate used, ExposeAuthInfo no: expose-auth-info fails" 1 expose-auth-info
ct_exec sh -c 'echo "ExposeAuthInfo yes" > /etc/ssh/sshd_config.d/60-expose.conf'
doctor
expect "ExposeAuthInfo yes: ok, exit 0" 0

# ---- the unit stopped, a broken rule, no baseline ---------------------------------------------------------
ct_exec systemctl stop kt-doctor-test.service
doctor
expect "the unit stopped: unit fails" 1 unit
jq -s -e 'map(select(.check == "unit"))[0] | (.message | test("kt-doctor-test.service is inactive")) and (.fix | test("systemctl enable --now"))' \
        "$tmp/json" >/dev/null && ok "it says inactive and how to start it" || not_ok "unit message" "$tmp/json"
ct_exec systemd-run --quiet --unit=kt-doctor-test.service /bin/sleep infinity
ct_exec sh -c "echo 'bad.rule connection (unclosed' >> $rulesdir/zz-broken.rules"
doctor
expect "a broken rule: rules fails" 1 rules
jq -s -e --arg f "$rulesdir/zz-broken.rules" 'map(select(.check == "rules"))[0] | .message | startswith($f + ":1: ")' "$tmp/json" >/dev/null &&
        ok "it names FILE:LINE" || not_ok "rules FILE:LINE" "$tmp/json"
ct_exec rm "$rulesdir/zz-broken.rules"
ct_exec mv /var/lib/keytrail/baseline /var/lib/keytrail/baseline.off
doctor
expect "no baseline: baseline fails" 1 baseline
ct_exec mv /var/lib/keytrail/baseline.off /var/lib/keytrail/baseline
doctor
expect "everything undone: exit 0" 0

# ---- usage ----------------------------------------------------------------------------------------------
ct_exec keytrail doctor --format yaml >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc = 2 ] && grep -qx "keytrail: --format: 'yaml' is not text or json" "$tmp/err" &&
        ok "a bad --format: exit 2, one line" || not_ok "bad --format ($rc)" "$tmp/err"

tap_done
