#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# A stand-in for systemd's side of sd_notify(3) in tests: bind the datagram socket PATH and append
# every message received to FILE, one line per message (newlines inside a message become ' | '),
# each prefixed with the monotonic time. Exits when PATH disappears or after 1 hour.
#   notify.py PATH FILE
import os
import socket
import sys
import time

path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(0.5)
end = time.monotonic() + 3600
with open(out, "a", buffering=1) as f:
    while time.monotonic() < end and os.path.exists(path):
        try:
            m = s.recv(65536)
        except socket.timeout:
            continue
        f.write("%.6f %s\n" % (time.monotonic(), m.decode("utf-8", "replace").strip().replace("\n", " | ")))
