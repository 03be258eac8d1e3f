#!/bin/bash
# SPDX-License-Identifier: MIT
# keytrail report over the bundled real sample (tests/data/e2e-openssh-9.2.export, one run of the
# e2e bed's 13 scenarios), checked field by field: the JSON document (every field of the schema in
# docs/report.md), the text report (its numbers, its layout at 80 columns), the exit statuses and
# the progress line (only on a terminal).      sample.sh KEYTRAIL SOURCE_DIR      TAP on stdout
set -u
kt=$1 src=$2
. "$src/tests/report/lib.sh"
journal_from_export "$data/e2e-openssh-9.2.export" "$tmp/s.journal"
run=("$kt" report --file "$tmp/s.journal" --rules "$src/rules" "${baseline[@]}")

"${run[@]}" --format json >"$tmp/report.json" 2>"$tmp/err"
rc=$?
check "json: exit status 1 (alerts in the report)" test "$rc" = 1
check "json: nothing on stderr when it is not a terminal" test ! -s "$tmp/err"
check "json: one document" jq -e 'type == "object"' "$tmp/report.json"

# ---- the document's header ------------------------------------------------------------------
jcheck "report_version 1, generator" '.report_version == 1 and (.generator | test("^keytrail [0-9]"))'
check "sources: the file read" jq -e --arg f "$tmp/s.journal" '.sources == [$f]' "$tmp/report.json"
jcheck "since/until: null when not asked" '.since == null and .until == null'
jcheck "entries: the 399 entries of the sample" '.entries == 399'
jcheck "first/last entry: the sample's first and last" \
        '.first_entry == "2026-11-27T04:23:43.264111Z" and .last_entry == "2026-11-27T04:24:11.118981Z"'
jcheck "trusted_fields: a journal has them" '.trusted_fields == true and .unattested_entries == 0'
jcheck "nothing overflowed" '.hosts_more == 0 and .keys_more == 0 and .alerts_more == 0 and .timeline_more == 0'
jcheck "totals" '.totals | .hosts == 1 and .keys == 21 and .logins == 24 and .sessions == 24 and .alerts == 11'
jcheck "totals.alerts_by_type: the scenarios' alerts" '.totals.alerts_by_type == {"unforced-session": 4,
        "command-mismatch": 1, "unknown-key": 1, "no-session": 1, "source-refused": 1, "wrong-user": 1,
        "spoofed-entry": 2}'

# ---- the host --------------------------------------------------------------------------------
jcheck "one host: vm, its machine id" \
        '.hosts | length == 1 and .[0].host == "vm" and .[0].machine_id == "3d1219c7c4c5404aaa1f6d2a48adfda4"'
jcheck "host: entries and time covered" '.hosts[0] | .entries == 399 and
        .first_entry == "2026-11-27T04:23:43.264111Z" and .last_entry == "2026-11-27T04:24:11.118981Z"'
jcheck "host: logins, sessions, refusals, alerts" '.hosts[0] | .logins == 24 and .keyless_logins == 0
        and .sessions == 24 and .refused == 1 and .alerts == 11'
jcheck "host: 21 keys, in order of first use" '.hosts[0].keys | length == 21 and
        (map(.first_seen) == (map(.first_seen) | sort))'

# ---- every key: what it did, by its baseline comment (stable across recordings) ------------------
# One line per key: what it did, by its baseline comment.
keyrow='.hosts[0].keys[] | [(.baseline.comment // "-" | sub("@kt-e2e-client$"; "")), .logins, .sessions,
        .refused, (.accounts | map("\(.account):\(.count)") | join(",")),
        (.commands | map("\(.session_type):\(.count)") | join(",") | if . == "" then "-" else . end),
        (.sources | map("\(.address):\(.count)") | join(",") | if . == "" then "-" else . end),
        (.alerts | map(.type) | join(",") | if . == "" then "-" else . end)] | join(" ")'
