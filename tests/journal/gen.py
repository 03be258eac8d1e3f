#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the scenario journals of tests/journal/ as journal export-format text.

Each scenario models the lines a real sshd writes (formats from OpenSSH's source, see
docs/ and the reference in the design notes), with the trusted fields journald adds. The
expected alerts live beside them in NAME.expected, golden files of every field: written by
`KEYTRAIL_UPDATE_GOLDEN=1 meson test -C build --suite scan` and reviewed, never by this script.
Run it only when a scenario changes: `python3 tests/journal/gen.py`; commit its output.
"""
import base64, hashlib, os

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = {
    "push": "AAAAC3NzaC1lZDI1NTE5AAAAIC62c5TheazUNe4pSiOd0ibR9bQawBvP0nRlmK7Qs1RT",
    "pull": "AAAAC3NzaC1lZDI1NTE5AAAAIMdEFNpvF4ubtwGBTJTOsEAyAMptQLzitkS6LmWU7GJC",
    "admin": "AAAAC3NzaC1lZDI1NTE5AAAAIJoYGBofIXxLsm3Pv7atX0gPypGKYIWtiTKkBwPgUfg9",
    "intruder": "AAAAC3NzaC1lZDI1NTE5AAAAIFlO5yWqyEGfJmrvB5p2M/kTr09Xy3Gf0HJ7+Q7ncDLZ",
    "other": "AAAAC3NzaC1lZDI1NTE5AAAAICb0TYZ/uWshYYfgXtBzt3kuUMAcgi71qqe0WVc8mtiK",
    "long": "AAAAC3NzaC1lZDI1NTE5AAAAIAcjF3W/FZCWfJtzqxuEAmMVBqgYc8D+Qo2YhgtQsp/R",
    "gated": "AAAAC3NzaC1lZDI1NTE5AAAAIFZqab4Cz1zNmrwbSdyGEiA76YxF8YSvXeGV3RYmO/H/",
    "sshdo": "AAAAC3NzaC1lZDI1NTE5AAAAIKvTVCnnIn9MrOxCvbcvNpSVOSY5kbqohABbeBXGn9uT",
    "cut": "AAAAC3NzaC1lZDI1NTE5AAAAIEw6w5ZARUOHVW+kvgE5ir5U8NWjOtNxv2cb+sajzdLR",
    "ca": "AAAAC3NzaC1lZDI1NTE5AAAAIH+nskGPppKHqs0fHHpokTQ95iVQDYjFPflyhJwY0Ku6",
    "rogueca": "AAAAC3NzaC1lZDI1NTE5AAAAIPPn9S+FXleEMo/Z8XCL4HBvKD80920amlGBb5piqp1v",
    "certuser": "AAAAC3NzaC1lZDI1NTE5AAAAIDCnW1AMRYotVGMDX2EnUZHfeMjKQ8bdBe5LBxuipMaP",
    "only": "AAAAC3NzaC1lZDI1NTE5AAAAIO1kh8GqoMB3OmHkS6CAqWzOAGVXSJ3aFB7PcSNThkAK",
}


def fp(name):
    d = hashlib.sha256(base64.b64decode(KEYS[name])).digest()
    return "SHA256:" + base64.b64encode(d).decode().rstrip("=")


PUSH = "rsync --server -vlogDtprze.iLsfxCIvu --delete . /srv/mirror"
PULL = "rsync --server --sender -vlogDtprze.iLsfxCIvu . /srv/mirror"
LONG = "rsync --server -vlogDtprze.iLsfxCIvu --delete --exclude-from=/etc/backup/excludes . " + \
    " ".join("/srv/archive/project-%02d/data" % i for i in range(30))
UIDS = {"mirror": 1001, "ops": 1002, "root": 0, "nobody": 65534}
MACHINE = "4c6f0b5e8f6a4c9aa1f2e3d4c5b6a7b8"
BOOT = "0b1e5ad2d3c94bd59b4f7a5e0c2b1a01"
T0 = 1764200000000000  # 2025-11-26T23:33:20Z


class Gen:
    def __init__(self, version="9.2"):
        self.entries = []
        self.version = version

    def ident(self):
        return {"7.4": ("sshd", "/usr/sbin/sshd", "sshd"),
                "9.2": ("sshd", "/usr/sbin/sshd", "sshd"),
                "10.0": ("sshd-session", "/usr/lib/openssh/sshd-session", "sshd-session")}[self.version]

    def add(self, t, pid, uid, msg, exe=True, ident=None, exe_path=None, comm=None, prio="6",
            transport="syslog"):
        i, e, c = self.ident()
        f = {"__REALTIME_TIMESTAMP": str(t), "__MONOTONIC_TIMESTAMP": str(t - T0 + 5000000),
             "_BOOT_ID": BOOT, "_MACHINE_ID": MACHINE, "_HOSTNAME": "mirror1",
             "_TRANSPORT": transport, "PRIORITY": prio, "SYSLOG_FACILITY": "4",
             "SYSLOG_IDENTIFIER": ident or i, "SYSLOG_PID": str(pid), "_PID": str(pid),
             "_UID": str(uid), "_GID": str(uid), "_COMM": comm or c}
        if comm == "":
            del f["_COMM"]
        if exe:
            f["_EXE"] = exe_path or e
        f["MESSAGE"] = msg
        self.entries.append(f)

    def login(self, t, mpid, cpid, user, key, ip, port, sessions, loc=None, end="normal",
              forward_refused=False, no_child=False, ms=1000, ca=None):
        """One public-key connection. sessions: list of (kind, text) where kind is
        'forced', 'forced-config', 'command', 'shell', 'subsystem', 'forced-cut'."""
        v = self.version
        uid = UIDS[user]
        loc = loc or "/home/%s/.ssh/authorized_keys:1" % user
        child = mpid if no_child else cpid
        cuid = 0 if no_child else uid
        step = [t]

        def at():
            step[0] += ms
            return step[0]
        if v == "7.4":
            self.add(at(), mpid, 0, "Connection from %s port %d on 10.0.0.4 port 22" % (ip, port))
        else:
            self.add(at(), mpid, 0, 'Connection from %s port %d on 10.0.0.4 port 22 rdomain ""' % (ip, port))
        if ca:
            # a certificate signed by ca: 7.9+ lines (auth.c format_method_key)
            found = 'Accepted certificate ID "%s@client" (serial 7) signed by CA ED25519 %s found at %s' % (
                user, fp(ca), loc)
            accepted = "Accepted publickey for %s from %s port %d ssh2: ED25519-CERT %s ID %s@client (serial 7) CA ED25519 %s" % (
                user, ip, port, fp(key), user, fp(ca))
        else:
            found = "Accepted key ED25519 %s found at %s" % (fp(key), loc)
            accepted = "Accepted publickey for %s from %s port %d ssh2: ED25519 %s" % (user, ip, port, fp(key))
        if v != "7.4":
            self.add(at(), mpid, 0, found)
        self.add(at(), mpid, 0, "Postponed publickey for %s from %s port %d ssh2 [preauth]" % (user, ip, port))
        if v != "7.4":
            self.add(at(), mpid, 0, found)
        self.add(at(), mpid, 0, accepted)
        self.add(at(), mpid, 0, "pam_unix(sshd:session): session opened for user %s(uid=%d) by (uid=0)" % (user, uid))
        if not no_child:
            self.add(at(), mpid, 0, "User child is on pid %d" % cpid)
        if forward_refused:
            self.add(at(), child, cuid, "refused local port forward: originator 127.0.0.1 port 40000, target 127.0.0.1 port 5432")
        for sid, (kind, text) in enumerate(sessions):
            tail = " for %s from %s port %d id %d" % (user, ip, port, sid)
            if kind == "forced":
                m = "Starting session: forced-command (key-option) '%s'%s" % (text, tail)
            elif kind == "forced-config":
                m = "Starting session: forced-command (config) '%s'%s" % (text, tail)
            elif kind == "forced-cut":
                # syslog(3) gets at most 500 bytes ("%.500s" in log.c)
                m = ("Starting session: forced-command (key-option) '%s'%s" % (text, tail))[:500]
            elif kind == "subsystem":
                m = "Starting session: subsystem '%s'%s" % (text, tail)
            elif kind == "pty-shell":
                m = "Starting session: shell on pts/0%s" % tail
            else:
                m = "Starting session: %s%s" % (kind, tail)
            self.add(at(), child, cuid, m)
        for sid in range(len(sessions)):
            self.add(at(), child, cuid, "Close session: user %s from %s port %d id %d" % (user, ip, port, sid))
        if end == "normal":
            self.add(at(), child, cuid, "Received disconnect from %s port %d:11: disconnected by user" % (ip, port))
            if v == "7.4":
                self.add(at(), child, cuid, "Disconnected from %s port %d" % (ip, port), exe=False)
            else:
                self.add(at(), child, cuid, "Disconnected from user %s %s port %d" % (user, ip, port), exe=False)
            self.add(at(), mpid, 0, "pam_unix(sshd:session): session closed for user %s" % user)
        elif end == "closed":
            self.add(at(), child, cuid, "Connection closed by %s port %d" % (ip, port))
            self.add(at(), child, cuid, "Transferred: sent 2504, received 2340 bytes")
            self.add(at(), child, cuid, "Closing connection to %s port %d" % (ip, port), exe=False)
            self.add(at(), mpid, 0, "pam_unix(sshd:session): session closed for user %s" % user)
        return step[0]

    def gate(self, t, pid, user, verdict, reason, cmd, ip, port, key, exe="/usr/bin/keytrail-gate",
             comm="keytrail-gate", uid=None):
        """A keytrail-gate decision, with the structured fields of include/gate-log.h."""
        uid = UIDS[user] if uid is None else uid
        f = {"__REALTIME_TIMESTAMP": str(t), "__MONOTONIC_TIMESTAMP": str(t - T0 + 5000000),
             "_BOOT_ID": BOOT, "_MACHINE_ID": MACHINE, "_HOSTNAME": "mirror1",
             "_TRANSPORT": "journal", "PRIORITY": "4" if verdict == "rejected" else "6",
             "SYSLOG_IDENTIFIER": "keytrail-gate", "_PID": str(pid), "_UID": str(uid),
             "_GID": str(uid), "_COMM": comm, "_EXE": exe,
             "MESSAGE_ID": "2310f8af666e4183b58c41abe99bdf46" if verdict == "rejected"
             else "d44ab9f14c0c4cf9a2c1f94d4ee07484",
             "MESSAGE": "keytrail-gate %s the command '%s' for %s from %s port %d (%s)." % (
                 "refused" if verdict == "rejected" else "allowed", cmd, user, ip, port, reason),
             "KEYTRAIL_VERDICT": verdict, "KEYTRAIL_REASON": reason,
             "SSH_ORIGINAL_COMMAND": cmd, "SSH_CONNECTION": "%s %d 10.0.0.4 22" % (ip, port),
             "USER": user, "KEYTRAIL_FINGERPRINT": fp(key), "KEYTRAIL_KEY_TYPE": "ED25519"}
        self.entries.append(f)

    def noise(self, t, msg="Server listening on 0.0.0.0 port 22.", pid=600):
        self.add(t, pid, 0, msg, ident="sshd", exe_path="/usr/sbin/sshd", comm="sshd")

    def write(self, name, order=True):
        if order:
            self.entries.sort(key=lambda f: int(f["__MONOTONIC_TIMESTAMP"]))
        with open(os.path.join(HERE, name + ".export"), "w") as out:
            out.write("")
            for f in self.entries:
                for k, v in f.items():
                    assert "\n" not in v
                    out.write("%s=%s\n" % (k, v))
                out.write("\n")


def S(sec):
    return T0 + int(sec * 1000000)


def main():
    # 1. rsync pushes with the forced key, several times: no alert.
    g = Gen()
    for i in range(3):
        g.login(S(60 * i), 7000 + 10 * i, 7003 + 10 * i, "mirror", "push", "203.0.113.9", 50000 + i,
                [("forced", PUSH)])
    g.write("no-alert-push")

    # 2. an rsync pull with the read-only key: no alert.
    g = Gen()
    g.login(S(0), 7100, 7103, "mirror", "pull", "203.0.113.9", 50100, [("forced", PULL)],
            loc="/home/mirror/.ssh/authorized_keys:2")
    g.write("no-alert-pull")

    # 3. an unrestricted admin key used as an admin: shell, command, sftp. No alert.
    g = Gen()
    g.login(S(0), 7200, 7203, "ops", "admin", "198.51.100.4", 50200, [("pty-shell", None)])
    g.login(S(20), 7210, 7213, "ops", "admin", "198.51.100.4", 50201, [("command", None)])
    g.login(S(40), 7220, 7223, "ops", "admin", "198.51.100.4", 50202, [("subsystem", "sftp")])
    g.write("no-alert-admin")

    # 4. concurrent pushes and pulls, interleaved line by line: no alert.
    g = Gen()
    for i in range(6):
        key, cmd, loc = (("push", PUSH, 1), ("pull", PULL, 2))[i % 2]
        g.login(S(0.3 * i), 7300 + 10 * i, 7303 + 10 * i, "mirror", key, "203.0.113.%d" % (10 + i),
                50300 + i, [("forced", cmd)], loc="/home/mirror/.ssh/authorized_keys:%d" % loc)
    g.write("no-alert-concurrent")

    # 5. command= stripped: the push key runs a command of its own.
    g = Gen()
    g.login(S(0), 7400, 7403, "mirror", "push", "203.0.113.9", 50400, [("command", None)])
    g.write("unforced-session")

    # 6. command= swapped from pull to push: the pull key's session runs the push command.
    g = Gen()
    g.login(S(0), 7500, 7503, "mirror", "pull", "203.0.113.9", 50500, [("forced", PUSH)],
            loc="/home/mirror/.ssh/authorized_keys:2")
    g.write("command-mismatch")

    # 7. a key not in the baseline logs into a covered account (alert), and into an account
    #    the baseline does not cover (no alert).
    g = Gen()
    g.login(S(0), 7600, 7603, "mirror", "intruder", "192.0.2.66", 50600, [("pty-shell", None)],
            loc="/home/mirror/.ssh/authorized_keys:5")
    g.login(S(10), 7610, 7613, "nobody", "intruder", "192.0.2.66", 50601, [("pty-shell", None)],
            loc="/nonexistent/.ssh/authorized_keys:1")
    g.write("unknown-key")

    # 8. ssh -N -L with the forced key: a refused forward, a disconnect, no session.
    g = Gen()
    g.login(S(0), 7700, 7703, "mirror", "push", "203.0.113.9", 50700, [], end="closed",
            forward_refused=True)
    g.write("no-session")

    # 9. the same, but the client stays connected: decided after 60 s of log time.
    g = Gen()
    g.login(S(0), 7800, 7803, "mirror", "push", "203.0.113.9", 50800, [], end="none")
    g.noise(S(30))
    g.noise(S(61.5))
    g.write("no-session-timeout")

    # 10. from= refuses the correct key from another address.
    g = Gen()
    ip, port, user = "203.0.113.77", 50900, "mirror"
    loc = "/home/mirror/.ssh/authorized_keys:3"
    g.add(S(0), 7900, 0, 'Connection from %s port %d on 10.0.0.4 port 22 rdomain ""' % (ip, port))
    g.add(S(0.1), 7900, 0, "%s: Authentication tried for %s with correct key but not from a permitted host (host=%s, ip=%s, required=192.0.2.0/24)." % (loc, user, ip, ip))
    g.add(S(0.2), 7900, 0, "error: Refused by key options")
    g.add(S(0.3), 7900, 0, "Failed publickey for %s from %s port %d ssh2: ED25519 %s" % (user, ip, port, fp("other")))
    g.add(S(0.4), 7900, 0, "Connection closed by authenticating user %s %s port %d [preauth]" % (user, ip, port))
    g.write("source-refused")

    # 11. the push key, bound to mirror, logs into ops.
    g = Gen()
    g.login(S(0), 8000, 8003, "ops", "push", "203.0.113.9", 51000, [("pty-shell", None)],
            loc="/home/ops/.ssh/authorized_keys:3")
    g.write("wrong-user")

    # 12. forged lines: logger -t sshd, a local user's process (_EXE logger, _UID 1000).
    g = Gen()
    g.add(S(0), 8100, 1000, "Accepted publickey for mirror from 203.0.113.9 port 4444 ssh2: ED25519 %s" % fp("intruder"),
          exe_path="/usr/bin/logger", comm="logger")
    g.add(S(0.5), 8101, 1000, "Starting session: shell on pts/3 for mirror from 203.0.113.9 port 4444 id 0",
          exe=False, comm="logger")
    g.add(S(1), 8102, 1000, "User child is on pid 8101", comm="sshd", exe=False)
    # root's logger that exits at once: journald finds neither _EXE nor _COMM
    g.add(S(1.5), 8103, 0, "Starting session: shell on pts/4 for mirror from 203.0.113.9 port 4445 id 0",
          exe=False, comm="")
    g.login(S(5), 8110, 8113, "mirror", "push", "203.0.113.9", 51100, [("forced", PUSH)])
    g.write("spoofed-entry")

    # 13. one multiplexed connection (ControlMaster) with the forced key stripped: two sessions,
    #     two alerts, one per session. The admin's multiplexed connection raises nothing.
    g = Gen()
    g.login(S(0), 8200, 8203, "mirror", "push", "203.0.113.9", 51200, [("command", None), ("pty-shell", None)])
    g.login(S(1), 8210, 8213, "ops", "admin", "198.51.100.4", 51201,
            [("pty-shell", None), ("command", None), ("subsystem", "sftp")])
    g.write("multiplexed")

    # 14. root on OpenSSH 9.2: no user child, everything under the monitor's PID.
    g = Gen()
    g.login(S(0), 8300, None, "root", "long", "198.51.100.8", 51300, [("pty-shell", None)],
            loc="/root/.ssh/authorized_keys:1", no_child=True)
    g.write("root-no-child")

    # 15. a forced command longer than syslog keeps: cut without its tail. Agreeing as far as it
    #     goes is no mismatch; the second one differs inside what survives.
    g = Gen()
    g.login(S(0), 8400, 8403, "root", "long", "198.51.100.8", 51400, [("forced-cut", LONG)],
            loc="/root/.ssh/authorized_keys:1")
    g.login(S(10), 8410, 8413, "root", "long", "198.51.100.8", 51401,
            [("forced-cut", LONG.replace("project-03", "project-99"))], loc="/root/.ssh/authorized_keys:1")
    g.write("truncated-command")

    # 16. OpenSSH 10: sshd-session writes everything per connection.
    g = Gen("10.0")
    g.login(S(0), 8500, 8503, "mirror", "push", "203.0.113.9", 51500, [("forced", PUSH)])
    g.login(S(10), 8510, 8513, "mirror", "push", "203.0.113.9", 51501, [("pty-shell", None)])
    g.write("openssh-10")

    # 17. OpenSSH 7.4: no "Accepted key ... found at", no rdomain, no user in "Disconnected".
    g = Gen("7.4")
    g.login(S(0), 8600, 8603, "mirror", "push", "203.0.113.9", 51600, [("forced", PUSH)])
    g.login(S(10), 8610, 8613, "mirror", "pull", "203.0.113.9", 51601, [("forced", PUSH)])
    g.write("openssh-7.4")

    # 18. PID reuse: the first connection's end was never logged; the PID starts a new one.
    g = Gen()
    g.login(S(0), 8700, 8703, "mirror", "push", "203.0.113.9", 51700, [("forced", PUSH)], end="none")
    g.login(S(30), 8700, 8713, "mirror", "push", "203.0.113.9", 51701, [("command", None)])
    g.write("pid-reuse")

    # 19. a forced command that carries a fake tail: the real tail is the last one.
    g = Gen()
    g.login(S(0), 8800, 8803, "mirror", "pull", "203.0.113.9", 51800,
            [("forced", "sh' for root from 1.2.3.4 port 22 id 0")],
            loc="/home/mirror/.ssh/authorized_keys:2")
    # ... and one whose fake tail ends exactly where syslog cuts the line (500 bytes), so the line
    # looks complete and the command before the fake tail equals the baseline's. Only the PID link
    # (the tail's address and port disagree with the connection's) tells it apart.
    prefix = "Starting session: forced-command (key-option) '"
    fake = "' for root from 1.2.3.4 port 22 id 0"
    base = ("rsync --server -vlogDtprze.iLsfxCIvu --delete . " +
            " ".join("/srv/cut/d%03d" % i for i in range(100)))[:500 - len(prefix) - len(fake)]
    g.login(S(10), 8810, 8813, "mirror", "cut", "203.0.113.9", 51801,
            [("forced-cut", base + fake + "; rm -rf /srv")], loc="/home/mirror/.ssh/authorized_keys:7")
    g.write("injection")


def certificate_scenarios():
    # 21. certificates: a CA named by a cert-authority line with command= governs the sessions of
    #     every key it signed; a CA the baseline does not name (TrustedUserCAKeys) is not judged.
    g = Gen()
    cmd = PUSH
    loc = "/home/mirror/.ssh/authorized_keys:9"
    g.login(S(0), 9100, 9103, "mirror", "certuser", "203.0.113.40", 53000, [("forced", cmd)], loc=loc, ca="ca")
    g.login(S(10), 9110, 9113, "mirror", "certuser", "203.0.113.40", 53001, [("command", None)], loc=loc, ca="ca")
    g.login(S(20), 9120, 9123, "mirror", "certuser", "203.0.113.41", 53002, [("pty-shell", None)],
            loc="/etc/ssh/user_ca.pub", ca="rogueca")
    g.write("certificate")


def gated_scenarios():
    # 20. keytrail-gate and sshdo refusals, joined to their sshd connections.
    g = Gen()
    gate_cmd = "/usr/bin/keytrail-gate --rsync-dir /srv/mirror --write-only"
    loc = "/home/mirror/.ssh/authorized_keys:5"
    # allowed push: no alert
    g.login(S(0), 9000, 9003, "mirror", "gated", "203.0.113.9", 52000, [("forced", gate_cmd)], loc=loc)
    g.gate(S(0) + 9500, 9004, "mirror", "allowed", "rsync-dir", PUSH, "203.0.113.9", 52000, "gated")
    # refused: a stolen key asks for /etc/shadow
    g.login(S(10), 9010, 9013, "mirror", "gated", "198.51.100.23", 52001, [("forced", gate_cmd)], loc=loc)
    g.gate(S(10) + 9500, 9014, "mirror", "rejected", "not-rsync", "cat /etc/shadow", "198.51.100.23", 52001, "gated")
    # sshdo refuses a command; it names the client's address but not its port
    g.login(S(20), 9020, 9023, "mirror", "sshdo", "198.51.100.24", 52002,
            [("forced", "/usr/bin/sshdo backup")], loc="/home/mirror/.ssh/authorized_keys:6")
    g.add(S(20) + 9500, 9024, 1001, 'type="disallowed" user="mirror" remoteip="198.51.100.24" label="backup" command="rm -rf /srv/mirror"',
          ident="sshdo", exe_path="/usr/bin/python3.11", comm="sshdo")
    # "only" refuses: `logger -p auth.warn -- denied USER: CMD`, untagged, so the identifier is the
    # account's name and _COMM is logger; it names neither address nor port
    g.login(S(25), 9025, 9027, "mirror", "only", "198.51.100.26", 52004,
            [("forced", "/usr/local/bin/only rsync")], loc="/home/mirror/.ssh/authorized_keys:8")
    g.add(S(25) + 9500, 9028, 1001, "denied mirror: cat /etc/shadow", ident="mirror",
          exe_path="/usr/bin/logger", comm="logger", prio="4")
    # ... and the same line written by another account (uid 1000): spoofed-entry
    g.add(S(26), 9029, 1000, "denied mirror: rm -rf /", ident="mirror",
          exe_path="/usr/bin/logger", comm="logger", prio="4")
    # a gate refusal whose sshd lines keytrail never saw: alerted from the gate's own fields
    g.gate(S(30), 9034, "mirror", "rejected", "wrong-direction", PULL, "198.51.100.25", 52003, "gated")
    # a forged gate record (logger -t keytrail-gate): spoofed-entry, no command-rejected
    g.add(S(40), 9040, 1000, "keytrail-gate refused the command 'x' for mirror",
          ident="keytrail-gate", exe_path="/usr/bin/logger", comm="logger")
    g.write("command-rejected")


def logger_priority_scenario():
    """keytrail asks sd-journal for every logger(1) entry (_COMM=logger) and keeps only "only"'s,
    at PRIORITY 4 (auth.warn): the same refusal at another priority is someone else's line."""
    g = Gen()
    g.login(S(0), 9100, 9102, "mirror", "only", "198.51.100.27", 52010,
            [("forced", "/usr/local/bin/only rsync")], loc="/home/mirror/.ssh/authorized_keys:8")
    # the account's own logger at PRIORITY 6 (user.info): not "only", no alert
    g.add(S(0) + 9400, 9103, 1001, "denied mirror: cat /etc/passwd", ident="mirror",
          exe_path="/usr/bin/logger", comm="logger", prio="6")
    # "only" itself (PRIORITY 4): command-rejected
    g.add(S(0) + 9500, 9104, 1001, "denied mirror: cat /etc/shadow", ident="mirror",
          exe_path="/usr/bin/logger", comm="logger", prio="4")
    g.write("logger-priority")


