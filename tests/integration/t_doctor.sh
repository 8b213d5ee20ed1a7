#!/bin/bash
# t_doctor.sh - "authmilter doctor DOMAIN" against a private unbound whose
# zones hold each kind of mistake a sender makes.
#
# Keys are made at test time with "authmilter keygen" (RSA-2048, RSA-1024,
# Ed25519, one with --testing); one domain publishes another key than the
# one on disk, one publishes none. The configuration holds keys for some
# domains (KeyTable + refile SigningTable, MultipleSignatures). Each case
# runs
#
#     authmilter doctor -c CONF --nameserver 127.0.0.1:PORT --json [--ip IP] DOMAIN
#
# and checks the JSON object (its shape, the findings by check, severity
# and text, "worst") and the exit status (0 ok, 1 warnings, 3 errors, 2
# usage). The domains:
#
#   good.test     everything right: RSA + Ed25519 keys that match, SPF, DMARC
#                 p=reject with a rua inside the domain, MX; an unused key at
#                 default._domainkey (information); --ip pass and fail
#   sub.good.test no record of its own: the RFC 9989 tree walk finds good.test
#   badkey.test   the published key is not the private key's
#   nokey.test    no key published
#   testing.test  the key record has t=y (keygen --testing)
#   weak.test     a 1024-bit RSA key
#   nodmarc.test  signs mail, no DMARC record anywhere (error)
#   nodmarc2.test signs nothing here, no DMARC record (warning)
#   spf10.test    exactly 10 DNS-querying terms (include, a, mx, exists), one
#                 void lookup (exists: of a name that does not exist)
#   spf11.test    11 DNS-querying terms (permerror; `authmilter check` agrees)
#   twospf.test   two SPF records
#   voids.test    3 void lookups (permerror; `authmilter check` agrees)
#   voids2.test   2 void lookups (the limit: ok)
#   incl.test     include: of a name without an SPF record
#   pct.test      DMARC with pct= and rf= (removed by RFC 9989)
#   tdmarc.test   DMARC t=y
#   extrua.test   rua at another domain, not authorised
#   authz.test    rua at another domain, authorised (_report._dmarc)
#   authzo.test   the same, the authorising record naming its own rua=
#   authzbad.test ... one on another host (refused: no reports)
#   mail.dept.walk.test  RFC 9989 (psd=n at dept.walk.test) and RFC 7489
#                 (the PSL: walk.test) find different records
#   nullmx.test   a null MX ("0 .")
#
# The report set-up (check "reports"), with good.test and configurations
# that add report keys: a SQLite store in a temporary directory (not there
# yet, then made by "authmilter report", then with a schema version from
# the future), a store in a directory UserID nobody cannot write, a
# missing ReportEmail (the configuration does not load: a "config" error,
# the records still checked), a ReportSendmail that does not exist, a
# PostgreSQL store nobody listens for, ReportOrgName without a store; a
# ReportSMTPRelay that answers (the SMTP sink), by address and by name, and
# one nobody listens on.

. "$(dirname "$0")/lib.sh"
it_init doctor
it_need_tools unbound unbound-checkconf dig openssl
it_need_authmilter

TOOL="$PY $IT_DIR/inb_tool.py"
GOOD=192.0.2.10		# allowed by "v=spf1 ip4:192.0.2.10 ..."
BAD=198.51.100.7	# allowed by none
KEYS=$WORK/keys
OUT=$WORK/out
mkdir -m 700 "$KEYS"
mkdir -p "$OUT"

# --------------------------------------------------------------------------
# keys

# kg SELECTOR DOMAIN [KEYGEN ARGS] - authmilter keygen into $KEYS
kg() {
	local s=$1 d=$2
	shift 2
	"$AUTHMILTER" keygen --domain "$d" --selector "$s" --directory "$KEYS" \
	    "$@" >"$KEYS/$s.rr" 2>"$KEYS/$s.err" ||
	    { diag_file "$KEYS/$s.err"; bail "authmilter keygen $s $d"; }
}
kg r1 good.test
kg e1 good.test --algorithm ed25519
kg other good.test			# published at default._, used by nobody
kg b1 badkey.test
kg b1pub badkey.test			# what badkey.test publishes instead
kg nk1 nokey.test
kg t1 testing.test --testing
kg w1 weak.test --bits 1024
kg n1 nodmarc.test

