#!/bin/bash
# SPDX-License-Identifier: MIT
#
# usage: tests/gate/attack.sh BUILD_DIR [TABLE_FILE]
#
# The attack suite of keytrail-gate (issue 7), with the real rsync client talking to the real
# rsync server through the gate: rsync's -e names a small stand-in for sshd (the "rsh" script
# written below) that sets SSH_ORIGINAL_COMMAND and SSH_CONNECTION as sshd does and runs the forced
# command with /bin/sh -c under an unprivileged test account (setpriv), or as root for the device
# class. Every attack class runs twice in the same run: once with keytrail-gate as the forced
# command, once with /usr/bin/rrsync (-wo/-ro, its defaults otherwise).
#
# After each attack: nothing outside DIR (the account's home with its authorized_keys, a directory
# of its files next to DIR) may have been written or deleted (a snapshot of names, types, modes,
# sizes, link targets and content hashes), and nothing of it may have reached the client (its
# files, output, and the bytes a -B1 --debug=deltasum3 client decodes from block checksums); a
# write-only key may not read DIR's own files either. For keytrail-gate the suite asserts that
# every class is held and what the gate recorded in the journal (journalctl, by the connection's
# unique address and port). For rrsync it records what happened. The table of both outcomes is
# printed at the end and written to TABLE_FILE (default BUILD_DIR/gate-attacks.md): docs/gate.md
# carries it.
#
# The suite runs in a private mount namespace with a journald of its own (tmpfs on /run and on
# /var/log/journal), so that its hundred gate records never reach the host's journal, where other
# tests scan time windows.
#
# Needs root (a test account, a root-run gate for the device class), rsync, rrsync, setpriv,
# unshare, systemd-journald, journalctl, jq. A missing tool is a failure ("Bail out!"), not a skip.
# TAP on stdout.
set -u

BUILD_DIR=${1:-}
[ -n "$BUILD_DIR" ] || { echo "usage: $0 BUILD_DIR [TABLE_FILE]" >&2; exit 2; }
BUILD_DIR=$(cd "$BUILD_DIR" 2>/dev/null && pwd) || { echo "Bail out! no such build dir: $1"; exit 1; }
TABLE=${2:-$BUILD_DIR/gate-attacks.md}

bail() { echo "Bail out! $*"; exit 1; }
[ "$(id -u)" = 0 ] || bail "needs root (creates a test account, runs the gate as root for -D)"
[ -x "$BUILD_DIR/keytrail-gate" ] || bail "keytrail-gate not built in $BUILD_DIR"
for tool in rsync setpriv useradd userdel jq journalctl python3 mknod mkfifo md5sum unshare; do
        command -v "$tool" >/dev/null || bail "missing $tool"
done
[ -x /usr/bin/rrsync ] || bail "missing /usr/bin/rrsync (Debian package rsync)"
[ -x /lib/systemd/systemd-journald ] || bail "missing /lib/systemd/systemd-journald"
rsync --help | grep -q -- '--confine-root' ||
        bail "$(rsync --version | head -1): no --confine-root, keytrail-gate's rsync mode needs rsync 3.5.0"
if [ "${KT_GATE_NS:-}" != 1 ]; then
        KT_GATE_NS=1 exec unshare -m --propagation private "$BASH" "$0" "$BUILD_DIR" "$TABLE"
fi
# inside: nothing of the host's journal is reachable, journald below is ours
mount -t tmpfs tmpfs /run || bail "mount tmpfs /run"
if [ -d /var/log/journal ]; then mount -t tmpfs tmpfs /var/log/journal || bail "mount /var/log/journal"; fi

T=$(mktemp -d /tmp/kt-gate-attack.XXXXXX) || bail "mktemp"
chmod 755 "$T"
JPID=
U=ktg$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
cleanup() {
        userdel "$U" 2>/dev/null
        # the namespace's own journald
        [ -n "$JPID" ] && kill "$JPID" && wait "$JPID" 2>/dev/null
        if [ -n "${KT_GATE_KEEP:-}" ]; then echo "# kept $T (KT_GATE_KEEP)"; else rm -rf "$T"; fi
}
trap cleanup EXIT
useradd -M -d "$T/home" -s /bin/sh -p '*' "$U" || bail "useradd $U"
# /run is a fresh tmpfs: start the namespace's journald (/proc/net/unix would still list the
# host's socket, the network namespace being shared: wait for the file instead)
mkdir -p /run/systemd/journal
setsid /lib/systemd/systemd-journald </dev/null >"$T/journald.log" 2>&1 &
JPID=$!
for _ in $(seq 100); do
        [ -S /run/systemd/journal/socket ] && break
        sleep 0.05
