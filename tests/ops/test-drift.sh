#!/bin/bash
# SPDX-License-Identifier: MIT
# baseline-drift in a booted Debian 12 container (tests/container/lib.sh): keytrail follow runs as
# a service with --baseline while the test edits authorized_keys files: a key's command= stripped,
# a key added, a key removed, a file that appears for an account that had none, a key's from=
# changed, a line moved. Each change is one alert (type, reason, account, fingerprint, location,
# old and new line), before any key is used, and only once; a move and a touch raise nothing.
#   test-drift.sh BUILD_DIR SOURCE_DIR          TAP on stdout
set -u
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
if [ "$(id -u)" != 0 ]; then
        echo "1..0 # SKIP needs root (a booted container)"
        exit 0
fi
for t in systemd-nspawn nsenter jq ssh-keygen; do
        command -v "$t" >/dev/null || { echo "1..0 # SKIP $t is missing"; exit 0; }
done
. "$src/tests/container/lib.sh"
. "$src/tests/ops/tap-lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ops_container_with_keytrail "$build" "$src"

a=ktda$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n') b=ktdb$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
ct_add_user "$a" && ct_add_user "$b" || bail "ct_add_user"
for k in k1 k2 k3 k4; do ssh-keygen -q -t ed25519 -N '' -C "$k" -f "$tmp/$k" || bail ssh-keygen; done
fp() { ssh-keygen -lf "$tmp/$1.pub" | cut -d' ' -f2; }
pub() { cat "$tmp/$1.pub"; }
akA=/home/$a/.ssh/authorized_keys akB=/home/$b/.ssh/authorized_keys
put() { # put ACCOUNT FILE CONTENT
        printf '%s' "$3" >"$CT_ROOT$2.tmp" && chown --reference="$CT_ROOT/home/$1/.ssh" "$CT_ROOT$2.tmp" &&
                mv "$CT_ROOT$2.tmp" "$CT_ROOT$2"
}
put "$a" "$akA" "command=\"rsync --server . /srv/a\",restrict $(pub k1)
from=\"10.0.0.0/8\" $(pub k2)
$(pub k3)
"
ct_exec install -d -m 755 /var/lib/kt
ct_exec keytrail baseline --output /var/lib/kt/baseline 2>/dev/null || bail "keytrail baseline"
ct_exec systemd-run --quiet --unit=kt-drift.service keytrail follow --baseline /var/lib/kt/baseline \
        --state-dir /var/lib/kt/state --output /var/lib/kt/alerts.ndjson || bail "systemd-run"

# wait_alerts N: until the alert file has N lines (10 s at most)
wait_alerts() {
        local i
        for ((i = 0; i < 100; i++)); do
                [ "$(ct_exec sh -c 'cat /var/lib/kt/alerts.ndjson 2>/dev/null' | grep -c .)" -ge "$1" ] && break
                sleep 0.1
        done
        ct_exec sh -c 'cat /var/lib/kt/alerts.ndjson 2>/dev/null' >"$tmp/alerts"
}
# last: the last alert as "reason user fingerprint location | expected | observed"
last() { tail -1 "$tmp/alerts" | jq -r '"\(.type) \(.reason) \(.user) \(.fingerprint) \(.key_location) | \(.expected_command) | \(.observed_command)"'; }
expect_last() { # expect_last TITLE N WANT
        wait_alerts "$2"
        local got
        got=$(last)
        if [ "$(grep -c . "$tmp/alerts")" = "$2" ] && [ "$got" = "$3" ]; then ok "$1"; else
                printf 'got:  %s\nwant: %s\n' "$got" "$3" >"$tmp/why"
                ct_exec journalctl -u kt-drift.service -n 10 --no-pager >>"$tmp/why" 2>&1
                not_ok "$1" "$tmp/why" "$tmp/alerts"
        fi
}

sleep 2
wait_alerts 1
[ ! -s "$tmp/alerts" ] && ok "no change: no alert" || not_ok "no change: no alert" "$tmp/alerts"

put "$a" "$akA" "restrict $(pub k1)
from=\"10.0.0.0/8\" $(pub k2)
$(pub k3)
"
expect_last "command= stripped: baseline-drift options-changed with the old and new line" 1 \
        "baseline-drift options-changed $a $(fp k1) $akA:1 | command=\"rsync --server . /srv/a\",restrict $(pub k1) | restrict $(pub k1)"
jq -e 'select(.type == "baseline-drift") | .severity == "high" and .provenance == "authorized_keys" and (.message | test("other options \\(command=\\)"))' \
        "$tmp/alerts" >/dev/null && ok "severity high, provenance authorized_keys, the message names command=" ||
        not_ok "alert fields" "$tmp/alerts"

put "$a" "$akA" "restrict $(pub k1)
from=\"10.0.0.0/8\" $(pub k2)
$(pub k3)
$(pub k4)
"
expect_last "a key added: one alert, the first change not repeated" 2 \
        "baseline-drift added $a $(fp k4) $akA:4 | null | $(pub k4)"

put "$a" "$akA" "restrict $(pub k1)
from=\"10.0.0.0/8\" $(pub k2)
$(pub k4)
"
expect_last "a key removed" 3 "baseline-drift removed $a $(fp k3) $akA:3 | $(pub k3) | null"

put "$b" "$akB" "$(pub k2)
"
expect_last "a file appears for an account that had none" 4 "baseline-drift added $b $(fp k2) $akB:1 | null | $(pub k2)"

put "$a" "$akA" "restrict $(pub k1)
from=\"192.168.0.0/16\" $(pub k2)
$(pub k4)
"
expect_last "from= changed" 5 \
        "baseline-drift options-changed $a $(fp k2) $akA:2 | from=\"10.0.0.0/8\" $(pub k2) | from=\"192.168.0.0/16\" $(pub k2)"

ct_exec touch "$akA"
put "$a" "$akA" "# a comment moves every line

restrict $(pub k1)
from=\"192.168.0.0/16\" $(pub k2)
$(pub k4)
"
sleep 2
wait_alerts 6
[ "$(grep -c . "$tmp/alerts")" = 5 ] && ok "a touch and lines moved: no new alert" || not_ok "move/touch" "$tmp/alerts"
ids=$(jq -r .id "$tmp/alerts" | sort -u | wc -l)
[ "$ids" = 5 ] && ok "five alerts, five ids" || not_ok "ids ($ids)" "$tmp/alerts"

# The changes accepted: a new baseline, SIGHUP; only what differs from it now is alerted.
ct_exec keytrail baseline --output /var/lib/kt/baseline 2>/dev/null || bail "keytrail baseline"
ct_exec systemctl kill -s HUP kt-drift.service
sleep 1
put "$a" "$akA" "# a comment moves every line

restrict $(pub k1)
from=\"192.168.0.0/16\" $(pub k2)
$(pub k4)
$(pub k3)
"
expect_last "after SIGHUP, judged by the new baseline: k3 added again, nothing else" 6 \
        "baseline-drift added $a $(fp k3) $akA:6 | null | $(pub k3)"

tap_done
