#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Write a synthetic journal in the journal export format (text form) for keytrail's benchmark.

About half of the entries are sshd's (OpenSSH 9.2p1 on Debian 12 at LogLevel VERBOSE, UsePAM yes):
interleaved public-key connections (rsync pushes and pulls behind forced commands, root rsync
without a user child, admin shells, commands, sftp, multiplexed sessions), internet scanners, the
listener's start/stop lines, and a few anomalies. The other half is noise from other services
(cron, kernel, systemd, systemd-logind, postfix, an application on stdout) with varied field sets.
Trusted fields are set as journald sets them (see the appendix of openssh-log-formats.md).

Deterministic for a given --seed and --entries. Standard library only.

Usage:
  gen-export.py [--entries N] [--seed S] [--shape full|lean] [--keys-dir DIR] [--output FILE|-]

--shape lean writes the same entries (same seed, same connections, same anomalies) with fewer
fields each: the ones a minimal journald, or a journal-remote upload from a host without systemd's
cgroup and audit bookkeeping, records (no _CMDLINE, _CAP_EFFECTIVE, _SYSTEMD_*, _AUDIT_*,
SYSLOG_TIMESTAMP, CODE_*, ...). sshd's entries keep 14 fields instead of 21 to 25: the ones keytrail
reads. --shape full (the default) is unchanged.

--keys-dir DIR receives:
  DIR/USER.authorized_keys   the baseline authorized_keys file of each account
  DIR/baseline.args          one "USER:PATH" per line (absolute paths), for --authorized-keys
  DIR/anomalies.txt          the anomalies injected: type, user, fingerprint, source port, time

