#!/bin/bash
# SPDX-License-Identifier: MIT
# keytrail baseline and --baseline FILE, for real (root): a test account whose authorized_keys
# holds every key type (ed25519, ecdsa 256/384/521, rsa, ed25519-sk and ecdsa-sk, certificates of
# each, a cert-authority line) with options, comments, a CRLF line, a malformed line and comments;
# `keytrail baseline` with the real `sshd -T` (in a private mount namespace with the /run/sshd it
# needs) and without it (fallback); each key record against `ssh-keygen -lf` (fingerprint, type,
# line) and against the line as written; AuthorizedKeysFile patterns and AuthorizedKeysCommand
# from a real sshd_config; a symbolic link refused; every scenario journal scanned with a baseline
# file gives exactly the alerts of --authorized-keys; a bad baseline file is FILE:LINE, exit 2.
#   test-baseline.sh KEYTRAIL SOURCE_DIR          TAP on stdout
set -u
kt=$(realpath "$1") src=$(cd "$2" && pwd)
if [ "$(id -u)" != 0 ]; then
        echo "1..0 # SKIP needs root (test accounts, sshd -T)"
        exit 0
fi
for t in ssh-keygen sshd unshare useradd python3 jq; do
        if ! command -v "$t" >/dev/null; then
                echo "1..0 # SKIP $t is missing"
                exit 0
        fi
done
. "$src/tests/journal-lib.sh" # $tmp (removed at exit), journal_from_export

. "$src/tests/ops/tap-lib.sh"
check() { # check TITLE FILE_A FILE_B: the two files are equal
        if cmp -s "$2" "$3"; then ok "$1"; else
                diff -u "$2" "$3" >"$tmp/diff"
                not_ok "$1" "$tmp/diff"
        fi
}

user=kt$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')
home=$tmp/home/$user
cleanup_user() { userdel "$user" >/dev/null 2>&1; }
trap 'cleanup_user; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/home"
chmod 755 "$tmp" "$tmp/home"
useradd -M -d "$home" -s /usr/sbin/nologin -p '*' "$user" || { echo "1..0 # SKIP useradd failed"; exit 0; }
mkdir -p "$home/.ssh"

# ---- keys of every type -------------------------------------------------------------------------
k=$tmp/keys
mkdir "$k"
gen() { ssh-keygen -q -N '' -C "$3" -t "$1" ${2:+-b "$2"} -f "$k/$4"; }
gen ed25519 "" "ed key@host" ed
gen ecdsa 256 "ecdsa256" ec256
gen ecdsa 384 "ecdsa384" ec384
gen ecdsa 521 "ecdsa521" ec521
gen rsa 2048 "rsa key" rsa
gen ed25519 "" "ca" ca
python3 "$src/tests/ops/sk-from-ecdsa.py" <"$k/ec256.pub" >"$k/skec.pub"
python3 "$src/tests/ops/sk-from-ecdsa.py" <"$k/ed.pub" >"$k/sked.pub"
for c in ed ec384 rsa skec sked; do
        ssh-keygen -q -s "$k/ca" -I "id-$c" -n "$user" "$k/$c.pub" 2>/dev/null
done

ak=$home/.ssh/authorized_keys
{
        echo "# keys of every type"
        echo
        cat "$k/ed.pub"
        echo "command=\"rsync --server -vlogDtprze.iLsfxCIvu . /srv/a \\\"b\\\"\",restrict $(cat "$k/ec256.pub")"
        echo "from=\"10.0.0.0/8,!10.1.2.3\",no-pty,no-port-forwarding	$(cat "$k/ec384.pub")"
        echo "  environment=\"A=b c\",permitopen=\"h:22\",expiry-time=\"20991231\" $(cat "$k/ec521.pub")   "
        printf '%s\r\n' "$(cat "$k/rsa.pub")"
        echo "ssh-ed25519 AAAAbroken not a key"
        echo "no-touch-required $(cat "$k/skec.pub")"
        echo "verify-required $(cat "$k/sked.pub")"
        cat "$k/ed-cert.pub" "$k/ec384-cert.pub" "$k/rsa-cert.pub" "$k/skec-cert.pub" "$k/sked-cert.pub"
        echo "cert-authority,principals=\"$user,other\" $(cat "$k/ca.pub")"
} >"$ak"
chown -R "$user" "$home"
chmod 700 "$home/.ssh"
chmod 600 "$ak"
# a symbolic link where sshd would look next: refused, not followed
ln -s /etc/passwd "$home/.ssh/authorized_keys2"

# sshd -T needs its privilege separation directory; make it in a private mount namespace only.
in_ns() { unshare -m bash -c 'mount -t tmpfs tmpfs /run && mkdir -p /run/sshd && "$@"' _ "$@"; }

