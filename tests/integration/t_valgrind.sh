#!/usr/bin/env bash
# t_valgrind.sh - the milter under valgrind: a run of messages of every kind
# (dual-signed, inbound, authenticated, malformed, several per connection,
# a reload in between) leaves no leak and no memory error.
. "$(dirname "$0")/lib.sh"
it_init valgrind
it_need_authmilter
it_need_miltc
command -v valgrind >/dev/null 2>&1 || bail "valgrind: not installed"

keys=$WORK/keys
mkdir -p "$keys" && chmod 700 "$keys"
"$AUTHMILTER" keygen --domain example.test --selector rsa --algorithm rsa \
    --directory "$keys" >/dev/null 2>&1 || bail "valgrind: keygen rsa failed"
"$AUTHMILTER" keygen --domain example.test --selector ed --algorithm ed25519 \
    --directory "$keys" >/dev/null 2>&1 || bail "valgrind: keygen ed25519 failed"
printf 'rsa example.test:rsa:%s/rsa.private\ned example.test:ed:%s/ed.private\n' \
    "$keys" "$keys" > "$WORK/KeyTable"
printf '*@example.test rsa\n*@example.test ed\n' > "$WORK/SigningTable"
# inbound messages are checked (SPF, DKIM, DMARC) against a private unbound
unbound_zone example.test
unbound_data 'example.test. 300 IN TXT "v=spf1 ip4:192.0.2.1 -all"' \
    '_dmarc.example.test. 300 IN TXT "v=DMARC1; p=reject"' \
    "rsa._domainkey.example.test. 300 IN TXT $(grep -o '"[^"]*"' "$keys/rsa.txt" | tr '\n' ' ')" \
    "ed._domainkey.example.test. 300 IN TXT $(grep -o '"[^"]*"' "$keys/ed.txt" | tr '\n' ' ')"
unbound_start || bail "valgrind: unbound could not start"
sock=$WORK/am.sock
alloc_port MPORT || bail "valgrind: no free port"
alloc_port MPORT2 || bail "valgrind: no free port"
alloc_port DEAD_PORT || bail "valgrind: no free port"
cat > "$WORK/am.conf" <<CONF
Socket unix:$sock
Syslog no
KeyTable $WORK/KeyTable
SigningTable refile:$WORK/SigningTable
MultipleSignatures yes
InternalHosts 127.0.0.1
MaximumHeaders 50
Nameservers 127.0.0.1:$UNBOUND_PORT
DNSTimeout 2
DNSBudget 4
MetricsListen 127.0.0.1:$MPORT
CONF

m=$WORK/msgs
mkdir -p "$m"
printf 'From: A <a@example.test>\nTo: b@remote.test\nSubject: hi\nDate: Sun, 22 Nov 2026 10:00:00 +0000\n\nbody\n' > "$m/good.eml"
printf 'To: b@remote.test\nSubject: no from\n\nbody\n' > "$m/nofrom.eml"
printf 'From: a@example.test\nFrom: c@example.test\nSubject: two\n\nbody\n' > "$m/twofrom.eml"
printf 'From: a@example.test, c@example.test\nSubject: list\n\nbody\n' > "$m/list.eml"
printf 'From: a@other.test\nSubject: no key\n\nbody\n' > "$m/nokey.eml"
{ printf 'From: a@example.test\n'; for i in $(seq 1 80); do printf 'X-H%d: %d\n' "$i" "$i"; done; printf '\nbody\n'; } > "$m/many.eml"
{ printf 'From: a@example.test\nSubject: nul\n\n'; printf 'a\0b\nbare\rcr\n'; } > "$m/nul.eml"

vlog=$WORK/valgrind.log
valgrind --num-callers=40 --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
    --log-file="$vlog" "$AUTHMILTER" -f -c "$WORK/am.conf" > "$WORK/am.log" 2>&1 &
vpid=$!
it_register "$vpid" valgrind-authmilter
wait_socket "$sock" 60 "$vpid" || { diag_file "$WORK/am.log"; diag_file "$vlog"; bail "valgrind: authmilter did not start"; }

send() { "$MILTC" -s "unix:$sock" -t 60 "$@" > "$WORK/miltc.out" 2>&1; }
check "send -c 127.0.0.1 $m/good.eml $m/good.eml $m/nokey.eml && grep -c 'INSHEADER 0 DKIM-Signature' $WORK/miltc.out | grep -qx 4" \
    "three messages on one connection: two dual-signed, one without key"
