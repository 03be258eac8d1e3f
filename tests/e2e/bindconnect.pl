#!/usr/bin/perl
# SPDX-License-Identifier: MIT
#
# bindconnect.pl LOCALADDR LOCALPORT HOST PORT
#
# An ssh ProxyCommand that opens the TCP connection from a chosen local address and port, then
# relays stdin/stdout to it. The e2e bed uses it so that it knows each connection's source port
# (the `port N` sshd logs) from the client side instead of reading it back from sshd's own log.
# ssh itself can bind an address (-b) but not a port.
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use Socket qw(SHUT_WR);

die "usage: bindconnect.pl LOCALADDR LOCALPORT HOST PORT\n" unless @ARGV == 4;
my ($laddr, $lport, $host, $port) = @ARGV;

my $sock = IO::Socket::INET->new(
        LocalAddr => $laddr,
        LocalPort => $lport,
        PeerAddr  => $host,
        PeerPort  => $port,
        Proto     => 'tcp',
        ReuseAddr => 1,
) or die "bindconnect: $laddr:$lport -> $host:$port: $@\n";

binmode STDIN;
binmode STDOUT;
my $in = \*STDIN;
my $sel = IO::Select->new($in, $sock);

sub write_all {
        my ($fh, $buf) = @_;
        while (length $buf) {
                my $n = syswrite($fh, $buf);
                return 0 unless defined $n;
                substr($buf, 0, $n) = '';
        }
        return 1;
}

while ($sel->count) {
        for my $fh ($sel->can_read) {
                my $n = sysread($fh, my $buf, 65536);
                if (!$n) {
                        exit 0 if fileno($fh) == fileno($sock);  # server closed: done
                        shutdown($sock, SHUT_WR);                 # client closed its side
                        $sel->remove($in);
                        next;
                }
                if (fileno($fh) == fileno($sock)) {
                        exit 0 unless write_all(\*STDOUT, $buf);
                } else {
                        exit 0 unless write_all($sock, $buf);
                }
        }
}
