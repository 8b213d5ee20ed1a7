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

. "$(dirname "$0")/lib.sh"
it_init explain
it_need_tools unbound unbound-checkconf dig
it_need_authmilter

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

rr() { unbound_data "$($TOOL rr "$1" "$2")"; }
unbound_new
unbound_zone test 30
rr ex.test "v=spf1 include:_spf.ex.test -all"
rr _spf.ex.test "v=spf1 ip4:$GOOD -all"
unbound_data "ex.test. 300 IN A 192.0.2.1"
rr s1._domainkey.ex.test "$($TOOL zonetxt "$KEYS/s1.rr")"
rr _dmarc.ex.test "v=DMARC1; p=reject"
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

run json $BAD broken --json
check '[ -s "$OUT/json.xerr" ] && grep -q "decided by RejectFailures" "$OUT/json.xerr"' \
    "--json --explain: the explanation goes to standard error"
check 'cmp -s "$OUT/json.x" "$OUT/json.plain"' "--json --explain: standard output is the JSON of check --json"
check '"$PY" -c "import json,sys; json.load(open(sys.argv[1]))" "$OUT/json.x"' "--json --explain: standard output parses as JSON"
