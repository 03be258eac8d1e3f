# SPDX-License-Identifier: MIT
# Sourced by the tests in tests/ops/: TAP lines, with the files that explain a failure as "# " lines.
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { # not_ok TITLE [FILE...]
        n=$((n + 1)) failed=$((failed + 1))
        echo "not ok $n - $1"
        shift
        for f in "$@"; do sed 's/^/# /' "$f" | head -40; done
}
bail() { echo "Bail out! $*"; exit 1; }
# tap_done: the plan, and the exit status
tap_done() {
        echo "1..$n"
        [ "$failed" = 0 ]
}
