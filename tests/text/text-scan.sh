#!/bin/bash
# SPDX-License-Identifier: MIT
# Text logs give the alerts of the journal of the same run. The bundled real sample
# (tests/data/e2e-openssh-9.2.export, the e2e bed's run) is made a journal file, scanned, and
# rendered as text in every format keytrail reads: journalctl -o short-iso and -o short-precise
# (the real journalctl on that file), classic syslog and rsyslog's RFC 3339 (tests/text/render.py),
# a .gz, a run across New Year, rotated files merged, standard input. Each scan of text must give
# the journal's alerts, field by field (time to the second), except what only the journal can
# tell: the two forged entries of scenario 13 are spoofed-entry in the journal; in text nothing
# tells them from sshd's, so the forged "Starting session: shell" counts as the session it
# claims (one unforced-session) - see docs/text-logs.md.
#
#   text-scan.sh KEYTRAIL SOURCE_DIR
set -eu
keytrail=$1 src=$2
data=$src/tests/data
. "$src/tests/journal-lib.sh"
export TZ=UTC
. "$src/tests/tap-lib.sh"

sample_args "$src"
# The fields someone cares about, time to the second (classic syslog has no more).
key='[.type, .severity, .host, (.user // "-"), (.fingerprint // "-"), (.key_type // "-"),
      (.source_ip // "-"), (.source_port // "-" | tostring), (.session_id // "-" | tostring),
      (.session_type // "-"), (.expected_command // "-"), (.observed_command // "-"),
      (.key_location // "-"), (.rule // "-"), .time[0:19]] | join("|")'

journal_from_export "$data/e2e-openssh-9.2.export" "$tmp/s.journal"
set +e
"$keytrail" scan --file "$tmp/s.journal" "${args[@]}" -o json >"$tmp/journal.json" 2>"$tmp/err"
rc=$?
set -e
check "journal scan: exit 1" '[ $rc = 1 ]'
jq -r "$key" "$tmp/journal.json" | LC_ALL=C sort >"$tmp/journal.k"
check "journal scan: 11 alerts" '[ $(wc -l <"$tmp/journal.k") = 11 ]'
check "journal alerts say provenance journal" \
        '[ "$(jq -r .provenance "$tmp/journal.json" | sort -u)" = journal ]'

# What text must give: the journal's alerts without the two spoofed-entry, with the forged session.
grep -v '^spoofed-entry|' "$tmp/journal.k" >"$tmp/want.k"
forged=$(jq -r 'select(.type == "spoofed-entry" and .fingerprint != null) |
        ["unforced-session", "critical", .host, .user, .fingerprint, .key_type, .source_ip,
         (.source_port | tostring), "0", "shell",
         "rsync --server -logDtpre.iLsfxCIvu --delete . /tmp/kt-e2e.JccAZQ/home/ktdemopush/backup13/",
         "-", "-", "sshd.session.start",
         .time[0:19]] | join("|")' "$tmp/journal.json")
echo "$forged" >>"$tmp/want.k"
LC_ALL=C sort -o "$tmp/want.k" "$tmp/want.k"

# scan_text NAME [SHIFT] -- INPUT...: scan, compare with want (shifted by SHIFT seconds)
scan_text() {
        local name=$1 shift_s=$2
        shift 3
        local in=() f
        for f in "$@"; do in+=(--input "$f"); done
        set +e
        "$keytrail" scan "${in[@]}" "${args[@]}" -o json <"${STDIN:-/dev/null}" \
                >"$tmp/$name.json" 2>"$tmp/$name.err"
        local rc=$?
        set -e
        check "$name: exit 1, nothing on stderr" '[ $rc = 1 ] && ! [ -s "$tmp/$name.err" ]' ||
                cat "$tmp/$name.err" >&2
        jq -r "$key" "$tmp/$name.json" | LC_ALL=C sort >"$tmp/$name.k"
        python3 -c '
import datetime, sys
s = int(sys.argv[1])
for l in sys.stdin:
    f = l.rstrip("\n").split("|")
    t = datetime.datetime.strptime(f[-1], "%Y-%m-%dT%H:%M:%S") + datetime.timedelta(seconds=s)
    f[-1] = t.strftime("%Y-%m-%dT%H:%M:%S")
    print("|".join(f))' "$shift_s" <"$tmp/want.k" >"$tmp/$name.want"
        LC_ALL=C sort -o "$tmp/$name.want" "$tmp/$name.want"
        if diff -u "$tmp/$name.want" "$tmp/$name.k" >"$tmp/$name.diff"; then
                ok "$name: the journal's alerts, field by field"
        else
                not_ok "$name: the journal's alerts, field by field"
                sed 's/^/# /' "$tmp/$name.diff"
        fi
        check "$name: provenance text, no machine id, on every alert" \
                '[ "$(jq -r "[.provenance, .machine_id] | join(\" \")" "$tmp/$name.json" | sort -u)" = "text " ]'
        # Every evidence is FILE:LINE of a line of sshd that names the alert's port or user.
        local bad=0 ev file line text
        while IFS=$'\t' read -r ev port user; do
                file=${ev%:*} line=${ev##*:}
                [ "$file" = "(stdin)" ] && file=$STDIN
                case $file in *.gz) text=$(zcat "$file" | sed -n "${line}p") ;;
                              *) text=$(sed -n "${line}p" "$file") ;; esac
                case $text in *sshd*) ;; *) bad=1 ;; esac
                case $text in *"port $port"* | *" $user "* | *"user $user"*) ;; *) bad=1 ;; esac
        done < <(jq -r '.evidence[] as $e | [$e, .source_port, .user] | @tsv' "$tmp/$name.json")
        check "$name: evidence is FILE:LINE of the deciding lines" '[ $bad = 0 ]'
}

