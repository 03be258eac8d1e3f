#!/bin/bash
# SPDX-License-Identifier: MIT
# --input of what cannot be peeked at: a named FIFO, /dev/stdin on a real pipe, a process
# substitution <(zcat FILE.gz) and <(cat FILE), gzipped and plain. Each must give the alerts, ids,
# evidence lines and --stats line of the same log read as a regular file (gzip is told from the
# bytes read, as for "-"); a FIFO with no writer waits in open() for one, as `cat FIFO` does, and
# goes on when one comes. The bundled real sample (tests/data/e2e-openssh-9.2.export) is the log,
# as journalctl -o short-iso renders it.
#
#   pipe-input.sh KEYTRAIL SOURCE_DIR
set -eu
keytrail=$1 src=$2
. "$src/tests/journal-lib.sh"
export TZ=UTC
. "$src/tests/tap-lib.sh"

sample_args "$src"
sample_text_log "$src" "$tmp/auth.log"
gzip -c "$tmp/auth.log" >"$tmp/auth.log.gz"
lines=$(wc -l <"$tmp/auth.log")
head -n $((lines / 2)) "$tmp/auth.log" >"$tmp/first.log"
tail -n +$((lines / 2 + 1)) "$tmp/auth.log" | gzip -c >"$tmp/second.log.gz"

# What every alert must say, with each evidence reduced to its line number: the input's name
# differs (auth.log, /dev/fd/63, /dev/stdin, the FIFO's path) and is checked apart, and so does
# the id, made from the evidence.
norm='del(.evidence, .id) + {lines: [.evidence[] | sub("^.*:"; "")]}'

# scan NAME ARGS...: keytrail scan ARGS... with the sample's baseline, -o json --stats; stdin as
# the caller gives it. Leaves $tmp/NAME.json, .err, .rc, .n (normalised alerts), .stats
scan() {
        local name=$1 rc
        shift
        set +e
        "$keytrail" scan "$@" "${args[@]}" -o json --stats >"$tmp/$name.json" 2>"$tmp/$name.err"
        rc=$?
        set -e
        echo "$rc" >"$tmp/$name.rc"
        jq -c "$norm" "$tmp/$name.json" >"$tmp/$name.n"
        grep '^keytrail: \(stats\|text\):' "$tmp/$name.err" >"$tmp/$name.stats" || true
}

# same NAME: NAME gave exactly what the regular file gave: exit 1, alerts, stats, nothing else
same() {
        local name=$1
        check "$name: exit 1, only the stats lines on stderr" \
                '[ "$(cat "$tmp/$name.rc")" = 1 ] &&
                 [ "$(grep -vc "^keytrail: \(stats\|text\):" "$tmp/$name.err")" = 0 ]' ||
                sed 's/^/# /' "$tmp/$name.err"
        if cmp -s "$tmp/file.n" "$tmp/$name.n"; then
                ok "$name: the regular file's alerts, ids and evidence lines ($(wc -l <"$tmp/$name.n"))"
        else
                not_ok "$name: the regular file's alerts, ids and evidence lines"
                diff "$tmp/file.n" "$tmp/$name.n" | cut -c1-300 | head -20 | sed 's/^/# /'
        fi
        check "$name: the regular file's --stats lines" 'cmp -s "$tmp/file.stats" "$tmp/$name.stats"'
}

# evidence_names NAME: the input names its evidence gives, one a line
evidence_names() { jq -r '.evidence[] | sub(":[0-9]+$"; "")' "$tmp/$1.json" | sort -u; }

scan file --input "$tmp/auth.log" </dev/null
check "regular file: exit 1, 10 alerts" \
        '[ "$(cat "$tmp/file.rc")" = 1 ] && [ "$(wc -l <"$tmp/file.n")" = 10 ]'
check "regular file: records=399 in its stats line" 'grep -q " records=399 " "$tmp/file.stats"'

# A process substitution: /dev/fd/N, a pipe.
scan subst-zcat --input <(zcat "$tmp/auth.log.gz") </dev/null
same subst-zcat
check "subst-zcat: evidence names /dev/fd/N" \
        '[[ "$(evidence_names subst-zcat)" =~ ^/dev/fd/[0-9]+$ ]]'
scan subst-plain --input <(cat "$tmp/auth.log") </dev/null
same subst-plain
scan subst-gzip --input <(cat "$tmp/auth.log.gz") </dev/null
same subst-gzip

