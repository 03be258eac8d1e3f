#!/bin/bash
# SPDX-License-Identifier: MIT
# keytrail scan --jobs N (several files read by threads, merged in journal order) gives exactly
# what --jobs 1 (one sd_journal) gives: the same records in the same order, the same alerts (ids
# included) in the same order, the same --stats line and exit status; keytrail report the same
# report. TAP.
#
#   scan-parallel.sh KEYTRAIL SOURCE-ORDER SOURCE_DIR
#
# SOURCE-ORDER (tests/unit/source-order.c) prints every record the journal source hands out: its
# cursor, times, fields and a hash of their bytes. Journals, all made by systemd-journal-remote
# from export text:
#   - every scenario journal (tests/journal/*.export) and the bundled samples (tests/data), alone;
#   - a fleet folder: each of them as its own file (one seqnum id each; most share one boot, the
#     samples have their own), so entries of many files interleave (by monotonic time in one
#     boot, by wall time across boots);
#   - a history from one seqnum id: A, then a copy of A with more entries (B), a copy of B with
#     more (C), and a copy of A that went on with other entries under the same seqnums (D): the
#     merge orders by seqnum, hands an entry stored in several files out once, and falls back to
#     the clocks where two files disagree about a seqnum;
#   - entries with a field given twice (a value over the 64 KiB cut, then a short one): the last
#     value counts, uncut, as for one sd_journal;
#   - the fleet and the history in one folder, read as --directory and as --file in another order
#     (sd-journal's order of files decides ties), with --since/--until.
# The fixtures are checked to really interleave and to really share a seqnum id, so that a merge
# that just read the files one after the other would fail here.
set -u
keytrail=$1 order=$2 src=$3
. "$src/tests/journal-lib.sh"
. "$src/tests/tap-lib.sh"

dir=$src/tests/journal
jargs=(--rules "$src/rules" --format json --stats
        --authorized-keys "mirror:$dir/mirror.authorized_keys"
        --authorized-keys "ops:$dir/ops.authorized_keys"
        --authorized-keys "root:$dir/root.authorized_keys")
for f in "$src"/tests/data/sample-authorized_keys-*; do
        jargs+=(--authorized-keys "ktdemo${f##*sample-authorized_keys-}:$f")
done

# same NAME ARGS...: source-order and keytrail scan with --jobs 1, 2 and 4 agree, byte for byte.
# A time bound is given as "--since SECONDS" (--since @SECONDS to keytrail).
same() {
        local name=$1 j bad=0 oargs=() kargs=()
        shift
        while [ $# -gt 0 ]; do
                case $1 in
                --since | --until)
                        oargs+=("$1" "$2"000000)
                        kargs+=("$1" "@$2")
                        shift 2
                        ;;
                --*)
                        oargs+=("$1" "$2")
                        kargs+=("$1" "$2")
                        shift 2
                        ;;
                *)
                        oargs+=("$1")
                        kargs+=(--file "$1")
                        shift
                        ;;
                esac
        done
        for j in 1 2 4; do
                "$order" --jobs $j "${oargs[@]}" >"$tmp/order.$j" 2>"$tmp/order-err.$j"
                echo "rc=$?" >>"$tmp/order.$j"
                "$keytrail" scan --jobs $j "${jargs[@]}" "${kargs[@]}" >"$tmp/scan.$j" \
                        2>"$tmp/scan-err.$j"
                echo "rc=$?" >>"$tmp/scan.$j"
        done
        for j in 2 4; do
                for k in order order-err scan scan-err; do
                        if ! cmp -s "$tmp/$k.1" "$tmp/$k.$j"; then
                                echo "# $name: $k of --jobs $j differs from --jobs 1:"
                                diff "$tmp/$k.1" "$tmp/$k.$j" | head -n 10 | sed 's/^/#   /'
                                bad=1
                        fi
                done
        done
        grep -q '^keytrail: stats: records=' "$tmp/scan-err.1" || { echo "# $name: no stats"; bad=1; }
        if [ $bad = 0 ]; then
                ok "$name: --jobs 2 and 4 equal --jobs 1 ($(grep -c '^s=' "$tmp/order.1") records, $(($(wc -l <"$tmp/scan.1") - 1)) alerts)"
        else
                not_ok "$name: --jobs 2 and 4 equal --jobs 1"
        fi
}

