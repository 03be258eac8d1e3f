#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Render journal export text (systemd-journal-remote's input) as a syslog daemon writes it, for
# the text-log tests:
#
#   render.py FORMAT [SHIFT_SECONDS] < EXPORT > LOG
#
# FORMAT: syslog   "Nov 27 04:23:43 vm sshd[18429]: ..." (Debian's auth.log, RHEL's secure; UTC)
#         rfc3339  "2026-11-27T04:23:43.264111+00:00 vm sshd[18429]: ..." (rsyslog's current default)
# SHIFT_SECONDS moves every entry in time (to put a run across New Year). The PID is SYSLOG_PID, as
# rsyslog writes it (it is the sender's claim; _PID is journald's and never reaches a syslog file).
import datetime
import struct
import sys


def entries(f):
    e = {}
    while True:
        line = f.readline()
        if not line:
            if e:
                yield e
            return
        if line == b"\n":
            if e:
                yield e
            e = {}
            continue
        line = line.rstrip(b"\n")
        if b"=" in line:
            k, v = line.split(b"=", 1)
        else:  # binary field: NAME\n<le64 size><data>\n
            k = line
            (n,) = struct.unpack("<Q", f.read(8))
            v = f.read(n)
            f.read(1)
        e[k.decode()] = v


fmt = sys.argv[1]
shift = int(sys.argv[2]) if len(sys.argv) > 2 else 0
out = sys.stdout.buffer
for e in entries(sys.stdin.buffer):
    if "MESSAGE" not in e:
        continue
    usec = int(e["__REALTIME_TIMESTAMP"]) + shift * 1000000
    t = datetime.datetime.fromtimestamp(usec // 1000000, datetime.timezone.utc)
    if fmt == "syslog":
        stamp = "%s %2d %s" % (t.strftime("%b"), t.day, t.strftime("%H:%M:%S"))
    elif fmt == "rfc3339":
        stamp = t.strftime("%Y-%m-%dT%H:%M:%S") + ".%06d+00:00" % (usec % 1000000)
    else:
        sys.exit("unknown format " + fmt)
    tag = e.get("SYSLOG_IDENTIFIER", b"-")
    pid = e.get("SYSLOG_PID")
    # rsyslog escapes control characters as #NNN (octal)
    msg = b"".join(b"#%03o" % c if c < 32 else bytes([c]) for c in e["MESSAGE"])
    out.write(stamp.encode() + b" " + e.get("_HOSTNAME", b"localhost") + b" " + tag +
              (b"[" + pid + b"]" if pid else b"") + b": " + msg + b"\n")
