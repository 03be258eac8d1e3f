#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/follow-latency.sh BUILD_DIR [RATE] [SECONDS]
#
# Detection latency of keytrail follow: from the deciding sshd line's _SOURCE_REALTIME_TIMESTAMP
# (when journald received it) to the alert's arrival on follow's stdout, under a steady stream of
# RATE logins a second (default 200) for SECONDS (default 30), one in 20 with a key the baseline
# does not know (unknown-key, decided by its Accepted line). The logins come from
# bench/sshd-load.pl through the host's journald (a private identifier, so other traffic on the
# machine is not counted). Prints the number of logins and alerts, and the latency's median, p90,
# p99 and maximum. A benchmark, not a test: it does not fail on the figures. Needs root and journald.
set -eu
BUILD=$(cd "${1:?usage: follow-latency.sh BUILD_DIR [RATE] [SECONDS]}" && pwd)
RATE=${2:-200}
SECS=${3:-30}
BENCH=$(cd "$(dirname "$0")" && pwd)
SRC=$(dirname "$BENCH")
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 2; }
[ -S /dev/log ] || { echo "no /dev/log (start journald)" >&2; exit 2; }
W=$(mktemp -d /tmp/kt-latency.XXXXXX)
trap 'kill "$FOLLOW" 2>/dev/null; rm -rf "$W"' EXIT
ident=kt-bench-$$-$RANDOM
user=ktbench
for k in known unknown; do ssh-keygen -q -t ed25519 -N '' -C "$k" -f "$W/$k"; done
fp() { ssh-keygen -lf "$W/$1.pub" | awk '{print $2}'; }
echo "command=\"rsync --server -logDtpre.iLsfxCIvu . /srv/backup\",restrict $(cat "$W/known.pub")" >"$W/ak"
perl=$(command -v perl)
T0=$(date +%s.%6N)
mkfifo "$W/out"
perl -MTime::HiRes=time -ne '$| = 1; printf "%.6f %s", time(), $_' <"$W/out" >"$W/arrivals" &
STAMPER=$!
"$BUILD/keytrail" follow --identifier "$ident" --trusted-exe "$perl" \
        --trusted-exe "$(readlink -f "$perl")" --authorized-keys "$user:$W/ak" \
        --rules "$SRC/rules" --since "@$T0" --state-dir "$W/state" --format json --stdout \
        --stats >"$W/out" 2>"$W/follow.err" &
FOLLOW=$!
sleep 1
sent=$(perl "$BENCH/sshd-load.pl" "$ident" "$RATE" "$SECS" "$user" "$(fp known)" "$(fp unknown)" 20)
sleep 3
kill -TERM "$FOLLOW"
wait "$FOLLOW" || true
wait "$STAMPER" || true
journalctl -q -o json "SYSLOG_IDENTIFIER=$ident" --since "@$T0" |
        jq -r '[.__CURSOR, ._SOURCE_REALTIME_TIMESTAMP] | @tsv' >"$W/sources"
expected=$(( (sent + 19) / 20 ))
perl -e '
        my ($sources, $arrivals) = @ARGV;
        my %src;
        open(my $s, "<", $sources) or die;
        while (<$s>) { chomp; my ($c, $t) = split /\t/; $src{$c} = $t; }
        my @lat;
        open(my $in, "<", $arrivals) or die;
        while (<$in>) {
                my ($t, $json) = split / /, $_, 2;
                next unless $json =~ /"type":"unknown-key"/;
                my ($c) = $json =~ /"evidence":\["([^"]+)"/ or next;
                next unless defined $src{$c};
                push @lat, $t * 1e6 - $src{$c};
        }
        @lat = sort { $a <=> $b } @lat;
        my $n = @lat or die "no alert matched its source entry\n";
        my $q = sub { $lat[int(($n - 1) * $_[0] + 0.5)] / 1000 };
        printf "alerts timed %d: median %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
                $n, $q->(0.5), $q->(0.9), $q->(0.99), $lat[-1] / 1000;
' "$W/sources" "$W/arrivals" >"$W/result"
echo "logins sent: $sent at $RATE/s for $SECS s; unknown-key alerts expected $expected, received $(grep -c '"type":"unknown-key"' "$W/arrivals"), other alerts $(grep -vc '"type":"unknown-key"' "$W/arrivals")"
cat "$W/result"
grep -h "stats" "$W/follow.err" || true