cat >"$KEYS/KeyTable" <<EOF
good-r   good.test:r1:$KEYS/r1.private
good-e   good.test:e1:$KEYS/e1.private
bad      badkey.test:b1:$KEYS/b1.private
nokey    nokey.test:nk1:$KEYS/nk1.private
testing  testing.test:t1:$KEYS/t1.private
weak     weak.test:w1:$KEYS/w1.private
nodmarc  nodmarc.test:n1:$KEYS/n1.private
EOF
cat >"$KEYS/SigningTable" <<EOF
*@good.test      good-r
*@good.test      good-e
*@*.good.test    good-r
*@badkey.test    bad
*@nokey.test     nokey
*@testing.test   testing
*@weak.test      weak
*@nodmarc.test   nodmarc
EOF
CONF=$WORK/doctor.conf
cat >"$CONF" <<EOF
Syslog              no
DNSTimeout          2
DNSRetries          1
KeyTable            $KEYS/KeyTable
SigningTable        refile:$KEYS/SigningTable
MultipleSignatures  yes
EOF
check '"$AUTHMILTER" configtest -c "$CONF"' "configtest accepts the doctor's configuration"

txt() { $TOOL zonetxt "$KEYS/$1.rr"; }
case "$(txt t1)" in
*"t=y;"*) ok "keygen --testing: the record has t=y" ;;
*) not_ok "keygen --testing: the record has t=y"; diag "$(txt t1)" ;;
esac

# --------------------------------------------------------------------------
# DNS data

rr() { unbound_data "$($TOOL rr "$1" "$2")"; }
addr() {	# addr NAME - A and AAAA
	unbound_data "$1. 300 IN A 192.0.2.25" "$1. 300 IN AAAA 2001:db8::25"
}
SPF_GOOD="v=spf1 ip4:$GOOD -all"
unbound_new
unbound_zone test 30
addr mx1.test

ALL="good.test sub.good.test badkey.test nokey.test testing.test weak.test
    nodmarc.test nodmarc2.test spf10.test spf11.test twospf.test voids.test
    voids2.test incl.test pct.test tdmarc.test extrua.test authz.test
    authzo.test authzbad.test mail.dept.walk.test nullmx.test"
for d in $ALL; do
	[ "$d" = nullmx.test ] || unbound_data "$d. 300 IN MX 10 mx1.test."
	addr "$d"
done
unbound_data "nullmx.test. 300 IN MX 0 ."
for d in good.test sub.good.test badkey.test nokey.test testing.test \
    weak.test nodmarc.test nodmarc2.test pct.test tdmarc.test extrua.test \
    authz.test authzo.test authzbad.test mail.dept.walk.test nullmx.test; do
	rr "$d" "$SPF_GOOD"
done

# DKIM
rr r1._domainkey.good.test "$(txt r1)"
rr e1._domainkey.good.test "$(txt e1)"
rr default._domainkey.good.test "$(txt other)"
rr b1._domainkey.badkey.test "$(txt b1pub)"
rr t1._domainkey.testing.test "$(txt t1)"
rr w1._domainkey.weak.test "$(txt w1)"
rr n1._domainkey.nodmarc.test "$(txt n1)"
# nk1._domainkey.nokey.test: none

