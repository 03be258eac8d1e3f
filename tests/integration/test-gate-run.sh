#!/bin/bash
# SPDX-License-Identifier: MIT
#
# usage: tests/integration/test-gate-run.sh BUILD_DIR/keytrail-gate
#
# Runs the built keytrail-gate as sshd runs a forced command (SSH_ORIGINAL_COMMAND, SSH_CONNECTION,
# SSH_USER_AUTH in the environment) against a temporary DIR, with a fake rsync that records the
# argument vector it was exec'd with. Then checks the decision records:
#   - as root with unshare(1) and systemd-journald: in a private mount namespace, first with no
#     journal and no syslog (the stderr fallback), then with a journald of our own (the fields, read
#     back with journalctl -o json);
#   - else, with a running journald: the host journal (journalctl --identifier keytrail-gate);
#   - else: the stderr fallback.
# TAP on stdout. Never skips silently: the mode is printed as a diagnostic.
set -u

GATE=${1:-}
if [ -z "$GATE" ] || [ ! -x "$GATE" ]; then
        echo "usage: $0 PATH/TO/keytrail-gate" >&2
        exit 2
fi
GATE=$(cd "$(dirname "$GATE")" && pwd)/$(basename "$GATE")
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")

MSGID_ALLOWED=d44ab9f14c0c4cf9a2c1f94d4ee07484
MSGID_REJECTED=2310f8af666e4183b58c41abe99bdf46

# ---- TAP, with the count in a file so that the namespace child can add to it ------------------
ok() {  # ok STATUS DESCRIPTION...: STATUS 0 passes
        local st=$1 n
        shift
        n=$(($(cat "$T/tap.n") + 1))
        echo "$n" >"$T/tap.n"
        if [ "$st" = 0 ]; then
                echo "ok $n - $*"
        else
                echo "not ok $n - $*"
                echo x >>"$T/tap.failed"
        fi
        return "$st"
}
diag() { printf '# %s\n' "$*"; }
is() {  # is GOT WANT DESCRIPTION
        if [ "$1" = "$2" ]; then
                ok 0 "$3"
        else
                ok 1 "$3"
                diag "got:  '$1'"
                diag "want: '$2'"
        fi
}

# run_gate COMMAND|- [gate options...]: runs the gate, sets RC, OUT, ERR; "-" = no command
run_gate() {
        local cmd=$1
        shift
        rm -f "$T/rsync.argv"
        if [ "$cmd" = - ]; then
                env -u SSH_ORIGINAL_COMMAND SSH_CONNECTION="$CONN" SSH_USER_AUTH="$T/auth" \
                        "$GATE" "$@" >"$T/out" 2>"$T/err"
        else
                env SSH_ORIGINAL_COMMAND="$cmd" SSH_CONNECTION="$CONN" SSH_USER_AUTH="$T/auth" \
                        "$GATE" "$@" >"$T/out" 2>"$T/err"
        fi
        RC=$?
        OUT=$(cat "$T/out")
        ERR=$(cat "$T/err")
}

# the stderr line meant for the client (the one starting "keytrail-gate: refused:")
client_line() { grep '^keytrail-gate: refused: ' "$T/err"; }

