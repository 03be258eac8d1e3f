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
#     (sd-journal's order of files decides ties), with --since/--until;
#   - what the merge must read again, because its readers read only each batch's first and last
#     cursor (files of more than one batch each): files whose entries all share their wall clocks
#     (other boots: the xor hash decides; the same boot and monotonic clock too), a scenario and a
#     twin of it from another machine at the same wall clocks (alerts and evidence cursors), files
#     of one seqnum id written by different hosts (copies of one file that went on differently:
#     seqnum ranges that overlap), a clock set back in the middle of a file, and a file whose
#     seqnums repeat (edited in place: the second read must go the reader's way from the start).
# Each is read twice: with every record's cursor asked for (source_cursor(): the merge reads the
# entry exact), and with none asked for (the order from what the readers read alone).
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
                "$order" --cursors 0 --jobs $j "${oargs[@]}" >"$tmp/bare.$j" 2>&1
                echo "rc=$?" >>"$tmp/bare.$j"
                "$keytrail" scan --jobs $j "${jargs[@]}" "${kargs[@]}" >"$tmp/scan.$j" \
                        2>"$tmp/scan-err.$j"
                echo "rc=$?" >>"$tmp/scan.$j"
        done
        for j in 2 4; do
                for k in order order-err bare scan scan-err; do
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

# ---- what the merge reads again ------------------------------------------------------------------
# gen HOST BOOT T0 N STEP [BACK_AT BACK_BY] [FIRST]: N sshd lines (entries FIRST..), wall clock
# T0 + i * STEP (less BACK_BY from entry BACK_AT on: a clock set back), monotonic 5 s + i ms
gen() {
        awk -v host="$1" -v boot="$2" -v t0="$3" -v n="$4" -v step="$5" -v back="${6:-0}" \
                -v by="${7:-0}" -v first="${8:-1}" 'BEGIN {
                for (i = first; i < first + n; i++) {
                        t = t0 + i * step
                        if (back && i >= back)
                                t -= by
                        printf "__REALTIME_TIMESTAMP=%.0f\n__MONOTONIC_TIMESTAMP=%.0f\n", t, 5000000 + i * 1000
                        printf "_BOOT_ID=%s\n_MACHINE_ID=4c6f0b5e8f6a4c9aa1f2e3d4c5b6a7b8\n", boot
                        printf "_HOSTNAME=%s\n_PID=%d\n_UID=0\n_COMM=sshd\n", host, 1000 + i % 5000
                        printf "SYSLOG_IDENTIFIER=sshd\n_EXE=/usr/sbin/sshd\n"
                        printf "MESSAGE=Connection from 192.0.2.%d port %d on 10.0.0.1 port 22\n\n", i % 250, 1024 + i
                }
        }'
}
t0=1764300000000000
b1=1a3e5ad2d3c94bd59b4f7a5e0c2b1a03 b2=2a3e5ad2d3c94bd59b4f7a5e0c2b1a04 b3=3a3e5ad2d3c94bd59b4f7a5e0c2b1a05
m=$tmp/merge
mkdir -p "$m/ties" "$m/sameboot" "$m/twins" "$m/shared" "$m/back"
# two hosts, every entry at the same wall clock as the other's: 1200 entries, five batches each
gen hosta $b1 $t0 1200 1000 >"$tmp/m1" && gen hostb $b2 $t0 1200 1000 >"$tmp/m2" &&
        journal_from_export "$tmp/m1" "$m/ties/a.journal" &&
        journal_from_export "$tmp/m2" "$m/ties/b.journal" || not_ok "ties: journals"
same "equal wall clocks, other boots" --directory "$m/ties"
# ... and one boot: the same monotonic clock too
gen hostc $b1 $t0 1200 1000 >"$tmp/m3" && journal_from_export "$tmp/m1" "$m/sameboot/a.journal" &&
        journal_from_export "$tmp/m3" "$m/sameboot/c.journal" || not_ok "sameboot: journals"
same "equal wall and monotonic clocks, one boot" --directory "$m/sameboot"
check "equal clocks: every entry of both files read (2400 records)" \
        '[ "$(grep -c "^s=" "$tmp/order.1")" = 2400 ]'
# a scenario, and its twin from another machine and boot at the same wall clocks: alerts from both
sed -e 's/^_BOOT_ID=.*/_BOOT_ID=5a3e5ad2d3c94bd59b4f7a5e0c2b1a07/' \
        -e 's/^_MACHINE_ID=.*/_MACHINE_ID=6c6f0b5e8f6a4c9aa1f2e3d4c5b6a7b9/' \
        -e 's/^_HOSTNAME=.*/_HOSTNAME=twin/' "$sample" >"$tmp/twin"
journal_from_export "$sample" "$m/twins/a.journal" && journal_from_export "$tmp/twin" "$m/twins/b.journal" ||
        not_ok "twins: journals"