# SPF: 10 and 11 DNS-querying terms over three records
rr spf10.test "v=spf1 a mx include:i1.spf10.test -all"
rr i1.spf10.test "v=spf1 a:h1.spf10.test a:h2.spf10.test include:i2.spf10.test ~all"
rr i2.spf10.test "v=spf1 a:h3.spf10.test a:h4.spf10.test a:h5.spf10.test exists:nx.spf10.test -all"
rr spf11.test "v=spf1 a mx include:i1.spf11.test -all"
rr i1.spf11.test "v=spf1 a:h1.spf11.test a:h2.spf11.test include:i2.spf11.test ~all"
rr i2.spf11.test "v=spf1 a:h3.spf11.test a:h4.spf11.test a:h5.spf11.test exists:nx.spf11.test a:h7.spf11.test -all"
for i in 1 2 3 4 5 6 7; do addr h$i.spf10.test; addr h$i.spf11.test; done
rr twospf.test "$SPF_GOOD"
rr twospf.test "v=spf1 -all"
rr voids.test "v=spf1 a:n1.voids.test a:n2.voids.test mx:n3.voids.test ip4:$GOOD -all"
rr voids2.test "v=spf1 a:n1.voids2.test a:n2.voids2.test ip4:$GOOD -all"
rr incl.test "v=spf1 include:missing.incl.test ip4:$GOOD -all"

# DMARC
rr _dmarc.good.test "v=DMARC1; p=reject; rua=mailto:dmarc@good.test"
rr _dmarc.badkey.test "v=DMARC1; p=reject"
rr _dmarc.nokey.test "v=DMARC1; p=reject"
rr _dmarc.testing.test "v=DMARC1; p=reject"
rr _dmarc.weak.test "v=DMARC1; p=reject"
for d in spf10.test spf11.test twospf.test voids.test voids2.test incl.test \
    nullmx.test; do
	rr "_dmarc.$d" "v=DMARC1; p=reject"
done
rr _dmarc.pct.test "v=DMARC1; p=quarantine; pct=50; rf=afrf"
rr _dmarc.tdmarc.test "v=DMARC1; p=reject; t=y"
rr _dmarc.extrua.test "v=DMARC1; p=reject; rua=mailto:agg@reports.test"
rr _dmarc.authz.test "v=DMARC1; p=reject; rua=mailto:agg@reports.test"
rr authz.test._report._dmarc.reports.test "v=DMARC1"
# the authorising record's own rua= (RFC 9990): on the same host, and not
rr _dmarc.authzo.test "v=DMARC1; p=reject; rua=mailto:agg@reports.test"
rr authzo.test._report._dmarc.reports.test "v=DMARC1; rua=mailto:authzo@reports.test"
rr _dmarc.authzbad.test "v=DMARC1; p=reject; rua=mailto:agg@reports.test"
rr authzbad.test._report._dmarc.reports.test "v=DMARC1; rua=mailto:x@elsewhere.test"
rr _dmarc.dept.walk.test "v=DMARC1; p=reject; psd=n"
rr _dmarc.walk.test "v=DMARC1; p=none"
addr reports.test
unbound_data "relay.test. 300 IN A 127.0.0.1"	# ReportSMTPRelay by name

unbound_start || bail "unbound (test DNS data) could not start"
check '[ -n "$(unbound_query r1._domainkey.good.test TXT)" ]' "unbound serves the test data"

# --------------------------------------------------------------------------
# helpers

CASE=
# doc CASE ARGS... - authmilter doctor --json; $OUT/CASE.{json,err,rc}
doc() {
	CASE=$1
	shift
	"$AUTHMILTER" doctor -c "$CONF" --nameserver "127.0.0.1:$UNBOUND_PORT" \
	    --json "$@" >"$OUT/$CASE.json" 2>"$OUT/$CASE.err"
	echo $? >"$OUT/$CASE.rc"
}
dump() {
	diag "  exit $(cat "$OUT/$CASE.rc"); stdout:"
	diag "$(sed 's/^/    /' "$OUT/$CASE.json" | head -n 40 | cut -c1-300)"
	[ -s "$OUT/$CASE.err" ] && diag "  stderr:" "$(head -n 5 "$OUT/$CASE.err")"
	return 0
}
# rc WANT DESC - the exit status of $CASE
rc() {
	local got
	got=$(cat "$OUT/$CASE.rc")
	if [ "$got" = "$1" ]; then ok "$CASE: $2"; else
		not_ok "$CASE: $2"; diag "  exit $got, want $1"; dump; fi
}
# has CHECK SEVERITY SUBSTRING - a finding with them
has() {
	if "$PY" - "$OUT/$CASE.json" "$1" "$2" "$3" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
ok = any(f["check"] == sys.argv[2] and f["severity"] == sys.argv[3]
         and sys.argv[4] in f["text"] for f in j["findings"])
sys.exit(0 if ok else 1)
EOF
	then ok "$CASE: $1 $2: ...$3..."; else
		not_ok "$CASE: $1 $2: ...$3..."; dump; fi
}
# hasnt CHECK SEVERITY - no finding of that check with that severity
hasnt() {
	if "$PY" - "$OUT/$CASE.json" "$1" "$2" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
sys.exit(1 if any(f["check"] == sys.argv[2] and f["severity"] == sys.argv[3]
                  for f in j["findings"]) else 0)
EOF
	then ok "$CASE: no $1 $2"; else not_ok "$CASE: no $1 $2"; dump; fi
}
# worst SEVERITY
worst() {
	local got
	got=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["worst"])' \
	    "$OUT/$CASE.json" 2>&1)
	is "$got" "$1" "$CASE: worst is $1"
}

