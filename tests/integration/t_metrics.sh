#!/usr/bin/env bash
# t_metrics.sh - the runtime across reloads, and the /metrics endpoint.
#
# A private unbound serves in.test (SPF for 127.0.0.2, DMARC p=none);
# authmilter listens on a TCP port with MetricsListen on another, behind a
# private Postfix that relays to the sink.
#
#   (a) the DNS cache outlives a reload: after SIGHUP the same inbound
#       message makes no new query (authmilter_dns_queries_total stays,
#       cache hits grow); after a reload that changes Nameservers it asks
#       again and the cache was emptied once
#   (b) under Postfix: outbound and inbound mail counted exactly
#       (messages by direction and action, signatures by algorithm, SPF,
#       DMARC and ARC results), nothing in flight afterwards; promtool check
#       metrics accepts the exposition
#   (c) the endpoint under 1,000 concurrent scrapes and malformed HTTP
#       requests, while mail goes through Postfix: every scrape answered,
#       every message delivered and signed, the daemon alive
#   (d) authmilter stats prints the same figures; without MetricsListen it
#       says so and exits 1
. "$(dirname "$0")/lib.sh"
it_init metrics
it_need_tools unbound swaks postfix postconf postqueue curl promtool
it_need_authmilter
it_need_miltc

EXT=127.0.0.2
KEYS=$WORK/keys
M=$WORK/msgs
mkdir -m 700 "$KEYS"
mkdir -p "$M"
"$AUTHMILTER" keygen --domain out.test --selector o1 --algorithm rsa \
    --directory "$KEYS" >/dev/null 2>"$KEYS/err" || bail "keygen"

unbound_new
unbound_zone test 30
unbound_data 'in.test. 300 IN TXT "v=spf1 ip4:127.0.0.2 -all"' \
    'in.test. 300 IN A 192.0.2.1' \
    '_dmarc.in.test. 300 IN TXT "v=DMARC1; p=none"'
unbound_start || bail "unbound could not start"

alloc_port AM_PORT || bail "no free port"
alloc_port MPORT || bail "no free port"
alloc_port DEAD_PORT || bail "no free port"
AM_CONF=$WORK/am.conf
# write_conf EXTRA [NAMESERVERS] - the configuration, with one extra line
write_conf() {
	cat >"$AM_CONF" <<EOF
Socket              inet:$AM_PORT@127.0.0.1
Syslog              no
InternalHosts       127.0.0.1/32
Domain              out.test
Selector            o1
KeyFile             $KEYS/o1.private
AuthservID          mx.test
Nameservers         ${2:-127.0.0.1:$UNBOUND_PORT}
DNSTimeout          2
DNSRetries          1
MetricsListen       127.0.0.1:$MPORT
$1
EOF
}
write_conf ""
check '"$AUTHMILTER" configtest -c "$AM_CONF"' "configtest accepts MetricsListen"
am_start m "$AM_CONF" || bail "authmilter could not start"
AM_PID=$(am_pid m)
wait_listen "$MPORT" 10 "$AM_PID" || bail "no metrics endpoint on $MPORT"

URL=http://127.0.0.1:$MPORT/metrics
# scrape FILE - one scrape into FILE
scrape() { curl -sS --max-time 10 -o "$1" "$URL"; }
# val FILE SERIES - the value of one series (name{labels} as exposed)
val() { awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print "absent" }' "$1"; }
# reloads N - wait until N successful reloads are counted
reloads() {
	wait_for 10 sh -c "curl -s --max-time 2 '$URL' | grep -qx 'authmilter_config_reloads_total{result=\"success\"} $1'"
}

printf 'From: A <a@in.test>\nTo: b@mx.test\nSubject: metrics\nDate: Thu, 03 Dec 2026 10:00:00 +0000\nMessage-ID: <m1@in.test>\n\nbody\n' >"$M/in.eml"
inbound() {
	miltc_run "inet:$AM_PORT@127.0.0.1" -c "$EXT" -H mx.in.test \
	    -f a@in.test -r b@mx.test "$M/in.eml" &&
	    [ "$(miltc_verdict)" = ACCEPT ] &&
	    grep -Eq 'Authentication-Results: +mx.test;.*spf=pass' "$MILTC_OUT"
}

# --------------------------------------------------------------------------
# (a) the cache across reloads