jq -r "$keyrow" "$tmp/report.json" >"$tmp/keys.got"
# Scenarios (tests/data/README.md): 1 three pushes; 2 a pull; 3 admin: two commands and a shell;
# 4 the stripped command=; 5 a pull key swapped to push; 6 a key in no baseline; 7 ssh -N; 8 from=
# refused; 9 the pull account's key into push; 10 nine concurrent, one (x) not forced; 11 two
# multiplexed commands; 12 sftp asked, rsync forced; 13 a normal push beside the forged lines.
cat >"$tmp/keys.want" <<'WANT'
s01 3 3 0 ktdemopush:3 forced-command:3 127.0.0.1:3 -
s02 1 1 0 ktdemopull:1 forced-command:1 127.0.0.1:1 -
s03 3 3 0 ktdemoadmin:3 command:2,shell:1 127.0.0.1:3 -
s04 1 1 0 ktdemopush:1 command:1 127.0.0.1:1 unforced-session
s05 1 1 0 ktdemopull:1 forced-command:1 127.0.0.1:1 command-mismatch
- 1 1 0 ktdemopush:1 command:1 127.0.0.1:1 unknown-key
s07 1 0 0 ktdemopush:1 - 127.0.0.1:1 no-session
s08 0 0 1 ktdemopush:1 - 127.0.0.2:1 source-refused
s09 1 1 0 ktdemopush:1 forced-command:1 127.0.0.1:1 wrong-user
WANT
for c in a b c d e f g h; do echo "s10$c 1 1 0 ktdemopush:1 forced-command:1 127.0.0.1:1 -"; done >"$tmp/s10"
echo "s10x 1 1 0 ktdemopush:1 command:1 127.0.0.1:1 unforced-session" >>"$tmp/s10"
cat >>"$tmp/keys.want" <<'WANT'
s11 1 2 0 ktdemopush:1 command:2 127.0.0.1:1 unforced-session,unforced-session
s12 1 1 0 ktdemopush:1 forced-command:1 127.0.0.1:1 -
s13 1 1 0 ktdemopush:1 forced-command:1 127.0.0.1:1 -
WANT
# The nine concurrent logins interleave: compare as sets, the order of first use is checked above.
check "every key: logins, sessions, refusals, accounts, session types, sources, alerts" \
        diff -u <(cat "$tmp/keys.want" "$tmp/s10" | LC_ALL=C sort) <(LC_ALL=C sort "$tmp/keys.got")

key() { echo ".hosts[0].keys[] | select(.baseline.comment == \"$1@kt-e2e-client\")"; }
jcheck "key s01: fingerprint, key type, no CA" "$(key s01) | (.fingerprint | test(\"^SHA256:[A-Za-z0-9+/]{43}$\"))
        and .key_type == \"ED25519\" and .ca_fingerprint == null"
