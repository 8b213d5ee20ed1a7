#!/bin/bash
# t_inbound_postfix.sh - inbound SPF/DKIM/DMARC end to end through a real
# Postfix.
#
# A private unbound (lib_dns.sh) serves the test domains; authmilter (inet
# socket, Nameservers = that unbound, AuthservID mx.test, DNSTimeout 2,
# DNSRetries 1, DNSBudget 4, InternalHosts 127.0.0.1/32, one signing key
# for out.test) sits behind the private Postfix "receiver" (smtpd_milters,
# milter_default_action tempfail), which relays to the sink. External mail
# comes from 127.0.0.2: swaks --local-interface 127.0.0.2, or a second
# private Postfix "sender" (no milter, smtp_bind_address 127.0.0.2,
# relayhost the receiver) that keeps what the receiver defers.
#
#   (a) DMARC fail, p=reject: 550 5.7.1 after DATA, nothing at the sink
#   (b) pass: delivered with one Authentication-Results of ours (mx.test)
#       above the original headers, spf=pass dkim=pass dmarc=pass; where
#       it lands relative to Postfix's Received header is reported
#   (c) a forged A-R with our authserv-id is removed, another one is kept
#   (d) a DMARC record lookup timing out gives 451; the sender keeps the
#       message, and after DNS answers again (unbound restarted with the
#       record) "postqueue -f" delivers it: exactly one copy at the sink
#   (e) outbound (internal client 127.0.0.1, and SMTP AUTH from 127.0.0.2)
#       is signed and not DMARC-checked: no A-R added
#   (f) DMARC fail, p=quarantine: Postfix puts it in the hold queue

. "$(dirname "$0")/lib.sh"
it_init inbound_postfix
it_need_tools unbound unbound-checkconf dig swaks postfix postconf postqueue postcat openssl
it_need_authmilter

TOOL="$PY $IT_DIR/inb_tool.py"
EXT=127.0.0.2			# the external client address
RUN=$$-$(date +%s)
KEYS=$WORK/keys
M=$WORK/msgs
mkdir -m 700 "$KEYS"
mkdir -p "$M"

# --------------------------------------------------------------------------
# keys: in.test (signed by python3-dkim), out.test (signed by authmilter)

for k in "in.test r1 rsa" "in.test e1 ed25519" "out.test o1 rsa"; do
	set -- $k
	"$AUTHMILTER" keygen --domain "$1" --selector "$2" --algorithm "$3" \
	    --directory "$KEYS" >"$KEYS/$2.rr" 2>"$KEYS/$2.err" ||
	    { diag_file "$KEYS/$2.err"; bail "authmilter keygen $k"; }
done

# --------------------------------------------------------------------------
# DNS

rr() { unbound_data "$($TOOL rr "$1" "$2")"; }
host() { unbound_data "$1. 300 IN A 192.0.2.1"; }

# dns_data fixed|broken - the test data; "broken": _dmarc.slow.test times out
dns_data() {
	local d
	unbound_new
	unbound_zone test 30
	for d in in.test slow.test out.test relay.in.test; do
		rr "$d" "v=spf1 ip4:$EXT ip4:127.0.0.1 -all"
		host "$d"
	done
	for d in rej.test quar.test; do
		rr "$d" "v=spf1 ip4:192.0.2.99 -all"	# not us: SPF fails
		host "$d"
	done
	rr _dmarc.in.test "v=DMARC1; p=reject"
	rr _dmarc.rej.test "v=DMARC1; p=reject"
	rr _dmarc.quar.test "v=DMARC1; p=quarantine"
	rr _dmarc.out.test "v=DMARC1; p=reject"
	rr r1._domainkey.in.test "$($TOOL zonetxt "$KEYS/r1.rr")"
	rr e1._domainkey.in.test "$($TOOL zonetxt "$KEYS/e1.rr")"
	rr o1._domainkey.out.test "$($TOOL zonetxt "$KEYS/o1.rr")"
	if [ "$1" = fixed ]; then
		rr _dmarc.slow.test "v=DMARC1; p=reject"
	else
		unbound_deny _dmarc.slow.test
	fi
}
dns_data broken
unbound_start || bail "unbound (test DNS data) could not start"
check '[ "$(unbound_query _dmarc.in.test TXT)" = "\"v=DMARC1; p=reject\"" ]' \
    "unbound serves the test data"

# --------------------------------------------------------------------------
# authmilter