# ---- the real sshd -T -------------------------------------------------------------------------
in_ns "$kt" baseline --output "$tmp/bl" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc = 0 ] && [ ! -s "$tmp/out" ]; then ok "baseline exits 0, nothing on stdout"; else
        not_ok "baseline exits 0 ($rc)" "$tmp/err" "$tmp/out"; fi
if head -1 "$tmp/bl" | grep -qx 'keytrail-baseline 1' &&
        grep -qx 'authorized-keys-file sshd .ssh/authorized_keys .ssh/authorized_keys2' "$tmp/bl"; then
        ok "header, and AuthorizedKeysFile from sshd -T"
else not_ok "header, and AuthorizedKeysFile from sshd -T" "$tmp/bl" "$tmp/err"; fi
if [ "$(stat -c %a "$tmp/bl")" = 644 ]; then ok "written with mode 0644"; else not_ok "mode 0644"; fi
if grep -q "$ak:8: invalid base64 in key; 1 line that sshd ignores too" "$tmp/err" ||
        grep -q "$ak:8: .*; 1 line that sshd ignores too" "$tmp/err"; then
        ok "the malformed line is named FILE:LINE on stderr"
else not_ok "the malformed line is named FILE:LINE on stderr" "$tmp/err"; fi
grep -qx "account root" "$tmp/bl" && grep -qx "account $user" "$tmp/bl" &&
        ok "every account of the password database is covered" ||
        not_ok "every account is covered" "$tmp/bl"
if grep -qx "file $user $ak read" "$tmp/bl" &&
        grep -qx "file $user $home/.ssh/authorized_keys2 refused $home/.ssh/authorized_keys2 is a symbolic link" "$tmp/bl"; then
        ok "file records: read, and the symbolic link refused"
else not_ok "file records" "$tmp/bl"; fi
if grep -Eq "^file $user .*authorized_keys2 refused .* is a symbolic link" "$tmp/bl" &&
        ! grep -q "root:x:0" "$tmp/bl"; then
        ok "the symbolic link's target was not read"
else not_ok "the link target was not read" "$tmp/bl"; fi

# Every key record of the account against ssh-keygen -lf: line, fingerprint, type, in order.
awk -v u="$user" '$1 == "key" && $2 == u { n = split($3, a, ":"); print a[n], $4, $5 }' "$tmp/bl" \
        >"$tmp/got"
ssh-keygen -lf "$ak" | sed -E 's/^[0-9]+ (SHA256:[^ ]+) .*\(([A-Z0-9-]+)\)$/\1 \2/' >"$tmp/keygen"
grep -nvE '^\s*(#|$)' "$ak" | grep -v AAAAbroken | cut -d: -f1 >"$tmp/lines"
paste -d' ' "$tmp/lines" "$tmp/keygen" >"$tmp/want"
check "every key: FILE:LINE, fingerprint and type as ssh-keygen -lf (13 keys)" "$tmp/want" "$tmp/got"
[ "$(wc -l <"$tmp/got")" = 13 ] && ok "13 key records" || not_ok "13 key records" "$tmp/got"
for t in ED25519 ECDSA RSA ED25519-SK ECDSA-SK ED25519-CERT ECDSA-CERT RSA-CERT ED25519-SK-CERT ECDSA-SK-CERT; do
        grep -q " $t\$" "$tmp/got" || not_ok "type $t present" "$tmp/got"
done
ok "every type present (ED25519 ECDSA RSA *-SK *-CERT)"

# The line as written comes back: the record's rest is the line, blanks and CR trimmed.
grep "^key $user " "$tmp/bl" | sed -E 's/^([^ ]+ ){5}//' >"$tmp/text"
grep -vE '^\s*(#|$)' "$ak" | grep -v AAAAbroken | tr -d '\r' | sed -E 's/^[ \t]+//; s/[ \t]+$//' \
        >"$tmp/want-text"
check "every key record holds its authorized_keys line as written" "$tmp/want-text" "$tmp/text"

