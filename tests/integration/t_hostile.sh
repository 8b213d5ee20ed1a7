#!/bin/bash
# t_hostile.sh - hostile messages through the milter protocol, each one's
# CPU cost measured in the daemon.
#
# authmilter runs inbound checks (SPF, DKIM, DMARC against a private
# unbound) on mail from an external client; tests/miltc sends each message
# of hostile.py byte-exact (--raw): thousands of DKIM-Signature headers,
# From headers of nested comments and nested groups, a 1 MB folded header,
# an Authentication-Results with nested comments, broken MIME, a
# DKIM-Signature with 100,000 tags; ARC chains of 300 sets, of 50 sets
# naming 500 fields each, of 45,000 tags, an ARC-Authentication-Results of
# nested comments (the daemon seals: ARCSealKey). For each: the milter answers, is still
# running, and the message cost the daemon (utime + stime from
# /proc/PID/stat, before and after) under HOSTILE_MAX_CPU_MS of CPU.
#
# The 100,000-tag signature is waited for at most HOSTILE_TAGS_WAIT
# seconds: libopendkim compares every tag with every earlier one (about a
# minute of CPU), so a regression in the bounds that dkimverify.c now puts
# in front of it must fail quickly, not hold the suite for a minute.

. "$(dirname "$0")/lib.sh"
it_init hostile
it_need_tools unbound unbound-checkconf dig
it_need_authmilter
it_need_miltc

HOSTILE_MAX_CPU_MS=1000		# CPU one hostile message may cost
HOSTILE_TAGS_WAIT=12		# seconds the 100,000-tag message is waited for
HOSTILE_REPLY_WAIT=30		# seconds miltc waits for any other reply
DOMAIN=example.test
CLIENT=192.0.2.9
M=$WORK/msgs
mkdir -p "$M"
HOSTILE="$PY $IT_DIR/hostile.py"
TICKS=$(getconf CLK_TCK)

unbound_zone "$DOMAIN"
unbound_data "$DOMAIN. 300 IN TXT \"v=spf1 ip4:$CLIENT -all\"" \
    "_dmarc.$DOMAIN. 300 IN TXT \"v=DMARC1; p=reject; rua=mailto:d@$DOMAIN\""
unbound_start || bail "unbound (DNS for the inbound checks) could not start"

mkdir -p "$WORK/am" "$WORK/keys"
chmod 700 "$WORK/keys"
"$AUTHMILTER" keygen --domain "$DOMAIN" --selector arc --algorithm rsa \
    --directory "$WORK/keys" >/dev/null 2>&1 || bail "keygen (the ARC sealing key) failed"
echo "arc $DOMAIN:arc:$WORK/keys/arc.private" >"$WORK/am/KeyTable"
echo "*@$DOMAIN arc" >"$WORK/am/SigningTable"
SOCK=unix:$WORK/am/milter.sock
cat >"$WORK/am/authmilter.conf" <<EOF
Socket              $SOCK
PidFile             $WORK/am/authmilter.pid
Syslog              no
LogWhy              yes
InternalHosts       127.0.0.1/32
AuthservID          mx.test
Nameservers         127.0.0.1:$UNBOUND_PORT
DNSTimeout          2
DNSBudget           4
ShutdownTimeout     2
KeyTable            $WORK/am/KeyTable
SigningTable        refile:$WORK/am/SigningTable
ARCSealKey          arc
EOF
am_start am "$WORK/am/authmilter.conf" || bail "authmilter could not start"
PID=$(am_pid am)
LOG=$WORK/am.log

# cpu_ticks - the daemon's utime + stime so far (all its threads)
cpu_ticks() {
	# the command name (field 2) may hold spaces: count from after ")"
	sed 's/.*) //' "/proc/$PID/stat" | awk '{ print $12 + $13 }'
}

# ms TICKS - clock ticks as milliseconds
ms() { echo $(( $1 * 1000 / TICKS )); }

WORST_MS=0
WORST_NAME=

