#!/bin/bash
# SPDX-License-Identifier: MIT
# The match's terms that no file holds are left out of sd-journal's match (src/source/journal.c,
# prune_match()): the same entries must be read. TAP.
#
#   match-terms.sh KEYTRAIL SOURCE_DIR
#
# - every scenario journal (tests/journal/*.export), scanned with --jobs 1 --stats as
#   systemd-journal-remote left it (offline: terms it has no entry of are left out) and as a copy
#   whose header says "online" (being written: every term kept): stdout, stderr and exit status
#   identical;
# - the same with a logger(1) line of another priority, with and without an identifier, last in
#   the file (the `_COMM=logger` term is left out: the file's last entry read is another one, and
#   neither is the file "corrupt" nor does the line count);
# - a file that gains an entry of a term left out while it is read (an sshdo line appended by
#   systemd-journal-remote when keytrail, stopped by gdb, has read everything and looks again):
#   the scan names the file in one line on stderr, a note: the exit status is what it would be
#   (a scan of a live journal never was sure to read what is written meanwhile); the online copy,
#   read with every term, says nothing (nothing was left out); a line past --until says nothing.
set -u
keytrail=$1 src=$2
dir=$src/tests/journal
. "$src/tests/journal-lib.sh"
. "$src/tests/tap-lib.sh"

args=(--jobs 1 --rules "$src/rules" --format json --stats
      --authorized-keys "mirror:$dir/mirror.authorized_keys"
      --authorized-keys "ops:$dir/ops.authorized_keys"
      --authorized-keys "root:$dir/root.authorized_keys")

# online COPY: the header's state byte (offset 16) set to 1, as journald's file being written
online() {
        printf '\001' | dd of="$1" bs=1 seek=16 conv=notrunc status=none
}

scan() { # scan OUT FILE...: OUT.json OUT.err OUT.rc
        local out=$1 fa=() f
        shift
        for f in "$@"; do fa+=(--file "$f"); done
        "$keytrail" scan "${fa[@]}" "${args[@]}" >"$out.json" 2>"$out.err"
        echo $? >"$out.rc"
}

same() { # same A B: both scans gave the same bytes and status
        cmp -s "$1.json" "$2.json" && cmp -s "$1.err" "$2.err" && cmp -s "$1.rc" "$2.rc"
}

# a scenario with a logger(1) line last: user.notice with an identifier, and none (logger
# --journald), neither the PRIORITY=4 line of "only"
for kind in named noident; do
        cp "$dir/no-alert-push.export" "$tmp/logger-$kind.export"
        {
                printf '%s\n' __REALTIME_TIMESTAMP=1764200999000000 __MONOTONIC_TIMESTAMP=999000000 \
                        _BOOT_ID=0b1e5ad2d3c94bd59b4f7a5e0c2b1a01 _MACHINE_ID=4c6f0b5e8f6a4c9aa1f2e3d4c5b6a7b8 \
                        _HOSTNAME=mirror1 PRIORITY=5 _PID=4243 _UID=1000 _GID=1000 _COMM=logger \
                        MESSAGE=hello
                [ $kind = named ] && echo SYSLOG_IDENTIFIER=alice
                echo
        } >>"$tmp/logger-$kind.export"
done