# ---- every scenario alone ------------------------------------------------------------------------
mkdir -p "$tmp/fleet" "$tmp/history"
for e in "$dir"/*.export "$src"/tests/data/*.export; do
        name=$(basename "$e" .export)
        journal_from_export "$e" "$tmp/fleet/$name.journal" || { not_ok "$name: journal"; continue; }
        same "$name" "$tmp/fleet/$name.journal"
done

# ---- huge entries: fields too big for a reader's batch are read again by the merge's thread ------
# (two hosts' files: a 20 KB and a 70 KB (over the 64 KiB cut) MESSAGE, a 30 KB command, an entry
# without MESSAGE, between ordinary ones)
huge() { # HOST BOOT T0
        local i big
        big=$(head -c "$4" /dev/zero | tr '\0' x)
        for i in 1 2 3 4 5 6; do
                printf '__REALTIME_TIMESTAMP=%s\n__MONOTONIC_TIMESTAMP=%s\n_BOOT_ID=%s\n' \
                        $(($3 + i * 1000)) $((5000000 + i * 1000)) "$2"
                printf '_MACHINE_ID=%s\n_HOSTNAME=%s\n_PID=%s\n_UID=0\n_COMM=sshd\n' \
                        4c6f0b5e8f6a4c9aa1f2e3d4c5b6a7b8 "$1" $((700 + i))
                printf 'SYSLOG_IDENTIFIER=sshd\n_EXE=/usr/sbin/sshd\n'
                case $i in
                2) printf 'MESSAGE=Connection closed by %s port 22 [preauth]\n' "$big" ;;
                3) printf 'MESSAGE=Invalid user %s%s from 192.0.2.1 port 22\n' "$big" "$big$big$big" ;;
                4) printf 'SSH_ORIGINAL_COMMAND=%s\n' "$big$big" ;;
                *) printf 'MESSAGE=Connection from 192.0.2.%s port 22 on 10.0.0.1 port 22\n' $i ;;
                esac
                echo
        done
}
huge hosta 1a3e5ad2d3c94bd59b4f7a5e0c2b1a03 1764300000000000 20000 >"$tmp/huge-a.export"
huge hostb 2a3e5ad2d3c94bd59b4f7a5e0c2b1a04 1764300000000500 20000 >"$tmp/huge-b.export"
mkdir -p "$tmp/huge"
journal_from_export "$tmp/huge-a.export" "$tmp/huge/a.journal" &&
        journal_from_export "$tmp/huge-b.export" "$tmp/huge/b.journal" || not_ok "huge: journals"
same "huge entries" --directory "$tmp/huge"
check "huge entries: 8 records, 2 oversized, 2 malformed (of 12)" \
        '[ "$(grep -c "^s=" "$tmp/order.1")" = 8 ] && grep -q "malformed=2 oversized=2" "$tmp/order.1"'

# ---- a field given twice: the last value counts, as sd-journal hands them to --jobs 1 ------------
# (a reader keeps every value in order and the merge's thread sets them in that order; a first
# value over the 64 KiB cut and a short second one must leave the field uncut)
twice() { # HOST BOOT T0
        local i big
        big=$(head -c 70000 /dev/zero | tr '\0' y)
        for i in 1 2 3 4 5; do
                printf '__REALTIME_TIMESTAMP=%s\n__MONOTONIC_TIMESTAMP=%s\n_BOOT_ID=%s\n' \
                        $(($3 + i * 1000)) $((5000000 + i * 1000)) "$2"
                printf '_MACHINE_ID=%s\n_HOSTNAME=%s\n_UID=0\n_COMM=sshd\n' \
                        4c6f0b5e8f6a4c9aa1f2e3d4c5b6a7b8 "$1"
                printf 'SYSLOG_IDENTIFIER=sshd\n_EXE=/usr/sbin/sshd\n_PID=%s\n' $((800 + i))
                case $i in
                2) printf 'MESSAGE=first of two\n_PID=%s\n' $((900 + i)) ;;
                3) printf 'MESSAGE=%s\n' "$big" ;;
                4) printf 'SSH_ORIGINAL_COMMAND=%s\nSSH_ORIGINAL_COMMAND=short\n' "$big" ;;
                esac
                printf 'MESSAGE=Connection from 192.0.2.%s port 22 on 10.0.0.1 port 22\n\n' $i
        done
}
twice hosta 3a3e5ad2d3c94bd59b4f7a5e0c2b1a05 1764300000000000 >"$tmp/twice-a.export"
twice hostb 4a3e5ad2d3c94bd59b4f7a5e0c2b1a06 1764300000000500 >"$tmp/twice-b.export"
mkdir -p "$tmp/twice"
journal_from_export "$tmp/twice-a.export" "$tmp/twice/a.journal" &&
        journal_from_export "$tmp/twice-b.export" "$tmp/twice/b.journal" || not_ok "twice: journals"
same "fields given twice" --directory "$tmp/twice"
check "fields given twice: 10 records, none oversized, the cut value's bit cleared" \
        '[ "$(grep -c "^s=" "$tmp/order.1")" = 10 ] && grep -q "malformed=0 oversized=0" "$tmp/order.1" &&
         [ "$(awk "/^s=/ { print \$5 }" "$tmp/order.1" | sort -u)" = 00000000 ]'

# ---- one seqnum id over several files -------------------------------------------------------------
sample=$src/tests/data/e2e-openssh-9.2.export
other=$src/tests/data/e2e-openssh-10.0.export
chunk() { awk -v a="$2" -v b="$3" 'BEGIN { RS = ""; ORS = "\n\n" } NR > a && NR <= b' "$1"; }
chunk "$sample" 0 150 >"$tmp/c1"
chunk "$sample" 150 300 >"$tmp/c2"
chunk "$sample" 300 100000 >"$tmp/c3"
chunk "$other" 0 200 >"$tmp/c4"
h=$tmp/history
journal_from_export "$tmp/c1" "$h/a.journal" &&
        cp "$h/a.journal" "$h/b.journal" && journal_from_export "$tmp/c2" "$h/b.journal" &&
        cp "$h/b.journal" "$h/c.journal" && journal_from_export "$tmp/c3" "$h/c.journal" &&
        cp "$h/a.journal" "$h/d.journal" && journal_from_export "$tmp/c4" "$h/d.journal" ||
        not_ok "history: journals"
seqid() { journalctl --file "$1" --header | sed -n 's/^Sequential number ID: //p'; }
check "history: a, b, c and d share one seqnum id" \
        '[ -n "$(seqid "$h/a.journal")" ] && [ $(for f in "$h"/*.journal; do seqid "$f"; done | sort -u | wc -l) = 1 ]'
same "history" --directory "$h"
# every entry of c is in the merged read once, those of d after the shared part too: fewer
# records than the files hold together
"$order" --jobs 2 --directory "$h" >"$tmp/h.order"
total=0
for f in "$h"/*.journal; do
        total=$((total + $(grep -c '^s=' < <("$order" "$f"))))
done
merged=$(grep -c '^s=' "$tmp/h.order")
check "history: entries stored in several files handed out once ($merged of $total)" \
        '[ "$merged" -lt "$total" ] && [ "$merged" -gt "$(grep -c "^s=" < <("$order" "$h/c.journal"))" ]'

# ---- all together -----------------------------------------------------------------------------------
mv "$h"/*.journal "$tmp/fleet/"
same "fleet folder" --directory "$tmp/fleet"
# keytrail report reads through the same feed loop
for j in 1 2 4; do
        "$keytrail" report --jobs $j "${jargs[@]}" --directory "$tmp/fleet" \
                >"$tmp/report.$j" 2>"$tmp/report-err.$j"
        echo "rc=$?" >>"$tmp/report.$j"
done
check "fleet folder: keytrail report --jobs 2 and 4 equal --jobs 1" \
        'cmp -s "$tmp/report.1" "$tmp/report.2" && cmp -s "$tmp/report.1" "$tmp/report.4" &&
         cmp -s "$tmp/report-err.1" "$tmp/report-err.2" && cmp -s "$tmp/report-err.1" "$tmp/report-err.4" &&
         [ "$(wc -c <"$tmp/report.1")" -gt 1000 ]'
files=()
while read -r f; do files+=("$f"); done < <(ls -r "$tmp"/fleet/*.journal)
same "fleet files, reverse order" "${files[@]}"
# the merged read switches between files of different seqnum ids, again and again
switches=$(awk '{ split($1, p, ";"); if (NR > 1 && p[1] != last && p[1] ~ /^s=/) n++; last = p[1] } END { print n + 0 }' "$tmp/order.1")
check "fleet: the merged read switches files $switches times (> 40)" '[ "$switches" -gt 40 ]'
first=$(awk '/^s=/ { print $2; exit }' "$tmp/order.1")
last=$(awk '/^s=/ { t = $2 } END { print t }' "$tmp/order.1")
mid=$(( (first + last) / 2000000 ))
same "fleet, --since" --since "$mid" "${files[@]}"
same "fleet, --until" --until "$mid" --directory "$tmp/fleet"
check "fleet, --until: fewer records than the whole ($(grep -c '^s=' "$tmp/order.1"))" \
        '[ "$(grep -c "^s=" "$tmp/order.1")" -lt "$switches" ] || [ "$(grep -c "^s=" "$tmp/order.1")" -gt 0 ]' 
# the files of the fleet overlap in time: the first entry of one lies inside another's span
overlaps=0
for f in "$tmp"/fleet/*.journal; do
        "$order" "$f" | awk '/^s=/ { if (!a) a = $2; b = $2 } END { print a, b }'
done >"$tmp/spans"
overlaps=$(awk '{ a[NR] = $1; b[NR] = $2 } END { for (i = 1; i <= NR; i++) for (j = 1; j <= NR; j++)
        if (i != j && a[j] > a[i] && a[j] < b[i]) n++; print n + 0 }' "$tmp/spans")
check "fleet: files overlapping in time ($overlaps pairs)" '[ "$overlaps" -gt 10 ]'

# ---- the option ---------------------------------------------------------------------------------
for v in 0 x 257 -1 ""; do
        "$keytrail" scan --jobs "$v" --directory "$tmp/fleet" >"$tmp/out" 2>"$tmp/err"
        rc=$?
        check "--jobs '$v' is refused (exit 2, one line naming --jobs)" \
                '[ $rc = 2 ] && [ ! -s "$tmp/out" ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q -- "--jobs" "$tmp/err"'
done
check "keytrail follow takes no --jobs" \
        '! "$keytrail" follow --jobs 2 --directory "$tmp/fleet" >/dev/null 2>&1'

tap_done
