#!/bin/bash
# SPDX-License-Identifier: MIT
# What keytrail does with journals it cannot wholly read (issue 9): hostile entries (no MESSAGE,
# binary, over-long) are counted and skipped and never stop the scan; files and folders that hold
# nothing readable are named, in one line each, and with nothing readable at all the exit status
# is 2; an unreadable file among --file arguments is named as itself; a file corrupt in the middle
# is named, and what it held before the damage still judged.
#   source-errors.sh KEYTRAIL SOURCE_DIR      TAP on stdout
set -u
kt=$1 src=$2
. "$src/tests/journal-lib.sh"
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; sed 's/^/# /' "$tmp/err" "$tmp/out" 2>/dev/null | head -20; }
check() { if eval "$1"; then ok "$2"; else not_ok "$2"; fi; }

# run [AS_USER] -- ARGS...: keytrail's exit status in $rc, stdout in out, stderr in err
run() {
        local as=$1
        shift 2
        if [ -n "$as" ]; then
                setpriv --reuid="$as" --regid="$(id -g "$as")" --clear-groups -- "$kt" "$@" \
                        >"$tmp/out" 2>"$tmp/err"
        else
                "$kt" "$@" >"$tmp/out" 2>"$tmp/err"
        fi
        rc=$?
}
lines() { grep -c . "$1"; }

base=(--rules "$src/rules" --authorized-keys "mirror:$src/tests/journal/mirror.authorized_keys"
        --format json)
chmod 755 "$tmp"
journal_from_export "$src/tests/journal/multiplexed.export" "$tmp/j.journal"
chmod 644 "$tmp/j.journal"
run "" -- scan --file "$tmp/j.journal" "${base[@]}"
want_alerts=$(jq -r .id "$tmp/out" | sort)
[ "$rc" = 1 ] && [ "$(echo "$want_alerts" | grep -c .)" = 2 ] ||
        { echo "Bail out! the clean scenario gives exit $rc"; exit 1; }

# ---- hostile entries: counted and skipped, the scan goes on --------------------------------------
# Three entries that claim to be sshd's, put between the login and its sessions: one with no
# MESSAGE at all (what sd_journal_send() or a raw datagram to journald's socket can store), one
# with binary bytes (NUL, 0xff) in MESSAGE, and one with a MESSAGE of 70,000 bytes.
python3 - "$src/tests/journal/multiplexed.export" "$tmp/hostile.export" <<'PY'
import struct, sys
entries = open(sys.argv[1], 'rb').read().split(b'\n\n')
head = lambda rt: (b'__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n'
                   b'_BOOT_ID=0b1e5ad2d3c94bd59b4f7a5e0c2b1a01\n'
                   b'_MACHINE_ID=4c6f0b5e8f6a4c9aa1f2e3d4c5b6a7b8\n_HOSTNAME=mirror1\n'
                   b'SYSLOG_IDENTIFIER=sshd\n_PID=31337\n_UID=1000\n_COMM=evil\n' % (rt, rt - 1764200000000000 + 5000000))
def binary(name, value):
    return name + b'\n' + struct.pack('<Q', len(value)) + value + b'\n'
i = next(k for k, e in enumerate(entries) if b'Starting session' in e)
rt = int(entries[i - 1].split(b'\n')[0].split(b'=')[1])
hostile = [head(rt + 100) + b'PRIORITY=6',
           head(rt + 200) + binary(b'MESSAGE', b'Accepted publickey\x00for root\xff from') + b'PRIORITY=6',
           head(rt + 300) + b'MESSAGE=' + b'A' * 70000]
out = entries[:i] + hostile + entries[i:]
open(sys.argv[2], 'wb').write(b'\n\n'.join(out))
PY
journal_from_export "$tmp/hostile.export" "$tmp/hostile.journal"
run "" -- scan --file "$tmp/hostile.journal" --stats "${base[@]}"
check '[ "$rc" = 1 ]' "entries without MESSAGE, binary or over-long: the scan goes on (exit 1, not 2)"
check '[ "$(jq -r "select(.type != \"spoofed-entry\") | .id" "$tmp/out" | sort)" = "$want_alerts" ]' \
        "and raises exactly the alerts of the clean journal"
