# lib_dns.sh - a private unbound for the integration tests (sourced by
# lib.sh, bash only).
#
# A recursive resolver on 127.0.0.1:$UNBOUND_PORT with its own config, log
# and pid file under $WORK/unbound, answering from data the test writes:
#
#     unbound_new                          # forget earlier data
#     unbound_zone dns.example.test 2      # a static zone; negative TTL 2 s
#     unbound_data 'a.dns.example.test. 300 IN A 192.0.2.1' \
#         'txt.dns.example.test. 300 IN TXT "two " "strings"'
#     unbound_auth alias.test 'www IN CNAME host' 'host IN A 192.0.2.2'
#     unbound_deny slow.example.test       # queries dropped: clients time out
#     unbound_servfail broken.example.test # SERVFAIL at once
#     unbound_start                        # sets UNBOUND_PORT, waits for it
#     ...
#     unbound_restart                      # new data, same port
#     unbound_stop
#
# - unbound_zone/unbound_data are unbound's local-zone (static) and
#   local-data: answers straight from the config, TTLs as written, a SOA at
#   the apex so that NXDOMAIN and NODATA carry it. unbound does not follow a
#   CNAME of local-data; use unbound_auth for CNAME chains.
# - unbound_auth ZONE RR... writes a zone file (SOA, NS, the RRs; names
#   relative to ZONE unless they end in a dot) served as an auth-zone "for
#   upstream": the iterator answers from it and follows CNAME chains.
# - unbound_servfail NAME delegates NAME (stub-zone) to a loopback port
#   where nothing listens; with the infra cache RTT capped unbound gives up
#   on it within ~0.1 s and answers SERVFAIL (at once after the first time).
# - Names not under a configured zone are refused: no query leaves the host.
# - unbound's default local zones (localhost, test., invalid., the private
#   and documentation reverse zones of AS112...) would shadow test zones:
#   unbound_zone turns the default of its own name off (nodefault), and the
#   auth and servfail helpers make their names transparent local zones.
#
# unbound runs in the foreground (-d; do-daemonize no), username "" and
# chroot "", module-config "iterator" (no validator, no trust anchors),
# do-not-query-localhost no, one thread. It is stopped by its PID only, and
# at exit through it_register like everything else.

UNBOUND_DIR=
UNBOUND_PORT=
UNBOUND_PID=
UNBOUND_DEAD_PORT=

