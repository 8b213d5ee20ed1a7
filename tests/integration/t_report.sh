#!/usr/bin/env bash
# t_report.sh - DMARC aggregate reports (RFC 9990) end to end.
#
# A private unbound serves the test domains (SPF, DKIM keys, DMARC records
# with rua=, one external destination that is authorized and one that is
# not); authmilter records inbound mail sent with miltc; a private Postfix
# (relaying to the sink) is both the MTA whose sendmail(1) mails the
# reports and the milter's outbound client (so the reports are signed).
#
#   (a) SQLite: rows recorded only for rua= domains, not for our own
#       report mail; authmilter_report_rows_total counts them
#   (b) authmilter report --output DIR: one .xml.gz per policy domain, RFC
#       file names, each valid against tests/rfc9990.xsd, counts equal to
#       what was sent, grouped (records < messages); --dry-run and
#       --output change nothing in the store
#   (c) a run whose sendmail fails leaves the reports to retry; the next
#       run mails each once through Postfix to the sink (Subject, signed,
#       the attachment valid and counted right), skips the unauthorized
#       external destination; a third run sends nothing
#   (d) PostgreSQL (initdb in the work directory, postgres on a free
#       loopback port as user postgres, stopped by PID): two authmilter
#       instances write with their own gateway ids; authmilter report run
#       from both gateways at once makes one report per domain and mails
#       each once; PostgreSQL stopped mid-run: mail still answered at once
#       (never a tempfail), rows dropped and counted, rows written again
#       once it is back
#   (e) failure reports (RFC 9991, FailureReports yes): ARF auth-failure
#       with Identity-Alignment and the headers only, at most
#       FailureReportsPerHour per destination, none for a psd=y record
#   (f) ReportSMTPRelay (ReportSendmail /bin/false, so only SMTP can
#       work; the relay named by a host name that unbound resolves): a
#       relay that cannot be reached leaves the reports to retry,
#       the next run submits them to the real Postfix by SMTP (signed,
#       delivered to the sink); RFC 9990 section 4: the authorizing
#       record's own rua= replaces the destination, one on another host
#       means no report to either; rua=mailto:dmarc%2Breports@... is
#       decoded, a mailto: with hfields skipped; the daemon's failure
#       reports go through the relay too, to the ruf= of the
#       authorizing record
#   (g) a stop with an SMTP session still open (ShutdownTimeout 0: the
#       daemon leaves with _exit at once): the rows of the messages
#       answered just before SIGTERM are in the store after it
. "$(dirname "$0")/lib.sh"
it_init report
it_need_tools unbound swaks postfix postconf curl xmllint sqlite3 psql
it_need_authmilter
it_need_miltc

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$PGBIN/initdb" ] || bail "report: PostgreSQL server binaries not found (apt-get install postgresql)"
TOOL="$PY $IT_DIR/inb_tool.py"
SCHEMA=$TOP_SRCDIR/tests/rfc9990.xsd
SAMPLE=$TOP_SRCDIR/tests/rfc9990-sample.xml
check 'xmllint --noout --schema "$SCHEMA" "$SAMPLE"' "the schema accepts RFC 9990's own sample report (Appendix B)"
check '! sed "s|<header_from>[^<]*</header_from>||" "$SAMPLE" | xmllint --noout --schema "$SCHEMA" - 2>/dev/null' "... and refuses it without the required header_from"
EXT=127.0.0.2		# allowed by the SPF records
BAD=127.0.0.3		# allowed by none
KEYS=$WORK/keys
M=$WORK/msgs
mkdir -m 700 "$KEYS"
mkdir -p "$M"
TODAY=$(date -u +%Y-%m-%d)

# --------------------------------------------------------------------------
# keys and DNS

"$AUTHMILTER" keygen --domain rep.test --selector r1 --algorithm rsa \
    --directory "$KEYS" >"$KEYS/r1.rr" 2>/dev/null || bail "keygen r1"
"$AUTHMILTER" keygen --domain receiver.test --selector g1 --algorithm rsa \
    --directory "$KEYS" >"$KEYS/g1.rr" 2>/dev/null || bail "keygen g1"
rr() { unbound_data "$($TOOL rr "$1" "$2")"; }
unbound_new
unbound_zone test 30
for d in rep.test ext.test noauth.test norua.test receiver.test fail.test psdx.test; do
	rr "$d" "v=spf1 ip4:$EXT -all"
	unbound_data "$d. 300 IN A 192.0.2.1"
