# SPDX-License-Identifier: MIT
# Sourced by the scan tests: a temporary folder removed on exit, and real journal files made from
# journal export text by systemd-journal-remote.

JOURNAL_REMOTE=/lib/systemd/systemd-journal-remote
[ -x "$JOURNAL_REMOTE" ] || JOURNAL_REMOTE=/usr/lib/systemd/systemd-journal-remote
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# journal_from_export EXPORT OUT.journal
journal_from_export() {
        "$JOURNAL_REMOTE" -o "$2" "$1" 2>"$tmp/remote.err" || {
                cat "$tmp/remote.err" >&2
                return 1
        }
}