# send KIND [WAIT] - generate and send one message from the external
# client; sets CPU_MS (the daemon's CPU for it) and SENT (miltc's status)
send() {
	local kind=$1 wait=${2:-$HOSTILE_REPLY_WAIT} before after
	[ -f "$M/$kind.eml" ] || $HOSTILE "$kind" "$DOMAIN" >"$M/$kind.eml" ||
	    bail "hostile.py $kind"
	before=$(cpu_ticks)
	MILTC_N=$((MILTC_N + 1))
	MILTC_OUT=$WORK/miltc.$MILTC_N.out
	"$MILTC" -s "$SOCK" -t "$wait" --raw -c "$CLIENT" -H "mail.$DOMAIN" \
	    -f "alice@$DOMAIN" -r rcpt@remote.test "$M/$kind.eml" \
	    >"$MILTC_OUT" 2>"$MILTC_OUT.err"
	SENT=$?
	after=$(cpu_ticks)
	CPU_MS=$(ms $((after - before)))
	diag "$kind: $(stat -c %s "$M/$kind.eml") bytes, CPU $CPU_MS ms, verdict: $(tail -n 1 "$MILTC_OUT" | cut -c1-100)"
}

# hostile KIND DESC [WAIT] - send it; it gets an answer, the daemon lives,
# the CPU it cost is under the bound
hostile() {
	local kind=$1 desc=$2
	send "$kind" "${3:-$HOSTILE_REPLY_WAIT}"
	if [ $SENT -eq 0 ]; then
		ok "$kind ($desc): the milter answers"
	else
		not_ok "$kind ($desc): the milter answers"
		diag_file "$MILTC_OUT.err" 5
		diag_file "$LOG" 5
	fi
	check 'am_alive am' "$kind: the daemon is still running"
	if [ "$CPU_MS" -lt "$HOSTILE_MAX_CPU_MS" ]; then
		ok "$kind: CPU $CPU_MS ms < $HOSTILE_MAX_CPU_MS ms"
	else
		not_ok "$kind: CPU $CPU_MS ms < $HOSTILE_MAX_CPU_MS ms"
	fi
	if [ "$CPU_MS" -ge "$WORST_MS" ]; then
		WORST_MS=$CPU_MS
		WORST_NAME=$kind
	fi
}

# --- an ordinary message first: the set-up works, and what it costs
send plain
if [ $SENT -eq 0 ] && grep -Eq '(INSHEADER [0-9]+|ADDHEADER) Authentication-Results: *mx.test;' "$MILTC_OUT"; then
	ok "plain: checked inbound (our Authentication-Results is added)"
else
	not_ok "plain: checked inbound (our Authentication-Results is added)"
	diag_file "$MILTC_OUT" 10
	diag_file "$MILTC_OUT.err" 5
fi

hostile dkim3000 "3000 DKIM-Signature headers, past MaximumHeaders"
hostile dkim990 "990 DKIM-Signature headers, within MaximumHeaders"
hostile fromcomment "From with 100,000 nested comments"
hostile fromgroup "From with 20,000 nested groups and 20,000 empty ones"
hostile bigfold "a 1 MB folded Subject"
hostile arcomment "Authentication-Results with 100,000 nested comments"
hostile mime "broken MIME: 5,000 nested multiparts, never closed"
# waited for less than the others (see the top)
hostile dkimtags "a DKIM-Signature with 100,000 tags" "$HOSTILE_TAGS_WAIT"
hostile arc300 "300 ARC sets"
check 'grep -q "arc=fail" "$MILTC_OUT"' "arc300: our A-R says arc=fail"
hostile arc50 "50 ARC sets naming 500 fields each over 800 fields"
check 'grep -q "arc=fail" "$MILTC_OUT"' "arc50: our A-R says arc=fail"
hostile arctags "ARC-Seal and ARC-Message-Signature of 45,000 tags each"
check 'grep -q "arc=fail" "$MILTC_OUT"' "arctags: our A-R says arc=fail"
hostile arcaar "ARC-Authentication-Results of 100,000 nested comments and 10,000 clauses"
check 'grep -q "arc=fail" "$MILTC_OUT"' "arcaar: our A-R says arc=fail"
diag "worst CPU: $WORST_MS ms ($WORST_NAME)"

# --- after all of it: alive, answering, clean
send plain
check '[ $SENT -eq 0 ] && grep -q "Authentication-Results: *mx.test;" "$MILTC_OUT"' \
    "after the hostile messages the milter still answers and checks"
check 'am_log_clean "$LOG"' "no sanitizer report or crash in the log"
exit 0