journalctl --file "$tmp/s.journal" -o short-iso >"$tmp/short-iso.log"
journalctl --file "$tmp/s.journal" -o short-precise >"$tmp/short-precise.log"
python3 "$src/tests/text/render.py" syslog <"$data/e2e-openssh-9.2.export" >"$tmp/auth.log"
python3 "$src/tests/text/render.py" rfc3339 <"$data/e2e-openssh-9.2.export" >"$tmp/rfc3339.log"
touch -d "2026-11-28 00:00 UTC" "$tmp/short-precise.log" "$tmp/auth.log"
check "journalctl -o short-iso writes ISO dates" 'grep -q "^2026-11-27T04:23:43+0000 vm sshd\[" "$tmp/short-iso.log"'

scan_text short-iso 0 -- "$tmp/short-iso.log"
scan_text short-precise 0 -- "$tmp/short-precise.log"
scan_text syslog 0 -- "$tmp/auth.log"
scan_text rfc3339 0 -- "$tmp/rfc3339.log"

gzip -c "$tmp/auth.log" >"$tmp/auth.log.gz"
touch -r "$tmp/auth.log" "$tmp/auth.log.gz"
scan_text gzip 0 -- "$tmp/auth.log.gz"

# Rotated: the older half compressed, given after the newer; merged by time.
lines=$(wc -l <"$tmp/auth.log")
head -n $((lines / 2)) "$tmp/auth.log" | gzip -c >"$tmp/auth.log.1.gz"
tail -n +$((lines / 2 + 1)) "$tmp/auth.log" >"$tmp/auth.log.0"
touch -r "$tmp/auth.log" "$tmp/auth.log.1.gz" "$tmp/auth.log.0"
scan_text rotated 0 -- "$tmp/auth.log.0" "$tmp/auth.log.1.gz"

STDIN=$tmp/rfc3339.log scan_text stdin 0 -- -

# Two hosts at once, the same run on each (same times, same PIDs): joined by host and PID, each
# host's connections apart, every alert twice, once per host.
sed 's/^\([^ ]*\) vm /\1 vm2 /' "$tmp/rfc3339.log" >"$tmp/vm2.log"
set +e
"$keytrail" scan --input "$tmp/rfc3339.log" --input "$tmp/vm2.log" "${args[@]}" -o json \
        >"$tmp/hosts.json" 2>/dev/null
set -e
jq -r "$key" "$tmp/hosts.json" | LC_ALL=C sort >"$tmp/hosts.k"
{ cat "$tmp/want.k"; sed 's/^\([^|]*|[^|]*\)|vm|/\1|vm2|/' "$tmp/want.k"; } | LC_ALL=C sort >"$tmp/hosts.want"
check "two hosts, same PIDs and times: each host's alerts, apart ($(wc -l <"$tmp/hosts.k"))" \
        'diff -q "$tmp/hosts.want" "$tmp/hosts.k" >/dev/null' || diff "$tmp/hosts.want" "$tmp/hosts.k" | head -5

