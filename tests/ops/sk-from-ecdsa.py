#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Security-key public keys without a security key: ssh-keygen cannot make an sk key here (no
# FIDO token), but the public half of one is just a wire-format blob. Turn a real ssh-keygen key
# into the sk key with the same public point:
#   ecdsa-sha2-nistp256 (string type, string curve, string Q)
#       -> sk-ecdsa-sha2-nistp256@openssh.com (string type, string curve, string Q, string app)
#   ssh-ed25519 (string type, string pk)
#       -> sk-ssh-ed25519@openssh.com (string type, string pk, string app)
# Reads the .pub line on stdin, writes the sk .pub line. ssh-keygen -lf reads what this writes.
import base64
import struct
import sys


def strings(blob):
    out = []
    while blob:
        (n,) = struct.unpack(">I", blob[:4])
        out.append(blob[4:4 + n])
        blob = blob[4 + n:]
    return out


def s(b):
    return struct.pack(">I", len(b)) + b


kind, b64, *comment = sys.stdin.read().split()
parts = strings(base64.b64decode(b64))
if kind == "ecdsa-sha2-nistp256":
    new_type = b"sk-ecdsa-sha2-nistp256@openssh.com"
    blob = s(new_type) + s(parts[1]) + s(parts[2]) + s(b"ssh:")
elif kind == "ssh-ed25519":
    new_type = b"sk-ssh-ed25519@openssh.com"
    blob = s(new_type) + s(parts[1]) + s(b"ssh:")
else:
    sys.exit("sk-from-ecdsa.py: only ecdsa-sha2-nistp256 and ssh-ed25519 keys")
print(new_type.decode(), base64.b64encode(blob).decode(), *comment)