def interleaved_scenarios():
    # 22. six connections at once, their lines truly interleaved (each connection's lines come at
    #     its own pace, all within the same 150 ms): two pushes and two pulls as meant (nothing),
    #     a stripped command= (unforced-session), a tunnel (no-session) and an unknown key
    #     (unknown-key). Each alert must name its own connection's address, port and key.
    g = Gen()
    conns = [
        ("push", [("forced", PUSH)], 1, "normal", False),
        ("pull", [("forced", PULL)], 2, "normal", False),
        ("push", [("command", None)], 1, "normal", False),
        ("push", [], 1, "closed", True),
        ("intruder", [("pty-shell", None)], 5, "normal", False),
        ("pull", [("forced", PULL)], 2, "normal", False),
    ]
    for i, (key, sessions, line, end, fwd) in enumerate(conns):
        g.login(S(0) + 3000 * i, 9500 + 10 * i, 9503 + 10 * i, "mirror", key, "203.0.113.%d" % (60 + i),
                54000 + i, sessions, loc="/home/mirror/.ssh/authorized_keys:%d" % line, end=end,
                forward_refused=fwd, ms=7000 + 1300 * i)
    g.write("interleaved")

    # 23. wrappers refusing long client-chosen commands (PCRE2's JIT stack: issue 9): sshdo with
    #     1,500 and 8,000 bytes, only with 8,000. Each is a command-rejected with the whole request.
    g = Gen()
    g.login(S(0), 9600, 9603, "mirror", "sshdo", "198.51.100.24", 54100,
            [("forced", "/usr/bin/sshdo backup")], loc="/home/mirror/.ssh/authorized_keys:6")
    g.add(S(0) + 9500, 9604, 1001, 'type="disallowed" user="mirror" remoteip="198.51.100.24" label="backup" command="%s"'
          % ("rsync --server x " + "a\\\"b " * 300)[:1500], ident="sshdo", exe_path="/usr/bin/python3.11", comm="sshdo")
    g.login(S(10), 9610, 9613, "mirror", "sshdo", "198.51.100.24", 54101,
            [("forced", "/usr/bin/sshdo backup")], loc="/home/mirror/.ssh/authorized_keys:6")
    g.add(S(10) + 9500, 9614, 1001, 'type="disallowed" user="mirror" remoteip="198.51.100.24" label="backup" command="%s"'
          % ("cat " + "/etc/x " * 1400)[:8000], ident="sshdo", exe_path="/usr/bin/python3.11", comm="sshdo")
    g.login(S(20), 9620, 9623, "mirror", "only", "198.51.100.26", 54102,
            [("forced", "/usr/local/bin/only rsync")], loc="/home/mirror/.ssh/authorized_keys:8")
    g.add(S(20) + 9500, 9624, 1001, "denied mirror: %s" % ("tar cf - /home " * 600)[:8000], ident="mirror",
          exe_path="/usr/bin/logger", comm="logger", prio="4")
    g.write("long-refused")