for e in "$dir"/*.export "$tmp"/logger-*.export; do
        name=$(basename "$e" .export)
        journal_from_export "$e" "$tmp/$name.journal" || { not_ok "$name: journal-remote"; continue; }
        cp "$tmp/$name.journal" "$tmp/$name-online.journal"
        online "$tmp/$name-online.journal"
        scan "$tmp/$name.off" "$tmp/$name.journal"
        scan "$tmp/$name.on" "$tmp/$name-online.journal"
        check "$name: offline file (terms left out) reads as the online one (every term)" \
                'same "$tmp/$name.off" "$tmp/$name.on" && [ "$(cat "$tmp/$name.off.rc")" -le 1 ]'
done

# The --jobs readers leave the terms out too: the logger journals read alike with two threads
for kind in named noident; do
        args[1]=2
        scan "$tmp/logger-$kind.par" "$tmp/logger-$kind.journal"
        args[1]=1
        check "logger-$kind: --jobs 2 (terms left out) reads as --jobs 1" \
                'same "$tmp/logger-$kind.par" "$tmp/logger-$kind.off"'
done

# Several files: a term held by one file only is kept for all.
scan "$tmp/multi.off" "$tmp/no-alert-push.journal" "$tmp/command-rejected.journal"
cp "$tmp/no-alert-push.journal" "$tmp/push-online.journal"
online "$tmp/push-online.journal"
scan "$tmp/multi.on" "$tmp/push-online.journal" "$tmp/command-rejected.journal"
check "two files, the wrappers' lines in one: the same as with every term" \
        'same "$tmp/multi.off" "$tmp/multi.on" && grep -q "sshdo.disallowed" "$tmp/multi.off.json" &&
         grep -q "only.denied" "$tmp/multi.off.json"'

# A line of a term left out, written while the file is read.
cat >"$tmp/add.export" <<'EOF'
__REALTIME_TIMESTAMP=1764200999000000
__MONOTONIC_TIMESTAMP=999000000
_BOOT_ID=0b1e5ad2d3c94bd59b4f7a5e0c2b1a01
_MACHINE_ID=5a1e5ad2d3c94bd59b4f7a5e0c2b1a01
_HOSTNAME=bastion
SYSLOG_IDENTIFIER=sshdo
_PID=4242
_UID=1000
_COMM=sshdo
MESSAGE=written during the scan

EOF
append_during() { # append_during OUT FILE: scan FILE; the line is appended when reading ended
        # (LeakSanitizer cannot run under ptrace: leaks are the other tests' to find)
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
        gdb -q -batch -ex 'set breakpoint pending on' -ex 'break recheck_match' -ex run \
                -ex "shell '$JOURNAL_REMOTE' -o '$2' '$tmp/add.export' 2>/dev/null" -ex continue \
                --args "$keytrail" scan --file "$2" "${args[@]}" >"$1.gdb" 2>&1
        grep -o 'exited with code [0-9]*\|exited normally' "$1.gdb" | tail -n1 >"$1.rc"
        grep '^keytrail: ' "$1.gdb" | grep -v 'stats:' >"$1.err" || true
}
if ! command -v gdb >/dev/null; then
        not_ok "gdb not found (tests/packages.txt)"
else
        journal_from_export "$dir/no-alert-push.export" "$tmp/grow.journal"
        append_during "$tmp/grow" "$tmp/grow.journal"
        check "a line of a term left out written meanwhile: the file named in one line, a note" \
                '[ "$(cat "$tmp/grow.err")" = "keytrail: $tmp/grow.journal: written to during the scan: entries written meanwhile may not have been read, scan again" ] &&
                 grep -qx "exited normally" "$tmp/grow.rc"'
        check "... and the line is in the file now" \
                '[ "$(journalctl --file "$tmp/grow.journal" SYSLOG_IDENTIFIER=sshdo -o cat | wc -l)" = 1 ]'
        journal_from_export "$dir/no-alert-push.export" "$tmp/grow-online.journal"
        online "$tmp/grow-online.journal"
        append_during "$tmp/grow-on" "$tmp/grow-online.journal"
        check "an online file keeps every term: nothing left out, nothing said" \
                '[ ! -s "$tmp/grow-on.err" ] && grep -qx "exited normally" "$tmp/grow-on.rc"'
        # ... a line after --until: it would never have been read, nothing to say
        journal_from_export "$dir/no-alert-push.export" "$tmp/grow-until.journal"
        args+=(--until "2025-11-26 23:40:00") # the sshdo line: 23:49:59
        append_during "$tmp/grow-until" "$tmp/grow-until.journal"
        check "a line of a term left out written meanwhile after --until: nothing said" \
                '[ ! -s "$tmp/grow-until.err" ] && grep -qx "exited normally" "$tmp/grow-until.rc" &&
                 grep -q "Breakpoint 1, recheck_match" "$tmp/grow-until.gdb"'
fi

tap_done
