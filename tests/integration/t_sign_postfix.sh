#!/bin/bash
# t_sign_postfix.sh - DKIM signing end to end through a real Postfix.
#
# Keys made at test time with "authmilter keygen" (RSA-2048 and Ed25519) and
# published by nsd; authmilter (KeyTable + SigningTable, MultipleSignatures
# yes: dual RSA + Ed25519) behind a private Postfix instance on loopback
# (smtpd_milters and non_smtpd_milters, protocol 6, default action tempfail);
# messages sent with swaks; each message stored by the sink is checked by an
# independent verifier (python3-dkim, keys fetched from nsd over the wire).
#
# A second authmilter with the single-key configuration (Domain / Selector /
# KeyFile) on an inet socket serves a second smtpd listener of the same
# Postfix. External clients connect from 127.0.0.2 (InternalHosts is
# 127.0.0.1/32): unauthenticated they are not signed; authenticated with SMTP
# AUTH (Postfix + a Dovecot-protocol password checker) they are.

. "$(dirname "$0")/lib.sh"
it_init sign_postfix
it_need_tools nsd nsd-checkzone nsd-checkconf dig swaks postfix postconf
it_need_authmilter

DOMAIN=example.test
KEYS=$WORK/keys
mkdir -m 700 "$KEYS"
RUN=$$-$(date +%s)

# --------------------------------------------------------------------------
# keys, DNS

zone_new "$DOMAIN"
am_keygen "$DOMAIN" rsa2026 rsa "$KEYS" || bail "authmilter keygen (rsa)"
am_keygen "$DOMAIN" ed2026 ed25519 "$KEYS" || bail "authmilter keygen (ed25519)"
am_keygen "$DOMAIN" single rsa "$KEYS" || bail "authmilter keygen (rsa, single)"

check '[ "$(stat -c %a "$KEYS/rsa2026.private")" = 600 ]' "keygen: RSA private key has mode 0600"
check '[ "$(stat -c %a "$KEYS/ed2026.private")" = 600 ]' "keygen: Ed25519 private key has mode 0600"
check 'grep -q "BEGIN PRIVATE KEY\|BEGIN RSA PRIVATE KEY" "$KEYS/rsa2026.private"' "keygen: RSA key file is PEM"

nsd_start || bail "nsd (authoritative DNS for $DOMAIN) could not start"
check 'dns_query rsa2026._domainkey.$DOMAIN TXT | tr -d "\" " | grep -q "^v=DKIM1;k=rsa;p=MII"' \
    "nsd serves the RSA key record from keygen"
check 'dns_query ed2026._domainkey.$DOMAIN TXT | tr -d "\" " | grep -q "^v=DKIM1;k=ed25519;p="' \
    "nsd serves the Ed25519 key record from keygen"

# --------------------------------------------------------------------------
# authmilter: dual signing (unix socket) and single key (inet socket)

mkdir -p "$WORK/dual" "$WORK/single"
cat >"$KEYS/KeyTable" <<EOF
# name    domain:selector:keyfile
rsa       $DOMAIN:rsa2026:$KEYS/rsa2026.private
ed        $DOMAIN:ed2026:$KEYS/ed2026.private
EOF
cat >"$KEYS/SigningTable" <<EOF
*@$DOMAIN rsa
*@$DOMAIN ed
EOF
DUAL_SOCK=$WORK/dual/milter.sock
cat >"$WORK/dual/authmilter.conf" <<EOF
# dual RSA + Ed25519 signing
Socket              unix:$DUAL_SOCK
# Postfix's smtpd runs as user postfix and must be able to connect
UMask               000
PidFile             $WORK/dual/authmilter.pid
Syslog              no
LogWhy              yes
InternalHosts       127.0.0.1/32
KeyTable            $KEYS/KeyTable
SigningTable        refile:$KEYS/SigningTable
MultipleSignatures  yes
Canonicalization    relaxed/relaxed
RequireSafeKeys     yes
EOF
alloc_port SINGLE_PORT || bail "no free port"
cat >"$WORK/single/authmilter.conf" <<EOF
# the simplest case: one key
Socket              inet:$SINGLE_PORT@127.0.0.1
PidFile             $WORK/single/authmilter.pid
Syslog              no
LogWhy              yes
InternalHosts       127.0.0.1/32
Domain              $DOMAIN
Selector            single
KeyFile             $KEYS/single.private
Canonicalization    relaxed/relaxed
RequireSafeKeys     yes
EOF

check '"$AUTHMILTER" configtest -c "$WORK/dual/authmilter.conf"' "configtest accepts the dual-signing config"
check '"$AUTHMILTER" configtest -c "$WORK/single/authmilter.conf"' "configtest accepts the single-key config"

am_start dual "$WORK/dual/authmilter.conf" || bail "authmilter (dual signing) could not start"
am_start single "$WORK/single/authmilter.conf" || bail "authmilter (single key) could not start"

# --------------------------------------------------------------------------
# sink, Postfix (+ SMTP AUTH), second listener for the single-key milter

