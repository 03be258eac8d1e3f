#!/bin/bash
# SPDX-License-Identifier: MIT
#
# usage: tests/data/record.sh        (root; takes about a minute)
#
# Regenerates the bundled real journal samples from one run of the end-to-end scenarios
# (tests/e2e/run.sh, bed checks only) against both OpenSSH generations:
#
#   e2e-openssh-9.2.export     Debian 12's sshd, journald's entries in export format
#   e2e-openssh-10.0.export    Debian 13's sshd (chroot), same
#   sample-authorized_keys-{push,pull,admin,other}
#                              the administrator's intended authorized_keys of the four accounts
#                              ktdemopush, ktdemopull, ktdemoadmin, ktdemoother (both generations)
#
# Kept: sshd's, sshd-session's and the forged (logger -t sshd) entries of the bed's own sshd, with
# the fields listed in FIELDS below; the bed's sync markers and every other process are left out.
# Turn one into a journal file with
#   /lib/systemd/systemd-journal-remote -o /tmp/x.journal tests/data/e2e-openssh-9.2.export
set -eu
DATA=$(cd "$(dirname "$0")" && pwd)
E2E=$DATA/../e2e
export KT_PREFIX=${KT_PREFIX:-ktdemo}

FIELDS='__CURSOR __REALTIME_TIMESTAMP __MONOTONIC_TIMESTAMP _BOOT_ID _MACHINE_ID _HOSTNAME
_TRANSPORT PRIORITY SYSLOG_FACILITY SYSLOG_IDENTIFIER SYSLOG_PID _PID _UID _GID _COMM _EXE
_CMDLINE MESSAGE'

[ "$(id -u)" = 0 ] || { echo "record.sh: needs root" >&2; exit 1; }
if getent passwd "${KT_PREFIX}push" >/dev/null; then
        echo "record.sh: account ${KT_PREFIX}push exists; set KT_PREFIX" >&2
        exit 1
fi

work=$(mktemp -d /tmp/kt-record.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/build"

KT_E2E_RECORD=$work KT_E2E_GENERATIONS="bookworm trixie" KT_ARTIFACTS=$work/artifacts \
        "$E2E/run.sh" "$work/build" >"$work/tap" || {
        cat "$work/tap" >&2
        echo "record.sh: the bed failed" >&2
        exit 1
}

# to_export GEN OUT: keep the bed sshd's entries (listener, its monitors and their user children,
# found through the "Connection from ... port LISTENPORT" and "User child is on pid N" lines) and
# the forged ones (they name a test account), with FIELDS only
to_export() {
        local gen=$1 out=$2 pid port prefix
        read -r pid port prefix _ <"$work/$gen/sshd"
        jq -s -r --arg lpid "$pid" --arg port "$port" --arg pfx "$prefix" --arg fields "$FIELDS" '
                ($fields | split("\\s+"; null) | map(select(. != ""))) as $keep
                | [.[] | select(.MESSAGE | type == "string")] as $all
                | [$all[] | select(.MESSAGE | test("^Connection from .* on 127\\.0\\.0\\.[12] port "
                        + $port + "( |$)")) | ._PID] as $mon
                | [$all[] | select((._PID as $p | $mon | index($p))
                        and (.MESSAGE | startswith("User child is on pid ")))
                        | .MESSAGE | ltrimstr("User child is on pid ")] as $uc
                | ($mon + $uc + [$lpid]) as $pids
                | $all[]
                | select((._PID as $p | $pids | index($p)) or (.MESSAGE | contains($pfx)))
                | . as $e
                | ([$keep[] | select($e[.] != null)
                    | if ($e[.] | type) != "string" or ($e[.] | test("\n")) then
                          error("field \(.) is not single-line text")
                      else "\(.)=\($e[.])" end] | join("\n")) + "\n"
        ' "$work/$gen/journal.json" >"$out"
}

v92=$(awk '{print $4}' "$work/bookworm/sshd")
v10=$(awk '{print $4}' "$work/trixie/sshd")
to_export bookworm "$DATA/e2e-openssh-9.2.export"
to_export trixie "$DATA/e2e-openssh-10.0.export"
for role in push pull admin other; do
        cp "$work/intended/$KT_PREFIX$role" "$DATA/sample-authorized_keys-$role"
done

# check: journal-remote reads them back, and journalctl reads what it wrote
for f in "$DATA"/e2e-openssh-9.2.export "$DATA"/e2e-openssh-10.0.export; do
        rm -f "$work/check.journal"
        /lib/systemd/systemd-journal-remote -o "$work/check.journal" "$f" 2>/dev/null
        n=$(journalctl --file "$work/check.journal" -q -o cat | wc -l)
        m=$(grep -c '^MESSAGE=' "$f")
        [ "$n" = "$m" ] || { echo "record.sh: $f: $m entries, journal has $n" >&2; exit 1; }
        echo "record.sh: $(basename "$f"): $m entries"
done
echo "record.sh: OpenSSH versions: bookworm $v92, trixie $v10"
