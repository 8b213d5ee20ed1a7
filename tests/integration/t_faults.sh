#!/bin/bash
# t_faults.sh - faults under load, through a real Postfix: no message lost,
# none duplicated, none let through unsigned or unchecked, none refused for
# good, and a stop that neither hangs nor cuts messages off.
#
# Parts, all on loopback: a private unbound (lib_dns.sh; every record with
# TTL 0, so that authmilter asks for each message and DNS faults bite);
# authmilter (unix socket, InternalHosts 127.0.0.1/32, one signing key for
# out.test, DNSTimeout 1, DNSRetries 1, DNSBudget 3, ShutdownTimeout 30);
# the private Postfix "receiver" (smtpd_milters = authmilter,
# milter_default_action = tempfail; a second's pause at DATA, so that
# messages are in flight when a fault comes) relaying to the sink; a
# second private Postfix, the "sender", without milter, which relays what
# the test submits to the receiver, from 127.0.0.1 for outbound mail
# (signed by authmilter) and from 127.0.0.2 for inbound mail (DKIM-signed by
# python3-dkim, checked by authmilter: SPF, DKIM and DMARC pass), at most 8
# connections at a time, and keeps what the receiver defers (4xx) to try
# again.
#
# Each scenario submits a batch (24 outbound + 24 inbound messages; every
# tenth of about 300 KB) with 6 submitting clients, sets the fault off once
# a quarter of the batch has arrived, ends it, then flushes the sender's
# queue (postqueue -f) until everything has arrived or 180 s have passed:
#
#   kill9    SIGKILL of authmilter mid-load, restart
#   term1-3  SIGTERM mid-load (three times, so that a hang would show):
#            time from SIGTERM to exit, exit 0, socket and pid file gone,
#            every message in flight answered, none cut off (no milter
#            failure in the receiver's cleanup server); restart
#   hup      SIGHUP every 0.5 s during the load, alternating two valid
#            configurations (RSA selector o1, Ed25519 selector o2)
#   dnsdown  unbound stopped for a while, then started again
#   dnsslow  every DNS answer 2.5 s late (bench/dnsdelay.py in front of
#            unbound), i.e. past DNSTimeout, for a while
#
# Counted for each: sent (accepted by the sender), delivered (at the sink),
# duplicated, rejected (bounced by the sender after a 5xx), queued (left in
# either queue: postqueue -j), unsigned (outbound without a verifying
# out.test signature, python3-dkim), unchecked (inbound without exactly one
# Authentication-Results of ours with SPF, DKIM and DMARC results and
# dmarc=pass: in.test publishes p=reject; SPF or DKIM may say temperror
# when DNS failed for that lookup alone, which is reported), lost.
# Pass: 0 lost, 0 duplicated, 0 unsigned, 0 unchecked, 0 rejected, 0 left
# queued, and for SIGTERM an exit within STOP_MAX seconds (10). The fault
# table is printed as "#" lines at the end.
#
# It takes about three minutes. FAULTS_SOAK=1: 200 + 200 messages per
# scenario and ten SIGTERM rounds, some 30 minutes: run it by hand, as root
# from a built tree (tests/run stops a script after 15 minutes):
#     FAULTS_SOAK=1 AUTHMILTER=$PWD/filter/authmilter bash tests/integration/t_faults.sh

. "$(dirname "$0")/lib.sh"
it_init faults
it_need_tools unbound unbound-checkconf dig postfix postconf postqueue openssl
it_need_authmilter

TOOL="$PY $IT_DIR/faults_tool.py"
INB="$PY $IT_DIR/inb_tool.py"
DNSDELAY=$TOP_SRCDIR/bench/dnsdelay.py
EXT=127.0.0.2
KEYS=$WORK/keys
M=$WORK/msgs
SHUTDOWN_SECS=30
STOP_MAX=10		# seconds from SIGTERM to exit that still pass
SETTLE_SECS=180
if [ "${FAULTS_SOAK:-0}" != 0 ]; then
	N_OUT=200 N_IN=200 TERM_ROUNDS=10
else
	N_OUT=24 N_IN=24 TERM_ROUNDS=3
fi
mkdir -m 700 "$KEYS"
mkdir -p "$M"
[ -f "$DNSDELAY" ] || bail "faults: $DNSDELAY not found"

# --------------------------------------------------------------------------
# keys: in.test (python3-dkim signs), out.test o1 (RSA) and o2 (Ed25519)

