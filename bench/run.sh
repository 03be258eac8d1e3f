#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/run.sh [BUILD_DIR]: time `keytrail scan` against a bare sd-journal loop over the same
# synthetic journal, in one run, and print the ratio of their speeds; `journalctl -o cat` with
# keytrail's matches is timed beside them. See bench/README.md.
#
# BUILD_DIR (default: build) holds the keytrail binary; build it with optimisation and without
# sanitizers. Environment:
#   SHAPE=full       the journal's shape: full (journald on systemd, 21 to 25 fields per sshd
#                    entry; 1,000,000 entries in 10 files) or lean (the same kind of entries with
#                    the 14 fields of a minimal journald; 500,000 entries in 3 files); generated
#                    once into WORK/journal (full) or WORK/journal-lean
#   ENTRIES          size of the synthetic journal (default: the shape's; generated once, kept)
#   SEED=1           generator seed
#   WORK=bench/work  where the journals, keys and timings go (e.g. /var/tmp/kt-bench-10m)
#   REPS=5           timed repetitions of each program, alternating; the median is reported
#   JOBS=2 (full), 1 (lean)  systemd-journal-remote processes that ingest in parallel (each
#                    writes its own files: JOBS decides the file count with the size)
#   KEYTRAIL=PATH    the binary to time (default BUILD_DIR/keytrail)
#   STANDIN=1        time `journalctl -o cat` with the same matches instead of keytrail (used
#                    automatically, with a warning, while BUILD_DIR/keytrail does not exist)
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$SRC/bench
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$SRC/$BUILD ;; esac
WORK=${WORK:-$BENCH/work}
case $WORK in /*) ;; *) WORK=$SRC/$WORK ;; esac
SHAPE=${SHAPE:-full}
SEED=${SEED:-1}
REPS=${REPS:-5}
case $SHAPE in
full) JDIR=$WORK/journal KEYS=$WORK/keys JOBS=${JOBS:-2} ENTRIES=${ENTRIES:-1000000} ;;
lean) JDIR=$WORK/journal-lean KEYS=$WORK/keys-lean JOBS=${JOBS:-1} ENTRIES=${ENTRIES:-500000} ;;
*) echo "run.sh: SHAPE is full or lean, not '$SHAPE'" >&2; exit 2 ;;
esac
KEYTRAIL=${KEYTRAIL:-$BUILD/keytrail}
STANDIN=${STANDIN:-0}
JOURNAL_REMOTE=${JOURNAL_REMOTE:-/lib/systemd/systemd-journal-remote}

die() { echo "run.sh: $*" >&2; exit 2; }

[ -x "$JOURNAL_REMOTE" ] || die "$JOURNAL_REMOTE not found (apt-get install systemd-journal-remote)"
command -v python3 >/dev/null || die "python3 not found"
command -v cc >/dev/null || die "cc not found"
pkg-config --exists libsystemd || die "libsystemd not found (apt-get install libsystemd-dev)"
mkdir -p "$WORK"

# ---- 1. the journal: generated once per (shape, entries, seed, generator) ---------------------
# (The full shape's stamp says no shape: journals generated before lean existed stay valid.)
stamp="entries=$ENTRIES seed=$SEED gen=$(sha256sum "$BENCH/gen-export.py" | cut -c1-16)"
[ "$SHAPE" = full ] || stamp="shape=$SHAPE $stamp"
if [ "$(cat "$JDIR/.stamp" 2>/dev/null)" != "$stamp" ]; then
        echo "generating $ENTRIES entries ($SHAPE shape, seed $SEED) into $JDIR ..."
        rm -rf "$JDIR" "$KEYS"
        mkdir -p "$JDIR"
        t0=$(date +%s.%N)
        outs=()
        pids=()
        for ((i = 0; i < JOBS; i++)); do
                fifo=$JDIR/.in-$i
                mkfifo "$fifo"
                # -o must end in .journal; rotation adds bench-I@....journal files next to it
                "$JOURNAL_REMOTE" --split-mode=none -o "$JDIR/bench-$i.journal" "$fifo" \
                        2>"$JDIR/.remote-$i.log" &
                pids+=($!)
                outs+=(-o "$fifo")
        done
        python3 "$BENCH/gen-export.py" --entries "$ENTRIES" --seed "$SEED" --shape "$SHAPE" \
                --keys-dir "$KEYS" "${outs[@]}"
        for p in "${pids[@]}"; do
                wait "$p" || die "systemd-journal-remote failed, see $JDIR/.remote-*.log"
        done
        rm -f "$JDIR"/.in-*
        t1=$(date +%s.%N)
        echo "$stamp" >"$JDIR/.stamp"
        awk -v a="$t0" -v b="$t1" 'BEGIN { printf "generated in %.1f s\n", b - a }'
fi
files=("$JDIR"/*.journal)
[ -e "${files[0]}" ] || die "no journal files in $JDIR"
OUT=$WORK/run-$SHAPE    # this shape's alerts and timings
mkdir -p "$OUT"

# ---- 2. the bare loop -----------------------------------------------------------------------
BARE=$BENCH/work/bare-loop
mkdir -p "$BENCH/work"
if [ ! -x "$BARE" ] || [ "$BENCH/bare-loop.c" -nt "$BARE" ]; then
        # -O2 like meson's default debugoptimized build of keytrail
        cc -std=gnu17 -O2 -g -Wall -Wextra -o "$BARE" "$BENCH/bare-loop.c" \
                $(pkg-config --cflags --libs libsystemd)
fi

# ---- 3. the command lines -------------------------------------------------------------------
bare_cmd=("$BARE" "${files[@]}")
bare_same_cmd=("$BARE" --keytrail-matches "${files[@]}") # keytrail's whole match, same entries
bare_min_cmd=("$BARE" --sshd-only "${files[@]}") # SYSLOG_IDENTIFIER=sshd alone: the strictest floor
file_args=()
for f in "${files[@]}"; do file_args+=(--file "$f"); done
ak_args=()
while read -r a; do ak_args+=(--authorized-keys "$a"); done <"$KEYS/baseline.args"

if [ "$STANDIN" != 1 ] && [ -f "$BUILD/build.ninja" ]; then
        ninja -C "$BUILD" keytrail >/dev/null || die "cannot build keytrail in $BUILD"
fi
if [ "$STANDIN" != 1 ] && [ -x "$KEYTRAIL" ]; then
        name="keytrail"
        # --jobs 1: the single-threaded figure (the bare loop reads on one thread too; the
        # parallel reader has its own figure, bench/parallel.sh)
        kt_cmd=("$KEYTRAIL" scan --jobs 1 "${file_args[@]}" "${ak_args[@]}" --rules "$SRC/rules"
                --format json)
        # journalctl with keytrail's own matches (src/cmd/cmd-common.c, src/pipeline/pipeline.c:
        # sshd's identifiers, the gate's, sshdo's, or any logger(1) entry), timed beside it
        jc_cmd=(journalctl "${file_args[@]}" SYSLOG_IDENTIFIER=sshd SYSLOG_IDENTIFIER=sshd-session
                SYSLOG_IDENTIFIER=sshd-auth SYSLOG_IDENTIFIER=keytrail-gate SYSLOG_IDENTIFIER=sshdo
                + _COMM=logger -o cat --no-pager)
else
        [ "$STANDIN" = 1 ] ||
                echo "warning: $KEYTRAIL not found: timing journalctl as a stand-in" >&2
        name="journalctl"
        kt_cmd=(journalctl "${file_args[@]}" SYSLOG_IDENTIFIER=sshd SYSLOG_IDENTIFIER=sshd-session
                SYSLOG_IDENTIFIER=sshd-auth SYSLOG_IDENTIFIER=keytrail-gate -o cat --no-pager)
fi

# run LABEL CMD...: one timed run; appends "WALL_US MAXRSS_KB CPU_US" to $OUT/times.LABEL
# (CPU = user + system time; it moves less than wall time when other work shares the cores).
# keytrail exits 1 when it raised alerts (the journal has anomalies): only 2+ is a failure.
have_time=0
[ -x /usr/bin/time ] && have_time=1
run() {
        local label=$1 rc=0 t0 t1 rss=0 cpu=0
        shift
        t0=$(date +%s%N)
        if [ $have_time = 1 ]; then
                /usr/bin/time -f "%M %U %S" -o "$OUT/.rss" "$@" >/dev/null || rc=$?
                read -r rss cpu_u cpu_s < <(tail -n1 "$OUT/.rss")
                cpu=$(awk -v u="$cpu_u" -v s="$cpu_s" 'BEGIN { printf "%d", (u + s) * 1e6 }')
        else
                "$@" >/dev/null || rc=$?
        fi
        t1=$(date +%s%N)
        [ $rc -le 1 ] || die "$label exited with $rc: $*"
        echo "$(( (t1 - t0) / 1000 )) $rss $cpu" >>"$OUT/times.$label"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
minimum() { sort -n | head -n1; }

# ---- 4. warm-up (page cache), a correctness glance, then the alternating timed runs --------------
matched=$("${bare_cmd[@]}" | awk '{ print $1 }')
total=$(sed 's/.*entries=\([0-9]*\).*/\1/' "$JDIR/.stamp")
if [ "$name" = keytrail ]; then
        rc=0
        "${kt_cmd[@]}" >"$OUT/alerts.ndjson" || rc=$?
        [ $rc -le 1 ] || die "keytrail exited with $rc: ${kt_cmd[*]}"
        # the alert set must be exactly the anomalies the generator injected: nothing on normal use
        want=$(grep -v '^#' "$KEYS/anomalies.txt" | awk '{ print $1, $2, $3, $4 }' | sort)
        if command -v jq >/dev/null; then
                got=$(jq -r '[.type, .user, .fingerprint, .source_port] | map(tostring) |
                        join(" ")' "$OUT/alerts.ndjson" | sort)
                if [ "$got" = "$want" ]; then
                        echo "alerts: $(echo "$got" | grep -c .) raised," \
                                "exactly the anomalies injected"
                else
                        echo "alerts DIFFER from the anomalies injected (< injected, > raised):"
                        diff <(echo "$want") <(echo "$got") | grep '^[<>]' | sed 's/^/  /' || true
                fi
        else
                echo "alerts: $(grep -c . "$OUT/alerts.ndjson") raised," \
                        "$(echo "$want" | grep -c .) anomalies injected (install jq to compare)"
        fi
else
        "${kt_cmd[@]}" >/dev/null
fi

rm -f "$OUT/times.bare" "$OUT/times.bare-same" "$OUT/times.bare-min" "$OUT/times.$name" "$OUT/times.journalctl-same"
[ "$name" != keytrail ] || "${jc_cmd[@]}" >/dev/null
for ((i = 0; i < REPS; i++)); do
        run bare "${bare_cmd[@]}"
        run "$name" "${kt_cmd[@]}"
        [ "$name" != keytrail ] || run journalctl-same "${jc_cmd[@]}"
        [ "$name" != keytrail ] || run bare-same "${bare_same_cmd[@]}"
        [ "$name" != keytrail ] || run bare-min "${bare_min_cmd[@]}"
done

kt_us=$(awk '{ print $1 }' "$OUT/times.$name" | median)
bare_us=$(awk '{ print $1 }' "$OUT/times.bare" | median)
bare_rss=$(awk '{ print $2 }' "$OUT/times.bare" | sort -n | tail -n1)
kt_rss=$(awk '{ print $2 }' "$OUT/times.$name" | sort -n | tail -n1)
kt_min=$(awk '{ print $1 }' "$OUT/times.$name" | minimum)
bare_min=$(awk '{ print $1 }' "$OUT/times.bare" | minimum)
kt_cpu=$(awk '{ print $3 }' "$OUT/times.$name" | median)
bare_cpu=$(awk '{ print $3 }' "$OUT/times.bare" | median)

echo
echo "journal: $SHAPE shape, ${#files[@]} files, $total entries," \
        "$matched matched by the sshd/keytrail-gate matches"
echo "median of $REPS alternating runs (wall clock, whole process):"
awk -v m="$matched" -v b="$bare_us" -v k="$kt_us" -v br="$bare_rss" -v kr="$kt_rss" \
    -v name="$name" -v ht=$have_time 'BEGIN {
        printf "  %-12s %8.3f s  %10.0f entries/s  max RSS %s\n", "bare-loop", b / 1e6,
               m / (b / 1e6), ht ? sprintf("%d KiB", br) : "n/a";
        printf "  %-12s %8.3f s  %10.0f entries/s  max RSS %s\n", name, k / 1e6,
               m / (k / 1e6), ht ? sprintf("%d KiB", kr) : "n/a";
        printf "ratio %s/bare-loop speed: %.2f (goal >= 0.95)\n", name, b / k;
}'
awk -v b="$bare_min" -v k="$kt_min" -v bc="$bare_cpu" -v kc="$kt_cpu" -v name="$name" \
    -v ht=$have_time 'BEGIN {
        printf "  best runs:    bare-loop %.3f s, %s %.3f s: ratio %.2f\n", b / 1e6, name,
               k / 1e6, b / k;
        if (ht && kc > 0)
                printf "  CPU (median): bare-loop %.3f s, %s %.3f s: ratio %.2f\n", bc / 1e6, name,
                       kc / 1e6, bc / kc;
}'
if [ "$name" = keytrail ]; then
        # against_bare LABEL WHAT: keytrail against another bare loop's runs
        against_bare() {
                awk -v b="$(awk '{ print $1 }' "$OUT/times.$1" | median)" -v k="$kt_us" \
                    -v bc="$(awk '{ print $3 }' "$OUT/times.$1" | median)" -v kc="$kt_cpu" \
                    -v m="$matched" -v ht=$have_time -v label="$1" -v what="$2" 'BEGIN {
                        printf "  %-12s %8.3f s  %10.0f entries/s  (%s)\n", label, b / 1e6,
                               m / (b / 1e6), what;
                        printf "ratio keytrail/%s speed: %.2f", label, b / k;
                        if (ht && kc > 0)
                                printf ", CPU %.2f", bc / kc;
                        printf "\n";
                }'
        }
        against_bare bare-same "bare loop with keytrail's whole match"
        against_bare bare-min "bare loop with SYSLOG_IDENTIFIER=sshd alone"
        jc_us=$(awk '{ print $1 }' "$OUT/times.journalctl-same" | median)
        jc_cpu=$(awk '{ print $3 }' "$OUT/times.journalctl-same" | median)
        awk -v j="$jc_us" -v k="$kt_us" -v jc="$jc_cpu" -v kc="$kt_cpu" -v m="$matched" \
            -v ht=$have_time 'BEGIN {
                printf "  %-12s %8.3f s  %10.0f entries/s  (journalctl -o cat, keytrail'"'"'s matches)\n",
                       "journalctl", j / 1e6, m / (j / 1e6);
                printf "ratio keytrail/journalctl speed: %.2f (goal > 1)", j / k;
                if (ht && kc > 0)
                        printf ", CPU %.2f", jc / kc;
                printf "\n";
        }'
fi