done
[ -S /run/systemd/journal/socket ] || bail "journald did not start"
echo "# private mount namespace, journald pid $JPID"
MARK=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
SECRET="SECRET-$MARK"                     # content of files outside DIR
SECRETNAME="secretname-$MARK"             # a name outside DIR (listing)
OWN="OWNDATA-$MARK"                       # content of a file inside DIR (write-only may not read)
ADDR="198.51.100.$((RANDOM % 200 + 20))"  # with the port: the journal marker of each connection
echo $((20000 + RANDOM % 30000)) >"$T/port"
install -m 755 "$BUILD_DIR/keytrail-gate" "$T/keytrail-gate"
T0=$(date +%s.%6N)
rsync --version | head -1 | sed 's/^/# /'

# ---- the sshd stand-in ------------------------------------------------------------------------
# rsync runs: rsh [-l USER] HOST rsync --server ...; sshd joins the words with spaces into
# SSH_ORIGINAL_COMMAND and runs the forced command with the account's shell.
cat >"$T/rsh" <<EOF
#!/bin/bash
while [ "\${1:-}" = -l ]; do shift 2; done
shift
n=\$((\$(cat "$T/port") + 1))
echo "\$n" >"$T/port"
case \$KT_MODE in
gate) forced="$T/keytrail-gate --rsync-dir $T/dir --\$KT_ACCESS" ;;
rrsync) forced="/usr/bin/rrsync -\${KT_ACCESS:0:1}o $T/dir" ;;
esac
env=(PATH=/usr/sbin:/usr/bin:/sbin:/bin "SSH_ORIGINAL_COMMAND=\$*"
     "SSH_CONNECTION=$ADDR \$n 127.0.0.1 22")
if [ "\${KT_AS_ROOT:-0}" = 1 ]; then
        exec env -i "\${env[@]}" HOME=/root USER=root LOGNAME=root /bin/sh -c "\$forced"
fi
exec setpriv --reuid="$U" --regid="$U" --init-groups \\
        env -i "\${env[@]}" HOME="$T/home" USER="$U" LOGNAME="$U" /bin/sh -c "\$forced"
EOF
chmod 755 "$T/rsh"

# ---- TAP ----------------------------------------------------------------------------------------
N=0
FAILED=0
ok() {  # ok STATUS DESCRIPTION
        N=$((N + 1))
        if [ "$1" = 0 ]; then echo "ok $N - $2"; else echo "not ok $N - $2"; FAILED=$((FAILED + 1)); fi
}
diag() { printf '# %s\n' "$@"; }

# ---- the world around DIR -----------------------------------------------------------------------
snapshot() {
        (cd "$T" && find home outside -printf '%p|%y|%s|%m|%l\n' | LC_ALL=C sort &&
                find home outside -type f -exec md5sum {} + | LC_ALL=C sort)
}

fresh() {       # fresh SCENARIO MODE: a new DIR, home and outside; the client's work dir is $C
        rm -rf "$T/home" "$T/outside" "$T/dir" "$T/c"
        mkdir -p "$T/home/.ssh" "$T/outside/bk" "$T/outside/list" "$T/dir" "$T/c"
        echo "CANARY-authorized_keys" >"$T/home/.ssh/authorized_keys"
        echo "$SECRET" >"$T/outside/secret.txt"
        echo "$SECRET" >"$T/outside/list/$SECRETNAME"
        printf 'victim\n' >"$T/merge.txt"        # root-owned, next to DIR
        chown -R "$U:$U" "$T/home" "$T/outside" "$T/dir"
        # a root-owned, read-only directory next to DIR: a write there fails, which shows it was
        # tried (temp and partial files leave no trace otherwise)
        mkdir -m 555 "$T/outside/ro"
        snapshot >"$T/before"
        C=$T/c
        LOG=$T/log.$1.$2
        : >"$LOG"
        PORTS=()
}