for k in "in.test r1 rsa" "out.test o1 rsa" "out.test o2 ed25519"; do
	set -- $k
	"$AUTHMILTER" keygen --domain "$1" --selector "$2" --algorithm "$3" \
	    --directory "$KEYS" >"$KEYS/$2.rr" 2>"$KEYS/$2.err" ||
	    { diag_file "$KEYS/$2.err"; bail "authmilter keygen $k"; }
done

# --------------------------------------------------------------------------
# DNS: every record with TTL 0

rr0() { unbound_data "$($INB rr "$1" "$2" | sed 's/ 300 IN TXT / 0 IN TXT /')"; }
unbound_new
unbound_zone test 0
rr0 in.test "v=spf1 ip4:$EXT -all"
rr0 relay.in.test "v=spf1 ip4:$EXT -all"
rr0 out.test "v=spf1 ip4:127.0.0.1 -all"
rr0 _dmarc.in.test "v=DMARC1; p=reject"
rr0 _dmarc.out.test "v=DMARC1; p=reject"
rr0 r1._domainkey.in.test "$($INB zonetxt "$KEYS/r1.rr")"
rr0 o1._domainkey.out.test "$($INB zonetxt "$KEYS/o1.rr")"
rr0 o2._domainkey.out.test "$($INB zonetxt "$KEYS/o2.rr")"
unbound_start || bail "unbound (test DNS data) could not start"
DNS_PORT=$UNBOUND_PORT		# authmilter's name server, whatever answers
alloc_port DNS_BACK_PORT || bail "no free port"
check '[ "$(unbound_query _dmarc.in.test TXT)" = "\"v=DMARC1; p=reject\"" ]' \
    "unbound serves the test data"

# dns_delay_on - answers 2.5 s late: dnsdelay.py on the name server's port,
# in front of unbound moved to another port
DELAY_PID=
dns_delay_on() {
	unbound_stop
	UNBOUND_PORT=$DNS_BACK_PORT
	unbound_start || return 1
	"$PY" "$DNSDELAY" --listen "127.0.0.1:$DNS_PORT" \
	    --upstream "127.0.0.1:$DNS_BACK_PORT" --delay-ms 2500 \
	    --log "$WORK/dnsdelay.queries" >"$WORK/dnsdelay.log" 2>&1 &
	DELAY_PID=$!
	it_register "$DELAY_PID" dnsdelay
	wait_listen "$DNS_PORT" 10 "$DELAY_PID" || { diag_file "$WORK/dnsdelay.log"; return 1; }
}
# dns_delay_off - unbound back on the name server's port
dns_delay_off() {
	stop_pid "$DELAY_PID" 10
	DELAY_PID=
	unbound_stop
	UNBOUND_PORT=$DNS_PORT
	unbound_start
}

# --------------------------------------------------------------------------
# authmilter

AM_DIR=$WORK/am
mkdir -p "$AM_DIR"
AM_SOCK=$AM_DIR/milter.sock
AM_PIDFILE=$AM_DIR/authmilter.pid
AM_CONF=$AM_DIR/authmilter.conf
AM_LOG=$WORK/fm.log
# am_conf SELECTOR - write the configuration (atomically) for that key
am_conf() {
	cat >"$AM_CONF.new" <<EOF
Socket              unix:$AM_SOCK
# Postfix's smtpd runs as user postfix and must be able to connect
UMask               000
PidFile             $AM_PIDFILE
Syslog              no
InternalHosts       127.0.0.1/32
Domain              out.test
Selector            $1
KeyFile             $KEYS/$1.private
AuthservID          mx.test
Nameservers         127.0.0.1:$DNS_PORT
DNSTimeout          1
DNSRetries          1
DNSBudget           3
ShutdownTimeout     $SHUTDOWN_SECS
EOF
	mv -f "$AM_CONF.new" "$AM_CONF"
}
am_conf o1
check '"$AUTHMILTER" configtest -c "$AM_CONF"' "configtest accepts the configuration"
am_start fm "$AM_CONF" || bail "authmilter could not start"

# --------------------------------------------------------------------------
# sink, receiver Postfix, sender Postfix

