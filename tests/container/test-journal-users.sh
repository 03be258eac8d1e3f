#!/bin/bash
# SPDX-License-Identifier: MIT
#
# usage: tests/container/test-journal-users.sh BUILD_DIR            (TAP on stdout; needs root)
#
# Issue 8 part 1 where it happens: a booted Debian 12 with systemd as PID 1 and a persistent
# journal, the stock ssh.service at LogLevel VERBOSE, accounts with UIDs above 1000, keys with
# command=, real ssh and rsync clients. journald writes the lines of sshd's per-user child
# ("Starting session", "Disconnected") to user-UID.journal; keytrail scan, run inside with neither
# --file nor --directory, must read them: as root, as a member of systemd-journal, and an account
# without the group is told which files it cannot read and which groups could.
set -u
BUILD_DIR=${1:?usage: $0 BUILD_DIR}
BUILD_DIR=$(cd "$BUILD_DIR" && pwd) || exit 2

[ "$(id -u)" = 0 ] || { echo "Bail out! needs root (boots a container)"; exit 1; }
for tool in systemd-nspawn nsenter ssh-keygen jq meson; do
        command -v "$tool" >/dev/null || { echo "Bail out! $tool missing"; exit 1; }
done
# shellcheck source=tests/container/lib.sh
. "$(dirname "$0")/lib.sh"

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
        n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"
        sed 's/^/# /' "$T/err" "$T/out" 2>/dev/null | head -30
}
check() { if eval "$1"; then ok "$2"; else not_ok "$2"; fi; }
diag() { printf '# %s\n' "$*"; }

T=$(mktemp -d /tmp/kt-ct-test.XXXXXX)
trap 'rm -rf "$T"' EXIT         # ct_boot runs ct_stop first, then this
ct_boot || { echo "Bail out! the container did not boot"; exit 1; }
ct_install "$BUILD_DIR" || { echo "Bail out! cannot install keytrail into the container"; exit 1; }
diag "container $CT_MACHINE: $(ct_exec sshd -V 2>&1 | head -n1), $(ct_exec keytrail --version)"

# ---- accounts, keys, authorized_keys ----------------------------------------------------------
P=kt$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
mirror=${P}mirror reader=${P}reader other=${P}other
for u in "$mirror" "$reader" "$other"; do
        ct_add_user "$u" || { echo "Bail out! ct_add_user $u"; exit 1; }
done
ct_exec usermod -a -G systemd-journal "$reader"
uid=$(ct_exec id -u "$mirror")
check '[ "$uid" -gt 1000 ] && [ "$(ct_exec id -u "$reader")" -gt 1000 ]' "the accounts have UIDs above 1000 ($uid)"

ct_exec install -d -m 700 /root/keys
for k in push forced stripped swapped; do
        ct_exec ssh-keygen -q -t ed25519 -N '' -C "$k@client" -f "/root/keys/$k"
done
fp() { ct_exec ssh-keygen -lf "/root/keys/$1.pub" | awk '{print $2}'; }
pub() { ct_exec cat "/root/keys/$1.pub"; }

# the exact command this rsync client asks the server to run, as an administrator pastes it
ct_exec install -d -o "$mirror" -g "$mirror" "/home/$mirror/in"
printf '#!/bin/sh\nwhile [ $# -gt 0 ] && [ "$1" != rsync ]; do shift; done\necho "$*" >/root/rsync-cmd\nexit 1\n' \
        >"$CT_ROOT/root/capture.sh"
chmod 755 "$CT_ROOT/root/capture.sh"
mkdir -p "$CT_ROOT/root/payload/sub"
seq 1 500 >"$CT_ROOT/root/payload/sub/numbers"
ct_exec rsync -a -e /root/capture.sh /root/payload/ "x@y:/home/$mirror/in/" >/dev/null 2>&1
rsync_cmd=$(cat "$CT_ROOT/root/rsync-cmd")
check '[[ "$rsync_cmd" == "rsync --server "* ]]' "rsync's server command captured ($rsync_cmd)"

