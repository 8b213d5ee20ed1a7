#!/usr/bin/env bash
# t_dns.sh - the DNS service (filter/dns.c) against a real resolver: a
# private unbound on loopback, driven through tests/dnsq. Record types and
# their text, CNAME chains, NXDOMAIN/NODATA and their negative TTLs, the
# cache (hits, TTL expiry, SERVFAIL not kept), timeouts (c-ares' own and a
# caller's deadline), one query for many threads, names refused before any
# query, TCP fallback and the record limit, and a run under valgrind.
. "$(dirname "$0")/lib.sh"
type unbound_new >/dev/null 2>&1 || . "$IT_DIR/lib_dns.sh"
it_init dns

DNSQ=${DNSQ:-$BUILD_DIR/tests/dnsq}
[ -x "$DNSQ" ] || bail "dns: dnsq not found at $DNSQ"
command -v unbound >/dev/null 2>&1 || bail "dns: unbound is not installed"
command -v dig >/dev/null 2>&1 || bail "dns: dig is not installed"

Z=dns.authmilter.test

# ---------------------------------------------------------------- data
unbound_new
unbound_zone "$Z" 2
unbound_data \
    "txt.$Z. 300 IN TXT \"v=spf1 \" \"ip4:192.0.2.1 \" \"-all\"" \
    "two.$Z. 300 IN TXT \"first\"" \
    "two.$Z. 300 IN TXT \"second\"" \
    "esc.$Z. 300 IN TXT \"tab\\009quote\\\"bs\\\\end\\255\"" \
    "a.$Z. 300 IN A 192.0.2.10" \
    "a.$Z. 300 IN A 192.0.2.11" \
    "aaaa.$Z. 300 IN AAAA 2001:db8::10" \
    "mx.$Z. 300 IN MX 10 mx1.$Z." \
    "mx.$Z. 300 IN MX 20 MX2.Dns.Authmilter.Test." \
    "short.$Z. 2 IN TXT \"short-lived\"" \
    "zero.$Z. 0 IN TXT \"not kept\"" \
    "mixed.$Z. 300 IN TXT \"long\"" \
    "mixed.$Z. 5 IN TXT \"brief\""
for i in $(seq 1 70); do
	unbound_data "many.$Z. 300 IN TXT \"record number $i of a set too large for one UDP reply\""
done
unbound_zone 2.0.192.in-addr.arpa
unbound_data "10.2.0.192.in-addr.arpa. 300 IN PTR a.$Z."
unbound_auth cname.authmilter.test \
    'alias IN CNAME alias2' \
    'alias2 IN CNAME target' \
    'target IN TXT "v=DKIM1; k=ed25519; " "p=abc"' \
    'target IN A 192.0.2.20' \
    'dangling IN CNAME nowhere'
unbound_deny deny.authmilter.test
unbound_servfail broken.authmilter.test
unbound_start || bail "dns: unbound did not start"
diag "unbound on 127.0.0.1:$UNBOUND_PORT"

# dq ARGS... - dnsq against our unbound
dq() {
	"$DNSQ" --server "127.0.0.1:$UNBOUND_PORT" "$@"
}

# stat OUT KEY - a counter of dnsq's "stats" line
stat() {
	printf '%s\n' "$1" | sed -n "s/^stats .*$2=\([0-9]*\).*/\1/p"
}

# rest LINE - a dnsq answer line without its NAME and TYPE
rest() {
	printf '%s\n' "$1" | cut -d' ' -f3-
}

# ms LINE - the ms= field of a dnsq --time line
ms() {
	printf '%s\n' "$1" | sed -n 's/.* ms=\([0-9]*\).*/\1/p'
}

# ---------------------------------------------------------------- records
out=$(dq "txt.$Z" TXT)
is "$(rest "$out" | sed 's/wire=[1-9][0-9]*/wire=N/')" \
    'ok ttl=300 wire=N "v=spf1 ip4:192.0.2.1 -all"' \
    "TXT: the character-strings of a record are joined (raw reply kept)"