def forgery_scenarios():
    # 22. a local account (uid 1000) forges sshd's lines in every way it can; journald still
    #     records its _PID and _UID. Each forged entry is spoofed-entry and changes no real alert.
    g = Gen()
    ip = "203.0.113.9"
    # A. the push key's line lost command=: a shell session (critical), its end forged early
    end = g.login(S(0), 9500, 9503, "mirror", "push", ip, 54000, [("pty-shell", None)])
    # a forged "Disconnected" with neither _EXE nor _COMM (a logger that exited at once) would
    # end the connection before its session: unforced-session would become no-session
    g.add(S(0) + 7500, 9590, 1000, "Disconnected from user mirror %s port 54000" % ip,
          exe=False, comm="")
    # B. an innocent forced push, and forged lines that name its connection
    g.login(S(20), 9510, 9513, "mirror", "push", ip, 54001, [("forced", PUSH)])
    t = S(20) + 8500
    # _COMM=sshd (prctl(PR_SET_NAME, "sshd"), exited before journald read _EXE)
    g.add(t, 9591, 1000, "Starting session: shell on pts/3 for mirror from %s port 54001 id 1" % ip,
          exe=False, comm="sshd")
    # logger --journald from a copy of logger named sshd
    g.add(t + 10, 9592, 1000, "Starting session: command for mirror from %s port 54001 id 2" % ip,
          exe_path="/home/mallory/sshd", comm="sshd", transport="journal")
    # systemd-cat -t sshd-session running a script that calls itself sshd-session
    g.add(t + 20, 9593, 1000, "Received disconnect from %s port 54001:11: disconnected by user" % ip,
          ident="sshd-session", exe_path="/usr/bin/python3.11", comm="sshd-session",
          transport="stdout")
    # a process named sshd that exited: no _EXE, a disconnect line (may lack both) of the connection
    g.add(t + 30, 9594, 1000, "Connection closed by %s port 54001" % ip, exe=False, comm="sshd")
    # nothing recorded but _PID/_UID: a session line never lacks its provenance
    g.add(t + 40, 9595, 1000, "Starting session: shell for mirror from %s port 54001 id 3" % ip,
          exe=False, comm="")
    # the user child's own PID, but written by another account (a recycled PID): _UID decides
    g.add(t + 50, 9513, 1000, "Starting session: shell on pts/5 for mirror from %s port 54001 id 4" % ip,
          exe=False, comm="sshd")
    # a monitor's line from a non-root account
    g.add(t + 60, 9596, 1000, "Accepted publickey for mirror from %s port 54002 ssh2: ED25519 %s" % (
        ip, fp("intruder")), exe=False, comm="sshd")
    g.write("forgery")

    # 23. the gate's records and the wrappers' lines, forged by another account (uid 1000), and
    #     a gate session that never logged (gate-silent).
    g = Gen()
    gate_cmd = "/usr/bin/keytrail-gate --rsync-dir /srv/mirror --write-only"
    loc = "/home/mirror/.ssh/authorized_keys:5"
    # a real allowed push; uid 1000 runs the gate with the connection's SSH_CONNECTION to put a
    # refusal (and an "allowed" of its own) on it: spoofed-entry, no command-rejected
    g.login(S(0), 9600, 9603, "mirror", "gated", "203.0.113.9", 55000, [("forced", gate_cmd)], loc=loc)
    g.gate(S(0) + 8200, 9604, "mirror", "allowed", "rsync-dir", PUSH, "203.0.113.9", 55000, "gated")
    g.gate(S(0) + 8300, 9690, "mirror", "rejected", "not-rsync", "cat /etc/shadow", "203.0.113.9",
           55000, "gated", uid=1000)
    g.gate(S(0) + 8400, 9691, "mirror", "allowed", "rsync-dir", "rsync --server --sender . /",
           "203.0.113.9", 55000, "gated", uid=1000)
    # a forced session whose gate never ran (a request too long to exec: E2BIG): gate-silent
    g.login(S(20), 9610, 9613, "mirror", "gated", "198.51.100.30", 55001, [("forced", gate_cmd)], loc=loc)
    # ... and its account cannot be impersonated: another account's "allowed" does not hide it
    g.gate(S(20) + 8200, 9692, "mirror", "allowed", "rsync-dir", PUSH, "198.51.100.30", 55001,
           "gated", uid=1000)
    # an sshdo refusal written by another account, naming mirror's open connection
    g.login(S(40), 9620, 9623, "mirror", "sshdo", "198.51.100.24", 55002,
            [("forced", "/usr/bin/sshdo backup")], loc="/home/mirror/.ssh/authorized_keys:6", end="none")
    g.add(S(40) + 8500, 9693, 1000, 'type="disallowed" user="mirror" remoteip="198.51.100.24" label="backup" command="rm -rf /srv/mirror"',
          ident="sshdo", exe_path="/usr/bin/python3.11", comm="sshdo")
    g.write("gate-forgery")