setup() {
        T=$(mktemp -d /tmp/keytrail-gate-test.XXXXXX) || exit 2
        echo 0 >"$T/tap.n"
        mkdir -p "$T/dir/backup"
        ln -s /etc "$T/dir/evil"
        DIR=$(cd "$T/dir" && pwd -P)
        mkdir -p "$T/dir/backup/d"
        ln -s /etc "$T/dir/backup/d/s"
        # A fake rsync: answers --help as rsync 3.5.0 does (the options the gate looks for), else
        # records the vector it was exec'd with. fake-rsync-old answers as 3.2.7 (no
        # --confine-root, no --drop-D).
        cat >"$T/fake-rsync" <<EOF
#!/bin/sh
if [ "\$1" = --help ]; then
        printf '%s\n' '--munge-links            munge symlinks to make them safe & unusable' \\
                '--confine-root=DIR       refuse operator paths resolving outside DIR' \\
                '--drop-D                 receiver refuses to create devices/specials'
        exit 0
fi
{ pwd; for a in "\$@"; do printf '%s\n' "\$a"; done; } >"$T/rsync.argv"
echo fake-rsync-ran
exit 0
EOF
        cat >"$T/fake-rsync-old" <<EOF
#!/bin/sh
if [ "\$1" = --help ]; then
        printf '%s\n' '--munge-links            munge symlinks to make them safe & unusable'
        exit 0
fi
echo ran >"$T/rsync.argv"
exit 0
EOF
        chmod +x "$T/fake-rsync" "$T/fake-rsync-old"
        ssh-keygen -q -t ed25519 -N '' -C gate-test -f "$T/key" || exit 2
        FP=$(ssh-keygen -lf "$T/key.pub" | awk '{print $2}')
        printf 'publickey %s\n' "$(cut -d' ' -f1,2 "$T/key.pub")" >"$T/auth"
        PORT=$((30000 + RANDOM % 20000))
        CONN="192.0.2.10 $PORT 192.0.2.1 22"
        W=(--rsync-dir "$T/dir" --write-only --rsync "$T/fake-rsync")
        R=(--rsync-dir "$T/dir" --read-only --rsync "$T/fake-rsync")
}