check '[ "$(jq -r "select(.type == \"spoofed-entry\") | .sshd_pid" "$tmp/out")" = 31337 ]' \
        "the binary entry reaches the checks: one spoofed-entry (its writer is not sshd)"
check '[ "$(lines "$tmp/err")" = 1 ] && grep -Eq "^keytrail: stats: .* skipped=0 malformed=1 oversized=1 " "$tmp/err"' \
        "--stats counts one malformed and one oversized entry, nothing corrupt, and nothing else is said"
check 'grep -Eq " records=31 " "$tmp/err"' "the binary entry is read as a record (30 + 1)"

# A corrupt MESSAGE data object: sd-journal skips the object without a word, so the entry reads as
# one without MESSAGE, and is counted with those.
python3 - "$tmp/j.journal" "$tmp/nomsg.journal" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
i = d.find(b'MESSAGE=Close session')
assert i > 64
d[i - 64:i + 40] = b'\xff' * 104
open(sys.argv[2], 'wb').write(d)
PY
run "" -- scan --file "$tmp/nomsg.journal" --stats "${base[@]}"
check '[ "$rc" = 1 ] && [ "$(jq -r .id "$tmp/out" | sort)" = "$want_alerts" ] && [ "$(lines "$tmp/err")" = 1 ] && grep -q " malformed=1 " "$tmp/err"' \
        "a corrupt MESSAGE object: counted as malformed, the alerts all kept"

# ---- folders with nothing readable: exit 2, one line naming what is there -----------------------
mkdir -p "$tmp/d-empty" "$tmp/d-junk" "$tmp/d-trunc" "$tmp/d-mixed" "$tmp/d-perm"
run "" -- scan --directory "$tmp/d-empty" "${base[@]}"
check '[ "$rc" = 2 ] && [ "$(lines "$tmp/err")" = 1 ] && grep -q "no readable journal file in .*d-empty.*none found" "$tmp/err"' \
        "an empty folder: exit 2, one line"
head -c 8192 /dev/urandom >"$tmp/d-junk/system.journal"
run "" -- scan --directory "$tmp/d-junk" "${base[@]}"
check '[ "$rc" = 2 ] && [ "$(lines "$tmp/err")" = 1 ] && grep -q "d-junk/system.journal: not a journal file" "$tmp/err"' \
        "a folder holding only junk: exit 2, one line naming the file"
head -c 3000 "$tmp/j.journal" >"$tmp/d-trunc/system@0001.journal~"
run "" -- scan --directory "$tmp/d-trunc" "${base[@]}"
check '[ "$rc" = 2 ] && [ "$(lines "$tmp/err")" = 1 ] && grep -q "\"$tmp/d-trunc/system@0001.journal~\": not a journal file, or a corrupt one" "$tmp/err"' \
        "a folder holding only a truncated journal: exit 2, one line naming it (~ is quoted)"
# a FIFO is no journal file (sd-journal does not look at it); a symlink to one is opened without
# waiting, and named
mkfifo "$tmp/d-trunc/fifo.journal"
ln -s fifo.journal "$tmp/d-trunc/link.journal"
rc=
timeout 20 "$kt" scan --directory "$tmp/d-trunc" "${base[@]}" >"$tmp/out" 2>"$tmp/err"
rc=$?
check '[ "$rc" = 2 ] && [ "$(lines "$tmp/err")" = 1 ] && grep -q "link.journal: not a journal file" "$tmp/err" && ! grep -q "fifo.journal" "$tmp/err"' \
        "a FIFO named like a journal file, and a symlink to it: never waited on; the symlink named"

# one good file beside junk: read and judged, the junk named, exit 2 (the scan is incomplete)
cp "$tmp/j.journal" "$tmp/d-mixed/system.journal"
cp "$tmp/d-junk/system.journal" "$tmp/d-mixed/user-1000.journal"
mkdir "$tmp/d-mixed/4c6f0b5e8f6a4c9aa1f2e3d4c5b6a7b8"
head -c 100 /dev/zero >"$tmp/d-mixed/4c6f0b5e8f6a4c9aa1f2e3d4c5b6a7b8/user-1001.journal"
echo "not journal" >"$tmp/d-mixed/README"
run "" -- scan --directory "$tmp/d-mixed" "${base[@]}"
check '[ "$rc" = 2 ] && [ "$(jq -r .id "$tmp/out" | sort)" = "$want_alerts" ]' \
        "junk beside a good journal: the good one's alerts, then exit 2"
