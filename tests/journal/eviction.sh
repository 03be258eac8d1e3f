#!/bin/bash
# SPDX-License-Identifier: MIT
# Eviction with a small table (--max-connections 100), on a journal made at run time (it is large):
#   1. a forced-key login whose line lost command=, then 500 pre-auth connections that never close
#      (a "Connection from" line and nothing else), then the login's command session: the
#      pre-auth connections are evicted first, the session still raises its unforced-session;
#   2. then 150 forced-key logins that never start a session nor end: once only authenticated
#      connections are left, each one evicted raises connection-evicted (the oldest first).
#
#   eviction.sh KEYTRAIL SOURCE_DIR
set -eu
keytrail=$1 src=$2
dir=$src/tests/journal
. "$src/tests/journal-lib.sh"

python3 "$dir/gen.py" eviction "$tmp/e.export" 150 500
journal_from_export "$tmp/e.export" "$tmp/e.journal"
set +e
"$keytrail" scan --file "$tmp/e.journal" --rules "$src/rules" --format json --stats \
        --max-connections 100 --authorized-keys "mirror:$dir/mirror.authorized_keys" \
        >"$tmp/out.json" 2>"$tmp/err"
rc=$?
set -e
fail() { echo "$*" >&2; cat "$tmp/err" >&2; exit 1; }
[ "$rc" = 1 ] || fail "exit status $rc, expected 1"
got=$(jq -r 'select(.type == "unforced-session") | "\(.user) \(.source_port) \(.session_type)"' "$tmp/out.json")
[ "$got" = "mirror 40000 command" ] || fail "the login's session after 500 scanners: '$got'"
# 1 + 150 logins in a table of 100: the first (already judged) and the 50 oldest of the rest go
n=$(jq -r 'select(.type == "connection-evicted") | .source_port' "$tmp/out.json" | sort -n | tr '\n' ' ')
want="40000 $(seq -s ' ' 41000 41049) "
[ "$n" = "$want" ] || fail "connection-evicted for ports '$n', want '$want'"
jq -e 'select(.type == "connection-evicted") | select(.severity != "medium" or .user != "mirror"
        or .expected_command == null or (.evidence | length) != 1)' "$tmp/out.json" >/dev/null &&
        fail "a connection-evicted alert lacks a field"
other=$(jq -r 'select(.type != "connection-evicted" and .type != "unforced-session") | .type' "$tmp/out.json")
[ -z "$other" ] || fail "unexpected alerts: $other"
grep -q ' evicted=551 evicted_authenticated=51 ' "$tmp/err" || fail "--stats does not count the evictions"
echo "ok: eviction"
