#!/usr/bin/perl
# Managed by mhactl: tickle ACKs (issue 17). Usage: tickle VIP PORT < "address port" lines.
# Run by the fence agent as root when this node has just taken the VIP over from a peer
# it could not reach. For each client connection the old holder had, it sends one TCP
# segment VIP:PORT -> address:port with only ACK set and a bogus sequence number. The
# client's kernel answers an out-of-window segment with an ACK carrying its real
# sequence numbers; that ACK now reaches this node, which has no such connection and
# answers with a reset the client accepts: the application sees the connection fail at
# once and connects again (to this node), instead of waiting for TCP's retransmission
# timer (up to 1.68 s with three retransmissions). A client with no such connection
# just resets the probe. Two rounds 0.6 s apart: the client answers at most one
# out-of-window segment per 0.5 s per connection (net.ipv4.tcp_invalid_ratelimit), so
# the second only matters when the first answer was lost. Perl core only (Socket):
# perl-base is Essential on Debian and Ubuntu; nothing is downloaded.
use strict;
use warnings;
use Socket qw(:DEFAULT IPPROTO_TCP);

my ($vip, $port) = @ARGV;
die "usage: tickle VIP PORT < clients\n"
    unless defined $port && $vip =~ /^\d{1,3}(\.\d{1,3}){3}$/ && $port =~ /^\d{1,5}$/;
my $src = inet_aton($vip) or die "tickle: bad address $vip\n";

my @clients;
while (my $line = <STDIN>) {
    next unless $line =~ /^(\d{1,3}(?:\.\d{1,3}){3}) (\d{1,5})$/;
    my $dst = inet_aton($1) or next;
    push @clients, [$dst, $2] if $2 > 0 && $2 < 65536;
    last if @clients >= 100000;
}
exit 0 unless @clients;

# A raw TCP socket bound to the VIP: the kernel writes the IP header with the VIP as
# source (this node holds it now); the TCP header and its checksum are ours.
socket(my $s, PF_INET, SOCK_RAW, IPPROTO_TCP) or die "tickle: raw socket: $!\n";
bind($s, pack_sockaddr_in(0, $src)) or die "tickle: bind $vip: $!\n";

sub checksum {
    my $data = shift;
    $data .= "\0" if length($data) % 2;
    my $sum = 0;
    $sum += $_ for unpack('n*', $data);
    $sum = ($sum >> 16) + ($sum & 0xffff) while $sum >> 16;
    return ~$sum & 0xffff;
}

my $sent = 0;
for my $round (1, 2) {
    for my $c (@clients) {
        my ($dst, $cport) = @$c;
        # source port, destination port, seq 0, ack 0, header 5 words, ACK, window.
        my $tcp = pack('nnNNCCnnn', $port, $cport, 0, 0, 5 << 4, 0x10, 1024, 0, 0);
        my $pseudo = $src . $dst . pack('CCn', 0, 6, length $tcp);
        substr($tcp, 16, 2) = pack('n', checksum($pseudo . $tcp));
        $sent++ if send($s, $tcp, 0, pack_sockaddr_in(0, $dst));
    }
    select(undef, undef, undef, 0.6) if $round == 1;
}
print scalar(@clients), " connections, $sent segments\n";