check '[ "$(lines "$tmp/err")" = 2 ] && grep -q "d-mixed/user-1000.journal: not a journal file" "$tmp/err" && grep -q "4c6f0b5e8f6a4c9aa1f2e3d4c5b6a7b8/user-1001.journal: not a journal file" "$tmp/err"' \
        "one line for each bad file, also in a machine-id subfolder; none for README"

# ---- permission: said once, naming the files and who may read them ------------------------------
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
        who=nobody
else
        who=
fi
cp "$tmp/j.journal" "$tmp/d-perm/system.journal"
cp "$tmp/j.journal" "$tmp/d-perm/user-1234.journal"
chmod 755 "$tmp/d-perm"
chmod 644 "$tmp/d-perm/system.journal"
grp=$(getent group 0 | cut -d: -f1)
chmod 640 "$tmp/d-perm/user-1234.journal"
[ -n "$who" ] || chmod 000 "$tmp/d-perm/user-1234.journal"
run "$who" -- scan --directory "$tmp/d-perm" "${base[@]}"
check '[ "$rc" = 1 ] && [ "$(jq -r .id "$tmp/out" | sort)" = "$want_alerts" ]' \
        "a file the user cannot read beside one it can: the readable one is judged (exit 1)"
if [ -n "$who" ]; then
        check '[ "$(lines "$tmp/err")" = 1 ] && grep -q "^keytrail: cannot read 1 journal file, permission denied (.*d-perm/user-1234.journal); members of group '"'$grp'"' may read them$" "$tmp/err"' \
                "one line names the file and the group that may read it"
else
        check '[ "$(lines "$tmp/err")" = 1 ] && grep -q "^keytrail: cannot read 1 journal file, permission denied (.*d-perm/user-1234.journal)" "$tmp/err"' \
                "one line names the file"
fi
if [ -n "$who" ]; then
        chmod 640 "$tmp/d-perm/system.journal"
        run "$who" -- scan --directory "$tmp/d-perm" "${base[@]}"
        check '[ "$rc" = 2 ] && [ "$(lines "$tmp/err")" = 1 ] && grep -q "no readable journal file in .*d-perm.*: 2 journal files, permission denied" "$tmp/err"' \
                "nothing readable to the user: exit 2, one line"
        run "$who" -- scan --file "$tmp/j.journal" --file "$tmp/d-perm/user-1234.journal" "${base[@]}"
        check '[ "$rc" = 2 ] && [ "$(lines "$tmp/err")" = 1 ] && grep -q "^keytrail: --file: cannot open .*d-perm/user-1234.journal: Permission denied$" "$tmp/err"' \
                "an unreadable second --file is named as itself"
else
        ok "# SKIP not root: cannot take another user's view"
        ok "# SKIP not root: cannot take another user's view"
fi

# ---- --file errors name the file, and only it ---------------------------------------------------
run "" -- scan --file "$tmp/j.journal" --file "$tmp/d-junk/system.journal" "${base[@]}"
check '[ "$rc" = 2 ] && [ "$(lines "$tmp/err")" = 1 ] && grep -q "^keytrail: --file: cannot open .*d-junk/system.journal: not a journal file, or a corrupt one$" "$tmp/err"' \
        "a junk second --file: one line naming it"
run "" -- scan --file "$tmp/nope.journal" "${base[@]}"
check '[ "$rc" = 2 ] && [ "$(lines "$tmp/err")" = 1 ] && grep -q "nope.journal: No such file" "$tmp/err"' \
        "a missing --file: one line, no word of the system journal"
run "" -- scan --directory "$tmp/nope" "${base[@]}"
check '[ "$rc" = 2 ] && [ "$(lines "$tmp/err")" = 1 ] && grep -q "^keytrail: --directory: cannot open .*nope: No such file" "$tmp/err"' \
        "a missing --directory: one line"

