#!/bin/bash
# SPDX-License-Identifier: MIT
# More journal files than the soft limit of open files: sd-journal keeps every file it reads
# open (and keytrail a lookup handle per file besides), so a folder of many files (a long
# retention, journal-remote's hosts) read with the usual soft limit of 1,024 failed: --jobs 1 read
# only part of the entries and called the rest "written to during the scan", --jobs 2 stopped with
# "Too many open files". keytrail raises the soft limit to the hard one at its start, as
# journalctl does. Here: the e2e sample spread over 100 files, read with a soft limit of 40
# (the hard one left as it is): --jobs 1 and 2 give exactly what they give without the limit.
# Past the hard limit (ulimit -n N sets both), a scan says so, never that files are corrupt or
# were written to. TAP.
#
#   many-files.sh KEYTRAIL SOURCE_DIR
set -u
keytrail=$1 src=$2
. "$src/tests/journal-lib.sh"
. "$src/tests/tap-lib.sh"
export TZ=UTC
args=(--rules "$src/rules" --format json --stats)
for f in "$src"/tests/data/sample-authorized_keys-*; do
        args+=(--authorized-keys "ktdemo${f##*sample-authorized_keys-}:$f")
done

if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt 1000 ]; then
        echo "1..0 # SKIP hard limit of open files $(ulimit -Hn): cannot test past a soft one"
        exit 0
fi