out=$(dq "two.$Z" TXT)
case "$out" in
*' "first"'*' "second"'* | *' "second"'*' "first"'*)
	ok "TXT: two records are two records" ;;
*)	not_ok "TXT: two records are two records"; diag "$out" ;;
esac

out=$(dq "esc.$Z" TXT)
is "$(rest "$out" | sed 's/wire=[0-9]*/wire=N/')" \
    'ok ttl=300 wire=N "tab\009quote\"bs\\end\255"' \
    "TXT: tab, quote, backslash and 8-bit bytes come through intact"

out=$(dq "a.$Z" A)
case "$(rest "$out")" in
'ok ttl=300 '*' 192.0.2.10 192.0.2.11' | 'ok ttl=300 '*' 192.0.2.11 192.0.2.10')
	ok "A: both addresses" ;;
*)	not_ok "A: both addresses"; diag "$out" ;;
esac

out=$(dq "aaaa.$Z" AAAA)
is "$(rest "$out" | sed 's/wire=[0-9]* //')" 'ok ttl=300 2001:db8::10' "AAAA"

out=$(dq "mx.$Z" MX)
case "$out" in
*" 10:mx1.$Z"*)	ok "MX: preference and exchange" ;;
*)		not_ok "MX: preference and exchange"; diag "$out" ;;
esac
case "$out" in
*" 20:mx2.$Z"*)	ok "MX: the exchange is lower-cased" ;;
*)		not_ok "MX: the exchange is lower-cased"; diag "$out" ;;
esac

out=$(dq 10.2.0.192.in-addr.arpa PTR)
is "$(rest "$out" | sed 's/wire=[0-9]* //')" "ok ttl=300 a.$Z" \
    "PTR in a reverse zone that is one of unbound's defaults"

out=$(dq "mixed.$Z" TXT)
is "$(printf '%s\n' "$out" | cut -d' ' -f3-4)" "ok ttl=5" \
    "the TTL of an answer is the smallest of its records"

# ---------------------------------------------------------------- CNAME
out=$(dq alias.cname.authmilter.test TXT)
is "$(rest "$out" | sed 's/wire=[0-9]* //')" \
    'ok ttl=300 "v=DKIM1; k=ed25519; p=abc"' "CNAME chain followed (TXT)"
out=$(dq Alias.CNAME.authmilter.test A)
is "$(rest "$out" | sed 's/wire=[0-9]* //')" 'ok ttl=300 192.0.2.20' \
    "CNAME chain followed (A)"
out=$(dq alias.cname.authmilter.test MX)
is "$(printf '%s\n' "$out" | cut -d' ' -f3)" nodata \
    "CNAME chain to a name without that type: NODATA"
out=$(dq dangling.cname.authmilter.test TXT)
is "$(printf '%s\n' "$out" | cut -d' ' -f3)" nxdomain \
    "CNAME to a name that does not exist: NXDOMAIN"

# ---------------------------------------------------------------- negative
out=$(dq --stats "nx.$Z" TXT "nx.$Z" TXT)
first=$(printf '%s\n' "$out" | sed -n 1p)
case "$(rest "$first")" in
"nxdomain ttl=2 wire="[1-9]*) ok "NXDOMAIN, its TTL from the SOA, the reply kept" ;;
*) not_ok "NXDOMAIN, its TTL from the SOA, the reply kept"; diag "$out" ;;
esac
is "$(stat "$out" queries)/$(stat "$out" hits)" 1/1 \
    "NXDOMAIN is cached: the second lookup is a hit"

out=$(dq --stats "a.$Z" TXT "a.$Z" TXT)
is "$(printf '%s\n' "$out" | sed -n 1p | cut -d' ' -f3-4)" "nodata ttl=2" \
    "NODATA, its TTL from the SOA"
is "$(stat "$out" queries)/$(stat "$out" hits)" 1/1 \
    "NODATA is cached: the second lookup is a hit"

out=$(dq --stats --repeat 2 --sleep-ms 2600 "nx.$Z" TXT)
is "$(stat "$out" queries)/$(stat "$out" hits)" 2/0 \
    "a negative answer expires with its TTL (2 s)"

