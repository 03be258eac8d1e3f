#!/bin/bash
# SPDX-License-Identifier: MIT
# keytrail report over a journal directory of two machines, made by systemd-journal-remote as it
# collects them (tests/report/lib.sh two_hosts: the real sample, and a copy of it as another
# machine two hours later whose _HOSTNAME is hostile): one report, grouped by host, and the hostile
# name inert in text.      hosts.sh KEYTRAIL SOURCE_DIR      TAP on stdout
set -u
kt=$1 src=$2
. "$src/tests/report/lib.sh"
two_hosts "$tmp/remote" || exit 1
run=("$kt" report --directory "$tmp/remote" --rules "$src/rules" "${baseline[@]}")
"${run[@]}" --format json >"$tmp/report.json"
check "exit status 1" test "$?" = 1
check "sources: the directory" jq -e --arg d "$tmp/remote" '.sources == [$d]' "$tmp/report.json"
jcheck "both machines' entries, the time both cover" '.entries == 798 and
        .first_entry == "2026-11-27T04:23:43.264111Z" and .last_entry == "2026-11-27T06:24:11.118981Z"'
jcheck "totals: two hosts, each with the sample's keys, logins, sessions and alerts" '.totals |
        .hosts == 2 and .keys == 42 and .logins == 48 and .sessions == 48 and .alerts == 22'
jcheck "two hosts, sorted by name, each with its machine id" '[.hosts[] | .machine_id] ==
        ["0123456789abcdef0123456789abcdef", "3d1219c7c4c5404aaa1f6d2a48adfda4"]'
check "the hostile host name kept exactly (JSON escapes it)" \
        jq -e --arg h "$EVIL_HOST" '.hosts[0].host == $h and .hosts[1].host == "vm"' "$tmp/report.json"
jcheck "each host: its own entries, logins, sessions, refusals, alerts, keys" 'all(.hosts[];
        .entries == 399 and .logins == 24 and .sessions == 24 and .refused == 1 and .alerts == 11 and
        (.keys | length) == 21)'
jcheck "each host: its own time" '.hosts[0].first_entry == "2026-11-27T06:23:43.264111Z" and
        .hosts[1].first_entry == "2026-11-27T04:23:43.264111Z"'
jcheck "a key used on both hosts is listed under each, with what it did there" '[.hosts[] | .keys[] |
        select(.baseline.comment == "s01@kt-e2e-client") | {logins, sessions, first_seen}] ==
        [{logins: 3, sessions: 3, first_seen: "2026-11-27T06:23:43.871164Z"},
         {logins: 3, sessions: 3, first_seen: "2026-11-27T04:23:43.871164Z"}]'
jcheck "alerts: 22, each once (other boot ids: other ids)" '[.alerts[].id] | unique | length == 22'
jcheck "alerts: each carries its host" '[.alerts[] | .machine_id] | group_by(.) | map(length) == [11, 11]'
jcheck "timeline: both hosts, in time order" '(.timeline | length) == 120 and
        (.timeline | map(.time) == (map(.time) | sort)) and
        ([.timeline[] | .machine_id] | group_by(.) | map(length)) == [60, 60]'

"${run[@]}" --format text >"$tmp/report.txt"
check "text: exit status 1" test "$?" = 1
check "text: no ESC byte anywhere: the hostile name cannot drive the terminal" \
        python3 -c 'import sys; sys.exit(1 if b"\x1b" in open(sys.argv[1], "rb").read() else 0)' "$tmp/report.txt"
check "text: the hostile host, its escape shown" \
        grep -qxF "Host evil<img src=x onerror=alert(1)>\"'&\\u001b[31m" "$tmp/report.txt"
check "text: the other host" grep -qx 'Host vm' "$tmp/report.txt"
check "text: two host sections, 42 key sections" \
        test "$(grep -c '^Host ' "$tmp/report.txt")/$(grep -c '^Key k' "$tmp/report.txt")" = 2/42
check "text: every line fits 80 columns" python3 -c '
import sys
sys.exit(1 if any(len(l) > 80 for l in open(sys.argv[1], encoding="utf-8").read().split("\n")) else 0)' "$tmp/report.txt"
check "text: the timeline cuts the long host name to its column" \
        grep -qE '^  06:23:43\.871 evil<im\.\.\. login   ktdemopush   k1   127\.0\.0\.1$' "$tmp/report.txt"
done_tap
