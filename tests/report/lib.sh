# SPDX-License-Identifier: MIT
# Sourced by the report tests: TAP helpers, and the bundled real sample (tests/data) made into a
# journal file by systemd-journal-remote, with the baseline of its scenarios.
. "$src/tests/journal-lib.sh"
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
# check TITLE CMD...: ok when CMD succeeds; its output becomes the diagnostics otherwise
check() {
        local title=$1 out
        shift
        if out=$("$@" 2>&1); then
                ok "$title"
        else
                not_ok "$title"
                printf '%s\n' "$out" | head -20 | sed 's/^/# /'
        fi
}
# jcheck TITLE JQ-EXPR [FILE]: the jq expression is true of the JSON report
jcheck() {
        check "$1" jq -e "$2" "${3:-$tmp/report.json}"
}
done_tap() {
        echo "1..$n"
        [ "$failed" = 0 ]
}
data=$src/tests/data
baseline=()
for f in "$data"/sample-authorized_keys-*; do
        baseline+=(--authorized-keys "ktdemo${f##*sample-authorized_keys-}:$f")
done
