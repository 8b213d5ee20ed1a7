#!/bin/bash
# t_explain.sh - "authmilter check --explain": the account of the same
# evaluation, against a private unbound.
#
# One domain (ex.test) with SPF (an include), a DKIM key and DMARC
# p=reject; messages signed by an independent signer (python3-dkim,
# inb_tool.py). Checked: the explanation shows each DNS question with its
# answer and whether it was cached (a second lookup of a name in one
# evaluation is), the SPF walk (check_host, the record, the terms
# counted), each DKIM signature's key and why it failed (body hash), the
# DMARC discovery walk and the alignment comparisons, and the key behind
# the action (RejectFailures, QuarantineFailures under a list header);
# the result is the same with and without --explain (text and JSON), and
# with --json the explanation goes to standard error.
#
# ARC: a list at fwd.test (python3-dkim's dkim.arc_sign, arc_tool.py)
# records dmarc=pass, adds a footer (the DKIM signature breaks) and seals;
# from the list's address DMARC fails. Explained: each set (i=, d=, s=,
# cv=), the key's lookup, the ARC-Message-Signature's body and header
# hash, the ARC-Seal, the cv= rules, the chain result with oldest-pass,
# TrustedARCSealers matched (or not) and what that did to the disposition
# (RFC 9989: delivered, or quarantined), a broken chain's reason, and,
# with ARCSealKey, the set added (i=, cv=). The JSON is that of check
# --json without --explain.

. "$(dirname "$0")/lib.sh"
it_init explain
it_need_tools unbound unbound-checkconf dig openssl
it_need_authmilter
"$PY" -c 'import dkim, authres' 2>/dev/null ||
    bail "explain: $PY lacks python3-dkim or python3-authres (dkim.arc_sign)"

TOOL="$PY $IT_DIR/inb_tool.py"
GOOD=192.0.2.10
BAD=198.51.100.7
KEYS=$WORK/keys
M=$WORK/msgs
OUT=$WORK/out
mkdir -m 700 "$KEYS"
mkdir -p "$M" "$OUT"

"$AUTHMILTER" keygen --domain ex.test --selector s1 --directory "$KEYS" \
    >"$KEYS/s1.rr" 2>/dev/null || bail "authmilter keygen"
"$AUTHMILTER" keygen --domain arc.mx.test --selector a1 --algorithm rsa \
    --directory "$KEYS" >"$KEYS/a1.rr" 2>/dev/null || bail "authmilter keygen a1"
openssl genrsa -traditional -out "$KEYS/fwd.pem" 2048 >/dev/null 2>&1 ||
    openssl genrsa -out "$KEYS/fwd.pem" 2048 >/dev/null 2>&1 ||
    bail "openssl genrsa"

rr() { unbound_data "$($TOOL rr "$1" "$2")"; }
unbound_new
unbound_zone test 30
rr ex.test "v=spf1 include:_spf.ex.test -all"
rr _spf.ex.test "v=spf1 ip4:$GOOD -all"
unbound_data "ex.test. 300 IN A 192.0.2.1"
rr s1._domainkey.ex.test "$($TOOL zonetxt "$KEYS/s1.rr")"
rr _dmarc.ex.test "v=DMARC1; p=reject"
rr f1._domainkey.fwd.test "$($TOOL keytxt --key "$KEYS/fwd.pem")"
rr a1._domainkey.arc.mx.test "$($TOOL zonetxt "$KEYS/a1.rr")"
unbound_start || bail "unbound could not start"

CONF=$WORK/a.conf
printf 'AuthservID mx.test\nDNSTimeout 2\nDNSRetries 1\nSyslog no\n' >"$CONF"

$TOOL msg --id "x-$$" --from "a@ex.test" >"$M/base.eml" || bail "inb_tool msg"
$TOOL sign --key "$KEYS/s1.private" --alg rsa --domain ex.test --selector s1 \
    "$M/base.eml" >"$M/signed.eml" || bail "inb_tool sign"
