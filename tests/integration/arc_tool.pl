#!/usr/bin/perl
# arc_tool.pl - Perl's Mail::DKIM ARC (libmail-dkim-perl) as the second
# independent ARC implementation of the integration tests (t_arc.sh,
# t_arc_postfix.sh). Keys come over the wire from the test's DNS server.
#
#   arc_tool.pl seal KEYFILE DOMAIN SELECTOR SRVID CHAIN < MSG
#       print MSG with a new ARC set on top made by
#       Mail::DKIM::ARC::Signer (CHAIN: none, pass, fail, or ar to take
#       it from MSG's Authentication-Results of SRVID, which must stand
#       above every ARC field); exit 1 when it would not seal
#   arc_tool.pl verify NAMESERVER PORT < MSG
#       Mail::DKIM::ARC::Verifier: print "RESULT detail"; exit 0 when
#       the result is pass, 1 otherwise
use strict;
use warnings;

use Mail::DKIM::ARC::Signer;
use Mail::DKIM::ARC::Verifier;
use Mail::DKIM::DNS;
use Net::DNS::Resolver;

# read_msg - the message from stdin, lines ending in CRLF
sub read_msg {
	local $/;
	my $m = <STDIN>;
	$m =~ s/\r?\n/\r\n/g;
	return $m;
}

my $cmd = shift @ARGV // '';
if ($cmd eq 'seal') {
	my ($key, $domain, $selector, $srvid, $chain) = @ARGV;
	my $msg = read_msg();
	my $s = Mail::DKIM::ARC::Signer->new(
		Algorithm => 'rsa-sha256',
		Chain     => $chain,
		Domain    => $domain,
		SrvId     => $srvid,
		Selector  => $selector,
		KeyFile   => $key,
	);
	$s->PRINT($msg);
	$s->CLOSE;
	if ($s->result ne 'sealed') {
		print STDERR "not sealed: ", ($s->result_detail // '?'), "\n";
		exit 1;
	}
	my $set = join('', map { "$_\r\n" } $s->as_strings);
	print $set, $msg;
	exit 0;
} elsif ($cmd eq 'verify') {
	my ($ns, $port) = @ARGV;
	my $res = Net::DNS::Resolver->new(
		nameservers => [$ns], port => $port, recurse => 1,
		udp_timeout => 5, tcp_timeout => 5, retry => 1);
	Mail::DKIM::DNS::resolver($res);
	my $msg = read_msg();
	my $v = Mail::DKIM::ARC::Verifier->new();
	$v->PRINT($msg);
	$v->CLOSE;
	print $v->result, " ", ($v->result_detail // ''), "\n";
	exit($v->result eq 'pass' ? 0 : 1);
}
print STDERR "usage: arc_tool.pl seal|verify ...\n";
exit 2;
