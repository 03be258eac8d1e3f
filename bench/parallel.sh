#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/parallel.sh [BUILD_DIR]: `keytrail scan --jobs N` (journal files read by N reader
# processes, merged in journal order) against the bare single-threaded sd-journal loop, over the bench's journal
# (bench/work/journal, made by bench/run.sh), in one run: bare loop, --jobs 1, --jobs 2, --jobs 4,
# alternating, REPS times each; medians of wall and CPU time. The alerts of every --jobs must be
# byte-identical to those of --jobs 1. See bench/README.md ("Many files").
#
#   REPS=5       timed repetitions of each program
#   JOBS_LIST="1 2 4"  the --jobs values timed
#   OTHER=PATH   also time another keytrail binary with --jobs 2 (e.g. one built from an older
#                commit), alternating with the rest, to compare two builds side by side
#   SPLIT=1      also sample one --jobs 2 run with perf (cpu-clock) and print the CPU split:
#                the main thread (merge, rules, correlator, output) against the readers; the
#                main thread's share bounds how far more cores can take --jobs. With ONE_CPU=1
#                also of one run held to one CPU: the readers' CPU on 2 CPUs against on 1 (what
#                running side by side costs them)
#   ONE_CPU=1    (the default; 0: off) also time --jobs 2 held to one CPU (taskset -c 0): with
#                the 2-CPU line, how --jobs 2 grows from one core to two
#   WORK=bench/work  where the journal is (bench/run.sh's); this run's timings and alerts go to a
#                directory of its own under it, removed at the end (KEEP=1: kept), so that two runs
#                at once do not mix their figures
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$SRC/$BUILD ;; esac
WORK=${WORK:-$SRC/bench/work}
case $WORK in /*) ;; *) WORK=$SRC/$WORK ;; esac
REPS=${REPS:-5}
JOBS_LIST=${JOBS_LIST:-1 2 4}
ONE_CPU=${ONE_CPU:-1}
KEYTRAIL=$BUILD/keytrail

die() { echo "parallel.sh: $*" >&2; exit 2; }

[ -f "$WORK/journal/.stamp" ] || die "no bench journal: run bench/run.sh $1 once first"
[ -x /usr/bin/time ] || die "/usr/bin/time not found (apt-get install time)"
[ -f "$BUILD/build.ninja" ] && { ninja -C "$BUILD" keytrail >/dev/null || die "cannot build keytrail"; }
[ -x "$KEYTRAIL" ] || die "$KEYTRAIL not found"
BARE=$WORK/bare-loop
if [ ! -x "$BARE" ] || [ "$SRC/bench/bare-loop.c" -nt "$BARE" ]; then
        cc -std=gnu17 -O2 -g -Wall -Wextra -o "$BARE" "$SRC/bench/bare-loop.c" \
                $(pkg-config --cflags --libs libsystemd)
fi

files=("$WORK"/journal/*.journal)
file_args=()
for f in "${files[@]}"; do file_args+=(--file "$f"); done
ak_args=()
while read -r a; do ak_args+=(--authorized-keys "$a"); done <"$WORK/keys/baseline.args"
kt=("$KEYTRAIL" scan "${file_args[@]}" "${ak_args[@]}" --rules "$SRC/rules" --format json --stats)
if [ "$ONE_CPU" = 1 ]; then
        command -v taskset >/dev/null || die "ONE_CPU=1 needs taskset (util-linux)"
        [ "$(nproc)" -ge 2 ] || ONE_CPU=0
fi
OUT=$(mktemp -d "$WORK/par.XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$OUT"' EXIT

# warm the page cache; the alerts and --stats of every --jobs equal those of --jobs 1
"$BARE" "${files[@]}" >/dev/null
for j in $JOBS_LIST; do
        rc=0
        "${kt[@]}" --jobs "$j" >"$OUT/alerts.$j" 2>"$OUT/stats.$j" || rc=$?
        [ $rc -le 1 ] || die "keytrail --jobs $j exited with $rc"
        if ! cmp -s "$OUT/alerts.$j" "$OUT/alerts.1" ||
                ! cmp -s "$OUT/stats.$j" "$OUT/stats.1"; then
                die "--jobs $j: alerts or --stats differ from --jobs 1"
        fi
done
echo "alerts and --stats of --jobs $JOBS_LIST identical ($(wc -l <"$OUT/alerts.1") alerts)"
if [ -n "${OTHER:-}" ]; then
        [ -x "$OTHER" ] || die "OTHER=$OTHER is no program"
        rc=0
        "$OTHER" "${kt[@]:1}" --jobs 2 >"$OUT/alerts.other" 2>/dev/null || rc=$?
        [ $rc -le 1 ] || die "OTHER exited with $rc"
        cmp -s "$OUT/alerts.other" "$OUT/alerts.1" || die "OTHER's alerts differ"
fi

# one LABEL CMD...: appends "WALL_US CPU_US" to $OUT/times.LABEL
one() {
        local label=$1 t0 t1 rc=0 u s
        shift
        t0=$(date +%s%N)
        /usr/bin/time -f "%U %S" -o "$OUT/time" "$@" >/dev/null 2>&1 || rc=$?
        t1=$(date +%s%N)
        [ $rc -le 1 ] || die "$label exited with $rc"
        read -r u s < <(tail -n1 "$OUT/time")
        echo "$(( (t1 - t0) / 1000 )) $(awk -v u="$u" -v s="$s" 'BEGIN { printf "%d", (u + s) * 1e6 }')" \
                >>"$OUT/times.$label"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

rm -f "$OUT"/times.*
for ((i = 0; i < REPS; i++)); do
        one bare "$BARE" "${files[@]}"
        for j in $JOBS_LIST; do
                one "jobs$j" "${kt[@]}" --jobs "$j"
        done
        if [ -n "${OTHER:-}" ]; then
                one other "$OTHER" "${kt[@]:1}" --jobs 2
        fi
        if [ "$ONE_CPU" = 1 ]; then
                one onecpu taskset -c 0 "${kt[@]}" --jobs 2
        fi
done

bw=$(awk '{ print $1 }' "$OUT/times.bare" | median)
bc=$(awk '{ print $2 }' "$OUT/times.bare" | median)
echo "journal: ${#files[@]} files; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "median of $REPS alternating runs; speed relative to the bare loop (wall: bare/keytrail)"
printf '  %-16s wall %7.3f s  CPU %7.3f s\n' "bare-loop" "$(echo "$bw" | awk '{ print $1 / 1e6 }')" \
        "$(echo "$bc" | awk '{ print $1 / 1e6 }')"
for j in $JOBS_LIST; do
        w=$(awk '{ print $1 }' "$OUT/times.jobs$j" | median)
        c=$(awk '{ print $2 }' "$OUT/times.jobs$j" | median)
        awk -v j="$j" -v w="$w" -v c="$c" -v bw="$bw" -v bc="$bc" 'BEGIN {
                printf "  %-16s wall %7.3f s  CPU %7.3f s  speed %.2f x bare (CPU %.2f of bare)\n",
                       "keytrail --jobs " j, w / 1e6, c / 1e6, bw / w, c / bc }'
done
if [ -n "${OTHER:-}" ]; then
        w=$(awk '{ print $1 }' "$OUT/times.other" | median)
        c=$(awk '{ print $2 }' "$OUT/times.other" | median)
        awk -v w="$w" -v c="$c" -v bw="$bw" -v bc="$bc" 'BEGIN {
                printf "  %-16s wall %7.3f s  CPU %7.3f s  speed %.2f x bare (CPU %.2f of bare)\n",
                       "OTHER --jobs 2", w / 1e6, c / 1e6, bw / w, c / bc }'
fi
if [ "$ONE_CPU" = 1 ]; then
        w=$(awk '{ print $1 }' "$OUT/times.onecpu" | median)
        c=$(awk '{ print $2 }' "$OUT/times.onecpu" | median)
        awk -v w="$w" -v c="$c" -v bw="$bw" -v bc="$bc" 'BEGIN {
                printf "  %-16s wall %7.3f s  CPU %7.3f s  speed %.2f x bare (CPU %.2f of bare)\n",
                       "--jobs 2, 1 CPU", w / 1e6, c / 1e6, bw / w, c / bc }'
fi
if [[ " $JOBS_LIST " == *" 2 "* ]]; then
        # each repetition's bare loop against the --jobs 2 run right after it: how far the
        # machine's moods spread the ratio (the median above is of the two medians)
        paste -d' ' "$OUT/times.bare" "$OUT/times.jobs2" |
                awk '{ print $1 / $3 }' | sort -n |
                awk '{ v[NR] = $1 } END { printf "  --jobs 2 per repetition: speed %.2f x (lowest) %.2f (median) %.2f (highest)\n", v[1], v[int((NR + 1) / 2)], v[NR] }'
fi
echo "goal: --jobs 2 at least 1.5 x the bare loop's speed on 2 CPUs"

if [ "${SPLIT:-0}" = 1 ]; then
        command -v perf >/dev/null || die "SPLIT=1 needs perf"
        # split LABEL [taskset ...]: the readers are processes named keytrail-read; samples of
        # 999 Hz cpu-clock, so counts / 999 are CPU seconds
        split() {
                local label=$1
                shift
                perf record -q -F 999 -o "$OUT/perf.data" "$@" "${kt[@]}" --jobs 2 >/dev/null 2>&1 ||
                        [ $? -le 1 ] || die "perf record failed"
                perf report -i "$OUT/perf.data" --no-children --sort comm -F sample,comm --stdio \
                        2>/dev/null |
                        awk -v l="$label" 'NF == 2 && $1 ~ /^[0-9]+$/ {
                                if ($2 == "keytrail-read") r += $1; else m += $1 }
                             END { printf "CPU split of --jobs 2%s (perf): main thread %.2f s (%.0f %%), readers %.2f s (%.0f %%)\n",
                                   l, m / 999, 100 * m / (m + r), r / 999, 100 * r / (m + r) }'
        }
        split ""
        if [ "$ONE_CPU" = 1 ]; then
                split " on 1 CPU" taskset -c 0
        fi
fi
