#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/text.sh [BUILD_DIR]: time `keytrail scan --input` (the default, with its reader thread, and
# --jobs 1) on a syslog file against `grep -c sshd` on the same file, warm cache, and print the
# ratios of their speeds. See bench/README.md.
#
# The file is the synthetic journal of bench/run.sh (bench/gen-export.py, same seed and size)
# rendered as rsyslog writes /var/log/syslog in its traditional format (tests/text/render.py),
# generated once into bench/work/text/. Environment:
#   ENTRIES=1000000  SEED=1  REPS=5  KEYTRAIL=PATH (default BUILD_DIR/keytrail)
#   FORMAT=syslog    or rfc3339 (rsyslog's current default)
#   INSTR=1          also count instructions (valgrind --tool=callgrind, deterministic, about two
#                    minutes a run): the whole run with --jobs 1, and each thread of the default
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$SRC/bench
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$SRC/$BUILD ;; esac
WORK=$BENCH/work/text
ENTRIES=${ENTRIES:-1000000}
SEED=${SEED:-1}
REPS=${REPS:-5}
FORMAT=${FORMAT:-syslog}
KEYTRAIL=${KEYTRAIL:-$BUILD/keytrail}

die() { echo "text.sh: $*" >&2; exit 2; }
command -v python3 >/dev/null || die "python3 not found"
[ -x /usr/bin/time ] || die "/usr/bin/time not found (apt-get install time)"
[ -x "$KEYTRAIL" ] || die "$KEYTRAIL not found: build keytrail first (meson setup build && ninja -C build)"
mkdir -p "$WORK"

# ---- 1. the file: generated once per (entries, seed, format, generator, renderer) ---------------
LOG=$WORK/$FORMAT.log
stamp="entries=$ENTRIES seed=$SEED format=$FORMAT gen=$(cat "$BENCH/gen-export.py" \
        "$SRC/tests/text/render.py" | sha256sum | cut -c1-16)"
if [ "$(cat "$LOG.stamp" 2>/dev/null)" != "$stamp" ]; then
        echo "generating $ENTRIES entries (seed $SEED) as $FORMAT into $LOG ..."
        rm -rf "$WORK/keys" "$LOG"
        python3 "$BENCH/gen-export.py" --entries "$ENTRIES" --seed "$SEED" --keys-dir "$WORK/keys" \
                -o - | python3 "$SRC/tests/text/render.py" "$FORMAT" >"$LOG"
        echo "$stamp" >"$LOG.stamp"
fi
# The generator's run starts 2026-11-30; its file was last written within days of it.
touch -d "2026-12-05 00:00 UTC" "$LOG"
export TZ=UTC

ak_args=()
while read -r a; do ak_args+=(--authorized-keys "$a"); done <"$WORK/keys/baseline.args"
kt_cmd=("$KEYTRAIL" scan --input "$LOG" "${ak_args[@]}" --rules "$SRC/rules" --format json)
# --jobs 1: reading, matching and the rest in one thread (the default, on 2 CPUs or more, reads
# and matches in a thread of its own).
kt1_cmd=("$KEYTRAIL" scan --jobs 1 --input "$LOG" "${ak_args[@]}" --rules "$SRC/rules" --format json)
grep_cmd=(grep -c sshd "$LOG")

