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

# sample_text_log SOURCE_DIR OUT.log: the bundled real sample (tests/data/e2e-openssh-9.2.export)
# as a journal file, $tmp/s.journal, and as the text log journalctl -o short-iso renders of it (in
# the caller's TZ).
sample_text_log() {
        journal_from_export "$1/tests/data/e2e-openssh-9.2.export" "$tmp/s.journal" &&
                journalctl --file "$tmp/s.journal" -o short-iso >"$2"
}