same "a scenario and its twin at the same wall clocks" --directory "$m/twins"
check "twins: alerts of both machines, with evidence cursors" \
        '[ "$(grep -c "\"host\":\"twin\"" "$tmp/scan.1")" -ge 5 ] && [ "$(grep -c "\"host\":\"vm\"" "$tmp/scan.1")" -ge 5 ] &&
         grep -q "\"evidence\":\\[\"s=" "$tmp/scan.1"'
# one seqnum id, three hosts: a (hosta, 1000 entries), b = a and then hostb's entries between a's
# wall clocks, c = a's first 500 and then hostc's under the seqnums a gave its own 501..1000
gen hosta $b1 $t0 500 1000 >"$tmp/s1" && gen hosta $b1 $t0 500 1000 0 0 501 >"$tmp/s2" &&
        gen hostb $b2 $((t0 + 500)) 1000 1000 >"$tmp/s3" && gen hostc $b3 $((t0 + 250)) 800 1000 0 0 501 >"$tmp/s4"
journal_from_export "$tmp/s1" "$tmp/base.journal" &&
        cp "$tmp/base.journal" "$m/shared/a.journal" && journal_from_export "$tmp/s2" "$m/shared/a.journal" &&
        cp "$m/shared/a.journal" "$m/shared/b.journal" && journal_from_export "$tmp/s3" "$m/shared/b.journal" &&
        cp "$tmp/base.journal" "$m/shared/c.journal" && journal_from_export "$tmp/s4" "$m/shared/c.journal" ||
        not_ok "shared: journals"
check "shared: a, b and c share one seqnum id" \
        '[ $(for f in "$m"/shared/*.journal; do seqid "$f"; done | sort -u | wc -l) = 1 ]'
same "one seqnum id, three hosts, overlapping seqnums" --directory "$m/shared"
check "shared: the copies of a in b and c handed out once (2800 records of 4300)" \
        '[ "$(grep -c "^s=" "$tmp/order.1")" = 2800 ]'
same "one seqnum id, the files in another order" "$m/shared/c.journal" "$m/shared/b.journal" "$m/shared/a.journal"
# a clock set back by 10 minutes in the middle of a file, beside another host's
gen hosta $b1 $t0 1000 1000000 600 600000000 >"$tmp/k1" && gen hostb $b2 $((t0 + 333)) 1000 700000 >"$tmp/k2" &&
        journal_from_export "$tmp/k1" "$m/back/a.journal" && journal_from_export "$tmp/k2" "$m/back/b.journal" ||
        not_ok "back: journals"
same "a clock set back" --directory "$m/back"
# a file whose seqnums repeat (one entry object edited: the first of its second batch takes the
# seqnum of the entry before it): the merge's second read cannot go by that entry's cursor (sd-journal
# seeks to the first entry of a seqnum) and goes the reader's way from the start
mkdir -p "$m/repeat"
cp "$m/ties/a.journal" "$m/repeat/a.journal" && cp "$m/ties/b.journal" "$m/repeat/b.journal" &&
python3 - "$m/repeat/a.journal" 256 <<'PY' || not_ok "repeat: journal"
import struct, sys
path, k = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    data = bytearray(f.read())
    header_size, arena_size = struct.unpack_from("<QQ", data, 88)
    off, entries = header_size, []
    while off < header_size + arena_size:
        size = struct.unpack_from("<Q", data, off + 8)[0]
        if size == 0:
            break
        if data[off] == 3:  # an entry object: its seqnum at +16
            entries.append(off)
        off += (size + 7) & ~7
    struct.pack_into("<Q", data, entries[k] + 16, struct.unpack_from("<Q", data, entries[k - 1] + 16)[0])
    f.seek(0)
    f.write(data)
PY
check "repeat: two entries of a.journal share a seqnum" \
        '[ "$(journalctl --file "$m/repeat/a.journal" -o export | grep -a "^__CURSOR=" | sed "s/;b=.*//" | sort | uniq -d | wc -l)" = 1 ]'
same "a file whose seqnums repeat, at equal wall clocks with another" --directory "$m/repeat"
mv "$m"/ties/a.journal "$m/back/ties-a.journal"
mv "$m"/sameboot/c.journal "$m/back/sameboot-c.journal"
mv "$m"/twins/b.journal "$m/back/twin.journal"
mv "$m"/shared/*.journal "$m/back/"
same "all of them in one folder" --directory "$m/back"

# ---- the option -----------------------------------------------------------------------------
for v in 0 x 257 -1 ""; do
        "$keytrail" scan --jobs "$v" --directory "$tmp/fleet" >"$tmp/out" 2>"$tmp/err"
        rc=$?
        check "--jobs '$v' is refused (exit 2, one line naming --jobs)" \
                '[ $rc = 2 ] && [ ! -s "$tmp/out" ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q -- "--jobs" "$tmp/err"'
done
check "keytrail follow takes no --jobs" \
        '! "$keytrail" follow --jobs 2 --directory "$tmp/fleet" >/dev/null 2>&1'

tap_done