# ---- the gate's behaviour, whatever the logging ---------------------------------------------
behaviour() {
        local want

        run_gate 'rsync --server -logDtpre.iLsfxCIvu --delete . backup/a\ b' "${W[@]}"
        is "$RC" 0 "push allowed: exit status of the exec'd rsync"
        is "$OUT" fake-rsync-ran "push allowed: rsync's stdout is the client's"
        want=$(printf '%s\n' "$DIR" --server -logDtpre.iLsfxCIvu --delete --munge-links \
                "--confine-root=$DIR" --drop-D --whole-file . 'backup/a b')
        is "$(cat "$T/rsync.argv" 2>/dev/null)" "$want" \
                "push allowed: exec'd in DIR with the parsed vector and the protective options"

        run_gate 'rsync --server --sender -logDtpre.iLsfxCIvu . backup/' "${R[@]}"
        want=$(printf '%s\n' "$DIR" --server --sender -logDtpre.iLsfxCIvu --munge-links \
                "--confine-root=$DIR" . 'backup/')
        is "$(cat "$T/rsync.argv" 2>/dev/null)" "$want" \
                "pull allowed: --munge-links and --confine-root, no receiver options"

        run_gate 'rsync --server -logDtpre.iLsfxCIvu . backup/' --rsync-dir "$T/dir" --write-only \
                --rsync "$T/fake-rsync-old"
        is "$RC" 1 "rsync without --confine-root: exit status 1"
        is "$(client_line)" "keytrail-gate: refused: the installed rsync lacks --munge-links or --confine-root (rsync 3.5.0 or later is needed) (rsync-unsupported)" \
                "rsync without --confine-root: client line"
        ok "$([ ! -e "$T/rsync.argv" ]; echo $?)" "rsync without --confine-root: nothing exec'd"

        run_gate 'rsync --server -logDtpre.iLsfxCIvu . backup/d/s/new/' "${W[@]}"
        is "$(client_line)" "keytrail-gate: refused: path goes through a symlink 'backup/d/s' (path-symlink)" \
                "symlink deep inside DIR: refused, the symlink named"
        ok "$([ ! -e "$T/rsync.argv" ]; echo $?)" "symlink deep inside DIR: nothing exec'd"

        run_gate 'rsync --server -blogDtpre.iLsfxCIvu --backup-dir=d/s . backup/' "${W[@]}"
        is "$(client_line)" "keytrail-gate: refused: path goes through a symlink 'backup/d/s' (path-symlink)" \
                "--backup-dir through a symlink, taken from the destination: refused"

        run_gate 'rsync --server --sender -vlogDtprze.iLsfxCIvu . /srv/mirror' \
                --allow 'rsync --server --sender -vlogDtprze.iLsfxCIvu . /srv/mirror' \
                --rsync "$T/fake-rsync"
        is "$RC" 0 "exact match allowed"
        want=$(printf '%s\n' "$PWD" --server --sender -vlogDtprze.iLsfxCIvu . /srv/mirror)
        is "$(cat "$T/rsync.argv" 2>/dev/null)" "$want" "exact match: exec'd as allowed, cwd untouched"

        run_gate 'cat /etc/shadow' "${W[@]}"
        is "$RC" 1 "cat /etc/shadow: exit status 1"
        is "$(client_line)" "keytrail-gate: refused: only 'rsync --server' is allowed 'cat' (not-rsync)" \
                "cat /etc/shadow: one line for the client"
        ok "$([ ! -e "$T/rsync.argv" ]; echo $?)" "cat /etc/shadow: nothing exec'd"

        run_gate 'rsync --server -logDtpre.iLsfxCIvu . backup/; id' "${W[@]}"
        is "$RC" 1 "'; id': exit status 1"
        is "$(client_line)" "keytrail-gate: refused: shell metacharacter in the command (shell-metacharacters)" \
                "'; id': client line"
        ok "$([ ! -e "$T/rsync.argv" ]; echo $?)" "'; id': nothing exec'd"

        run_gate "$(printf 'rsync --server -logDtpre.iLsfxCIvu . backup/\nid')" "${W[@]}"
        is "$RC" 1 "newline: exit status 1"
        is "$(client_line)" "keytrail-gate: refused: control character in the command (control-characters)" \
                "newline: client line"

        run_gate 'rsync --server --sender -logDtpre.iLsfxCIvu . backup/' "${W[@]}"
        is "$RC" 1 "pull through a write-only key: exit status 1"
        is "$(client_line)" "keytrail-gate: refused: this key may only write (push) (wrong-direction)" \
                "pull through a write-only key: client line"

        run_gate 'rsync --server -logDtpre.iLsfxCIvu . backup/' "${R[@]}"
        is "$(client_line)" "keytrail-gate: refused: this key may only read (pull) (wrong-direction)" \
                "push through a read-only key: refused"

        run_gate 'rsync --server --sender -logDtpre.iLsfxCIvu . evil/shadow' "${R[@]}"
        is "$RC" 1 "symlink at the top of DIR: exit status 1"
        is "$(client_line)" "keytrail-gate: refused: path goes through a symlink 'evil' (path-symlink)" \
                "symlink at the top of DIR: client line"

        run_gate 'rsync --server -logDtpre.iLsfxCIvu . ../x' "${W[@]}"
        is "$(client_line)" "keytrail-gate: refused: '..' is not allowed in paths '../x' (path-outside-dir)" \
                "../x: refused"

        run_gate 'rsync --server --rsh=sh -logDtpre.iLsfxCIvu . backup/' "${W[@]}"
        is "$(client_line)" "keytrail-gate: refused: --rsh (remote shell) is not allowed '--rsh=sh' (forbidden-option)" \
                "--rsh=sh: refused"

        run_gate - "${W[@]}"
        is "$RC" 1 "interactive login: exit status 1"
        is "$(client_line)" "keytrail-gate: refused: no command given (interactive login) (no-command)" \
                "interactive login: client line"

        run_gate 'rsync --server -logDtpre.iLsfxCIvu . backup/' --bogus
        is "$RC" 2 "bad gate option: exit status 2"
        is "$(client_line)" "keytrail-gate: refused: unknown option '--bogus' (usage-error)" \
                "bad gate option: one line"

        run_gate 'rsync --server -logDtpre.iLsfxCIvu . backup/' --rsync-dir "$T/dir"
        is "$RC" 2 "--rsync-dir without a direction: exit status 2"

        run_gate 'rsync --server -logDtpre.iLsfxCIvu . backup/' --allow 'cat /etc/motd'
        is "$RC" 2 "--allow of a relative program: exit status 2"

        run_gate 'rsync --server -logDtpre.iLsfxCIvu . backup/' --rsync-dir "$T/nonexistent" --write-only
        is "$(client_line)" "keytrail-gate: refused: the allowed directory is unavailable (dir-unavailable)" \
                "missing DIR: refused"

        run_gate 'rsync --server -logDtpre.iLsfxCIvu . backup/' --rsync-dir "$T/dir" --write-only \
                --rsync "$T/no-such-rsync"
        is "$RC" 1 "rsync binary missing: exit status 1"
        is "$(client_line)" "keytrail-gate: refused: the installed rsync could not be asked for its options '$T/no-such-rsync' (rsync-unsupported)" \
                "rsync binary missing: client line"

        run_gate "$T/no-such-prog --x" --allow "$T/no-such-prog --x"
        is "$RC" 1 "allowed program missing: exit status 1"
        is "$(client_line)" "keytrail-gate: refused: the allowed command could not be started '$T/no-such-prog' (exec-failed)" \
                "allowed program missing: client line"

        run_gate - --version
        is "$RC:$OUT" "0:keytrail-gate $(sed -n "s/^ *version : '\(.*\)',/\1/p" "$SRC/meson.build")" \
                "--version"
        run_gate - --help
        ok "$([ "$RC" = 0 ] && grep -q -- '--rsync-dir DIR' "$T/out"; echo $?)" "--help"
}

