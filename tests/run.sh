#!/bin/bash
# SPDX-License-Identifier: MIT
# The whole test suite: builds keytrail three times (gcc with --werror; gcc with ASan+UBSan; clang
# with --werror, when clang is there), runs every meson suite (unit, parse, scan, integration, e2e)
# on the first and the fast suites on the others, and ends with one line "N passed, N failed". Needs root for the end-to-end bed (real journald, sshd,
# test accounts); see README.md. Usage: tests/run.sh [--no-e2e] [--no-sanitizers]
set -u
cd "$(dirname "$0")/.."
e2e=true
san=true
for a in "$@"; do
        case $a in
        --no-e2e) e2e=false ;;
        --no-sanitizers) san=false ;;
        *) echo "usage: tests/run.sh [--no-e2e] [--no-sanitizers]" >&2; exit 2 ;;
        esac
done

passed=0 failed=0
count() { # count OK/FAIL results of a meson test log
        local log=$1/meson-logs/testlog.json
        [ -f "$log" ] || return 0
        passed=$((passed + $(jq -s '[.[] | select(.result == "OK" or .result == "EXPECTEDFAIL")] | length' "$log")))
        failed=$((failed + $(jq -s '[.[] | select(.result != "OK" and .result != "EXPECTEDFAIL" and .result != "SKIP")] | length' "$log")))
}
phase() { echo; echo "=== $*"; }

phase "build (gcc, --werror)"
if [ ! -d build ]; then
        meson setup build --werror || { echo "0 passed, 1 failed"; exit 1; }
fi
if ! ninja -C build; then
        echo "0 passed, 1 failed"
        exit 1
fi

phase "tests"
suites=(--suite unit --suite parse --suite scan --suite integration --suite gate --suite report --suite follow --suite doctor)
$e2e && suites+=(--suite e2e --suite container --suite package)
meson test -C build --print-errorlogs "${suites[@]}"
count build

if $san; then
        phase "build (gcc, ASan+UBSan)"
        if [ ! -d build-san ]; then
                meson setup build-san -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
        fi
        if ninja -C build-san; then
                phase "tests under sanitizers"
                ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
                        meson test -C build-san --print-errorlogs --suite unit --suite parse --suite scan --suite integration --suite report --suite follow
                count build-san
        else
                failed=$((failed + 1))
        fi
fi

if command -v clang >/dev/null; then
        phase "build (clang, --werror)"
        if [ ! -d build-clang ]; then
                CC=clang meson setup build-clang --werror
        fi
        if ninja -C build-clang; then
                phase "tests (clang build)"
                meson test -C build-clang --print-errorlogs --suite unit --suite parse --suite scan --suite integration
                count build-clang
        else
                failed=$((failed + 1))
        fi
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