sink_start || bail "sink could not start"
postfix_setup "unix:$AM_SOCK" || bail "postfix set-up"
# "sleep 1" at DATA: each message is in flight at the milter (MAIL FROM
# sent, no reply yet) for a second or more, as with slow clients, so that
# a fault always finds messages in flight; 8 connections then carry some
# 6 messages a second
postfix_conf "non_smtpd_milters =" "myhostname = mx.authmilter.test" \
    "smtpd_data_restrictions = sleep 1"
postfix_start || bail "receiver Postfix could not start"

SND_ROOT=$WORK/sender
SND_DIR=$SND_ROOT/etc
SND_LOG=$SND_ROOT/maillog
alloc_port SND_PORT || bail "no free port"
mkdir -p "$SND_DIR" "$SND_ROOT/queue" "$SND_ROOT/data"
chown postfix "$SND_ROOT/data"
sed "s#$PF_ROOT/#$SND_ROOT/#g" "$PF_DIR/main.cf" >"$SND_DIR/main.cf"
sed "s/^127\.0\.0\.1:$PF_PORT inet/127.0.0.1:$SND_PORT inet/" \
    "$PF_DIR/master.cf" >"$SND_DIR/master.cf"
cat >>"$SND_DIR/master.cf" <<EOF
outb      unix  -       -       n       -       -       smtp -o smtp_bind_address=127.0.0.1 -o smtp_helo_name=out.test
inb       unix  -       -       n       -       -       smtp -o smtp_bind_address=$EXT -o smtp_helo_name=relay.in.test
EOF
printf 'out.rcpt.test outb:[127.0.0.1]:%s\nin.rcpt.test inb:[127.0.0.1]:%s\n' \
    "$PF_PORT" "$PF_PORT" >"$SND_ROOT/transport"
postconf -c "$SND_DIR" -e "maillog_file = $SND_LOG" \
    "myhostname = relay.in.test" "smtpd_milters =" "non_smtpd_milters =" \
    "relayhost = [127.0.0.1]:$PF_PORT" \
    "transport_maps = texthash:$SND_ROOT/transport" \
    "initial_destination_concurrency = 4" \
    "outb_destination_concurrency_limit = 4" \
    "inb_destination_concurrency_limit = 4" \
    "queue_run_delay = 3s" "minimal_backoff_time = 3s" \
    "maximal_backoff_time = 6s" || bail "sender postfix set-up"
postfix -c "$SND_DIR" start >"$SND_ROOT/start.out" 2>&1 ||
    { diag_file "$SND_ROOT/start.out"; bail "sender Postfix could not start"; }
SND_PID=$(sed -n '1s/ //gp' "$SND_ROOT/queue/pid/master.pid" 2>/dev/null)
[ -n "$SND_PID" ] && it_register "$SND_PID" postfix-sender
wait_listen "$SND_PORT" 10 "$SND_PID" || { diag_file "$SND_LOG"; bail "sender Postfix does not listen"; }
diag "unbound :$DNS_PORT  milter $AM_SOCK  receiver :$PF_PORT  sender :$SND_PORT  sink :$SINK_PORT  work $WORK"

# --------------------------------------------------------------------------
# helpers

# now - seconds since the epoch, with fractions
now() { date +%s.%N; }
# elapsed T0 [T1] - seconds from T0 to T1 (default now), 2 decimals
elapsed() { awk -v a="$1" -v b="${2:-$(now)}" 'BEGIN { printf "%.2f", b - a }'; }