sink_start || bail "sink could not start"
postfix_setup "unix:$DUAL_SOCK" || bail "postfix set-up"
alloc_port PF_PORT2 || bail "no free port"
postfix_listener "$PF_PORT2" "inet:127.0.0.1:$SINGLE_PORT"
postfix_sasl alice "s3cret-pw" || bail "SMTP AUTH password checker could not start"
postfix_start || bail "private Postfix instance could not start"
diag "nsd :$NSD_PORT  sink :$SINK_PORT  postfix :$PF_PORT (dual) :$PF_PORT2 (single)  work $WORK"

# --------------------------------------------------------------------------
# helpers

GEN="$PY $IT_DIR/genmsg.py"
M=$WORK/msgs
mkdir -p "$M"

# send_and_fetch NAME PORT [SWAKS ARGS] - send $M/NAME.eml; set GOT to the
# stored copy. One check: delivered.
GOT=
send_and_fetch() {
	local name=$1 port=$2 tok
	shift 2
	tok=$(sed -n 's/^X-Test-Id: //p' "$M/$name.eml" | head -n 1 | tr -d '\r')
	GOT=
	if ! swaks_send "$port" "$M/$name.eml" "$@"; then
		not_ok "$name: accepted by Postfix"
		diag_file "$SWAKS_LOG" 15
		diag_file "$PF_LOG" 10
		return 1
	fi
	if GOT=$(sink_wait "$tok" 60); then
		ok "$name: accepted by Postfix and delivered to the sink"
		return 0
	fi
	not_ok "$name: accepted by Postfix and delivered to the sink"
	diag "no message with X-Test-Id $tok at the sink after 60 s"
	diag_file "$PF_LOG" 15
	return 1
}

# check_dual NAME - the stored message has our two signatures, and both verify
check_dual() {
	local name=$1 n algs domains
	n=$(msg_header_count "$GOT" DKIM-Signature)
	is "$n" 2 "$name: two DKIM-Signature headers"
	algs=$(msg_sig_tags "$GOT" a | tr '\n' ' ')
	is "$algs" "ed25519-sha256 rsa-sha256 " "$name: one rsa-sha256 and one ed25519-sha256 signature"
	domains=$(msg_sig_tags "$GOT" d | sort -u | tr '\n' ' ')
	is "$domains" "$DOMAIN " "$name: both signatures have d=$DOMAIN"
	check 'dkim_verify "$GOT"' "$name: python3-dkim verifies both signatures (keys from nsd)"
}

# same_body SENT GOT - bodies equal, byte for byte, after LF -> CRLF
same_body() {
	"$PY" - "$1" "$2" <<'EOF'
import sys
def body(p):
    d = open(p, "rb").read()
    d = d.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return d.split(b"\r\n\r\n", 1)[1].rstrip(b"\r\n")
a, b = body(sys.argv[1]), body(sys.argv[2])
if a != b:
    print("bodies differ: sent %d bytes, got %d" % (len(a), len(b)))
    sys.exit(1)
EOF
}

# --------------------------------------------------------------------------
# outbound from 127.0.0.1 (internal): dual signatures

$GEN plain --id "plain-$RUN" >"$M/plain.eml"
$GEN multipart --id "multipart-$RUN" >"$M/multipart.eml"
$GEN 8bit --id "8bit-$RUN" >"$M/8bit.eml"
$GEN big --id "big-$RUN" --size 1048576 >"$M/big.eml"

if send_and_fetch plain "$PF_PORT"; then
	check_dual plain
	# a header field as MTAs and signers write it: "Name: value" (Postfix
	# copies the milter's value verbatim when SMFIP_HDR_LEADSPC is negotiated)
	check '[ "$(grep -c "^DKIM-Signature: v=1;" "$GOT")" = 2 ]' \
	    "plain: DKIM-Signature headers written as 'DKIM-Signature: v=1; ...' (space after the colon)"
	# where the signatures land relative to Postfix's own Received header
	diag "plain: first headers at the sink: $(grep -m 4 -o '^[A-Za-z-]*:' "$GOT" | tr '\n' ' ')"
fi
if send_and_fetch multipart "$PF_PORT"; then
	check_dual multipart
	check 'same_body "$M/multipart.eml" "$GOT"' "multipart: body delivered unchanged"
fi
if send_and_fetch 8bit "$PF_PORT"; then
	check_dual 8bit
	check 'same_body "$M/8bit.eml" "$GOT"' "8bit: UTF-8 body delivered unchanged (no 8bit->QP conversion)"
	check 'grep -q "Grüße aus Köln" "$GOT"' "8bit: UTF-8 Subject delivered unchanged"
fi
t0=$(date +%s.%N)
if send_and_fetch big "$PF_PORT"; then
	t1=$(date +%s.%N)
	diag "big: 1 MiB message sent and delivered in $(awk -v a="$t0" -v b="$t1" "BEGIN { printf \"%.2f\", b - a }") s"
	check_dual big
	check 'same_body "$M/big.eml" "$GOT"' "big: body delivered unchanged"
fi

