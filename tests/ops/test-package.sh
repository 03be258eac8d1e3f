#!/bin/bash
# SPDX-License-Identifier: MIT
# The Debian package, for real: `dpkg-buildpackage -b -us -uc` on a copy of the source tree,
# `lintian` with no error, then in a booted Debian 12 container (tests/container/lib.sh, systemd as
# PID 1): install (the service account, the first baseline, keytrail.service enabled and running,
# an alert from the running service into the journal), upgrade (the service restarted, the
# baseline kept), remove and purge (nothing left behind), and a purge straight from installed.
#   test-package.sh SOURCE_DIR          TAP on stdout
set -u
src=$(cd "$1" && pwd)
if [ "$(id -u)" != 0 ]; then
        echo "1..0 # SKIP needs root (a booted container)"
        exit 0
fi
for t in dpkg-buildpackage dh lintian systemd-nspawn nsenter git; do
        command -v "$t" >/dev/null || { echo "1..0 # SKIP $t is missing"; exit 0; }
done
. "$src/tests/container/lib.sh"
. "$src/tests/ops/tap-lib.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- build ----------------------------------------------------------------------------------------
mkdir "$tmp/src"
git -C "$src" ls-files -z --cached | (cd "$src" && xargs -0 cp --parents -a -t "$tmp/src") ||
        bail "cannot copy the source tree"
(cd "$tmp/src" && dpkg-buildpackage -b -us -uc) >"$tmp/build.log" 2>&1
rc=$?
deb=$(ls "$tmp"/keytrail_*_*.deb 2>/dev/null | head -1)
if [ $rc = 0 ] && [ -n "$deb" ]; then ok "dpkg-buildpackage -b -us -uc builds $(basename "$deb")"; else
        tail -30 "$tmp/build.log" >"$tmp/why"
        not_ok "dpkg-buildpackage -b -us -uc ($rc)" "$tmp/why"
        tap_done
        exit 1
fi
lintian --fail-on error "$tmp"/keytrail_*.changes >"$tmp/lintian" 2>&1
rc=$?
if [ $rc = 0 ] && ! grep -q '^E: ' "$tmp/lintian"; then ok "lintian: no error ($(grep -c '^[WI]: ' "$tmp/lintian") warnings and notes)"; else
        not_ok "lintian reports errors ($rc)" "$tmp/lintian"; fi

dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$tmp/contents"
missing=""
for f in /usr/bin/keytrail /usr/bin/keytrail-gate /usr/share/keytrail/rules/sshd.rules \
        /usr/share/keytrail/rules/wrappers.rules /lib/systemd/system/keytrail.service \
        /usr/share/man/man1/keytrail.1.gz /usr/share/man/man1/keytrail-gate.1.gz \
        /usr/share/man/man5/keytrail-baseline.5.gz /usr/share/man/man5/keytrail-rules.5.gz \
        /usr/share/man/man7/keytrail-alerts.7.gz /usr/share/bash-completion/completions/keytrail \
        /usr/share/bash-completion/completions/keytrail-gate /usr/share/doc/keytrail/copyright; do
        grep -qx -- "$f" "$tmp/contents" || missing+=" $f"
done
[ -z "$missing" ] && ok "the package holds both programs, the rules, the unit, the man pages, completion" ||
        not_ok "missing from the package:$missing" "$tmp/contents"

# The upgrade: the same package under a higher version (its maintainer scripts run as an upgrade).
dpkg-deb -R "$deb" "$tmp/up" || bail "dpkg-deb -R"
ver=$(dpkg-deb -f "$deb" Version)
sed -i "s/^Version: .*/Version: $ver+upgrade1/" "$tmp/up/DEBIAN/control"
dpkg-deb -b --root-owner-group "$tmp/up" "$tmp/keytrail_up.deb" >/dev/null || bail "dpkg-deb -b"

# ---- install in a booted Debian 12 --------------------------------------------------------------
ct_boot || bail "the container did not boot"
cp "$deb" "$CT_ROOT/root/keytrail.deb"
cp "$tmp/keytrail_up.deb" "$CT_ROOT/root/keytrail_up.deb"
user=ktpkg$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
ct_add_user "$user" || bail "ct_add_user"
ssh-keygen -q -t ed25519 -N '' -C pkg -f "$tmp/k" || bail "ssh-keygen"
cp "$tmp/k.pub" "$CT_ROOT/home/$user/.ssh/authorized_keys"
ct_exec chown "$user" "/home/$user/.ssh/authorized_keys"

# active UNIT: wait up to 20 s for systemctl is-active to say active
active() {
        local i
        for ((i = 0; i < 200; i++)); do
                [ "$(ct_exec systemctl is-active "$1" 2>/dev/null)" = active ] && return 0
                sleep 0.1
        done
        return 1
}

ct_exec dpkg -i /root/keytrail.deb >"$tmp/out" 2>&1
rc=$?
[ $rc = 0 ] && ok "dpkg -i installs it (no dependency missing on a stock bookworm)" ||
        not_ok "dpkg -i ($rc)" "$tmp/out"
if active keytrail.service && [ "$(ct_exec systemctl is-enabled keytrail.service)" = enabled ]; then
        ok "keytrail.service is enabled and running"
else
        ct_exec systemctl status keytrail.service >"$tmp/status" 2>&1
        ct_exec journalctl -u keytrail.service -n 20 --no-pager >>"$tmp/status" 2>&1
        not_ok "keytrail.service enabled and running" "$tmp/status"