cp "$M/signed.eml" "$M/broken.eml"
sed -i 's/this is the test message/this is THE test message/' "$M/broken.eml"
check '! cmp -s "$M/signed.eml" "$M/broken.eml"' "the broken message differs from the signed one"
$TOOL msg --id "l-$$" --from "a@ex.test" >"$M/list0.eml"
sed -i '1i List-Id: <list.ex.test>' "$M/list0.eml"

# run NAME IP MSG [ARGS] - check with and without --explain
run() {
	local n=$1 ip=$2 msg=$3
	shift 3
	local args=(check -c "$CONF" --nameserver "127.0.0.1:$UNBOUND_PORT"
	    --client-ip "$ip" --helo mta.nohelo.test --mail-from a@ex.test "$@")
	"$AUTHMILTER" "${args[@]}" --explain "$M/$msg.eml" >"$OUT/$n.x" 2>"$OUT/$n.xerr"
	echo $? >"$OUT/$n.xrc"
	"$AUTHMILTER" "${args[@]}" "$M/$msg.eml" >"$OUT/$n.plain" 2>&1
}
# has NAME REGEX DESC - the explanation of NAME has a line matching REGEX
has() {
	if grep -qE -- "$2" "$OUT/$1.x"; then ok "$1: $3"; else
		not_ok "$1: $3"; diag "  no line matches: $2"
		diag "$(head -n 60 "$OUT/$1.x" | cut -c1-250)"; fi
}

run pass $GOOD signed
is "$(cat "$OUT/pass.xrc")" 0 "pass: --explain exits 0"
has pass '^ +[0-9]+\.[0-9]{3} ms  message +.*from client 192\.0\.2\.10' "a first line says what is checked, stamped in ms"
has pass 'dns +TXT ex\.test -> ok: "v=spf1 include:_spf\.ex\.test -all" \((queried|joined a query already out|cached), [0-9]+\.[0-9]{3} ms\)' \
    "the SPF record's question and answer, how it came and how long it took"
has pass 'spf +check_host\(192\.0\.2\.10, ex\.test, a@ex\.test\)' "the SPF check_host call"
has pass 'spf +DNS-querying term 1 \(limit 10\)' "the SPF terms, counted"
has pass 'spf +record of _spf\.ex\.test: v=spf1 ip4:192\.0\.2\.10 -all' "the include's record in the walk"
has pass 'spf +ex\.test: pass' "the SPF result"
has pass 'dns +TXT s1\._domainkey\.ex\.test -> ok: "v=DKIM1; k=rsa; p=' "the DKIM key's question and answer"
has pass 'dkim +signature 1: d=ex\.test s=s1 a=rsa-sha256 .*key s1\._domainkey\.ex\.test \(2048 bits\); header hash: signature verifies; body hash: matches bh=; pass$' "the signature, its key, both hashes and its result"
has pass 'dmarc +policy discovery for ex\.test \(RFC 9989 tree walk\)' "the DMARC discovery"
has pass 'dmarc +_dmarc\.ex\.test: one record' "the discovery walk's record"
has pass 'dmarc +ex\.test against ex\.test \((strict: )?equal\): aligned' "an alignment comparison"
has pass 'dmarc +ex\.test: pass, policy reject from _dmarc\.ex\.test' "the DMARC result"
has pass 'decision +decided by no configuration key' "no key decided a pass"
has pass 'dns +TXT _dmarc\.ex\.test -> ok: .*\(cached, ' "a name asked twice in one evaluation: the cache answers"
tail -n 1 "$OUT/pass.x" >"$OUT/pass.xlast"
check 'grep -qx "action: accept" "$OUT/pass.xlast"' "the result follows the explanation"
check 'diff <(grep -v "^ *[0-9.]* ms  " "$OUT/pass.x") "$OUT/pass.plain"' \
    "without its explanation, the output is that of check without --explain"

run fail $BAD broken
has fail 'spf +ex\.test: fail' "SPF fail from $BAD"
has fail 'dkim +signature 1: .*; body hash: mismatch; fail: ' "the signature failed, and why: the body hash does not match"
has fail 'dmarc +ex\.test: fail, policy reject' "DMARC fail"
has fail 'decision +DMARC fail, policy reject, disposition reject, applied reject: action reject 550 5\.7\.1' "the decision"
has fail 'decision +decided by RejectFailures' "the key behind the action: RejectFailures"
check 'diff <(grep -v "^ *[0-9.]* ms  " "$OUT/fail.x") "$OUT/fail.plain"' \
    "fail: the same result with --explain"