check inbound "inbound message through miltc: SPF pass, accepted"
scrape "$WORK/s1" || bail "first scrape failed"
Q1=$(val "$WORK/s1" authmilter_dns_queries_total)
H1=$(val "$WORK/s1" authmilter_dns_cache_hits_total)
check '[ "$Q1" -gt 0 ]' "the first message made DNS queries ($Q1)"

write_conf "LogWhy yes"
kill -HUP "$AM_PID"
reloads 1 || not_ok "the reload was not counted"
check inbound "after SIGHUP: the same message, accepted"
scrape "$WORK/s2"
Q2=$(val "$WORK/s2" authmilter_dns_queries_total)
H2=$(val "$WORK/s2" authmilter_dns_cache_hits_total)
is "$Q2" "$Q1" "after a reload the cached names are not asked again (queries $Q1 -> $Q2)"
check '[ "$H2" -gt "$H1" ]' "... they come from the cache (hits $H1 -> $H2)"
is "$(val "$WORK/s2" authmilter_dns_cache_flushes_total)" 0 "the cache was not emptied"

# the same server plus one that never answers: another list of servers
write_conf "LogWhy yes" "127.0.0.1:$UNBOUND_PORT, 127.0.0.1:$DEAD_PORT"
kill -HUP "$AM_PID"
reloads 2 || not_ok "the second reload was not counted"
check inbound "after a reload with new Nameservers: accepted"
scrape "$WORK/s3"
Q3=$(val "$WORK/s3" authmilter_dns_queries_total)
check '[ "$Q3" -gt "$Q2" ]' "new Nameservers: the names are asked again (queries $Q2 -> $Q3)"
is "$(val "$WORK/s3" authmilter_dns_cache_flushes_total)" 1 "new Nameservers: the cache was emptied once"

write_conf "Bogus yes"
kill -HUP "$AM_PID"
check 'wait_for 10 sh -c "curl -s --max-time 2 $URL | grep -qx \"authmilter_config_reloads_total{result=\\\"failure\\\"} 1\""' \
    "a refused reload is counted as a failure"
write_conf ""
kill -HUP "$AM_PID"
reloads 3 || not_ok "the third reload was not counted"

# --------------------------------------------------------------------------
# (b) counted under a real Postfix

sink_start || bail "sink could not start"
postfix_setup "inet:127.0.0.1:$AM_PORT" || bail "postfix set-up"
postfix_conf "non_smtpd_milters =" "milter_default_action = tempfail"
postfix_start || bail "Postfix could not start"

scrape "$WORK/b0"
series=(
	'authmilter_messages_total{direction="outbound",action="accept"}'
	'authmilter_messages_total{direction="inbound",action="accept"}'
	'authmilter_signatures_total{algorithm="rsa-sha256"}'
	'authmilter_spf_results_total{identity="mailfrom",result="pass"}'
	'authmilter_dmarc_results_total{result="pass"}'
	'authmilter_arc_results_total{result="none"}'
)
declare -A before
for s in "${series[@]}"; do before[$s]=$(val "$WORK/b0" "$s"); done

NOUT=6 NIN=4
for i in $(seq 1 $NOUT); do
	printf 'From: A <a@out.test>\nTo: r@remote.test\nSubject: out %d\nMessage-ID: <out%d@out.test>\n\nbody %d\n' \
	    "$i" "$i" "$i" >"$M/out$i.eml"
	swaks_send "$PF_PORT" "$M/out$i.eml" --from a@out.test ||
	    { diag_file "$SWAKS_LOG"; not_ok "outbound message $i not accepted"; }
done
for i in $(seq 1 $NIN); do
	printf 'From: A <a@in.test>\nTo: r@remote.test\nSubject: in %d\nMessage-ID: <in%d@in.test>\n\nbody %d\n' \
	    "$i" "$i" "$i" >"$M/in$i.eml"
	swaks_send "$PF_PORT" "$M/in$i.eml" --from a@in.test \
	    --local-interface "$EXT" --helo mx.in.test ||
	    { diag_file "$SWAKS_LOG"; not_ok "inbound message $i not accepted"; }
done
check 'wait_for 30 sh -c "[ \$(ls $SINK_DIR/new/*.eml 2>/dev/null | wc -l) -ge $((NOUT + NIN)) ]"' \
    "all $((NOUT + NIN)) messages reached the sink"
