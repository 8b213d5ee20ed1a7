#!/bin/bash
# t_arc_postfix.sh - a mailing list's ARC seal lets a p=reject author's
# message through a real Postfix: the trusted-sealer override end to end.
#
#   sender (swaks, 127.0.0.2)
#     -> "lists" Postfix + authmilter #2 (AuthservID mx.lists.test,
#        ARCSealKey for lists.test, ARCSealMail relayed): checks the
#        message (DKIM and DMARC of origin.test pass) and delivers it to
#        the list (a sink)
#     -> the list (this script): List-Id, "[list] " in the Subject, a
#        footer; sent again to the lists Postfix from 127.0.0.1 (internal)
#     -> authmilter #2: relayed mail, not signed as origin.test: sealed
#        (i=1, cv=none) with the results of its own A-R
#     -> "receiver" Postfix (from 127.0.0.3) + authmilter #1 (AuthservID
#        mx.test, TrustedARCSealers lists.test): DKIM of origin.test fails
#        (footer), SPF is lists.test's, DMARC fails with p=reject; the ARC
#        chain passes and its sealer is trusted, its AAR says dmarc=pass
#        for origin.test: accepted, override trusted_forwarder in the A-R
#        (policy.dmarc=none and the dmarc comment) and in the log, DMARC
#        still fail
#     -> the final sink, where python3-dkim and Mail::DKIM verify the chain
#
# And the same author domain without the list: a plain spoof from
# 127.0.0.4 gets 550 5.7.1, and so does a spoof carrying a valid ARC set
# of an untrusted sealer (evil.test) whose AAR claims dmarc=pass.

. "$(dirname "$0")/lib.sh"
it_init arc_postfix
it_need_tools unbound unbound-checkconf dig swaks postfix postconf openssl perl
it_need_authmilter
"$PY" -c 'import authres' 2>/dev/null ||
    bail "arc_postfix: $PY lacks python3-authres (dkim.arc_sign needs it)"
perl -MMail::DKIM::ARC::Verifier -e 1 2>/dev/null ||
    bail "arc_postfix: Perl lacks Mail::DKIM::ARC (libmail-dkim-perl)"

TOOL="$PY $IT_DIR/inb_tool.py"
ARC="$PY $IT_DIR/arc_tool.py"
PL="perl $IT_DIR/arc_tool.pl"
SENDER=127.0.0.2	# origin.test's own server (its SPF allows it)
FWD=127.0.0.3		# the lists Postfix, as the receiver sees it
SPOOF=127.0.0.4		# allowed by nobody
RUN=$$-$(date +%s)
KEYS=$WORK/keys
M=$WORK/msgs
mkdir -m 700 "$KEYS"
mkdir -p "$M"

# --------------------------------------------------------------------------
# keys and DNS

"$AUTHMILTER" keygen --domain origin.test --selector o1 --algorithm rsa \
    --directory "$KEYS" >"$KEYS/o1.rr" 2>"$KEYS/o1.err" ||
    { diag_file "$KEYS/o1.err"; bail "authmilter keygen o1"; }
"$AUTHMILTER" keygen --domain lists.test --selector l1 --algorithm rsa \
    --directory "$KEYS" >"$KEYS/l1.rr" 2>"$KEYS/l1.err" ||
    { diag_file "$KEYS/l1.err"; bail "authmilter keygen l1"; }
openssl genrsa -traditional -out "$KEYS/evil.pem" 2048 >/dev/null 2>&1 ||
    openssl genrsa -out "$KEYS/evil.pem" 2048 >/dev/null 2>&1 ||
    bail "openssl genrsa"

rr() { unbound_data "$($TOOL rr "$1" "$2")"; }
unbound_new
unbound_zone test 30
rr origin.test "v=spf1 ip4:$SENDER -all"
rr lists.test "v=spf1 ip4:$FWD ip4:127.0.0.1 -all"
for d in origin.test lists.test dest.test; do
	unbound_data "$d. 300 IN A 192.0.2.1"
done
rr _dmarc.origin.test "v=DMARC1; p=reject"
rr o1._domainkey.origin.test "$($TOOL zonetxt "$KEYS/o1.rr")"
rr l1._domainkey.lists.test "$($TOOL zonetxt "$KEYS/l1.rr")"
rr e1._domainkey.evil.test "$($TOOL keytxt --key "$KEYS/evil.pem")"
unbound_start || bail "unbound (test DNS data) could not start"