alloc_port AM_PORT || bail "no free port"
mkdir -p "$WORK/am"
AM_CONF=$WORK/am/authmilter.conf
cat >"$AM_CONF" <<EOF
Socket              inet:$AM_PORT@127.0.0.1
PidFile             $WORK/am/authmilter.pid
Syslog              no
LogWhy              yes
InternalHosts       127.0.0.1/32
Domain              out.test
Selector            o1
KeyFile             $KEYS/o1.private
Canonicalization    relaxed/relaxed
AuthservID          mx.test
Nameservers         127.0.0.1:$UNBOUND_PORT
DNSTimeout          2
DNSRetries          1
DNSBudget           4
EOF
check '"$AUTHMILTER" configtest -c "$AM_CONF"' "configtest accepts the inbound config"
am_start in "$AM_CONF" || bail "authmilter could not start"

# --------------------------------------------------------------------------
# sink, receiver Postfix (+ SMTP AUTH), sender Postfix

sink_start || bail "sink could not start"
postfix_setup "inet:127.0.0.1:$AM_PORT" || bail "postfix set-up"
postfix_conf "non_smtpd_milters ="

SND_ROOT=$WORK/sender
SND_DIR=$SND_ROOT/etc
SND_LOG=$SND_ROOT/maillog
SND_PID=
alloc_port SND_PORT || bail "no free port"
# sender_setup - a second private instance: no milter, binds to $EXT,
# relays everything to the receiver, retries only when flushed
sender_setup() {
	mkdir -p "$SND_DIR" "$SND_ROOT/queue" "$SND_ROOT/data"
	chown postfix "$SND_ROOT/data"
	sed "s#$PF_ROOT/#$SND_ROOT/#g" "$PF_DIR/main.cf" >"$SND_DIR/main.cf"
	sed "s/^127\.0\.0\.1:$PF_PORT inet/127.0.0.1:$SND_PORT inet/" \
	    "$PF_DIR/master.cf" >"$SND_DIR/master.cf"
	postconf -c "$SND_DIR" -e "maillog_file = $SND_LOG" \
	    "myhostname = relay.in.test" "smtpd_milters =" "non_smtpd_milters =" \
	    "relayhost = [127.0.0.1]:$PF_PORT" "smtp_bind_address = $EXT" \
	    "queue_run_delay = 300s" "minimal_backoff_time = 300s" \
	    "maximal_backoff_time = 600s"
}
sender_setup || bail "sender postfix set-up"
postfix_sasl alice "s3cret-pw" || bail "SMTP AUTH password checker could not start"
postfix_start || bail "receiver Postfix could not start"
if ! postfix -c "$SND_DIR" start >"$SND_ROOT/start.out" 2>&1; then
	diag_file "$SND_ROOT/start.out"
	bail "sender Postfix could not start"
fi
SND_PID=$(sed -n '1s/ //gp' "$SND_ROOT/queue/pid/master.pid" 2>/dev/null)
[ -n "$SND_PID" ] && it_register "$SND_PID" postfix-sender
wait_listen "$SND_PORT" 10 "$SND_PID" || { diag_file "$SND_LOG"; bail "sender Postfix does not listen"; }
diag "unbound :$UNBOUND_PORT  milter :$AM_PORT  receiver :$PF_PORT  sender :$SND_PORT  sink :$SINK_PORT  work $WORK"

# --------------------------------------------------------------------------
# helpers

# mk NAME FROM [inb_tool msg ARGS] - $M/NAME.eml (token NAME-RUN)
mk() {
	local n=$1 from=$2
	shift 2
	$TOOL msg --id "$n-$RUN" --from "$from" "$@" >"$M/$n.eml" || bail "inb_tool.py msg $n"
}
# sign_in NAME - sign $M/NAME.eml for in.test: RSA (r1) and Ed25519 (e1)
sign_in() {
	local h=from,to,subject,date,message-id
	$TOOL sign --key "$KEYS/e1.private" --alg ed25519 --domain in.test \
	    --selector e1 --headers $h "$M/$1.eml" >"$M/$1.tmp" &&
	$TOOL sign --key "$KEYS/r1.private" --alg rsa --domain in.test \
	    --selector r1 --headers $h "$M/$1.tmp" >"$M/$1.eml" ||
	    bail "inb_tool.py sign $1"
}
# send NAME PORT MAILFROM [SWAKS ARGS] - swaks; transcript $SWAKS_LOG
send() {
	local n=$1 port=$2 mf=$3
	shift 3
	swaks_send "$port" "$M/$n.eml" --from "$mf" --helo relay.in.test "$@"
}
# swaks_said CODE - the server answered the data with CODE (e.g. 550 5.7.1)
swaks_said() {
	grep -q "^<\*\{0,2\} *$1" "$SWAKS_LOG"
}
# mget FILE EXPR - inb_tool.py msgget FILE mx.test EXPR
mget() { $TOOL msgget "$1" mx.test "$2" 2>&1; }

