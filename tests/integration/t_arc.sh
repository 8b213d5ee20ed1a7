#!/bin/bash
# t_arc.sh - ARC (RFC 8617) through "authmilter check --json" and the
# milter, against two independent implementations: python3-dkim
# (dkim.arc_sign / dkim.arc_verify, arc_tool.py) and Perl's Mail::DKIM
# (Mail::DKIM::ARC::Signer / ::Verifier, arc_tool.pl).
#
# A private unbound (lib_dns.sh) serves origin.test (SPF for 192.0.2.10,
# DMARC p=reject, its DKIM key) and the keys of three sealers: fwd-py.test
# (python3-dkim seals), fwd-pl.test (Mail::DKIM seals) and arc.mx.test
# (authmilter seals; ARCSealKey). Keys are made at test time ("authmilter
# keygen", openssl genrsa).
#
# Chains made by the others are checked by authmilter: a list-like
# forwarder records dmarc=pass, adds a footer and tags the subject (DKIM
# of origin.test breaks), seals; the message then arrives from the
# forwarder's address (SPF for origin.test fails): DMARC fails, ARC
# passes. With the sealers in TrustedARCSealers the message is accepted
# (override trusted_forwarder, DMARC still fail); with untrusted sealers,
# a newest AAR without dmarc=pass for the From domain, or a broken chain,
# it is refused. Chains of one and two sets, of one maker and mixed.
#
# authmilter's seals are checked by the others: taken from check --json
# (headers_added put on top of the message) and from the milter through
# tests/miltc (its INSHEADER lines applied), at i=1, at i=2 on top of
# python3-dkim's and Mail::DKIM's chains, at i=3 on top of ours; cv=fail
# after a broken chain (the seal covering its own set only), nothing
# after cv=fail; relayed mail (ARCSealMail all) sealed with the results
# of our own earlier A-R. The milter's metrics count each ARC result
# (authmilter_arc_results_total) and each set added by its cv=
# (authmilter_arc_seals_total).

. "$(dirname "$0")/lib.sh"
it_init arc
it_need_tools unbound unbound-checkconf dig openssl perl curl
it_need_authmilter
it_need_miltc
"$PY" -c 'import authres' 2>/dev/null ||
    bail "arc: $PY lacks python3-authres (dkim.arc_sign needs it)"
perl -MMail::DKIM::ARC::Verifier -MMail::DKIM::ARC::Signer -e 1 2>/dev/null ||
    bail "arc: Perl lacks Mail::DKIM::ARC (libmail-dkim-perl)"

TOOL="$PY $IT_DIR/inb_tool.py"
ARC="$PY $IT_DIR/arc_tool.py"
PL="perl $IT_DIR/arc_tool.pl"
GOOD=192.0.2.10		# allowed by origin.test's SPF record
LIST=198.51.100.20	# the forwarder: allowed by nobody
RUN=$$-$(date +%s)
KEYS=$WORK/keys
M=$WORK/msgs
OUT=$WORK/out
mkdir -m 700 "$KEYS"
mkdir -p "$M" "$OUT"

# --------------------------------------------------------------------------
# keys and DNS

"$AUTHMILTER" keygen --domain origin.test --selector o1 --algorithm rsa \
    --directory "$KEYS" >"$KEYS/o1.rr" 2>"$KEYS/o1.err" ||
    { diag_file "$KEYS/o1.err"; bail "authmilter keygen o1"; }
"$AUTHMILTER" keygen --domain arc.mx.test --selector a1 --algorithm rsa \
    --directory "$KEYS" >"$KEYS/a1.rr" 2>"$KEYS/a1.err" ||
    { diag_file "$KEYS/a1.err"; bail "authmilter keygen a1"; }
for k in py pl; do
	openssl genrsa -traditional -out "$KEYS/$k.pem" 2048 >/dev/null 2>&1 ||
	    openssl genrsa -out "$KEYS/$k.pem" 2048 >/dev/null 2>&1 ||
	    bail "openssl genrsa $k"
done