scrape "$WORK/b1"
d() { echo $(( $(val "$WORK/b1" "$1") - ${before[$1]} )); }
is "$(d "${series[0]}")" "$NOUT" "messages_total outbound/accept counts the $NOUT outbound messages"
is "$(d "${series[1]}")" "$NIN" "messages_total inbound/accept counts the $NIN inbound messages"
is "$(d "${series[2]}")" "$NOUT" "signatures_total rsa-sha256 counts one per outbound message"
is "$(d "${series[3]}")" "$NIN" "spf_results_total mailfrom/pass counts the inbound messages"
is "$(d "${series[4]}")" "$NIN" "dmarc_results_total pass counts the inbound messages"
is "$(d "${series[5]}")" "$NIN" "arc_results_total none counts the inbound messages (no ARC sets)"
is "$(val "$WORK/b1" 'authmilter_arc_seals_total{cv="none"}')" 0 "arc_seals_total: nothing sealed without ARCSealKey"
is "$(val "$WORK/b1" authmilter_messages_in_flight)" 0 "nothing in flight afterwards"
n=$(val "$WORK/b1" authmilter_end_of_message_duration_seconds_count)
check '[ "$n" -ge $((NOUT + NIN)) ]' "end-of-message histogram has an observation per message ($n)"
check 'promtool check metrics <"$WORK/b1"' "promtool check metrics accepts the exposition"
check 'grep -q "^# TYPE authmilter_dns_query_duration_seconds histogram" "$WORK/b1"' \
    "DNS latency is a histogram"

# --------------------------------------------------------------------------
# (c) 1,000 concurrent scrapes and malformed requests, mail flowing

