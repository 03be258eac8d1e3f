# SPDX-License-Identifier: MIT
# Sourced by the shell tests of the sample that print TAP: ok NAME, not_ok NAME, check NAME SHELL-CONDITION
# (evaluated), tap_done (the plan; the exit status says whether all passed). Call them in the
# test's own shell, never in a pipeline's subshell, or the count is lost.
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else not_ok "$1"; fi; }
tap_done() {
        echo "1..$n"
        [ "$failed" = 0 ]
}

# sample_args SOURCE_DIR: sets args to the rules of the tree and the bundled sample's baseline
# (tests/data/sample-authorized_keys-ACCOUNT as ktdemoACCOUNT).
sample_args() {
        local f
        args=(--rules "$1/rules")
        for f in "$1"/tests/data/sample-authorized_keys-*; do
                args+=(--authorized-keys "ktdemo${f##*sample-authorized_keys-}:$f")
        done
}
