#!/bin/bash
# SPDX-License-Identifier: MIT
# The whole test suite, as CI runs it (README.md). Installs what it needs (tests/packages.txt; as
# root, with apt-get) or stops with one line saying what is missing; builds keytrail with gcc and
# --werror and runs every meson suite; rebuilds with ASan+UBSan and with clang (--werror) and runs
# the fast suites on each; builds the libFuzzer targets (clang, -Dfuzz=true) and gives each a short
# bounded run. Ends with one line "N passed, N failed, N skipped".
#
# A test that skips itself (a whole test, or a TAP subtest "ok N # SKIP") counts as FAILED: only
# what the options below leave out is skipped, and it is counted as such.
#   tests/run.sh [--no-e2e] [--no-sanitizers] [--no-fuzz]
# The end-to-end beds (suites e2e, container, package) need root: they start journald, sshd, test accounts
# and a booted container; --no-e2e leaves them out.
set -u
cd "$(dirname "$0")/.."
e2e=true san=true fuzz=true
for a in "$@"; do
        case $a in
        --no-e2e) e2e=false ;;
        --no-sanitizers) san=false ;;
        --no-fuzz) fuzz=false ;;
        *) echo "usage: tests/run.sh [--no-e2e] [--no-sanitizers] [--no-fuzz]" >&2; exit 2 ;;
        esac
done

passed=0 failed=0 skipped=0
summary() { echo; echo "$passed passed, $failed failed, $skipped skipped"; }
phase() { echo; echo "=== $*"; }

# ---- what the build and the tests need -----------------------------------------------------------
mapfile -t packages < <(grep -v '^#' tests/packages.txt | grep .)
missing=()
for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
                phase "installing ${missing[*]}"
                export DEBIAN_FRONTEND=noninteractive
                if ! { apt-get update && apt-get install -y --no-install-recommends "${missing[@]}"; }; then
                        echo "tests/run.sh: cannot install ${missing[*]} (apt-get failed, see above)"
                        failed=1
                        summary
                        exit 1
                fi
        else
                echo "tests/run.sh: missing Debian packages: ${missing[*]}; run as root (it installs them) or: apt-get install ${missing[*]}"
                failed=1
                summary
                exit 1
        fi
fi

# count BUILD_DIR: add the results of its last meson test run. A skipped test, or a skipped TAP
# subtest, is a failure: nobody asked for it.
count() {
        local log=$1/meson-logs/testlog.json line
        [ -f "$log" ] || { failed=$((failed + 1)); return; }
        passed=$((passed + $(jq -s '[.[] | select(.result == "OK" or .result == "EXPECTEDFAIL")] | length' "$log")))
        failed=$((failed + $(jq -s '[.[] | select(.result != "OK" and .result != "EXPECTEDFAIL" and .result != "SKIP")] | length' "$log")))
        while IFS= read -r line; do
                [ -n "$line" ] || continue
                echo "UNREQUESTED SKIP (a failure): $line"
                failed=$((failed + 1))
        done < <(jq -r '(select(.result == "SKIP") | "\(.name): \((.stdout // "") | split("\n") | map(select(test("SKIP"))) | first // "skipped")"),
                        (select(.result != "SKIP") | .name as $n | (.stdout // "") | split("\n")[] |
                         select(test("^ok [0-9]+.*# *SKIP")) | "\($n): \(.)")' "$log")
}
# would BUILD_DIR ARGS...: how many tests "meson test ARGS" would run (for what was left out)
would() { meson test -C "$1" --list "${@:2}" 2>/dev/null | grep -c ' / '; }
# build NAME SETUP-ARGS...: configure (once) and build; a failure counts as one failed test
build() {
        local dir=$1
        shift
        if [ ! -d "$dir" ] && ! "$@"; then
                failed=$((failed + 1))
                return 1
        fi
        ninja -C "$dir" && return 0
        failed=$((failed + 1))
        return 1
}

# the bed suites (real sshd, booted container) and the slow ones run only in the first build
bed=(--no-suite e2e --no-suite container --no-suite package)
fast=("${bed[@]}" --no-suite gate --no-suite doctor --no-suite fuzz)

phase "build (gcc, --werror)"
if build build meson setup build --werror; then
        phase "tests"
        all=(--no-suite fuzz)
        if ! $e2e; then
                all+=("${bed[@]}")
                skipped=$((skipped + $(would build --suite e2e --suite container --suite package)))
        fi
        meson test -C build --print-errorlogs "${all[@]}"
        count build
fi

if $san; then
        phase "build (gcc, ASan+UBSan)"
        if build build-san meson setup build-san -Db_sanitize=address,undefined -Db_lundef=false \
                -Dbuildtype=debug; then
                phase "tests under sanitizers"
                ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
                        meson test -C build-san --print-errorlogs "${fast[@]}"
                count build-san
        fi
elif [ -d build ]; then
        skipped=$((skipped + $(would build "${fast[@]}")))
fi

phase "build (clang, --werror)"
if build build-clang env CC=clang meson setup build-clang --werror; then
        phase "tests (clang build)"
        meson test -C build-clang --print-errorlogs "${fast[@]}"
        count build-clang
fi

if $fuzz; then
        phase "build (clang, libFuzzer, ASan+UBSan)"
        if build build-fuzz env CC=clang meson setup build-fuzz -Dfuzz=true -Dfuzz_seconds=4 \
                -Db_sanitize=address,undefined -Db_lundef=false -Dtests=true; then
                phase "fuzzing each target for a few seconds (long runs: docs/hacking.md)"
                meson test -C build-fuzz --print-errorlogs --suite fuzz
                count build-fuzz
        fi
else
        skipped=$((skipped + $(ls tests/fuzz/fuzz-*.c | wc -l)))
fi

summary
[ "$failed" -eq 0 ]