# --------------------------------------------------------------------------
# (a) DMARC fail, p=reject: 550 5.7.1 at end of data

mk reject "Bob <bob@rej.test>"
if send reject "$PF_PORT" bob@rej.test --local-interface $EXT; then
	not_ok "(a) reject: swaks reports failure"
	diag_file "$SWAKS_LOG" 12
else
	ok "(a) reject: swaks reports failure"
fi
if check 'swaks_said "550 5.7.1"' "(a) reject: the DATA reply is 550 5.7.1"; then
	check 'grep -q "^<\*\* *550 5.7.1.*rej.test" "$SWAKS_LOG"' "(a) reject: the reply names rej.test"
else
	diag_file "$SWAKS_LOG" 12
fi
check 'grep -q "milter-reject: END-OF-MESSAGE.*5.7.1" "$PF_LOG"' \
    "(a) reject: Postfix logged milter-reject at END-OF-MESSAGE"

# --------------------------------------------------------------------------
# (b) pass: one A-R of ours, at the top, spf/dkim/dmarc pass

mk pass "Alice <alice@in.test>"
sign_in pass
GOT=
if send pass "$PF_PORT" alice@in.test --local-interface $EXT &&
    GOT=$(sink_wait "pass-$RUN" 30); then
	ok "(b) pass: accepted and delivered"
	diag "(b) headers at the sink, top first: $(mget "$GOT" 'names[:6]')"
	is "$(mget "$GOT" 'len(ars)')" 1 "(b) pass: exactly one Authentication-Results header"
	is "$(mget "$GOT" 'len(ours)')" 1 "(b) pass: it is ours (authserv-id mx.test)"
	is "$(mget "$GOT" '[c["method"] + "=" + c["result"] for c in ours[0]["clauses"] if c["props"].get("smtp.mailfrom")]')" \
	    '["spf=pass"]' "(b) pass: spf=pass smtp.mailfrom"
	is "$(mget "$GOT" 'sorted(c["result"] + "/" + c["props"].get("header.a", "") for c in arcs("dkim"))')" \
	    '["pass/ed25519-sha256", "pass/rsa-sha256"]' "(b) pass: dkim=pass for the RSA and the Ed25519 signature"
	is "$(mget "$GOT" 'arc("dmarc")["result"] + " " + arc("dmarc")["props"].get("header.from", "")')" \
	    "pass in.test" "(b) pass: dmarc=pass header.from=in.test"
	ar_i=$(mget "$GOT" '[n.lower() for n in names].index("authentication-results")')
	first_orig=$(mget "$GOT" 'min(i for i, n in enumerate(names) if n.lower() in ("dkim-signature", "from", "x-test-id"))')
	check '[ "$ar_i" -lt "$first_orig" ]' \
	    "(b) pass: our A-R is above every header of the original message (index $ar_i < $first_orig)"
	rcv_i=$(mget "$GOT" '[n.lower() for n in names].index("received")')
	if [ "$ar_i" -lt "$rcv_i" ]; then
		diag "(b) our A-R landed ABOVE Postfix's own Received header (A-R index $ar_i, Received $rcv_i)"
	else
		diag "(b) our A-R landed BELOW Postfix's own Received header (Received index $rcv_i, A-R $ar_i)"
	fi
	check '[ "$ar_i" -le 1 ]' "(b) pass: our A-R is the first or second header (at the top, next to Postfix's Received)"
	check '"$PY" "$DKIMVERIFY" --nameserver 127.0.0.1 --port "$UNBOUND_PORT" "$GOT"' \
	    "(b) pass: the delivered message still verifies (python3-dkim)"
else
	not_ok "(b) pass: accepted and delivered"
	diag_file "$SWAKS_LOG" 12
	diag_file "$PF_LOG" 10
fi

# --------------------------------------------------------------------------
# (c) forged A-R with our authserv-id removed, a foreign one kept