# What the administrator meant (the baseline, readable by every account) ...
ct_exec install -d -m 755 /etc/keytrail-intended
{
        echo "command=\"$rsync_cmd\",restrict $(pub push)"
        echo "command=\"/bin/echo forced\",restrict $(pub forced)"
        echo "command=\"/bin/echo forced\",restrict $(pub stripped)"
        echo "command=\"/bin/echo forced\",restrict $(pub swapped)"
} >"$CT_ROOT/etc/keytrail-intended/$mirror"
chmod 644 "$CT_ROOT/etc/keytrail-intended/$mirror"
# ... and what is live: one line lost its command=, one has another command
{
        echo "command=\"$rsync_cmd\",restrict $(pub push)"
        echo "command=\"/bin/echo forced\",restrict $(pub forced)"
        echo "restrict $(pub stripped)"
        echo "command=\"/bin/echo swapped\",restrict $(pub swapped)"
} >"$CT_ROOT/home/$mirror/.ssh/authorized_keys"
ct_exec chown "$mirror:$mirror" "/home/$mirror/.ssh/authorized_keys"
ct_exec chmod 600 "/home/$mirror/.ssh/authorized_keys"

# ---- real clients -----------------------------------------------------------------------------
sshx() { # KEY [ARGS...]: ssh as root in the container to $mirror@127.0.0.1 with KEY
        local key=$1
        shift
        ct_exec timeout 60 ssh -F /dev/null -i "/root/keys/$key" -o BatchMode=yes -o IdentitiesOnly=yes \
                -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
                "$mirror@127.0.0.1" "$@" </dev/null
}
t0=$(date +%s)
ct_exec timeout 60 rsync -a -e "ssh -F /dev/null -i /root/keys/push -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR" \
        /root/payload/ "$mirror@127.0.0.1:/home/$mirror/in/" </dev/null
check '[ "$(ct_exec cat "/home/$mirror/in/sub/numbers" 2>/dev/null | wc -l)" = 500 ]' \
        "an rsync push with the forced key (its command as meant)"
check '[ "$(sshx forced)" = forced ]' "an ssh login with the forced key runs the forced command"
check '[ "$(sshx stripped id -un)" = "$mirror" ]' "the stripped key runs a command of the client's choice"
check '[ "$(sshx swapped)" = swapped ]' "the swapped key runs another forced command"

# every connection closed (only the listener left), then everything on disk
for ((i = 0; i < 100; i++)); do
        [ "$(ct_exec pgrep -c -x sshd)" = 1 ] && break
        sleep 0.1
done
ct_exec journalctl --sync
mid=$(ct_exec cat /etc/machine-id)
jdir=/var/log/journal/$mid
ujf=$jdir/user-$uid.journal
check '[ -f "$CT_ROOT$ujf" ] && [ -f "$CT_ROOT$jdir/system.journal" ]' \
        "the journal is persistent and split: $jdir/{system,user-$uid}.journal"
sess_user=$(ct_exec journalctl --file "$ujf" -o cat -t sshd | grep -c '^Starting session: ')
sess_sys=$(ct_exec journalctl --file "$jdir/system.journal" -o cat -t sshd | grep -c '^Starting session: ')
check '[ "$sess_user" = 4 ] && [ "$sess_sys" = 0 ]' \
        "sshd's 'Starting session' lines are all in user-$uid.journal ($sess_user), none in system.journal"