rr() { unbound_data "$($TOOL rr "$1" "$2")"; }
unbound_new
unbound_zone test 30
rr origin.test "v=spf1 ip4:$GOOD -all"
unbound_data "origin.test. 300 IN A 192.0.2.1"
rr _dmarc.origin.test "v=DMARC1; p=reject"
rr o1._domainkey.origin.test "$($TOOL zonetxt "$KEYS/o1.rr")"
rr a1._domainkey.arc.mx.test "$($TOOL zonetxt "$KEYS/a1.rr")"
rr p1._domainkey.fwd-py.test "$($TOOL keytxt --key "$KEYS/py.pem")"
rr m1._domainkey.fwd-pl.test "$($TOOL keytxt --key "$KEYS/pl.pem")"
unbound_start || bail "unbound (test DNS data) could not start"
check '[ -n "$(unbound_query p1._domainkey.fwd-py.test TXT)" ]' \
    "unbound serves the sealers' keys"

# --------------------------------------------------------------------------
# configurations

echo "arc  arc.mx.test:a1:$KEYS/a1.private" >"$WORK/KeyTable"
echo "*@arc.mx.test  arc" >"$WORK/SigningTable"
conf() {	# conf NAME [LINE...]
	local f=$WORK/$1.conf
	shift
	{
		echo "AuthservID  mx.test"
		echo "DNSTimeout  2"
		echo "DNSRetries  1"
		echo "DNSBudget   4"
		echo "Syslog      no"
		echo "InternalHosts 127.0.0.1/32"
		printf '%s\n' "$@"
	} >"$f"
}
TABLES=("KeyTable $WORK/KeyTable" "SigningTable refile:$WORK/SigningTable")
conf plain "TrustedARCSealers fwd-py.test, fwd-pl.test"
conf untrusted "TrustedARCSealers other.test"
conf strict "DMARCEnforcement strict" "TrustedARCSealers fwd-py.test"
conf seal "${TABLES[@]}" "ARCSealKey arc" \
    "TrustedARCSealers fwd-py.test fwd-pl.test arc.mx.test"
conf sealc "${TABLES[@]}" "ARCSealKey arc" "ARCAuthResComments yes"
for c in plain untrusted strict seal sealc; do
	check '"$AUTHMILTER" configtest -c "$WORK/$c.conf"' \
	    "configtest accepts $c.conf"
done

# --------------------------------------------------------------------------
# helpers

CASE=
# chk CASE CONF IP MAILFROM MSG - authmilter check --json into $OUT/CASE.json
chk() {
	CASE=$1
	"$AUTHMILTER" check -c "$WORK/$2.conf" --json \
	    --nameserver "127.0.0.1:$UNBOUND_PORT" --client-ip "$3" \
	    --helo mta.nohelo.test --mail-from "$4" "$M/$5.eml" \
	    >"$OUT/$1.json" 2>"$OUT/$1.err"
	echo $? >"$OUT/$1.rc"
}
dump() {
	diag "  exit $(cat "$OUT/$CASE.rc"); stdout:"
	diag "$(sed 's/^/    /' "$OUT/$CASE.json" | head -n 40 | cut -c1-300)"
	[ -s "$OUT/$CASE.err" ] && diag "$(head -n 5 "$OUT/$CASE.err")"
	return 0
}
# jis EXPR WANT DESC - EXPR over $CASE's JSON (inb_tool.py get) is WANT
jis() {
	local got
	got=$($TOOL get "$OUT/$CASE.json" "$1" 2>&1)
	if [ "$got" = "$2" ]; then
		ok "$CASE: $3"
		return 0
	fi
	not_ok "$CASE: $3"
	diag "  $1" "  got:  '$got'" "  want: '$2'"
	dump
	return 1
}
jok() { jis "$1" true "$2"; }
# vok FILE DESC - python3-dkim and Mail::DKIM both say the chain passes
vok() {
	local out
	if out=$($ARC verify --nameserver 127.0.0.1 --port "$UNBOUND_PORT" \
	    "$1" 2>&1); then
		ok "python3-dkim: $2"
	else
		not_ok "python3-dkim: $2"
		diag "$out"
	fi
	if out=$($PL verify 127.0.0.1 "$UNBOUND_PORT" <"$1" 2>&1); then
		ok "Mail::DKIM: $2"
	else
		not_ok "Mail::DKIM: $2"
		diag "$out"
	fi
}
# apply CASE SRC DST - $M/DST.eml: $M/SRC.eml with CASE's headers_added
apply() {
	$ARC apply "$OUT/$1.json" "$M/$2.eml" >"$M/$3.eml" ||
	    bail "arc_tool.py apply $1"
}
# py_seal SRC DST SRVID [FOOTER] - dkimpy's set (fwd-py.test) on top
py_seal() {
	$ARC seal --key "$KEYS/py.pem" --domain fwd-py.test --selector p1 \
	    --srvid "$3" "$M/$1.eml" >"$M/$2.eml" || bail "dkimpy seal $2"
}
# pl_seal SRC DST SRVID - Mail::DKIM's set (fwd-pl.test) on top
pl_seal() {
	$PL seal "$KEYS/pl.pem" fwd-pl.test m1 "$3" ar <"$M/$1.eml" \
	    >"$M/$2.eml" || bail "Mail::DKIM seal $2"
}
# forward SRC DST SRVID AR - what a list does: its A-R on top, a footer
forward() {
	$ARC prepend "Authentication-Results: $3; $4" "$M/$1.eml" \
	    >"$M/$2.pre.eml" || bail "prepend $2"
	$ARC footer "list footer $RUN" "$M/$2.pre.eml" >"$M/$2.eml" ||
	    bail "footer $2"
}
AR_PASS="spf=pass smtp.mailfrom=alice@origin.test; dkim=pass header.d=origin.test; dmarc=pass header.from=origin.test"