jcheck "key s01: its baseline entry, every field" "$(key s01) | .baseline | .account == \"ktdemopush\" and
        .bound_elsewhere == false and .comment == \"s01@kt-e2e-client\" and .from == null and
        .restrict == false and .cert_authority == false and
        (.location | endswith(\"tests/data/sample-authorized_keys-push:1\")) and
        (.command | test(\"^rsync --server -logDtpre.iLsfxCIvu --delete . /tmp/kt-e2e.[^/]+/home/ktdemopush/backup01/$\"))"
jcheck "key s01: the forced command sshd logged is the baseline's, three times, not cut" \
        "$(key s01) | .commands == [{session_type: \"forced-command\", command: .baseline.command, cut: false, count: 3}]"
jcheck "key s01: first and last seen: its first login, its last disconnect" "$(key s01) |
        .first_seen == \"2026-11-27T04:23:43.871164Z\" and .last_seen == \"2026-11-27T04:23:44.892590Z\""
jcheck "key s01: nothing overflowed, no alert" "$(key s01) | .accounts_more == 0 and .sources_more == 0 and
        .commands_more == 0 and .alerts_more == 0 and .alerts == [] and .alerts_by_type == {}"
jcheck "key s02: restrict in its baseline" "$(key s02) | .baseline.restrict == true"
jcheck "key s03: an admin key without command=" "$(key s03) | .baseline.command == null and
        .commands == [{session_type: \"command\", command: null, cut: false, count: 2},
                      {session_type: \"shell\", command: null, cut: false, count: 1}]"
jcheck "key s05: the swapped command is listed as sshd ran it" "$(key s05) |
        (.commands[0].command | test(\"--delete . /tmp/kt-e2e.[^/]+/home/ktdemopull/mirror05/$\")) and
        (.baseline.command | test(\"--sender\"))"
jcheck "key s05: its alert, by id, type, severity and time" "[$(key s05) | .alerts[]] as \$a |
        (\$a | length) == 1 and \$a[0].type == \"command-mismatch\" and \$a[0].severity == \"high\" and
        \$a[0].time == \"2026-11-27T04:23:50.891540Z\" and
        ([.alerts[] | select(.id == \$a[0].id and .type == \"command-mismatch\")] | length == 1)"
jcheck "key s08: from= in its baseline, the refused address" "$(key s08) | .baseline.from == \"127.0.0.1\"
        and .sources == [{address: \"127.0.0.2\", count: 1}]"
jcheck "key s09: bound to ktdemopull, used by ktdemopush" "$(key s09) | .baseline.account == \"ktdemopull\"
        and .baseline.bound_elsewhere == true and .accounts == [{account: \"ktdemopush\", count: 1}]"
jcheck "key s11: two alerts listed, counted by type" "$(key s11) | (.alerts | length) == 2 and
        .alerts_by_type == {\"unforced-session\": 2}"
jcheck "the unknown key: no baseline, its alert" '.hosts[0].keys[] | select(.baseline == null) |
        .alerts_by_type == {"unknown-key": 1} and .key_type == "ED25519"'
jcheck "every key: each alert it lists is in .alerts with its fingerprint" '[.alerts[] | {id, fingerprint}] as $all |
        all(.hosts[0].keys[]; .fingerprint as $f | all(.alerts[]; {id, fingerprint: $f} as $x | $all | index([$x]) != null))'
jcheck "the forged lines: two alerts, listed under no key (a forged key claim is not credited)" '[.alerts[] | select(.type == "spoofed-entry") | .id] as $s |
        ($s | length) == 2 and all(.hosts[0].keys[].alerts[]; (.id as $i | $s | index($i)) == null)'

# ---- every alert: exactly what keytrail scan says over the same journal -----------------------
"$kt" scan --file "$tmp/s.journal" --rules "$src/rules" "${baseline[@]}" --format json >"$tmp/scan.ndjson"
check "alerts: the same as keytrail scan's, field by field" \
        diff -u <(jq -S -s 'sort_by(.id)' "$tmp/scan.ndjson") <(jq -S '.alerts | sort_by(.id)' "$tmp/report.json")
jcheck "alerts: in log order" '.alerts | map(.time) == (map(.time) | sort)'

# ---- the timeline ----------------------------------------------------------------------------
jcheck "timeline: 24 logins, 24 sessions, 1 refusal, 11 alerts" '.timeline | group_by(.event) |
        map({(.[0].event): length}) | add == {"login": 24, "session": 24, "refused": 1, "alert": 11}'
jcheck "timeline: in time order" '.timeline | map(.time) == (map(.time) | sort)'
jcheck "timeline: every event has its host, machine id and the fields of its kind" 'all(.timeline[];
        .host == "vm" and .machine_id == "3d1219c7c4c5404aaa1f6d2a48adfda4" and
        (if .event == "session" then .session_type != null and .session_id != null and .fingerprint != null
         elif .event == "alert" then .alert_type != null and .alert_id != null
         else .alert_type == null and .alert_id == null and .session_type == null end))'
jcheck "timeline: each key's sessions, as many as in the key's table" '. as $d | [.hosts[0].keys[] |
        {key: .fingerprint, value: .sessions}] | from_entries as $k | [$d.timeline[] | select(.event == "session")] |
        group_by(.fingerprint) | map({key: .[0].fingerprint, value: length}) | from_entries |
        . as $t | $k | with_entries(select(.value > 0)) == $t'
jcheck "timeline: a multiplexed connection's two sessions, ids 0 and 1" "($(key s11) | .fingerprint) as \$f |
        [.timeline[] | select(.event == \"session\" and .fingerprint == \$f) | .session_id] == [0, 1]"
jcheck "timeline: every alert event names an alert of .alerts" '[.alerts[].id] as $ids |
        all(.timeline[] | select(.event == "alert"); .alert_id as $i | $ids | index($i) != null)'
jcheck "timeline: a forced session carries its command" "($(key s02) | .fingerprint) as \$f |
        [.timeline[] | select(.event == \"session\" and .fingerprint == \$f)] | length == 1 and (.[0] | .session_type == \"forced-command\" and
        (.command | test(\"^rsync --server --sender \")) and .user == \"ktdemopull\" and .source_ip == \"127.0.0.1\")"

# ---- --since/--until: a range asked for is said, and bounds the report -------------------------
"${run[@]}" --format json --since "2026-11-27 04:23:48 UTC" --until "2026-11-27 04:23:52 UTC" >"$tmp/range.json"
jcheck "--since/--until: said in the report" '.since == "2026-11-27T04:23:48.000000Z" and
        .until == "2026-11-27T04:23:52.000000Z"' "$tmp/range.json"
jcheck "--since/--until: only the keys used in the range" '[.hosts[0].keys[].baseline.comment] ==
        ["s04@kt-e2e-client", "s05@kt-e2e-client"] and .totals.alerts == 2' "$tmp/range.json"

# ---- text logs: the same run as journalctl -o short-iso prints it (--input) ---------------------
TZ=UTC journalctl --file "$tmp/s.journal" -o short-iso >"$tmp/s.log"
TZ=UTC "$kt" report --input "$tmp/s.log" --rules "$src/rules" "${baseline[@]}" --format json >"$tmp/text.json"
check "--input: exit status 1" test "$?" = 1
TZ=UTC "$kt" scan --input "$tmp/s.log" --rules "$src/rules" "${baseline[@]}" --format json >"$tmp/text-scan.ndjson"
check "--input: the alerts are keytrail scan's over the same text, field by field (FILE:LINE evidence)" \
        diff -u <(jq -S -s 'sort_by(.id)' "$tmp/text-scan.ndjson") <(jq -S '.alerts | sort_by(.id)' "$tmp/text.json")
jcheck "--input: no trusted fields, said for every entry" '.trusted_fields == false and .entries == 399 and
        .unattested_entries == 399' "$tmp/text.json"
check "--input: the source is the text log" jq -e --arg f "$tmp/s.log" '.sources == [$f]' "$tmp/text.json"
jcheck "--input: the host by its name (text has no machine id), time to the second" '.hosts[0] |
        .host == "vm" and .machine_id == "vm" and .first_entry == "2026-11-27T04:23:43.000000Z"' "$tmp/text.json"
jcheck "--input: alerts carry provenance text" '[.alerts[].provenance] | unique == ["text"]' "$tmp/text.json"
# Every key as the journal's report, but the forged lines of scenario 13: in text nothing tells
# them from sshd's, so the forged login and shell session count (docs/text-logs.md).
jq -r "$keyrow" "$tmp/text.json" | LC_ALL=C sort >"$tmp/text-keys.got"
{ grep -v '^s13 ' "$tmp/keys.want"; cat "$tmp/s10"; grep '^s1[12] ' "$tmp/keys.want"
  echo "s13 2 2 0 ktdemopush:2 forced-command:1,shell:1 127.0.0.1:2 unforced-session"; } |
        LC_ALL=C sort -u >"$tmp/text-keys.want"
check "--input: every key as in the journal's report, the forged login and session counted" \
        diff -u "$tmp/text-keys.want" "$tmp/text-keys.got"
TZ=UTC "$kt" report --input "$tmp/s.log" --rules "$src/rules" "${baseline[@]}" --format text >"$tmp/text.txt"
check "--input: the text report says there are no trusted fields" \
        grep -qx '  trust         text logs carry no trusted fields: which program wrote a line is' "$tmp/text.txt"
TZ=UTC "$kt" report --input "$tmp/s.log" --rules "$src/rules" "${baseline[@]}" --format html >"$tmp/text.html"
check "--input: the HTML report says so too" grep -q '<p class="untrusted">Text logs carry no trusted fields' "$tmp/text.html"
check "the journal's HTML report does not" bash -c "! \"\$0\" report --file '$tmp/s.journal' --rules '$src/rules' --format html | grep -q 'class=\"untrusted\"'" "$kt"

# ---- --policy: its alerts are in the report, under their key ---------------------------------
cat >"$tmp/admin.policy" <<'POL'
[account ktdemoadmin]
label = admins
from = 10.0.0.0/8 2001:db8::/32
command = uptime
POL
"${run[@]}" --policy "$tmp/admin.policy" --format json >"$tmp/policy.json"
check "--policy: exit status 1" test "$?" = 1
"$kt" scan --file "$tmp/s.journal" --rules "$src/rules" "${baseline[@]}" --policy "$tmp/admin.policy" \
        --format json >"$tmp/policy-scan.ndjson"
check "--policy: the alerts are keytrail scan's with the same policy, field by field" \
        diff -u <(jq -S -s 'sort_by(.id)' "$tmp/policy-scan.ndjson") <(jq -S '.alerts | sort_by(.id)' "$tmp/policy.json")
jcheck "--policy: the admin key's three logins from outside, its three sessions not the policy's" \
        "$(key s03) | .alerts_by_type == {\"unexpected-source\": 3, \"unforced-session\": 3}" "$tmp/policy.json"
jcheck "--policy: totals" '.totals.alerts == 17 and .totals.alerts_by_type["unexpected-source"] == 3' "$tmp/policy.json"

# ---- what a client asked for: keytrail-gate's records (tests/journal/command-rejected) -----------
journal_from_export "$src/tests/journal/command-rejected.export" "$tmp/gate.journal"
gate=("$kt" report --file "$tmp/gate.journal" --rules "$src/rules"
      --authorized-keys "mirror:$src/tests/journal/mirror.authorized_keys")
"${gate[@]}" --format json >"$tmp/gate.json"
jcheck "gate: the key behind keytrail-gate, its forced command and what the client asked for" \
        '.hosts[0].keys[] | select(.fingerprint == "SHA256:92LwVgzlAwFyB3qpSNlLiIutQACqIQ5Y8fLo74HIj+M") |
        .commands == [{session_type: "forced-command", command: "/usr/bin/keytrail-gate --rsync-dir /srv/mirror --write-only",
                       cut: false, count: 2}] and
        .requested == [{command: "rsync --server -vlogDtprze.iLsfxCIvu --delete . /srv/mirror", count: 1}] and
        .requested_more == 0 and .alerts_by_type == {"command-rejected": 2}' "$tmp/gate.json"
jcheck "gate: keys behind other wrappers: nothing asked for is known" \
        '[.hosts[0].keys[] | select(.requested == [])] | length == 2' "$tmp/gate.json"
"${gate[@]}" --format text >"$tmp/gate.txt"
check "gate: the text report says what was asked for" \
        grep -qxF "  asked for     1x 'rsync --server -vlogDtprze.iLsfxCIvu --delete . /srv/mirror'" "$tmp/gate.txt"
"${gate[@]}" --format html >"$tmp/gate.html"
check "gate: the HTML report too" grep -qF '<th>Asked for</th><td><table class="list"><tr><td class="n">1</td><td><code>rsync --server -vlogDtprze.iLsfxCIvu --delete . /srv/mirror</code>' "$tmp/gate.html"

# ---- the text report ------------------------------------------------------------------------
"${run[@]}" --format text >"$tmp/report.txt" 2>"$tmp/err"
rc=$?
check "text: exit status 1, nothing on stderr" test "$rc" = 1 -a ! -s "$tmp/err"
check "text: every line fits 80 columns" python3 -c '
import sys
bad = [l for l in open(sys.argv[1], encoding="utf-8").read().split("\n") if len(l) > 80]
print("\n".join(bad)); sys.exit(1 if bad else 0)' "$tmp/report.txt"
check "text: no control character but newlines" python3 -c '
import sys
t = open(sys.argv[1], "rb").read()
sys.exit(1 if any(b < 0x20 and b != 0x0a or b == 0x7f for b in t) else 0)' "$tmp/report.txt"
check "text: the totals line" grep -qx '  totals        1 host, 21 keys, 24 logins, 24 sessions, 11 alerts' "$tmp/report.txt"
check "text: the alerts by type" grep -qx '  alerts        4 unforced-session, 1 command-mismatch, 1 unknown-key, 1' "$tmp/report.txt"
check "text: the host, its machine id" grep -qx '  machine       3d1219c7c4c5404aaa1f6d2a48adfda4' "$tmp/report.txt"
check "text: the host's numbers" grep -qx '  logins        24 (0 without a key), sessions 24, refused 1' "$tmp/report.txt"
check "text: 21 key sections, numbered" test "$(grep -cE '^Key k([1-9]|1[0-9]|2[01]): SHA256:[A-Za-z0-9+/]{43} \(ED25519\)$' "$tmp/report.txt")" = 21
check "text: the refused key's numbers" grep -qx '  logins        0, sessions 0, refused 1' "$tmp/report.txt"
check "text: a key bound to another account says so" grep -qx '  baseline      account ktdemopull (not the one used)' "$tmp/report.txt"
check "text: a key not in the baseline says so" grep -qx '  baseline      not in the baseline' "$tmp/report.txt"
check "text: the admin key's sessions" grep -qxE '  ran           2x command' "$tmp/report.txt"
check "text: 11 alerts listed" grep -qx 'Alerts (11)' "$tmp/report.txt"
check "text: each alert with its id" test "$(grep -cE '^  id            [0-9a-f]{32}$' "$tmp/report.txt")" = 11
check "text: the timeline, 60 events" test "$(grep -cE '^  [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} vm ' "$tmp/report.txt")" = 60
check "text: the timeline's alerts" test "$(grep -cE '^  [0-9:.]{12} vm +ALERT ' "$tmp/report.txt")" = 11
check "text: a timeline line names the key by its number" grep -qE '^  04:23:57\.239 vm +refused ktdemopush +k8 +127\.0\.0\.2$' "$tmp/report.txt"

# ---- exit statuses, formats, progress --------------------------------------------------------
"$kt" report --file "$tmp/s.journal" --rules "$src/rules" --format json \
        --authorized-keys "ktdemonobody:$data/sample-authorized_keys-other" --until "2026-11-27 04:23:45 UTC" >"$tmp/quiet.json"
rc=$?
jcheck "no alert: exit status 0, still a report" '.totals.alerts == 0 and .totals.logins == 3' "$tmp/quiet.json"
check "no alert: exit status 0" test "$rc" = 0
"$kt" report --file "$tmp/s.journal" --format pdf >"$tmp/out" 2>"$tmp/err"
rc=$?
check "--format pdf: exit status 2, one line naming the flag" \
        test "$rc" = 2 -a "$(cat "$tmp/err")" = "keytrail: --format: 'pdf' is not text, json or html"
"$kt" report --file "$tmp/nonexistent.journal" --format json >"$tmp/out" 2>"$tmp/err"
check "an unreadable journal: exit status 2" test "$?" = 2
"$kt" report --help >"$tmp/out"
check "--help names the formats" grep -q 'text|json|html' "$tmp/out"
# stdout and stderr on a terminal (script(1) gives a pty): the text format by default, and a
# progress line, cleared at the end.
script -qec "$(printf '%q ' "${run[@]}")" /dev/null </dev/null >"$tmp/tty" 2>&1
check "on a terminal: text by default" grep -q 'keytrail report (keytrail' "$tmp/tty"
check "on a terminal: progress on stderr (entries, time covered, rate), then cleared" \
        grep -qaE $'keytrail: 399 entries, 2026-11-27T04:23:43 to 2026-11-27T04:24:11, [0-9]+ entries/s\e\\[K\r\e\\[K' "$tmp/tty"
done_tap
