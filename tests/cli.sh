#!/bin/bash
# SPDX-License-Identifier: MIT
# keytrail's command line and its errors, as a user meets them: each bad input (flag, time, rule
# file, authorized_keys line, journal file) gives exit status 2 and one line on stderr that names
# the flag or FILE:LINE; alerts found before a corrupt part of a journal stay written.
#   cli.sh KEYTRAIL SOURCE_DIR          TAP on stdout
set -u
kt=$1 src=$2
. "$src/tests/journal-lib.sh"
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; sed 's/^/# /' "$tmp/err" "$tmp/out" 2>/dev/null | head -20; }

# expect STATUS STDERR_REGEX TITLE -- ARGS...: exit status and a one-line stderr matching the regex
expect() {
        local want=$1 re=$2 title=$3 rc
        shift 4
        "$kt" "$@" >"$tmp/out" 2>"$tmp/err"
        rc=$?
        if [ "$rc" != "$want" ]; then
                echo "# exit status $rc, want $want" >"$tmp/why"
                cat "$tmp/why" >>"$tmp/err"
                not_ok "$title"
        elif [ -n "$re" ] && ! { [ "$(grep -c . "$tmp/err")" = 1 ] && grep -Eq -- "$re" "$tmp/err"; }; then
                not_ok "$title (stderr must be one line matching /$re/)"
        else
                ok "$title"
        fi
}

base=(--rules "$src/rules" --authorized-keys "mirror:$src/tests/journal/mirror.authorized_keys")
journal_from_export "$src/tests/journal/multiplexed.export" "$tmp/j.journal"

expect 0 "" "--help exits 0" -- --help
grep -q "^  scan " "$tmp/out" && ok "--help lists the commands" || not_ok "--help lists the commands"
expect 0 "" "scan --help exits 0" -- scan --help
grep -q "Usage: keytrail scan" "$tmp/out" && grep -q -- "--authorized-keys" "$tmp/out" &&
        ok "scan --help shows its usage and options" || not_ok "scan --help shows its usage and options"
expect 0 "" "--version exits 0" -- --version
grep -Eq "^keytrail [0-9]+\.[0-9]+" "$tmp/out" && ok "--version prints it" || not_ok "--version prints it"
expect 2 "missing command" "no command" --
expect 2 "unknown command 'scna'" "unknown command" -- scna
expect 2 "unknown option '--frobnicate'" "unknown flag named" -- scan --frobnicate
expect 2 "option '--since' needs a value" "flag without its value" -- scan --since
expect 2 "--since: cannot parse time 'next tuesday'" "bad --since" -- scan --since "next tuesday"
expect 2 "--until is before --since" "until before since" -- scan --since @200 --until @100
expect 2 "--format: 'xml' is not json or text" "bad --format" -- scan --format xml
expect 2 "--max-connections: '0'" "bad --max-connections" -- scan --max-connections 0
expect 2 "--session-timeout: cannot parse duration 'soon'" "bad --session-timeout" -- scan --session-timeout soon
expect 2 "--trusted-exe: 'sshd' is not an absolute path" "relative --trusted-exe" -- scan --trusted-exe sshd

# a broken rule: FILE:LINE and PCRE2's message with its offset
mkdir -p "$tmp/rules"
cp "$src/rules/"*.rules "$tmp/rules/"
printf '# a comment\nbroken.rule connection Connection from (?<addr>\\S+ port\n' >"$tmp/rules/zz-broken.rules"
expect 2 "zz-broken.rules:2: .*offset [0-9]+" "broken rule: FILE:LINE and PCRE2's offset" -- \
        scan --file "$tmp/j.journal" --rules "$tmp/rules" --authorized-keys "mirror:$src/tests/journal/mirror.authorized_keys"
printf 'bad.kind no-such-kind x\n' >"$tmp/rules/zz-broken.rules"
expect 2 "zz-broken.rules:1: .*no-such-kind" "unknown event kind in a rule" -- \
        scan --file "$tmp/j.journal" --rules "$tmp/rules"
mkdir -p "$tmp/empty"
expect 2 "no rules found" "empty rules directory" -- scan --file "$tmp/j.journal" --rules "$tmp/empty"

# a broken authorized_keys line: FILE:LINE, nothing else read
{ sed -n 1p "$src/tests/journal/mirror.authorized_keys"; echo 'command="unterminated ssh-ed25519 AAAA'; } >"$tmp/ak"
expect 2 "$tmp/ak:2: " "broken authorized_keys line: FILE:LINE" -- scan --file "$tmp/j.journal" \
        --rules "$src/rules" --authorized-keys "mirror:$tmp/ak"
expect 2 "cannot read $tmp/nope:" "missing authorized_keys file" -- scan --file "$tmp/j.journal" \
        --rules "$src/rules" --authorized-keys "mirror:$tmp/nope"

# journals that cannot be read
head -c 4096 /dev/urandom >"$tmp/garbage.journal"
expect 2 "" "a file that is not a journal" -- scan --file "$tmp/garbage.journal" "${base[@]}"
grep -q "garbage.journal" "$tmp/err" && ok "its error names the file" || not_ok "its error names the file"
expect 2 "" "a missing journal directory" -- scan --directory "$tmp/none" "${base[@]}"

