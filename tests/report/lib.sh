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

# two_hosts DIR: a journal directory as systemd-journal-remote leaves it for two machines: the
# sample as host "vm", and a copy of it as another machine (its own _MACHINE_ID and _BOOT_ID),
# two hours later, whose _HOSTNAME is hostile: markup, quotes and a terminal escape sequence.
EVIL_HOST=$'evil<img src=x onerror=alert(1)>"\'&\e[31m'
two_hosts() {
        mkdir -p "$1"
        python3 - "$data/e2e-openssh-9.2.export" "$tmp/b.export" "$EVIL_HOST" <<'PY'
import struct, sys
src, dst, host = sys.argv[1], sys.argv[2], sys.argv[3].encode()
out = bytearray()
def field(name, value):
    if any(c < 0x20 or c == 0x7f for c in value):
        # export format: a binary-safe field is NAME, newline, 64-bit LE length, data, newline
        return name + b"\n" + struct.pack("<Q", len(value)) + value + b"\n"
    return name + b"=" + value + b"\n"
for line in open(src, "rb").read().split(b"\n"):
    if b"=" not in line:
        out += line + b"\n"
        continue
    name, value = line.split(b"=", 1)
    if name == b"_MACHINE_ID":
        value = b"0123456789abcdef0123456789abcdef"
    elif name == b"_BOOT_ID":
        value = b"fedcba9876543210fedcba9876543210"
    elif name == b"_HOSTNAME":
        value = host
    elif name == b"__REALTIME_TIMESTAMP":
        value = str(int(value) + 7200 * 1000000).encode()
    elif name == b"__CURSOR":
        continue
    out += field(name, value)
open(dst, "wb").write(bytes(out).rstrip(b"\n") + b"\n\n")
PY
        journal_from_export "$data/e2e-openssh-9.2.export" "$1/remote-vm.journal" &&
                journal_from_export "$tmp/b.export" "$1/remote-evil.journal"
}