# --------------------------------------------------------------------------
# a domain without a mistake; the JSON contract

doc good good.test --ip $GOOD
rc 0 "all ok: exit 0"
worst ok
if "$PY" - "$OUT/good.json" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
assert set(j) == {"domain", "findings", "worst"}, sorted(j)
assert j["domain"] == "good.test"
assert isinstance(j["findings"], list) and j["findings"]
for f in j["findings"]:
    assert set(f) == {"check", "severity", "text"}, f
    assert f["check"] in ("config", "dkim", "spf", "dmarc", "mx",
                          "reports"), f
    assert f["severity"] in ("ok", "warning", "error"), f
    assert isinstance(f["text"], str) and f["text"], f
rank = {"ok": 0, "warning": 1, "error": 2}
assert j["worst"] == max((f["severity"] for f in j["findings"]), key=rank.get)
EOF
then ok "good: the JSON object has domain, findings [{check, severity, text}], worst"
else not_ok "good: the JSON shape"; dump; fi
has config ok "2 signing keys configured for good.test"
has dkim ok "r1._domainkey.good.test: rsa-sha256, 2048 bits, matches the private key $KEYS/r1.private"
has dkim ok "e1._domainkey.good.test: ed25519-sha256, matches the private key $KEYS/e1.private"
has dkim ok "default._domainkey.good.test: a key (k=rsa) is published that this configuration does not use"
has spf ok "one SPF record at good.test"
has spf ok "0 DNS-querying terms (limit 10), 0 void lookups (limit 2)"
has spf ok "mail from $GOOD with MAIL FROM postmaster@good.test: SPF pass"
has dmarc ok "record at _dmarc.good.test: v=DMARC1; p=reject"
has dmarc ok "policy for good.test: reject"
has dmarc ok "rua destination mailto:dmarc@good.test is within good.test"
has dmarc ok "signing domain d=good.test is good.test itself: aligned"
has mx ok "MX 10 mx1.test"

doc good_badip good.test --ip $GOOD --ip $BAD --ip 2001:db8::99
rc 3 "an address SPF fails: exit 3"
has spf ok "mail from $GOOD with MAIL FROM postmaster@good.test: SPF pass"
has spf error "mail from $BAD with MAIL FROM postmaster@good.test: SPF fail"
has spf error "mail from 2001:db8::99 with MAIL FROM postmaster@good.test: SPF fail"

"$AUTHMILTER" doctor -c "$CONF" --nameserver "127.0.0.1:$UNBOUND_PORT" good.test \
    >"$OUT/good.txt" 2>&1
is "$?" 0 "text output: exit 0 as with --json"
check 'grep -qE "^ok +dkim +r1._domainkey.good.test: rsa-sha256" "$OUT/good.txt"' \
    "text output: one line per finding, severity and check first"
check 'grep -qE "^worst: ok \([0-9]+ ok, 0 warnings, 0 errors\)$" "$OUT/good.txt"' \
    "text output: the last line is the worst and the counts"

