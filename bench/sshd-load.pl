#!/usr/bin/perl
# SPDX-License-Identifier: MIT
#
# sshd-load.pl IDENT RATE SECONDS USER FP_KNOWN FP_UNKNOWN EVERY
#
# A steady stream of public-key logins as OpenSSH 9.2's sshd writes them at LogLevel VERBOSE, sent
# to journald through /dev/log under the syslog identifier IDENT: RATE logins a second for SECONDS.
# Each login is two processes, as with sshd: a monitor (Connection from, Accepted publickey, User
# child is on pid N, the PAM close) and its user child (Starting session: forced-command, the
# disconnect lines), so keytrail correlates them through the PID link. Every EVERY-th login uses the
# key FP_UNKNOWN (not in the baseline: an unknown-key alert, decided by its Accepted line); the others
# use FP_KNOWN with its forced command (no alert). Prints the number of logins sent.
# keytrail must be told --identifier IDENT --trusted-exe $^X (journald records perl as the writer).
use strict;
use warnings;
use IO::Socket::UNIX;
use Socket qw(SOCK_DGRAM);
use Time::HiRes qw(time sleep);
use POSIX qw(_exit);

die "usage: sshd-load.pl IDENT RATE SECONDS USER FP_KNOWN FP_UNKNOWN EVERY\n" unless @ARGV == 7;
my ($ident, $rate, $secs, $user, $fp_known, $fp_unknown, $every) = @ARGV;
$SIG{CHLD} = 'IGNORE';

sub say_line {
        my ($sock, $msg) = @_;
        # <38>: auth.info, as sshd's SyslogFacility AUTH; no timestamp: journald stamps it
        $sock->send("<38>$ident\[$$\]: $msg");
}

sub login {
        my ($n) = @_;
        my $port = 20000 + $n % 40000;
        my $fp = $n % $every == 0 ? $fp_unknown : $fp_known;
        pipe(my $r, my $w) or die "pipe: $!";
        pipe(my $back_r, my $back_w) or die "pipe: $!";
        my $child = fork();
        die "fork: $!" unless defined $child;
        if ($child == 0) {      # the user child: waits until the monitor has named it
                close $w;
                close $back_r;
                <$r>;
                my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Peer => '/dev/log') or _exit(1);
                say_line($s, "Starting session: forced-command (key-option) 'rsync --server -logDtpre.iLsfxCIvu . /srv/backup' for $user from 127.0.0.1 port $port id 0");
                say_line($s, "Received disconnect from 127.0.0.1 port $port:11: disconnected by user");
                say_line($s, "Disconnected from user $user 127.0.0.1 port $port");
                print $back_w "done\n";
                close $back_w;
                # journald reads the writer's /proc/PID/exe after the line arrives: stay a moment
                sleep(0.3);
                _exit(0);
        }
        close $r;
        close $back_w;
        my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Peer => '/dev/log') or die "/dev/log: $!";
        say_line($s, "Connection from 127.0.0.1 port $port on 127.0.0.1 port 22 rdomain \"\"");
        say_line($s, "Accepted publickey for $user from 127.0.0.1 port $port ssh2: ED25519 $fp");
        say_line($s, "User child is on pid $child");
        print $w "go\n";
        close $w;
        <$back_r>;      # as sshd: the monitor closes the PAM session after the child is done
        say_line($s, "pam_unix(sshd:session): session closed for user $user");
        sleep(0.3);
}

my $t0 = time();
my $n = 0;
while (1) {
        my $due = $t0 + $n / $rate;
        my $now = time();
        last if $now - $t0 >= $secs;
        sleep($due - $now) if $due > $now;
        my $pid = fork();
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
                login($n);
                _exit(0);
        }
        $n++;
}
sleep(0.5);
print "$n\n";