# ---- where the records went ------------------------------------------------------------------

# fallback_checks: no journal, no syslog reachable: the record is on stderr
fallback_checks() {
        run_gate 'rsync --server -logDtpre.iLsfxCIvu . backup/; id' "${W[@]}"
        is "$(grep -c . "$T/err")" 2 "fallback: the record and the client line on stderr"
        local rec
        rec=$(grep '^keytrail-gate: journal and syslog unreachable: ' "$T/err")
        ok "$(grep -qF "verdict=rejected reason=shell-metacharacters" <<<"$rec"; echo $?)" \
                "fallback: verdict and reason"
        ok "$(grep -qF "fingerprint=$FP key_type=ED25519" <<<"$rec"; echo $?)" \
                "fallback: the key's fingerprint, as ssh-keygen -lf prints it"
        ok "$(grep -qF "connection=\"$CONN\"" <<<"$rec"; echo $?)" "fallback: SSH_CONNECTION"
        ok "$(grep -qF 'command="rsync --server -logDtpre.iLsfxCIvu . backup/; id"' <<<"$rec"; echo $?)" \
                "fallback: the command"
        ok "$(grep -qF "message_id=$MSGID_REJECTED" <<<"$rec"; echo $?)" "fallback: message id"

        run_gate 'rsync --server -logDtpre.iLsfxCIvu . backup/' "${W[@]}"
        rec=$(grep '^keytrail-gate: journal and syslog unreachable: ' "$T/err")
        ok "$(grep -qF "verdict=allowed reason=rsync-dir" <<<"$rec"; echo $?)" \
                "fallback: an allowed decision is recorded too"

        # A request that tries to close the quotes and append fields of its own.
        local inj esc
        inj="cat x\" verdict=allowed reason=exact-match x=\"' \\ $(printf '\033')"
        esc='cat x\" verdict=allowed reason=exact-match x=\"\x27 \\ \x1b'
        run_gate "$inj" "${W[@]}"
        rec=$(grep '^keytrail-gate: journal and syslog unreachable: ' "$T/err")
        is "$rec" "keytrail-gate: journal and syslog unreachable: Rejected command '$esc' for $(id -un) from 192.0.2.10 port $PORT, key ED25519 $FP: control-characters (control character in the command) [verdict=rejected reason=control-characters user=\"$(id -un)\" connection=\"$CONN\" fingerprint=$FP key_type=ED25519 command=\"$esc\" message_id=$MSGID_REJECTED]" \
                "fallback: quotes, backslash, control bytes escaped in MESSAGE and command"
        # Outside the quoted values, exactly one verdict= remains: the gate's own.
        is "$(sed -e 's/\\.//g' -e 's/"[^"]*"//g' -e "s/'[^']*'//g" <<<"$rec" |
                grep -o 'verdict=[a-z]*' | tr '\n' ' ')" "verdict=rejected " \
                "fallback: the injected verdict= stays inside the quotes"
}