cat >"$WORK/flood.py" <<'EOF'
import socket, sys, threading
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ok = [0]
bad = []
lock = threading.Lock()
start = threading.Barrier(n)
def one():
    try:
        start.wait(30)
        s = socket.create_connection((host, port), timeout=30)
        s.sendall(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
        s.close()
        good = data.startswith(b"HTTP/1.") and b" 200 " in data[:20] and \
            b"authmilter_messages_total" in data
        with lock:
            if good:
                ok[0] += 1
            else:
                bad.append(data[:60])
    except Exception as e:
        with lock:
            bad.append(repr(e))
ts = [threading.Thread(target=one) for _ in range(n)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(ok[0])
for b in bad[:5]:
    print("#", b, file=sys.stderr)
EOF
# malformed requests: garbage, no Host in HTTP/1.1, a huge header, a
# POST with a body, a client that sends half a request and waits
cat >"$WORK/malformed.py" <<'EOF'
import socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
def ask(raw, wait=5):
    s = socket.create_connection((host, port), timeout=wait)
    s.sendall(raw)
    try:
        data = s.recv(200)
    except socket.timeout:
        data = b"(timeout)"
    s.close()
    return data.split(b"\r\n")[0].decode("latin-1")
print(ask(b"\x00\xff\x16\x03\x01garbage\r\n\r\n"))
print(ask(b"GET /metrics HTTP/1.1\r\n\r\n"))
print(ask(b"GET /metrics HTTP/1.0\r\nX: " + b"a" * 100000 + b"\r\n\r\n"))
print(ask(b"POST /metrics HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello"))
print(ask(b"GET /nothing HTTP/1.0\r\n\r\n"))
slow = socket.create_connection((host, port), timeout=5)
slow.sendall(b"GET /met")
time.sleep(0.5)
print(ask(b"GET /metrics HTTP/1.0\r\n\r\n"))
slow.close()
EOF
for i in $(seq 1 8); do
	printf 'From: A <a@out.test>\nTo: r@remote.test\nSubject: during %d\nMessage-ID: <during%d@out.test>\n\nbody %d\n' \
	    "$i" "$i" "$i" >"$M/during$i.eml"
done
(
	for i in $(seq 1 8); do
		swaks_send "$PF_PORT" "$M/during$i.eml" --from a@out.test || echo "fail $i"
	done
) >"$WORK/during.out" 2>&1 &
mailer=$!
"$PY" "$WORK/flood.py" 127.0.0.1 "$MPORT" 1000 >"$WORK/flood.out" 2>"$WORK/flood.err"
is "$(cat "$WORK/flood.out")" 1000 "1,000 concurrent scrapes: every one answered 200 with the figures"
[ -s "$WORK/flood.err" ] && diag_file "$WORK/flood.err" 5
"$PY" "$WORK/malformed.py" 127.0.0.1 "$MPORT" >"$WORK/malformed.out" 2>&1
diag_file "$WORK/malformed.out" 8
check 'sed -n 1p "$WORK/malformed.out" | grep -Eq "^(HTTP/1.[01] 400|\(timeout\)|)$"' "garbage: 400 or closed, nothing else"
check 'sed -n 2p "$WORK/malformed.out" | grep -Eq "^HTTP/1.1 (200|400)"' "HTTP/1.1 without Host: answered"
check 'sed -n 3p "$WORK/malformed.out" | grep -Eq "^HTTP/1.[01] 431|^HTTP/1.[01] 413|^HTTP/1.[01] 400|^$"' "a 100 KB header: refused"
check 'sed -n 4p "$WORK/malformed.out" | grep -q "^HTTP/1.[01] 405"' "POST: 405"
check 'sed -n 5p "$WORK/malformed.out" | grep -q "^HTTP/1.[01] 404"' "another path: 404"
check 'sed -n 6p "$WORK/malformed.out" | grep -q "^HTTP/1.[01] 200"' "a half-sent request does not hold up the next scrape"
wait "$mailer"
check '! grep -q fail "$WORK/during.out"' "mail sent during the scrapes was accepted"
check 'wait_for 30 sh -c "[ \$(grep -l \"Subject: during\" $SINK_DIR/new/*.eml 2>/dev/null | wc -l) -eq 8 ]"' \
    "all 8 messages sent during the scrapes were delivered"
ok_signed=0
for f in $(grep -l "Subject: during" "$SINK_DIR"/new/*.eml 2>/dev/null); do
	grep -q '^DKIM-Signature:' "$f" && ok_signed=$((ok_signed + 1))
done
is "$ok_signed" 8 "... each signed"
check 'kill -0 "$AM_PID"' "authmilter is alive after the flood"
scrape "$WORK/c1"
check '[ "$(val "$WORK/c1" authmilter_metrics_scrapes_total)" -gt 1000 ]' "the scrapes were counted"

# --------------------------------------------------------------------------
# (d) authmilter stats

"$AUTHMILTER" stats -c "$AM_CONF" >"$WORK/stats.out" 2>"$WORK/stats.err"
is "$?" 0 "authmilter stats -c CONF exits 0"
check 'grep -q "^authmilter_messages_total" "$WORK/stats.out" && grep -Eq "direction=outbound action=accept +[0-9]+" "$WORK/stats.out"' \
    "stats prints the message counts"
n=$(val "$WORK/c1" 'authmilter_messages_total{direction="outbound",action="accept"}')
check 'grep -Eq "direction=outbound action=accept +$n\$" "$WORK/stats.out"' \
    "stats shows the same outbound count as the scrape ($n)"
check 'grep -A2 "^authmilter_end_of_message_duration_seconds" "$WORK/stats.out" | grep -q "median"' \
    "stats summarises the histograms"
"$AUTHMILTER" stats --listen "127.0.0.1:$MPORT" --raw >"$WORK/raw.out" 2>&1
check 'promtool check metrics <"$WORK/raw.out"' "stats --raw prints the exposition itself"
write_conf "" && sed -i '/^MetricsListen/d' "$AM_CONF"
"$AUTHMILTER" stats -c "$AM_CONF" >/dev/null 2>"$WORK/stats2.err"
is "$?" 1 "stats without MetricsListen exits 1"
check 'grep -q "no MetricsListen" "$WORK/stats2.err"' "... and says why"
"$AUTHMILTER" stats --listen "127.0.0.1:$DEAD_PORT" >/dev/null 2>"$WORK/stats3.err"
is "$?" 1 "stats against nothing listening exits 1"
"$AUTHMILTER" stats --bogus >/dev/null 2>&1
is "$?" 2 "stats with a bad option exits 2"

# a reload without MetricsListen closes the endpoint; mail goes on
kill -HUP "$AM_PID"
check 'wait_for 10 sh -c "! curl -s --max-time 1 $URL >/dev/null"' "a reload without MetricsListen closes the endpoint"
check inbound "... and mail goes on"

am_stop m
is "$STOP_RC" 0 "authmilter exits 0 on SIGTERM"
check 'am_log_clean "$WORK/m.log"' "no crash or sanitizer report in the log"
exit 0
