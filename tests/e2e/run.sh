#!/bin/bash
# SPDX-License-Identifier: MIT
#
# usage: tests/e2e/run.sh BUILD_DIR
#
# Runs every scenario of tests/e2e/scenarios/ against a real sshd, rsync and journald, once per
# OpenSSH generation (Debian 12's 9.2 on the host, Debian 13's 10.0 in a cached chroot), and
# prints TAP. Exit status: 0 when nothing failed.
#
# Environment:
#   KT_E2E_GENERATIONS   "bookworm trixie" (default) or one of them
#   KT_E2E_ONLY          scenario numbers to run, e.g. "01 10"
#   KT_ARTIFACTS         folder for each window's journal text and keytrail's output
#   KT_CHROOT_CACHE      where the trixie chroot is cached (default /var/cache/keytrail-e2e)
#   KT_SCAN_EXTRA_<gen>  extra arguments for keytrail scan in that generation
#   KT_PREFIX            account name prefix (default kt + 6 random hex digits)
set -u

BUILD_DIR=${1:-}
if [ -z "$BUILD_DIR" ]; then
        echo "usage: $0 BUILD_DIR" >&2
        exit 2
fi
BUILD_DIR=$(cd "$BUILD_DIR" 2>/dev/null && pwd) || { echo "no such build dir: $1" >&2; exit 2; }

skip_all() { echo "1..0 # SKIP $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip_all "needs root (creates accounts, starts sshd and journald)"
[ -x /usr/sbin/sshd ] || skip_all "no /usr/sbin/sshd (install openssh-server)"
for tool in ssh ssh-keygen rsync jq logger journalctl perl useradd setpriv; do
        command -v "$tool" >/dev/null || skip_all "no $tool"
done
if ! grep -q ' /run/systemd/journal/socket$' /proc/net/unix && [ ! -x /lib/systemd/systemd-journald ]; then
        skip_all "no journald"
fi

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
kt_private_journal "$0" "$BUILD_DIR"

KT_BIN=$BUILD_DIR/keytrail
KT_ARTIFACTS=${KT_ARTIFACTS:-$BUILD_DIR/e2e-artifacts}
rm -rf "$KT_ARTIFACTS"

kt_init
kt_journal_setup
kt_payload
kt_have_keytrail || kt_diag "keytrail scan not available in $BUILD_DIR: checking the bed only"

mapfile -t SCENARIOS < <(ls "$KT_E2E_DIR"/scenarios/[0-9]*.sh | LC_ALL=C sort)
if [ -n "${KT_E2E_ONLY:-}" ]; then
        sel=()
        for f in "${SCENARIOS[@]}"; do
                for n in $KT_E2E_ONLY; do
                        case $(basename "$f") in "$n"-*) sel+=("$f") ;; esac
                done
        done
        SCENARIOS=("${sel[@]}")
fi
RESULTS=$KT_TMP/run/results
: >"$RESULTS"
N=0
START=$(date +%s)

title_of() { sed -n 's/^KT_TITLE="\(.*\)"$/\1/p' "$1"; }

report() {      # report STATUS GEN FILE [note]
        local st=$1 gen=$2 f=$3 t
        t="$gen: $(basename "$f" .sh) - $(title_of "$f")"
        N=$((N + 1))
        case $st in
        0) echo "ok $N - $t" ;;
        3) echo "ok $N - $t # SKIP keytrail scan not built (the bed's journal checks passed)" ;;
        skip) echo "ok $N - $t # SKIP ${4:-}" ;;
        *) echo "not ok $N - $t" ;;
        esac
        echo "$st" >>"$RESULTS"
}

# one generation: its own accounts and sshd, in a subshell that cleans up after itself
run_generation() {
        local gen=$1 f st t0
        KT_CLEANUP=()
        trap kt_cleanup EXIT
        local v=KT_SCAN_EXTRA_$gen
        KT_SCAN_EXTRA=${!v:-${KT_SCAN_EXTRA:-}}
        for role in push pull admin other; do kt_account "$role"; done
        local t_gen0 t_gen1
        t_gen0=$(kt_now)
        kt_sshd_start "$gen" || exit 4
        # journald records a chrooted sshd's _EXE with the chroot folder in front (STATUS.md)
        if [ -n "$KT_ROOT" ] && [ -z "${!v:-}" ]; then
                KT_SCAN_EXTRA="$KT_SCAN_EXTRA --trusted-exe $KT_ROOT/usr/sbin/sshd"
                KT_SCAN_EXTRA="$KT_SCAN_EXTRA --trusted-exe $KT_ROOT/usr/lib/openssh/sshd-session"
                KT_SCAN_EXTRA="$KT_SCAN_EXTRA --trusted-exe $KT_ROOT/usr/lib/openssh/sshd-auth"
        fi
        for f in "${SCENARIOS[@]}"; do
                t0=$(date +%s.%N)
                (
                        KT_CLEANUP=()
                        trap kt_cleanup EXIT
                        # shellcheck source=/dev/null
                        . "$f"
                        scenario
                        kt_verdict
                        st=$?
                        if [ "$st" = 0 ] && declare -F scenario_after_scan >/dev/null; then
                                scenario_after_scan || st=1
                        fi
                        exit "$st"
                )
                st=$?
                kt_diag "$gen/$(basename "$f" .sh): $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
                report "$st" "$gen" "$f"
                # a scenario that failed half-way may leave connections open: let them end
                kt_settle
        done
        if [ -n "${KT_E2E_RECORD:-}" ]; then
                # tests/data/record.sh: the generation's raw journal (sshd stopped, so its last
                # lines are in) and the administrator's intended authorized_keys
                kt_sshd_stop "$KT_SSHD_PID"
                kt_journal_sync
                t_gen1=$(kt_now)
                mkdir -p "$KT_E2E_RECORD/$gen"
                journalctl -q -o json --since "@$t_gen0" --until "@$t_gen1" "${KT_SSH_IDS[@]}" \
                        >"$KT_E2E_RECORD/$gen/journal.json"
                echo "$KT_SSHD_PID $KT_SSHD_PORT $KT_PREFIX ${KT_SSHD_VERSION%%,*}" \
                        >"$KT_E2E_RECORD/$gen/sshd"
                cp -r "$KT_TMP/intended" "$KT_E2E_RECORD/"
        fi
        kt_cleanup
        exit 0
}

for gen in ${KT_E2E_GENERATIONS:-bookworm trixie}; do
        r0=$(wc -l <"$RESULTS")
        (run_generation "$gen")
        rc=$?
        N=$(wc -l <"$RESULTS")
        # a generation that could not start (or died): say so for each scenario it did not report
        if [ "$rc" != 0 ]; then
                for f in "${SCENARIOS[@]:$((N - r0))}"; do
                        if [ "$gen" = trixie ] && [ "$rc" = 4 ]; then
                                report skip "$gen" "$f" "no trixie chroot (debootstrap failed or offline)"
                        else
                                report 1 "$gen" "$f"
                        fi
                done
        fi
done

echo "1..$N"
FAILED=$(grep -cvE '^(0|3|skip)$' "$RESULTS")
kt_diag "$((N - FAILED)) passed, $FAILED failed in $(($(date +%s) - START)) s"
[ "$FAILED" = 0 ]