# The reader thread (--jobs 2: reading and rule matching in a thread of their own) and --jobs 1
# (everything in one thread) give the same output byte for byte, and the same counters, on the two
# hosts and on rotated files.
for set in "--input $tmp/rfc3339.log --input $tmp/vm2.log" \
           "--input $tmp/auth.log.0 --input $tmp/auth.log.1.gz"; do
        set +e
        # shellcheck disable=SC2086
        "$keytrail" scan --jobs 2 $set "${args[@]}" -o json --stats >"$tmp/thr.json" 2>"$tmp/thr.err"
        # shellcheck disable=SC2086
        "$keytrail" scan --jobs 1 $set "${args[@]}" -o json --stats >"$tmp/one.json" 2>"$tmp/one.err"
        set -e
        check "--jobs 2 and --jobs 1: the same alerts byte for byte ($(wc -l <"$tmp/thr.json"))" \
                '[ -s "$tmp/thr.json" ] && cmp -s "$tmp/thr.json" "$tmp/one.json"'
        check "--jobs 2 and --jobs 1: the same stats line" \
                'grep -q "stats: records=" "$tmp/thr.err" && cmp -s "$tmp/thr.err" "$tmp/one.err"'
done

# Hostile lengths through the reader thread, which lends its records in place (fields cut at
# RECORD_FIELD_MAX_BYTES there as record_set() cuts them): sshd lines of 66,000 bytes (a message
# cut at 64 KiB) and 70,000 bytes (a line cut at 65 KiB), and a long user name the rules do match,
# among the real ones. The same alerts and counters as --jobs 1.
python3 - "$tmp/auth.log" >"$tmp/long.log" <<'PY'
import re, sys
lines = open(sys.argv[1], encoding="utf-8", errors="surrogateescape").read().split("\n")
h = re.sub(r"sshd\[[0-9]+\]: .*", "", lines[19])
for pid, name in ((4242, "a" * 66000), (4243, "b" * 70000), (4244, "x" * 8000)):
    lines.insert(19, f"{h}sshd[{pid}]: Invalid user {name} from 203.0.113.9 port {pid}")
sys.stdout.write("\n".join(lines))
PY
touch -r "$tmp/auth.log" "$tmp/long.log"
set +e
"$keytrail" scan --jobs 2 --input "$tmp/long.log" "${args[@]}" -o json --stats >"$tmp/long2.json" 2>"$tmp/long2.err"
"$keytrail" scan --jobs 1 --input "$tmp/long.log" "${args[@]}" -o json --stats >"$tmp/long1.json" 2>"$tmp/long1.err"
set -e
check "lines of 66,000 and 70,000 bytes: --jobs 2 and --jobs 1 give the same alerts byte for byte" \
        '[ -s "$tmp/long2.json" ] && cmp -s "$tmp/long2.json" "$tmp/long1.json"'
check "lines of 66,000 and 70,000 bytes: --jobs 2 and --jobs 1 give the same stats line" \
        'grep -q "stats: records=" "$tmp/long2.err" && cmp -s "$tmp/long2.err" "$tmp/long1.err"'

# Many batches (the synthetic bench log, 40,000 entries, about 20,000 sshd lines: 10 batches of the
# reader thread): the reader hands some of the matching to the pipeline whenever the pipeline waited
# for it (src/source/text.c, MATCH_SHARE_STEPS), so here entries matched ahead and entries matched
# by the pipeline mix; still byte for byte what --jobs 1 gives, and every anomaly injected.
python3 "$src/bench/gen-export.py" --entries 40000 --seed 3 --keys-dir "$tmp/gk" -o - 2>/dev/null |
        python3 "$src/tests/text/render.py" syslog >"$tmp/gen.log"
touch -d "2026-12-05 00:00 UTC" "$tmp/gen.log"
gen_args=(--rules "$src/rules" -o json --stats)
while read -r a; do gen_args+=(--authorized-keys "$a"); done <"$tmp/gk/baseline.args"
set +e
"$keytrail" scan --jobs 2 --input "$tmp/gen.log" "${gen_args[@]}" >"$tmp/gen2.json" 2>"$tmp/gen2.err"
"$keytrail" scan --jobs 1 --input "$tmp/gen.log" "${gen_args[@]}" >"$tmp/gen1.json" 2>"$tmp/gen1.err"
set -e
# text tells no forged line from sshd's: spoofed-entry anomalies count as the wrong-user they claim
gen_want=$(grep -v '^#' "$tmp/gk/anomalies.txt" |
        awk '{ print ($1 == "spoofed-entry" ? "wrong-user" : $1), $2, $3, $4 }' | LC_ALL=C sort)
