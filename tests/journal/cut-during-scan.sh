#!/bin/bash
# SPDX-License-Identifier: MIT
# A journal file truncated while keytrail scan reads it (journald truncates the files it
# archives, so a scan of the live journal meets this on a rotation): sd-journal maps the files,
# and the page cut off raised SIGBUS, killing the scan (review3's F2). gdb stops keytrail at its
# first sd_journal_next(), the second of two real journal files (systemd-journal-remote) is cut to
# nothing there, and the scan goes on: with --jobs 1 and 2, keytrail ends by itself (no signal), and
# says on stderr what it could not read. TAP.
#   cut-during-scan.sh KEYTRAIL SOURCE_DIR
set -u
keytrail=$1 src=$2
. "$src/tests/journal-lib.sh"
. "$src/tests/tap-lib.sh"
if ! command -v gdb >/dev/null; then
        not_ok "gdb not found (tests/packages.txt)"
        tap_done
        exit
fi
# LeakSanitizer cannot run under ptrace, and ends the process with exit status 1 when it tries
# (the sanitizer build): the exit statuses below are keytrail's own only without it
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
mkdir -p "$tmp/base"
journal_from_export "$src/tests/journal/unknown-key.export" "$tmp/base/a.journal" &&
        journal_from_export "$src/tests/journal/forgery.export" "$tmp/base/b.journal" ||
        { echo "Bail out! journal-remote"; exit 1; }
for j in 1 2; do
        rm -rf "$tmp/d" && cp -a "$tmp/base" "$tmp/d"
        gdb -q -batch -ex 'set breakpoint pending on' -ex 'break sd_journal_next' -ex run \
                -ex "shell truncate -s 0 '$tmp/d/b.journal'" -ex delete \
                -ex 'handle SIGBUS nostop noprint pass' -ex continue \
                --args "$keytrail" scan --jobs $j --directory "$tmp/d" --rules "$src/rules" \
                --format json >"$tmp/gdb.$j" 2>&1
        check "--jobs $j: the file was cut at the first sd_journal_next()" \
                "grep -q 'Breakpoint 1, .*sd_journal_next' '$tmp/gdb.$j'"
        check "  the scan ended by itself, not by a signal" \
                "grep -q 'exited with code\|exited normally' '$tmp/gdb.$j' && ! grep -q 'terminated with signal' '$tmp/gdb.$j'"
        check "  stderr names what it could not read" \
                "grep -q '^keytrail: .*\(b\.journal\|--directory\)' '$tmp/gdb.$j'"
        grep -q 'terminated with signal' "$tmp/gdb.$j" && grep -m3 'signal\|^keytrail' "$tmp/gdb.$j" | sed 's/^/# /'
done
# Cut later, in the middle of the read (at the 21st sd_journal_next()): the single handle and the
# parallel reader meet the zeroes with different errors (EBADMSG, ENODATA); both say it in one
# wording, not as the errno (they said "Bad message" and "No data available").
# A file of the folder deleted (journald vacuums) at the first sd_journal_next(): under --jobs 2 that
# is before the readers open the files, and the open failed whole ("--directory: cannot open D: No
# such file or directory", exit 2, no alert at all). Both now read what is left: b.journal's alerts,
# as a scan of it alone gives them.
"$keytrail" scan --file "$tmp/base/b.journal" --rules "$src/rules" --format json >"$tmp/b.out" 2>/dev/null
for j in 1 2; do
        rm -rf "$tmp/d" && cp -a "$tmp/base" "$tmp/d"
        gdb -q -batch -ex 'set breakpoint pending on' -ex 'break sd_journal_next' -ex run \
                -ex "shell rm '$tmp/d/a.journal'" -ex delete -ex continue \
                --args "$keytrail" scan --jobs $j --directory "$tmp/d" --rules "$src/rules" \
                --format json >"$tmp/gdb.$j" 2>&1
        check "--jobs $j, a file deleted at the start: b.journal's alerts, exit 1" \
                "grep -q 'exited with code 01' '$tmp/gdb.$j' && [ \"\$(grep '^{' '$tmp/gdb.$j' | jq -r .id | sort)\" = \"\$(jq -r .id '$tmp/b.out' | sort)\" ] && [ -s '$tmp/b.out' ] && ! grep -q 'cannot open' '$tmp/gdb.$j'"
done
# --jobs 2's readers are processes: gdb keeps them (detach-on-fork off), and the file is cut at
# the 11th sd_journal_next() of inferior 3, the second reader (files that start at the same time
# go to the readers in the folder's order, so it is b.journal's): counted there, the cut cannot
# come while keytrail is still forking a reader (which would keep a breakpoint gdb does not know
# of), nor after b.journal was read whole. The continues go on until keytrail itself (inferior 1,
# which waits for its readers) has exited.
cut_line="keytrail: reading the journal: a journal file is corrupt, or was cut short under the scan: reading stopped there, the entries after it in every file are not read"
for j in 1 2; do
        rm -rf "$tmp/d" && cp -a "$tmp/base" "$tmp/d"
        if [ $j = 1 ]; then
                at=(-ex 'break sd_journal_next' -ex 'ignore 1 20')
        else
                at=(-ex 'set $n = 0' -ex 'break sd_journal_next if $_inferior == 3 && ($n = $n + 1) > 10')
        fi
        gdb -q -batch -ex 'set detach-on-fork off' -ex 'set schedule-multiple on' \
                -ex 'set breakpoint pending on' "${at[@]}" \
                -ex run -ex "shell truncate -s 0 '$tmp/d/b.journal'" -ex delete \
                -ex 'handle SIGBUS nostop noprint pass' -ex continue \
                -ex 'inferior 1' -ex continue -ex 'inferior 1' -ex continue \
                --args "$keytrail" scan --jobs $j --directory "$tmp/d" --rules "$src/rules" \
                --format json >"$tmp/gdb.$j" 2>&1
        check "--jobs $j, cut in the middle: exit 2, the one wording" \
                "grep -q 'Inferior 1 (process [0-9]*) exited with code 02' '$tmp/gdb.$j' && grep -qxF '$cut_line' '$tmp/gdb.$j'"
done
tap_done
