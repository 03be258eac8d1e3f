#!/bin/bash
# SPDX-License-Identifier: MIT
# --policy on the bundled real sample (tests/data/e2e-openssh-9.2.export, the e2e bed's run), as a
# journal and as a text log: an rsync policy written with another option order and capability
# string than the clients used raises nothing; the same with another folder raises
# command-mismatch; an account's allowed sources raise unexpected-source for the logins from
# elsewhere; expected commands make the other sessions unforced-session; labels ride on every
# alert of their key or account. Then the policy file's errors: FILE:LINE, exit 2.
#
#   policy-scan.sh KEYTRAIL SOURCE_DIR
set -eu
keytrail=$1 src=$2
. "$src/tests/journal-lib.sh"
export TZ=UTC
. "$src/tests/tap-lib.sh"

sample_args "$src"
sample_text_log "$src" "$tmp/s.log"
base='[.type, (.user // "-"), (.source_port // "-" | tostring), (.session_id // "-" | tostring), (.label // "-")] | join(" ")'

# run NAME POLICY-FILE WANT-RC: the alerts of the journal and of the text, as "type user port
# session label", minus the eleven the sample raises without a policy (tests/sample-scan.sh)
run() {
        local name=$1 policy=$2 want_rc=$3 src_args rc kind
        for kind in journal text; do
                if [ $kind = journal ]; then src_args=(--file "$tmp/s.journal"); else src_args=(--input "$tmp/s.log"); fi
                set +e
                "$keytrail" scan "${src_args[@]}" "${args[@]}" --policy "$policy" -o json \
                        >"$tmp/$name.$kind.json" 2>"$tmp/$name.$kind.err"
                rc=$?
                set -e
                if [ $rc = "$want_rc" ]; then ok "$name ($kind): exit $want_rc"; else
                        not_ok "$name ($kind): exit $rc, want $want_rc"; cat "$tmp/$name.$kind.err" >&2; fi
                jq -r "$base" "$tmp/$name.$kind.json" | LC_ALL=C sort >"$tmp/$name.$kind"
        done
}

# expect NAME: stdin is the alerts the policy adds or labels, beside the sample's own
expect() {
        local name=$1 kind
        LC_ALL=C sort >"$tmp/$name.want"
        for kind in journal text; do
                # the sample's own alerts (no policy), compared without labels
                LC_ALL=C comm -23 "$tmp/$name.$kind" "$tmp/nopolicy.$kind" >"$tmp/$name.$kind.added"
                if diff -u "$tmp/$name.want" "$tmp/$name.$kind.added" >"$tmp/$name.diff"; then
                        ok "$name ($kind): exactly the alerts the policy adds"
                else
                        not_ok "$name ($kind): exactly the alerts the policy adds"
                        sed 's/^/# /' "$tmp/$name.diff"
                fi
        done
}

printf '# nothing\n' >"$tmp/empty.policy"
run nopolicy "$tmp/empty.policy" 1
[ "$(wc -l <"$tmp/nopolicy.journal")" = 11 ] && ok "an empty policy changes nothing (11 alerts)" ||
        not_ok "an empty policy changes nothing"

PUSH=SHA256:BLns69n7Ioh2+KRK+tLzRotsomACSIjx7y0maV8dF0Q
# The push key's forced command as policy, options reordered, another client's capability string.
cat >"$tmp/same.policy" <<POL
# scenario 1: three pushes
[key $PUSH]
label = nightly push
rsync = rsync --delete --server -tpogrlDe.LsfxC . /tmp/kt-e2e.JccAZQ/home/ktdemopush/backup01/
from = 127.0.0.0/8, ::1
accounts = ktdemopush
POL
run same "$tmp/same.policy" 1
expect same </dev/null

