#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/follow-latency.sh BUILD_DIR [RATE] [SECONDS] [OTHER_BUILD_DIR...]
#
# Detection latency of keytrail follow: from the deciding sshd line's _SOURCE_REALTIME_TIMESTAMP
# (when journald received it) to the alert's arrival on follow's stdout, under a steady stream of
# RATE logins a second (default 200) for SECONDS (default 30), one in 20 with a key the baseline
# does not know (unknown-key, decided by its Accepted line). The logins come from
# bench/sshd-load.pl through the host's journald (a private identifier, so other traffic on the
# machine is not counted). Prints the number of logins and alerts, the latency's median, p90, p99
# and maximum, split into journald's part (_SOURCE_REALTIME_TIMESTAMP to __REALTIME_TIMESTAMP, when
# journald began writing the entry) and keytrail's (from then to the alert's arrival), and follow's
# own CPU time: under the load, in the 10 s after it (the fast polling window) and in the 10 s after
# that (a quiet journal).
#
# The load starts once every follower has said READY=1 (sd_notify, as to systemd: caught up and
# reading live), and each one's time from its start to READY=1 is printed. The latency is that of
# a running sidecar; its start-up is measured apart, since with the journal's files cold in the
# page cache (after a reboot, or on a disk other work keeps busy) opening them takes seconds, and
# entries written meanwhile would be timed as if follow had been running. The arrivals are stamped
# into a tmpfs (/dev/shm) file, so that the stamper itself never waits for a busy disk.
#
# Beside them runs bench/bare-follow.c (built here with cc and libsystemd): sd-journal alone with
# the same match, reading each new entry's MESSAGE, polling every millisecond. Its line is the
# floor: what journald and the machine cost any follower in that run.
# With OTHER_BUILD_DIRs, their keytrail follow runs at the same time on the same entries, each
# with its own state and its own stdout reader, one result line each: a side-by-side comparison
# that the load of a shared machine affects alike (each follower also competes with the others).
# KT_BENCH_KEEP=DIR keeps the work files there. A benchmark, not a test: it does not fail on the
# figures. Needs root and journald.
set -eu
usage="usage: follow-latency.sh BUILD_DIR [RATE] [SECONDS] [OTHER_BUILD_DIR...]"
BUILDS=("$(cd "${1:?$usage}" && pwd)")
RATE=${2:-200}
SECS=${3:-30}
shift $(($# < 3 ? $# : 3))
for b in "$@"; do BUILDS+=("$(cd "$b" && pwd)"); done
BENCH=$(cd "$(dirname "$0")" && pwd)
SRC=$(dirname "$BENCH")
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 2; }
[ -S /dev/log ] || { echo "no /dev/log (start journald)" >&2; exit 2; }
W=$(mktemp -d /tmp/kt-latency.XXXXXX)
# the arrivals: on a tmpfs when there is one (the state stays on disk, as a service's does)
A=$W
[ "$(stat -f -c %T /dev/shm 2>/dev/null)" != tmpfs ] || A=$(mktemp -d /dev/shm/kt-latency.XXXXXX)
FOLLOW=()
# KT_BENCH_KEEP=DIR keeps the work files (sources, arrivals, follow's stderr) in DIR
trap 'for p in "${FOLLOW[@]}"; do kill "$p" 2>/dev/null || :; done
        [ -z "${KT_BENCH_KEEP:-}" ] || cp -a "$W/." "$A/." "$KT_BENCH_KEEP/" || :
        rm -rf "$W" "$A"' EXIT
ident=kt-bench-$$-$RANDOM
user=ktbench
for k in known unknown; do ssh-keygen -q -t ed25519 -N '' -C "$k" -f "$W/$k"; done
fp() { ssh-keygen -lf "$W/$1.pub" | awk '{print $2}'; }
echo "command=\"rsync --server -logDtpre.iLsfxCIvu . /srv/backup\",restrict $(cat "$W/known.pub")" >"$W/ak"
perl=$(command -v perl)
# notify_wait SOCKET OUT: receives sd_notify datagrams on SOCKET until READY=1 (at most 300 s),
# then writes the time it came (seconds since the epoch) to OUT
notify_wait() {
        perl -MIO::Socket::UNIX -MSocket=SOCK_DGRAM -MTime::HiRes=time -e '
                my ($path, $out) = @ARGV;
                my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $path) or die "$path: $!";
                open(my $o, ">", "$out.tmp") or die; close $o; rename("$out.tmp", "$out.bound");
                local $SIG{ALRM} = sub { die "no READY=1 in 300 s\n" };
                alarm 300;
                while (defined $s->recv(my $m, 4096)) {
                        next unless grep { $_ eq "READY=1" } split /\n/, $m;
                        open($o, ">", $out) or die; printf $o "%.6f\n", time(); close $o;
                        exit 0;
                }
                die "recv: $!\n";' "$1" "$2"
}
# start_follower I CMD...: runs CMD as follower I, its stdout stamped into $A/arrivals$I, with
# NOTIFY_SOCKET for its READY=1
start_follower() {
        local i=$1
        shift
        mkfifo "$W/out$i"
        perl -MTime::HiRes=time -ne '$| = 1; printf "%.6f %s", time(), $_' <"$W/out$i" >"$A/arrivals$i" &
        STAMPER+=($!)
        notify_wait "$W/notify$i" "$W/ready$i" &
        NOTIFY+=($!)
        while [ ! -e "$W/ready$i.bound" ]; do sleep 0.01; done
        START[i]=$(date +%s.%6N)
        NOTIFY_SOCKET="$W/notify$i" "$@" >"$W/out$i" 2>"$W/follow$i.err" &
        FOLLOW+=($!)
}
T0=$(date +%s.%6N)
STAMPER=()
NOTIFY=()
NAMES=()
declare -a START
for i in "${!BUILDS[@]}"; do
        NAMES[i]="${BUILDS[i]}/keytrail"
        start_follower "$i" "${BUILDS[i]}/keytrail" follow --identifier "$ident" \
                --trusted-exe "$perl" --trusted-exe "$(readlink -f "$perl")" \
                --authorized-keys "$user:$W/ak" --rules "$SRC/rules" --since "@$T0" \
                --state-dir "$W/state$i" --format json --stdout --stats