mk forged "Alice <alice@in.test>" \
    --header "Authentication-Results: mx.test; dkim=pass header.d=forged.example; dmarc=pass header.from=in.test" \
    --header "Authentication-Results: other.example; spf=pass smtp.mailfrom=alice@in.test" \
    --header "Authentication-Results: MX.TEST (upper case);
	spf=pass smtp.mailfrom=forged@in.test"
sign_in forged
if send forged "$PF_PORT" alice@in.test --local-interface $EXT &&
    GOT=$(sink_wait "forged-$RUN" 30); then
	ok "(c) forged: accepted and delivered"
	is "$(mget "$GOT" 'len(ars)')" 2 "(c) forged: two A-R headers left (ours and other.example's)"
	is "$(mget "$GOT" 'len(ours)')" 1 "(c) forged: one A-R with authserv-id mx.test (any case)"
	is "$(mget "$GOT" '"forged" in " ".join(v for n, v in hdrs if n.lower() == "authentication-results")')" \
	    false "(c) forged: both forged A-R headers (mx.test, MX.TEST) are gone"
	is "$(mget "$GOT" 'arc("dmarc")["result"]')" pass "(c) forged: ours says dmarc=pass"
	is "$(mget "$GOT" '[a["id"] for a in ars if a["id"].lower() != "mx.test"]')" \
	    '["other.example"]' "(c) forged: the other.example A-R is kept"
	check '"$PY" "$DKIMVERIFY" --nameserver 127.0.0.1 --port "$UNBOUND_PORT" "$GOT"' \
	    "(c) forged: the delivered message still verifies (python3-dkim)"
else
	not_ok "(c) forged: accepted and delivered"
	diag_file "$SWAKS_LOG" 12
	diag_file "$PF_LOG" 10
fi

# --------------------------------------------------------------------------
# (f) DMARC fail, p=quarantine: hold queue

mk quar "Quentin <q@quar.test>"
QSENDER=q-$RUN@quar.test
if send quar "$PF_PORT" "$QSENDER" --local-interface $EXT; then
	ok "(f) quarantine: accepted by Postfix (250)"
else
	not_ok "(f) quarantine: accepted by Postfix (250)"
	diag_file "$SWAKS_LOG" 12
fi
held_qid() {
	postqueue -c "$PF_DIR" -j 2>/dev/null | "$PY" -c '
import json, sys
for line in sys.stdin:
    q = json.loads(line)
    if q.get("sender") == sys.argv[1] and q.get("queue_name") == "hold":
        print(q["queue_id"])' "$QSENDER"
}
has_held() { [ -n "$(held_qid)" ]; }
if wait_for 10 has_held && QID=$(held_qid) && [ -n "$QID" ]; then
	ok "(f) quarantine: the message is in the hold queue ($QID)"
	postcat -c "$PF_DIR" -h -q "$QID" >"$WORK/held.txt" 2>&1
	check 'grep -q "^Authentication-Results: mx.test;" "$WORK/held.txt" && grep -q "dmarc=fail" "$WORK/held.txt"' \
	    "(f) quarantine: the held message carries our A-R with dmarc=fail"
else
	not_ok "(f) quarantine: the message is in the hold queue"
	diag "postqueue -j: $(postqueue -c "$PF_DIR" -j 2>&1 | head -n 5)"
	diag_file "$PF_LOG" 10
fi
check 'grep -q "milter-hold: END-OF-MESSAGE" "$PF_LOG"' "(f) quarantine: Postfix logged milter-hold"

# --------------------------------------------------------------------------
# (e) outbound: signed, not DMARC-checked

mk out "Olga <olga@out.test>"
if send out "$PF_PORT" olga@out.test && GOT=$(sink_wait "out-$RUN" 30); then
	ok "(e) outbound (internal 127.0.0.1): delivered"
	is "$(msg_header_count "$GOT" DKIM-Signature)" 1 "(e) outbound: one DKIM-Signature"
	is "$(msg_sig_tags "$GOT" d)" out.test "(e) outbound: d=out.test"
	check '"$PY" "$DKIMVERIFY" --nameserver 127.0.0.1 --port "$UNBOUND_PORT" "$GOT"' \
	    "(e) outbound: the signature verifies (python3-dkim, key from unbound)"
	is "$(msg_header_count "$GOT" Authentication-Results)" 0 "(e) outbound: no Authentication-Results added"
else
	not_ok "(e) outbound (internal 127.0.0.1): delivered"
	diag_file "$SWAKS_LOG" 12
	diag_file "$PF_LOG" 10