def input_scenarios():
    # 24. every entry stored twice, one after the other (an import repeated): judged once. A
    #     stripped key's shell session is one unforced-session, the forced push raises nothing.
    g = Gen()
    g.login(S(0), 9700, 9703, "mirror", "push", "203.0.113.9", 56000, [("forced", PUSH)])
    g.login(S(20), 9710, 9713, "mirror", "push", "203.0.113.9", 56001, [("command", None)])
    g.entries.sort(key=lambda f: int(f["__MONOTONIC_TIMESTAMP"]))
    g.entries = [dict(f) for f in g.entries for _ in (0, 1)]
    g.write("duplicates", order=False)

    # 25. a session start stored before the monitor names its process (out of order in the file):
    #     held on its connection until the monitor names its PID, then taken as the child's: no
    #     alert, as in the usual order (race_scenarios() has the order CI saw, and forgeries).
    g = Gen()
    g.login(S(0), 9720, 9723, "mirror", "push", "203.0.113.9", 56002, [("forced", PUSH)])
    g.entries.sort(key=lambda f: int(f["__MONOTONIC_TIMESTAMP"]))
    start = next(i for i, f in enumerate(g.entries) if f["MESSAGE"].startswith("Starting session"))
    link = next(i for i, f in enumerate(g.entries) if f["MESSAGE"].startswith("User child"))
    g.entries.insert(link, g.entries.pop(start))
    g.write("out-of-order", order=False)

    # 26. the wall clock steps a day ahead for one entry, then back: the boot's monotonic clock
    #     decides the timeouts, so the next forced push is no no-session. A second host whose
    #     clock is a day ahead times out nothing on the first.
    g = Gen()
    g.noise(S(0))
    step = dict(g.entries[-1])
    g.entries.pop()
    g.login(S(5), 9730, 9733, "mirror", "push", "203.0.113.9", 56003, [("forced", PUSH)])
    g.entries.sort(key=lambda f: int(f["__MONOTONIC_TIMESTAMP"]))
    # the first entry after the login's acceptance is dated a day ahead
    acc = next(i for i, f in enumerate(g.entries) if f["MESSAGE"].startswith("Accepted publickey"))
    ahead = dict(g.entries[acc])
    ahead["__REALTIME_TIMESTAMP"] = str(int(ahead["__REALTIME_TIMESTAMP"]) + 86400 * 1000000)
    ahead["MESSAGE"] = "Server listening on 0.0.0.0 port 22."
    ahead["_PID"] = ahead["SYSLOG_PID"] = "600"
    g.entries.insert(acc + 1, ahead)
    other = Gen()
    other.login(S(3) + 86400 * 1000000, 9740, 9743, "ops", "admin", "198.51.100.4", 56004,
                [("pty-shell", None)])
    for f in other.entries:
        f["_MACHINE_ID"] = "9d1c6f0b5e8f6a4c9aa1f2e3d4c5b6a7"
        f["_BOOT_ID"] = "7a3e5ad2d3c94bd59b4f7a5e0c2b1a02"
        f["_HOSTNAME"] = "other1"
    g.entries[acc + 2:acc + 2] = other.entries
    g.write("clock-step", order=False)