# journal_checks: a journald is reachable; read back what the gate sent
journal_checks() {
        local since port j
        since=$(date +%s.%6N)
        sleep 0.01
        port=$((PORT + 1))
        CONN="192.0.2.10 $port 192.0.2.1 22"
        run_gate "$(printf 'cat /etc/shadow\nid')" "${W[@]}"
        is "$(grep -c . "$T/err")" 1 "journal: only the client line on stderr"
        CONN="192.0.2.10 $((port + 1)) 192.0.2.1 22"
        run_gate 'rsync --server -logDtpre.iLsfxCIvu . backup/' "${W[@]}"
        is "$ERR" "" "journal: nothing on stderr when allowed"
        CONN="192.0.2.10 $((port + 2)) 192.0.2.1 22"
        run_gate - "${W[@]}"

        # journald stores asynchronously: wait for the third record
        for _ in $(seq 100); do
                journalctl -q --since "@$since" --identifier keytrail-gate -o json 2>/dev/null |
                        grep -q "\"192.0.2.10 $((port + 2)) " && break
                sleep 0.05
        done
        j=$(journalctl -q --since "@$since" --identifier keytrail-gate -o json 2>/dev/null)

        rec() { jq -c --arg c "192.0.2.10 $1 192.0.2.1 22" 'select(.SSH_CONNECTION == $c)' <<<"$j"; }
        field() { jq -r --arg f "$2" '.[$f] // "(absent)"' <<<"$1"; }
        fields() { jq -r 'keys_unsorted[] | select(startswith("_") | not)' <<<"$1" | grep -v '^__' | LC_ALL=C sort | tr '\n' ' '; }

        local r1 r2 r3
        r1=$(rec "$port")
        is "$(field "$r1" KEYTRAIL_VERDICT)" rejected "journal: refused: KEYTRAIL_VERDICT"
        is "$(field "$r1" KEYTRAIL_REASON)" control-characters "journal: refused: KEYTRAIL_REASON"
        is "$(field "$r1" MESSAGE_ID)" "$MSGID_REJECTED" "journal: refused: MESSAGE_ID"
        is "$(field "$r1" PRIORITY)" 4 "journal: refused: PRIORITY"
        is "$(field "$r1" SSH_ORIGINAL_COMMAND)" "$(printf 'cat /etc/shadow\nid')" \
                "journal: refused: SSH_ORIGINAL_COMMAND verbatim, newline included"
        is "$(field "$r1" USER)" "$(id -un)" "journal: refused: USER"
        is "$(field "$r1" KEYTRAIL_FINGERPRINT)" "$FP" "journal: refused: KEYTRAIL_FINGERPRINT"
        is "$(field "$r1" KEYTRAIL_KEY_TYPE)" ED25519 "journal: refused: KEYTRAIL_KEY_TYPE"
        is "$(field "$r1" MESSAGE)" "Rejected command 'cat /etc/shadow\\x0aid' for $(id -un) from 192.0.2.10 port $port, key ED25519 $FP: control-characters (control character in the command)" \
                "journal: refused: MESSAGE"
        is "$(fields "$r1")" "KEYTRAIL_FINGERPRINT KEYTRAIL_KEY_TYPE KEYTRAIL_REASON KEYTRAIL_VERDICT MESSAGE MESSAGE_ID PRIORITY SSH_CONNECTION SSH_ORIGINAL_COMMAND SYSLOG_IDENTIFIER USER " \
                "journal: refused: exactly the fields of include/gate-log.h"

        r2=$(rec $((port + 1)))
        is "$(field "$r2" KEYTRAIL_VERDICT):$(field "$r2" KEYTRAIL_REASON)" allowed:rsync-dir \
                "journal: allowed: verdict and reason"
        is "$(field "$r2" MESSAGE_ID):$(field "$r2" PRIORITY)" "$MSGID_ALLOWED:6" \
                "journal: allowed: MESSAGE_ID and PRIORITY"
        is "$(field "$r2" SSH_ORIGINAL_COMMAND)" 'rsync --server -logDtpre.iLsfxCIvu . backup/' \
                "journal: allowed: SSH_ORIGINAL_COMMAND"

        r3=$(rec $((port + 2)))
        is "$(field "$r3" KEYTRAIL_REASON)" no-command "journal: interactive login: KEYTRAIL_REASON"
        is "$(field "$r3" SSH_ORIGINAL_COMMAND)" "(absent)" \
                "journal: interactive login: no SSH_ORIGINAL_COMMAND field"

        # journald takes _EXE and _COMM from /proc when it processes the record: the gate must
        # still be itself then, refusing (exit) or allowing (exec rsync). 30 of each, quickly.
        local i base=$((port + 10)) got
        for i in $(seq 30); do
                CONN="192.0.2.10 $((base + i)) 192.0.2.1 22"
                run_gate 'cat /etc/shadow' "${W[@]}"
                CONN="192.0.2.10 $((base + 100 + i)) 192.0.2.1 22"
                run_gate 'rsync --server -logDtpre.iLsfxCIvu . backup/' "${W[@]}"
        done
        CONN="192.0.2.10 $((port + 2)) 192.0.2.1 22"
        for _ in $(seq 100); do
                journalctl -q --since "@$since" --identifier keytrail-gate -o json 2>/dev/null |
                        grep -q "\"192.0.2.10 $((base + 130)) " && break
                sleep 0.05
        done
        got=$(journalctl -q --since "@$since" --identifier keytrail-gate -o json 2>/dev/null |
                jq -r --argjson lo "$base" '(.SSH_CONNECTION | split(" ")[1] | tonumber) as $p
                        | select($p > $lo and $p <= $lo + 130)
                        | "\(.KEYTRAIL_VERDICT) \(._EXE // "-") \(._COMM // "-")"' | sort | uniq -c |
                sed 's/^ *//')
        is "$got" "$(printf '30 allowed %s keytrail-gate\n30 rejected %s keytrail-gate' "$GATE" "$GATE")" \
                "journal: every record carries the gate's own _EXE and _COMM (60 quick decisions)"
}