# unbound_new - start a new set of data (the port, once chosen, is kept)
unbound_new() {
	UNBOUND_DIR=$WORK/unbound
	mkdir -p "$UNBOUND_DIR"
	: >"$UNBOUND_DIR/server.conf"
	: >"$UNBOUND_DIR/clauses.conf"
	rm -f "$UNBOUND_DIR"/*.zone
}

# unbound_need_new - unbound_new unless it was called
unbound_need_new() {
	[ -n "$UNBOUND_DIR" ] && [ -f "$UNBOUND_DIR/server.conf" ] || unbound_new
}

# unbound_zone NAME [NEGTTL] - a static local zone with a SOA whose TTL and
# MINIMUM are NEGTTL (default 300): the negative TTL of its answers
unbound_zone() {
	local z=${1%.} neg=${2:-300}
	unbound_need_new
	cat >>"$UNBOUND_DIR/server.conf" <<EOF
	local-zone: "$z." nodefault
	local-zone: "$z." static
	local-data: "$z. $neg IN SOA ns.$z. hostmaster.$z. 1 3600 600 86400 $neg"
EOF
}

# unbound_data RR... - local-data records (zone-file syntax, absolute
# names; TXT with several strings is fine; no single quotes)
unbound_data() {
	local rr
	unbound_need_new
	for rr in "$@"; do
		case "$rr" in
		*"'"*) diag "unbound_data: no single quotes: $rr"; return 1 ;;
		esac
		printf "\tlocal-data: '%s'\n" "$rr" >>"$UNBOUND_DIR/server.conf"
	done
}

# unbound_deny NAME - queries for NAME and below are dropped unanswered
unbound_deny() {
	unbound_need_new
	printf '\tlocal-zone: "%s." deny\n' "${1%.}" >>"$UNBOUND_DIR/server.conf"
}

# unbound_servfail NAME - NAME and below get SERVFAIL (a dead delegation)
unbound_servfail() {
	local z=${1%.}
	unbound_need_new
	[ -n "$UNBOUND_DEAD_PORT" ] || alloc_port UNBOUND_DEAD_PORT || return 1
	printf '\tlocal-zone: "%s." transparent\n' "$z" >>"$UNBOUND_DIR/server.conf"
	cat >>"$UNBOUND_DIR/clauses.conf" <<EOF
stub-zone:
	name: "$z."
	stub-addr: 127.0.0.1@$UNBOUND_DEAD_PORT
	stub-prime: no
EOF
}

# unbound_auth ZONE RR... - a zone file served through the iterator (CNAME
# chains are followed); negative TTL 300
unbound_auth() {
	local z=${1%.} f
	shift
	unbound_need_new
	f=$UNBOUND_DIR/$z.zone
	if [ ! -f "$f" ]; then
		cat >"$f" <<EOF
\$ORIGIN $z.
\$TTL 300
@	IN SOA	ns.$z. hostmaster.$z. ( 1 3600 600 86400 300 )
@	IN NS	ns.$z.
ns	IN A	127.0.0.1
EOF
		printf '\tlocal-zone: "%s." transparent\n' "$z" \
		    >>"$UNBOUND_DIR/server.conf"
		cat >>"$UNBOUND_DIR/clauses.conf" <<EOF
auth-zone:
	name: "$z."
	zonefile: "$f"
	for-downstream: no
	for-upstream: yes
	fallback-enabled: no
EOF
	fi
	printf '%s\n' "$@" >>"$f"
}

# unbound_write_conf - $UNBOUND_DIR/unbound.conf from the data so far
unbound_write_conf() {
	cat >"$UNBOUND_DIR/unbound.conf" <<EOF
# private resolver of authmilter's integration tests
server:
	interface: 127.0.0.1
	port: $UNBOUND_PORT
	do-ip4: yes
	do-ip6: no
	do-udp: yes
	do-tcp: yes
	so-reuseport: no
	username: ""
	chroot: ""
	directory: "$UNBOUND_DIR"
	pidfile: "$UNBOUND_DIR/unbound.pid"
	logfile: "$UNBOUND_DIR/unbound.log"
	use-syslog: no
	do-daemonize: no
	verbosity: ${UNBOUND_VERBOSITY:-1}
	num-threads: 1
	module-config: "iterator"
	do-not-query-localhost: no
	access-control: 127.0.0.0/8 allow
	qname-minimisation: no
	infra-cache-min-rtt: 10
	infra-cache-max-rtt: 50
	local-zone: "." refuse
EOF
	cat "$UNBOUND_DIR/server.conf" "$UNBOUND_DIR/clauses.conf" \
	    >>"$UNBOUND_DIR/unbound.conf"
	printf 'remote-control:\n\tcontrol-enable: no\n' >>"$UNBOUND_DIR/unbound.conf"
}

# unbound_answers - does our unbound answer at all? (CH TXT version.server)
unbound_answers() {
	local out
	out=$(dig @127.0.0.1 -p "$UNBOUND_PORT" +short +time=1 +tries=1 \
	    CH TXT version.server 2>/dev/null) || return 1
	[ -n "$out" ]
}

# unbound_start - start it on $UNBOUND_PORT (chosen on first start) and
# wait until it answers
unbound_start() {
	unbound_need_new
	[ -n "$UNBOUND_PORT" ] || alloc_port UNBOUND_PORT || return 1
	unbound_write_conf
	if ! unbound-checkconf "$UNBOUND_DIR/unbound.conf" \
	    >"$UNBOUND_DIR/checkconf.out" 2>&1; then
		diag "unbound-checkconf failed:"
		diag_file "$UNBOUND_DIR/checkconf.out"
		return 1
	fi
	unbound -d -c "$UNBOUND_DIR/unbound.conf" >>"$UNBOUND_DIR/unbound.stderr" 2>&1 &
	UNBOUND_PID=$!
	it_register "$UNBOUND_PID" unbound
	if ! wait_listen "$UNBOUND_PORT" 10 "$UNBOUND_PID" ||
	    ! wait_for 10 unbound_answers; then
		diag "unbound did not start on 127.0.0.1:$UNBOUND_PORT"
		diag_file "$UNBOUND_DIR/unbound.stderr"
		diag_file "$UNBOUND_DIR/unbound.log"
		return 1
	fi
	return 0
}

# unbound_stop - stop it (by PID)
unbound_stop() {
	[ -n "$UNBOUND_PID" ] && stop_pid "$UNBOUND_PID" 10
	UNBOUND_PID=
}

# unbound_restart - stop, and start again with the data written since
# (same port)
unbound_restart() {
	unbound_stop
	unbound_start
}

# unbound_query NAME TYPE - dig +short against our unbound
unbound_query() {
	dig @127.0.0.1 -p "$UNBOUND_PORT" +short +time=2 +tries=1 "$1" "$2"
}
