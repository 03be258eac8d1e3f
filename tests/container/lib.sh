# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# The booted-container bed: a Debian 12 (bookworm) system with systemd as PID 1, a persistent
# journal, the stock ssh.service at LogLevel VERBOSE, booted with systemd-nspawn from a copy of a
# cached debootstrap rootfs. Sourced by the tests that need a real systemd (journal files per user,
# keytrail's unit); needs root. One container per shell at a time; several shells may each run one
# (own private network, own copy, own machine name and id).
#
#     ct_rootfs_ensure      build the cached rootfs once (debootstrap), else nothing
#     ct_boot               copy, set up and boot it; sets CT_ROOT (the copy, seen from the host)
#                           and CT_PID (the container's PID 1, seen from the host)
#     ct_exec CMD...        run CMD inside (all its namespaces); stdin/stdout/stderr pass through
#     ct_install BUILD_DIR  DESTDIR=$CT_ROOT meson install, then daemon-reload
#     ct_add_user NAME      an account with a UID above 1000, password '*', ~/.ssh mode 700
#     ct_stop               power off, wait, remove the copy (also run at exit after ct_boot)
#
# Failures print one line "ct: ..." on stderr and return non-zero. Safe under `set -e`.

CT_CACHE=${CT_CACHE:-/var/cache/keytrail-bed}
CT_ROOTFS=${CT_ROOTFS:-$CT_CACHE/bookworm}
CT_MIRROR=${CT_MIRROR:-http://deb.debian.org/debian}
CT_PACKAGES=systemd,systemd-sysv,dbus,openssh-server,rsync,libjansson4,libpcre2-8-0,libssl3
CT_BOOT_TIMEOUT=${CT_BOOT_TIMEOUT:-180}  # seconds until the container must be up
CT_ROOT=
CT_PID=
CT_NSPAWN_PID=          # the systemd-nspawn process (its child is CT_PID)
CT_TMP=                 # the temporary folder holding the copy and nspawn's log
CT_MACHINE=
CT_PREV_EXIT_TRAP=

ct_err() { printf 'ct: %s\n' "$*" >&2; }

# ct_rootfs_ensure: the cached rootfs exists; else debootstrap it into DIR.tmp and rename, under a
# lock so that two test runs do not build it at the same time.
ct_rootfs_ensure() {
        local lock log rc
        [ -d "$CT_ROOTFS" ] && return 0
        command -v debootstrap >/dev/null || {
                ct_err "no rootfs at $CT_ROOTFS and debootstrap is not installed"
                return 1
        }
        mkdir -p "$(dirname "$CT_ROOTFS")" || { ct_err "cannot create $(dirname "$CT_ROOTFS")"; return 1; }
        lock=$CT_ROOTFS.lock
        log=$CT_ROOTFS.debootstrap.log
        (
                flock -w 1800 9 || { ct_err "timed out waiting for $lock"; exit 1; }
                [ -d "$CT_ROOTFS" ] && exit 0
                rm -rf --one-file-system "$CT_ROOTFS.tmp"
                printf '# ct: building %s with debootstrap (once; log %s)\n' "$CT_ROOTFS" "$log" >&2
                if ! debootstrap --variant=minbase --include="$CT_PACKAGES" bookworm \
                        "$CT_ROOTFS.tmp" "$CT_MIRROR" >"$log" 2>&1; then
                        ct_err "debootstrap of bookworm into $CT_ROOTFS.tmp failed: $(tail -n1 "$log")"
                        rm -rf --one-file-system "$CT_ROOTFS.tmp"
                        exit 1
                fi
                mv "$CT_ROOTFS.tmp" "$CT_ROOTFS" || { ct_err "cannot rename $CT_ROOTFS.tmp"; exit 1; }
        ) 9>"$lock"
        rc=$?
        return $rc
}

# ct__setup ROOT: what every test needs in a fresh copy, before it boots
ct__setup() {
        local root=$1 id
        # a machine id of its own: journal directories, _MACHINE_ID and alerts tell containers apart
        id=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n') || return 1
        printf '%s\n' "$id" >"$root/etc/machine-id" || return 1
        rm -rf "$root"/var/log/journal/*
        # persistent journal: journald writes /var/log/journal/ID/{system,user-UID}.journal
        mkdir -p "$root/var/log/journal" "$root/etc/systemd/journald.conf.d" || return 1
        printf '[Journal]\nStorage=persistent\n' \
                >"$root/etc/systemd/journald.conf.d/50-keytrail-bed.conf" || return 1
        # the stock ssh.service, at the log level keytrail needs (as the README asks of a host)
        mkdir -p "$root/etc/ssh/sshd_config.d" || return 1
        printf 'LogLevel VERBOSE\nPasswordAuthentication no\n' \
                >"$root/etc/ssh/sshd_config.d/50-keytrail-bed.conf" || return 1
        # host keys of its own (the cached rootfs's were made once by openssh-server's postinst)
        rm -f "$root"/etc/ssh/ssh_host_*
        ssh-keygen -q -A -f "$root" >/dev/null || return 1
        # quiet, quick boots: nothing that waits for a network or a console
        ln -sf /dev/null "$root/etc/systemd/system/console-getty.service"
        ln -sf /dev/null "$root/etc/systemd/system/apt-daily.timer"
        ln -sf /dev/null "$root/etc/systemd/system/apt-daily-upgrade.timer"
        return 0
}

# ct__exit_trap: ct_stop, then whatever EXIT trap the caller had before ct_boot
ct__exit_trap() {
        local rc=$?
        ct_stop
        if [ -n "$CT_PREV_EXIT_TRAP" ]; then
                (exit "$rc")
                eval "$CT_PREV_EXIT_TRAP"
        fi
}

ct__install_trap() {
        local prev
        prev=$(trap -p EXIT)
        if [ -n "$prev" ]; then
                eval "set -- $prev"          # trap -- 'CMD' EXIT
                [ "$3" != ct__exit_trap ] && CT_PREV_EXIT_TRAP=$3
        fi
        trap ct__exit_trap EXIT
        # without a handler, a signal would end the shell without running the EXIT trap
        [ -n "$(trap -p INT)" ] || trap 'exit 130' INT
        [ -n "$(trap -p TERM)" ] || trap 'exit 143' TERM
        [ -n "$(trap -p HUP)" ] || trap 'exit 129' HUP
}

# ct_boot: copy the rootfs, set it up, boot it, wait until systemd says running or degraded
ct_boot() {
        local i st pid
        [ -n "$CT_TMP" ] && ct_stop
        ct_rootfs_ensure || return 1
        command -v systemd-nspawn >/dev/null || { ct_err "systemd-nspawn missing (package systemd-container)"; return 1; }
        command -v nsenter >/dev/null || { ct_err "nsenter missing (package util-linux)"; return 1; }
        ct__install_trap
        CT_TMP=$(mktemp -d /tmp/kt-ct.XXXXXX) || { ct_err "mktemp failed"; return 1; }
        CT_MACHINE=kt-ct-${CT_TMP##*.}
        CT_ROOT=$CT_TMP/$CT_MACHINE
        cp -a "$CT_ROOTFS" "$CT_ROOT" || { ct_err "cannot copy $CT_ROOTFS to $CT_ROOT"; return 1; }
        ct__setup "$CT_ROOT" || { ct_err "cannot set up the copy $CT_ROOT"; return 1; }
        systemd-nspawn -D "$CT_ROOT" --boot --register=no --keep-unit --private-network \
                --machine="$CT_MACHINE" --console=read-only \
                </dev/null >"$CT_TMP/nspawn.log" 2>&1 &
        CT_NSPAWN_PID=$!
        # PID 1 of the container: the child of systemd-nspawn once it runs systemd
        for ((i = 0; i < CT_BOOT_TIMEOUT * 10; i++)); do
                kill -0 "$CT_NSPAWN_PID" 2>/dev/null || break
                for pid in $(pgrep -P "$CT_NSPAWN_PID"); do
                        [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = systemd ] && CT_PID=$pid
                done
                [ -n "$CT_PID" ] && break
                sleep 0.1
        done
        if [ -z "$CT_PID" ]; then
                ct_err "systemd-nspawn did not start the container: $(tail -n1 "$CT_TMP/nspawn.log")"
                return 1
        fi
        for ((; i < CT_BOOT_TIMEOUT * 10; i++)); do
                kill -0 "$CT_NSPAWN_PID" 2>/dev/null || break
                st=$(ct_exec systemctl is-system-running 2>/dev/null) || true
                case $st in
                running | degraded) return 0 ;;
                initializing | starting | offline | unknown | "") ;;
                *) break ;;
                esac
                sleep 0.1
        done
        ct_err "the container did not boot (state '${st:-none}'): $(tail -n1 "$CT_TMP/nspawn.log")"
        return 1
}

# ct_exec CMD...: run CMD inside the container (all its namespaces)
ct_exec() {
        [ -n "$CT_PID" ] || { ct_err "ct_exec: no container"; return 1; }
        nsenter -t "$CT_PID" -a -- "$@"
}

# ct_install BUILD_DIR: install a build into the container (configure BUILD_DIR with --prefix=/usr
# for the system's paths), then let its systemd see new units
ct_install() {
        local build=$1
        [ -n "$CT_ROOT" ] || { ct_err "ct_install: no container"; return 1; }
        DESTDIR=$CT_ROOT meson install -C "$build" --no-rebuild --quiet >/dev/null ||
                { ct_err "meson install of $build into $CT_ROOT failed"; return 1; }
        ct_exec systemctl daemon-reload || { ct_err "daemon-reload failed"; return 1; }
}

# ct_add_user NAME: an account with a UID above 1000 (its own group), password field '*' (a usable
# account: sshd refuses locked '!' accounts under UsePAM), and ~/.ssh with mode 700
ct_add_user() {
        local name=$1
        [ -n "$CT_PID" ] || { ct_err "ct_add_user: no container"; return 1; }
        ct_exec useradd -m -s /bin/sh -U -K UID_MIN=1001 -K GID_MIN=1001 -p '*' "$name" ||
                { ct_err "useradd $name failed"; return 1; }
        ct_exec install -d -m 700 -o "$name" -g "$name" "/home/$name/.ssh" ||
                { ct_err "cannot create /home/$name/.ssh"; return 1; }
}

# ct_stop: power the container off (systemd's SIGRTMIN+4), wait for systemd-nspawn to exit (kill
# it after 60 s), remove the copy. Does nothing without a container.
ct_stop() {
        local i
        if [ -n "$CT_NSPAWN_PID" ] && kill -0 "$CT_NSPAWN_PID" 2>/dev/null; then
                if [ -n "$CT_PID" ]; then kill -s SIGRTMIN+4 "$CT_PID" 2>/dev/null || true; fi
                for ((i = 0; i < 600; i++)); do
                        kill -0 "$CT_NSPAWN_PID" 2>/dev/null || break
                        sleep 0.1
                done
                if kill -0 "$CT_NSPAWN_PID" 2>/dev/null; then
                        ct_err "the container did not power off in 60 s; killing it"
                        if [ -n "$CT_PID" ]; then kill -KILL "$CT_PID" 2>/dev/null || true; fi
                        sleep 1
                        kill -KILL "$CT_NSPAWN_PID" 2>/dev/null || true
                fi
        fi
        if [ -n "$CT_NSPAWN_PID" ]; then wait "$CT_NSPAWN_PID" 2>/dev/null || true; fi
        case $CT_TMP in
        /tmp/kt-ct.?*) rm -rf --one-file-system "$CT_TMP" || ct_err "cannot remove $CT_TMP" ;;
        esac
        CT_TMP= CT_ROOT= CT_PID= CT_NSPAWN_PID= CT_MACHINE=
        return 0
}