fi
if ct_exec getent passwd keytrail >/dev/null && [ "$(ct_exec stat -c %U /var/lib/keytrail)" = keytrail ] &&
        ct_exec grep -q "^key $user /home/$user/.ssh/authorized_keys:1 $(ssh-keygen -lf "$tmp/k.pub" | cut -d' ' -f2) ED25519 " \
                /var/lib/keytrail/baseline; then
        ok "the service account, its state folder, and the first baseline with the account's key"
else not_ok "account, state folder, baseline" "$tmp/out"; fi
ct_exec test -x /usr/bin/keytrail-gate && ct_exec keytrail --version | grep -q "^keytrail " &&
        ok "keytrail and keytrail-gate run from /usr/bin" || not_ok "the programs run"

# The running service raises an alert: a line that claims to be sshd's, written by logger(1).
mid=bcd06bf9b7284bb295fc006f9981a5fd
ct_exec logger -t sshd \
        "Accepted publickey for root from 192.0.2.7 port 4242 ssh2: ED25519 SHA256:forgedforgedforgedforgedforgedforgedforged"
for ((i = 0; i < 100; i++)); do
        ct_exec journalctl MESSAGE_ID=$mid -o json --no-pager >"$tmp/alerts" 2>/dev/null
        grep -q spoofed-entry "$tmp/alerts" && break
        sleep 0.2
done
grep -q spoofed-entry "$tmp/alerts" && ok "the service writes the spoofed-entry alert of a forged line into the journal" ||
        { ct_exec journalctl -u keytrail.service -n 20 --no-pager >"$tmp/why" 2>&1; not_ok "an alert from the service" "$tmp/why"; }

ct_exec keytrail doctor --format json >"$tmp/doctor" 2>&1
jq -s -e 'map(select(.check == "unit" or .check == "baseline" or .check == "rules")) | length == 3 and all(.status == "ok")' \
        "$tmp/doctor" >/dev/null && ok "keytrail doctor: the unit, the baseline and the rules are ok" ||
        not_ok "doctor after install" "$tmp/doctor"

# ---- upgrade ---------------------------------------------------------------------------------------
pid1=$(ct_exec systemctl show -P MainPID keytrail.service)
ct_exec sh -c 'echo "# kept" >> /var/lib/keytrail/baseline'
ct_exec dpkg -i /root/keytrail_up.deb >"$tmp/out" 2>&1
rc=$?
[ $rc = 0 ] && [ "$(ct_exec dpkg-query -W -f '${Version}' keytrail)" = "$ver+upgrade1" ] &&
        ok "dpkg -i upgrades it to $ver+upgrade1" || not_ok "upgrade ($rc)" "$tmp/out"
pid2=$(ct_exec systemctl show -P MainPID keytrail.service)
if active keytrail.service && [ "$pid2" != 0 ] && [ "$pid2" != "$pid1" ]; then
        ok "the service was restarted by the upgrade and runs (pid $pid1 -> $pid2)"
else not_ok "restart on upgrade ($pid1 -> $pid2)"; fi
ct_exec grep -qx "# kept" /var/lib/keytrail/baseline && ok "the baseline survives the upgrade" ||
        not_ok "the baseline survives the upgrade"

# ---- remove, purge -----------------------------------------------------------------------------------
ct_exec dpkg -r keytrail >"$tmp/out" 2>&1
rc=$?
if [ $rc = 0 ] && ! ct_exec test -e /usr/bin/keytrail && [ "$(ct_exec systemctl is-active keytrail.service)" != active ] &&
        ct_exec test -e /var/lib/keytrail/baseline; then
        ok "dpkg -r: the service stopped, the programs gone, the baseline kept"
else not_ok "dpkg -r ($rc)" "$tmp/out"; fi
ct_exec dpkg -P keytrail >"$tmp/out" 2>&1
rc=$?
left=$(ct_exec sh -c 'ls -d /var/lib/keytrail /var/log/keytrail /lib/systemd/system/keytrail.service /etc/systemd/system/multi-user.target.wants/keytrail.service /usr/share/keytrail /usr/share/man/man1/keytrail.1.gz 2>/dev/null')
if [ $rc = 0 ] && [ -z "$left" ] && ! ct_exec dpkg -s keytrail >/dev/null 2>&1; then
        ok "dpkg -P: nothing left (state, unit, enablement link, rules, man pages)"
else echo "left: $left" >>"$tmp/out"; not_ok "dpkg -P ($rc)" "$tmp/out"; fi

ct_exec dpkg -i /root/keytrail.deb >"$tmp/out" 2>&1 && active keytrail.service &&
        ct_exec dpkg -P keytrail >>"$tmp/out" 2>&1 && ! ct_exec test -e /var/lib/keytrail &&
        [ "$(ct_exec systemctl is-active keytrail.service)" != active ] &&
        ok "installed again, then purged straight away: stopped, nothing left" ||
        not_ok "install then purge" "$tmp/out"
[ "$(ct_exec systemctl is-system-running)" != degraded ] || ct_exec systemctl --failed --no-legend >"$tmp/failed"
[ ! -s "$tmp/failed" ] && ok "no failed unit in the container afterwards" || not_ok "failed units" "$tmp/failed"

tap_done