doc sub sub.good.test
has dmarc ok "no record at _dmarc.sub.good.test; the RFC 9989 tree walk finds _dmarc.good.test"
has config ok "1 signing key configured for sub.good.test"
has dkim ok "r1._domainkey.good.test: rsa-sha256, 2048 bits, matches"
has dmarc ok "signing domain d=good.test shares the organizational domain good.test: aligned (adkim=r)"

# --------------------------------------------------------------------------
# DKIM

doc badkey badkey.test
rc 3 "a published key that does not match: exit 3"
worst error
has dkim error "b1._domainkey.badkey.test: the published key does not match the private key $KEYS/b1.private"

doc nokey nokey.test
rc 3 "no key published: exit 3"
has dkim error "nk1._domainkey.nokey.test: no key published (nxdomain)"

doc testing testing.test
rc 1 "t=y left on (and nothing worse): exit 1"
worst warning
has dkim ok "t1._domainkey.testing.test: rsa-sha256, 2048 bits, matches"
has dkim warning "t1._domainkey.testing.test: t=y (testing) is still on"

doc weak weak.test
rc 1 "a 1024-bit key: exit 1"
has dkim warning "w1._domainkey.weak.test: a 1024-bit RSA key"

# --------------------------------------------------------------------------
# SPF

doc spf10 spf10.test
has spf ok "10 DNS-querying terms (limit 10), 1 void lookup (limit 2)"
hasnt spf error
doc spf11 spf11.test
rc 3 "11 DNS-querying terms: exit 3"
has spf error "11 DNS-querying terms (include, a, mx, ptr, exists, redirect; limit 10): receivers get permerror"
doc spf11ip spf11.test --ip $BAD
has spf error "mail from $BAD with MAIL FROM postmaster@spf11.test: SPF permerror (more than 10 DNS-querying terms)"

doc twospf twospf.test
rc 3 "two SPF records: exit 3"
has spf error "2 SPF records at twospf.test: receivers get permerror"

doc voids voids.test
rc 3 "3 void lookups: exit 3"
has spf error "3 void lookups (names with no record: n1.voids.test, n2.voids.test, n3.voids.test; limit 2)"
doc voids2 voids2.test
has spf ok "2 void lookups (limit 2)"
hasnt spf error

doc incl incl.test
rc 3 "include: of a name without SPF: exit 3"
has spf error "include:missing.incl.test: missing.incl.test has no SPF record"

# the evaluator agrees with the counts (authmilter check, same DNS)
cmsg() {
	$TOOL msg --id "$1-$$" --from "a@$1" >"$OUT/$1.eml"
	"$AUTHMILTER" check -c "$CONF" --json --nameserver "127.0.0.1:$UNBOUND_PORT" \
	    --client-ip $BAD --helo mta.nohelo.test --mail-from "a@$1" "$OUT/$1.eml" |
	    "$PY" -c 'import json,sys; print(json.load(sys.stdin)["spf"]["result"])'
}
is "$(cmsg spf10.test)" fail "check: spf10.test (10 terms) is fail, not permerror"
is "$(cmsg spf11.test)" permerror "check: spf11.test (11 terms) is permerror"
is "$(cmsg voids.test)" permerror "check: voids.test (3 void lookups) is permerror"
is "$(cmsg voids2.test)" fail "check: voids2.test (2 void lookups) is fail"

# --------------------------------------------------------------------------
# DMARC

doc nodmarc nodmarc.test
rc 3 "no DMARC record where the domain signs mail: exit 3"
has dmarc error "no DMARC record for nodmarc.test"
doc nodmarc2 nodmarc2.test
has dmarc warning "no DMARC record for nodmarc2.test"
hasnt dmarc error
has config warning "has no signing key for nodmarc2.test"

doc pct pct.test
rc 1 "pct= and rf=: exit 1 (warnings)"
has dmarc warning "_dmarc.pct.test: pct=50: pct= was removed by RFC 9989"
has dmarc warning "_dmarc.pct.test: rf= was removed by RFC 9989"
has dmarc ok "policy for pct.test: quarantine"

doc tdmarc tdmarc.test
has dmarc warning "t=y (testing) is on"