# run LABEL CMD...: appends "WALL_US CPU_US" to $WORK/times.LABEL (CPU = user + system). Output
# goes to a file: GNU grep stops at the first match when its output is /dev/null.
run() {
        local label=$1 rc=0 t0 t1 cu cs
        shift
        t0=$(date +%s%N)
        /usr/bin/time -f "%U %S" -o "$WORK/.cpu" "$@" >"$WORK/.out" || rc=$?
        t1=$(date +%s%N)
        [ $rc -le 1 ] || die "$label exited with $rc: $*"
        read -r cu cs < <(tail -n1 "$WORK/.cpu")
        echo "$(( (t1 - t0) / 1000 )) $(awk -v u="$cu" -v s="$cs" 'BEGIN { printf "%d", (u + s) * 1e6 }')" \
                >>"$WORK/times.$label"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# ---- 2. warm-up and a correctness glance ------------------------------------------------------
lines=$(wc -l <"$LOG")
bytes=$(stat -c %s "$LOG")
sshd=$("${grep_cmd[@]}")
rc=0
"${kt_cmd[@]}" >"$WORK/alerts.ndjson" || rc=$?
[ $rc -le 1 ] || die "keytrail exited with $rc"
# The anomalies injected, except that text cannot tell a forged line (spoofed-entry in the journal)
# from sshd's: each forged "Accepted publickey for root" counts as the login it claims, a key of
# another account in root's: wrong-user.
want=$(grep -v '^#' "$WORK/keys/anomalies.txt" |
        awk '{ print ($1 == "spoofed-entry" ? "wrong-user" : $1), $2, $3, $4 }' | sort)
if command -v jq >/dev/null; then
        got=$(jq -r '[.type, .user, .fingerprint, .source_port] | map(tostring) | join(" ")' \
                "$WORK/alerts.ndjson" | sort)
        if [ "$got" = "$want" ]; then
                echo "alerts: $(echo "$got" | grep -c .) raised, exactly the anomalies injected" \
                        "(the forged ones as what they claim)"
        else
                echo "alerts DIFFER from the anomalies injected (< injected, > raised):"
                diff <(echo "$want") <(echo "$got") | grep '^[<>]' | sed 's/^/  /' || true
        fi
fi

# ---- 3. alternating timed runs ----------------------------------------------------------------
rm -f "$WORK/times.grep" "$WORK/times.keytrail" "$WORK/times.keytrail-j1"
{ "${kt1_cmd[@]}" || true; } | cmp -s - "$WORK/alerts.ndjson" ||
        die "--jobs 1 gives other alerts than the default"
for ((i = 0; i < REPS; i++)); do
        run grep "${grep_cmd[@]}"
        run keytrail "${kt_cmd[@]}"
        run keytrail-j1 "${kt1_cmd[@]}"
done
col() { awk -v c="$2" '{ print $c }' "$WORK/times.$1" | median; }
echo
echo "file: $FORMAT, $lines lines, $bytes bytes, $sshd with 'sshd'"
echo "median of $REPS alternating runs:"
awk -v g="$(col grep 1)" -v k="$(col keytrail 1)" -v k1="$(col keytrail-j1 1)" \
    -v gc="$(col grep 2)" -v kc="$(col keytrail 2)" -v k1c="$(col keytrail-j1 2)" \
    -v n="$lines" -v b="$bytes" 'BEGIN {
        f = "  %-18s wall %7.3f s  CPU %7.3f s  %6.0f MB/s (wall)  %9.0f lines/s (wall)\n";
        printf f, "grep -c", g / 1e6, gc / 1e6, b / g, n / (g / 1e6);
        printf f, "keytrail", k / 1e6, kc / 1e6, b / k, n / (k / 1e6);
        printf f, "keytrail --jobs 1", k1 / 1e6, k1c / 1e6, b / k1, n / (k1 / 1e6);
        printf "ratio keytrail/grep speed: wall %.2f, CPU %.2f (aim >= 0.5)\n", g / k, gc / kc;
        printf "ratio keytrail --jobs 1/grep speed: wall %.2f, CPU %.2f\n", g / k1, gc / k1c;
}'

# ---- 4. instructions (INSTR=1) ------------------------------------------------------------------
if [ "${INSTR:-0}" = 1 ]; then
        command -v valgrind >/dev/null || die "valgrind not found (apt-get install valgrind)"
        cg=$WORK/callgrind
        rm -rf "$cg"
        mkdir -p "$cg"
        valgrind --tool=callgrind --callgrind-out-file="$cg/one" "${kt1_cmd[@]}" >/dev/null \
                2>"$cg/one.log" || true
        valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$cg/two" \
                "${kt_cmd[@]}" >/dev/null 2>"$cg/two.log" || true
        total() { sed -n "s/^totals: //p; s/^summary: //p" "$1" | head -1; }
        echo
        echo "instructions (callgrind):"
        printf '  %-34s %15s\n' "--jobs 1, whole run" "$(total "$cg/one" | awk '{ print $1 }')"
        # callgrind numbers threads in order of creation: 01 the calling thread, 02 the reader
        for f in "$cg"/two-*; do
                case ${f##*-} in
                01) t="default, calling thread" ;;
                02) t="default, reader thread" ;;
                *) t="default, thread ${f##*-}" ;;
                esac
                printf '  %-34s %15s\n' "$t" "$(total "$f" | awk '{ print $1 }')"
        done
fi
