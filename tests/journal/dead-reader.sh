#!/bin/bash
# keytrail scan --jobs 2 whose reader processes are killed (kill -9) while they still have entries
# to read: the scan ends by itself, exit 2 with the one-line error, no reader left behind; also
# when whoever started keytrail ignores SIGCHLD (inherited over exec: the kernel then reaps the
# readers itself and waitpid() never names them). gdb stops keytrail right after it forked the
# readers; each file has more entries than its batches hold, so the readers are alive then.
# Usage: dead-reader.sh KEYTRAIL SRCDIR (TAP on stdout)
set -u
keytrail=$1 src=$2
. "$src/tests/journal-lib.sh"
. "$src/tests/tap-lib.sh"
if ! command -v gdb >/dev/null || ! command -v perl >/dev/null; then
        not_ok "gdb or perl not found (tests/packages.txt)"
        tap_done
        exit
fi
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
mkdir -p "$tmp/d"
# two files of 2000 sshd lines each, interleaved in time (more than 3 batches of 256 entries)
for f in 0 1; do
        for ((i = 0; i < 2000; i++)); do
                printf '__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n' \
                        $((1764200000000000 + i * 2000 + f * 1000)) $((5000000 + i * 2000 + f * 1000))
                printf '_BOOT_ID=0b1e5ad2d3c94bd59b4f7a5e0c2b1a0%d\n_MACHINE_ID=4c6f0b5e8f6a4c9aa1f2e3d4c5b6a7b%d\n' $f $f
                printf '_HOSTNAME=h%d\n_TRANSPORT=syslog\nSYSLOG_IDENTIFIER=sshd\n_PID=%d\n_UID=0\n' $f $((7000 + i))
                printf '_COMM=sshd\n_EXE=/usr/sbin/sshd\nMESSAGE=Connection from 192.0.2.6 port %d on 10.0.0.4 port 22 rdomain ""\n\n' $((40000 + i))
        done >"$tmp/$f.export"
        journal_from_export "$tmp/$f.export" "$tmp/d/$f.journal" || { echo "Bail out! journal-remote"; exit 1; }
done
line="keytrail: reading the journal: Broken pipe"
for how in default ignored; do
        pre=()
        [ $how = ignored ] && pre=(perl -e '$SIG{CHLD} = "IGNORE"; exec @ARGV or die')
        # (timeout: a hang fails the check instead of the suite's whole time)
        timeout -s KILL 30 "${pre[@]}" gdb -q -batch -ex 'set breakpoint pending on' \
                -ex 'break journal_par_new' -ex run -ex finish \
                -ex 'python import subprocess; subprocess.run(["pkill", "-KILL", "-x", "keytrail-read", "-P", str(gdb.selected_inferior().pid)])' \
                -ex delete -ex continue \
                --args "$keytrail" scan --jobs 2 --directory "$tmp/d" --rules "$src/rules" \
                --format json >"$tmp/gdb.$how" 2>&1
        check "SIGCHLD $how: readers killed after the fork: exit 2, the one line, no hang" \
                "grep -q 'exited with code 02' '$tmp/gdb.$how' && grep -qxF '$line' '$tmp/gdb.$how'"
        grep -q 'exited with code 02' "$tmp/gdb.$how" || grep -m5 'exited\|^keytrail\|Killed\|rror' "$tmp/gdb.$how" | sed 's/^/# /'
done
# keytrail itself killed (kill -9) while its readers read: they die with it (PR_SET_PDEATHSIG)
timeout -s KILL 30 gdb -q -batch -ex 'set breakpoint pending on' -ex 'break journal_par_new' -ex run \
        -ex finish \
        -ex "python import subprocess; open('$tmp/readers', 'w').write(subprocess.run(['pgrep', '-x', 'keytrail-read', '-P', str(gdb.selected_inferior().pid)], capture_output=True, text=True).stdout)" \
        -ex kill --args "$keytrail" scan --jobs 2 --directory "$tmp/d" --rules "$src/rules" \
        --format json >"$tmp/gdb.parent" 2>&1
# (a killed reader is a zombie until its new parent reaps it: alive means running or sleeping)
alive() {
        local p
        for p in $(cat "$tmp/readers"); do
                grep -q '^State:[[:space:]]*[^Z[:space:]]' "/proc/$p/status" 2>/dev/null && return 0
        done
        return 1
}
for ((i = 0; i < 100 && $(alive && echo 1 || echo 0); i++)); do sleep 0.1; done
check "keytrail killed after the fork: its two readers are gone" \
        "[ \$(wc -l <'$tmp/readers') = 2 ] && ! alive"
# fork() cannot start the readers (the limit of processes: nobody with ulimit -u 1): read with one
# reader, said in one line, the alerts and exit status of --jobs 1; given files and a folder
# (a third file with an alert: a key not in the baseline)
mkdir -p "$tmp/u" && cp "$tmp"/d/*.journal "$tmp/u/" && cp "$src/tests/journal/mirror.authorized_keys" "$tmp/"
journal_from_export "$src/tests/journal/unknown-key.export" "$tmp/u/2.journal" ||
        { echo "Bail out! journal-remote"; exit 1; }
kargs=(--authorized-keys "mirror:$tmp/mirror.authorized_keys" --rules "$src/rules" --format json)
"$keytrail" scan --jobs 1 --directory "$tmp/u" "${kargs[@]}" >"$tmp/one" 2>/dev/null
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && command -v prlimit >/dev/null; then
        chmod a+rx "$tmp" "$tmp/u" && chmod a+r "$tmp"/u/*.journal "$tmp/mirror.authorized_keys"
        unforked="keytrail: reading the 3 journal files with one reader, not 2: cannot start reader processes (the limit of processes, ulimit -u, or memory)"
        for how in files folder; do
                if [ $how = files ]; then a=(--file "$tmp/u/0.journal" --file "$tmp/u/1.journal"
                        --file "$tmp/u/2.journal")
                else a=(--directory "$tmp/u"); fi
                rc=0
                setpriv --reuid nobody --regid nogroup --clear-groups prlimit --nproc=1 -- \
                        "$keytrail" scan --jobs 2 "${a[@]}" "${kargs[@]}" \
                        >"$tmp/unforked" 2>"$tmp/unforked.err" || rc=$?
                check "fork() fails, $how: exit 1, the alerts of --jobs 1, the one line" \
                        "[ $rc = 1 ] && [ -s '$tmp/one' ] && cmp -s '$tmp/one' '$tmp/unforked' && [ \"\$(cat '$tmp/unforked.err')\" = '$unforked' ]"
                [ $rc = 1 ] || sed 's/^/# /' "$tmp/unforked.err"
        done
else
        not_ok "fork() fails: needs root, setpriv and prlimit (util-linux)"
fi
tap_done