sed 's|backup01/|backup02/|' "$tmp/same.policy" >"$tmp/other.policy"
run other "$tmp/other.policy" 1
expect other <<'WANT'
command-mismatch ktdemopush 23481 0 nightly push
command-mismatch ktdemopush 23482 0 nightly push
command-mismatch ktdemopush 23483 0 nightly push
WANT
grep -q '"expected_command":"rsync --delete --server -tpogrlDe.LsfxC . /tmp/kt-e2e.JccAZQ/home/ktdemopush/backup02/"' \
        "$tmp/other.journal.json" && grep -q "which the policy's \[key $PUSH\] (line 2) does not expect" \
        "$tmp/other.journal.json" && ok "command-mismatch names the policy's command and section" ||
        not_ok "command-mismatch names the policy's command and section"

# The admin account: from 10.0.0.0/8 and 2001:db8::/32 only, and only 'uptime'.
cat >"$tmp/admin.policy" <<'POL'
[account ktdemoadmin]
label = admins
from = 10.0.0.0/8 2001:db8::/32
command = uptime
POL
run admin "$tmp/admin.policy" 1
expect admin <<'WANT'
unexpected-source ktdemoadmin 23485 - admins
unexpected-source ktdemoadmin 23486 - admins
unexpected-source ktdemoadmin 23487 - admins
unforced-session ktdemoadmin 23485 0 admins
unforced-session ktdemoadmin 23486 0 admins
unforced-session ktdemoadmin 23487 0 admins
WANT
jq -e -s 'map(select(.type == "unexpected-source")) | length == 3 and
        all(.[]; .severity == "high" and .source_ip == "127.0.0.1" and .user == "ktdemoadmin" and
            .fingerprint == "SHA256:ZzYSn8o8ZTOXM3dBEUune6JuYnTZ1cObtISFVM94djs" and
            .label == "admins" and (.evidence | length) == 1 and
            (.message | contains("from 127.0.0.1, outside the sources of the policy'"'"'s [account ktdemoadmin] (line 1)")))' \
        "$tmp/admin.journal.json" >/dev/null && ok "unexpected-source: every field" ||
        not_ok "unexpected-source: every field"

# A label on an account the sample already alerts about: those alerts carry it.
printf '[account ktdemopull]\nlabel = mirror\n' >"$tmp/label.policy"
run label "$tmp/label.policy" 1
expect label <<'WANT'
command-mismatch ktdemopull 23489 0 mirror
WANT

# Errors: FILE:LINE, exit 2, nothing scanned.
expect_error() { # NAME LINE-IN-STDERR (policy on stdin)
        local name=$1 want=$2
        cat >"$tmp/bad.policy"
        set +e
        "$keytrail" scan --file "$tmp/s.journal" "${args[@]}" --policy "$tmp/bad.policy" \
                >"$tmp/e.out" 2>"$tmp/e.err"
        local rc=$?
        set -e
        if [ $rc = 2 ] && [ "$(wc -l <"$tmp/e.err")" = 1 ] && grep -qF -- "$want" "$tmp/e.err" &&
                ! [ -s "$tmp/e.out" ]; then
                ok "error: $name"
        else
                not_ok "error: $name (rc $rc)"
                sed 's/^/# /' "$tmp/e.err"
        fi
}
expect_error "a bad address" "$tmp/bad.policy:3: '300.1.1.1' is not an IPv4 or IPv6 address" < <(printf '[account a]\nfrom = 10.0.0.0/8\nfrom = 300.1.1.1\n')
expect_error "a bad fingerprint" "$tmp/bad.policy:3: 'SHA256:nope' is not a key fingerprint" < <(printf '\n\n[key SHA256:nope]\n')
expect_error "a bad pattern" "$tmp/bad.policy:2: command-pattern: missing closing parenthesis" < <(printf '[account a]\ncommand-pattern = a(b\n')
expect_error "not rsync" "$tmp/bad.policy:2: rsync: not an rsync --server command" < <(printf '[account a]\nrsync = scp -t /x\n')
set +e
"$keytrail" scan --file "$tmp/s.journal" "${args[@]}" --policy "$tmp/missing.policy" >/dev/null 2>"$tmp/e.err"
rc=$?
set -e
[ $rc = 2 ] && grep -qF -- "--policy: cannot read $tmp/missing.policy:" "$tmp/e.err" &&
        ok "error: a missing policy file" || not_ok "error: a missing policy file (rc $rc)"

tap_done