def eviction(out, logins, scanners):
    """A forced-key login with a stripped line, `scanners` pre-auth connections that never close,
    then the login's shell session; then `logins` forced-key logins that never start a session
    or end. Written to out (the test makes it at run time: it is large)."""
    g = Gen()
    g.login(S(0), 20000, 20003, "mirror", "push", "203.0.113.9", 40000, [], end="none", ms=10)
    for i in range(scanners):
        g.add(S(1) + i * 100, 30000 + i, 0,
              'Connection from 192.0.2.%d port %d on 10.0.0.4 port 22 rdomain ""' % (i % 250 + 1, 1024 + i))
    g.add(S(2), 20003, 1001, "Starting session: command for mirror from 203.0.113.9 port 40000 id 0")
    for i in range(logins):
        g.login(S(3) + i * 1000, 40000 + 10 * i, 40003 + 10 * i, "mirror", "push", "203.0.113.10",
                41000 + i, [], end="none", ms=10)
    g.entries.sort(key=lambda f: int(f["__MONOTONIC_TIMESTAMP"]))
    with open(out, "w") as o:
        for f in g.entries:
            for k, v in f.items():
                o.write("%s=%s\n" % (k, v))
            o.write("\n")


def race_login(g, t, mpid, cpid, port, before, session, after, user_child=True, end=True):
    """A 10.0 forced push whose user child logged before its monitor named it: the order of
    e2e trixie/10-concurrent (OpenSSH 10.0 under load), with that run's gaps in microseconds.
    before: (usec, pid, uid, message) lines between the monitor's pam_env line and its
    "User child" line (the child's own "Starting session" is session's place in them)."""
    ip = "127.0.0.1"
    tail = " for mirror from %s port %d id 0" % (ip, port)
    mon = [(0, 'Connection from %s port %d on 127.0.0.1 port 18047 rdomain ""' % (ip, port)),
           (3932217, "Accepted key ED25519 %s found at /home/mirror/.ssh/authorized_keys:1" % fp("push")),
           (3938871, "Postponed publickey for mirror from %s port %d ssh2 [preauth]" % (ip, port)),
           (3992503, "Accepted key ED25519 %s found at /home/mirror/.ssh/authorized_keys:1" % fp("push")),
           (4576684, "Accepted publickey for mirror from %s port %d ssh2: ED25519 %s" % (ip, port, fp("push"))),
           (4632698, "pam_unix(sshd:session): session opened for user mirror(uid=1001) by mirror(uid=0)"),
           (4752337, "pam_env(sshd:session): Unable to open env file: /etc/default/locale")]
    for dt, m in mon:
        g.add(t + dt, mpid, 0, m)
    lines = list(before)
    if session:
        lines.append((4784415, cpid, 1001, "Starting session: %s%s" % (session, tail)))
    for dt, pid, uid, m in sorted(lines):
        g.add(t + dt, pid, uid, m)
    if user_child:
        g.add(t + 4789070, mpid, 0, "User child is on pid %d" % cpid)
    for dt, pid, uid, m in after or []:
        g.add(t + dt, pid, uid, m)
    if after is not None:
        for dt, m in [(4983931, "Connection closed by %s port %d" % (ip, port)),
                      (4983982, "Close session: user mirror from %s port %d id 0" % (ip, port)),
                      (4984002, "Transferred: sent 3464, received 12860 bytes"),
                      (4984011, "Closing connection to %s port %d" % (ip, port))]:
            if session:
                g.add(t + dt, cpid, 1001, m)
    if end:
        g.add(t + 4984287, mpid, 0, "pam_unix(sshd:session): session closed for user mirror")