# --------------------------------------------------------------------------
# the two authmilters

alloc_port AM1_PORT || bail "no free port"
alloc_port AM2_PORT || bail "no free port"
base_conf() {	# base_conf PORT AUTHSERVID
	cat <<EOF
Socket              inet:$1@127.0.0.1
Syslog              no
InternalHosts       127.0.0.1/32
AuthservID          $2
Nameservers         127.0.0.1:$UNBOUND_PORT
DNSTimeout          2
DNSRetries          1
DNSBudget           4
EOF
}
base_conf "$AM1_PORT" mx.test >"$WORK/receiver.conf"
echo "TrustedARCSealers   lists.test" >>"$WORK/receiver.conf"
echo "arc  lists.test:l1:$KEYS/l1.private" >"$WORK/KeyTable"
echo "*@lists.test  arc" >"$WORK/SigningTable"
base_conf "$AM2_PORT" mx.lists.test >"$WORK/lists.conf"
cat >>"$WORK/lists.conf" <<EOF
KeyTable            $WORK/KeyTable
SigningTable        refile:$WORK/SigningTable
ARCSealKey          arc
ARCSealMail         relayed
EOF
for c in receiver lists; do
	check '"$AUTHMILTER" configtest -c "$WORK/$c.conf"' "configtest accepts $c.conf"
done
am_start receiver "$WORK/receiver.conf" || bail "authmilter #1 (receiver) did not start"
am_start lists "$WORK/lists.conf" || bail "authmilter #2 (lists) did not start"

# --------------------------------------------------------------------------
# sinks and the two Postfix instances

sink_start || bail "the final sink could not start"
LSINK_DIR=$WORK/listsink
mkdir -p "$LSINK_DIR"
alloc_port LSINK_PORT || bail "no free port"
"$PY" "$SINKPY" --port "$LSINK_PORT" --dir "$LSINK_DIR" >"$LSINK_DIR/sink.log" 2>&1 &
LSINK_PID=$!
it_register "$LSINK_PID" listsink
wait_listen "$LSINK_PORT" 10 "$LSINK_PID" || bail "the list's sink could not start"

postfix_setup "inet:127.0.0.1:$AM1_PORT" || bail "receiver postfix set-up"
postfix_conf "non_smtpd_milters ="

LP_ROOT=$WORK/lists-postfix
LP_DIR=$LP_ROOT/etc
LP_LOG=$LP_ROOT/maillog
alloc_port LP_PORT || bail "no free port"
mkdir -p "$LP_DIR" "$LP_ROOT/queue" "$LP_ROOT/data"
chown postfix "$LP_ROOT/data"
sed "s#$PF_ROOT/#$LP_ROOT/#g" "$PF_DIR/main.cf" >"$LP_DIR/main.cf"
sed "s/^127\.0\.0\.1:$PF_PORT inet/127.0.0.1:$LP_PORT inet/" \
    "$PF_DIR/master.cf" >"$LP_DIR/master.cf"
postconf -c "$LP_DIR" -e "maillog_file = $LP_LOG" \
    "myhostname = mx.lists.test" \
    "smtpd_milters = inet:127.0.0.1:$AM2_PORT" "non_smtpd_milters =" \
    "relayhost = [127.0.0.1]:$PF_PORT" "smtp_bind_address = $FWD" \
    "transport_maps = inline:{ lists.test=smtp:[127.0.0.1]:$LSINK_PORT }"
postfix_start || bail "receiver Postfix could not start"
if ! postfix -c "$LP_DIR" start >"$LP_ROOT/start.out" 2>&1; then
	diag_file "$LP_ROOT/start.out"
	bail "lists Postfix could not start"
fi
LP_PID=$(sed -n '1s/ //gp' "$LP_ROOT/queue/pid/master.pid" 2>/dev/null)
[ -n "$LP_PID" ] && it_register "$LP_PID" postfix-lists
wait_listen "$LP_PORT" 10 "$LP_PID" || { diag_file "$LP_LOG"; bail "lists Postfix does not listen"; }
diag "unbound :$UNBOUND_PORT  receiver :$PF_PORT (milter :$AM1_PORT)  lists :$LP_PORT (milter :$AM2_PORT)  work $WORK"