# ---- keytrail scan inside, no --file, no --directory -----------------------------------------
scan() { # AS_USER|"" [ARGS...]: keytrail scan in the container; $rc, out, err
        local as=$1
        shift
        if [ -n "$as" ]; then
                ct_exec setpriv --reuid="$as" --regid="$as" --init-groups -- \
                        keytrail scan --since "@$((t0 - 5))" --format json "$@" >"$T/out" 2>"$T/err"
        else
                ct_exec keytrail scan --since "@$((t0 - 5))" --format json "$@" >"$T/out" 2>"$T/err"
        fi
        rc=$?
}
baseline=(--authorized-keys "$mirror:/etc/keytrail-intended/$mirror")
expect_alerts() { # TITLE: exactly the two alerts, every field someone cares about
        local title=$1 got want
        got=$(jq -c '[.type, .severity, .user, .fingerprint, .key_type, .session_type,
                .expected_command, .observed_command, .key_location, .source_ip, .rule]' "$T/out" | sort)
        want=$(printf '%s\n' \
                "[\"command-mismatch\",\"high\",\"$mirror\",\"$(fp swapped)\",\"ED25519\",\"forced-command\",\"/bin/echo forced\",\"/bin/echo swapped\",\"/home/$mirror/.ssh/authorized_keys:4\",\"127.0.0.1\",\"sshd.session.start-forced-command\"]" \
                "[\"unforced-session\",\"critical\",\"$mirror\",\"$(fp stripped)\",\"ED25519\",\"command\",\"/bin/echo forced\",null,\"/home/$mirror/.ssh/authorized_keys:3\",\"127.0.0.1\",\"sshd.session.start\"]" |
                sort)
        if [ "$got" = "$want" ]; then
                ok "$title"
        else
                not_ok "$title"
                diag "want:"; printf '%s\n' "$want" | sed 's/^/#   /'
                diag "got:"; printf '%s\n' "$got" | sed 's/^/#   /'
        fi
}

scan "" "${baseline[@]}" --stats
check '[ "$rc" = 1 ]' "as root: alerts, exit 1"
expect_alerts "as root: the unforced-session and the command-mismatch of a regular account, nothing else (no no-session at the normal disconnects)"
check '[ "$(grep -c . "$T/err")" = 1 ] && grep -q "^keytrail: stats: .* malformed=0 " "$T/err"' \
        "as root: nothing read is unreadable"
jq -r '.evidence[]' "$T/out" | sort >"$T/root-evidence"
cursors_resolve() {
        local c
        while read -r c; do
                ct_exec journalctl --cursor="$c" -n 1 -o cat -q | grep -q . || return 1
        done <"$1"
}
check '[ "$(grep -c . "$T/root-evidence")" -ge 4 ] && cursors_resolve "$T/root-evidence"' \
        "every evidence cursor resolves with journalctl --cursor"
ids_root=$(jq -r .id "$T/out" | sort)

# --directory reads the users' files as well: the folder, or its machine-id subfolder
for d in /var/log/journal "$jdir"; do
        scan "" "${baseline[@]}" --directory "$d"
        check '[ "$rc" = 1 ] && [ "$(jq -r .id "$T/out" | sort)" = "$ids_root" ] && [ ! -s "$T/err" ]' \
                "--directory $d: the same alerts (same ids)"
done

scan "$reader" "${baseline[@]}"
check '[ "$rc" = 1 ] && [ "$(jq -r .id "$T/out" | sort)" = "$ids_root" ] && [ ! -s "$T/err" ]' \
        "as an account in group systemd-journal: the same alerts (same ids), nothing on stderr"
expect_alerts "as an account in group systemd-journal: every field as root's"

# an account without the group: nothing of its own yet, so nothing readable at all
scan "$other" "${baseline[@]}"
check '[ "$rc" = 2 ] && [ "$(grep -c . "$T/err")" = 1 ] && grep -q "^keytrail: no readable journal file in /run/log/journal or /var/log/journal: .* permission denied (.*$jdir/system.journal.*); members of group .systemd-journal. or .adm. may read them$" "$T/err"' \
        "an account without the group, nothing readable: exit 2, one line naming the files and the groups"