# ---------------------------------------------------------------- TTL
out=$(dq --stats --repeat 2 --sleep-ms 1200 "txt.$Z" TXT)
is "$(stat "$out" queries)/$(stat "$out" hits)" 1/1 \
    "within its TTL an answer comes from the cache"

out=$(dq --stats --repeat 3 --sleep-ms 700 "short.$Z" TXT)
is "$(stat "$out" queries)/$(stat "$out" hits)" 1/2 \
    "a 2 s answer is a hit 0.7 s and 1.4 s later"
out=$(dq --stats --repeat 2 --sleep-ms 2600 "short.$Z" TXT)
is "$(stat "$out" queries)/$(stat "$out" hits)" 2/0 \
    "a 2 s answer is asked for again after 2.6 s"

out=$(dq --stats zero.$Z TXT zero.$Z TXT)
is "$(stat "$out" queries)/$(stat "$out" hits)" 2/0 \
    "an answer with TTL 0 is not kept"

out=$(dq --stats "TXT.Dns.Authmilter.TEST." TXT "txt.$Z" TXT)
is "$(stat "$out" queries)/$(stat "$out" hits)" 1/1 \
    "names are case-insensitive and a final dot is ignored"

out=$(dq --stats "txt.$Z" TXT "txt.$Z" SPF)
is "$(stat "$out" queries)" 2 "the type is part of the cache key"

# ---------------------------------------------------------------- failures
out=$(dq --time --timeout-ms 1000 --tries 2 "x.deny.authmilter.test" A)
t=$(ms "$out")
is "$(printf '%s\n' "$out" | cut -d' ' -f3)" timeout \
    "a dropped query times out"
if [ -n "$t" ] && [ "$t" -ge 800 ] && [ "$t" -le 1600 ]; then
	ok "it times out after the configured 1000 ms, all tries together (${t} ms)"
else
	not_ok "it times out after the configured 1000 ms, all tries together"
	diag "$out"
fi

out=$(dq --time --timeout-ms 5000 --deadline-ms 300 --stats \
    "y.deny.authmilter.test" A)
t=$(ms "$out")
if [ "$(printf '%s\n' "$out" | sed -n 1p | cut -d' ' -f3)" = timeout ] &&
    [ -n "$t" ] && [ "$t" -ge 250 ] && [ "$t" -le 1000 ]; then
	ok "a caller's own deadline ends its wait early (${t} ms)"
else
	not_ok "a caller's own deadline ends its wait early"
	diag "$out"
fi

out=$(dq --time --timeout-ms 3000 --stats "x.broken.authmilter.test" A \
    "x.broken.authmilter.test" A)
first=$(printf '%s\n' "$out" | sed -n 1p)
t=$(ms "$first")
is "$(printf '%s\n' "$first" | cut -d' ' -f3)" servfail "SERVFAIL comes back as servfail"
if [ -n "$t" ] && [ "$t" -lt 1500 ]; then
	ok "SERVFAIL comes back at once, not after the timeout (${t} ms)"
else
	not_ok "SERVFAIL comes back at once, not after the timeout"
	diag "$out"
fi
is "$(stat "$out" queries)/$(stat "$out" hits)" 2/0 \
    "SERVFAIL is not kept: the next lookup asks again"

out=$(dq "nothing.example" A)
is "$(printf '%s\n' "$out" | cut -d' ' -f3)" servfail "REFUSED is a servfail"

# ---------------------------------------------------------------- sharing
out=$(dq --stats --threads 8 "a.$Z" A)
n=$(printf '%s\n' "$out" | grep -c " ok ttl=300 ")
is "$n" 8 "8 threads get the answer"
is "$(stat "$out" queries)/$(( $(stat "$out" hits) + $(stat "$out" joined) ))" 1/7 \
    "8 threads asking at once make one query (the rest join it or hit)"

out=$(dq --stats --threads 8 --timeout-ms 600 "z.deny.authmilter.test" TXT)
is "$(printf '%s\n' "$out" | grep -c " timeout ")" 8 \
    "8 threads waiting for a query that times out all get timeout"