Pipe the output into:  /lib/systemd/systemd-journal-remote --split-mode=none -o OUT.journal -
"""

import argparse
import base64
import fcntl
import hashlib
import heapq
import math
import os
import random
import stat
import struct
import sys
import time

HOST = "bastion"
SERVER_IP = "10.0.0.4"
START_REALTIME = 1795996800 * 1000000    # 2026-11-30 00:00:00 UTC, in microseconds
SSHD_EXE = "/usr/sbin/sshd"
# --shape lean drops these fields from every entry (see the usage above)
LEAN_DROP = frozenset((
        "SYSLOG_TIMESTAMP", "_CMDLINE", "_CAP_EFFECTIVE", "_SYSTEMD_CGROUP", "_SYSTEMD_UNIT",
        "_SYSTEMD_SLICE", "_SYSTEMD_INVOCATION_ID", "_SYSTEMD_OWNER_UID", "_SYSTEMD_SESSION",
        "_SYSTEMD_USER_SLICE", "_AUDIT_SESSION", "_AUDIT_LOGINUID", "_STREAM_ID", "CODE_FILE",
        "CODE_LINE", "CODE_FUNC", "JOB_TYPE", "JOB_RESULT", "JOB_ID", "INVOCATION_ID", "UNIT",
        "_SOURCE_MONOTONIC_TIMESTAMP"))
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Accounts: name -> (uid, gid, home)
ACCOUNTS = {
        "root": (0, 0, "/root"),
        "alice": (1000, 1000, "/home/alice"),
        "backup": (1001, 1001, "/home/backup"),
        "mirror": (1002, 1002, "/home/mirror"),
        "bob": (1003, 1003, "/home/bob"),
        "deploy": (1004, 1004, "/home/deploy"),
}

RSYNC_PUSH_OPTS = "-vlogDtprze.iLsfxCIvu"
RSYNC_PULL_OPTS = "-vlogDtprze.iLsfxCIvu"


# ---------------------------------------------------------------------------------------------
# SSH wire format keys and fingerprints

def ssh_string(b):
    return struct.pack(">I", len(b)) + b


def ssh_mpint(n):
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    if b and b[0] & 0x80:
        b = b"\0" + b
    return ssh_string(b)


def make_ed25519(rng):
    return ssh_string(b"ssh-ed25519") + ssh_string(rng.randbytes(32))


def make_rsa(rng, bits=3072):
    n = rng.getrandbits(bits) | (1 << (bits - 1)) | 1
    return ssh_string(b"ssh-rsa") + ssh_mpint(65537) + ssh_mpint(n)


def fingerprint(blob):
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


class Key:
    def __init__(self, rng, user, comment, kind="ed25519", command=None, options=None):
        self.blob = make_rsa(rng) if kind == "rsa" else make_ed25519(rng)
        self.keytype = "ssh-rsa" if kind == "rsa" else "ssh-ed25519"
        self.logtype = "RSA" if kind == "rsa" else "ED25519"
        self.fp = fingerprint(self.blob)
        self.user = user
        self.comment = comment
        self.command = command
        self.options = options or []
        self.line = 0           # line in the user's authorized_keys, set by the baseline
        self.client_ip = None

    def authorized_keys_line(self):
        opts = []
        if self.command is not None:
            opts.append('command="%s"' % self.command.replace('"', '\\"'))
        opts += self.options
        b64 = base64.b64encode(self.blob).decode()
        s = "%s %s %s" % (self.keytype, b64, self.comment)
        return (",".join(opts) + " " + s) if opts else s


# ---------------------------------------------------------------------------------------------
# The generator

class Gen:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.heap = []
        self.counter = 0
        self.emitted = 0
        self.sshd_lines = 0
        self.noise_lines = 0
        self.live_pids = set()
        self.next_pid = 2000
        self.pid_max = args.pid_max
        self.session_no = 0
        self.machine_id = "%032x" % self.rng.getrandbits(128)
        self.boot_id = None
        self.boot_realtime = 0
        self.out = []
        self.out_bytes = 0
        self.anomalies = []
        self.pending_anomalies = []
        self.make_keys()
        self.static_pids = {}

    # ---- keys and baseline ------------------------------------------------------------
    def make_keys(self):
        rng = self.rng
        self.keys = {u: [] for u in ACCOUNTS}
        # backup: pushes from 16 hosts, each key fenced to its own target directory
        for i in range(16):
            k = Key(rng, "backup", "backup@host%02d" % i,
                    command="rsync --server %s --delete . /srv/backup/host%02d" %
                    (RSYNC_PUSH_OPTS, i),
                    options=["no-pty", "no-agent-forwarding", "no-port-forwarding",
                             "no-X11-forwarding"])
            k.client_ip = "10.0.1.%d" % (10 + i)
            self.keys["backup"].append(k)
        # one backup key with a long command: its "Starting session" line is cut at 500 bytes
        excl = " ".join("--exclude=/var/cache/app%02d/tmp/*" % j for j in range(16))
        k = Key(rng, "backup", "backup@bigdb", command="rsync --server %s --delete "
                "--numeric-ids %s . /srv/backup/bigdb" % (RSYNC_PUSH_OPTS, excl),
                options=["restrict"])
        k.client_ip = "10.0.1.99"
        self.keys["backup"].append(k)
        # mirror: pulls, restrict + from=
        for i in range(10):
            k = Key(rng, "mirror", "mirror-pull@site%d" % i,
                    command="rsync --server --sender %s . /srv/mirror/" %
                    RSYNC_PULL_OPTS,
                    options=["restrict", 'from="192.0.2.0/24,198.51.100.0/24"'])
            k.client_ip = "192.0.2.%d" % (20 + i) if i < 6 else \
                    "198.51.100.%d" % (40 + i)
            self.keys["mirror"].append(k)
        # root: two fenced rsync keys (PermitRootLogin forced-commands-only)
        for i in range(2):
            k = Key(rng, "root", "root-backup@vault%d" % i,
                    command="rsync --server --sender %s --numeric-ids . /" %
                    RSYNC_PULL_OPTS, options=["restrict", 'from="10.0.2.0/24"'])
            k.client_ip = "10.0.2.%d" % (5 + i)
            self.keys["root"].append(k)
        # admins: unrestricted keys, ed25519 and RSA
        for u, n in (("alice", 3), ("bob", 3)):
            for i in range(n):
                kind = "rsa" if (u == "bob" and i == 0) else "ed25519"
                k = Key(rng, u, "%s@laptop%d" % (u, i), kind=kind)
                k.client_ip = "10.0.0.%d" % (50 + len(self.keys[u]) +
                                             (0 if u == "alice" else 10))
                self.keys[u].append(k)
        # deploy: a forced hook, only from the CI network
        for i in range(3):
            k = Key(rng, "deploy", "ci-runner%d" % i,
                    command="/usr/local/bin/deploy-hook --site www%d" % i,
                    options=["restrict", 'from="10.0.3.0/24"'])
            k.client_ip = "10.0.3.%d" % (10 + i)
            self.keys["deploy"].append(k)
        for u, ks in self.keys.items():
            for i, k in enumerate(ks):
                k.line = i + 2          # line 1 is a comment
        # keys that are not in the baseline
        self.intruder_key = Key(rng, "backup", "intruder@evil")
        self.stray_key = Key(rng, "mirror", "stray")
        self.all_forced = [k for ks in self.keys.values() for k in ks
                           if k.command is not None]

    def write_baseline(self, d):
        os.makedirs(d, exist_ok=True)
        args = []
        for u, ks in self.keys.items():
            path = os.path.abspath(os.path.join(d, "%s.authorized_keys" % u))
            with open(path, "w") as f:
                f.write("# %s: keytrail benchmark baseline (synthetic keys)\n" % u)
                for k in ks:
                    f.write(k.authorized_keys_line() + "\n")
            args.append("%s:%s" % (u, path))
        with open(os.path.join(d, "baseline.args"), "w") as f:
            f.write("\n".join(args) + "\n")

    def write_anomalies(self, d):
        with open(os.path.join(d, "anomalies.txt"), "w") as f:
            f.write("# type user fingerprint source_port time_us note\n")
            for a in self.anomalies:
                f.write(" ".join(str(x) for x in a) + "\n")

    # ---- PIDs -------------------------------------------------------------------------
    def alloc_pid(self, n=1):
        """Allocate n consecutive-ish PIDs the way the kernel does (wrapping at pid_max)."""
        pids = []
        while len(pids) < n:
            p = self.next_pid
            self.next_pid += 1
            if self.next_pid >= self.pid_max:
                self.next_pid = 300
            if p in self.live_pids:
                continue
            pids.append(p)
        return pids

    # ---- scheduling -------------------------------------------------------------------
    def push(self, t, text, sshd):
        self.counter += 1
        heapq.heappush(self.heap, (t, self.counter, text, sshd))

    def syslog_ts(self, t):
        tm = time.gmtime(t // 1000000)
        return "%s %2d %02d:%02d:%02d" % (MONTHS[tm.tm_mon - 1], tm.tm_mday, tm.tm_hour,
                                          tm.tm_min, tm.tm_sec)

    @staticmethod
    def lean(text):
        return "".join(f + "\n" for f in text.split("\n")
                       if f and f.partition("=")[0] not in LEAN_DROP)

    def emit(self, t, text):
        mono = t - self.boot_realtime + self.boot_mono0
        if self.args.shape == "lean":
            text = self.lean(text)
        s = "__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n_BOOT_ID=%s\n%s\n" % (
                t, mono, self.boot_id, text)
        self.out.append(s)
        self.emitted += 1
        if len(self.out) >= 512:
            self.flush()

    def flush(self):
        """Write the buffered entries, in turn to each output (several journal-remote
        processes can then ingest in parallel; sd-journal merges their files by time)."""
        if self.out:
            self.fhs[self.turn].write("".join(self.out).encode())
            self.turn = (self.turn + 1) % len(self.fhs)
            self.out = []

    def drain_until(self, t_limit):
        h = self.heap
        while h and h[0][0] <= t_limit:
            t, _, text, sshd = heapq.heappop(h)
            self.emit(t, text)

    # ---- common field blocks ----------------------------------------------------------
    def common_tail(self, transport):
        return "_MACHINE_ID=%s\n_HOSTNAME=%s\n_TRANSPORT=%s\n" % (self.machine_id, HOST,
                                                                transport)

    def syslog_entry(self, t, prio, fac, ident, pid, msg, proc):
        """proc: the trusted block (_PID.._SYSTEMD_*) of the sender, pre-formatted."""
        return ("PRIORITY=%d\nSYSLOG_FACILITY=%d\nSYSLOG_IDENTIFIER=%s\nSYSLOG_PID=%d\n"
                "SYSLOG_TIMESTAMP=%s \nMESSAGE=%s\n%s%s" % (
                        prio, fac, ident, pid, self.syslog_ts(t), msg, proc,
                        self.tail_syslog))

    @staticmethod
    def proc_block(pid, uid, gid, comm, exe, cmdline, cgroup, unit, slice_, extra=""):
        s = "_PID=%d\n_UID=%d\n_GID=%d\n_COMM=%s\n" % (pid, uid, gid, comm)
        if exe is not None:
            s += "_EXE=%s\n" % exe
        if cmdline is not None:
            s += "_CMDLINE=%s\n" % cmdline
        s += "_CAP_EFFECTIVE=%s\n" % ("1ffffffffff" if uid == 0 else "0")
        s += extra
        s += "_SYSTEMD_CGROUP=%s\n_SYSTEMD_UNIT=%s\n_SYSTEMD_SLICE=%s\n" % (cgroup, unit,
                                                                            slice_)
        return s

    def new_boot(self, t):
        self.boot_id = "%032x" % self.rng.getrandbits(128)
        self.boot_realtime = t
        self.boot_mono0 = self.rng.randint(3000000, 9000000)
        self.tail_syslog = self.common_tail("syslog")
        self.tail_journal = self.common_tail("journal")
        self.tail_kernel = self.common_tail("kernel")
        self.tail_stdout = self.common_tail("stdout")
        self.ssh_invocation = "%032x" % self.rng.getrandbits(128)
        self.listener_pid = self.rng.randint(600, 900)
        self.logind_pid = self.rng.randint(400, 599)
        self.cron_pid = self.rng.randint(901, 999)
        self.live_pids |= {1, self.listener_pid, self.logind_pid, self.cron_pid}
        self.next_pid = 2000
        self.audit_session = 0
        self.push(t, self.kernel_entry(t, 5, "Linux version 6.1.0-28-amd64 "
                                       "(debian-kernel@lists.debian.org) (gcc-12 (Debian "
                                       "12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) "
                                       "2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 "
                                       "(2024-11-22)"), False)
        self.push(t + 1200000, self.systemd_entry(
                t + 1200000, "Starting ssh.service - OpenBSD Secure Shell server...",
                "ssh.service", None, None), False)
        lb = self.listener_block(True)
        for i, m in enumerate(("Server listening on 0.0.0.0 port 22.",
                               "Server listening on :: port 22.")):
            tt = t + 1300000 + i * 50
            self.push(tt, self.syslog_entry(tt, 6, 4, "sshd", self.listener_pid, m, lb),
                      True)
        self.push(t + 1400000, self.systemd_entry(
                t + 1400000, "Started ssh.service - OpenBSD Secure Shell server.",
                "ssh.service", "39f53479d3a045ac8e11786248231fbf", "done"), False)

    def listener_block(self, with_exe):
        return self.proc_block(
                self.listener_pid, 0, 0, "sshd", SSHD_EXE if with_exe else None,
                "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"
                if with_exe else None,
                "/system.slice/ssh.service", "ssh.service", "system.slice",
                "_SYSTEMD_INVOCATION_ID=%s\n" % self.ssh_invocation)

    def shutdown(self, t):
        self.push(t, self.syslog_entry(t, 6, 4, "sshd", self.listener_pid,
                                       "Received signal 15; terminating.",
                                       self.listener_block(False)), True)
        self.push(t + 20000, self.systemd_entry(
                t + 20000, "ssh.service: Deactivated successfully.", "ssh.service",
                "7ad2d189f7e94e70a38c781354912448", None), False)
        self.drain_until(t + 10**9)
        self.live_pids.clear()

    # ---- sshd -------------------------------------------------------------------------
    def ssh_blocks(self, user, mpid, upid, sess, pty):
        """Trusted blocks for the monitor before and after PAM moves it into the session
        scope, and for the user child (with and without _EXE: exiting process)."""
        uid, gid, _ = ACCOUNTS[user]
        svc = ("/system.slice/ssh.service", "ssh.service", "system.slice",
               "_SYSTEMD_INVOCATION_ID=%s\n" % self.ssh_invocation)
        scope = ("/user.slice/user-%d.slice/session-%d.scope" % (uid, sess),
                 "session-%d.scope" % sess, "user-%d.slice" % uid)
        audit = "_AUDIT_SESSION=%d\n_AUDIT_LOGINUID=%d\n" % (sess, uid)
        owner = "_SYSTEMD_OWNER_UID=%d\n_SYSTEMD_SESSION=%d\n_SYSTEMD_USER_SLICE=-.slice\n" \
                % (uid, sess)
        m_pre = self.proc_block(mpid, 0, 0, "sshd", SSHD_EXE, "sshd: [accepted]",
                                svc[0], svc[1], svc[2], svc[3])
        m_post = self.proc_block(mpid, 0, 0, "sshd", SSHD_EXE, "sshd: %s [priv]" % user,
                                 scope[0], scope[1], scope[2], audit + owner)
        tty = "pts/%d" % pty if pty is not None else "notty"
        ucmd = "sshd: %s@%s" % (user, tty)
        u = self.proc_block(upid, uid, gid, "sshd", SSHD_EXE, ucmd, scope[0], scope[1],
                            scope[2], audit + owner)
        u_gone = self.proc_block(upid, uid, gid, "sshd", None, None, scope[0], scope[1],
                                 scope[2], audit + owner)
        return m_pre, m_post, u, u_gone

    def new_session_no(self):
        self.session_no += 1
        return self.session_no

    def logind_entry(self, t, msg, mid):
        blk = self.proc_block(self.logind_pid, 0, 0, "systemd-logind",
                              "/usr/lib/systemd/systemd-logind",
                              "/lib/systemd/systemd-logind",
                              "/system.slice/systemd-logind.service",
                              "systemd-logind.service", "system.slice")
        return ("PRIORITY=6\nSYSLOG_FACILITY=4\nSYSLOG_IDENTIFIER=systemd-logind\n"
                "CODE_FILE=src/login/logind-session.c\nCODE_LINE=%d\nCODE_FUNC=%s\n"
                "MESSAGE_ID=%s\nMESSAGE=%s\n%s%s" % (
                        771 if "New" in msg else 1290,
                        "session_start" if "New" in msg else "session_finalize",
                        mid, msg, blk, self.tail_journal))

    def ssh_connection(self, t, kind, key=None, anomaly=None):
        """Schedule one sshd connection starting at t. Returns its end time."""
        rng = self.rng
        user = key.user if key is not None else None
        ip = key.client_ip if key is not None else None
        port = rng.randint(32768, 60999)
        mpid, ppid, upid, spid = self.alloc_pid(4)
        pids = {mpid, ppid, upid, spid}
        self.live_pids |= pids
        lines = []          # (dt_us, text, is_sshd)

        if kind == "scanner":
            return self.scanner(t, mpid, port, pids)

        as_user = anomaly[1] if anomaly and anomaly[0] == "wrong-user" else user
        sess = self.new_session_no()
        root = as_user == "root"
        pty = None
        if kind == "shell" or (anomaly and anomaly[0] in ("unforced-session",
                                                          "unknown-key")):
            pty = rng.randint(0, 12)
        m_pre, m_post, ublk, ugone = self.ssh_blocks(as_user, mpid, upid, sess, pty)
        if root:
            # OpenSSH <= 9.7: root has no user child, the session runs in the monitor
            upid = mpid
            ublk = self.proc_block(mpid, 0, 0, "sshd", SSHD_EXE, "sshd: root@notty",
                                   *self.scope_parts(0, sess))
            ugone = self.proc_block(mpid, 0, 0, "sshd", None, None,
                                    *self.scope_parts(0, sess))

        uid = ACCOUNTS[as_user][0]
        akfile = "%s/.ssh/authorized_keys" % ACCOUNTS[as_user][2]
        line = key.line
        if anomaly and anomaly[0] == "unknown-key":
            line = len(self.keys[as_user]) + 2
        if anomaly and anomaly[0] == "wrong-user":
            line = len(self.keys[as_user]) + 2
        found = "Accepted key %s %s found at %s:%d" % (key.logtype, key.fp, akfile, line)
        dt = 0

        def M(delta, msg, blk=None, prio=6):
            nonlocal dt
            dt += delta
            lines.append((dt, self.syslog_entry(t + dt, prio, 4, "sshd", mpid, msg,
                                                blk or m_pre), True))

        def U(delta, msg, gone=False, prio=6):
            nonlocal dt
            dt += delta
            lines.append((dt, self.syslog_entry(t + dt, prio, 4, "sshd", upid, msg,
                                                ugone if gone else ublk), True))

        def N(delta, text):
            nonlocal dt
            dt += delta
            lines.append((dt, text, False))

        M(0, 'Connection from %s port %d on %s port 22 rdomain ""' % (ip, port, SERVER_IP))
        if anomaly and anomaly[0] == "source-refused":
            M(rng.randint(3000, 9000),
              "%s:%d: Authentication tried for %s with correct key but not from a "
              "permitted host (host=%s, ip=%s, required=10.0.3.0/24)." %
              (akfile, line, as_user, ip, ip))
            M(40, "error: Refused by key options", prio=3)
            M(300, "Failed publickey for %s from %s port %d ssh2: %s %s" %
              (as_user, ip, port, key.logtype, key.fp))
            M(rng.randint(2000, 30000), "Connection closed by authenticating user %s "
              "%s port %d [preauth]" % (as_user, ip, port))
            self.anomalies.append((anomaly[0], as_user, key.fp, port, t, anomaly[2]))
            return self.finish(t, lines, pids)

        M(rng.randint(3000, 9000), found)
        M(rng.randint(200, 900), "Postponed publickey for %s from %s port %d ssh2 [preauth]"
          % (as_user, ip, port))
        M(rng.randint(1000, 4000), found)
        M(rng.randint(100, 500), "Accepted publickey for %s from %s port %d ssh2: %s %s" %
          (as_user, ip, port, key.logtype, key.fp))
        M(rng.randint(2000, 6000), "pam_unix(sshd:session): session opened for user "
          "%s(uid=%d) by (uid=0)" % (as_user, uid))
        N(rng.randint(500, 2000), self.logind_entry(
                t + dt, "New session %d of user %s." % (sess, as_user),
                "8d45620c1a4348dbb17410da57c60c66"))
        N(rng.randint(200, 900), self.systemd_entry(
                t + dt, "Started session-%d.scope - Session %d of User %s." %
                (sess, sess, as_user), "session-%d.scope" % sess,
                "39f53479d3a045ac8e11786248231fbf", "done"))
        if not root:
            M(rng.randint(1000, 3000), "User child is on pid %d" % upid)

        # the sessions
        def start(sid, what):
            # sshd hands syslog at most 500 bytes ("%.500s"): long commands lose the tail
            U(rng.randint(800, 3000), ("Starting session: %s for %s from %s port %d id %d"
                                       % (what, as_user, ip, port, sid))[:500])

        def close(sid, after):
            U(after, "Close session: user %s from %s port %d id %d" %
              (as_user, ip, port, sid))

        tty = (" on pts/%d" % pty) if pty is not None else ""
        atype = anomaly[0] if anomaly else None
        if atype == "no-session":
            dur = rng.randint(120, 900) * 1000000
            U(rng.randint(2000, 60000000), "refused local port forward: originator "
              "127.0.0.1 port %d, target 10.0.5.7 port 5432" % rng.randint(40000, 60000))
            dt += dur
        elif atype == "unforced-session":
            start(0, "shell" + tty)
            close(0, rng.randint(30, 600) * 1000000)
        elif atype == "unknown-key":
            start(0, "shell" + tty)
            close(0, rng.randint(30, 600) * 1000000)
        elif atype == "command-mismatch":
            start(0, "forced-command (key-option) 'rsync --server --sender %s . /etc/'"
                  % RSYNC_PULL_OPTS)
            close(0, rng.randint(2, 60) * 1000000)
        elif key.command is not None:
            start(0, "forced-command (key-option) '%s'" % key.command)
            close(0, int(rng.lognormvariate(17.5, 1.2)))     # ~40 s median
        elif kind == "shell":
            start(0, "shell" + tty)
            dur = int(rng.lognormvariate(19.5, 1.0))          # ~5 min median
            if rng.random() < 0.25:     # multiplexed: a few more sessions meanwhile
                nmux = rng.randint(1, 3)
                for sid in range(1, nmux + 1):
                    start(sid, rng.choice(("command", "subsystem 'sftp'",
                                           "shell on pts/%d" % (pty + sid))))
                    close(sid, rng.randint(1, 60) * 1000000)
            close(0, dur)
        elif kind == "command":
            start(0, "command")
            close(0, int(rng.lognormvariate(14.0, 1.5)))
        else:
            start(0, "subsystem 'sftp'")
            close(0, int(rng.lognormvariate(16.0, 1.5)))

        # the end: a client disconnect (usual) or a dropped TCP connection
        if rng.random() < 0.9 or atype == "no-session":
            U(rng.randint(300, 3000), "Received disconnect from %s port %d:11: "
              "disconnected by user" % (ip, port), gone=rng.random() < 0.5)
            U(rng.randint(20, 200), "Disconnected from user %s %s port %d" %
              (as_user, ip, port), gone=rng.random() < 0.7)
        else:
            U(rng.randint(300, 3000), "Connection closed by %s port %d" % (ip, port))
            U(rng.randint(20, 200), "Transferred: sent %d, received %d bytes" %
              (rng.randint(3000, 10**7), rng.randint(3000, 10**6)))
            U(rng.randint(20, 200), "Closing connection to %s port %d" % (ip, port),
              gone=True)
        M(rng.randint(1000, 5000), "pam_unix(sshd:session): session closed for user %s" %
          as_user, blk=m_post)
        N(rng.randint(500, 3000), self.logind_entry(
                t + dt, "Session %d logged out. Waiting for processes to exit." % sess,
                "3354939424b4456d9802ca8333ed424a"))
        N(rng.randint(5000, 30000), self.systemd_entry(
                t + dt, "session-%d.scope: Deactivated successfully." % sess,
                "session-%d.scope" % sess, "7ad2d189f7e94e70a38c781354912448", None))
        N(rng.randint(200, 900), self.logind_entry(
                t + dt, "Removed session %d." % sess, "3354939424b4456d9802ca8333ed424a"))

        if anomaly:
            self.anomalies.append((atype, as_user, key.fp, port, t, anomaly[2]))
        return self.finish(t, lines, pids)

    def scope_parts(self, uid, sess):
        audit = "_AUDIT_SESSION=%d\n_AUDIT_LOGINUID=%d\n" % (sess, uid)
        owner = "_SYSTEMD_OWNER_UID=%d\n_SYSTEMD_SESSION=%d\n_SYSTEMD_USER_SLICE=-.slice\n" \
                % (uid, sess)
        return ("/user.slice/user-%d.slice/session-%d.scope" % (uid, sess),
                "session-%d.scope" % sess, "user-%d.slice" % uid, audit + owner)

    def finish(self, t, lines, pids):
        for dt, text, sshd in lines:
            self.push(t + dt, text, sshd)
            if sshd:
                self.sshd_lines += 1
            else:
                self.noise_lines += 1
        end = t + lines[-1][0]
        # PIDs are freed when the connection ends; an approximation good enough here
        self.to_free.append((end, pids))
        return end

    def scanner(self, t, mpid, port, pids):
        rng = self.rng
        ip = "%d.%d.%d.%d" % (rng.choice((45, 61, 80, 103, 141, 159, 185, 193, 218)),
                              rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254))
        blk = self.proc_block(mpid, 0, 0, "sshd", SSHD_EXE, "sshd: [accepted]",
                              "/system.slice/ssh.service", "ssh.service", "system.slice",
                              "_SYSTEMD_INVOCATION_ID=%s\n" % self.ssh_invocation)
        blk_net = blk.replace("sshd: [accepted]", "sshd: [net]")
        lines = []
        dt = 0

        def M(delta, msg, b=blk, prio=6):
            nonlocal dt
            dt += delta
            lines.append((dt, self.syslog_entry(t + dt, prio, 4, "sshd", mpid, msg, b),
                          True))

        M(0, 'Connection from %s port %d on %s port 22 rdomain ""' % (ip, port, SERVER_IP))
        r = rng.random()
        if r < 0.45:
            u = rng.choice(("admin", "test", "user", "ubuntu", "oracle", "postgres",
                            "git", "ftpuser", "pi", "guest", "support", "deployer"))
            M(rng.randint(50000, 400000), "Invalid user %s from %s port %d" % (u, ip,
                                                                              port))
            if rng.random() < 0.5:
                M(rng.randint(50000, 2000000), "Received disconnect from %s port "
                  "%d:11: Bye Bye [preauth]" % (ip, port), b=blk_net)
                M(50, "Disconnected from invalid user %s %s port %d [preauth]" %
                  (u, ip, port), b=blk_net)
            else:
                M(rng.randint(50000, 2000000), "Connection closed by invalid user "
                  "%s %s port %d [preauth]" % (u, ip, port), b=blk_net)
        elif r < 0.75:
            M(rng.randint(50000, 2000000), "Connection closed by authenticating user "
              "root %s port %d [preauth]" % (ip, port), b=blk_net)
        elif r < 0.9:
            M(rng.randint(10000, 300000), "error: kex_exchange_identification: "
              "Connection closed by remote host", prio=3)
            M(30, "Connection closed by %s port %d" % (ip, port))
        else:
            M(rng.randint(10000, 300000), "banner exchange: Connection from %s port %d: "
              "invalid format" % (ip, port))
        return self.finish(t, lines, pids)

    # ---- noise ------------------------------------------------------------------------
    def systemd_entry(self, t, msg, unit, mid, result):
        blk = ("_PID=1\n_UID=0\n_GID=0\n_COMM=systemd\n_EXE=/usr/lib/systemd/systemd\n"
               "_CMDLINE=/sbin/init\n_CAP_EFFECTIVE=1ffffffffff\n_SYSTEMD_CGROUP=/init.scope\n"
               "_SYSTEMD_UNIT=init.scope\n_SYSTEMD_SLICE=-.slice\n")
        s = "PRIORITY=6\nSYSLOG_FACILITY=3\nSYSLOG_IDENTIFIER=systemd\n"
        if result is not None:
            s += ("CODE_FILE=src/core/job.c\nCODE_LINE=768\nCODE_FUNC=job_emit_done_message\n"
                  "JOB_TYPE=start\nJOB_RESULT=%s\nJOB_ID=%d\n" %
                  (result, self.rng.randint(100, 99999)))
        else:
            s += "CODE_FILE=src/core/unit.c\nCODE_LINE=5553\nCODE_FUNC=unit_log_success\n"
        if mid:
            s += "MESSAGE_ID=%s\n" % mid
        s += "UNIT=%s\nINVOCATION_ID=%032x\nMESSAGE=%s\n%s%s" % (
                unit, self.rng.getrandbits(128), msg, blk, self.tail_journal)
        return s

    def kernel_entry(self, t, prio, msg):
        return ("_SOURCE_MONOTONIC_TIMESTAMP=%d\nPRIORITY=%d\nSYSLOG_FACILITY=0\n"
                "SYSLOG_IDENTIFIER=kernel\nMESSAGE=%s\n%s" % (
                        t - self.boot_realtime + self.boot_mono0 - 1500, prio, msg,
                        self.tail_kernel))

    TIMERS = (
            ("phpsessionclean.service", "Clean php session files"),
            ("sysstat-collect.service", "system activity accounting tool"),
            ("logrotate.service", "Rotate log files"),
            ("man-db.service", "Daily man-db regeneration"),
            ("apt-daily.service", "Daily apt download activities"),
            ("systemd-tmpfiles-clean.service", "Cleanup of Temporary Directories"),
            ("certbot.service", "Certbot"),
            ("fstrim.service", "Discard unused blocks on filesystems from /etc/fstab"),
    )

    CRON_CMDS = (
            ("root", 0, "command -v debian-sa1 > /dev/null && debian-sa1 1 1"),
            ("root", 0, "   cd / && run-parts --report /etc/cron.hourly"),
            ("www-data", 33, "/usr/bin/php /var/www/app/artisan schedule:run >> /dev/null 2>&1"),
            ("backup", 1001, "/usr/local/bin/prune-snapshots --keep 30"),
    )

    def noise(self, t):
        """Schedule one noise sequence at t."""
        rng = self.rng
        r = rng.random()
        lines = []
        if r < 0.30:
            # application writing to stdout (journald stream transport)
            pid = self.app_pid
            blk = self.proc_block(pid, 33, 33, "gunicorn", "/usr/bin/python3.11",
                                  "/srv/app/venv/bin/python3 /srv/app/venv/bin/gunicorn "
                                  "app.wsgi -w 4", "/system.slice/app.service",
                                  "app.service", "system.slice",
                                  "_SYSTEMD_INVOCATION_ID=%s\n_STREAM_ID=%s\n" % (
                                          self.app_inv, self.app_stream))
            path = rng.choice(("/", "/api/v1/items", "/api/v1/items/%d" %
                               rng.randint(1, 99999), "/login", "/static/app.js",
                               "/healthz", "/api/v1/search?q=%x" % rng.getrandbits(24)))
            status = rng.choice((200, 200, 200, 200, 304, 302, 404, 500))
            msg = '%d.%d.%d.%d - - "GET %s HTTP/1.1" %d %d "-" "Mozilla/5.0"' % (
                    rng.randint(1, 223), rng.randint(0, 255), rng.randint(0, 255),
                    rng.randint(1, 254), path, status, rng.randint(0, 90000))
            lines.append((0, "PRIORITY=%d\nSYSLOG_FACILITY=3\nSYSLOG_IDENTIFIER=gunicorn\n"
                          "MESSAGE=%s\n%s%s" % (3 if status == 500 else 6, msg, blk,
                                                self.tail_stdout)))
        elif r < 0.50:
            # kernel firewall log
            msg = ("[UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 "
                   "SRC=%d.%d.%d.%d DST=%s LEN=%d TOS=0x00 PREC=0x00 TTL=%d ID=%d "
                   "PROTO=TCP SPT=%d DPT=%d WINDOW=%d RES=0x00 SYN URGP=0" % (
                           rng.randint(1, 223), rng.randint(0, 255), rng.randint(0, 255),
                           rng.randint(1, 254), SERVER_IP, rng.choice((40, 44, 52, 60)),
                           rng.randint(30, 250), rng.randint(0, 65535),
                           rng.randint(1024, 65535),
                           rng.choice((23, 445, 3389, 8080, 5900, 1433, 6379)),
                           rng.choice((1024, 14600, 29200, 65535))))
            lines.append((0, self.kernel_entry(t, 4, msg)))
        elif r < 0.70:
            # cron job: 3 lines, plus the command's pid
            user, uid, cmd = rng.choice(self.CRON_CMDS)
            cpid, shpid = self.alloc_pid(2)
            blk = self.proc_block(cpid, 0, 0, "cron", "/usr/sbin/cron", "/usr/sbin/CRON -f",
                                  "/system.slice/cron.service", "cron.service",
                                  "system.slice", "_SYSTEMD_INVOCATION_ID=%s\n" %
                                  self.cron_inv)
            dur = rng.randint(20000, 4000000)
            for dt, fac, msg in ((0, 10, "pam_unix(cron:session): session opened for user "
                                  "%s(uid=%d) by (uid=0)" % (user, uid)),
                                 (400, 9, "(%s) CMD (%s)" % (user, cmd)),
                                 (dur, 10, "pam_unix(cron:session): session closed for "
                                  "user %s" % user)):
                lines.append((dt, self.syslog_entry(t + dt, 6, fac, "CRON", cpid, msg,
                                                    blk)))
        elif r < 0.85:
            # a timer-started service: starting / deactivated / finished
            unit, desc = rng.choice(self.TIMERS)
            dur = rng.randint(30000, 20000000)
            lines.append((0, self.systemd_entry(t, "Starting %s - %s..." % (unit, desc),
                                                unit, "7d4958e842da4a758f6c1cdc7b36dcc5",
                                                None)))
            lines.append((dur, self.systemd_entry(
                    t + dur, "%s: Deactivated successfully." % unit, unit,
                    "7ad2d189f7e94e70a38c781354912448", None)))
            lines.append((dur + 300, self.systemd_entry(
                    t + dur + 300, "Finished %s - %s." % (unit, desc), unit,
                    "39f53479d3a045ac8e11786248231fbf", "done")))
        else:
            # postfix smtpd connection
            spid = self.alloc_pid(1)[0]
            blk = self.proc_block(spid, 107, 114, "smtpd", "/usr/lib/postfix/sbin/smtpd",
                                  "smtpd -n smtp -t inet -u -c -o stress= -s 2",
                                  "/system.slice/system-postfix.slice/postfix@-.service",
                                  "postfix@-.service", "system-postfix.slice")
            peer = "unknown[%d.%d.%d.%d]" % (rng.randint(1, 223), rng.randint(0, 255),
                                             rng.randint(0, 255), rng.randint(1, 254))
            dur = rng.randint(200000, 5000000)
            for dt, prio, msg in ((0, 6, "connect from %s" % peer),
                                  (dur // 2, 5, "NOQUEUE: reject: RCPT from %s: 554 5.7.1 "
                                   "<spam@example.net>: Relay access denied; "
                                   "from=<x@example.org> to=<spam@example.net> "
                                   "proto=ESMTP helo=<User>" % peer),
                                  (dur, 6, "disconnect from %s ehlo=1 mail=1 rcpt=0/1 "
                                   "rset=1 quit=1 commands=4/5" % peer)):
                lines.append((dt, self.syslog_entry(t + dt, prio, 2, "postfix/smtpd",
                                                    spid, msg, blk)))
        for dt, text in lines:
            self.push(t + dt, text, False)
            self.noise_lines += 1

    # ---- the anomalies ----------------------------------------------------------------
    def plan_anomalies(self, n):
        """n of each kind, spread evenly over the run (by sshd connection count)."""
        kinds = ("unforced-session", "command-mismatch", "unknown-key", "no-session",
                 "source-refused", "wrong-user", "spoofed-entry")
        plan = []
        for i in range(n):
            for j, k in enumerate(kinds):
                plan.append(((i * len(kinds) + j + 0.5) / (n * len(kinds)), k))
        self.pending_anomalies = sorted(plan)

    def anomaly_connection(self, t, kind):
        rng = self.rng
        if kind == "unforced-session":
            k = rng.choice(self.keys["backup"][:16])
            return self.ssh_connection(t, "forced", k, (kind, None,
                                                        "shell with a forced key"))
        if kind == "command-mismatch":
            k = rng.choice(self.keys["mirror"])
            return self.ssh_connection(t, "forced", k, (kind, None,
                                                        "forced command changed"))
        if kind == "unknown-key":
            k = self.intruder_key
            k.client_ip = "203.0.113.%d" % rng.randint(10, 250)
            return self.ssh_connection(t, "forced", k, (kind, None,
                                                        "key not in baseline"))
        if kind == "no-session":
            k = rng.choice(self.keys["mirror"])
            return self.ssh_connection(t, "forced", k, (kind, None,
                                                        "ssh -N -L, no session"))
        if kind == "source-refused":
            k = rng.choice(self.keys["deploy"])
            saved = k.client_ip
            k.client_ip = "198.51.100.%d" % rng.randint(100, 200)
            end = self.ssh_connection(t, "forced", k, (kind, None,
                                                       "from= refused the address"))
            k.client_ip = saved
            return end
        if kind == "wrong-user":
            k = rng.choice(self.keys["backup"][:16])
            return self.ssh_connection(t, "forced", k, (kind, "mirror",
                                                        "backup key into mirror"))
        # spoofed-entry: logger -t sshd from an unprivileged user
        pid = self.alloc_pid(1)[0]
        k = rng.choice(self.keys["alice"])
        port = rng.randint(32768, 60999)
        blk = self.proc_block(pid, 1003, 1003, "logger", "/usr/bin/logger",
                              "logger -t sshd Accepted publickey for root from 203.0.113.66 "
                              "port %d ssh2: %s %s" % (port, k.logtype, k.fp),
                              "/user.slice/user-1003.slice/session-%d.scope" % self.session_no,
                              "session-%d.scope" % self.session_no, "user-1003.slice")
        msg = "Accepted publickey for root from 203.0.113.66 port %d ssh2: %s %s" % (
                port, k.logtype, k.fp)
        self.push(t, self.syslog_entry(t, 5, 1, "sshd", pid, msg, blk), True)
        self.sshd_lines += 1
        self.anomalies.append((kind, "root", k.fp, port, t, "logger -t sshd"))
        return t

    # ---- main loop ----------------------------------------------------------------------
    def pick_connection(self):
        rng = self.rng
        r = rng.random()
        if r < 0.40:
            return "forced", rng.choice(self.keys["backup"])
        if r < 0.62:
            return "forced", rng.choice(self.keys["mirror"])
        if r < 0.66:
            return "forced", rng.choice(self.keys["root"])
        if r < 0.70:
            return "forced", rng.choice(self.keys["deploy"])
        if r < 0.74:
            return "shell", rng.choice(self.keys["alice"] + self.keys["bob"])
        if r < 0.78:
            return "command", rng.choice(self.keys["alice"] + self.keys["bob"])
        if r < 0.80:
            return "sftp", rng.choice(self.keys["alice"] + self.keys["bob"])
        return "scanner", None

    def run(self, fhs):
        self.fhs = fhs
        self.turn = 0
        rng = self.rng
        n = self.args.entries
        self.to_free = []
        t = START_REALTIME + rng.randint(0, 10**6)
        self.new_boot(t)
        self.app_pid, = self.alloc_pid(1)
        self.app_inv = "%032x" % rng.getrandbits(128)
        self.app_stream = "%032x" % rng.getrandbits(128)
        self.cron_inv = "%032x" % rng.getrandbits(128)
        self.live_pids.add(self.app_pid)
        t += 5 * 10**6
        t_noise = t
        ssh_gap = self.args.ssh_interval * 1e6
        rebooted = False
        # stop starting new sequences a little before N so that draining ends near N
        while self.emitted + len(self.heap) < n:
            progress = (self.sshd_lines + self.noise_lines) / n
            if not rebooted and progress >= 0.5:
                rebooted = True
                self.drain_until(t)
                end = max([e for e, _ in self.to_free] + [t]) + 10**6
                self.shutdown(end)
                self.to_free = []
                t = end + rng.randint(40, 90) * 10**6
                self.new_boot(t)
                self.app_pid, = self.alloc_pid(1)
                self.live_pids.add(self.app_pid)
                t += 5 * 10**6
                t_noise = t
            if t <= t_noise:
                if self.pending_anomalies and self.pending_anomalies[0][0] <= progress:
                    _, kind = self.pending_anomalies.pop(0)
                    self.anomaly_connection(t, kind)
                else:
                    kind, key = self.pick_connection()
                    self.ssh_connection(t, kind, key)
                t += int(rng.expovariate(1.0) * ssh_gap) + 1
            else:
                self.noise(t_noise)
                # keep noise at about half of everything
                ratio = (self.noise_lines + 1) / (self.sshd_lines + 1)
                gap = ssh_gap * 0.3 * min(max(ratio ** 3, 0.05), 20.0)
                t_noise += int(rng.expovariate(1.0) * gap) + 1
            self.drain_until(min(t, t_noise) - 1)
            if len(self.to_free) > 256:
                now = min(t, t_noise)
                keep = []
                for e, pids in self.to_free:
                    if e < now:
                        self.live_pids -= pids
                    else:
                        keep.append((e, pids))
                self.to_free = keep
        self.drain_until(1 << 62)
        self.flush()


def verify_fingerprints(gen):
    """Compare our fingerprints with ssh-keygen's, when it is installed."""
    import shutil
    import subprocess
    import tempfile
    if not shutil.which("ssh-keygen"):
        return
    ks = [gen.keys["backup"][0], gen.keys["bob"][0], gen.intruder_key]
    with tempfile.NamedTemporaryFile("w", suffix=".pub") as f:
        for k in ks:
            f.write("%s %s x\n" % (k.keytype, base64.b64encode(k.blob).decode()))
        f.flush()
        out = subprocess.run(["ssh-keygen", "-lf", f.name], capture_output=True,
                             text=True, check=True).stdout.split("\n")
    for k, line in zip(ks, out):
        if line.split()[1] != k.fp:
            sys.exit("gen-export: fingerprint mismatch with ssh-keygen: %s vs %s" %
                     (k.fp, line))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entries", type=int, default=1000000, help="at least this many entries")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--anomalies", type=int, default=3, help="anomalies of each kind (3)")
    ap.add_argument("--ssh-interval", type=float, default=4.0,
                    help="mean seconds between sshd connections (4)")
    ap.add_argument("--pid-max", type=int, default=32768, help="PID wrap-around (32768)")
    ap.add_argument("--shape", choices=("full", "lean"), default="full",
                    help="fields per entry: full (journald on systemd, the default) or lean "
                    "(a minimal journald: the same entries with fewer fields)")
    ap.add_argument("--keys-dir", help="write the baseline and the anomaly list here")
    ap.add_argument("--output", "-o", action="append",
                    help="export file or FIFO, - for stdout (default); repeat to spread the "
                    "entries over several outputs, 512 at a time")
    args = ap.parse_args()

    gen = Gen(args)
    gen.plan_anomalies(args.anomalies)
    verify_fingerprints(gen)
    if args.keys_dir:
        gen.write_baseline(args.keys_dir)
    fhs = []
    for o in args.output or ["-"]:
        fh = sys.stdout.buffer if o == "-" else open(o, "wb")
        if stat.S_ISFIFO(os.fstat(fh.fileno()).st_mode):
            try:    # room for a few chunks, so that the readers work in parallel
                fcntl.fcntl(fh.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)
            except OSError:
                pass
        fhs.append(fh)
    t0 = time.monotonic()
    gen.run(fhs)
    for fh in fhs:
        fh.flush()
        if fh is not sys.stdout.buffer:
            fh.close()
    if args.keys_dir:
        gen.write_anomalies(args.keys_dir)
    print("gen-export: %d entries (%d sshd, %d other), %d anomalies, %.1f s" % (
            gen.emitted, gen.sshd_lines, gen.noise_lines, len(gen.anomalies),
            time.monotonic() - t0), file=sys.stderr)


if __name__ == "__main__":
    main()