# once it has a journal file of its own (anything it logged), it reads that and is told the rest
ct_exec setpriv --reuid="$other" --regid="$other" --init-groups -- logger -t "$P" "hello from $other"
ct_exec journalctl --sync
ouid=$(ct_exec id -u "$other")
scan "$other" "${baseline[@]}"
check '[ "$rc" = 0 ] && [ ! -s "$T/out" ]' "an account without the group, with its own file: exit 0, no alert (it cannot see sshd's lines)"
check '[ "$(grep -c . "$T/err")" = 1 ] && grep -q "^keytrail: cannot read [0-9]* journal files, permission denied (.*$jdir/system.journal.*); members of group .systemd-journal. or .adm. may read them$" "$T/err" && ! grep -q "user-$ouid.journal" "$T/err"' \
        "and is told once which files it cannot read, and which groups could"

# ---- issue 9: an entry that claims to be sshd's without MESSAGE, sent straight to journald -----
ct_exec setpriv --reuid="$other" --regid="$other" --init-groups -- perl -MSocket -e '
        socket(my $s, PF_UNIX, SOCK_DGRAM, 0) or die "socket: $!";
        send($s, "SYSLOG_IDENTIFIER=sshd\nPRIORITY=6\n", 0,
             pack_sockaddr_un("/run/systemd/journal/socket")) or die "send: $!";'
ct_exec journalctl --sync
check '[ "$(ct_exec journalctl -q -t sshd _UID="$ouid" -o export | grep -c "^SYSLOG_IDENTIFIER=sshd")" = 1 ]' \
        "journald stored the entry without MESSAGE"
scan "" "${baseline[@]}" --stats
check '[ "$rc" = 1 ] && [ "$(jq -r .id "$T/out" | sort)" = "$ids_root" ] && grep -q " malformed=1 " "$T/err" && [ "$(grep -c . "$T/err")" = 1 ]' \
        "it is counted as malformed; the scan and its alerts are unchanged (no 'the journal is corrupt')"

# ---- issue 8 part 3: discovery as root, with hostile files in two homes -------------------------
# (the README's promise: a user cannot blind keytrail through their own file)
ct_exec setpriv --reuid="$other" --regid="$other" --init-groups -- sh -c \
        "mkfifo /home/$other/.ssh/authorized_keys && ln -s /dev/zero /home/$other/.ssh/authorized_keys2"
ct_exec setpriv --reuid="$reader" --regid="$reader" --init-groups -- sh -c \
        "ln -s /home/$mirror/.ssh/authorized_keys /home/$reader/.ssh/authorized_keys; printf 'garbage\\n' >/home/$reader/.ssh/authorized_keys2; chmod 600 /home/$reader/.ssh/authorized_keys2"
rc=0
timeout 120 nsenter -t "$CT_PID" -a -- keytrail scan --since "@$((t0 - 5))" --format json \
        >"$T/out" 2>"$T/err" || rc=$?
check '[ "$rc" = 0 ] && [ ! -s "$T/out" ]' \
        "discovery (no --authorized-keys): the scan ends, exit 0 (the live files are the baseline)"
check 'grep -qx "keytrail: baseline: read /home/$mirror/.ssh/authorized_keys for .$mirror. (4 keys)" "$T/err"' \
        "the regular account's file is read"
check 'grep -qx "keytrail: baseline: skipped /home/$other/.ssh/authorized_keys for .$other.: /home/$other/.ssh/authorized_keys is not a regular file or directory" "$T/err" && grep -qx "keytrail: baseline: skipped /home/$other/.ssh/authorized_keys2 for .$other.: /home/$other/.ssh/authorized_keys2 is a symbolic link" "$T/err"' \
        "a FIFO and a link to /dev/zero: each one line, skipped, nothing waited on"
check 'grep -qx "keytrail: baseline: skipped /home/$reader/.ssh/authorized_keys for .$reader.: /home/$reader/.ssh/authorized_keys is a symbolic link" "$T/err" && ! grep -q "read /home/$reader/.ssh/authorized_keys for" "$T/err"' \
        "a link to another account's file: skipped, its keys are not lent to this account"
check 'grep -q "^keytrail: /home/$reader/.ssh/authorized_keys2:1: .*1 malformed line skipped" "$T/err"' \
        "a broken file of one's own: its line reported and skipped, the scan goes on"

echo "1..$n"
[ "$failed" = 0 ]