# delivered TAG - how many stored messages carry an X-Test-Id of TAG
delivered() {
	grep -l -m 1 "^X-Test-Id: $1-" "$SINK_DIR"/new/*.eml 2>/dev/null | wc -l
}
# queued TAG - queue entries of TAG in both Postfix instances
queued() {
	local n1 n2
	n1=$(postqueue -c "$SND_DIR" -j 2>/dev/null | grep -c "\"$1-[0-9]*@")
	n2=$(postqueue -c "$PF_DIR" -j 2>/dev/null | grep -c "\"$1-[0-9]*@")
	echo $((n1 + n2))
}
# deferrals TAG - deliveries of TAG the receiver deferred (sender's log)
deferrals() { grep -c "to=<$1-[0-9]*@.*status=deferred" "$SND_LOG"; }
# bounced TAG - messages of TAG the sender bounced (a 5xx from the receiver)
bounced() { grep "to=<$1-[0-9]*@.*status=bounced" "$SND_LOG" | grep -o "to=<$1-[0-9]*@" | sort -u | wc -l; }

# am_running - the current authmilter has not exited (a zombie has)
am_running() {
	local pid
	pid=$(am_pid fm)
	[ -n "$pid" ] && [ -e "/proc/$pid" ] &&
	    ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null
}
# am_restart - start authmilter again after it stopped or was killed
am_restart() {
	# a pid file left by SIGKILL would pass for the new one's
	rm -f "$AM_PIDFILE"
	am_start fm "$AM_CONF" || { diag_file "$AM_LOG" 10; return 1; }
}

# batch_start TAG - make the batch and submit it in the background
BATCH_PID=
batch_start() {
	$TOOL gen --dir "$M" --tag "$1" --out "$N_OUT" --in "$N_IN" \
	    --key "$KEYS/r1.private" --selector r1 --domain in.test ||
	    bail "faults_tool.py gen $1"
	$TOOL send --port "$SND_PORT" --concurrency 6 "$M/$1.list" \
	    >"$M/$1.sent" 2>"$M/$1.send.err" &
	BATCH_PID=$!
	it_register "$BATCH_PID" "submit-$1"
}
# batch_sent TAG - wait for the submission; set SENT to how many were
# accepted (not in $(...): only this shell can wait for its child)
SENT=0
batch_sent() {
	wait "$BATCH_PID"
	it_unregister "$BATCH_PID"
	SENT=$(awk '$1 == "sent" { print $2 }' "$M/$1.sent")
	SENT=${SENT:-0}
}
# wait_share TAG - wait (at most 60 s) until a quarter of the batch arrived
wait_share() {
	local want=$(((N_OUT + N_IN) / 4)) i
	for ((i = 0; i < 600; i++)); do
		[ "$(delivered "$1")" -ge "$want" ] && return 0
		sleep 0.1
	done
	return 1
}
# wait_deferral TAG SECS - wait until the receiver deferred one of TAG
wait_deferral() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[ "$(deferrals "$1")" -gt 0 ] && return 0
		sleep 0.1
	done
	return 1
}
# settle TAG SENT - flush the sender's queue until SENT messages of TAG
# arrived and none is queued, at most SETTLE_SECS
settle() {
	local t0=$SECONDS next=0
	while [ $((SECONDS - t0)) -lt "$SETTLE_SECS" ]; do
		if [ "$(delivered "$1")" -ge "$2" ] && [ "$(queued "$1")" -eq 0 ]; then
			return 0
		fi
		if [ $SECONDS -ge $next ]; then
			postqueue -c "$SND_DIR" -f >/dev/null 2>&1
			next=$((SECONDS + 5))
		fi
		sleep 0.5
	done
	return 1
}

# receiver log lines since the mark (mark_log sets it)
PF_MARK=0
mark_log() { PF_MARK=$(wc -l <"$PF_LOG"); }
since_mark() { tail -n +"$((PF_MARK + 1))" "$PF_LOG"; }

TABLE=()
# report TAG SCENARIO SENT STOP [EXTRA_OK] - count, check, add a table row
report() {
	local tag=$1 name=$2 sent=$3 stop=$4 extra=${5:-0} j
	local deliv dup uns unc rej q lost deg
	j=$($TOOL count --sink "$SINK_DIR" --list "$M/$tag.list" \
	    --nameserver 127.0.0.1 --port "$DNS_PORT" --authserv mx.test)
	deliv=$(jget "$j" delivered)
	dup=$(jget "$j" duplicated)
	uns=$(jget "$j" unsigned)
	unc=$(jget "$j" unchecked)
	rej=$(bounced "$tag")
	q=$(queued "$tag")
	lost=$((sent - deliv - rej - q))
	[ "$lost" -lt 0 ] && lost=0
	deg=$(jget "$j" degraded)
	[ "$deg" = "[]" ] || diag "$name: inbound delivered with dmarc=pass but a DNS failure in SPF or DKIM: $deg"
	TABLE+=("$(printf '%-9s %5s %9s %10s %8s %6s %8s %9s %5s %6s' \
	    "$name" "$sent" "$deliv" "$dup" "$rej" "$q" "$uns" "$unc" "$lost" "$stop")")
	if [ "$sent" -eq $((N_OUT + N_IN)) ] && [ "$deliv" -eq "$sent" ] &&
	    [ "$lost" -eq 0 ] && [ "$dup" -eq 0 ] && [ "$uns" -eq 0 ] &&
	    [ "$unc" -eq 0 ] && [ "$rej" -eq 0 ] && [ "$q" -eq 0 ] &&
	    [ "$extra" -eq 0 ]; then
		ok "$name: $sent sent, $deliv delivered; 0 lost, duplicated, unsigned, unchecked, rejected, queued"
	else
		not_ok "$name: $sent sent, $deliv delivered, $lost lost, $dup duplicated, $uns unsigned, $unc unchecked, $rej rejected, $q queued"
		diag "$j"
		diag_file "$M/$tag.send.err" 5
		diag_file "$AM_LOG" 10
	fi
}
# jget JSON KEY - a number from the count's JSON
jget() { "$PY" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

# --------------------------------------------------------------------------
# kill9: SIGKILL mid-load, restart

mark_log
batch_start kill9
wait_share kill9 || diag "kill9: a quarter of the batch did not arrive within 60 s"
pid=$(am_pid fm)
kill -KILL "$pid"
wait "$pid" 2>/dev/null
it_unregister "$pid"
check 'wait_deferral kill9 20' "kill9: with authmilter gone the receiver defers (milter_default_action tempfail)"
batch_sent kill9
am_restart || bail "authmilter could not restart after SIGKILL"
postqueue -c "$SND_DIR" -f >/dev/null 2>&1
settle kill9 "$SENT" || diag "kill9: not everything arrived within ${SETTLE_SECS}s"
diag "kill9: $(deferrals kill9) deliveries deferred by the receiver"
report kill9 kill9 "$SENT" -

# --------------------------------------------------------------------------
# term1..N: SIGTERM mid-load; the stop is timed; restart

for ((round = 1; round <= TERM_ROUNDS; round++)); do
	tag=term$round
	mark_log
	batch_start "$tag"
	wait_share "$tag" || diag "$tag: a quarter of the batch did not arrive within 60 s"
	pid=$(am_pid fm)
	loglines=$(wc -l <"$AM_LOG")
	t0=$(now)
	kill -TERM "$pid"
	for ((i = 0; i < (SHUTDOWN_SECS + 20) * 50; i++)); do
		am_running || break
		sleep 0.02
	done
	stop=$(elapsed "$t0")
	bad=0
	if am_running; then
		not_ok "$tag: authmilter exited after SIGTERM (still running after $stop s)"
		diag_file "$AM_LOG" 10
		kill -KILL "$pid"
		bad=1
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	it_unregister "$pid"
	stoplog=$(tail -n +"$((loglines + 1))" "$AM_LOG")
	diag "$tag: SIGTERM: exit after $stop s; the daemon said:" "$(grep -E 'stopping|answered|still in flight' <<<"$stoplog")"
	if [ $bad = 0 ] && awk -v s="$stop" -v m="$STOP_MAX" 'BEGIN { exit !(s <= m) }'; then
		ok "$tag: exited $stop s after SIGTERM (at most ${STOP_MAX}s, ShutdownTimeout ${SHUTDOWN_SECS}s)"
	else
		not_ok "$tag: exited $stop s after SIGTERM (at most ${STOP_MAX}s)"
		bad=1
	fi
	is "$rc" 0 "$tag: exit status 0" || bad=1
	check '[ ! -e "$AM_SOCK" ]' "$tag: the socket is gone" || bad=1
	check '[ ! -e "$AM_PIDFILE" ]' "$tag: the pid file is gone" || bad=1
	if grep -q "every message in flight answered" <<<"$stoplog"; then
		ok "$tag: every message in flight was answered before the exit"
	else
		not_ok "$tag: every message in flight was answered before the exit"
		diag "$stoplog"
		bad=1
	fi
	# a message cut off: the receiver lost the milter after the client's
	# data (its cleanup server talks to the milter about the content)
	cut=$(since_mark | grep -E "postfix/cleanup.*warning: milter" | head -n 3)
	if [ -z "$cut" ]; then
		ok "$tag: no message cut off (no milter failure in the receiver's content phase)"
	else
		not_ok "$tag: no message cut off (no milter failure in the receiver's content phase)"
		diag "$cut"
		bad=1
	fi
	batch_sent "$tag"
	am_restart || bail "authmilter could not restart after SIGTERM"
	postqueue -c "$SND_DIR" -f >/dev/null 2>&1
	settle "$tag" "$SENT" || diag "$tag: not everything arrived within ${SETTLE_SECS}s"
	diag "$tag: $(deferrals "$tag") deliveries deferred; receiver: $(since_mark | grep -c '4.3.2 authmilter is stopping') answered 421 4.3.2, $(since_mark | grep -c 'warning: .*milter') milter warnings"
	report "$tag" "$tag" "$SENT" "${stop}s" "$bad"
done

# --------------------------------------------------------------------------
# hup: SIGHUP every 0.5 s during the load, two valid configurations

mark_log
pid=$(am_pid fm)
reloads0=$(grep -c "configuration reloaded" "$AM_LOG")
batch_start hup
hups=0
while :; do
	if [ $((hups % 2)) = 0 ]; then am_conf o2; else am_conf o1; fi
	kill -HUP "$pid"
	hups=$((hups + 1))
	sleep 0.5
	# at least 8 reloads, and on until the whole batch has arrived
	[ $hups -ge 8 ] && grep -q '^sent' "$M/hup.sent" &&
	    [ "$(delivered hup)" -ge $((N_OUT + N_IN)) ] && break
	[ $hups -ge 240 ] && break
done
am_conf o1
kill -HUP "$pid"
hups=$((hups + 1))
batch_sent hup
reloaded() { [ $(($(grep -c "configuration reloaded" "$AM_LOG") - reloads0)) -ge "$hups" ]; }
wait_for 10 reloaded
check 'am_running && [ "$(am_pid fm)" = "$pid" ]' "hup: the same authmilter still runs after $hups SIGHUPs"
is "$(($(grep -c "configuration reloaded" "$AM_LOG") - reloads0))" "$hups" "hup: $hups SIGHUPs, $hups reloads"
settle hup "$SENT" || diag "hup: not everything arrived within ${SETTLE_SECS}s"
diag "hup: outbound signatures by selector: $(grep -l '^X-Test-Id: hup-' "$SINK_DIR"/new/*.eml | xargs grep -ho 's=o[12];' | sort | uniq -c | tr -s '\n ' ' ')"
report hup hup "$SENT" -

# --------------------------------------------------------------------------
# dnsdown: unbound stopped for a while

mark_log
batch_start dnsdown
wait_share dnsdown || diag "dnsdown: a quarter of the batch did not arrive within 60 s"
unbound_stop
check 'wait_deferral dnsdown 20' "dnsdown: with DNS down inbound mail is deferred (451)"
sleep 2
unbound_start || bail "unbound could not start again"
batch_sent dnsdown
postqueue -c "$SND_DIR" -f >/dev/null 2>&1
settle dnsdown "$SENT" || diag "dnsdown: not everything arrived within ${SETTLE_SECS}s"
diag "dnsdown: $(deferrals dnsdown) deliveries deferred; $(since_mark | grep -c 'milter-reject: END-OF-MESSAGE.* 4\.7\.') 4.7.x at end of message"
report dnsdown dnsdown "$SENT" -

# --------------------------------------------------------------------------
# dnsslow: answers 2.5 s late (past DNSTimeout 1 s) for a while

mark_log
batch_start dnsslow
wait_share dnsslow || diag "dnsslow: a quarter of the batch did not arrive within 60 s"
dns_delay_on || bail "the DNS delay could not start"
check 'wait_deferral dnsslow 30' "dnsslow: with DNS answers late inbound mail is deferred (451)"
sleep 2
dns_delay_off || bail "unbound could not start again"
batch_sent dnsslow
postqueue -c "$SND_DIR" -f >/dev/null 2>&1
settle dnsslow "$SENT" || diag "dnsslow: not everything arrived within ${SETTLE_SECS}s"
diag "dnsslow: $(deferrals dnsslow) deliveries deferred; $(cat "$WORK/dnsdelay.queries" 2>/dev/null | wc -l) queries went through the delay"
report dnsslow dnsslow "$SENT" -

# --------------------------------------------------------------------------
# the end

check 'am_log_clean "$AM_LOG"' "authmilter log has no crash or sanitizer report"
echo "# fault table ($N_OUT outbound + $N_IN inbound messages per scenario; stop: SIGTERM to exit)"
printf '# %-9s %5s %9s %10s %8s %6s %8s %9s %5s %6s\n' scenario sent delivered duplicated rejected queued unsigned unchecked lost stop
for row in "${TABLE[@]}"; do
	echo "# $row"
done
am_stop fm
is "$STOP_RC" 0 "authmilter exits 0 on the last SIGTERM"
postfix -c "$SND_DIR" stop >/dev/null 2>&1
exit 0