run list $BAD list0
has list 'decision +.*override mailing_list: action quarantine' "a list message under p=reject: quarantine"
has list 'decision +decided by DMARCEnforcement, then QuarantineFailures' "the keys behind it"

printf 'AuthservID mx.test\nDNSTimeout 2\nDNSRetries 1\nSyslog no\nTrustedForwarders %s/32\n' \
    "$BAD" >"$WORK/fwd.conf"
CONF=$WORK/fwd.conf
run fwd $BAD broken
has fwd 'decision +DMARC fail, policy reject, disposition reject, applied none, override trusted_forwarder: action accept' \
    "a trusted forwarder's failure: delivered"
has fwd 'decision +decided by TrustedForwarders$' "the key behind it: TrustedForwarders"
CONF=$WORK/a.conf

run json $BAD broken --json
check '[ -s "$OUT/json.xerr" ] && grep -q "decided by RejectFailures" "$OUT/json.xerr"' \
    "--json --explain: the explanation goes to standard error"
check 'cmp -s "$OUT/json.x" "$OUT/json.plain"' "--json --explain: standard output is the JSON of check --json"
check '"$PY" -c "import json,sys; json.load(open(sys.argv[1]))" "$OUT/json.x"' "--json --explain: standard output parses as JSON"

# --------------------------------------------------------------------------
# ARC

ARC="$PY $IT_DIR/arc_tool.py"
LIST=198.51.100.20
$ARC prepend "Authentication-Results: mx.fwd.test; spf=pass smtp.mailfrom=a@ex.test; dkim=pass header.d=ex.test; dmarc=pass header.from=ex.test" \
    "$M/signed.eml" >"$M/fwd.in.eml" || bail "arc_tool.py prepend"
$ARC footer "list footer $$" "$M/fwd.in.eml" >"$M/fwd.foot.eml" || bail "arc_tool.py footer"
$ARC seal --key "$KEYS/fwd.pem" --domain fwd.test --selector f1 \
    --srvid mx.fwd.test "$M/fwd.foot.eml" >"$M/arc1.eml" || bail "arc_tool.py seal"
sed 's/^list footer /list f00ter /' "$M/arc1.eml" >"$M/arcbad.eml"
check '! cmp -s "$M/arc1.eml" "$M/arcbad.eml"' "the broken chain's message differs"

echo "arc  arc.mx.test:a1:$KEYS/a1.private" >"$WORK/KeyTable"
echo "*@arc.mx.test  arc" >"$WORK/SigningTable"
BASE=$(cat "$CONF")
CONF_PLAIN=$CONF
printf '%s\nTrustedARCSealers fwd.test\n' "$BASE" >"$WORK/trusted.conf"
printf '%s\nKeyTable %s\nSigningTable refile:%s\nARCSealKey arc\nTrustedARCSealers fwd.test\n' \
    "$BASE" "$WORK/KeyTable" "$WORK/SigningTable" >"$WORK/seal.conf"
for c in trusted seal; do
	check '"$AUTHMILTER" configtest -c "$WORK/$c.conf" >/dev/null' "configtest accepts $c.conf"
done

CONF=$WORK/trusted.conf
run arc $LIST arc1
has arc 'arc +3 ARC header field\(s\), highest instance i=1' "the ARC fields found, the highest instance"
has arc 'arc +set i=1: ARC-Seal d=fwd\.test s=f1 cv=none; ARC-Message-Signature d=fwd\.test s=f1; ARC-Authentication-Results present' \
    "the set: instance, sealing domain, selector, cv="
has arc 'arc +cv= rules: i=1 cv=none, every set complete, no ARC-Seal with h=: ok' "the cv= rules applied"
has arc 'dns +TXT f1\._domainkey\.fwd\.test -> ok: "v=DKIM1; k=rsa; p=' "the sealer's key: question and answer"
has arc 'arc +key f1\._domainkey\.fwd\.test: rsa, 2048 bits' "the sealer's key, as parsed"
has arc 'arc +i=1 ARC-Message-Signature: body hash matches bh= \((relaxed|simple)\); header hash: signature verifies' \
    "the AMS: body hash and header hash"
