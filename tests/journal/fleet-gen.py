#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Random journal fleets (review2's J1 --jobs differential fuzzer; tests/journal/ref-lookup.sh uses
seed 233, where an entry stored twice under one seqnum id is handed out as its second copy).
fleet-gen.py SEED OUTDIR SAMPLE.export...  writes OUTDIR/plan: lines "new FILE EXPORT" or
"append FILE EXPORT" or "copy SRC DST", applied in order by the shell (journal-remote).
Entries are the samples' own (real sshd lines, alerts), re-timed: equal clocks, clocks set back,
several boots and machines, one seqnum id over several files (copy then append), the same entry in
two files (duplicates under different seqnum ids, and under one)."""
import os, random, sys

seed = int(sys.argv[1]); out = sys.argv[2]; samples = sys.argv[3:]
rng = random.Random(seed)
entries = []
for s in samples:
    for block in open(s, encoding="utf-8", errors="surrogateescape").read().split("\n\n"):
        lines = [l for l in block.split("\n") if l and not l.startswith("__CURSOR=")]
        if lines:
            entries.append(lines)
n = rng.randint(40, min(len(entries), 700))
start = rng.randint(0, len(entries) - n)
entries = entries[start:start + n]
if rng.random() < 0.35:
    # big files: several batches each (a reader's batch is at most 256 entries)
    entries = entries * rng.randint(4, 12)
    n = len(entries)
boots = ["%032x" % rng.getrandbits(128) for _ in range(rng.randint(1, 3))]
machines = ["%032x" % rng.getrandbits(128) for _ in range(rng.randint(1, 2))]
tie = rng.choice([1, 1, 2, 5, 50])          # entries per wall-clock value
back = rng.choice([0, 0, 0.02, 0.1])        # chance of a clock set back
mono_tie = rng.choice([1, 1, 3, 50])
base = 1795753423000000
t = base; mono = {b: 5000000 for b in boots}
out_entries = []
for i, e in enumerate(entries):
    if i % tie == 0:
        t += rng.randint(1, 3000000)
    if rng.random() < back:
        t -= rng.randint(1, 5000000)
    b = rng.choice(boots) if rng.random() < 0.3 else boots[(i // 37) % len(boots)]
    if i % mono_tie == 0:
        mono[b] += rng.randint(1, 2000000)
    m = machines[boots.index(b) % len(machines)]
    f = []
    for l in e:
        k = l.split("=", 1)[0]
        if k in ("__REALTIME_TIMESTAMP", "__MONOTONIC_TIMESTAMP", "_BOOT_ID", "_MACHINE_ID"):
            continue
        f.append(l)
    out_entries.append(["__REALTIME_TIMESTAMP=%d" % t, "__MONOTONIC_TIMESTAMP=%d" % mono[b],
                        "_BOOT_ID=" + b, "_MACHINE_ID=" + m] + f)
nfiles = rng.randint(2, 4) if n > 1000 else rng.randint(2, 9) if rng.random() < 0.7 else rng.randint(10, 40)
chunks = {k: [] for k in range(nfiles)}
for i, e in enumerate(out_entries):
    k = rng.randrange(nfiles) if rng.random() < 0.5 else (i * nfiles) // len(out_entries)
    chunks[k].append(e)
    if rng.random() < 0.03:                    # the same entry in another file too
        chunks[rng.randrange(nfiles)].append(e)
plan = []
def write(name, es):
    p = os.path.join(out, name)
    with open(p, "w", encoding="utf-8", errors="surrogateescape") as fh:
        for e in es:
            fh.write("\n".join(e) + "\n\n")
    return p
for k in range(nfiles):
    es = chunks[k]
    if not es:
        continue
    if rng.random() < 0.25 and len(es) > 4:
        # one seqnum id: k.journal holds a prefix, k-more.journal the prefix then the rest
        cut = rng.randint(1, len(es) - 1)
        plan.append("new f%d.journal %s" % (k, write("f%d-a.export" % k, es[:cut])))
        plan.append("copy f%d.journal f%d-more.journal" % (k, k))
        plan.append("append f%d-more.journal %s" % (k, write("f%d-b.export" % k, es[cut:])))
    else:
        plan.append("new f%d.journal %s" % (k, write("f%d.export" % k, es)))
if rng.random() < 0.3:
    # whole files twice: a copy (one seqnum id: the same entries under the same seqnums) and the
    # same export written again (identical entries under another seqnum id)
    ks = [k for k in range(nfiles) if chunks[k]]
    k = rng.choice(ks)
    plan.append("copy f%d.journal f%d-copy.journal" % (k, k) if ("new f%d.journal" % k) in " ".join(plan) else "")
    plan.append("new f%d-again.journal %s" % (k, write("f%d-again.export" % k, chunks[k])))
plan = [l for l in plan if l]
open(os.path.join(out, "plan"), "w").write("\n".join(plan) + "\n")
print("seed=%d entries=%d files=%d boots=%d tie=%d back=%s mono_tie=%d" %
      (seed, n, nfiles, len(boots), tie, back, mono_tie))