# /dev/stdin on a real pipe, plain and gzipped.
cat "$tmp/auth.log" | scan stdin-plain --input /dev/stdin
same stdin-plain
check "stdin-plain: evidence names /dev/stdin" '[ "$(evidence_names stdin-plain)" = /dev/stdin ]'
cat "$tmp/auth.log.gz" | scan stdin-gzip --input /dev/stdin
same stdin-gzip
# /dev/stdin on a regular file still reads it from its start, mapped or not.
scan stdin-file --input /dev/stdin <"$tmp/auth.log.gz"
same stdin-file

# A named FIFO, its writer started after keytrail.
mkfifo "$tmp/fifo"
for kind in plain gzip; do
        case $kind in plain) f=$tmp/auth.log ;; gzip) f=$tmp/auth.log.gz ;; esac
        (sleep 0.3 && cat "$f" >"$tmp/fifo") &
        scan fifo-$kind --input "$tmp/fifo" </dev/null
        wait
        same fifo-$kind
done
check "fifo-plain: evidence names the FIFO" '[ "$(evidence_names fifo-plain)" = "$tmp/fifo" ]'
# --jobs 2 reads a pipe in the calling thread (a reader thread is for regular files): same output.
(sleep 0.3 && cat "$tmp/auth.log.gz" >"$tmp/fifo") &
scan fifo-jobs --jobs 2 --input "$tmp/fifo" </dev/null
wait
same fifo-jobs

# Rotated files, one of them a pipe: merged by time as two regular files are.
scan rotated-files --input "$tmp/first.log" --input "$tmp/auth.log" </dev/null
scan rotated-pipe --input "$tmp/first.log" --input <(cat "$tmp/auth.log") </dev/null
check "a regular file and a pipe merged: the alerts of two regular files" \
        '[ "$(cat "$tmp/rotated-pipe.rc")" = 1 ] && [ -s "$tmp/rotated-pipe.n" ] &&
         cmp -s "$tmp/rotated-files.n" "$tmp/rotated-pipe.n" &&
         cmp -s "$tmp/rotated-files.stats" "$tmp/rotated-pipe.stats"'
scan halves --input "$tmp/first.log" --input <(zcat "$tmp/second.log.gz") </dev/null
check "two halves, the second a pipe of zcat: the whole file's 10 alerts" \
        '[ "$(cat "$tmp/halves.rc")" = 1 ] &&
         diff <(jq -c "del(.lines)" "$tmp/file.n") <(jq -c "del(.lines)" "$tmp/halves.n")'

# A truncated gzip stream through a pipe: the input ends there, named, exit 2; the scan goes on.
size=$(stat -c %s "$tmp/auth.log.gz")
scan cut --input <(head -c $((size / 2)) "$tmp/auth.log.gz") </dev/null
check "truncated gzip through a pipe: exit 2, one line naming /dev/fd/N" \
        '[ "$(cat "$tmp/cut.rc")" = 2 ] &&
         grep -Eq "^keytrail: .*/dev/fd/[0-9]+:[0-9]+.*corrupt or truncated gzip data" "$tmp/cut.err"'

# A FIFO with no writer: keytrail waits in open(), reads nothing and writes nothing meanwhile...
"$keytrail" scan --input "$tmp/fifo" "${args[@]}" -o json --stats >"$tmp/wait.json" \
        2>"$tmp/wait.err" </dev/null &
pid=$!
sleep 1
state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo gone)
check "FIFO with no writer: still waiting after 1 s (state $state), nothing written" \
        '[ "$state" = S ] && ! [ -s "$tmp/wait.json" ] && ! [ -s "$tmp/wait.err" ]'
wchan=$(cat "/proc/$pid/wchan" 2>/dev/null || true)
check "  ... waiting in open() of the FIFO (wchan $wchan)" \
        '[ "$wchan" = wait_for_partner ] || [ "$wchan" = fifo_open ]'
# ...and reads the log once a writer comes.
cat "$tmp/auth.log" >"$tmp/fifo"
set +e
wait "$pid"
rc=$?
set -e
check "  ... then reads it when a writer comes: exit 1, 10 alerts" \
        '[ $rc = 1 ] && [ "$(wc -l <"$tmp/wait.json")" = 10 ]'
# A signal ends the wait, as it ends `cat FIFO`'s (SIGTERM: a background job of a script ignores
# SIGINT).
"$keytrail" scan --input "$tmp/fifo" "${args[@]}" </dev/null >/dev/null 2>&1 &
pid=$!
sleep 0.5
kill -TERM "$pid"
set +e
wait "$pid"
rc=$?
set -e
check "  ... and SIGTERM ends the wait (killed by it)" '[ $rc = 143 ]'

tap_done