def race_scenarios():
    # 34. sshd 10.0's user child logged its "Starting session" 4.6 ms before its monitor logged
    #     "User child is on pid N" (CI, trixie/10-concurrent): the line is held on its connection
    #     until the monitor names it, then taken as the child's. The same alerts as in sshd's
    #     usual order: none for the forced push, unforced-session for a shell of the push key
    #     (its time and evidence the session line's).
    g = Gen("10.0")
    forced = "forced-command (key-option) '%s'" % PUSH
    race_login(g, S(0), 14132, 14263, 20830, [], forced, [])
    race_login(g, S(10), 14140, 14271, 20831, [], "shell", [])
    g.write("race-child-first")
    g = Gen("10.0")
    race_login(g, S(0), 14132, 14263, 20830, [], forced, [], user_child=False)
    g.add(S(0) + 4789070 - 4700, 14132, 0, "User child is on pid 14263")
    race_login(g, S(10), 14140, 14271, 20831, [], "shell", [], user_child=False)
    g.add(S(10) + 4789070 - 4700, 14140, 0, "User child is on pid 14271")
    g.write("race-child-after")

    # 35. in that window the account itself (its _UID, sshd-session's _EXE) writes a line that
    #     names the connection from another PID: held too, and spoofed-entry when the monitor
    #     names the real child, whose session is taken (no alert for it).
    g = Gen("10.0")
    race_login(g, S(0), 14132, 14263, 20830,
               [(4770000, 14290, 1001, "Starting session: shell for mirror from 127.0.0.1 port 20830 id 0")],
               forced, [])
    g.write("race-forged")

    # 36. more lines than a connection holds (4): with a fifth, the oldest is judged at once as
    #     forged (as before holding), so alerts stay in entry order. Four forged lines, then the
    #     child's: the first forged one goes at once, the other three when the monitor names the
    #     child, whose session is taken. The child's line, then four forged: the child's line is
    #     pushed out (spoofed-entry) and its connection ends without a session (no-session): the
    #     account can make noise this way, never hide an alert.
    g = Gen("10.0")
    race_login(g, S(0), 14132, 14263, 20830,
               [(4770000 + i, 14290 + i, 1001, "Starting session: command for mirror from 127.0.0.1 port 20830 id %d" % i)
                for i in range(4)], forced, [])
    race_login(g, S(10), 14140, 14271, 20831,
               [(4784500 + i, 14295 + i, 1001, "Starting session: command for mirror from 127.0.0.1 port 20831 id %d" % i)
                for i in range(4)], forced, [])
    g.write("race-overflow")

    # 37. a held line whose connection ends before its monitor names any child: spoofed-entry
    #     at the end (before its no-session); likewise when the connection times out (60 s).
    g = Gen("10.0")
    race_login(g, S(0), 14132, 14263, 20830,
               [(4770000, 14290, 1001, "Starting session: shell for mirror from 127.0.0.1 port 20830 id 0")],
               None, None, user_child=False)
    race_login(g, S(10), 14140, 14271, 20831,
               [(4770000, 14295, 1001, "Starting session: shell for mirror from 127.0.0.1 port 20831 id 0")],
               None, None, user_child=False, end=False)
    g.noise(S(80))
    g.write("race-end")

    # 38. the input ends while lines are held: their connections are still open and their
    #     monitors have named no child (a scan's --until, or a live journal, can end between the
    #     child's line and the monitor's; so can a journal whose monitor lines were lost). Each is
    #     spoofed-entry at the end ("could not be tied to it"), in entry order across
    #     connections, after the other alerts; the connections stay open (no no-session). A
    #     third connection's held line whose monitor does name it is taken (no alert).
    g = Gen("10.0")
    race_login(g, S(0), 14132, 14263, 20830, [], forced, None, user_child=False, end=False)
    race_login(g, S(1), 14140, 14271, 20831,
               [(4770000, 14295, 1001, "Starting session: shell for mirror from 127.0.0.1 port 20831 id 0")],
               "shell", None, user_child=False, end=False)
    g.add(S(1) + 4800000, 14290, 1001, "Starting session: shell for mirror from 127.0.0.1 port 20830 id 1")
    race_login(g, S(2), 14150, 14281, 20832, [], forced, [])
    g.write("race-open")


if __name__ == "__main__":
    import sys
    if len(sys.argv) == 5 and sys.argv[1] == "eviction":
        eviction(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        sys.exit(0)
    main()
    forgery_scenarios()
    input_scenarios()
    gated_scenarios()
    certificate_scenarios()
    logger_priority_scenario()
    interleaved_scenarios()
    race_scenarios()
