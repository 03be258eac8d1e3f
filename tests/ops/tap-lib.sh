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

# ops_container_with_keytrail BUILD_DIR SOURCE_DIR: boot a container (tests/container/lib.sh, sourced
# by the caller) and put keytrail as built into it (the container has the same libraries), with its
# rules where that build looks for them. Sets $rulesdir. Bails out when the container does not boot.
ops_container_with_keytrail() {
        ct_boot || bail "the container did not boot"
        rulesdir=$(sed -nE 's/^#define RULESDIR "(.*)"$/\1/p' "$1/config.h")
        mkdir -p "$CT_ROOT/usr/local/bin" "$CT_ROOT$rulesdir" &&
                cp "$1/keytrail" "$CT_ROOT/usr/local/bin/keytrail" &&
                cp "$2"/rules/*.rules "$CT_ROOT$rulesdir/" || bail "cannot install keytrail in the container"
}