done
# The floor beside them: bench/bare-follow.c, sd-journal alone, on the same entries
if cc -std=gnu17 -O2 -o "$W/bare-follow" "$BENCH/bare-follow.c" \
        $(pkg-config --cflags --libs libsystemd) 2>"$W/bare-follow.cc.err"; then
        i=${#BUILDS[@]}
        NAMES[i]="bare-follow (sd-journal alone, the floor)"
        start_follower "$i" "$W/bare-follow" "$ident" "$(fp unknown)"
else
        echo "bare-follow does not build (no floor beside):" >&2
        cat "$W/bare-follow.cc.err" >&2
fi
# cpu PID: user + system time of a process so far, in clock ticks
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
for p in "${NOTIFY[@]}"; do wait "$p"; done
sleep 0.5
declare -a C0 C1 C2 C3
for i in "${!FOLLOW[@]}"; do C0[i]=$(cpu "${FOLLOW[i]}"); done
sent=$(perl "$BENCH/sshd-load.pl" "$ident" "$RATE" "$SECS" "$user" "$(fp known)" "$(fp unknown)" 20)
sleep 3
for i in "${!FOLLOW[@]}"; do C1[i]=$(cpu "${FOLLOW[i]}"); done
sleep 10
for i in "${!FOLLOW[@]}"; do C2[i]=$(cpu "${FOLLOW[i]}"); done
sleep 10
for i in "${!FOLLOW[@]}"; do C3[i]=$(cpu "${FOLLOW[i]}"); done
for p in "${FOLLOW[@]}"; do kill -TERM "$p"; wait "$p" || true; done
for p in "${STAMPER[@]}"; do wait "$p" || true; done
journalctl -q -o json "SYSLOG_IDENTIFIER=$ident" --since "@$T0" |
        jq -r '[.__CURSOR, ._SOURCE_REALTIME_TIMESTAMP, .__REALTIME_TIMESTAMP] | @tsv' >"$W/sources"
expected=$(( (sent + 19) / 20 ))
hz=$(getconf CLK_TCK)
echo "logins sent: $sent at $RATE/s for $SECS s; unknown-key alerts expected $expected"
for i in "${!FOLLOW[@]}"; do
        echo "${NAMES[i]}: unknown-key alerts received $(grep -c '"type":"unknown-key"' "$A/arrivals$i"), other alerts $(grep -vc '"type":"unknown-key"' "$A/arrivals$i")"
        awk -v r="$(cat "$W/ready$i")" -v s="${START[i]}" 'BEGIN {
                printf "  READY=1 %.3f s after its start (the load began after every follower'"'"'s)\n", r - s }'
        perl -e '
                my ($sources, $arrivals, $who) = @ARGV;
                my (%src, %wrote);
                open(my $s, "<", $sources) or die;
                while (<$s>) { chomp; my ($c, $t, $w) = split /\t/; $src{$c} = $t; $wrote{$c} = $w; }
                my (@lat, @jd, @kt);
                open(my $in, "<", $arrivals) or die;
                while (<$in>) {
                        my ($t, $json) = split / /, $_, 2;
                        next unless $json =~ /"type":"unknown-key"/;
                        my ($c) = $json =~ /"evidence":\["([^"]+)"/ or next;
                        next unless defined $src{$c};
                        push @lat, $t * 1e6 - $src{$c};
                        push @jd, $wrote{$c} - $src{$c};
                        push @kt, $t * 1e6 - $wrote{$c};
                }
                my $n = @lat or die "no alert matched its source entry\n";
                my $line = sub {
                        my ($what, @v) = @_;
                        @v = sort { $a <=> $b } @v;
                        my $q = sub { $v[int(($n - 1) * $_[0] + 0.5)] / 1000 };
                        sprintf "%s: median %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms",
                                $what, $q->(0.5), $q->(0.9), $q->(0.99), $v[-1] / 1000;
                };
                printf "  alerts timed %d: %s\n", $n, $line->("latency", @lat);
                printf "    of which %s\n", $line->("journald (received to written)", @jd);
                printf "    and %s\n", $line->("$who (written to output)", @kt);
        ' "$W/sources" "$A/arrivals$i" "$([ "$i" -lt "${#BUILDS[@]}" ] && echo keytrail || echo bare-follow)"
        awk -v hz="$hz" -v secs="$SECS" -v a="${C0[i]}" -v b="${C1[i]}" -v c="${C2[i]}" -v d="${C3[i]}" 'BEGIN {
                printf "  follow CPU: %.2f s under load (%.1f %% of a core over %d s), %.2f s in the 10 s after, %.2f s in the next 10 s (quiet)\n",
                        (b - a) / hz, 100 * (b - a) / hz / (secs + 3), secs + 3, (c - b) / hz, (d - c) / hz }'
        grep -h "follow:" "$W/follow$i.err" | sed 's/^/  /' || true
done