doc extrua extrua.test
has dmarc warning "rua destination mailto:agg@reports.test is outside extrua.test and not authorised"
has dmarc warning "extrua.test._report._dmarc.reports.test"
doc authz authz.test
has dmarc ok "rua destination mailto:agg@reports.test is outside authz.test and authorised (authz.test._report._dmarc.reports.test)"
hasnt dmarc warning

doc authzo authzo.test
has dmarc ok "rua destination mailto:agg@reports.test is outside authzo.test and authorised (authzo.test._report._dmarc.reports.test); reports go to its rua= instead: mailto:authzo@reports.test"
doc authzbad authzbad.test
has dmarc warning "its rua= override is refused"

doc walk mail.dept.walk.test
has dmarc ok "no record at _dmarc.mail.dept.walk.test; the RFC 9989 tree walk finds _dmarc.dept.walk.test"
has dmarc ok "policy for mail.dept.walk.test: reject"
has dmarc ok "RFC 7489 receivers (Public Suffix List) find the record at _dmarc.walk.test instead (policy none)"

# --------------------------------------------------------------------------
# MX

doc nullmx nullmx.test
has mx warning "null MX (RFC 7505)"
doc mxok good.test
has mx ok "MX 10 mx1.test"

# --------------------------------------------------------------------------
# the report set-up

BASECONF=$CONF
# rconf NAME LINE... - the doctor's configuration plus LINEs, as CONF
rconf() {
	CONF=$WORK/$1.conf
	shift
	{ cat "$BASECONF"; printf '%s\n' "$@"; } >"$CONF"
}
SENDER=("ReportOrgName Doctor Test" "ReportEmail dmarc-reports@good.test")
RDIR=$WORK/reports
mkdir -p "$RDIR"
chmod 755 "$WORK"

doc norep good.test
hasnt reports ok
hasnt reports warning

rconf rnew "ReportStore sqlite:$RDIR/r.db" "${SENDER[@]}"
doc rnew good.test
rc 0 "a store not made yet in a writable directory, a sender, sendmail: exit 0"
has reports ok "ReportStore sqlite:$RDIR/r.db does not exist yet: the daemon creates it in $RDIR"
has reports ok "ReportOrgName Doctor Test"
has reports ok "ReportEmail dmarc-reports@good.test"
has reports ok "ReportSendmail /usr/sbin/sendmail: the program exists"
check '[ ! -e "$RDIR/r.db" ]' "doctor created no store file"
"$AUTHMILTER" report -c "$CONF" --dry-run >"$OUT/rmake.out" 2>&1
check '[ -s "$RDIR/r.db" ]' "authmilter report made the store"
doc rmade good.test
rc 0 "a store with the current schema: exit 0"
has reports ok "ReportStore sqlite:$RDIR/r.db opens; schema version 1 is current"
cp "$RDIR/r.db" "$RDIR/future.db"
"$PY" -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("UPDATE authmilter_schema SET version=99"); c.commit()' \
    "$RDIR/future.db" || bail "sqlite3: future schema"
rconf rfuture "ReportStore sqlite:$RDIR/future.db" "${SENDER[@]}"
doc rfuture good.test
rc 3 "a store newer than this authmilter: exit 3"
has reports error "schema version 99, newer than this authmilter's 1"

LOCKED=$WORK/locked
mkdir -p "$LOCKED"
chown 0:0 "$LOCKED" 2>/dev/null
chmod 755 "$LOCKED"
rconf rlocked "ReportStore sqlite:$LOCKED/r.db" "${SENDER[@]}" "UserID nobody"
doc rlocked good.test
rc 3 "a store directory UserID cannot write: exit 3"
has reports error "nobody (UserID) cannot write in $LOCKED"
rconf rnobodyok "ReportStore sqlite:$RDIR/n.db" "${SENDER[@]}" "UserID nobody"
chmod 1777 "$RDIR"
doc rnobodyok good.test
rc 0 "the same user, a directory it can write: exit 0"
hasnt reports error
chmod 755 "$RDIR"