done
rr r1._domainkey.rep.test "$($TOOL zonetxt "$KEYS/r1.rr")"
rr g1._domainkey.receiver.test "$($TOOL zonetxt "$KEYS/g1.rr")"
rr _dmarc.rep.test "v=DMARC1; p=reject; rua=mailto:dmarc@rep.test; fo=1"
rr _dmarc.ext.test "v=DMARC1; p=none; rua=mailto:agg@collector.test"
rr ext.test._report._dmarc.collector.test "v=DMARC1"
rr _dmarc.noauth.test "v=DMARC1; p=quarantine; rua=mailto:agg@elsewhere.test"
rr _dmarc.norua.test "v=DMARC1; p=none"
rr _dmarc.receiver.test "v=DMARC1; p=none; rua=mailto:dmarc@receiver.test"
rr _dmarc.fail.test "v=DMARC1; p=quarantine; ruf=mailto:ruf@fail.test; fo=1"
rr _dmarc.psdx.test "v=DMARC1; p=none; psd=y; ruf=mailto:ruf@psdx.test; fo=1"
unbound_data 'collector.test. 300 IN A 192.0.2.1' 'elsewhere.test. 300 IN A 192.0.2.1'
# (f): the rua= (ruf=) override of RFC 9990 section 4, a percent-encoded mailto:
for d in ovr.test evil.test pct.test fovr.test; do
	rr "$d" "v=spf1 ip4:$EXT -all"
	unbound_data "$d. 300 IN A 192.0.2.1"
done
rr _dmarc.ovr.test "v=DMARC1; p=none; rua=mailto:first@coll2.test"
rr ovr.test._report._dmarc.coll2.test "v=DMARC1; rua=mailto:moved@coll2.test"
rr _dmarc.evil.test "v=DMARC1; p=none; rua=mailto:x@coll3.test"
rr evil.test._report._dmarc.coll3.test "v=DMARC1; rua=mailto:victim@victim.test"
rr _dmarc.pct.test "v=DMARC1; p=none; rua=mailto:dmarc%2Breports@pct.test,mailto:hf@pct.test?subject=hi"
rr _dmarc.fovr.test "v=DMARC1; p=quarantine; ruf=mailto:f@fcoll.test; fo=1"
rr fovr.test._report._dmarc.fcoll.test "v=DMARC1; ruf=mailto:moved-f@fcoll.test"
unbound_data 'relay.test. 300 IN A 127.0.0.1'	# ReportSMTPRelay by name
unbound_start || bail "unbound could not start"

sink_start || bail "sink could not start"

# --------------------------------------------------------------------------
# authmilter with SQLite, behind a private Postfix

alloc_port AM_PORT || bail "no free port"
alloc_port MPORT || bail "no free port"
DB=$WORK/reports.db
# conf FILE PORT MPORT STORE GATEWAY SENDMAIL [EXTRA] - a configuration
conf() {
	cat >"$1" <<EOF
Socket              inet:$2@127.0.0.1
Syslog              no
InternalHosts       127.0.0.1/32
Domain              receiver.test
Selector            g1
KeyFile             $KEYS/g1.private
AuthservID          mx.receiver.test
Nameservers         127.0.0.1:$UNBOUND_PORT
DNSTimeout          2
MetricsListen       127.0.0.1:$3
ReportStore         $4
ReportOrgName       Receiver & Co <Test>
ReportEmail         dmarc-reports@receiver.test
ReportGatewayID     $5
ReportSendmail      $6
${7:-}
EOF
}
postfix_setup "inet:127.0.0.1:$AM_PORT" || bail "postfix_setup"
postfix_start || bail "postfix could not start"
SENDMAIL="/usr/sbin/sendmail -C $PF_DIR"
C1=$WORK/am1.conf
conf "$C1" "$AM_PORT" "$MPORT" "sqlite:$DB" gw-sqlite "$SENDMAIL"
check '"$AUTHMILTER" configtest -c "$C1"' "configtest accepts the Report* keys"
printf 'ReportStore mysql://x\n' >"$WORK/bad.conf"
check_fails '"$AUTHMILTER" configtest -c "$WORK/bad.conf"' "configtest refuses a ReportStore it does not know"
am_start a "$C1" || bail "authmilter could not start"

# msg ID FROM [SIGN] - a message file; SIGN signs it for rep.test
N=0
msg() {
	N=$((N + 1))
	$TOOL msg --id "r$N@t" --from "$2" --to "u@mx.receiver.test" \
	    --body "report test $N" >"$M/$1.eml"
	if [ -n "${3:-}" ]; then
		$TOOL sign --key "$KEYS/r1.private" --domain rep.test \
		    --selector r1 "$M/$1.eml" >"$M/$1.s" && mv "$M/$1.s" "$M/$1.eml"
	fi
}
# send PORT IP MAILFROM FILE - one message; prints the verdict
send() {
	miltc_run "inet:$1@127.0.0.1" -c "$2" -H mta.sender.test -f "$3" \
	    -r "u@mx.receiver.test" "$4" || { echo ERROR; return 1; }
	miltc_verdict
}
# metric PORT SERIES - one value of a metrics endpoint
metric() {
	curl -s --max-time 5 "http://127.0.0.1:$1/metrics" |
	    awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print "absent" }'
}
# wait_written PORT N - until N rows are counted as written
wait_written() {
	wait_for 15 sh -c "[ \"\$(curl -s --max-time 2 http://127.0.0.1:$1/metrics | awk '\$1 == \"authmilter_report_rows_total{result=\\\"written\\\"}\" { print \$2 }')\" = $2 ]"
}