# ---- the baseline in use: scan --baseline judges by it ----------------------------------------
# Every scenario journal: the alerts with a baseline file equal those with --authorized-keys.
jdir=$src/tests/journal
{
        echo "keytrail-baseline 1"
        for acct in mirror ops root; do
                echo "account $acct"
                ssh-keygen -lf "$jdir/$acct.authorized_keys" >/dev/null || exit 1
        done
} >"$tmp/scen.bl"
for acct in mirror ops root; do
        f=$jdir/$acct.authorized_keys
        grep -nvE '^\s*(#|$)' "$f" | while IFS= read -r l; do
                num=${l%%:*} text=${l#*:}
                fp=$(printf '%s\n' "$text" | ssh-keygen -lf - | sed -E 's/^[0-9]+ (SHA256:[^ ]+) .*\(([A-Z0-9-]+)\)$/\1 \2/')
                [ -n "$fp" ] && printf 'key %s %s:%s %s %s\n' "$acct" "$f" "$num" "$fp" \
                        "$(printf '%s' "$text" | sed -E 's/^[ \t]+//; s/[ \t\r]+$//')"
        done
done >>"$tmp/scen.bl"
scen_ok=0 scen_bad=""
for e in "$jdir"/*.export; do
        name=$(basename "$e" .export)
        journal_from_export "$e" "$tmp/$name.journal" || { scen_bad+=" $name(journal)"; continue; }
        "$kt" scan --file "$tmp/$name.journal" --rules "$src/rules" --format json \
                --authorized-keys "mirror:$jdir/mirror.authorized_keys" \
                --authorized-keys "ops:$jdir/ops.authorized_keys" \
                --authorized-keys "root:$jdir/root.authorized_keys" >"$tmp/a.json" 2>/dev/null
        rca=$?
        "$kt" scan --file "$tmp/$name.journal" --rules "$src/rules" --format json \
                --baseline "$tmp/scen.bl" >"$tmp/b.json" 2>"$tmp/b.err"
        rcb=$?
        if [ $rca = $rcb ] && cmp -s "$tmp/a.json" "$tmp/b.json" && [ ! -s "$tmp/b.err" ]; then
                scen_ok=$((scen_ok + 1))
        else
                scen_bad+=" $name"
                diff "$tmp/a.json" "$tmp/b.json" | head -5 >>"$tmp/scen.diff"
                cat "$tmp/b.err" >>"$tmp/scen.diff"
        fi
done
if [ -z "$scen_bad" ] && [ $scen_ok -ge 20 ]; then
        ok "$scen_ok scenario journals: --baseline FILE gives exactly the alerts of --authorized-keys"
else not_ok "scenarios with --baseline differ:$scen_bad" "$tmp/scen.diff"; fi

# The written baseline reads back: scan accepts it (an empty journal, no alert).
journal_from_export "$jdir/no-alert-push.export" "$tmp/empty.journal" >/dev/null 2>&1
"$kt" scan --file "$tmp/empty.journal" --rules "$src/rules" --baseline "$tmp/bl" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc != 2 ] && [ ! -s "$tmp/err" ] && ok "scan reads the written baseline" ||
        not_ok "scan reads the written baseline ($rc)" "$tmp/err"

# ---- errors: FILE:LINE, exit 2 ------------------------------------------------------------------
bad() { # bad TITLE REGEX CONTENT
        printf '%b' "$3" >"$tmp/bad.bl"
        "$kt" scan --file "$tmp/empty.journal" --rules "$src/rules" --baseline "$tmp/bad.bl" \
                >"$tmp/out" 2>"$tmp/err"
        rc=$?
        if [ $rc = 2 ] && [ "$(grep -c . "$tmp/err")" = 1 ] && grep -Eq -- "$2" "$tmp/err"; then
                ok "$1"
        else not_ok "$1 (exit $rc, want 2 and one line /$2/)" "$tmp/err"; fi
}
line3=$(sed -n 1p "$tmp/want-text")
bad "not a baseline file" "^keytrail: $tmp/bad.bl:1: not a keytrail baseline file" "ssh-ed25519 AAAA\n"
bad "a future version" "^keytrail: $tmp/bad.bl:2: unsupported baseline file version" "# c\nkeytrail-baseline 9\n"
bad "fingerprint of another key" "^keytrail: $tmp/bad.bl:3: fingerprint does not match the key" \
        "keytrail-baseline 1\naccount x\nkey x /h/.ssh/a:1 SHA256:AAAA ED25519 $line3\n"
bad "a broken authorized_keys line: the parser's phrase" "^keytrail: $tmp/bad.bl:2: unterminated quote in options" \
        "keytrail-baseline 1\nkey x /h/.ssh/a:1 SHA256:AAAA ED25519 command=\"x $line3\n"
bad "an unknown record" "^keytrail: $tmp/bad.bl:2: unknown record" "keytrail-baseline 1\nkeys x\n"
"$kt" scan --file "$tmp/empty.journal" --baseline "$tmp/none" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc = 2 ] && grep -q "^keytrail: --baseline: cannot read $tmp/none: No such file or directory" "$tmp/err" &&
        ok "a missing baseline file: the flag and the path" || not_ok "missing baseline file ($rc)" "$tmp/err"
"$kt" scan --file "$tmp/empty.journal" --baseline "$tmp/bl" --authorized-keys "x:$ak" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc = 2 ] && grep -q "^keytrail: --baseline and --authorized-keys cannot be combined" "$tmp/err" &&
        ok "--baseline with --authorized-keys is refused" || not_ok "--baseline with -k ($rc)" "$tmp/err"

# ---- without sshd -T: the default, said on stderr ----------------------------------------------
"$kt" baseline --sshd /nonexistent/sshd >"$tmp/bl2" 2>"$tmp/err"
rc=$?
if [ $rc = 0 ] && grep -q "/nonexistent/sshd -T failed (cannot run /nonexistent/sshd: No such file or directory): assuming sshd's default AuthorizedKeysFile .ssh/authorized_keys .ssh/authorized_keys2" "$tmp/err" &&
        grep -qx 'authorized-keys-file default .ssh/authorized_keys .ssh/authorized_keys2' "$tmp/bl2"; then
        ok "no sshd -T: the default files, said on stderr and in the file"
else not_ok "no sshd -T: fallback ($rc)" "$tmp/err"; fi
diff <(grep "^key $user " "$tmp/bl") <(grep "^key $user " "$tmp/bl2") >"$tmp/diff" &&
        ok "the same keys to stdout with the default files" || not_ok "same keys" "$tmp/diff"

# ---- AuthorizedKeysFile patterns and AuthorizedKeysCommand from a real sshd_config ---------------
mkdir -p "$tmp/etc-keys"
cp "$k/ed.pub" "$tmp/etc-keys/$user"
mkfifo "$tmp/etc-keys/root"   # would block a plain open
cat >"$tmp/sshd_config" <<EOF
AuthorizedKeysFile $tmp/etc-keys/%u %h/.ssh/none-%U %h/.ssh/authorized_keys
AuthorizedKeysCommand /usr/bin/true %u
AuthorizedKeysCommandUser nobody
EOF
uid=$(id -u "$user")
in_ns bash -c 'mount --bind "$1" /etc/ssh/sshd_config && exec "$2" baseline' _ "$tmp/sshd_config" "$kt" \
        >"$tmp/bl3" 2>"$tmp/err"
rc=$?
if [ $rc = 0 ] && grep -qx "authorized-keys-file sshd $tmp/etc-keys/%u %h/.ssh/none-%U %h/.ssh/authorized_keys" "$tmp/bl3" &&
        grep -qx "authorized-keys-command /usr/bin/true %u" "$tmp/bl3" &&
        grep -qx "file $user $tmp/etc-keys/$user read" "$tmp/bl3" &&
        grep -qx "file $user $home/.ssh/none-$uid absent" "$tmp/bl3" &&
        grep -q "^key $user $tmp/etc-keys/$user:1 $(sed -n 1p "$tmp/keygen" | cut -d' ' -f1) ED25519 " "$tmp/bl3" &&
        grep -q "AuthorizedKeysCommand '/usr/bin/true %u' is set: the keys it returns are out of keytrail's reach" "$tmp/err" &&
        grep -qx "file root $tmp/etc-keys/root refused not a regular file" "$tmp/bl3" &&
        [ "$(grep -c "^key $user $ak:" "$tmp/bl3")" = 13 ] &&
        grep -qx "file $user $home/.ssh/authorized_keys read" "$tmp/bl3"; then
        ok "AuthorizedKeysFile %u %h %U expanded (a FIFO refused, %h/NAME read as discovery reads it), AuthorizedKeysCommand said to be out of reach"
else not_ok "AuthorizedKeysFile patterns ($rc)" "$tmp/err" "$tmp/bl3"; fi

# a file over discovery's cap (8 MiB) is refused whole, never read in part
head -c $((8 * 1024 * 1024 + 1)) /dev/zero | tr '\0' '#' >"$tmp/etc-keys/$user"
in_ns bash -c 'mount --bind "$1" /etc/ssh/sshd_config && exec "$2" baseline' _ "$tmp/sshd_config" "$kt" \
        >"$tmp/bl4" 2>"$tmp/err"
rc=$?
if [ $rc = 0 ] && grep -qx "file $user $tmp/etc-keys/$user refused longer than 8 MiB" "$tmp/bl4" &&
        ! grep -q "^key $user $tmp/etc-keys/$user:" "$tmp/bl4"; then
        ok "an authorized_keys file one byte over 8 MiB: refused, no key taken from it"
else not_ok "a file over 8 MiB ($rc)" "$tmp/err" "$tmp/bl4"; fi

# ---- usage errors --------------------------------------------------------------------------------
"$kt" baseline --output /nonexistent/dir/bl >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc = 2 ] && grep -q "^keytrail: --output: cannot create a file beside /nonexistent/dir/bl:" "$tmp/err" &&
        ok "an unwritable --output: exit 2, the flag named" || not_ok "unwritable --output ($rc)" "$tmp/err"
setpriv --reuid=65534 --regid=65534 --clear-groups "$kt" baseline >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc = 2 ] && grep -q "^keytrail: baseline must run as root" "$tmp/err" &&
        ok "not root: refused, exit 2" || not_ok "not root ($rc)" "$tmp/err"

tap_done
