#!/bin/bash
# SPDX-License-Identifier: MIT
# --stats with --input: a second line, the text reader's counters (docs/alerts.md "Counters"),
# exact on a log of known content: the bundled real sample (tests/data/e2e-openssh-9.2.export) as
# journalctl -o short-iso renders it, with lines of every kind put in after its 20th line: empty,
# journalctl's notes, a boot marker and a continuation (ignored), one in no known format
# (malformed), sshd lines of 70,000 bytes (cut: a long line) and 66,000 bytes (not cut), another
# program's line. Scan (--jobs 1 and 2, plain and gzip), report and learn print the same text line;
# a journal scan prints none. learn --stats prints scan's counters line.
#
#   text-stats.sh KEYTRAIL SOURCE_DIR
set -eu
keytrail=$1 src=$2
. "$src/tests/journal-lib.sh"
export TZ=UTC
. "$src/tests/tap-lib.sh"

sample_args "$src"
sample_text_log "$src" "$tmp/auth.log"
python3 - "$tmp/auth.log" >"$tmp/mixed.log" <<'PY'
import re, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
assert lines[-1] == ""
lines.pop()
h = re.sub(r"sshd\[[0-9]+\]: .*", "", lines[19])
lines[20:20] = [
    "",                                              # ignored
    "-- No entries --",                              # ignored
    "-- Boot 0123456789abcdef0123456789abcdef --",   # ignored (a boot marker)
    "    a continuation of the line before",         # ignored
    "this is not a log line",                        # malformed
    f"{h}sshd[4243]: Invalid user {'b' * 70000} from 203.0.113.9 port 4243",   # cut
    f"{h}sshd[4242]: Invalid user {'a' * 66000} from 203.0.113.9 port 4242",   # not cut
    f"{h}cron[77]: (root) CMD (true)",               # another program's entry
]
sys.stdout.write("\n".join(lines) + "\n")
PY
touch -r "$tmp/auth.log" "$tmp/mixed.log"
gzip -c "$tmp/mixed.log" >"$tmp/mixed.log.gz"
# 399 lines of the sample, 8 put in; 399 + 3 entries; 4 ignored; 1 malformed; 1 long.
want_text="keytrail: text: lines=407 entries=402 ignored=4 malformed=1 long_lines=1"

# run NAME CMD...: stdout to NAME.out, stderr to NAME.err, exit status to NAME.rc
run() {
        local name=$1
        shift
        set +e
        "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null
        echo $? >"$tmp/$name.rc"
        set -e
}

for jobs in 1 2; do
        for f in mixed.log mixed.log.gz; do
                name=scan-$jobs-$f
                run "$name" "$keytrail" scan --jobs "$jobs" --input "$tmp/$f" "${args[@]}" -o json --stats
                check "scan --jobs $jobs --input $f: exit 2 (a malformed line)" \
                        '[ "$(cat "$tmp/$name.rc")" = 2 ]'
                check "  ... the text line, exactly: $want_text" \
                        '[ "$(grep "^keytrail: text:" "$tmp/$name.err")" = "$want_text" ]' ||
                        sed 's/^/# /' "$tmp/$name.err" | cut -c1-200
                check "  ... after the stats line, which counts the malformed line as skipped=1" \
                        '[ "$(sed -n "s/^keytrail: \([a-z]*\):.*/\1/p" "$tmp/$name.err" |
                               tr "\n" " ")" = "stats text " ] &&
                         grep -q "^keytrail: stats: records=401 .* skipped=1 " "$tmp/$name.err"'
        done
done
check "--jobs 1 and 2: the same stderr (plain, gzip)" \
        'cmp -s "$tmp/scan-1-mixed.log.err" "$tmp/scan-2-mixed.log.err" &&
         cmp -s "$tmp/scan-1-mixed.log.gz.err" "$tmp/scan-2-mixed.log.gz.err"'

# The unaltered sample: nothing to ignore, nothing cut.
run plain "$keytrail" scan --input "$tmp/auth.log" "${args[@]}" -o json --stats
check "the sample alone: exit 1, text line lines=399 entries=399 and zeroes" \
        '[ "$(cat "$tmp/plain.rc")" = 1 ] &&
         [ "$(grep "^keytrail: text:" "$tmp/plain.err")" = "keytrail: text: lines=399 entries=399 ignored=0 malformed=0 long_lines=0" ]'

# report and learn read through the same source and print the same line.
run report "$keytrail" report --input "$tmp/mixed.log" "${args[@]}" -o json --stats
check "report --input --stats: exit 2, the same text line" \
        '[ "$(cat "$tmp/report.rc")" = 2 ] &&
         [ "$(grep "^keytrail: text:" "$tmp/report.err")" = "$want_text" ]'
run learn "$keytrail" learn --input "$tmp/mixed.log" --rules "$src/rules" --stats
check "learn --input --stats: exit 2, a policy, the same text line" \
        '[ "$(cat "$tmp/learn.rc")" = 2 ] && grep -q "^\[key SHA256:" "$tmp/learn.out" &&
         [ "$(grep "^keytrail: text:" "$tmp/learn.err")" = "$want_text" ]'

# learn --stats (it had no such option): scan's counters line, the policy unchanged by it.
run learn-j "$keytrail" learn --file "$tmp/s.journal" --rules "$src/rules" --stats
run learn-n "$keytrail" learn --file "$tmp/s.journal" --rules "$src/rules"
run scan-j "$keytrail" scan --file "$tmp/s.journal" "${args[@]}" -o json --stats
check "learn --file --stats: exit 0, the policy of learn without --stats" \
        '[ "$(cat "$tmp/learn-j.rc")" = 0 ] && [ -s "$tmp/learn-j.out" ] &&
         cmp -s "$tmp/learn-j.out" "$tmp/learn-n.out"'
check "  ... one line on stderr: records= matched= unmatched= spoofed= as scan's" \
        '[ "$(wc -l <"$tmp/learn-j.err")" = 1 ] &&
         [ "$(grep -o "records=[0-9]* matched=[0-9]* unmatched=[0-9]* spoofed=[0-9]*" "$tmp/learn-j.err")" = \
           "$(grep -o "records=[0-9]* matched=[0-9]* unmatched=[0-9]* spoofed=[0-9]*" "$tmp/scan-j.err")" ] &&
         grep -q "^keytrail: stats: records=399 matched=261 unmatched=136 spoofed=2 " "$tmp/learn-j.err"'
check "a journal scan prints no text line" \
        '[ "$(grep -c "^keytrail: " "$tmp/scan-j.err")" = 1 ] && grep -q "^keytrail: stats:" "$tmp/scan-j.err"'

tap_done