msg pass "a@rep.test" sign
msg fail "a@rep.test"
msg ext "b@ext.test"
msg noauth "c@noauth.test"
msg norua "d@norua.test"
msg own "dmarc-reports@receiver.test"
msg other "e@receiver.test"
verdicts=
for i in 1 2 3 4 5; do verdicts="$verdicts $(send "$AM_PORT" "$EXT" a@rep.test "$M/pass.eml")"; done
for i in 1 2 3; do verdicts="$verdicts $(send "$AM_PORT" "$BAD" a@rep.test "$M/fail.eml")"; done
# ext.test through the real Postfix (smtpd from 127.0.0.2 -> authmilter)
for i in 1 2; do
	swaks --server 127.0.0.1 --port "$PF_PORT" --local-interface "$EXT" \
	    --helo mta.sender.test --from b@ext.test --to u@mx.receiver.test \
	    --timeout 60 --data "@$M/ext.eml" >"$WORK/swaks.ext.$i" 2>&1 ||
	    verdicts="$verdicts POSTFIX-REFUSED"
done
verdicts="$verdicts $(send "$AM_PORT" "$EXT" c@noauth.test "$M/noauth.eml")"
for i in 1 2; do verdicts="$verdicts $(send "$AM_PORT" "$EXT" d@norua.test "$M/norua.eml")"; done
verdicts="$verdicts $(send "$AM_PORT" "$EXT" dmarc-reports@receiver.test "$M/own.eml")"
verdicts="$verdicts $(send "$AM_PORT" "$EXT" e@receiver.test "$M/other.eml")"
is "$(echo $verdicts | tr ' ' '\n' | grep -c -e TEMPFAIL -e POSTFIX-REFUSED)" 0 "(a) no message tempfailed while recording"
is "$(echo $verdicts | tr ' ' '\n' | grep -c '^REPLYCODE')" 3 "(a) the three p=reject failures were refused"
check 'wait_written "$MPORT" 12' "(a) 12 rows written (5+3 rep.test, 2 ext.test through Postfix, 1 noauth.test, 1 receiver.test)"
check 'wait_for 30 sh -c "[ \$(ls $SINK_DIR/new/*.eml 2>/dev/null | wc -l) -ge 2 ]"' "(a) Postfix delivered the two ext.test messages"
check 'grep -q "dmarc=pass" $SINK_DIR/new/*.eml' "(a) ... with our Authentication-Results"
rm -f "$SINK_DIR"/new/*	# the sink is for the reports from here on
is "$(metric "$MPORT" 'authmilter_report_rows_total{result="dropped"}')" 0 "(a) nothing dropped"
q() { sqlite3 "$DB" "$1"; }
is "$(q "SELECT COUNT(*) FROM dmarc_rows WHERE policy_domain = 'norua.test'")" 0 "(a) no rows for a domain without rua="
is "$(q "SELECT COUNT(*) FROM dmarc_rows WHERE policy_domain = 'receiver.test'")" 1 "(a) our own report address is not recorded (loop protection), another From of that domain is"
is "$(q "SELECT disposition || ':' || COUNT(*) FROM dmarc_rows WHERE policy_domain = 'rep.test' GROUP BY disposition ORDER BY 1" | tr '\n' ' ')" "pass:5 reject:3 " "(a) dispositions: pass under p=reject, reject"
is "$(q "SELECT DISTINCT dkim FROM dmarc_rows WHERE disposition = 'pass'")" "rep.test r1 pass" "(a) the DKIM signature with its selector"
is "$(q "SELECT DISTINCT gateway FROM dmarc_rows")" gw-sqlite "(a) rows carry the gateway id"
is "$(q "SELECT version FROM authmilter_schema")" 1 "(a) the schema version is recorded"
# a reload that leaves the Report* keys alone keeps the writer
kill -HUP "$(am_pid a)"
reloaded() { [ "$(metric "$MPORT" 'authmilter_config_reloads_total{result="success"}')" = 1 ]; }
check 'wait_for 10 reloaded' "(a) SIGHUP: reloaded"
send "$AM_PORT" "$EXT" b@ext.test "$M/ext.eml" >/dev/null
check 'wait_written "$MPORT" 13' "(a) after the reload rows are still written, the count goes on (13)"
is "$(grep -c "DMARC report rows go to the report store" "$WORK/a.log")" 1 "(a) the reload kept the writer (started once)"
q "DELETE FROM dmarc_rows WHERE id = (SELECT MAX(id) FROM dmarc_rows)"

# --------------------------------------------------------------------------
# (b) --output and --dry-run

OUT=$WORK/out
mkdir -p "$OUT"
sleep 1		# a report of today covers the seconds before the run
check '"$AUTHMILTER" report -c "$C1" --from "$TODAY" --to "$TODAY" --output "$OUT" >"$WORK/out.log" 2>&1' "(b) report --output runs"
is "$(ls "$OUT" | wc -l)" 4 "(b) one file per policy domain"
check 'ls "$OUT" | grep -Eq "^receiver\.test!rep\.test![0-9]+![0-9]+![0-9a-f]{20}\.xml\.gz$"' "(b) RFC 9990 file name receiver!policy-domain!begin!end!id.xml.gz"
# xmlsum FILE - "records messages" of a report (sums its <count>)
xmlsum() {
	"$PY" - "$1" <<'EOF'
import sys, xml.etree.ElementTree as ET
ns = {"d": "urn:ietf:params:xml:ns:dmarc-2.0"}
root = ET.parse(sys.argv[1]).getroot()
recs = root.findall("d:record", ns)
print(len(recs), sum(int(r.find("d:row/d:count", ns).text) for r in recs))
EOF
}
for f in "$OUT"/*.xml.gz; do gunzip -c "$f" >"${f%.gz}"; done
check 'for f in "$OUT"/*.xml; do xmllint --noout --schema "$SCHEMA" "$f" || exit 1; done' "(b) every report validates against the RFC 9990 schema"
is "$(xmlsum "$OUT"/*'!rep.test!'*.xml)" "2 8" "(b) rep.test: 8 messages in 2 records"
is "$(xmlsum "$OUT"/*'!ext.test!'*.xml)" "1 2" "(b) ext.test: 2 messages in 1 record"
check 'grep -q "<org_name>Receiver &amp; Co &lt;Test&gt;</org_name>" "$OUT"/*"!rep.test!"*.xml' "(b) the org name is escaped"
check 'grep -q "<disposition>pass</disposition>" "$OUT"/*"!rep.test!"*.xml && grep -q "<selector>r1</selector>" "$OUT"/*"!rep.test!"*.xml' "(b) disposition pass and the DKIM selector are reported"
is "$(q "SELECT COUNT(*) FROM dmarc_reports")" 0 "(b) --output changes nothing in the store"
check '"$AUTHMILTER" report -c "$C1" --from "$TODAY" --to "$TODAY" --dry-run >"$WORK/dry.log" 2>&1 && grep -q "would be sent" "$WORK/dry.log"' "(b) --dry-run says what would be sent"
is "$(q "SELECT COUNT(*) FROM dmarc_reports")" 0 "(b) --dry-run changes nothing in the store"
is "$(sink_count)" 0 "(b) nothing was mailed"
check '"$AUTHMILTER" report -c "$C1" >"$WORK/yday.log" 2>&1 && grep -q "nothing to report" "$WORK/yday.log"' "(b) yesterday (the default): nothing to report, exit 0"
check_fails '"$AUTHMILTER" report -c "$C1" --from 2026-13-01' "(b) a bad day is a usage error"
check '"$AUTHMILTER" report --help | grep -q -- --dry-run' "(b) report --help"

# --------------------------------------------------------------------------
# (c) mailing, retries, idempotence

C1F=$WORK/am1-false.conf
conf "$C1F" "$AM_PORT" "$MPORT" "sqlite:$DB" gw-sqlite /bin/false
check '"$AUTHMILTER" report -c "$C1F" --from "$TODAY" --to "$TODAY" >"$WORK/run0.log" 2>&1' "(c) a run whose sendmail fails exits 0"
is "$(q "SELECT COUNT(*) FROM dmarc_reports WHERE state = 'pending'")" 3 "(c) ... and leaves 3 reports to retry"
is "$(q "SELECT state FROM dmarc_deliveries WHERE destination = 'agg@elsewhere.test'")" skipped "(c) the unauthorized external destination is skipped for good"
check '"$AUTHMILTER" report -c "$C1" --from "$TODAY" --to "$TODAY" >"$WORK/run1.log" 2>&1' "(c) the next run exits 0"
check 'grep -q "3 sent" "$WORK/run1.log"' "(c) ... and sends 3 reports"
is "$(q "SELECT COUNT(*) FROM dmarc_reports WHERE state = 'done'")" 4 "(c) every report is done"
wait_for 30 sh -c "[ \$(ls $SINK_DIR/new/*.eml 2>/dev/null | wc -l) -ge 3 ]"
is "$(sink_count)" 3 "(c) three report mails reached the sink"
q "INSERT INTO dmarc_rows SELECT NULL, gateway, received - 40 * 86400, policy_domain, header_from, envelope_from, envelope_to, source_ip, disposition, dkim_aligned, spf_aligned, override, override_comment, dkim, spf_domain, spf_result, p, sp, np, adkim, aspf, testing, fo, discovery, rua FROM dmarc_rows WHERE policy_domain = 'ext.test'"
check '"$AUTHMILTER" report -c "$C1" --from "$TODAY" --to "$TODAY" >"$WORK/run2.log" 2>&1' "(c) a third run exits 0"
check '! grep -q ": sent$" "$WORK/run2.log" && grep -q "nothing to report" "$WORK/run2.log"' "(c) ... and sends nothing again"
check 'grep -q "expired: 2 rows older than 30 days" "$WORK/run2.log"' "(c) ... and deletes the rows past ReportRetentionDays"
is "$(q "SELECT COUNT(*) FROM dmarc_rows WHERE received < strftime('%s','now') - 30 * 86400")" 0 "(c) no row older than the retention is left"
# attachment FILE OUTXML - the report of a mail: "Subject|filename"
attachment() {
	"$PY" - "$1" "$2" <<'EOF'
import sys, gzip, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
for part in m.walk():
    if part.get_content_type() == "application/gzip":
        open(sys.argv[2], "wb").write(gzip.decompress(part.get_payload(decode=True)))
        print("%s|%s" % (m["Subject"], part.get_filename()))
        break
EOF
}
F=$(sink_find "Report Domain: rep.test" | head -n 1)
A=$(attachment "$F" "$WORK/mailed.xml")
case "$A" in
"Report Domain: rep.test Submitter: receiver.test Report-ID: <"*"@receiver.test>|receiver.test!rep.test!"*".xml.gz") ok "(c) the RFC 9990 Subject and file name" ;;
*) not_ok "(c) the RFC 9990 Subject and file name"; diag "got: $A" ;;
esac
check 'xmllint --noout --schema "$SCHEMA" "$WORK/mailed.xml"' "(c) the mailed attachment validates"
is "$(xmlsum "$WORK/mailed.xml")" "2 8" "(c) the mailed report counts what was sent"
check 'grep -q "^DKIM-Signature:.*d=receiver.test" "$F" || grep -A3 "^DKIM-Signature:" "$F" | grep -q "d=receiver.test"' "(c) the report mail was signed by the gateway (d=receiver.test)"
check 'grep -q "\"rcpts\": \[\"TO:<agg@collector.test>\"\]" $SINK_DIR/new/*.env' "(c) the authorized external destination got its report"
check '! grep -q "elsewhere.test" $SINK_DIR/new/*.env' "(c) the unauthorized one got nothing"
check 'am_alive a' "(c) authmilter still runs"
# (a stays up: it is the milter of the Postfix that mails the reports)

# --------------------------------------------------------------------------
# (d) PostgreSQL, two gateways

PGDIR=$WORK/pg
mkdir -p "$PGDIR"
chown postgres: "$PGDIR"
alloc_port PG_PORT || bail "no free port"
asuser() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }
asuser "$PGBIN/initdb" -D "$PGDIR/data" -A trust -U postgres --no-sync \
    >"$WORK/initdb.log" 2>&1 || { diag_file "$WORK/initdb.log"; bail "initdb"; }
PGPID=
pg_start() {
	# setpriv execs postgres: $! is the postmaster's PID
	setpriv --reuid=postgres --regid=postgres --init-groups -- \
	    "$PGBIN/postgres" -D "$PGDIR/data" -p "$PG_PORT" \
	    -c listen_addresses=127.0.0.1 -c unix_socket_directories="$PGDIR" \
	    -c fsync=off >>"$WORK/postgres.log" 2>&1 &
	PGPID=$!
	it_register "$PGPID" postgres
	wait_for 20 psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -Atc "SELECT 1"
}
# pg_kill - stop at once (fast shutdown: open sessions are cut), by PID
pg_kill() {
	kill -INT "$PGPID"
	for i in $(seq 100); do kill -0 "$PGPID" 2>/dev/null || break; sleep 0.1; done
	wait "$PGPID" 2>/dev/null
	it_unregister "$PGPID"
}
pg_start || { diag_file "$WORK/postgres.log"; bail "postgres could not start"; }
psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE dmarc" || bail "createdb"
PGURI="postgresql://postgres@127.0.0.1:$PG_PORT/dmarc"
pq() { psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d dmarc -Atc "$1"; }

alloc_port AM2 || bail "no free port"; alloc_port MP2 || bail "no free port"
alloc_port AM3 || bail "no free port"; alloc_port MP3 || bail "no free port"
CA=$WORK/gwa.conf
CB=$WORK/gwb.conf
conf "$CA" "$AM2" "$MP2" "$PGURI" gw-a "$SENDMAIL" "ReportQueueSize 10"
conf "$CB" "$AM3" "$MP3" "$PGURI" gw-b "$SENDMAIL"
am_start gwa "$CA" || bail "authmilter gw-a could not start"
am_start gwb "$CB" || bail "authmilter gw-b could not start"
for i in 1 2 3; do send "$AM2" "$EXT" a@rep.test "$M/pass.eml" >/dev/null; done
for i in 1 2; do send "$AM3" "$EXT" a@rep.test "$M/pass.eml" >/dev/null; done
for i in 1 2; do send "$AM3" "$EXT" b@ext.test "$M/ext.eml" >/dev/null; done
check 'wait_written "$MP2" 3 && wait_written "$MP3" 4' "(d) both gateways wrote their rows"
sleep 1
is "$(pq "SELECT gateway || ':' || COUNT(*) FROM dmarc_rows GROUP BY gateway ORDER BY 1" | tr '\n' ' ')" "gw-a:3 gw-b:4 " "(d) each gateway's rows carry its id"
is "$(pq "SELECT version FROM authmilter_schema")" 1 "(d) the schema was made once, version 1"

before=$(sink_count)
"$AUTHMILTER" report -c "$CA" --from "$TODAY" --to "$TODAY" >"$WORK/pga.log" 2>&1 &
RA=$!
"$AUTHMILTER" report -c "$CB" --from "$TODAY" --to "$TODAY" >"$WORK/pgb.log" 2>&1 &
RB=$!
wait $RA; rca=$?
wait $RB; rcb=$?
is "$rca:$rcb" "0:0" "(d) authmilter report from both gateways at once: both exit 0"
is "$(pq "SELECT policy_domain || ':' || COUNT(*) FROM dmarc_reports GROUP BY policy_domain ORDER BY 1" | tr '\n' ' ')" "ext.test:1 rep.test:1 " "(d) one report per policy domain"
is "$(pq "SELECT COUNT(*) FROM dmarc_deliveries WHERE state = 'sent'")" 2 "(d) each destination marked sent once"
wait_for 30 sh -c "[ \$(ls $SINK_DIR/new/*.eml 2>/dev/null | wc -l) -ge $((before + 2)) ]"
sleep 2
is "$(( $(sink_count) - before ))" 2 "(d) two report mails, not four"
is "$(cat "$WORK/pga.log" "$WORK/pgb.log" | grep -c ': sent$')" 2 "(d) the two runs together sent each report once"
"$AUTHMILTER" report -c "$CA" --from "$TODAY" --to "$TODAY" >"$WORK/pga2.log" 2>&1
"$AUTHMILTER" report -c "$CB" --from "$TODAY" --to "$TODAY" >"$WORK/pgb2.log" 2>&1
is "$(( $(sink_count) - before ))" 2 "(d) runs after that send nothing"

# PostgreSQL goes away while mail flows through gw-a (ReportQueueSize 10)
w0=$(metric "$MP2" 'authmilter_report_rows_total{result="written"}')
pg_kill
start=$(date +%s%N)
down=
for i in $(seq 30); do down="$down $(send "$AM2" "$EXT" a@rep.test "$M/pass.eml")"; done
ms=$(( ($(date +%s%N) - start) / 1000000 ))
is "$(echo $down | tr ' ' '\n' | sort | uniq -c | awk '{print $2 ":" $1}')" "ACCEPT:30" "(d) PostgreSQL down: 30 messages accepted, none tempfailed"
check '[ "$ms" -lt 15000 ]' "(d) ... without waiting for the store (${ms} ms for 30)"
check 'am_alive gwa' "(d) gw-a still runs"
sleep 1
dropped=$(metric "$MP2" 'authmilter_report_rows_total{result="dropped"}')
check '[ "$dropped" -ge 10 ]' "(d) rows beyond the queue are dropped and counted ($dropped)"
check 'wait_for 10 grep -Eq "[1-9][0-9]* report rows dropped" "$WORK/gwa.log"' "(d) the drops are logged"
pg_start || { diag_file "$WORK/postgres.log"; bail "postgres could not start again"; }
kept=$(( w0 + 30 - dropped ))
check 'wait_written "$MP2" "$kept"' "(d) PostgreSQL back: the rows kept while it was down are written ($((30 - dropped)) of 30)"
for i in 1 2 3 4; do send "$AM2" "$EXT" a@rep.test "$M/pass.eml" >/dev/null; done
expect=$(( kept + 4 ))
check 'wait_written "$MP2" "$expect"' "(d) ... and new rows too ($expect in all)"
is "$(metric "$MP2" 'authmilter_report_rows_total{result="dropped"}')" "$dropped" "(d) no more rows dropped once it is back"
is "$(pq "SELECT COUNT(*) FROM dmarc_rows WHERE gateway = 'gw-a'")" "$expect" "(d) the store has exactly the rows counted as written"
am_stop gwa
am_stop gwb

# --------------------------------------------------------------------------
# (e) failure reports

alloc_port AM4 || bail "no free port"; alloc_port MP4 || bail "no free port"
CF=$WORK/fail.conf
conf "$CF" "$AM4" "$MP4" "sqlite:$WORK/fail.db" gw-f "$SENDMAIL" \
    "FailureReports yes
FailureReportsPerHour 2"
check '"$AUTHMILTER" configtest -c "$CF"' "(e) configtest accepts FailureReports"
am_start f "$CF" || bail "authmilter (failure reports) could not start"
msg ffail "x@fail.test"
msg fpsd "x@psdx.test"
before=$(sink_count)
fv=
for i in 1 2 3; do fv="$fv $(send "$AM4" "$BAD" x@fail.test "$M/ffail.eml")"; done
for i in 1 2; do fv="$fv $(send "$AM4" "$BAD" x@psdx.test "$M/fpsd.eml")"; done
is "$(echo $fv | tr ' ' '\n' | grep -c TEMPFAIL)" 0 "(e) no message tempfailed"
arf() { grep -l "^Feedback-Type: auth-failure" $SINK_DIR/new/*.eml 2>/dev/null; }
wait_for 30 sh -c "[ \$(grep -l '^Feedback-Type: auth-failure' $SINK_DIR/new/*.eml 2>/dev/null | wc -l) -ge 2 ]"
sleep 3
is "$(arf | wc -l)" 2 "(e) 3 failures, FailureReportsPerHour 2: two reports"
check 'grep -q "rate\|FailureReportsPerHour" "$WORK/f.log"' "(e) the rate limit is logged"
F1=$(arf | head -n 1)
check 'grep -q "^Reported-Domain: fail.test" "$F1" && grep -q "^Identity-Alignment: none" "$F1" && grep -q "^Auth-Failure: dmarc" "$F1" && grep -q "^Delivery-Result: policy" "$F1"' "(e) ARF fields: Reported-Domain, Identity-Alignment, Auth-Failure, Delivery-Result"
check 'grep -q "report-type=feedback-report" "$F1" && grep -q "^Content-Type: text/rfc822-headers" "$F1"' "(e) multipart/report with the original headers"
check 'grep -q "^Message-ID: <r[0-9]*@t@authmilter.test>" "$F1" && ! grep -q "^report test" "$F1"' "(e) the headers are there, the body is not"
check '! grep -l "Reported-Domain: psdx.test" $SINK_DIR/new/*.eml' "(e) no failure report for a psd=y record"
check 'grep -q "\"rcpts\": \[\"TO:<ruf@fail.test>\"\]" $SINK_DIR/new/*.env' "(e) sent to the ruf= address"
am_stop f

# --------------------------------------------------------------------------
# (f) ReportSMTPRelay; the rua= of an authorizing record; mailto: decoding

alloc_port AM5 || bail "no free port"; alloc_port MP5 || bail "no free port"
alloc_port DEAD || bail "no free port"	# nothing listens there
RDB=$WORK/relay.db
CR=$WORK/relay.conf
CRD=$WORK/relay-dead.conf
conf "$CR" "$AM5" "$MP5" "sqlite:$RDB" gw-r /bin/false \
    "ReportSMTPRelay relay.test:$PF_PORT
FailureReports yes"
conf "$CRD" "$AM5" "$MP5" "sqlite:$RDB" gw-r /bin/false \
    "ReportSMTPRelay 127.0.0.1:$DEAD"
check '"$AUTHMILTER" configtest -c "$CR"' "(f) configtest accepts ReportSMTPRelay"
printf 'ReportSMTPRelay 127.0.0.1:0\n' >"$WORK/badrelay.conf"
check '"$AUTHMILTER" configtest -c "$WORK/badrelay.conf" 2>&1 | grep -q "badrelay.conf:1: ReportSMTPRelay"' "(f) configtest refuses a bad ReportSMTPRelay with file:line"
am_start r "$CR" || bail "authmilter (relay) could not start"
msg rovr "a@ovr.test"
msg revil "a@evil.test"
msg rpct "a@pct.test"
msg rfovr "a@fovr.test"
rv=
for i in 1 2; do rv="$rv $(send "$AM5" "$EXT" a@ovr.test "$M/rovr.eml")"; done
rv="$rv $(send "$AM5" "$EXT" a@evil.test "$M/revil.eml")"
rv="$rv $(send "$AM5" "$EXT" a@pct.test "$M/rpct.eml")"
rv="$rv $(send "$AM5" "$BAD" a@fovr.test "$M/rfovr.eml")"
is "$(echo $rv | tr ' ' '\n' | grep -c TEMPFAIL)" 0 "(f) no message tempfailed"
check 'wait_written "$MP5" 4' "(f) 4 rows written (fovr.test asks for ruf= only)"
# farf - the failure report of fovr.test in the sink
farf() { grep -l "^Reported-Domain: fovr.test" $SINK_DIR/new/*.eml 2>/dev/null | head -n 1; }
check 'wait_for 30 sh -c "grep -l \"^Reported-Domain: fovr.test\" $SINK_DIR/new/*.eml >/dev/null 2>&1"' "(f) the daemon's failure report went through ReportSMTPRelay to the sink"
FA=$(farf)
check 'grep -q "\"rcpts\": \[\"TO:<moved-f@fcoll.test>\"\]" "${FA%.eml}.env"' "(f) ... to the ruf= of the authorizing record (moved-f@fcoll.test)"
check '! grep -q "TO:<f@fcoll.test>" $SINK_DIR/new/*.env' "(f) ... not to the address it replaced"
is "$(metric "$MP5" 'authmilter_failure_reports_total{result="sent"}')" 1 "(f) authmilter_failure_reports_total{result=\"sent\"} counts it"
rq() { sqlite3 "$RDB" "$1"; }
sleep 1
check '"$AUTHMILTER" report -c "$CRD" --from "$TODAY" --to "$TODAY" >"$WORK/relay0.log" 2>&1' "(f) a run whose relay cannot be reached exits 0"
check 'grep -q "connect to 127.0.0.1 port $DEAD" "$WORK/relay0.log"' "(f) ... says why"
is "$(rq "SELECT COUNT(*) FROM dmarc_deliveries WHERE state = 'retry'")" 3 "(f) ... and leaves the destinations to retry (moved@, first@coll2.test, dmarc+reports@)"
before=$(sink_count)
check '"$AUTHMILTER" report -c "$CR" --from "$TODAY" --to "$TODAY" >"$WORK/relay1.log" 2>&1' "(f) the next run, with the relay up, exits 0"
check 'grep -q "2 sent" "$WORK/relay1.log"' "(f) ... and submits 2 reports by SMTP"
wait_for 30 sh -c "[ \$(ls $SINK_DIR/new/*.eml 2>/dev/null | wc -l) -ge $((before + 2)) ]"
sleep 1
is "$(( $(sink_count) - before ))" 2 "(f) two report mails reached the sink through Postfix"
check 'grep -q "\"rcpts\": \[\"TO:<moved@coll2.test>\"\]" $SINK_DIR/new/*.env' "(f) the authorizing record's rua= replaced the destination (moved@coll2.test)"
check '! grep -q "TO:<first@coll2.test>" $SINK_DIR/new/*.env' "(f) ... the replaced address got nothing"
check '! grep -q "victim.test\|x@coll3.test" $SINK_DIR/new/*.env' "(f) a replacement on another host: no report to either"
is "$(rq "SELECT state FROM dmarc_deliveries WHERE destination = 'x@coll3.test'")" skipped "(f) ... skipped for good"
check 'grep -q "\"rcpts\": \[\"TO:<dmarc+reports@pct.test>\"\]" $SINK_DIR/new/*.env' "(f) mailto:dmarc%2Breports@pct.test was decoded"
check '! grep -q "hf@pct.test" $SINK_DIR/new/*.env && grep -q "hf@pct.test?subject=hi: skipped (not a usable mailto: URI)" "$WORK/relay0.log"' "(f) a mailto: URI with hfields is skipped"
F=$(grep -l "TO:<moved@coll2.test>" $SINK_DIR/new/*.env | head -n 1)
F=${F%.env}.eml
check 'grep -q "^Subject: Report Domain: ovr.test Submitter: receiver.test" "$F"' "(f) the mail submitted by SMTP has the RFC 9990 Subject"
check 'grep -A3 "^DKIM-Signature:" "$F" | grep -q "d=receiver.test"' "(f) ... and was signed by the gateway's MTA"
A=$(attachment "$F" "$WORK/relayed.xml")
check 'xmllint --noout --schema "$SCHEMA" "$WORK/relayed.xml"' "(f) ... and its attachment validates"
check '"$AUTHMILTER" report -c "$CR" --from "$TODAY" --to "$TODAY" >"$WORK/relay2.log" 2>&1 && ! grep -q ": sent$" "$WORK/relay2.log"' "(f) a third run sends nothing again"
am_stop r

# --------------------------------------------------------------------------
# (g) rows of the messages answered just before a stop with a session open

am_stop a
SDB=$WORK/stop.db
CS=$WORK/stop.conf
conf "$CS" "$AM_PORT" "$MPORT" "sqlite:$SDB" gw-s "$SENDMAIL" "ShutdownTimeout 0"
am_start s "$CS" || bail "authmilter (stop) could not start"
# one SMTP session through Postfix (so one milter connection), 5 messages,
# SIGTERM at once, the session still open until the daemon has gone
"$PY" - "$(am_pid s)" "$PF_PORT" "$EXT" "$M/ext.eml" "$WORK/s.log" >"$WORK/hold.log" 2>&1 <<'PYEOF'
import os, signal, smtplib, sys, time
pid, port, ip, path, log = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
s = smtplib.SMTP("127.0.0.1", port, local_hostname="mta.sender.test",
                 source_address=(ip, 0), timeout=60)
data = open(path, "rb").read()
for i in range(5):
    s.sendmail("b@ext.test", ["u@mx.receiver.test"], data)
os.kill(pid, signal.SIGTERM)
stopped = False
for i in range(300):
    if "info: stopped" in open(log, errors="replace").read():
        stopped = True
        break
    time.sleep(0.1)
print("accepted 5, daemon stopped" if stopped else "daemon did not stop")
try:
    s.quit()
except Exception:
    pass
PYEOF
is "$(cat "$WORK/hold.log")" "accepted 5, daemon stopped" "(g) 5 messages accepted in one session, then SIGTERM"
am_stop s
check 'grep -q "idle connection(s) left" "$WORK/s.log"' "(g) the daemon left with the session still open (the _exit path)"
is "$(sqlite3 "$SDB" "SELECT COUNT(*) FROM dmarc_rows")" 5 "(g) the rows of all 5 are in the store after the stop"
check 'am_log_clean "$WORK/a.log" && am_log_clean "$WORK/gwa.log" && am_log_clean "$WORK/gwb.log" && am_log_clean "$WORK/f.log" && am_log_clean "$WORK/r.log" && am_log_clean "$WORK/s.log"' "no crash or sanitizer report in the logs"
stop_pid "$PGPID" 20
exit 0