# a sender domain we hold no key for: delivered, unsigned
$GEN plain --id "otherdom-$RUN" --from someone@other.test >"$M/otherdom.eml"
if send_and_fetch otherdom "$PF_PORT" --from someone@other.test; then
	is "$(msg_header_count "$GOT" DKIM-Signature)" 0 "otherdom: From a domain without a key: not signed"
fi

# --------------------------------------------------------------------------
# external clients (127.0.0.2)

$GEN plain --id "external-$RUN" >"$M/external.eml"
if send_and_fetch external "$PF_PORT" --local-interface 127.0.0.2; then
	check 'grep -q "\[127.0.0.2\]" "$GOT"' "external: Postfix saw the client as 127.0.0.2"
	is "$(msg_header_count "$GOT" DKIM-Signature)" 0 "external: unauthenticated external client: not signed"
fi

$GEN plain --id "auth-$RUN" >"$M/auth.eml"
if send_and_fetch auth "$PF_PORT" --local-interface 127.0.0.2 \
    --auth PLAIN --auth-user alice --auth-password s3cret-pw; then
	check 'grep -qi "Authenticated sender\|(authenticated" "$GOT" || grep -q "sasl_username=alice" "$PF_LOG"' \
	    "auth: Postfix authenticated the client (SMTP AUTH PLAIN)"
	check_dual auth
fi

# wrong password: Postfix refuses AUTH; the transaction must not go through
# authenticated (swaks fails the session)
$GEN plain --id "badauth-$RUN" >"$M/badauth.eml"
if swaks_send "$PF_PORT" "$M/badauth.eml" --local-interface 127.0.0.2 \
    --auth PLAIN --auth-user alice --auth-password wrong; then
	not_ok "badauth: a wrong password is refused by Postfix"
else
	ok "badauth: a wrong password is refused by Postfix"
fi

# --------------------------------------------------------------------------
# single key (Domain / Selector / KeyFile) through the second listener

$GEN plain --id "single-$RUN" >"$M/single.eml"
if send_and_fetch single "$PF_PORT2"; then
	is "$(msg_header_count "$GOT" DKIM-Signature)" 1 "single: one DKIM-Signature header"
	is "$(msg_sig_tags "$GOT" s)" single "single: s=single"
	is "$(msg_sig_tags "$GOT" a)" rsa-sha256 "single: a=rsa-sha256"
	check 'dkim_verify "$GOT"' "single: python3-dkim verifies the signature"
fi

# --------------------------------------------------------------------------
# local submission (sendmail -> pickup -> cleanup: non_smtpd_milters)

$GEN plain --id "local-$RUN" >"$M/local.eml"
if "$(postconf -c "$PF_DIR" -h sendmail_path)" -C "$PF_DIR" -f sender@example.test rcpt@remote.test <"$M/local.eml" \
    >"$WORK/sendmail.log" 2>&1; then
	if GOT=$(sink_wait "local-$RUN" 60); then
		ok "local: sendmail submission delivered to the sink"
		check_dual local
	else
		not_ok "local: sendmail submission delivered to the sink"
		diag_file "$PF_LOG" 15
	fi
else
	not_ok "local: sendmail -C accepts the message"
	diag_file "$WORK/sendmail.log"
fi

# --------------------------------------------------------------------------
# the end: no milter trouble in Postfix's log, queue empty, milters alive

check '! postfix_milter_trouble' "Postfix logged no milter warning, reject or tempfail"
if grep -q 'warning:' "$PF_LOG"; then
	diag "other Postfix warnings:"
	diag "$(grep 'warning:' "$PF_LOG" | head -n 10 | cut -c1-200)"
fi
check 'wait_for 20 postfix_queue_empty' "Postfix queue is empty (everything delivered)"
check 'am_alive dual' "authmilter (dual) still running"
check 'am_alive single' "authmilter (single) still running"
check 'grep -q "d=$DOMAIN s=rsa2026" "$WORK/dual.log" && grep -q "s=ed2026" "$WORK/dual.log"' \
    "authmilter logged the signatures it made"

# --------------------------------------------------------------------------
# a 100 KB header field. Observed with Postfix 3.7: with a milter attached,
# Postfix cuts a header field at about 60000 bytes before the milter (and
# the next hop) see it, whatever header_size_limit says; so the milter gets
# a ~60 KB SMFIC_HEADER packet, under libmilter's 64 KiB packet limit. Last,
# because a failure here makes Postfix log milter trouble (checked above).

$GEN bighdr --id "bighdr-$RUN" --size 100000 >"$M/bighdr.eml"
if send_and_fetch bighdr "$PF_PORT"; then
	check_dual bighdr
fi
check 'am_alive dual' "authmilter (dual) still running after the 100 KB header"

am_stop dual
is "$STOP_RC" 0 "authmilter (dual) exits 0 on SIGTERM"
am_stop single
is "$STOP_RC" 0 "authmilter (single) exits 0 on SIGTERM"
[ -n "${IT_VERBOSE:-}" ] && diag_file "$WORK/dual.log" 40
exit 0