# --------------------------------------------------------------------------
# the messages

$TOOL msg --id "orig-$RUN" --from "Alice <alice@origin.test>" \
    --to "list@lists.test" >"$M/raw.eml" || bail "inb_tool.py msg"
$TOOL sign --key "$KEYS/o1.private" --domain origin.test --selector o1 \
    "$M/raw.eml" >"$M/orig.eml" || bail "inb_tool.py sign"

# a list at fwd-py.test (python3-dkim), one at fwd-pl.test (Mail::DKIM)
forward orig py1.in mx.fwd-py.test "$AR_PASS"
py_seal py1.in py1 mx.fwd-py.test
forward orig pl1.in mx.fwd-pl.test "$AR_PASS"
pl_seal pl1.in pl1 mx.fwd-pl.test
# two sets: Mail::DKIM then python3-dkim, and the other way round
$ARC prepend "Authentication-Results: mx.fwd-py.test; arc=pass; $AR_PASS" \
    "$M/pl1.eml" >"$M/plpy.in.eml"
py_seal plpy.in plpy2 mx.fwd-py.test
$ARC prepend "Authentication-Results: mx.fwd-pl.test; arc=pass; $AR_PASS" \
    "$M/py1.eml" >"$M/pypl.in.eml"
pl_seal pypl.in pypl2 mx.fwd-pl.test
# the forwarder saw no dmarc=pass, or one for another domain
forward orig nodmarc.in mx.fwd-py.test "spf=fail smtp.mailfrom=alice@origin.test; dmarc=fail header.from=origin.test"
py_seal nodmarc.in nodmarc mx.fwd-py.test
forward orig otherdom.in mx.fwd-py.test "dmarc=pass header.from=other.test"
py_seal otherdom.in otherdom mx.fwd-py.test
# a chain broken after its seal
sed 's/^list footer /list f00ter /' "$M/py1.eml" >"$M/py1bad.eml"

check 'grep -q "^ARC-Seal: i=1;" "$M/py1.eml" && grep -q "^ARC-Seal: i=1;" "$M/pl1.eml" && [ "$(grep -c "^ARC-Seal:" "$M/plpy2.eml")" = 2 ] && [ "$(grep -c "^ARC-Seal:" "$M/pypl2.eml")" = 2 ]' \
    "python3-dkim and Mail::DKIM made chains of one and two sets"
vok "$M/py1.eml" "its own i=1 chain passes (the keys are served)"
vok "$M/pypl2.eml" "the mixed two-set chain passes"

# --------------------------------------------------------------------------
# chains made by the others, checked by authmilter

chk none plain $GOOD alice@origin.test orig
jis 'j["arc"]["result"]' none "no ARC header: arc none"
jis 'arc("arc")["result"]' none "A-R: arc=none"
jis 'j["arc"]["sets"]' 0 "sets 0"
jis 'j["dmarc"]["result"]' pass "DMARC pass (SPF and DKIM of origin.test)"