fi

mk outauth "Olga <olga@out.test>"
if send outauth "$PF_PORT" olga@out.test --local-interface $EXT \
    --auth PLAIN --auth-user alice --auth-password s3cret-pw &&
    GOT=$(sink_wait "outauth-$RUN" 30); then
	ok "(e) outbound (SMTP AUTH from $EXT): delivered"
	is "$(msg_header_count "$GOT" DKIM-Signature)" 1 "(e) outbound auth: one DKIM-Signature"
	check '"$PY" "$DKIMVERIFY" --nameserver 127.0.0.1 --port "$UNBOUND_PORT" "$GOT"' \
	    "(e) outbound auth: the signature verifies"
	is "$(msg_header_count "$GOT" Authentication-Results)" 0 "(e) outbound auth: no Authentication-Results added"
else
	not_ok "(e) outbound (SMTP AUTH from $EXT): delivered"
	diag_file "$SWAKS_LOG" 12
	diag_file "$PF_LOG" 10
fi

# --------------------------------------------------------------------------
# (d) DNS timeout: 451, kept by the sender, delivered once DNS answers

mk slow "Sam <sam@slow.test>"
SSENDER=sam-$RUN@slow.test
if send slow "$SND_PORT" "$SSENDER"; then
	ok "(d) timeout: the sender Postfix accepts the message"
else
	not_ok "(d) timeout: the sender Postfix accepts the message"
	diag_file "$SWAKS_LOG" 12
fi
deferred_451() { grep -q "to=<rcpt@remote.test>.*status=deferred.*said: 451 4\.7\." "$SND_LOG"; }
if check 'wait_for 30 deferred_451' "(d) timeout: the receiver answered 451 4.7.x and the sender deferred"; then
	diag "(d) $(grep -m 1 'status=deferred' "$SND_LOG" | sed 's/.*status=/status=/' | cut -c1-250)"
else
	diag_file "$SND_LOG" 10
	diag_file "$PF_LOG" 10
fi
check '! sink_find "slow-$RUN"' "(d) timeout: nothing at the sink yet"
check 'grep -q "dmarc=temperror(slow.test p=unknown dis=none" "$WORK/in.log"' \
    "(d) timeout: authmilter's log line says p=unknown, not a guessed p=none"
in_sender_queue() {
	postqueue -c "$SND_DIR" -j 2>/dev/null | grep -q "\"sender\": *\"$SSENDER\""
}
check 'in_sender_queue' "(d) timeout: the message waits in the sender's queue"
dns_data fixed
unbound_restart || bail "unbound could not restart"
check '[ "$(unbound_query _dmarc.slow.test TXT)" = "\"v=DMARC1; p=reject\"" ]' \
    "(d) timeout: unbound now answers for _dmarc.slow.test"
postqueue -c "$SND_DIR" -f >/dev/null 2>&1
if GOT=$(sink_wait "slow-$RUN" 30); then
	ok "(d) timeout: after postqueue -f the message reached the sink"
	is "$(mget "$GOT" 'arc("dmarc")["result"]')" pass "(d) timeout: delivered with dmarc=pass"
else
	not_ok "(d) timeout: after postqueue -f the message reached the sink"
	diag_file "$SND_LOG" 10
	diag_file "$PF_LOG" 10
	diag_file "$WORK/in.log" 10
fi
not_in_sender_queue() { ! in_sender_queue; }
check 'wait_for 10 not_in_sender_queue' "(d) timeout: the sender's queue no longer holds it"
sleep 1
is "$(sink_find "slow-$RUN" | wc -l)" 1 "(d) timeout: exactly one copy at the sink"

# --------------------------------------------------------------------------
# the end

check '! sink_find "reject-$RUN"' "(a) reject: the rejected message never reached the sink"
check '! sink_find "quar-$RUN"' "(f) quarantine: the held message is not at the sink"
check '! grep -E "warning: .*milter" "$PF_LOG"' "receiver Postfix logged no milter warning (timeout, protocol error)"
check 'am_alive in' "authmilter still running"
check 'am_log_clean "$WORK/in.log"' "authmilter log has no crash or sanitizer report"
[ -n "${IT_VERBOSE:-}" ] && diag_file "$WORK/in.log" 40
am_stop in
is "$STOP_RC" 0 "authmilter exits 0 on SIGTERM"
postfix -c "$SND_DIR" stop >/dev/null 2>&1
exit 0