# The sample's entries over 100 files, each file a run of consecutive entries (one seqnum id each).
python3 - "$src/tests/data/e2e-openssh-9.2.export" "$tmp" <<'PY'
import sys
blocks = [b for b in open(sys.argv[1], encoding="utf-8").read().split("\n\n") if b.strip()]
per = -(-len(blocks) // 100)
for k in range(0, len(blocks), per):
    with open("%s/e%03d.export" % (sys.argv[2], k // per), "w", encoding="utf-8") as f:
        f.write("\n\n".join(blocks[k:k + per]) + "\n\n")
PY
mkdir "$tmp/j"
for e in "$tmp"/e*.export; do
        name=${e##*/}
        journal_from_export "$e" "$tmp/j/${name%.export}.journal" || exit 1
done
check "100 journal files" '[ "$(ls "$tmp/j" | wc -l)" = 100 ]'

for j in 1 2; do
        "$keytrail" scan --jobs $j "${args[@]}" --directory "$tmp/j" >"$tmp/free.$j" 2>"$tmp/free-err.$j"
        echo "rc=$?" >>"$tmp/free.$j"
        (
                ulimit -Sn 40
                exec "$keytrail" scan --jobs $j "${args[@]}" --directory "$tmp/j"
        ) >"$tmp/low.$j" 2>"$tmp/low-err.$j"
        echo "rc=$?" >>"$tmp/low.$j"
        check "--jobs $j, soft limit 40: the alerts and exit status of no limit" \
                'cmp -s "$tmp/free.$j" "$tmp/low.$j"'
        check "--jobs $j, soft limit 40: the same stderr (--stats), nothing else" \
                'cmp -s "$tmp/free-err.$j" "$tmp/low-err.$j" && [ "$(wc -l <"$tmp/low-err.$j")" = 1 ]'
done
# Past the HARD limit: a limit of 60 for 100 files. sd-journal would leave files out without a
# word, and keytrail said of them "corrupt, read only in part" or "written to during the scan",
# with false alerts of the entries it missed. Now: nothing read, exit 2, one line with the true
# cause, the limit and how to raise it.
for j in 1 2; do
        (
                ulimit -n 60
                exec "$keytrail" scan --jobs $j "${args[@]}" --directory "$tmp/j"
        ) >"$tmp/hard.$j" 2>"$tmp/hard-err.$j"
        echo "rc=$?" >>"$tmp/hard.$j"
        check "--jobs $j, hard limit 60: exit 2, no alert" '[ "$(cat "$tmp/hard.$j")" = rc=2 ]'
        check "  ... one line: the folder, the limit, how to raise it" \
                '[ "$(wc -l <"$tmp/hard-err.$j")" = 1 ] &&
                 grep -q "^keytrail: --directory: cannot open $tmp/j: more journal files than the limit of open files allows (60; .*raise the hard limit (ulimit -Hn as root, LimitNOFILE= in a systemd unit)" "$tmp/hard-err.$j"' ||
                sed 's/^/# /' "$tmp/hard-err.$j" | head -5
done

# Room for the files, not for every handle at once (sd-journal's, the held descriptors and the
# lookup handles would need about 300 for 100 files): the lookup handles are let go and opened
# again; --jobs 1 gives exactly what it gives with no limit. --jobs 2 (a handle per file for the
# readers, up to one more for the merge, the lookups' and the held ones: four per file) reads
# with one thread below about three per file, saying so in one line and counting it
# (jobs_limited=1): the alerts, exit status and counters of no limit otherwise (it stopped halfway
# with exit 2 and part of the alerts, or not, as the threads ran); from three per file, in
# parallel without the held descriptors: exactly what it gives with no limit.
for lim in 115 160 250 350; do
        for j in 1 2; do
                (
                        ulimit -n $lim
                        exec "$keytrail" scan --jobs $j "${args[@]}" --directory "$tmp/j"
                ) >"$tmp/mid.$j" 2>"$tmp/mid-err.$j"
                echo "rc=$?" >>"$tmp/mid.$j"
                if [ $j = 1 ] || [ $lim = 350 ]; then
                        check "--jobs $j, hard limit $lim: the alerts, exit status and --stats of no limit" \
                                'cmp -s "$tmp/free.$j" "$tmp/mid.$j" && cmp -s "$tmp/free-err.$j" "$tmp/mid-err.$j"'
                else
                        check "--jobs 2, hard limit $lim: the alerts and exit status of no limit, read with one thread" \
                                'cmp -s "$tmp/free.2" "$tmp/mid.2" && [ "$(wc -l <"$tmp/mid-err.2")" = 2 ] &&
                                 head -n 1 "$tmp/mid-err.2" | grep -qx "keytrail: reading the 100 journal files with one reader, not 2: the readers need up to three descriptors per file, more than the limit of open files allows ($lim); raise the hard limit (ulimit -Hn as root, LimitNOFILE= in a systemd unit) to read them in parallel" &&
                                 [ "$(tail -n 1 "$tmp/mid-err.2")" = "$(sed "s/ jobs_limited=0 / jobs_limited=1 /" "$tmp/free-err.2")" ]'
                fi
                check "  ... --jobs $j: never \"written to during the scan\", \"corrupt\" or \"changed\"" \
                        '! grep -q "written to during\|corrupt\|changed" "$tmp/mid-err.$j"'
        done
done

# Without /proc (a chroot, a container without it) the descriptors open are counted one by one:
# --jobs 2 under a limit of 120 reads with one thread as above (it took the room as there, and
# stopped halfway with exit 2).
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
        unshare -m sh -c 'umount -l /proc && ulimit -n 120 && exec "$@"' sh \
                "$keytrail" scan --jobs 2 "${args[@]}" --directory "$tmp/j" >"$tmp/np.2" 2>"$tmp/np-err.2"
        echo "rc=$?" >>"$tmp/np.2"
        check "--jobs 2, hard limit 120, no /proc: the alerts and exit status of no limit, one thread" \
                'cmp -s "$tmp/free.2" "$tmp/np.2" && grep -q "^keytrail: reading the 100 journal files with one reader, not 2" "$tmp/np-err.2"'
else
        ok "# SKIP not root: no mount namespace without /proc"
fi

check "no limit: 11 alerts, exit 1, every entry read (records=399)" \
        '[ "$(tail -n 1 "$tmp/free.1")" = rc=1 ] && [ "$(grep -c "^{" "$tmp/free.1")" = 11 ] &&
         grep -q "records=399 " "$tmp/free-err.1"'
check "--jobs 2 = --jobs 1" 'cmp -s "$tmp/free.1" "$tmp/free.2" && cmp -s "$tmp/free-err.1" "$tmp/free-err.2"'
tap_done