is "$(stat "$out" queries)/$(stat "$out" joined)" 1/7 \
    "... and they waited on one query (7 joined)"

out=$(dq --stats --prefetch "two.$Z" TXT)
is "$(stat "$out" queries)/$(( $(stat "$out" hits) + $(stat "$out" joined) ))" 1/1 \
    "a lookup after dns_prefetch uses the prefetched query"

out=$(dq --stats --timeout-ms 3000 --deadline-ms 200 --repeat 2 \
    --sleep-ms 100 "w.deny.authmilter.test" A)
is "$(stat "$out" queries)/$(stat "$out" joined)" 1/1 \
    "a caller that gave up leaves the query in flight for the next one"

# ---------------------------------------------------------------- names
long63=$(printf 'a%.0s' $(seq 63))
long64=$(printf 'a%.0s' $(seq 64))
name254=$(printf "${long63}.%.0s" 1 2 3)$(printf 'b%.0s' $(seq 62))
name253=$(printf "${long63}.%.0s" 1 2 3)$(printf 'b%.0s' $(seq 61))
out=$(dq --stats "a..$Z" A ".a.$Z" A "." A "" A "$long64.$Z" A \
    "$name254" A 'back\\slash.'"$Z" A "a.$Z.." A)
is "$(printf '%s\n' "$out" | grep -c ' badname ttl=0 wire=0$')" 8 \
    "empty labels, long labels, long names, backslashes: badname"
is "$(stat "$out" queries)" 0 "... and no query was sent for them"
out=$(dq --stats "$long63.$Z" A "$name253." A)
is "$(printf '%s\n' "$out" | grep -c ' badname ')/$(stat "$out" queries)" 0/2 \
    "a 63-byte label and a 253-byte name are queried"

# ---------------------------------------------------------------- size
out=$(dq "many.$Z" TXT)
is "$(printf '%s\n' "$out" | grep -o '"record number' | wc -l)" 64 \
    "a big answer (TCP after a truncated UDP reply) keeps DNS_MAX_RECORDS records"
case "$out" in
*" truncated "*) ok "... and says it dropped the rest" ;;
*) not_ok "... and says it dropped the rest"; diag "$(printf '%s\n' "$out" | cut -c1-200)" ;;
esac

# ---------------------------------------------------------------- servers
check_fails "'$DNSQ' --server 'not-an-address' a.$Z A" \
    "a bad server address is refused at start"
out=$(dq --server 127.0.0.1:$UNBOUND_PORT --stats "txt.$Z" TXT)
is "$(printf '%s\n' "$out" | sed -n 1p | cut -d' ' -f3)" ok "two servers configured"

# ---------------------------------------------------------------- valgrind
if command -v valgrind >/dev/null 2>&1; then
	vlog=$WORK/valgrind.log
	valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=all \
	    --errors-for-leak-kinds=all --log-file="$vlog" \
	    "$DNSQ" --server "127.0.0.1:$UNBOUND_PORT" --timeout-ms 3000 \
	    --deadline-ms 500 --threads 4 --prefetch --stats \
	    "txt.$Z" TXT "nx.$Z" A "many.$Z" TXT "alias.cname.authmilter.test" A \
	    "x.broken.authmilter.test" A "q.deny.authmilter.test" A "a..b" A \
	    >"$WORK/valgrind.out" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && grep -q 'All heap blocks were freed' "$vlog"; then
		ok "dnsq under valgrind (a query still out at dns_free): no error, every block freed"
	else
		not_ok "dnsq under valgrind: no error, every block freed (exit $rc)"
		diag_file "$vlog" 40
	fi
else
	ok "# SKIP valgrind is not installed"
fi

# ---------------------------------------------------------------- restart
unbound_new
unbound_zone "$Z" 2
unbound_data "txt.$Z. 300 IN TXT \"changed\""
if unbound_restart; then
	out=$(dq "txt.$Z" TXT)
	is "$(rest "$out" | sed 's/wire=[0-9]* //')" 'ok ttl=300 "changed"' \
	    "unbound_restart serves new data on the same port"
else
	not_ok "unbound_restart serves new data on the same port"
fi

exit 0