# a journal corrupt in the middle, entries without MESSAGE, unreadable folders: source-errors.sh

# the good case, for contrast: alerts, exit 1, nothing on stderr
expect 1 "" "alerts raised: exit 1" -- scan --file "$tmp/j.journal" --format json "${base[@]}"
[ ! -s "$tmp/err" ] && ok "and nothing on stderr" || not_ok "and nothing on stderr"
expect 0 "" "no alerts: exit 0" -- scan --file "$tmp/j.journal" --format json --rules "$src/rules" \
        --authorized-keys "ops:$src/tests/journal/ops.authorized_keys"
[ "$(grep -c . "$tmp/out")" = 0 ] && ok "and no output" || not_ok "and no output"

# the options that shape a scan
mkdir -p "$tmp/dir"
journal_from_export "$src/tests/journal/multiplexed.export" "$tmp/dir/remote.journal"
expect 1 "" "--directory reads the journal files of a folder" -- scan --directory "$tmp/dir" --format json "${base[@]}"
[ "$(grep -c . "$tmp/out")" = 2 ] && ok "and finds the same two alerts" || not_ok "and finds the same two alerts"
# the multiplexed scenario: mirror's connection with its two sessions within 23:33:20.0-.02 UTC,
# then the admin's at 23:33:21
expect 1 "" "--until keeps what came before" -- scan --file "$tmp/j.journal" --format json \
        --until @1764200000.5 "${base[@]}"
[ "$(grep -c . "$tmp/out")" = 2 ] && ok "both sessions of the first connection" ||
        not_ok "both sessions of the first connection"
expect 0 "" "--since in journalctl's syntax leaves them out" -- scan --file "$tmp/j.journal" \
        --format json --since "2025-11-26 23:33:20.5 UTC" "${base[@]}"
journal_from_export "$src/tests/journal/no-session-timeout.export" "$tmp/t.journal"
expect 1 "" "the default session timeout (60 s) decides no-session" -- scan --file "$tmp/t.journal" \
        --format json "${base[@]}"
expect 0 "" "--session-timeout 2min: not yet" -- scan --file "$tmp/t.journal" --format json \
        --session-timeout 2min "${base[@]}"
journal_from_export "$src/tests/journal/openssh-10.export" "$tmp/o.journal"
expect 1 "" "--identifier sshd-session reads OpenSSH 10's lines" -- scan --file "$tmp/o.journal" \
        --format json --identifier sshd-session "${base[@]}"
expect 0 "" "--identifier sshd alone does not" -- scan --file "$tmp/o.journal" --format json \
        --identifier sshd "${base[@]}"
expect 1 "^keytrail: stats: records=30 matched=28 .* alerts=2$" "--stats: one line of counters" -- \
        scan --file "$tmp/j.journal" --format json --stats "${base[@]}"
expect 1 "" "--format text: one readable line per alert" -- scan --file "$tmp/j.journal" --format text "${base[@]}"
[ "$(grep -c 'critical unforced-session host=mirror1 user=mirror from=203.0.113.9:51200' "$tmp/out")" = 2 ] &&
        ok "naming type, host, user and source" || not_ok "naming type, host, user and source"

# time expressions: out of range, malformed numbers and dates are errors; @0 is a time
expect 2 "^keytrail: --until: time out of range: '\\+584542y'$" "a span past 2^64 us" -- scan --until +584542y
expect 2 "^keytrail: --since: cannot parse time '23:-5'$" "negative minutes" -- scan --since 23:-5
expect 2 "^keytrail: --since: cannot parse time '-1:00'$" "negative hours" -- scan --since -1:00
expect 2 "^keytrail: --since: cannot parse time '2025-02-31'$" "February 31st" -- scan --since 2025-02-31
expect 0 "" "--until @0 is a bound: nothing before 1970" -- scan --file "$tmp/j.journal" \
        --format json --until @0 "${base[@]}"
expect 1 "" "--since @0 reads everything" -- scan --file "$tmp/j.journal" --format json --since @0 \
        "${base[@]}"
expect 2 "^keytrail: --until is before --since$" "--until @0 before --since @5" -- scan --since @5 --until @0

# --identifier longer than a journal match can hold: the error names --identifier
long=$(printf 'x%.0s' $(seq 300))
expect 2 "^keytrail: --identifier: 'x{40}\\.\\.\\.' is not 1 to 237 bytes$" "an over-long --identifier" -- \
        scan --file "$tmp/j.journal" --identifier "$long" "${base[@]}"
expect 2 "^keytrail: --identifier: '' is not 1 to 237 bytes$" "an empty --identifier" -- \
        scan --file "$tmp/j.journal" --identifier "" "${base[@]}"

# more keys in one authorized_keys file than keytrail holds: FILE:LINE of the first one too many
line1=$(sed -n 1p "$src/tests/journal/mirror.authorized_keys")
yes "$line1" | head -n 65537 >"$tmp/many"
expect 2 "^keytrail: $tmp/many:65537: too many keys in one file \\(max 65536\\)$" \
        "65,537 keys in a file: FILE:LINE" -- scan --file "$tmp/j.journal" --rules "$src/rules" \
        --authorized-keys "mirror:$tmp/many"

echo "1..$n"
[ "$failed" = 0 ]