check "40,000 generated entries: the anomalies injected, exactly ($(echo "$gen_want" | wc -l))" \
        '[ "$(jq -r "[.type, .user, .fingerprint, .source_port] | map(tostring) | join(\" \")" \
               "$tmp/gen2.json" | LC_ALL=C sort)" = "$gen_want" ]'
check "40,000 generated entries: --jobs 2 and --jobs 1 give the same alerts byte for byte" \
        'cmp -s "$tmp/gen2.json" "$tmp/gen1.json"'
check "40,000 generated entries: --jobs 2 and --jobs 1 give the same stats line" \
        'grep -q "stats: records=" "$tmp/gen2.err" && cmp -s "$tmp/gen2.err" "$tmp/gen1.err"'

# A regular file is mapped (src/source/text.c), and the pages behind the reader are let go as it
# reads: a 64 MiB file does not stay resident to the end of its scan. Peak RSS (getrusage) of a
# scan of it, less that of a scan of a one-line file: under 24 MiB (with the whole file kept
# mapped: over 64; sanitizer builds add the same to both).
python3 - "$tmp/big.log" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    n = 0
    while n < 64 * 1024 * 1024:
        i = n // 100
        line = ("Nov 30 %02d:%02d:%02d bastion %s[%d]: Connection closed by 10.0.%d.%d port %d\n"
                % (i // 3600 % 24, i // 60 % 60, i % 60, "sshd" if i % 2 else "CRON", 1000 + i % 30000,
                   i % 256, i // 256 % 256, 1024 + i % 60000))
        f.write(line)
        n += len(line)
PY
head -1 "$tmp/big.log" >"$tmp/one.log"
touch -d "2026-12-05 00:00 UTC" "$tmp/big.log" "$tmp/one.log"
peak_rss() {
        python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$keytrail" scan --input "$1" "${args[@]}" -o json
}
rss_big=$(peak_rss "$tmp/big.log")
rss_one=$(peak_rss "$tmp/one.log")
check "a 64 MiB file: peak RSS $rss_big KiB, $rss_one KiB for one line: less than 24 MiB more" \
        '[ $((rss_big - rss_one)) -lt 24576 ]'
rm -f "$tmp/big.log"

# Across New Year: the run moved to start at 2026-12-31 23:59:50 (classic syslog has no year; the
# file was last written on 1 January 2027).
first=$(sed -n 's/^__REALTIME_TIMESTAMP=//p' "$data/e2e-openssh-9.2.export" | head -1)
shift_s=$(( $(date -u -d "2026-12-31 23:59:50" +%s) - first / 1000000 ))
python3 "$src/tests/text/render.py" syslog "$shift_s" <"$data/e2e-openssh-9.2.export" >"$tmp/newyear.log"
touch -d "2027-01-01 02:00 UTC" "$tmp/newyear.log"
check "the New Year rendering runs from December into January" \
        'head -1 "$tmp/newyear.log" | grep -q "^Dec 31 23:59:50" && tail -1 "$tmp/newyear.log" | grep -q "^Jan  1 "'
scan_text newyear "$shift_s" -- "$tmp/newyear.log"
check "New Year: alerts on both sides of midnight" \
        'jq -r .time "$tmp/newyear.json" | grep -q "^2026-12-31" && jq -r .time "$tmp/newyear.json" | grep -q "^2027-01-01"'

# The OpenSSH 10.0 sample (sshd-session, sshd-auth) as journalctl -o short-iso: the same rule
# (its journal needs the chroot's binaries trusted; text has nothing to trust).
journal_from_export "$data/e2e-openssh-10.0.export" "$tmp/s10.journal"
journalctl --file "$tmp/s10.journal" -o short-iso >"$tmp/s10.log"
trixie=/var/cache/keytrail-e2e/trixie
k10='[.type, .user, .fingerprint, .source_port, .session_id, .session_type, .time[0:19]] |
     map(tostring) | join(" ")'
set +e
"$keytrail" scan --file "$tmp/s10.journal" "${args[@]}" -o json \
        --trusted-exe "$trixie/usr/lib/openssh/sshd-session" --trusted-exe "$trixie/usr/sbin/sshd" \
        >"$tmp/j10.json" 2>/dev/null
"$keytrail" scan --input "$tmp/s10.log" "${args[@]}" -o json >"$tmp/t10.json" 2>"$tmp/t10.err"
set -e
{ jq -r "select(.type != \"spoofed-entry\") | $k10" "$tmp/j10.json"
  jq -r 'select(.type == "spoofed-entry" and .fingerprint != null) |
        ["unforced-session", .user, .fingerprint, .source_port, 0, "shell", .time[0:19]] |
        map(tostring) | join(" ")' "$tmp/j10.json"; } | LC_ALL=C sort >"$tmp/want10"
jq -r "$k10" "$tmp/t10.json" | LC_ALL=C sort >"$tmp/got10"
check "OpenSSH 10.0 as short-iso: the journal's alerts ($(wc -l <"$tmp/got10")), nothing on stderr" \
        '[ "$(wc -l <"$tmp/want10")" -ge 9 ] && diff -q "$tmp/want10" "$tmp/got10" >/dev/null && ! [ -s "$tmp/t10.err" ]' ||
        diff "$tmp/want10" "$tmp/got10" | sed 's/^/# /'

# --since/--until bound text as they bound the journal (a window with a few of the scenarios).
win=(--since "2026-11-27 04:23:50" --until "2026-11-27 04:24:00")
set +e
"$keytrail" scan --file "$tmp/s.journal" "${win[@]}" "${args[@]}" -o json >"$tmp/win-j.json" 2>/dev/null
"$keytrail" scan --input "$tmp/rfc3339.log" "${win[@]}" "${args[@]}" -o json >"$tmp/win-t.json" 2>/dev/null
set -e
jq -r "$key" "$tmp/win-j.json" | LC_ALL=C sort >"$tmp/win-j.k"
jq -r "$key" "$tmp/win-t.json" | LC_ALL=C sort >"$tmp/win-t.k"
check "--since/--until: the journal's alerts of the window ($(wc -l <"$tmp/win-j.k"))" \
        '[ -s "$tmp/win-j.k" ] && [ "$(wc -l <"$tmp/win-j.k")" -lt 11 ] && diff -q "$tmp/win-j.k" "$tmp/win-t.k" >/dev/null'

# Errors: exit 2, one line naming FILE:LINE or the flag; alerts before the error stay written.
expect_error() { # NAME WANT-IN-STDERR -- ARGS...
        local name=$1 want=$2
        shift 3
        set +e
        "$keytrail" scan "$@" "${args[@]}" -o json >"$tmp/e.out" 2>"$tmp/e.err"
        local rc=$?
        set -e
        if [ $rc = 2 ] && [ "$(wc -l <"$tmp/e.err")" = 1 ] && grep -qF -- "$want" "$tmp/e.err"; then
                ok "$name: exit 2, '$want'"
        else
                not_ok "$name: exit 2, '$want' (rc $rc)"
                sed 's/^/# /' "$tmp/e.err"
        fi
}
expect_error "a journal file given as text" "$tmp/s.journal:1: not a syslog" -- --input "$tmp/s.journal"
expect_error "a missing file" "--input: cannot read $tmp/nope:" -- --input "$tmp/nope"
expect_error "a directory" "--input: cannot read $tmp:" -- --input "$tmp"
expect_error "text and journal together" "--input (text logs) cannot be combined with --file" -- \
        --input "$tmp/auth.log" --file "$tmp/s.journal"
{ head -n 200 "$tmp/auth.log"; printf 'garbage line\n'; tail -n +201 "$tmp/auth.log"; } >"$tmp/bad.log"
touch -r "$tmp/auth.log" "$tmp/bad.log"
expect_error "a bad line amid good ones" "$tmp/bad.log:201: not a log line in a known format; 1 line skipped" -- \
        --input "$tmp/bad.log"
check "  ... and every alert before and after it is written" '[ "$(wc -l <"$tmp/e.out")" = 10 ]'
# follow tails the live journal: --input and --policy are refused there, never ignored.
for opt in --input --policy; do
        set +e
        "$keytrail" follow $opt "$tmp/auth.log" >/dev/null 2>"$tmp/f.err"
        rc=$?
        set -e
        check "follow $opt: refused (exit 2)" \
                '[ $rc = 2 ] && grep -qF -- "unknown option '"'"'$opt'"'"'" "$tmp/f.err"'
done
expect_error "standard input twice" "--input: standard input (-) given twice" -- --input - --input -
sed 's/$/\r/' "$tmp/auth.log" >"$tmp/crlf.log"
touch -r "$tmp/auth.log" "$tmp/crlf.log"
scan_text crlf 0 -- "$tmp/crlf.log"
head -c 3000 "$tmp/auth.log.gz" >"$tmp/cut.gz"
expect_error "a truncated .gz" "$tmp/cut.gz:" -- --input "$tmp/cut.gz"
check "  ... says why" 'grep -q "corrupt or truncated gzip data" "$tmp/e.err"'

tap_done