# step KEY RSYNC-ARGS...: run the real rsync client from $C through the stand-in, as KEY
# (write-only | read-only); output appended to $LOG, exit status in RC, the port in PORT
step() {
        local access=$1
        shift
        echo "+ rsync $*" >>"$LOG"
        (cd "$C" && KT_ACCESS=$access rsync -e "$T/rsh" "$@") >>"$LOG" 2>&1
        RC=$?
        PORT=$(cat "$T/port")
        PORTS+=("$PORT")
        echo "+ exit $RC" >>"$LOG"
}

# The bytes a client decodes from 1-byte block checksums (--debug=deltasum3 with -B1): sum1 of a
# one-byte block ends in that byte.
oracle_bytes() {
        sed -n 's/.*len=1 offset=[0-9]* sum1=[0-9a-f]*\([0-9a-f][0-9a-f]\)$/\1/p' "$LOG" |
                python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read().replace("\n", "")))'
}

# evaluate: sets OUTCOME ("held" or "ESCAPED: ...") from the evidence
evaluate() {
        local what=()
        [ ${#ESC[@]} = 0 ] && ESC=()
        snapshot >"$T/after"
        if ! cmp -s "$T/before" "$T/after"; then
                what+=("wrote or deleted outside DIR")
                diff "$T/before" "$T/after" | sed 's/^/#   /' | head -20
        fi
        # what the client saw: its files, its output (not the command lines we logged)
        if grep -rqa -e "$SECRET" -e "$SECRETNAME" "$C" || grep -av '^+ ' "$LOG" |
                grep -qa -e "$SECRET" -e "$SECRETNAME" || oracle_bytes | grep -qa "$SECRET"; then
                what+=("read or listed outside DIR")
        fi
        if [ "$WO_OWN" = 1 ] && { grep -rqa "$OWN" "$C" || grep -av '^+ ' "$LOG" | grep -qa "$OWN" ||
                oracle_bytes | grep -qa "$OWN"; }; then
                what+=("the write-only key read DIR's data")
        fi
        what+=("${ESC[@]}")
        if [ ${#what[@]} = 0 ]; then
                OUTCOME=held
        else
                local IFS=';'
                OUTCOME="ESCAPED: ${what[*]}"
        fi
}

# gate_record PORT: the gate's journal record for that connection, as JSON (waits for it)
gate_record() {
        local r
        for _ in $(seq 60); do
                r=$(journalctl -q --since "@$T0" --identifier keytrail-gate -o json 2>/dev/null |
                        jq -c --arg c "$ADDR $1 127.0.0.1 22" 'select(.SSH_CONNECTION == $c)')
                [ -n "$r" ] && { echo "$r"; return; }
                sleep 0.1
        done
}

# expect_record PORT VERDICT REASON DESCRIPTION: the gate's record of that connection
expect_record() {
        local r got
        r=$(gate_record "$1")
        got=$(jq -r '[.KEYTRAIL_VERDICT, .KEYTRAIL_REASON, .USER, .SYSLOG_IDENTIFIER] | join(" ")' \
                <<<"$r" 2>/dev/null | tail -1)
        if [ "$got" = "$2 $3 $RUN_USER keytrail-gate" ]; then
                ok 0 "$4: the gate recorded $2 $3"
        else
                ok 1 "$4: the gate recorded $2 $3"
                diag "got: '${got:-no record}'"
        fi
}

# refused_how MODE: the refusals of the scenario's connections; rrsync's go to the client's stderr
# only, so they are read from there
refused_how() {
        local p r=
        case $1 in
        gate)
                for p in "${PORTS[@]}"; do
                        r+=$(gate_record "$p" |
                                jq -r 'select(.KEYTRAIL_VERDICT == "rejected") | .KEYTRAIL_REASON + " "')
                done
                r=$(tr ' ' '\n' <<<"$r" | grep . | sort -u | tr '\n' ' ')
                [ -n "$r" ] && echo "refused (${r% })" ;;
        rrsync)
                r=$(grep -o 'rrsync error: .*' "$LOG" | cut -c15- | sed 's/:.*//' | sort -u |
                        tr '\n' ';')
                [ -n "$r" ] && echo "refused (${r%;})" ;;
        esac
}

declare -A RESULT
CLASSES=()

# run_class ID TITLE: runs scenario_ID for gate and rrsync; the gate must hold
run_class() {
        local id=$1 title=$2 m how
        CLASSES+=("$id")
        RESULT[$id.title]=$title
        for m in gate rrsync; do
                export KT_MODE=$m KT_AS_ROOT=0
                WO_OWN=0
                ESC=()
                HELD_BY=
                RUN_USER=$U
                fresh "$id" "$m"
                "scenario_$id" "$m"
                evaluate
                how=$(refused_how "$m")
                if [ "$id" = normal ]; then
                        RESULT[$id.$m]=${HELD_BY:-FAILED: push or pull did not work}
                elif [ "$OUTCOME" = held ]; then
                        RESULT[$id.$m]=held
                        [ -n "$how" ] && RESULT[$id.$m]+=": $how"
                        [ -n "$HELD_BY" ] && RESULT[$id.$m]+="; $HELD_BY"
                else
                        RESULT[$id.$m]=$OUTCOME
                fi
                if [ "$m" = gate ]; then
                        ok "$([ "$OUTCOME" = held ]; echo $?)" "$title: keytrail-gate holds DIR"
                        [ "$OUTCOME" = held ] || sed 's/^/#   /' "$LOG" | tail -30
                else
                        diag "$title: rrsync: ${RESULT[$id.$m]}"
                fi
        done
}

# ---- the classes ----------------------------------------------------------------------------------
HELD_BY=

# 0. normal use: a push and a pull of a tree with a file, a subdirectory, a symlink and a space
scenario_normal() {
        mkdir -p "$C/src/sub dir" && echo data >"$C/src/sub dir/f" && ln -s "sub dir/f" "$C/src/lnk"
        echo more >"$C/src/g"
        step write-only -a --delete src/ h:host1/
        local push_rc=$RC push_port=$PORT
        step read-only -a h:host1/ got/
        local pull_rc=$RC pull_port=$PORT
        ok "$([ "$push_rc:$pull_rc" = 0:0 ] && diff -r "$C/src" "$C/got" >/dev/null; echo $?)" \
                "normal push and pull through $1: the tree comes back identical"
        [ "$push_rc:$pull_rc" = 0:0 ] && diff -r "$C/src" "$C/got" >/dev/null &&
                HELD_BY="push and pull work, the tree comes back identical"
        if [ "$1" = gate ]; then
                expect_record "$push_port" allowed rsync-dir "normal push"
                expect_record "$pull_port" allowed rsync-dir "normal pull"
                ok "$([ "$(readlink "$T/dir/host1/lnk")" = "/rsyncd-munged/sub dir/f" ]; echo $?)" \
                        "normal push: a pushed symlink is stored munged (--munge-links)"
        fi
}

# 1. a symlink deeper than the first component: push d/s -> ~/.ssh, then write through it
scenario_deep_write() {
        mkdir -p "$C/s1/d" "$C/evil" && ln -s "$T/home/.ssh" "$C/s1/d/s"
        echo "ssh-ed25519 AAAA-attacker" >"$C/evil/authorized_keys"
        step write-only -a s1/ h:x/
        step write-only -a evil/ h:x/d/s/
        [ "$1" = gate ] && expect_record "$PORT" rejected path-symlink "deep symlink write"
        step write-only -a evil/authorized_keys h:x/d/s/authorized_keys
}

# 2. the same route with --delete: lists and deletes outside DIR
scenario_deep_delete() {
        mkdir -p "$C/s1/d" "$C/empty/somedir" && ln -s "$T/outside" "$C/s1/d/s"
        step write-only -a s1/ h:x/
        step write-only -av --delete empty/somedir/ h:x/d/s/list/
        [ "$1" = gate ] && expect_record "$PORT" rejected path-symlink "deep symlink --delete"
}

# 3. --backup-dir through a symlink pushed before
scenario_backup_dir() {
        mkdir -p "$C/s1" "$C/s2" && ln -s "$T/outside/bk" "$C/s1/tl" && echo v1 >"$C/s1/f"
        echo v2-longer >"$C/s2/f"
        step write-only -a s1/ h:x/
        step write-only -a -b --backup-dir=tl s2/ h:x/
        [ "$1" = gate ] && expect_record "$PORT" rejected path-symlink "--backup-dir=tl"
}

# 4. the symlink and the --backup-dir that uses it in one transfer (the gate cannot see it yet)
scenario_backup_same() {
        mkdir -p "$C/s1" "$C/s2" && echo v1 >"$C/s1/f"
        ln -s "$T/outside/bk" "$C/s2/tl" && echo v2-longer >"$C/s2/f"
        step write-only -a s1/ h:x/
        step write-only -a -b --backup-dir=tl s2/ h:x/
        [ "$1" = gate ] && expect_record "$PORT" allowed rsync-dir "--backup-dir=tl in the same transfer"
        HELD_BY="tl stored as $(readlink "$T/dir/x/tl" 2>/dev/null | sed "s|$T|T|")"
}

# 5. --temp-dir and --partial-dir through a pushed symlink (to a read-only directory: a write
# attempt there fails visibly)
scenario_temp_dir() {
        mkdir -p "$C/s1" "$C/s2" && ln -s "$T/outside/ro" "$C/s1/tl" && echo new >"$C/s2/g"
        step write-only -a s1/ h:x/
        step write-only -a --temp-dir=tl s2/ h:x/
        [ "$1" = gate ] && expect_record "$PORT" rejected path-symlink "--temp-dir=tl"
        step write-only -a --delay-updates --partial-dir=tl s2/ h:x/
        [ "$1" = gate ] && expect_record "$PORT" rejected path-symlink "--partial-dir=tl"
        # outside/ro is the only place a write fails: a failed temp/partial file was tried there
        grep -av '^+ ' "$LOG" | grep -q 'Permission denied' &&
                ESC+=("tried to write outside DIR (stopped only by the target's permissions)")
}

# 6. --copy-dest through a pushed symlink: the receiver reads outside files as a delta basis and
# the client decodes them from 1-byte block checksums
scenario_dest_symlink() {
        mkdir -p "$C/s1" "$C/s2" && ln -s "$T/outside" "$C/s1/tl"
        head -c 30 /dev/zero >"$C/s2/secret.txt"
        step write-only -a s1/ h:x/
        step write-only -a --copy-dest=tl -B1 --no-W --debug=deltasum3 s2/ h:x/
        [ "$1" = gate ] && expect_record "$PORT" rejected forbidden-option "--copy-dest=tl -B1"
        step write-only -a --link-dest=tl -B1 --no-W --debug=deltasum3 s2/ h:x/
}

# 7. a read-only key reads through a symlink already in DIR (a backup of / has var/run -> /run)
scenario_ro_symlink() {
        mkdir -p "$T/dir/host1/var" && ln -s "$T/outside/list" "$T/dir/host1/var/run"
        chown -hR "$U:$U" "$T/dir/host1"
        step read-only -a h:host1/var/run/ got/
        [ "$1" = gate ] && expect_record "$PORT" rejected path-symlink "pull host1/var/run/"
        step read-only -a h:host1/var/run/. got2/
}

# 8. the same with --files-from (the client sends the list; the gate never sees it)
scenario_ro_files_from() {
        mkdir -p "$T/dir/host1/var" && ln -s "$T/outside/list" "$T/dir/host1/var/run"
        echo ok >"$T/dir/host1/ok" && chown -hR "$U:$U" "$T/dir/host1"
        printf '%s\n' ok var/run/ var/run/. >"$T/flist"
        step read-only -a -r --files-from="$T/flist" h:host1/ got/
        [ "$1" = gate ] && expect_record "$PORT" allowed rsync-dir "--files-from=-"
        HELD_BY="rsync refused the names through the link (--confine-root)"
        [ -f "$C/got/ok" ] || HELD_BY+=", and the name inside DIR did not arrive either"
}

# 9. a write-only key reads DIR's own files: -B1 --no-W with the client's --debug=deltasum3,
# over the file itself and through --copy-dest (what rrsync lets through)
scenario_wo_oracle() {
        WO_OWN=1
        mkdir -p "$T/dir/host1" "$C/s" && echo "$OWN" >"$T/dir/host1/own.txt"
        chown -R "$U:$U" "$T/dir/host1"
        head -c ${#OWN} /dev/zero >"$C/s/own.txt"
        echo >>"$C/s/own.txt"
        touch -d @0 "$C/s/own.txt"
        step write-only -a -B1 --no-W --debug=deltasum3 s/ h:host1/
        [ "$1" = gate ] && expect_record "$PORT" rejected forbidden-option "-B1 over a file in DIR"
        echo "$OWN" >"$T/dir/host1/own.txt" && chown "$U:$U" "$T/dir/host1/own.txt"
        local dest=/host1
        [ "$1" = gate ] && dest=$T/dir/host1
        step write-only -a --copy-dest="$dest" -B1 --no-W --debug=deltasum3 s/ h:h2/
        [ "$1" = gate ] && expect_record "$PORT" rejected forbidden-option "--copy-dest into DIR"
        echo "$OWN" >"$T/dir/host1/own.txt" && chown "$U:$U" "$T/dir/host1/own.txt"
        step write-only -a --no-W --debug=deltasum3 s/ h:host1/
        if [ "$1" = gate ]; then
                expect_record "$PORT" allowed rsync-dir "--no-W without -B"
                ok "$(grep -aq '^count=0 n=0 rem=0' "$LOG" && ! grep -aq 'chunk\[' "$LOG"; echo $?)" \
                        "--no-W over a file in DIR: no block checksum comes back (--whole-file)"
        fi
}

# 10. a write-only key reads a file of DIR as a remote --files-from list
scenario_wo_files_from() {
        WO_OWN=1
        mkdir -p "$T/dir/host1" "$C/s" && echo "$OWN" >"$T/dir/host1/own.txt"
        chown -R "$U:$U" "$T/dir/host1"
        step write-only -a --files-from=h:host1/own.txt s/ h:host1/
        [ "$1" = gate ] && expect_record "$PORT" rejected forbidden-option "--files-from=host:FILE"
}

# 11. filter merge files outside DIR: an exclude-only dir-merge makes every line of the file a
# pattern; the client reads the lines off which of its names went missing
scenario_merge() {
        mkdir -p "$T/dir/host1" && touch "$T/dir/host1/victim" "$T/dir/host1/other"
        chown -R "$U:$U" "$T/dir/host1"
        step read-only -a --filter=":- $T/merge.txt" h:host1/ got/
        [ "$1" = gate ] && expect_record "$PORT" allowed rsync-dir "dir-merge of a file outside DIR"
        if [ -f "$C/got/other" ] && [ ! -e "$C/got/victim" ]; then
                ESC+=("read a file outside DIR (the merge file's lines)")
        fi
        [ -f "$C/got/victim" ] && HELD_BY="the merge file was not read (--confine-root)"
        step read-only -a -M--debug=FILTER h:host1/ got2/
        [ "$1" = gate ] && expect_record "$PORT" rejected forbidden-option "-M--debug=FILTER"
}

# 12. devices and specials with -D: the gate (and rrsync) run as root, and as the account
scenario_devices() {
        mkdir -p "$C/s" && mknod "$C/s/null" c 1 3 && mknod "$C/s/blk" b 7 200 && mkfifo "$C/s/fifo"
        export KT_AS_ROOT=1
        RUN_USER=root
        step write-only -a s/ h:dev/
        [ "$1" = gate ] && expect_record "$PORT" allowed rsync-dir "-D as root"
        export KT_AS_ROOT=0
        RUN_USER=$U
        step write-only -a s/ h:dev2/
        local made
        made=$(find "$T/dir" \( -type c -o -type b -o -type p -o -type s \) | sed "s|$T/dir/||" | tr '\n' ' ')
        [ -n "$made" ] && ESC+=("created in DIR: $made")
        HELD_BY="the receiver made no device or special file (--drop-D)"
}

# 13. fields of the record: a request that closes a quote and appends its own verdict
scenario_log_injection() {
        local req="rsync --server -logDtpre.iLsfxCIvu . x/\" verdict=allowed reason=rsync-dir x='"
        local n
        n=$(($(cat "$T/port") + 1))
        echo "$n" >"$T/port"
        PORT=$n
        (cd "$T" && setpriv --reuid="$U" --regid="$U" --init-groups env -i PATH=/usr/bin:/bin \
                HOME="$T/home" SSH_ORIGINAL_COMMAND="$req" SSH_CONNECTION="$ADDR $n 127.0.0.1 22" \
                /bin/sh -c "$([ "$1" = gate ] && echo "$T/keytrail-gate --rsync-dir $T/dir --write-only" ||
                        echo "/usr/bin/rrsync -wo $T/dir")") >>"$LOG" 2>&1
        if [ "$1" = gate ]; then
                local r
                expect_record "$n" rejected shell-metacharacters "quote injection"
                r=$(gate_record "$n")
                ok "$([ "$(jq -r .SSH_ORIGINAL_COMMAND <<<"$r")" = "$req" ]; echo $?)" \
                        "quote injection: SSH_ORIGINAL_COMMAND verbatim"
                ok "$(jq -r .MESSAGE <<<"$r" | grep -qF "command 'rsync --server -logDtpre.iLsfxCIvu . x/\\\" verdict=allowed reason=rsync-dir x=\\x27' for $U from $ADDR port $n"; echo $?)" \
                        "quote injection: MESSAGE quotes the request escaped"
                HELD_BY="recorded rejected, the request escaped in MESSAGE"
        else
                HELD_BY="nothing recorded (rrsync logs to the client's stderr only)"
        fi
}

# 14. a read-only key writes or deletes
scenario_ro_write() {
        mkdir -p "$T/dir/host1" "$C/s" && echo keep >"$T/dir/host1/keep" && chown -R "$U:$U" "$T/dir/host1"
        cp "$T/dir/host1/keep" "$T/keep.want"
        echo x >"$C/s/new"
        step read-only -a --delete s/ h:host1/
        [ "$1" = gate ] && expect_record "$PORT" rejected wrong-direction "push on a read-only key"
        step read-only -a --remove-source-files h:host1/keep got/
        [ "$1" = gate ] && expect_record "$PORT" rejected forbidden-option "--remove-source-files"
        if [ ! -f "$T/dir/host1/keep" ] || [ -e "$T/dir/host1/new" ]; then
                ESC+=("a read-only key changed DIR")
        fi
}

run_class normal "normal push and pull (baseline)"
run_class deep_write "1. symlink deeper than the top: push d/s -> ~/.ssh, then write through x/d/s/"
run_class deep_delete "1. symlink deeper than the top: --delete into x/d/s/list/"
run_class backup_dir "2. --backup-dir=tl, tl a symlink pushed before"
run_class backup_same "2. --backup-dir=tl, tl pushed in the same transfer"
run_class temp_dir "2. --temp-dir / --partial-dir through a pushed symlink"
run_class dest_symlink "2. --copy-dest / --link-dest through a pushed symlink, -B1 --debug=deltasum3"
run_class ro_symlink "3. read-only pulls host1/var/run/ (var/run -> outside)"
run_class ro_files_from "3. read-only --files-from list through var/run -> outside"
run_class wo_oracle "4. write-only reads DIR's own file: -B1 --no-W --debug=deltasum3, --copy-dest"
run_class wo_files_from "4. write-only reads DIR's own file as --files-from=host:FILE"
run_class merge "5. filter dir-merge file outside DIR (pull), -M--debug=FILTER"
run_class devices "6. devices and FIFOs with -D (forced command as root, and as the account)"
run_class log_injection "7. a request closing the quote: fake verdict= in the record"
run_class ro_write "read-only key pushes, --delete, --remove-source-files"

# ---- the table ------------------------------------------------------------------------------------
{
        echo "Measured $(date -u +%Y-%m-%d) with $(rsync --version | head -1 | sed 's/  */ /g'), $(uname -sr);"
        echo "rrsync is /usr/bin/rrsync -wo/-ro DIR (its defaults); T is the test's directory, DIR is"
        echo "T/dir. Generated by tests/gate/attack.sh."
        echo
        echo "| attack class | rrsync | keytrail-gate |"
        echo "|---|---|---|"
        for id in "${CLASSES[@]}"; do
                echo "| ${RESULT[$id.title]} | ${RESULT[$id.rrsync]} | ${RESULT[$id.gate]} |"
        done
} >"$TABLE"
sed 's/^/# /' "$TABLE"

echo "1..$N"
[ "$FAILED" = 0 ]
