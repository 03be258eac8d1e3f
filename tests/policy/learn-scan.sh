#!/bin/bash
# SPDX-License-Identifier: MIT
# keytrail learn -> policy -> scan on the bundled real sample (tests/data/e2e-openssh-9.2.export),
# from the journal and from its text: the learned policy parses, says what each key did, and
# raises nothing on the history it was learned from (only what no policy can silence: the
# history's source-refused, and in the journal its two forged entries); on a changed history it
# raises exactly the changes: a new address, another forced command, a new key, a key in another
# account, a shell where a forced command ran.
#
#   learn-scan.sh KEYTRAIL SOURCE_DIR
set -eu
keytrail=$1 src=$2
. "$src/tests/journal-lib.sh"
. "$src/tests/tap-lib.sh"
export TZ=UTC
rules=(--rules "$src/rules")
key='[.type, .user, (.source_port // "-" | tostring), (.session_id // "-" | tostring)] | join(" ")'

sample_text_log "$src" "$tmp/s.log"

# scan NAME WANT-RC ARGS...: the alerts as "type user port session", sorted, in $tmp/NAME
scan() {
        local name=$1 want=$2 rc
        shift 2
        set +e
        "$keytrail" scan "${rules[@]}" -o json "$@" >"$tmp/$name.json" 2>"$tmp/$name.err"
        rc=$?
        set -e
        check "$name: exit $want" '[ $rc = $want ]' || cat "$tmp/$name.err" >&2
        jq -r "$key" "$tmp/$name.json" | LC_ALL=C sort >"$tmp/$name"
}
same() { # NAME: $tmp/NAME equals stdin
        LC_ALL=C sort >"$tmp/$1.want"
        if diff -u "$tmp/$1.want" "$tmp/$1" >"$tmp/$1.diff"; then ok "$1: exactly the alerts wanted"
        else not_ok "$1: exactly the alerts wanted"; sed 's/^/# /' "$tmp/$1.diff"; fi
}

# From the journal.
"$keytrail" learn --file "$tmp/s.journal" "${rules[@]}" >"$tmp/j.policy" 2>"$tmp/learn.err"
check "learn: exit 0, nothing on stderr" '! [ -s "$tmp/learn.err" ]'
P=$tmp/j.policy
check "learn: a section per key (20) and per account (3)" \
        '[ $(grep -c "^\[key SHA256:" $P) = 20 ] && [ $(grep -c "^\[account ktdemo" $P) = 3 ]'
check "learn: the push key's three pushes, by meaning, with its account and source" \
        'grep -A9 "^\[key SHA256:BLns69n7Ioh2+KRK+tLzRotsomACSIjx7y0maV8dF0Q\]" $P | tr "\n" "|" |
         grep -qF "# ED25519, 3 logins from 2026-11-27T04:23:43.871164Z to 2026-11-27T04:23:44.716483Z|# label = |accounts = ktdemopush|# sessions: forced-command (3)|# ran 3 times|rsync = rsync --server -logDtpre.iLsfxCIvu --delete . /tmp/kt-e2e.JccAZQ/home/ktdemopush/backup01/|# logged in from: 127.0.0.1 (3)|from = 127.0.0.1|"'
check "learn: no commands for the admin key (command and shell sessions)" \
        'grep -A6 "^\[key SHA256:ZzYSn8o8ZTOXM3dBEUune6JuYnTZ1cObtISFVM94djs\]" $P | tr "\n" "|" |
         grep -qF "# sessions: command (2), shell (1)|# no commands proposed: 3 sessions were not a forced command|"'
check "learn: the forged session of the journal is not learned" \
        '! grep -A5 "^\[key SHA256:eh4Id9yV5BJBywpWAcIEtBZkJRC09u+yHzYdvy7Qz6s\]" $P | grep -q shell'
check "learn: each account lists its keys" \
        '[ "$(sed -n "/^\[account ktdemoadmin\]/,/^$/p" $P | grep -c "^keys = ")" = 1 ] &&
         [ "$(sed -n "/^\[account ktdemopush\]/,/^$/p" $P | grep -c "^keys = ")" = 17 ]'
scan journal 1 --file "$tmp/s.journal" --policy "$P"
same journal <<'WANT'
source-refused ktdemopush 23492 -
spoofed-entry ktdemopush 23505 -
spoofed-entry ktdemopush 23505 -
WANT
check "the policy alone: the accounts' authorized_keys are not read" \
        'grep -qx "keytrail: baseline: none: judging by --policy alone" "$tmp/journal.err"'

# From the text.
"$keytrail" learn --input "$tmp/s.log" "${rules[@]}" >"$tmp/t.policy" 2>"$tmp/learn.err"
check "learn --input: exit 0, nothing on stderr" '! [ -s "$tmp/learn.err" ]'
scan text 1 --input "$tmp/s.log" --policy "$tmp/t.policy"
same text <<'WANT'
source-refused ktdemopush 23492 -
WANT

# The changed history. Edits by the connection's monitor PID (from its "Connection from" line).
mon() { sed -n "s/.* sshd\[\([0-9]*\)\]: Connection from 127.0.0.1 port $1 .*/\1/p" "$tmp/s.log"; }
child() { sed -n "s/.* sshd\[$(mon "$1")\]: User child is on pid \([0-9]*\)$/\1/p" "$tmp/s.log"; }
NEW=SHA256:NewNewNewNewNewNewNewNewNewNewNewNewNewNewNew
sed -e "s/127\.0\.0\.1 port 23481\b/192.0.2.50 port 23481/" \
    -e "/sshd\[$(child 23482)\]: Starting session/s|backup01/'|backup66/'|" \
    -e "/sshd\[$(mon 23483)\]: Accepted /s|SHA256:BLns69n7Ioh2+KRK+tLzRotsomACSIjx7y0maV8dF0Q|$NEW|" \
    -e "/port 23484\b/s/\(for\|user\) ktdemopull from/\1 ktdemopush from/" \
    -e "/sshd\[$(child 23494)\]: Starting session/s/forced-command (key-option) '.*' for/shell for/" \
    "$tmp/s.log" >"$tmp/changed.log"
check "the changed history differs from the sample in five connections" \
        '[ $(diff "$tmp/s.log" "$tmp/changed.log" | grep -c "^>") -ge 5 ]'
scan changed 1 --input "$tmp/changed.log" --policy "$tmp/t.policy"
same changed <<'WANT'
command-mismatch ktdemopush 23482 0
source-refused ktdemopush 23492 -
unexpected-source ktdemopush 23481 -
unforced-session ktdemopush 23494 0
unknown-key ktdemopush 23483 -
unknown-key ktdemopush 23484 -
wrong-user ktdemopush 23484 -
WANT
check "changed: the messages name the policy's sections" \
        'jq -r "select(.type != \"source-refused\") | .message" "$tmp/changed.json" | grep -c "policy.s \[" | grep -qx 6'

tap_done
