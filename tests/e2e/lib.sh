# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# The end-to-end test bed: a real journald, a real sshd (Debian 12's OpenSSH 9.2 from the host, or
# Debian 13's OpenSSH 10.0 from a debootstrapped chroot), real accounts, keys, rsync and ssh.
# Sourced by run.sh and tests/data/record.sh; needs root.
#
# Everything the bed starts or creates is registered with kt_defer right after it is made, and
# kt_cleanup (an EXIT trap) undoes it in reverse order, also when a test fails or is interrupted:
# sshd, journald, accounts (also in the chroot's passwd), mounts, /dev/log, the temporary folder.

KT_E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KT_SRC_DIR=$(cd "$KT_E2E_DIR/../.." && pwd)
KT_CHROOT_CACHE=${KT_CHROOT_CACHE:-/var/cache/keytrail-e2e}
KT_TRIXIE_MIRROR=${KT_TRIXIE_MIRROR:-http://deb.debian.org/debian}
KT_JOURNALD=${KT_JOURNALD:-/lib/systemd/systemd-journald}
KT_SSH_IDS=(-t sshd -t sshd-session -t sshd-auth)

KT_CLEANUP=()
KT_TMP=
KT_GEN=
KT_SSHD_PID=
KT_SSHD_PORT=
KT_ROOT=                # the chroot sshd runs in ('' for the host's sshd)
declare -A KT_FP        # key name -> SHA256 fingerprint
declare -A KT_HOME      # role -> home
declare -A KT_USER      # role -> account name

kt_diag() { printf '# %s\n' "$*" >&2; }
kt_die() { kt_diag "bed: $*"; exit 2; }

# kt_defer CMD...: run CMD (one shell string) at cleanup, last registered first.
kt_defer() { KT_CLEANUP+=("$*"); }

kt_cleanup() {
        local i
        trap - EXIT INT TERM
        for ((i = ${#KT_CLEANUP[@]} - 1; i >= 0; i--)); do
                eval "${KT_CLEANUP[i]}" >/dev/null 2>&1 || kt_diag "cleanup failed: ${KT_CLEANUP[i]}"
        done
        KT_CLEANUP=()
}

kt_init() {
        trap kt_cleanup EXIT
        trap 'exit 130' INT TERM
        KT_TMP=$(mktemp -d /tmp/kt-e2e.XXXXXX) || kt_die "mktemp"
        kt_defer "rm -rf '$KT_TMP'"
        # the accounts' homes live below; sshd and the users must be able to traverse it
        chmod 755 "$KT_TMP"
        mkdir -p "$KT_TMP/home" "$KT_TMP/keys" "$KT_TMP/intended" "$KT_TMP/run"
        chmod 755 "$KT_TMP/home"
        chmod 700 "$KT_TMP/keys"
        KT_PREFIX=${KT_PREFIX:-kt$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')}
        # client-side source ports: a counter from a random base, below the kernel's ephemeral range
        echo $((20000 + RANDOM % 8000)) >"$KT_TMP/run/port"
}

# ---- journald --------------------------------------------------------------------------------

kt_socket_bound() { grep -q " $1\$" /proc/net/unix; }

# kt_socket_live PATH: a unix socket file that some process has bound (listed in /proc/net/unix)
kt_socket_live() { [ -S "$1" ] && grep -q " $1\$" /proc/net/unix; }

# kt_private_journal SCRIPT ARGS...: re-run SCRIPT in a private mount namespace with tmpfs on /run
# (and /var/log/journal), so that the bed's journald is its own: entries other programs write to
# the host's journal at the same time (other test runs on a shared machine) never fall into a
# scenario's window. KT_E2E_SHARED_JOURNAL=1 keeps the host's journald instead.
kt_private_journal() {
        [ -n "${KT_E2E_SHARED_JOURNAL:-}" ] && return 0
        if [ "${KT_E2E_NS:-}" != 1 ]; then
                command -v unshare >/dev/null || { echo "Bail out! no unshare (util-linux)"; exit 1; }
                KT_E2E_NS=1 exec unshare -m --propagation private "$BASH" "$@"
        fi
        mount -t tmpfs -o mode=755 tmpfs /run || { echo "Bail out! cannot mount /run"; exit 1; }
        if [ -d /var/log/journal ]; then
                mount -t tmpfs tmpfs /var/log/journal || { echo "Bail out! cannot mount /var/log/journal"; exit 1; }
        fi
}

kt_journal_setup() {
        local i
        if [ "${KT_E2E_NS:-}" = 1 ]; then
                # /proc/net/unix belongs to the network namespace, which is shared: it still lists
                # the host's sockets. Start ours and wait for its files.
                mkdir -p /run/systemd/journal /run/systemd/journald.conf.d
                # no rate limit: a loaded machine must not make scenario lines vanish (the
                # runtime config folder is on our private /run, the host's journald never sees it)
                printf '[Journal]\nRateLimitIntervalSec=0\n' >/run/systemd/journald.conf.d/kt-e2e.conf
                setsid "$KT_JOURNALD" </dev/null >"$KT_TMP/journald.log" 2>&1 &
                KT_JOURNALD_PID=$!
                kt_defer "kill -TERM $KT_JOURNALD_PID; wait $KT_JOURNALD_PID"
                for ((i = 0; i < 100; i++)); do
                        [ -S /run/systemd/journal/dev-log ] && break
                        sleep 0.05
                done
                [ -S /run/systemd/journal/dev-log ] || kt_die "journald did not start"
                kt_diag "private mount namespace, own journald (pid $KT_JOURNALD_PID)"
        elif kt_socket_live /run/systemd/journal/socket; then
                kt_diag "using the running journald"
        else
                [ -x "$KT_JOURNALD" ] || kt_die "no journald running and $KT_JOURNALD missing"
                # what journald creates is removed afterwards unless another journald took it
                # over meanwhile (machines shared by several test runs)
                [ -d /run/systemd ] || kt_defer "rmdir /run/systemd"
                [ -d /run/systemd/journal ] ||
                        kt_defer "kt_socket_bound /run/systemd/journal/socket || rm -rf /run/systemd/journal"
                if [ ! -d /run/log/journal ] && [ -z "${KT_E2E_KEEP_JOURNAL:-}" ]; then
                        [ -d /run/log ] || kt_defer "rmdir /run/log"
                        kt_defer "pgrep -x systemd-journal >/dev/null || rm -rf /run/log/journal"
                fi
                mkdir -p /run/systemd/journal
                setsid "$KT_JOURNALD" </dev/null >"$KT_TMP/journald.log" 2>&1 &
                KT_JOURNALD_PID=$!
                kt_defer "kill -TERM $KT_JOURNALD_PID; wait $KT_JOURNALD_PID"
                for ((i = 0; i < 100; i++)); do
                        kt_socket_live /run/systemd/journal/dev-log && break
                        sleep 0.05
                done
                kt_socket_live /run/systemd/journal/dev-log || kt_die "journald did not start"
                kt_diag "started journald (pid $KT_JOURNALD_PID)"
        fi
        # sshd's syslog() writes to /dev/log: point it at journald, and put back what was there
        if [ "$(readlink /dev/log 2>/dev/null)" != /run/systemd/journal/dev-log ]; then
                if [ -L /dev/log ]; then
                        kt_defer "ln -sfn '$(readlink /dev/log)' /dev/log"
                elif [ -e /dev/log ]; then
                        mv /dev/log /dev/log.kt-e2e-saved || kt_die "cannot move /dev/log aside"
                        kt_defer "rm -f /dev/log; mv /dev/log.kt-e2e-saved /dev/log"
                else
                        kt_defer "rm -f /dev/log"
                fi
                ln -sfn /run/systemd/journal/dev-log /dev/log
        fi
        kt_journal_sync || kt_die "journald does not receive syslog messages through /dev/log"
}

# kt_journal_sync: write a marker through /dev/log and wait until journalctl shows it. Datagrams
# on /dev/log are read in order, so everything sent before the marker is then in the journal.
kt_journal_sync() {
        local m i
        m="sync-$$-$(date +%s%N)"
        logger -t kt-e2e-sync "$m" || return 1
        for ((i = 0; i < 200; i++)); do
                journalctl -q -o cat SYSLOG_IDENTIFIER=kt-e2e-sync "MESSAGE=$m" 2>/dev/null |
                        grep -q . && return 0
                sleep 0.05
        done
        return 1
}

kt_now() { date +%s.%6N; }

# ---- sshd ------------------------------------------------------------------------------------

kt_port_listening() {
        local hex
        hex=$(printf '%04X' "$1")
        grep -qE "^ *[0-9]+: [0-9A-F]+:$hex [0-9A-F]+:0000 0A" /proc/net/tcp
}

kt_free_port() {
        local p
        while :; do
                p=$((10000 + RANDOM % 9000))
                kt_port_listening "$p" || { echo "$p"; return; }
        done
}

# kt_client_port: the next source port for a client connection (a counter in a file, so that it
# also counts in subshells; never the same port twice in a run)
kt_client_port() {
        local n
        n=$(cat "$KT_TMP/run/port")
        echo $((n + 1)) >"$KT_TMP/run/port"
        echo $((n + 1))
}

# kt_trixie_root: the cached Debian 13 chroot (OpenSSH 10), built once
kt_trixie_root() {
        local dir=$KT_CHROOT_CACHE/trixie
        if [ ! -x "$dir/usr/lib/openssh/sshd-session" ]; then
                command -v debootstrap >/dev/null || return 1
                mkdir -p "$KT_CHROOT_CACHE"
                rm -rf "$dir.tmp"
                kt_diag "building the trixie chroot in $dir (once)"
                debootstrap --variant=minbase --include=openssh-server,rsync trixie "$dir.tmp" \
                        "$KT_TRIXIE_MIRROR" >"$KT_CHROOT_CACHE/debootstrap.log" 2>&1 || {
                        rm -rf "$dir.tmp"
                        return 1
                }
                mv "$dir.tmp" "$dir"
        fi
        echo "$dir"
}

# kt_bind SRC DST: bind-mount, create DST if needed, unmount (and remove what was made) at cleanup
kt_bind() {
        local src=$1 dst=$2 made=
        if [ ! -e "$dst" ]; then
                made=$dst
                while [ ! -e "$(dirname "$made")" ]; do made=$(dirname "$made"); done
                if [ -d "$src" ]; then mkdir -p "$dst"; else mkdir -p "$(dirname "$dst")"; touch "$dst"; fi
                kt_defer "rm -rf --one-file-system '$made'"
        fi
        mount --bind "$src" "$dst" || kt_die "mount --bind $src $dst"
        kt_defer "umount '$dst' || umount -l '$dst'"
}

# kt_sshd_start GEN: GEN is bookworm (the host's sshd) or trixie (the chroot's)
kt_sshd_start() {
        local gen=$1 g i
        KT_GEN=$gen
        g=$KT_TMP/$gen
        mkdir -p "$g"
        case $gen in
        bookworm) KT_ROOT= ;;
        trixie)
                KT_ROOT=$(kt_trixie_root) || return 1
                mkdir -p "$KT_ROOT/run/sshd"
                kt_bind /dev "$KT_ROOT/dev"
                kt_bind /proc "$KT_ROOT/proc"
                kt_bind /run/systemd/journal "$KT_ROOT/run/systemd/journal"
                # homes, keys and sshd's files at the same paths inside as outside
                kt_bind "$KT_TMP" "$KT_ROOT$KT_TMP"
                for role in "${!KT_USER[@]}"; do kt_chroot_account "${KT_USER[$role]}"; done
                ;;
        *) kt_die "unknown generation $gen" ;;
        esac
        [ -d /run/sshd ] || { mkdir -p /run/sshd; kt_defer "rmdir /run/sshd"; }
        ssh-keygen -q -t ed25519 -N '' -C "kt-e2e-host" -f "$g/ssh_host_ed25519_key" ||
                kt_die "host key"
        KT_SSHD_PORT=$(kt_free_port)
        cat >"$g/sshd_config" <<EOF
# keytrail e2e bed ($gen): never the system's sshd
Port $KT_SSHD_PORT
ListenAddress 127.0.0.1
ListenAddress 127.0.0.2
HostKey $g/ssh_host_ed25519_key
PidFile $g/sshd.pid
LogLevel VERBOSE
SyslogFacility AUTH
UsePAM yes
KbdInteractiveAuthentication no
PasswordAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
StrictModes yes
PermitRootLogin no
AllowUsers ${KT_PREFIX}*
X11Forwarding no
PrintMotd no
MaxStartups 64:30:128
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
        if [ -n "$KT_ROOT" ]; then
                chroot "$KT_ROOT" /usr/sbin/sshd -t -f "$g/sshd_config" || kt_die "sshd -t ($gen)"
                setsid chroot "$KT_ROOT" /usr/sbin/sshd -D -f "$g/sshd_config" \
                        </dev/null >"$g/sshd.out" 2>&1 &
        else
                /usr/sbin/sshd -t -f "$g/sshd_config" || kt_die "sshd -t ($gen)"
                setsid /usr/sbin/sshd -D -f "$g/sshd_config" </dev/null >"$g/sshd.out" 2>&1 &
        fi
        KT_SSHD_PID=$!
        kt_defer "kt_sshd_stop $KT_SSHD_PID"
        for ((i = 0; i < 100; i++)); do
                kt_port_listening "$KT_SSHD_PORT" && break
                kill -0 "$KT_SSHD_PID" 2>/dev/null || break
                sleep 0.05
        done
        kt_port_listening "$KT_SSHD_PORT" || {
                kt_diag "$(cat "$g/sshd.out")"
                kt_die "sshd ($gen) did not start"
        }
        KT_SSHD_VERSION=$( (${KT_ROOT:+chroot "$KT_ROOT"} /usr/sbin/sshd -V) 2>&1 | head -n1)
        kt_diag "sshd ($gen, ${KT_SSHD_VERSION%%,*}) pid $KT_SSHD_PID on 127.0.0.1/2:$KT_SSHD_PORT"
        kt_settle
}

# kt_sshd_stop PID: the listener, then the per-connection processes it left, each by PID
kt_sshd_stop() {
        local pid=$1 kids
        kids=$(pgrep -P "$pid")
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        # shellcheck disable=SC2086
        [ -n "$kids" ] && kill -TERM $kids 2>/dev/null
        return 0
}

# kt_settle: wait until sshd has no connection left (its monitors exited, so every line they and
# their user children will ever write has been sent), then until journald has stored it all.
kt_settle() {
        local i
        for ((i = 0; i < 300; i++)); do
                pgrep -P "$KT_SSHD_PID" >/dev/null || break
                sleep 0.05
        done
        pgrep -P "$KT_SSHD_PID" >/dev/null && kt_diag "settle: sshd still has connections"
        kt_journal_sync || kt_diag "settle: journal sync timed out"
}

# ---- accounts, keys, authorized_keys -----------------------------------------------------------

# kt_account ROLE: create the test account for ROLE (name $KT_PREFIX$ROLE), home in the temp dir
kt_account() {
        local role=$1 name home
        name=$KT_PREFIX$role
        home=$KT_TMP/home/$name
        getent passwd "$name" >/dev/null && kt_die "account $name exists already"
        useradd -m -d "$home" -s /bin/sh -U -c "keytrail e2e" "$name" ||
                kt_die "useradd $name"
        kt_defer "userdel -r '$name'"
        # a usable password field: '!' (locked) makes sshd refuse the account with UsePAM
        usermod -p '*' "$name" || kt_die "usermod $name"
        install -d -m 700 -o "$name" -g "$name" "$home/.ssh"
        install -m 600 -o "$name" -g "$name" /dev/null "$home/.ssh/authorized_keys"
        touch "$KT_TMP/intended/$name"   # cumulative over generations
        KT_USER[$role]=$name
        KT_HOME[$role]=$home
        [ -n "$KT_ROOT" ] && kt_chroot_account "$name"
        return 0
}

# kt_chroot_account NAME: the same account (same uid) in the chroot's user database
kt_chroot_account() {
        local name=$1 f
        for f in passwd shadow group gshadow; do
                [ -f "$KT_ROOT/etc/$f" ] || continue
                grep "^$name:" "/etc/$f" >>"$KT_ROOT/etc/$f"
                kt_defer "sed -i '/^$name:/d' '$KT_ROOT/etc/$f'"
        done
}

# kt_keyfile NAME: the private key file of key NAME (one per generation)
kt_keyfile() { echo "$KT_TMP/keys/$KT_GEN-$1"; }

# kt_key NAME: a fresh ed25519 key pair; sets KT_FP[NAME]
kt_key() {
        local k
        k=$(kt_keyfile "$1")
        ssh-keygen -q -t ed25519 -N '' -C "$1@kt-e2e-client" -f "$k" || kt_die "ssh-keygen $1"
        KT_FP[$1]=$(ssh-keygen -lf "$k.pub" | awk '{print $2}')
}

kt_pub() { cat "$(kt_keyfile "$1").pub"; }

# kt_line OPTIONS KEY: an authorized_keys line ("" OPTIONS for none)
kt_line() { if [ -n "$1" ]; then echo "$1 $(kt_pub "$2")"; else kt_pub "$2"; fi; }

# kt_intend ROLE LINE: the administrator's line, in the baseline copy and in the live file
kt_intend() {
        echo "$2" >>"$KT_TMP/intended/${KT_USER[$1]}"
        echo "$2" >>"${KT_HOME[$1]}/.ssh/authorized_keys"
}

# kt_live ROLE LINE: a line only in the live file (what an intruder appends)
kt_live() { echo "$2" >>"${KT_HOME[$1]}/.ssh/authorized_keys"; }

# kt_tamper ROLE KEY NEWLINE: replace KEY's line in ROLE's live file by NEWLINE
kt_tamper() {
        local f=${KT_HOME[$1]}/.ssh/authorized_keys blob
        blob=$(kt_pub "$2" | awk '{print $2}')
        grep -vF "$blob" "$f" >"$f.new"
        echo "$3" >>"$f.new"
        cat "$f.new" >"$f"
        rm -f "$f.new"
}

# the --authorized-keys arguments: every test account, with its intended (baseline) copy
kt_baseline_args() {
        local role
        for role in "${!KT_USER[@]}"; do
                printf '%s\n' --authorized-keys "${KT_USER[$role]}:$KT_TMP/intended/${KT_USER[$role]}"
        done
}

# ---- clients -----------------------------------------------------------------------------------

# kt_ssh_cmd KEY LPORT [LADDR]: the ssh command line (one string, as for rsync -e) for a connection
# with KEY from LADDR:LPORT (default 127.0.0.1) to the bed's sshd
kt_ssh_cmd() {
        local laddr=${3:-127.0.0.1}
        printf '%s' "ssh -F /dev/null -i $(kt_keyfile "$1") -p $KT_SSHD_PORT -o BatchMode=yes" \
                " -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes" \
                " -o IdentityAgent=none -o LogLevel=ERROR" \
                " -o 'ProxyCommand=perl $KT_E2E_DIR/bindconnect.pl $laddr $2 %h %p'"
}

# kt_ssh KEY LPORT ROLE [COMMAND...]: run COMMAND (or a shell) as ROLE's account, stdin closed
kt_ssh() {
        local key=$1 lport=$2 role=$3
        shift 3
        eval "timeout 60 $(kt_ssh_cmd "$key" "$lport") '${KT_USER[$role]}@127.0.0.1' \"\$@\"" </dev/null
}

# kt_rsync_push KEY LPORT ROLE DEST [LADDR]: the backup job: push a small tree
kt_rsync_push() {
        rsync -a --delete -e "$(kt_ssh_cmd "$1" "$2" "${5:-127.0.0.1}")" "$KT_TMP/payload/" \
                "${KT_USER[$3]}@${5:-127.0.0.1}:$4/"
}

# kt_rsync_pull KEY LPORT ROLE SRC DEST: the mirror job: pull a tree
kt_rsync_pull() {
        mkdir -p "$5"
        rsync -a -e "$(kt_ssh_cmd "$1" "$2")" "${KT_USER[$3]}@127.0.0.1:$4/" "$5/"
}

# kt_rsync_server_cmd push|pull DIR: the exact command this rsync client asks the server to run,
# as an administrator pastes it into command="..." (captured from a fake remote shell)
kt_rsync_server_cmd() {
        local cap=$KT_TMP/run/capture
        printf '#!/bin/sh\nwhile [ $# -gt 0 ] && [ "$1" != rsync ]; do shift; done\necho "$*" >%s\nexit 1\n' \
                "$cap.out" >"$cap.sh"
        chmod +x "$cap.sh"
        if [ "$1" = push ]; then
                rsync -a --delete -e "$cap.sh" "$KT_TMP/payload/" "x@y:$2/" >/dev/null 2>&1
        else
                rsync -a -e "$cap.sh" "x@y:$2/" "$KT_TMP/run/nowhere/" >/dev/null 2>&1
        fi
        cat "$cap.out"
}

kt_payload() {
        mkdir -p "$KT_TMP/payload/sub"
        echo "keytrail e2e payload" >"$KT_TMP/payload/README"
        seq 1 2000 >"$KT_TMP/payload/sub/numbers"
}

# kt_dir ROLE NAME: a folder owned by ROLE's account in its home, echoes its path
kt_dir() {
        local d=${KT_HOME[$1]}/$2
        install -d -m 755 -o "${KT_USER[$1]}" -g "${KT_USER[$1]}" "$d"
        echo "$d"
}

# ---- scenarios: window, journal checks, alert assertions ---------------------------------------
#
# A scenario calls kt_begin, drives clients, calls kt_end (settles: all lines are in the journal),
# then states what sshd must have logged (kt_log_has / kt_log_lacks: checks of the bed itself, they
# run even without keytrail) and the exact alert set (kt_alert "TYPE USER FP PORT" per alert, none
# for a no-alert scenario), and finally kt_verdict, which runs
#   keytrail scan --since @T0 --until @T1 --authorized-keys USER:INTENDED... --rules DIR --format json
# and compares the sorted "type user fingerprint source_port" lines with the expected ones.

KT_BIN=${KT_BIN:-}
KT_RULES=${KT_RULES:-$KT_SRC_DIR/rules}
KT_ARTIFACTS=${KT_ARTIFACTS:-}

kt_begin() {
        KT_SCEN=$1
        KT_BAD=0
        KT_EXPECTED=()
        KT_T0=$(kt_now)
}

kt_end() {
        kt_settle
        KT_T1=$(kt_now)
        KT_WINDOW_LOG=$KT_TMP/run/$KT_GEN-$KT_SCEN.log
        journalctl -q --since "@$KT_T0" --until "@$KT_T1" -o cat "${KT_SSH_IDS[@]}" \
                >"$KT_WINDOW_LOG" 2>/dev/null
        if [ -n "$KT_ARTIFACTS" ]; then
                mkdir -p "$KT_ARTIFACTS"
                journalctl -q --since "@$KT_T0" --until "@$KT_T1" -o short-precise \
                        >"$KT_ARTIFACTS/$KT_GEN-$KT_SCEN.journal.txt" 2>/dev/null
        fi
}

kt_fail() { kt_diag "$KT_GEN/$KT_SCEN: $*"; KT_BAD=1; }

# kt_q TEXT: TEXT quoted for an ERE (fingerprints carry + and /, commands carry .)
kt_q() { printf '%s' "$1" | sed 's/[][\\.*^$+?(){}|/]/\\&/g'; }

# kt_log_has ERE [COUNT]: sshd logged a matching line (exactly COUNT times when given)
kt_log_has() {
        local n
        n=$(grep -cE -- "$1" "$KT_WINDOW_LOG")
        if [ -n "${2:-}" ]; then
                [ "$n" -eq "$2" ] || kt_fail "expected $2 sshd line(s) matching /$1/, found $n"
        else
                [ "$n" -gt 0 ] || kt_fail "no sshd line matches /$1/"
        fi
}

kt_log_lacks() {
        ! grep -qE -- "$1" "$KT_WINDOW_LOG" || kt_fail "unexpected sshd line matching /$1/"
}

# kt_alert TYPE ROLE KEY PORT: one expected alert
kt_alert() { KT_EXPECTED+=("$1 ${KT_USER[$2]} ${KT_FP[$3]} $4"); }

# kt_alert_raw LINE: an expected line as is (spoofed-entry alerts are reduced to their type)
kt_alert_raw() { KT_EXPECTED+=("$1"); }

kt_have_keytrail() { [ -n "$KT_BIN" ] && [ -x "$KT_BIN" ] && "$KT_BIN" scan --help >/dev/null 2>&1; }

# The sorted alert lines of keytrail's NDJSON. spoofed-entry alerts come out as their type only:
# what user/fingerprint/port a forged text claims is not part of the contract; the scenario checks
# their evidence instead (kt_check_spoofed_evidence).
KT_JQ='if .type == "spoofed-entry" then "spoofed-entry"
       else [.type, (.user // "-"), (.fingerprint // "-"), ((.source_port // "-") | tostring)]
            | join(" ") end'

kt_scan() {
        local -a args
        mapfile -t args < <(kt_baseline_args)
        # shellcheck disable=SC2086
        "$KT_BIN" scan --since "@$KT_T0" --until "@$KT_T1" --rules "$KT_RULES" --format json \
                "${args[@]}" ${KT_SCAN_EXTRA:-}
}

# kt_verdict: 0 pass, 1 fail, 3 bed checks passed but keytrail is not built yet
kt_verdict() {
        local out=$KT_TMP/run/$KT_GEN-$KT_SCEN.ndjson rc want got
        if ! kt_have_keytrail; then
                [ "$KT_BAD" = 0 ] && return 3
                return 1
        fi
        kt_scan >"$out" 2>"$out.err"
        rc=$?
        [ -n "$KT_ARTIFACTS" ] && cp "$out" "$out.err" "$KT_ARTIFACTS/" 2>/dev/null
        want=$(printf '%s\n' "${KT_EXPECTED[@]}" | grep . | LC_ALL=C sort)
        if ! got=$(jq -r "$KT_JQ" <"$out" | LC_ALL=C sort); then
                kt_fail "keytrail's output is not NDJSON"
                got="(unparsable)"
        fi
        if [ "$want" != "$got" ]; then
                kt_fail "alert set differs"
                diff <(echo "$want") <(echo "$got") | sed 's/^/#   /' >&2
        fi
        if [ -n "$want" ] && [ "$rc" != 1 ]; then kt_fail "exit status $rc, expected 1"; fi
        if [ -z "$want" ] && [ "$rc" != 0 ]; then kt_fail "exit status $rc, expected 0"; fi
        [ -s "$out.err" ] && [ "$rc" = 2 ] && sed 's/^/#   stderr: /' "$out.err" >&2
        [ -s "$out.err" ] && [ "$rc" != 2 ] && { kt_fail "keytrail wrote on stderr"; sed 's/^/#   stderr: /' "$out.err" >&2; }
        kt_check_fields "$out"
        # shellcheck disable=SC2034 # read by scenario_after_scan
        KT_SCAN_OUT=$out
        return $KT_BAD
}

# ---- every field of every alert ----------------------------------------------------------------
#
# kt_check_fields NDJSON: what the journal itself proves about each alert (its evidence cursors
# resolve to entries of this window; time is one of theirs; host, machine_id, boot_id are theirs;
# sshd_pid is the _PID of one of them; severity is the type's; id is 32 hex digits), then every
# field against the scenario's golden file tests/e2e/expected/GEN/NN.expected, after the values a
# run makes up are replaced by names: account names <user:ROLE>, homes <home:ROLE>, the temporary
# folder <tmp>, the chroot <root>, fingerprints <fp:KEY>, host <host>, machine and boot ids,
# numbers of ports and pids (<port>, <pid>), time and id; evidence becomes the MESSAGEs of its
# entries, normalised the same way. spoofed-entry's reason and message name the forger's
# _EXE/_COMM, which journald records only when it wins a race (13-spoofed.sh): they are <writer>.
# How a connection ends (the client's "disconnected by user", or sshd seeing the socket close) is
# the client's race too: a deciding disconnect line is <disconnect line>, its rule sshd.disconnect.*.
# KEYTRAIL_UPDATE_GOLDEN=1 (tests/e2e/run.sh as root) writes the golden files instead; review the
# diff. Format as tests/golden-lib.sh: sorted-key JSON lines, sorted.
kt_subst_json() {
        local role k pairs=()
        for role in "${!KT_HOME[@]}"; do pairs+=("${KT_HOME[$role]}" "<home:$role>"); done
        [ -n "$KT_ROOT" ] && pairs+=("$KT_ROOT" "<root>")
        pairs+=("$KT_TMP" "<tmp>")
        for role in "${!KT_USER[@]}"; do pairs+=("${KT_USER[$role]}" "<user:$role>"); done
        pairs+=("$KT_PREFIX" "<prefix>")
        for k in "${!KT_FP[@]}"; do pairs+=("${KT_FP[$k]}" "<fp:$k>"); done
        pairs+=("$(cat /etc/machine-id)" "<machine>" "$(tr -d - </proc/sys/kernel/random/boot_id)" "<boot>")
        # longest first: a home holds the account name, account names share the prefix
        printf '%s\n' "${pairs[@]}" | jq -Rs 'split("\n")[:-1] | [range(0; length; 2) as $i
                | [.[$i], .[$i + 1]]] | map(select(.[0] != "")) | sort_by(-(.[0] | length))'
}

KT_NORMALISE='def subst: reduce $subst[] as $p (.; split($p[0]) | join($p[1]));
def nums: gsub("(?<w>port|pid|pid=|on pid) (?<n>[0-9]+)"; "\(.w) <n>") | gsub("pid=[0-9]+"; "pid=<n>");
walk(if type == "string" then subst else . end)
| .evidence = $messages
| .time = "<time>" | .id = "<id>" | .host = "<host>"
| (if .sshd_pid != null then .sshd_pid = "<pid>" else . end)
| (if .source_port != null then .source_port = "<port>" else . end)
| (if .type == "spoofed-entry" then .reason = "<writer>" | .message = "<writer>" else . end)
| (if (.rule // "") | startswith("sshd.disconnect.") then .rule = "sshd.disconnect.*" else . end)
| .evidence |= map(if test("^(Received disconnect|Connection closed|Disconnected from|Connection reset|Closing connection)") then "<disconnect line>" else . end)
| .message |= (if type == "string" then nums else . end)'

kt_check_fields() {
        local out=$1 alert c entry subst msgs golden got t0 t1 sev
        local -A severity=([unforced-session]=critical [command-mismatch]=high [unknown-key]=high
                [no-session]=medium [source-refused]=medium [wrong-user]=high [spoofed-entry]=high
                [command-rejected]=high [gate-silent]=medium [connection-evicted]=medium
                [unexpected-source]=high [baseline-drift]=high)
        subst=$(kt_subst_json)
        t0=$(awk -v t="$KT_T0" 'BEGIN { printf "%.0f", t * 1000000 }')
        t1=$(awk -v t="$KT_T1" 'BEGIN { printf "%.0f", t * 1000000 }')
        got=$KT_TMP/run/$KT_GEN-$KT_SCEN.fields
        : >"$got"
        while IFS= read -r alert; do
                local type times=() hosts=() pids=() mids=() bids=() m=()
                type=$(jq -r .type <<<"$alert")
                sev=$(jq -r .severity <<<"$alert")
                [ "$sev" = "${severity[$type]:-?}" ] || kt_fail "$type: severity $sev, want ${severity[$type]:-?}"
                jq -e '.id | test("^[0-9a-f]{32}$")' <<<"$alert" >/dev/null || kt_fail "$type: id is not 32 hex digits"
                jq -e '.evidence | length > 0' <<<"$alert" >/dev/null || kt_fail "$type: no evidence"
                while IFS= read -r c; do
                        entry=$(kt_journal_entry "$c")
                        if [ "$(jq -r '.__CURSOR // empty' <<<"$entry" 2>/dev/null)" != "$c" ]; then
                                kt_fail "$type: evidence cursor does not resolve: $c"
                                m+=('"(unresolved)"')
                                continue
                        fi
                        local rt
                        rt=$(jq -r .__REALTIME_TIMESTAMP <<<"$entry")
                        [ "$rt" -ge "$((t0 - 1000000))" ] && [ "$rt" -le "$((t1 + 1000000))" ] ||
                                kt_fail "$type: evidence entry outside the scenario's window: $c"
                        times+=("$(jq -r '.__REALTIME_TIMESTAMP | tonumber | (. / 1000000 | floor | strftime("%Y-%m-%dT%H:%M:%S")) + "." + (. % 1000000 | tostring | ("000000" + .)[-6:]) + "Z"' <<<"$entry")")
                        hosts+=("$(jq -r ._HOSTNAME <<<"$entry")")
                        mids+=("$(jq -r ._MACHINE_ID <<<"$entry")")
                        bids+=("$(jq -r ._BOOT_ID <<<"$entry")")
                        pids+=("$(jq -r '._PID // .SYSLOG_PID' <<<"$entry")")
                        m+=("$(jq -c 'if (.MESSAGE | type) == "string" then .MESSAGE else "(binary)" end' <<<"$entry")")
                done < <(jq -r '.evidence[]' <<<"$alert")
                kt_in "$(jq -r .time <<<"$alert")" "${times[@]}" || kt_fail "$type: time is none of its evidence's times"
                kt_in "$(jq -r .host <<<"$alert")" "${hosts[@]}" || kt_fail "$type: host is not its entries' _HOSTNAME"
                kt_in "$(jq -r .machine_id <<<"$alert")" "${mids[@]}" || kt_fail "$type: machine_id is not its entries'"
                kt_in "$(jq -r .boot_id <<<"$alert")" "${bids[@]}" || kt_fail "$type: boot_id is not its entries'"
                if [ "$(jq -r .sshd_pid <<<"$alert")" != null ]; then
                        kt_in "$(jq -r .sshd_pid <<<"$alert")" "${pids[@]}" || kt_fail "$type: sshd_pid is none of its entries' _PID"
                fi
                msgs=$(printf '%s\n' "${m[@]}" | jq -s --argjson subst "$subst" \
                        'def subst: reduce $subst[] as $p (.; split($p[0]) | join($p[1]));
                         map(subst | gsub("(?<w>port|pid) [0-9]+"; "\(.w) <n>"))')
                jq -S -c --argjson subst "$subst" --argjson messages "$msgs" "$KT_NORMALISE" <<<"$alert" >>"$got"
        done <"$out"
        LC_ALL=C sort -o "$got" "$got"
        golden=$KT_E2E_DIR/expected/$KT_GEN/$KT_SCEN.expected
        if [ -n "${KEYTRAIL_UPDATE_GOLDEN:-}" ]; then
                mkdir -p "$(dirname "$golden")"
                cp "$got" "$golden"
                kt_diag "wrote $golden"
        elif [ ! -f "$golden" ]; then
                kt_fail "no golden file $golden (KEYTRAIL_UPDATE_GOLDEN=1 writes it)"
        elif ! diff -u "$golden" "$got" >"$got.diff"; then
                kt_fail "alert fields differ from $golden (- expected, + got)"
                sed 's/^/#   /' "$got.diff" >&2
        fi
}

# kt_in VALUE LIST...: VALUE is one of LIST
kt_in() {
        local v=$1 x
        shift
        for x in "$@"; do [ "$x" = "$v" ] && return 0; done
        return 1
}

# kt_journal_entry CURSOR: the entry as one JSON object
kt_journal_entry() { journalctl -q -o json --cursor="$1" 2>/dev/null | head -n1; }