rconf rnoemail "ReportStore sqlite:$RDIR/r.db" "ReportOrgName Doctor Test"
doc rnoemail good.test
rc 3 "ReportStore without ReportEmail: exit 3"
has config error "ReportStore needs ReportEmail"
has config error "the configuration does not load"
has spf ok "one SPF record"
check 'grep -q "ReportStore needs ReportEmail" "$OUT/rnoemail.err"' "... and said on standard error"

rconf rsendmail "ReportStore sqlite:$RDIR/r.db" "${SENDER[@]}" \
    "ReportSendmail $WORK/no-such-sendmail -t"
doc rsendmail good.test
rc 3 "a ReportSendmail program that does not exist: exit 3"
has reports error "ReportSendmail: $WORK/no-such-sendmail: No such file or directory"
printf '#!/bin/sh\nexit 0\n' >"$WORK/notexec"
chmod 644 "$WORK/notexec"
rconf rnotexec "FailureReports yes" "${SENDER[@]}" "ReportSendmail $WORK/notexec"
doc rnotexec good.test
rc 3 "a ReportSendmail program nobody may run: exit 3"
has reports error "ReportSendmail: $WORK/notexec is not a program"
has reports warning "no ReportStore: no aggregate reports"

# ReportSMTPRelay: a real SMTP server (the sink) by address and by name
# (through the test's DNS), a port nobody listens on; it wins over
# ReportSendmail, which is then not checked
sink_start || bail "the SMTP sink did not start"
rconf rrelay "ReportStore sqlite:$RDIR/r.db" "${SENDER[@]}" \
    "ReportSMTPRelay 127.0.0.1:$SINK_PORT" "ReportSendmail $WORK/no-such-sendmail"
doc rrelay good.test
hasnt reports error
has reports ok "ReportSMTPRelay 127.0.0.1:$SINK_PORT greets and takes EHLO"
rconf rrelayname "FailureReports yes" "${SENDER[@]}" "ReportSMTPRelay relay.test:$SINK_PORT"
doc rrelayname good.test
has reports ok "ReportSMTPRelay relay.test:$SINK_PORT greets and takes EHLO"
alloc_port RELAYNONE || bail "no free port"
rconf rrelaynone "ReportStore sqlite:$RDIR/r.db" "${SENDER[@]}" "ReportSMTPRelay 127.0.0.1:$RELAYNONE"
doc rrelaynone good.test
rc 3 "a ReportSMTPRelay nobody listens on: exit 3"
has reports error "ReportSMTPRelay 127.0.0.1:$RELAYNONE:"
check '[ -z "$(ls "$SINK_DIR/new" 2>/dev/null)" ]' "the relay checks sent no message"

alloc_port PGNONE || bail "no free port"
rconf rpg "ReportStore postgresql://authmilter@127.0.0.1:$PGNONE/dmarc" "${SENDER[@]}"
doc rpg good.test
rc 3 "a PostgreSQL store nobody listens for: exit 3"
has reports error "ReportStore postgresql://127.0.0.1:$PGNONE/dmarc does not open"

rconf rorg "ReportOrgName Doctor Test"
doc rorg good.test
rc 1 "ReportOrgName without ReportStore or FailureReports: exit 1"
has reports warning "no report is recorded or sent"
CONF=$BASECONF

# --------------------------------------------------------------------------
# usage and errors

usage() {	# usage DESC ARGS... - exit 2
	local desc=$1 rc
	shift
	"$AUTHMILTER" doctor "$@" >"$OUT/usage.out" 2>&1 </dev/null
	rc=$?
	is "$rc" 2 "usage error exits 2: $desc"
}
usage "no domain" -c "$CONF"
usage "two domains" -c "$CONF" good.test pct.test
usage "--ip that is no address" -c "$CONF" --ip 300.1.2.3 good.test
usage "not a domain name" -c "$CONF" "bad..name"
usage "unknown option" -c "$CONF" --bogus good.test
"$AUTHMILTER" doctor -c "$WORK/nonexistent.conf" good.test >"$OUT/nc.out" 2>&1
is "$?" 3 "a configuration that cannot be read: exit 3"