# ---- a file corrupt in the middle: named, what came before it judged, exit 2 --------------------
# Overwrite the object header of an entry after the first connection's sessions: sd-journal then
# drops the rest of the file without a word.
python3 - "$tmp/j.journal" "$tmp/corrupt.journal" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
off = struct.unpack_from('<Q', d, 88)[0]      # header_size: the first object
entries = []
while off + 16 <= len(d):
    kind, size = d[off], struct.unpack_from('<Q', d, off + 8)[0]
    if size == 0:
        break
    if kind == 3:                                # OBJECT_ENTRY
        entries.append(off)
    off += (size + 7) & ~7
e = entries[len(entries) * 2 // 3]
d[e:e + 16] = b'\xee' * 16
open(sys.argv[2], 'wb').write(d)
PY
run "" -- scan --file "$tmp/corrupt.journal" "${base[@]}"
check '[ "$rc" = 2 ] && [ "$(jq -r .id "$tmp/out" | sort)" = "$want_alerts" ]' \
        "a corrupt entry object: the alerts before it are written, then exit 2"
check '[ "$(lines "$tmp/err")" = 1 ] && grep -q "^keytrail: .*corrupt.journal: corrupt, read only in part" "$tmp/err"' \
        "one line names the file"
mkdir -p "$tmp/d-corrupt"
cp "$tmp/corrupt.journal" "$tmp/d-corrupt/system.journal"
journal_from_export "$src/tests/journal/no-alert-admin.export" "$tmp/d-corrupt/user-1000.journal"
run "" -- scan --directory "$tmp/d-corrupt" --stats "${base[@]}"
check '[ "$rc" = 2 ] && [ "$(jq -r .id "$tmp/out" | sort)" = "$want_alerts" ] && grep -q "d-corrupt/system.journal: corrupt, read only in part" "$tmp/err" && ! grep -q "user-1000" "$tmp/err"' \
        "in a folder: the corrupt file is named, the good one read"
check 'grep -Eq "stats: records=([3-9][0-9]) " "$tmp/err"' "(the other file's entries were read too)"

# ---- hostile file names: a journal folder's names are chosen by whoever writes there -------------
# (systemd-journal-remote names its files after the sending host). A name with a newline and a
# terminal escape sequence is printed as an escaped literal (escape_quote(): "...\n...\u001b..."),
# so it can neither forge a stderr line of its own nor reach the terminal; plain names stay bare.
evil=$'evil\nkeytrail: all journal files read, no problem\e[2K\e]0;pwned\a'
evil_text='evil\\nkeytrail: all journal files read, no problem\\u001b\[2K\\u001b\]0;pwned\\u0007'
mkdir -p "$tmp/d-evil" "$tmp/d-evil-junk"
cp "$tmp/corrupt.journal" "$tmp/d-evil/$evil.journal"
journal_from_export "$src/tests/journal/no-alert-admin.export" "$tmp/d-evil/user-1000.journal"
run "" -- scan --directory "$tmp/d-evil" "${base[@]}"
check '[ "$rc" = 2 ] && [ "$(jq -r .id "$tmp/out" | sort)" = "$want_alerts" ] && [ "$(lines "$tmp/err")" = 1 ]' \
        "a corrupt journal file named with a newline: the alerts before the damage, exit 2, one stderr line"
check 'grep -q "^keytrail: \"$tmp/d-evil/$evil_text\.journal\": corrupt, read only in part: entries after the damage are lost$" "$tmp/err"' \
        "its name is one escaped literal on that line"
check '! grep -q $'"'"'[\x01-\x09\x0b-\x1f\x7f]'"'"' "$tmp/err" && ! grep -q "^keytrail: all journal files" "$tmp/err"' \
        "no control byte reaches stderr, and the forged line is not a line"
printf 'not a journal\n' >"$tmp/d-evil-junk/$evil.journal"
run "" -- scan --directory "$tmp/d-evil-junk" "${base[@]}"
check '[ "$rc" = 2 ] && [ "$(lines "$tmp/err")" = 1 ] && grep -q "^keytrail: --directory: no readable journal file in $tmp/d-evil-junk: \"$tmp/d-evil-junk/$evil_text\.journal\": not a journal file, or a corrupt one$" "$tmp/err"' \
        "nothing readable: the summary line escapes the name"
run "" -- scan --file "$tmp/j.journal" --file "$tmp/d-evil-junk/$evil.journal" "${base[@]}"
check '[ "$rc" = 2 ] && [ "$(lines "$tmp/err")" = 1 ] && grep -q "^keytrail: --file: cannot open \"$tmp/d-evil-junk/$evil_text\.journal\": not a journal file, or a corrupt one$" "$tmp/err"' \
        "a junk --file so named: one line, the name escaped"
check '! grep -q $'"'"'[\x01-\x09\x0b-\x1f\x7f]'"'"' "$tmp/err"' "(no control byte)"
run "" -- scan --file "$tmp/j.journal" --file "$tmp/d-junk/system.journal" "${base[@]}"
check 'grep -q "^keytrail: --file: cannot open $tmp/d-junk/system.journal: not" "$tmp/err"' \
        "a plain name is written bare"
# the names an operator types (--directory, --input) are escaped the same way: a folder or a
# text log named by a script from a listing, or a path pasted with a newline in it
mkdir -p "$tmp/$evil-dir"
run "" -- scan --directory "$tmp/$evil-dir" "${base[@]}"
check '[ "$rc" = 2 ] && [ "$(lines "$tmp/err")" = 1 ] && grep -q "^keytrail: --directory: no readable journal file in \"$tmp/$evil_text-dir\": none found" "$tmp/err"' \
        "an empty --directory so named: one line, the name escaped"
run "" -- scan --directory "$tmp/d-empty" "${base[@]}"
check '[ "$rc" = 2 ] && grep -q "^keytrail: --directory: no readable journal file in $tmp/d-empty: " "$tmp/err"' \
        "a plain --directory is written bare"
run "" -- scan --input "$tmp/$evil.log" "${base[@]}"
check '[ "$rc" = 2 ] && [ "$(lines "$tmp/err")" = 1 ] && grep -q "^keytrail: --input: cannot read \"$tmp/$evil_text\.log\": No such file or directory$" "$tmp/err"' \
        "a missing --input so named: one line, the name escaped"
printf 'not a log line\n' >"$tmp/$evil.log"
run "" -- scan --input "$tmp/$evil.log" "${base[@]}"
check '[ "$rc" = 2 ] && [ "$(lines "$tmp/err")" = 1 ] && grep -q "^keytrail: \"$tmp/$evil_text\.log\":1: not a syslog" "$tmp/err"' \
        "a --input so named that holds no log line: FILE:LINE with the name escaped"
check '! grep -q $'"'"'[\x01-\x09\x0b-\x1f\x7f]'"'"' "$tmp/err"' "(no control byte)"
run "" -- scan --input - "${base[@]}" <"$tmp/$evil.log"
check '[ "$rc" = 2 ] && grep -q "^keytrail: (stdin):1: not a syslog" "$tmp/err"' \
        "standard input is (stdin)"
run "" -- scan --input "$tmp/nope.log" "${base[@]}"
check '[ "$rc" = 2 ] && grep -q "^keytrail: --input: cannot read $tmp/nope.log: No such file" "$tmp/err"' \
        "a plain --input is written bare"
# Every other path an operator types is written the same way in its problem line: --baseline,
# --policy, --output (baseline's and follow's), --state-dir, --socket, --authorized-keys, --rules.
# A missing folder so named makes each fail: one line, the name one escaped literal, exit 2.
bad="$tmp/$evil-none" bad_text="$tmp/$evil_text-none"
evil_path() { # NAME TEXT ARGS...: run ARGS, then check for the one line "keytrail: TEXT" (a regex;
               # follow's "no state yet" beside it)
        local name=$1 want=$2
        shift 2
        run "" -- "$@"
        check '[ "$rc" = 2 ] && [ "$(grep -vc "follow.state: no state yet" "$tmp/err")" = 1 ] &&
               grep -q "^keytrail: $want$" "$tmp/err" &&
               ! grep -q $'"'"'[\x01-\x09\x0b-\x1f\x7f]'"'"' "$tmp/err"' \
                "$name so named: one line, the name escaped, no control byte"
}
evil_path "a missing --baseline" "--baseline: cannot read \"$bad_text\.bl\": No such file or directory" \
        scan --file "$tmp/j.journal" --rules "$src/rules" --baseline "$bad.bl"
printf 'keytrail-baseline 1\nbogus\n' >"$tmp/$evil.bl"
evil_path "a --baseline with a bad line" "\"$tmp/$evil_text\.bl\":2: unknown record" \
        scan --file "$tmp/j.journal" --rules "$src/rules" --baseline "$tmp/$evil.bl"
evil_path "a missing --policy" "--policy: cannot read \"$bad_text\.policy\": No such file or directory" \
        scan --file "$tmp/j.journal" "${base[@]}" --policy "$bad.policy"
printf 'garbage\n' >"$tmp/$evil.policy"
evil_path "a --policy with a bad line" "\"$tmp/$evil_text\.policy\":1: .*" \
        scan --file "$tmp/j.journal" "${base[@]}" --policy "$tmp/$evil.policy"
evil_path "a missing --authorized-keys" \
        "--authorized-keys: cannot read \"$bad_text\.ak\": No such file or directory" \
        scan --file "$tmp/j.journal" --rules "$src/rules" --authorized-keys "mirror:$bad.ak"
mkdir -p "$tmp/$evil-rules"
evil_path "an empty --rules" "\"$tmp/$evil_text-rules\": no rules found" \
        scan --file "$tmp/j.journal" --rules "$tmp/$evil-rules"
evil_path "follow's --state-dir in a missing folder" \
        "--state-dir: cannot create \"$bad_text/st\": No such file or directory" \
        follow --file "$tmp/j.journal" "${base[@]}" --state-dir "$bad/st"
mkdir -p "$tmp/st"
evil_path "follow's --output in a missing folder" \
        "--output: cannot open \"$bad_text/alerts\": No such file or directory" \
        follow --file "$tmp/j.journal" "${base[@]}" --state-dir "$tmp/st" --output "$bad/alerts"
rm -rf "$tmp/st" && mkdir -p "$tmp/st"
evil_path "follow's --socket in a missing folder" \
        "--socket: cannot listen on \"$bad_text/sock\": No such file or directory" \
        follow --file "$tmp/j.journal" "${base[@]}" --state-dir "$tmp/st" --socket "$bad/sock"
# keytrail doctor writes the paths it is given the same way in its report: one line per check (a
# status word, the check's name), whatever the names hold
doctor_lines() { # PATTERN...: each a line of $tmp/out; and 8 lines, each a check's, no control byte
        local p
        for p in "$@"; do
                grep -q "$p" "$tmp/out" || return 1
        done
        [ "$(lines "$tmp/out")" = 8 ] &&
                [ "$(grep -cE '^(ok|warn|fail|skip) +[a-z-]+: ' "$tmp/out")" = 8 ] &&
                ! grep -q $'[\x01-\x09\x0b-\x1f\x7f]' "$tmp/out"
}
run "" -- doctor --baseline "$bad.bl" --rules "$tmp/$evil-rules" --sshd "$bad-sshd" \
        --journal-dir "$bad-jd"
check 'doctor_lines "^fail baseline: no baseline file at \"$bad_text\.bl\": .*; fix: keytrail baseline --output \"$bad_text\.bl\"$" \
        "^fail rules: \"$tmp/$evil_text-rules\": no rules found;" \
        "^warn sshd-loglevel: cannot read sshd.s effective LogLevel: \"$bad_text-sshd\" -T failed (cannot run " \
        "^fail journal-storage: .*\"$bad_text-jd\"\\|^[a-z]* *journal-storage: the journal is \\(volatile\\|not kept\\)"' \
        "doctor with --baseline, --rules, --sshd, --journal-dir so named: the names escaped"
run "" -- doctor --baseline "$tmp/$evil.bl" --format json
check 'jq -s -e "map(select(.check == \"baseline\"))[0].message | test(\"^the baseline file is unreadable: \\\"$tmp/evil\\\\\\\\nkeytrail: .*\\\\.bl\\\":2: unknown record$\")" "$tmp/out" >/dev/null' \
        "doctor --format json with a --baseline so named that has a bad line: the name escaped"
run "" -- doctor --baseline "$tmp/$evil.bl"
check 'doctor_lines "^fail baseline: the baseline file is unreadable: \"$tmp/$evil_text\.bl\":2: unknown record; fix: keytrail baseline --output \"$tmp/$evil_text\.bl\"$"' \
        "doctor with a --baseline so named that has a bad line: the name escaped"
if [ "$(id -u)" = 0 ]; then
        run "" -- baseline --output "$bad/bl"
        check '[ "$rc" = 2 ] && grep -q "^keytrail: --output: cannot create a file beside \"$bad_text/bl\": No such file or directory$" "$tmp/err" && ! grep -q $'"'"'[\x01-\x09\x0b-\x1f\x7f]'"'"' "$tmp/err"' \
                "baseline's --output in a missing folder so named: the name escaped, no control byte"
        run "" -- baseline --sshd "$bad-sshd"
        check '[ "$rc" = 0 ] && grep -q "^keytrail: \"$bad_text-sshd\" -T failed (cannot run .*): assuming sshd.s default AuthorizedKeysFile" "$tmp/err" && ! grep -q $'"'"'[\x01-\x09\x0b-\x1f\x7f]'"'"' "$tmp/err"' \
                "baseline's --sshd so named that cannot run: the name escaped, no control byte"
else
        ok "# SKIP not root: keytrail baseline needs root"
        ok "# SKIP not root: keytrail baseline needs root"
fi
# a file the user cannot read, so named, beside one it can: the permission line; and keytrail
# doctor's journal-access check, which lists the unreadable files of --journal-dir/MACHINE-ID
# (text: one line per check; JSON: the name's invalid byte escaped, not "out of memory")
if [ -n "$who" ] && [ -r /etc/machine-id ]; then
        mid=$(cat /etc/machine-id)
        mkdir -p "$tmp/d-evil-perm" "$tmp/jd/$mid"
        cp "$tmp/j.journal" "$tmp/d-evil-perm/system.journal"
        cp "$tmp/j.journal" "$tmp/d-evil-perm/user-$evil.journal"
        chmod 644 "$tmp/d-evil-perm/system.journal"
        chmod 600 "$tmp/d-evil-perm/user-$evil.journal"
        chmod 755 "$tmp/d-evil-perm" "$tmp/jd" "$tmp/jd/$mid"
        run "$who" -- scan --directory "$tmp/d-evil-perm" "${base[@]}"
        check '[ "$rc" = 1 ] && [ "$(lines "$tmp/err")" = 1 ] && grep -q "^keytrail: cannot read 1 journal file, permission denied (\"$tmp/d-evil-perm/user-$evil_text\.journal\")" "$tmp/err"' \
                "permission denied: the readable file judged (exit 1), the name escaped in the one line"
        cp "$tmp/j.journal" "$tmp/jd/$mid/user-$evil.journal"
        cp "$tmp/j.journal" "$tmp/jd/$mid/user-1001"$'\xff'".journal"
        chmod 600 "$tmp/jd/$mid/"*
        setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups -- "$kt" doctor \
                --journal-dir "$tmp/jd" >"$tmp/out" 2>"$tmp/err"
        check '[ "$(grep -c "^[a-z]* *[a-z-]*: " "$tmp/out")" = "$(lines "$tmp/out")" ] && grep -q "^fail journal-access: UID [0-9]* cannot read 2 of 2 journal files (0 system, 2 user: \"user-1001\\\\xff.journal\", \"user-$evil_text\.journal\")" "$tmp/out" && ! grep -q $'"'"'[\x01-\x09\x0b-\x1f\x7f]'"'"' "$tmp/out"' \
                "doctor: the names escaped, one line per check, no control byte"
        setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups -- "$kt" doctor \
                --journal-dir "$tmp/jd" --format json >"$tmp/out" 2>"$tmp/err"
        check 'jq -s -e "map(select(.check == \"journal-access\"))[0].message | test(\"2 user: \\\"user-1001\\\\\\\\xff\\\\.journal\\\", \\\"user-evil\\\\\\\\nkeytrail: \")" "$tmp/out" >/dev/null && ! grep -qi "memory" "$tmp/err"' \
                "doctor --format json: the same, valid JSON"
else
        ok "# SKIP not root: cannot take another user's view"
        ok "# SKIP not root: cannot take another user's view"
        ok "# SKIP not root: cannot take another user's view"
fi

echo "1..$n"
[ "$failed" = 0 ]