has arc 'arc +i=1 ARC-Seal over sets 1\.\.1: signature verifies' "the AS"
has arc 'arc +i=1 ARC-Authentication-Results: dmarc=pass for ex\.test' "the newest AAR's dmarc=pass"
has arc 'arc +chain: pass, 1 set\(s\), oldest-pass 1' "the chain result with oldest-pass"
has arc 'arc +TrustedARCSealers: fwd\.test \(trusted\): the chain passes and every sealer is trusted' \
    "TrustedARCSealers matched"
has arc 'dkim +signature 1: d=ex\.test .*; fail: ' "the list's changes broke the DKIM signature"
has arc 'dmarc +ex\.test: fail, policy reject' "DMARC fails from the list's address"
has arc 'arc +TrustedARCSealers vouch \(RFC 9989 indirect flow\): i=1 says dmarc=pass for ex\.test: disposition reject -> none, override trusted_forwarder' \
    "the override changed the DMARC disposition"
has arc 'decision +DMARC fail, policy reject, disposition reject, applied none, override trusted_forwarder: action accept' "the decision"
has arc 'decision +decided by TrustedARCSealers' "the key behind it: TrustedARCSealers"
check 'diff <(grep -v "^ *[0-9.]* ms  " "$OUT/arc.x") "$OUT/arc.plain"' \
    "arc: the same result with --explain"

CONF=$CONF_PLAIN
run arcuntrusted $LIST arc1
has arcuntrusted 'arc +chain: pass, 1 set\(s\), oldest-pass 1' "untrusted: the chain passes"
has arcuntrusted 'arc +TrustedARCSealers: fwd\.test \(not trusted\): no match' "untrusted: TrustedARCSealers did not match"
has arcuntrusted 'arc +TrustedARCSealers do not vouch: disposition reject unchanged by them' "untrusted: the disposition is not theirs to change"
has arcuntrusted 'decision +.*override other: action quarantine' "untrusted: quarantined (an untrusted intermediary vouched)"
has arcuntrusted 'decision +decided by DMARCEnforcement, then QuarantineFailures' "untrusted: the keys behind it"

CONF=$WORK/trusted.conf
run arcbad $LIST arcbad
has arcbad 'arc +i=1 ARC-Message-Signature: body hash mismatch \((relaxed|simple)\); fail: body hash mismatch' \
    "broken: the AMS body hash does not match"
has arcbad 'arc +chain: fail: i=1: ARC-Message-Signature: body hash mismatch' "broken: the chain result and its reason"
has arcbad 'arc +TrustedARCSealers: fwd\.test \(trusted\): no match \(the chain does not pass\)' \
    "broken: a trusted sealer, but no match"
has arcbad 'decision +decided by RejectFailures' "broken: refused per RejectFailures"

CONF=$WORK/seal.conf
run arcseal $LIST arc1
has arcseal 'arc +ARCSealKey: sealed: a new set i=2 cv=pass, d=arc\.mx\.test s=a1' "sealing: the set added, i= and cv="
printf '%s\nARCSealMail relayed\n' "$(cat "$WORK/seal.conf")" >"$WORK/relayed.conf"
CONF=$WORK/relayed.conf
run arcrelayed $LIST arc1
has arcrelayed 'arc +ARCSealKey: not sealed: ARCSealMail does not cover inbound mail' "ARCSealMail relayed: why inbound mail is not sealed"
CONF=$CONF_PLAIN
run noarc $GOOD signed
has noarc 'arc +no ARC header field: arc=none' "no ARC header: arc=none"

CONF=$WORK/seal.conf
run arcjson $LIST arc1 --json
check 'cmp -s "$OUT/arcjson.x" "$OUT/arcjson.plain"' "arc --json --explain: standard output is the JSON of check --json"
check 'grep -q "ARCSealKey: sealed" "$OUT/arcjson.xerr"' "arc --json --explain: the ARC steps on standard error"