check "send -c 192.0.2.1 $m/good.eml && ! grep -q DKIM-Signature $WORK/miltc.out" "inbound message passes unsigned"
# inbound: checked against the private unbound (SPF, DKIM, DMARC, A-R)
"$AUTHMILTER" sign -c "$WORK/am.conf" "$m/good.eml" > "$m/signed.eml" 2>/dev/null
check "send -c 192.0.2.1 -f a@example.test $m/signed.eml && grep -q '^ACCEPT' $WORK/miltc.out && grep -q 'Authentication-Results:.*dkim=pass' $WORK/miltc.out" \
    "inbound signed message: checked, DKIM pass, accepted"
check "send -c 192.0.2.2 -f a@example.test $m/good.eml && grep -q 'REPLYCODE 550 5.7.1' $WORK/miltc.out" \
    "inbound DMARC p=reject failure: rejected"
# a signature whose h= names one more field after every field of the
# message is used: libopendkim 2.11 wrote past its array then (see
# dkimv_eoh); valgrind sees such a write as an error
printf 'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.test; s=rsa;\n h=from:subject:dkim-signature:to; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\n b=dGVzdCBzaWduYXR1cmU=\nFrom: a@example.test\nSubject: all fields signed, and one more\n\nbody\n' > "$m/oversigned.eml"
check "send -c 192.0.2.1 -f a@example.test $m/oversigned.eml && grep -q 'Authentication-Results:.*dkim=fail' $WORK/miltc.out" \
    "inbound: h= naming a field after all are used is verified (fail), no overflow"
check "send -c 192.0.2.2 -f a@example.test $m/twofrom.eml $m/nofrom.eml && grep -c 'REPLYCODE 550 5.7.1' $WORK/miltc.out | grep -qx 2" \
    "inbound messages without a usable From: rejected"
check "send -c 192.0.2.1 -a user $m/good.eml && grep -q DKIM-Signature $WORK/miltc.out" "authenticated message is signed"
for f in nofrom twofrom list many; do
	check "send $m/$f.eml && grep -q '^ACCEPT' $WORK/miltc.out && ! grep -q DKIM-Signature $WORK/miltc.out" \
	    "malformed ($f) accepted unsigned"
done
check "send --raw $m/nul.eml && grep -q DKIM-Signature $WORK/miltc.out" "raw body with NUL and bare CR is signed"
scrape() { curl -s --max-time 20 "http://127.0.0.1:$1/metrics" > "$WORK/scrape.out"; }
check "scrape $MPORT && grep -q '^authmilter_messages_total{direction=\"inbound\",action=\"reject\"} [1-9]' $WORK/scrape.out" \
    "metrics served under valgrind"
kill -HUP "$vpid"
sleep 2
check "send $m/good.eml $m/good.eml && grep -c DKIM-Signature $WORK/miltc.out | grep -qx 4" "after a reload: still signing"
# a reload that moves the endpoint and changes the name servers
sed -i -e "s/^MetricsListen .*/MetricsListen 127.0.0.1:$MPORT2/" \
    -e "s/^Nameservers .*/Nameservers 127.0.0.1:$UNBOUND_PORT, 127.0.0.1:$DEAD_PORT/" "$WORK/am.conf"
kill -HUP "$vpid"
check "wait_for 20 sh -c 'curl -s --max-time 5 http://127.0.0.1:$MPORT2/metrics >/dev/null'" \
    "after a reload: the endpoint moved"
check "send -c 192.0.2.1 -f a@example.test $m/signed.eml && grep -q 'Authentication-Results:.*dkim=pass' $WORK/miltc.out" \
    "after new Nameservers: inbound still checked"
check "scrape $MPORT2 && grep -q '^authmilter_dns_cache_flushes_total 1' $WORK/scrape.out" \
    "the new servers emptied the cache once"

stop_pid "$vpid" 60
rc=$STOP_RC
is "$rc" 0 "authmilter under valgrind exits 0 on SIGTERM (99 = valgrind found errors)"
check "grep -Eq 'ERROR SUMMARY: 0 errors' $vlog" "valgrind: no memory errors"
check "grep -Eq 'definitely lost: 0 bytes|no leaks are possible' $vlog && ! grep -Eq 'indirectly lost: [1-9]' $vlog" "valgrind: no leak"
[ "$rc" = 0 ] || diag_file "$vlog" 40
exit 0