for c in py1:fwd-py.test pl1:fwd-pl.test; do
	n=${c%%:*}
	s=${c#*:}
	chk "trusted-$n" plain $LIST bounce@lists.test "$n"
	jis 'j["arc"]["result"]' pass "a chain sealed by $s passes"
	jis 'j["arc"]["sets"]' 1 "one set"
	jis 'j["arc"]["oldest_pass"]' 1 "oldest_pass 1"
	jis 'j["arc"]["sealers"]' "[\"$s\"]" "sealers [$s]"
	jis 'j["arc"]["trusted"]' true "every sealer is trusted"
	jis 'arc("dkim")["result"]' fail "the footer broke origin.test's DKIM"
	jis 'j["dmarc"]["result"]' fail "DMARC stays fail"
	jis 'j["dmarc"]["policy"]' reject "policy reject"
	jis 'j["action"]' accept "accepted: a trusted forwarder vouches"
	jis 'j["dmarc"]["override"]' trusted_forwarder "override trusted_forwarder"
	jok "\"$s\" in j[\"dmarc\"][\"override_comment\"]" "override_comment names $s"
	jis 'arc("arc")["result"]' pass "A-R: arc=pass"
	jis 'arc("arc")["props"].get("header.oldest-pass")' 1 "A-R: header.oldest-pass=1"
	jis 'arc("arc")["props"].get("smtp.remote-ip")' $LIST "A-R: smtp.remote-ip=$LIST"
	jis 'arc("dmarc")["result"]' fail "A-R: dmarc=fail"
	jis 'arc("dmarc")["props"].get("policy.dmarc")' none \
	    "A-R: policy.dmarc=none (the disposition applied)"
	jok '"override trusted_forwarder: trusted ARC sealers" in j["authentication_results"].replace("\r\n\t", " ").replace("\r\n ", " ")' \
	    "A-R: the override and its reason in the dmarc comment"
	jis 'j["smtp_reply"]' "" "no SMTP reply"
done

chk plpy2 plain $LIST bounce@lists.test plpy2
jis 'j["arc"]["result"]' pass "Mail::DKIM i=1 + python3-dkim i=2: pass"
jis 'j["arc"]["sets"]' 2 "two sets"
jis 'j["arc"]["sealers"]' '["fwd-pl.test", "fwd-py.test"]' "sealers i=1 first"
jis 'j["arc"]["oldest_pass"]' 1 "nothing changed between the sets: oldest_pass 1"
jis 'j["action"]' accept "accepted (both sealers trusted)"
chk pypl2 plain $LIST bounce@lists.test pypl2
jis 'j["arc"]["result"]' pass "python3-dkim i=1 + Mail::DKIM i=2: pass"
jis 'j["arc"]["sealers"]' '["fwd-py.test", "fwd-pl.test"]' "sealers i=1 first"

chk untrusted untrusted $LIST bounce@lists.test py1
jis 'j["arc"]["result"]' pass "the chain passes"
jis 'j["arc"]["trusted"]' false "but its sealer is not trusted"
jis 'j["action"]' quarantine "quarantined, not refused: an intermediary vouched, though not one we trust (RFC 9989)"
jis 'j["dmarc"]["override"]' other "override other"
jok '"untrusted sealer" in j["dmarc"]["override_comment"]' "override_comment names the untrusted sealer"

chk strict strict $LIST bounce@lists.test py1
jis 'j["action"]' accept "DMARCEnforcement strict: trusted sealers still count (configured trust)"
jis 'j["dmarc"]["override"]' trusted_forwarder "override trusted_forwarder"

chk nodmarc plain $LIST bounce@lists.test nodmarc
jis 'j["arc"]["result"]' pass "a trusted chain whose AAR says dmarc=fail"
jis 'j["action"] + " " + j["dmarc"]["override"]' "quarantine other" \
    "not delivered: the forwarder saw no DMARC pass (held, as a passing chain is a sign of indirect flow)"
chk otherdom plain $LIST bounce@lists.test otherdom
jis 'j["action"] + " " + j["dmarc"]["override"]' "quarantine other" \
    "not delivered: the AAR's dmarc=pass is for another domain (held)"

chk broken plain $LIST bounce@lists.test py1bad
jis 'j["arc"]["result"]' fail "body changed after the seal: arc fail"
jok '"ARC-Message-Signature" in j["arc"]["reason"]' "reason names the AMS"
jis 'arc("arc")["result"]' fail "A-R: arc=fail"
jok '"(i=1: ARC-Message-Signature: body hash mismatch)" in j["authentication_results"].replace("\r\n\t", " ").replace("\r\n ", " ")' \
    "A-R: the reason as a comment"
jis 'j["action"]' reject "refused"

$TOOL shape "$OUT"/*.json >"$OUT/shape.out" 2>&1
check '[ ! -s "$OUT/shape.out" ]' "every JSON output has the documented shape (arc, headers_added, headers_removed)"
[ -s "$OUT/shape.out" ] && diag_file "$OUT/shape.out"

# --------------------------------------------------------------------------
# authmilter seals (check --json), verified by the others

chk seal1 seal $GOOD alice@origin.test orig
jis 'j["action"]' accept "DMARC pass: accepted"
jis '[h["name"] for h in j["headers_added"]]' \
    '["ARC-Seal", "ARC-Message-Signature", "ARC-Authentication-Results", "Authentication-Results"]' \
    "headers_added: the ARC set on top, then the A-R"
jis 'j["arc"]["sealed"]' 1 "sealed at i=1"
jok 'j["headers_added"][2]["value"].startswith("i=1; mx.test;")' \
    "the AAR is i=1 with our authserv-id"
jok '"(" not in j["headers_added"][2]["value"] and "(" in j["authentication_results"]' \
    "the AAR has no comment (the A-R has)"
jok '"cv=none" in j["headers_added"][0]["value"]' "cv=none"
apply seal1 orig sealed1
vok "$M/sealed1.eml" "authmilter's i=1 seal (check --json)"
# the control: the same seal over a changed body fails in both
sed 's/^the tests/the Tests/' "$M/sealed1.eml" >"$M/sealed1bad.eml"
check '! $ARC verify --nameserver 127.0.0.1 --port "$UNBOUND_PORT" "$M/sealed1bad.eml"' \
    "python3-dkim: the seal fails once the body changed (the check can fail)"
check '! $PL verify 127.0.0.1 "$UNBOUND_PORT" <"$M/sealed1bad.eml"' \
    "Mail::DKIM: the seal fails once the body changed (the check can fail)"

chk sealc sealc $GOOD alice@origin.test orig
jok '"(" in j["headers_added"][2]["value"]' "ARCAuthResComments yes: comments in the AAR"

chk seal-py2 seal $LIST bounce@lists.test py1
jis 'j["action"]' accept "python3-dkim's chain from a trusted forwarder: accepted"
jis 'j["arc"]["sealed"]' 2 "sealed at i=2"
jok '"cv=pass" in j["headers_added"][0]["value"]' "cv=pass"
apply seal-py2 py1 sealed-py2
vok "$M/sealed-py2.eml" "authmilter's i=2 seal on python3-dkim's i=1"

chk seal-pl2 seal $LIST bounce@lists.test pl1
jis 'j["arc"]["sealed"]' 2 "sealed at i=2"
apply seal-pl2 pl1 sealed-pl2
vok "$M/sealed-pl2.eml" "authmilter's i=2 seal on Mail::DKIM's i=1"

# DMARC passes here (SPF from origin.test's address): our AAR at i=2
# said dmarc=fail, so no forwarder would vouch at the next hop
chk seal-3 seal $GOOD alice@origin.test sealed-py2
jis 'j["arc"]["result"]' pass "our own i=2 chain passes"
jis 'j["arc"]["sealers"]' '["fwd-py.test", "arc.mx.test"]' "sealers"
jis 'j["arc"]["sealed"]' 3 "sealed at i=3"
apply seal-3 sealed-py2 sealed-3
vok "$M/sealed-3.eml" "authmilter's i=3 seal on its own i=2"
check '[ "$(grep -c "^ARC-Seal:" "$M/sealed-3.eml")" = 3 ]' "three sets"

# a broken chain on a message that DMARC passes (from origin.test's IP)
$ARC prepend "Authentication-Results: mx.fwd-py.test; $AR_PASS" "$M/orig.eml" \
    >"$M/fwdonly.in.eml"
py_seal fwdonly.in fwdonly mx.fwd-py.test
sed 's/^the tests/the Tests/' "$M/fwdonly.eml" >"$M/fwdbad.eml"
chk sealfail seal $GOOD alice@origin.test fwdbad
jis 'j["arc"]["result"]' fail "the chain broke: arc fail"
jis 'j["action"]' accept "DMARC pass (SPF): accepted"
jis 'j["arc"]["sealed"]' 2 "sealed at i=2 all the same"
jok '"cv=fail" in j["headers_added"][0]["value"]' "with cv=fail"
apply sealfail fwdbad sealed-fail
out=$($ARC verify --nameserver 127.0.0.1 --port "$UNBOUND_PORT" "$M/sealed-fail.eml" 2>&1)
case "$out" in
"None "*"2 True "*) ok "python3-dkim: the chain ended with cv=fail; the new AMS holds" ;;
*) not_ok "python3-dkim: the chain ended with cv=fail; the new AMS holds"; diag "$out" ;;
esac
check '$ARC sealonly --nameserver 127.0.0.1 --port "$UNBOUND_PORT" "$M/sealed-fail.eml"' \
    "python3-dkim: the cv=fail seal covers its own set only, and holds"
out=$($PL verify 127.0.0.1 "$UNBOUND_PORT" <"$M/sealed-fail.eml" 2>&1)
case "$out" in
fail*) ok "Mail::DKIM: the chain fails" ;;
*) not_ok "Mail::DKIM: the chain fails"; diag "$out" ;;
esac
chk afterfail seal $GOOD alice@origin.test sealed-fail
jis 'j["arc"]["result"]' fail "a chain that ended with cv=fail: arc fail"
jok '"cv=fail" in j["arc"]["reason"]' "reason: cv=fail"
jis 'j["arc"]["sealed"]' 0 "nothing sealed after cv=fail"
jis '[h["name"] for h in j["headers_added"]]' '["Authentication-Results"]' \
    "headers_added: the A-R only"

check '[ -z "$(grep -L "^0$" "$OUT"/*.rc)" ]' "every authmilter check exited 0"
check '! grep -l -E "AddressSanitizer|LeakSanitizer|runtime error:" "$OUT"/*.err' \
    "no sanitizer report from authmilter check"

# --------------------------------------------------------------------------
# the milter (tests/miltc): seals, and relayed mail

SOCK=$WORK/am.sock
printf '# trusted forwarders\nfwd-py.test\nfwd-pl.test\n' >"$WORK/sealers"
alloc_port MPORT || bail "no free port for MetricsListen"
conf milter "${TABLES[@]}" "ARCSealKey arc" "ARCSealMail all" \
    "TrustedARCSealers file:$WORK/sealers" \
    "Nameservers 127.0.0.1:$UNBOUND_PORT" "Socket unix:$SOCK" \
    "MetricsListen 127.0.0.1:$MPORT"
am_start m "$WORK/milter.conf" || bail "authmilter (milter) did not start"

# mm CASE IP MAILFROM MSG - the message through the milter; $M/CASE.eml
# is what the MTA would deliver
mm() {
	miltc_run "unix:$SOCK" -c "$2" -H mta.nohelo.test -f "$3" \
	    -r rcpt@remote.test "$M/$4.eml"
	cp "$MILTC_OUT" "$OUT/$1.miltc"
	miltc_apply "$MILTC_OUT" "$M/$4.eml" >"$M/$1.eml"
}
mm m-seal1 $GOOD alice@origin.test orig
is "$(miltc_verdict "$OUT/m-seal1.miltc")" ACCEPT "milter: accepted"
is "$(grep -oE '^INSHEADER [0-9]+ [A-Za-z-]+' "$OUT/m-seal1.miltc" | tr '\n' ' ')" \
    "INSHEADER 0 ARC-Seal INSHEADER 1 ARC-Message-Signature INSHEADER 2 ARC-Authentication-Results INSHEADER 3 Authentication-Results " \
    "milter: the set inserted top down, then the A-R"
vok "$M/m-seal1.eml" "authmilter's i=1 seal (milter)"
mm m-seal2 $LIST bounce@lists.test pl1
is "$(miltc_verdict "$OUT/m-seal2.miltc")" ACCEPT "milter: a trusted forwarder's message accepted"
vok "$M/m-seal2.eml" "authmilter's i=2 seal on Mail::DKIM's i=1 (milter)"

# relayed: our own A-R when it came in, then a list re-sends it from here
$ARC prepend "Authentication-Results: mx.test; spf=pass smtp.mailfrom=alice@origin.test; dkim=pass header.d=origin.test; arc=none; dmarc=pass header.from=origin.test" \
    "$M/orig.eml" >"$M/relay.pre.eml"
$ARC footer "relayed $RUN" "$M/relay.pre.eml" >"$M/relay.eml"
mm m-relay 127.0.0.1 list-bounce@lists.test relay
is "$(miltc_verdict "$OUT/m-relay.miltc")" ACCEPT "milter: relayed mail accepted"
check 'grep -q "^INSHEADER 0 ARC-Seal: *i=1;.*cv=none" "$OUT/m-relay.miltc"' \
    "relayed mail (not signed as origin.test) sealed at i=1, cv=none"
check 'grep -q "^INSHEADER 2 ARC-Authentication-Results: *i=1; mx.test;.*dmarc=pass header.from=origin.test" "$OUT/m-relay.miltc"' \
    "its AAR carries the results of our A-R"
vok "$M/m-relay.eml" "authmilter's seal of relayed mail (milter)"
$ARC footer "relayed $RUN" "$M/orig.eml" >"$M/relay-noar.eml"
mm m-relay-noar 127.0.0.1 list-bounce@lists.test relay-noar
check '! grep -q "INSHEADER.*ARC-" "$OUT/m-relay-noar.miltc"' \
    "relayed mail without an A-R of ours: no seal"
check 'grep -q "arc_not_sealed=(no Authentication-Results of ours" "$WORK/m.log"' \
    "... and the log says why"
check 'grep -q "arc=pass(i=1 fwd-pl.test)" "$WORK/m.log" && grep -q "arc_sealed=i=2" "$WORK/m.log"' \
    "the log line has the ARC result and the seal"
# the metrics: one chain of each result through the milter, and every
# set added counted by the cv= of its seal (m-seal1: none, sealed cv=none;
# m-seal2: pass, cv=pass; m-relay: relayed, not checked, cv=none; m-fail
# below: fail, cv=fail; m-relay-noar: neither)
mm m-fail $GOOD alice@origin.test fwdbad
is "$(miltc_verdict "$OUT/m-fail.miltc")" ACCEPT "milter: a broken chain under DMARC pass: accepted"
check 'grep -q "^INSHEADER 0 ARC-Seal: *i=2;.*cv=fail" "$OUT/m-fail.miltc"' \
    "... sealed at i=2 with cv=fail"
curl -s --max-time 10 -o "$OUT/metrics.txt" "http://127.0.0.1:$MPORT/metrics" ||
    not_ok "the metrics endpoint answers"
# mval SERIES - its value in the scrape
mval() { awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print "absent" }' "$OUT/metrics.txt"; }
for r in none:1 pass:1 fail:1; do
	is "$(mval "authmilter_arc_results_total{result=\"${r%:*}\"}")" "${r#*:}" \
	    "authmilter_arc_results_total{result=\"${r%:*}\"} is ${r#*:}"
done
for c in none:2 pass:1 fail:1; do
	is "$(mval "authmilter_arc_seals_total{cv=\"${c%:*}\"}")" "${c#*:}" \
	    "authmilter_arc_seals_total{cv=\"${c%:*}\"} is ${c#*:}"
done
check 'grep -q "^# HELP authmilter_arc_results_total " "$OUT/metrics.txt" && grep -q "^# TYPE authmilter_arc_seals_total counter" "$OUT/metrics.txt"' \
    "the ARC families have HELP and TYPE lines"

# TrustedARCSealers is configuration data: a reload reads the file again
echo "fwd-py.test" >"$WORK/sealers"
kill -HUP "$(am_pid m)"
wait_for 10 grep -q "configuration reloaded" "$WORK/m.log"
got=
for i in 1 2 3 4 5 6 7 8 9 10; do
	mm m-hup $LIST bounce@lists.test pl1
	got=$(grep -o '^QUARANTINE' "$OUT/m-hup.miltc")
	[ -n "$got" ] && break
	sleep 0.5
done
case "$got" in
QUARANTINE) ok "after SIGHUP without fwd-pl.test in the file: its chain no longer vouches (held, not delivered)" ;;
*) not_ok "after SIGHUP without fwd-pl.test in the file: its chain no longer vouches (held, not delivered)"
   diag "verdict: $(miltc_verdict "$OUT/m-hup.miltc")"; diag_file "$WORK/m.log" 5 ;;
esac
mm m-hup-py $LIST bounce@lists.test py1
is "$(miltc_verdict "$OUT/m-hup-py.miltc")" ACCEPT "... while fwd-py.test's still does"
am_stop m
is "$STOP_RC" 0 "authmilter exits 0 on SIGTERM"
check 'am_log_clean "$WORK/m.log"' "authmilter log has no crash or sanitizer report"