# wait_file DIR TOKEN [SECS] - the stored message of a sink with TOKEN
wait_file() {
	local i f
	for ((i = 0; i < ${3:-30} * 10; i++)); do
		f=$(grep -l -F -- "$2" "$1"/new/*.eml 2>/dev/null | head -n 1)
		[ -n "$f" ] && { echo "$f"; return 0; }
		sleep 0.1
	done
	return 1
}
mget() { $TOOL msgget "$1" mx.test "$2" 2>&1; }

# --------------------------------------------------------------------------
# the list: author -> lists Postfix -> the list -> lists Postfix -> receiver

$TOOL msg --id "list-$RUN" --from "Alice <alice@origin.test>" \
    --to "list@lists.test" >"$M/raw.eml" || bail "inb_tool.py msg"
$TOOL sign --key "$KEYS/o1.private" --domain origin.test --selector o1 \
    "$M/raw.eml" >"$M/orig.eml" || bail "inb_tool.py sign"

if swaks_send "$LP_PORT" "$M/orig.eml" --local-interface $SENDER \
    --from alice@origin.test --to list@lists.test &&
    AT_LIST=$(wait_file "$LSINK_DIR" "list-$RUN"); then
	ok "the author's message reached the list"
else
	not_ok "the author's message reached the list"
	diag_file "$SWAKS_LOG" 12
	diag_file "$LP_LOG" 12
	bail "no message at the list"
fi
is "$(mget "$AT_LIST" '[a["id"] for a in ars]')" '["mx.lists.test"]' \
    "the list got it with the A-R of authmilter #2"
is "$($TOOL msgget "$AT_LIST" mx.lists.test 'arc("dmarc")["result"]')" pass \
    "... which says dmarc=pass (origin.test's DKIM and SPF)"
check '! grep -q "^ARC-" "$AT_LIST"' "inbound mail is not sealed (ARCSealMail relayed)"

# what the list does to it, and sends it on from 127.0.0.1
$ARC footer "To unsubscribe: list-leave@lists.test ($RUN)" "$AT_LIST" >"$M/list.1.eml"
$ARC prepend "List-Id: <list.lists.test>" "$M/list.1.eml" >"$M/list.eml"
if swaks_send "$LP_PORT" "$M/list.eml" --from list-bounces@lists.test \
    --to member@dest.test && GOT=$(sink_wait "list-$RUN" 40); then
	ok "the list's message went through both Postfix instances to the sink"
else
	not_ok "the list's message went through both Postfix instances to the sink"
	diag_file "$SWAKS_LOG" 12
	diag_file "$LP_LOG" 12
	diag_file "$PF_LOG" 12
	diag_file "$WORK/receiver.log" 5
	diag_file "$WORK/lists.log" 5
	GOT=
fi
if [ -n "$GOT" ]; then
	check 'grep -q "arc_sealed=i=1 cv=none" "$WORK/lists.log"' \
	    "authmilter #2 sealed the relayed list mail (i=1, cv=none)"
	is "$(msg_header_count "$GOT" ARC-Seal)" 1 "one ARC set on the delivered message"
	check 'grep -q "^ARC-Seal: i=1; a=rsa-sha256; t=[0-9]*; cv=none; d=lists.test; s=l1;" "$GOT"' \
	    "ARC-Seal i=1 cv=none d=lists.test"
	check 'grep -q "^ARC-Authentication-Results: i=1; mx.lists.test;" "$GOT"' \
	    "the AAR is authmilter #2's (mx.lists.test)"
	is "$(mget "$GOT" 'len(ours)')" 1 "one A-R of the receiver (mx.test)"
	is "$(mget "$GOT" 'arc("dkim")["result"]')" fail "the footer broke origin.test's DKIM"
	is "$(mget "$GOT" 'arc("arc")["result"] + " " + arc("arc")["props"].get("header.oldest-pass", "")')" \
	    "pass 1" "A-R: arc=pass header.oldest-pass=1"
	is "$(mget "$GOT" 'arc("arc")["props"].get("smtp.remote-ip")')" $FWD \
	    "A-R: smtp.remote-ip=$FWD (the lists Postfix)"
	is "$(mget "$GOT" 'arc("dmarc")["result"] + " " + arc("dmarc")["props"].get("header.from", "")')" \
	    "fail origin.test" "A-R: DMARC itself stays fail (header.from=origin.test)"
	is "$(mget "$GOT" 'arc("dmarc")["props"].get("policy.dmarc")')" none \
	    "A-R: policy.dmarc=none (the disposition applied)"
	check 'tr -d "\r\n\t" <"$GOT" | grep -q "override trusted_forwarder: trusted ARC sealers lists.test"' \
	    "A-R: the override trusted_forwarder and the sealer in the dmarc comment"
	check 'grep -q "from=<list-bounces@lists.test>.*dmarc=fail(origin.test p=reject dis=reject).*arc=pass(i=1 lists.test).*override=trusted_forwarder action=accept" "$WORK/receiver.log"' \
	    "the receiver's log line: dmarc=fail, arc=pass, override=trusted_forwarder, action=accept"
	check '$ARC verify --nameserver 127.0.0.1 --port "$UNBOUND_PORT" "$GOT"' \
	    "python3-dkim verifies the delivered chain"
	check '$PL verify 127.0.0.1 "$UNBOUND_PORT" <"$GOT"' \
	    "Mail::DKIM verifies the delivered chain"
	diag "headers at the sink, top first: $(mget "$GOT" 'names[:7]')"
fi

# --------------------------------------------------------------------------
# spoofs of the same author domain: still 550

$TOOL msg --id "spoof-$RUN" --from "Alice <alice@origin.test>" >"$M/spoof.eml"
if swaks_send "$PF_PORT" "$M/spoof.eml" --local-interface $SPOOF \
    --from alice@origin.test; then
	not_ok "a plain spoof of origin.test: refused"
else
	ok "a plain spoof of origin.test: refused"
fi
check 'grep -q "^<\*\* *550 5.7.1.*origin.test" "$SWAKS_LOG"' \
    "a plain spoof of origin.test: 550 5.7.1 naming origin.test"

# a valid ARC set, but sealed by evil.test, which nobody trusts
$TOOL msg --id "evil-$RUN" --from "Alice <alice@origin.test>" >"$M/evil.0.eml"
$ARC prepend "Authentication-Results: mx.evil.test; dmarc=pass header.from=origin.test" \
    "$M/evil.0.eml" >"$M/evil.1.eml"
$ARC seal --key "$KEYS/evil.pem" --domain evil.test --selector e1 \
    --srvid mx.evil.test "$M/evil.1.eml" >"$M/evil.eml" || bail "dkimpy seal (evil)"
# RFC 9989: a chain that passes is a sign of indirect flow, even from a
# sealer we do not trust: held (quarantine), not refused, and never delivered
if swaks_send "$PF_PORT" "$M/evil.eml" --local-interface $SPOOF \
    --from alice@origin.test; then
	ok "a spoof sealed by an untrusted sealer: taken for quarantine (250)"
else
	not_ok "a spoof sealed by an untrusted sealer: taken for quarantine (250)"
	diag_file "$SWAKS_LOG" 8
fi
evil_held() {
	postqueue -c "$PF_DIR" -j 2>/dev/null | "$PY" -c '
import json, sys
for line in sys.stdin:
    q = json.loads(line)
    if q.get("sender") == "alice@origin.test" and q.get("queue_name") == "hold":
        print(q["queue_id"])' | grep -q .
}
check 'wait_for 15 evil_held' "... it is in Postfix's hold queue, not delivered"
check 'grep -q "from=<alice@origin.test>.*arc=pass(i=1 evil.test).*override=other.*action=quarantine" "$WORK/receiver.log"' \
    "... the log says arc=pass, override=other, action=quarantine"
sleep 1
check '! sink_find "spoof-$RUN" && ! sink_find "evil-$RUN"' "no spoof reached the sink"

# --------------------------------------------------------------------------
# the end

check '! grep -E "warning: .*milter" "$PF_LOG" "$LP_LOG"' "neither Postfix logged a milter warning"
for a in receiver lists; do
	check "am_log_clean \"\$WORK/$a.log\"" "authmilter ($a) log has no crash or sanitizer report"
	am_stop "$a"
	is "$STOP_RC" 0 "authmilter ($a) exits 0 on SIGTERM"
done
postfix -c "$LP_DIR" stop >/dev/null 2>&1
exit 0