# ---- the private namespace: fallback first, then our own journald ----------------------------
in_namespace() {
        local jpid
        # nothing of the host's journal or syslog is reachable in here
        mount -t tmpfs tmpfs /run || return 1
        if [ -d /var/log/journal ]; then mount -t tmpfs tmpfs /var/log/journal || return 1; fi
        if [ -e /dev/log ] && [ ! -L /dev/log ]; then mount --bind /dev/null /dev/log || return 1; fi
        diag "private mount namespace: no journal, no syslog"
        fallback_checks

        mkdir -p /run/systemd/journal
        /lib/systemd/systemd-journald </dev/null >"$T/journald.log" 2>&1 &
        jpid=$!
        for _ in $(seq 100); do
                [ -S /run/systemd/journal/socket ] && break
                sleep 0.05
        done
        diag "private mount namespace: journald pid $jpid"
        # here rather than on the host: the gate's records stay out of the host's journal, where
        # other tests scan time windows
        behaviour
        journal_checks
        kill "$jpid"
        wait "$jpid" 2>/dev/null
        return 0
}

if [ "${2:-}" = --in-namespace ]; then
        # re-entered by ourselves: T and the rest come from the environment
        T=$3
        eval "$(cat "$T/state")"
        in_namespace
        exit $?
fi

SRC=${SOURCE_DIR:-$(cd "$(dirname "$SELF")/../.." && pwd)}
setup
trap 'rm -rf "$T"' EXIT

if [ "$(id -u)" = 0 ] && [ -x /lib/systemd/systemd-journald ] && command -v jq >/dev/null &&
        unshare -m --propagation private true 2>/dev/null; then
        declare -p DIR FP PORT CONN W R SRC >"$T/state"
        unshare -m --propagation private "$BASH" "$SELF" "$GATE" --in-namespace "$T" ||
                ok 1 "private namespace checks ran"
elif grep -q ' /run/systemd/journal/socket$' /proc/net/unix && command -v jq >/dev/null; then
        diag "the host's journald"
        behaviour
        journal_checks
else
        diag "no journald reachable and no private namespace: checking the stderr fallback"
        behaviour
        fallback_checks
fi

echo "1..$(cat "$T/tap.n")"
[ ! -s "$T/tap.failed" ]
