# lib.sh - shared harness of the integration tests (sourced, bash only).
#
# Real components on loopback, no mocks: nsd (authoritative DNS, zones written
# at test time), a private Postfix instance (own config, queue and ports on
# 127.0.0.1; never the system one), a storing SMTP sink (sink.py), authmilter
# itself, swaks as the SMTP client and python3-dkim (dkimverify.py) as the
# independent verifier.
#
# A test script does:
#     . "$(dirname "$0")/lib.sh"
#     it_init sign_postfix           # work dir, EXIT trap, tool checks
#     ...                            # start what it needs, run checks
# and prints TAP lines only ("ok - ...", "not ok - ...", "# ...").
#
# Every process started here is recorded with its PID and stopped by that PID
# (never by name) when the script exits, even on failure. All state lives in
# one mktemp -d directory that is removed at exit; KEEP=1 keeps it (its path
# is printed as a TAP comment). IT_VERBOSE=1 prints more diagnostics.
#
# Environment from tests/run: AUTHMILTER (the binary), MILTC (the milter
# protocol client), TOP_SRCDIR, BUILD_DIR.

IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3		# Debian's python3: has the dkim module
DKIMVERIFY="$IT_DIR/dkimverify.py"
SINKPY="$IT_DIR/sink.py"
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$IT_DIR/../.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$TOP_SRCDIR}
AUTHMILTER=${AUTHMILTER:-$BUILD_DIR/filter/authmilter}
MILTC=${MILTC:-$BUILD_DIR/tests/miltc}
export PATH="$PATH:/usr/sbin:/sbin"

IT_NAME=
WORK=
IT_PIDS=()		# "pid:name" of everything we started, in start order
IT_DIRS=()		# directories outside $WORK removed at exit (it_rmdir_at_exit)
IT_HOOKS=()		# commands run at exit (it_at_exit)
IT_USED_PORTS=" "

# --------------------------------------------------------------------------
# TAP

ok()     { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; }
# diag TEXT... - TAP comment lines; each line of each argument gets "# "
diag() {
	local l
	printf '%s\n' "$@" | while IFS= read -r l; do echo "# $l"; done
}
# diag_file FILE [N] - the last N (default 20) lines of FILE as comments
diag_file() {
	[ -f "$1" ] || { diag "($1: no such file)"; return 0; }
	diag "--- last ${2:-20} lines of $1:"
	tail -n "${2:-20}" "$1" | cut -c1-300 | while IFS= read -r l; do
		echo "#   $l"
	done
}
# check CMD DESC - eval CMD; ok when it exits 0, else not ok with its output
check() {
	local cmd=$1 desc=$2 out rc
	out=$(eval "$cmd" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		ok "$desc"
		[ -n "${IT_VERBOSE:-}" ] && [ -n "$out" ] && diag "$out"
		return 0
	fi
	not_ok "$desc"
	diag "command: $cmd" "exit status: $rc"
	[ -n "$out" ] && diag "$(printf '%s\n' "$out" | head -n 30 | cut -c1-300)"
	return 1
}
# check_fails CMD DESC - ok when CMD exits non-zero
check_fails() {
	local cmd=$1 desc=$2 out rc
	out=$(eval "$cmd" 2>&1)
	rc=$?
	if [ $rc -ne 0 ]; then
		ok "$desc"
		return 0
	fi
	not_ok "$desc"
	diag "command: $cmd" "exited 0 but should have failed"
	[ -n "$out" ] && diag "$(printf '%s\n' "$out" | head -n 30 | cut -c1-300)"
	return 1
}
# is GOT WANT DESC
is() {
	if [ "$1" = "$2" ]; then ok "$3"; return 0; fi
	not_ok "$3"; diag "got:  '$1'" "want: '$2'"; return 1
}
# bail DESC - the harness itself could not start: say so and stop
bail() {
	not_ok "$*"
	exit 1
}

# --------------------------------------------------------------------------
# set-up and clean-up

# it_init NAME - make the work directory, install the EXIT trap
it_init() {
	IT_NAME=$1
	local base=${IT_TMPDIR:-${TMPDIR:-/tmp}}
	WORK=$(mktemp -d "$base/authmilter-it-$IT_NAME.XXXXXX") ||
	    bail "$IT_NAME: could not make a work directory under $base"
	# Postfix's daemons run as user postfix and must reach their files
	# and the milter socket under here.
	chmod 755 "$WORK"
	trap it_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	[ "$(id -u)" = 0 ] || diag "not running as root: Postfix and nsd tests may fail"
}

# it_need_tools TOOL... - bail when one is missing
it_need_tools() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 ||
		    bail "$IT_NAME: required tool '$t' not found"
	done
	"$PY" -c 'import dkim, dns.query, nacl' 2>/dev/null ||
	    bail "$IT_NAME: $PY lacks python3-dkim / python3-dnspython / python3-nacl"
}

# it_need_authmilter - bail when the binary under test is missing
it_need_authmilter() {
	[ -x "$AUTHMILTER" ] || bail "$IT_NAME: authmilter binary not found at $AUTHMILTER"
}
it_need_miltc() {
	[ -x "$MILTC" ] || bail "$IT_NAME: miltc not found at $MILTC"
}

# it_register PID NAME - stop PID at exit
it_register() {
	IT_PIDS+=("$1:$2")
}
# it_rmdir_at_exit DIR - remove DIR (made by the test outside $WORK, e.g.
# where a component refuses a path below /tmp) at exit, after every
# process is stopped; KEEP=1 keeps it like $WORK
it_rmdir_at_exit() {
	IT_DIRS+=("$1")
}
# it_at_exit CMD - eval CMD at exit, after every process is stopped and
# before the directories are removed (e.g. purge a package the test
# installed); hooks run in the order they were added
it_at_exit() {
	IT_HOOKS+=("$1")
}
it_unregister() {
	local i
	for i in "${!IT_PIDS[@]}"; do
		[ "${IT_PIDS[$i]%%:*}" = "$1" ] && unset 'IT_PIDS[$i]'
	done
}

it_cleanup() {
	local rc=$? i entry pid
	trap - EXIT
	# stop in reverse start order
	local n=${#IT_PIDS[@]}
	local list=("${IT_PIDS[@]}")
	for ((i = ${#list[@]} - 1; i >= 0; i--)); do
		entry=${list[$i]}
		pid=${entry%%:*}
		stop_pid "$pid" 10 2>/dev/null
	done
	IT_PIDS=()
	for entry in "${IT_HOOKS[@]}"; do
		eval "$entry"
	done
	IT_HOOKS=()
	if [ -n "$WORK" ] && [ -d "$WORK" ]; then
		if [ -n "${KEEP:-}" ] && [ "${KEEP}" != 0 ]; then
			echo "# KEEP=1: work directory kept: $WORK"
		else
			rm -rf "$WORK"
		fi
	fi
	for entry in "${IT_DIRS[@]}"; do
		[ -n "$entry" ] && [ -d "$entry" ] || continue
		if [ -n "${KEEP:-}" ] && [ "${KEEP}" != 0 ]; then
			echo "# KEEP=1: directory kept: $entry"
		else
			rm -rf "$entry"
		fi
	done
	exit $rc
}

# stop_pid PID [SECS] - SIGTERM, wait up to SECS (default 10), then SIGKILL.
# Sets STOP_RC to the exit status when PID was a child of this shell (else
# 127). Call it directly, not in $(...): only this shell can reap its child.
stop_pid() {
	local pid=$1 secs=${2:-10} i rc
	[ -n "$pid" ] || return 0
	if kill -TERM "$pid" 2>/dev/null; then
		for ((i = 0; i < secs * 10; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			diag "pid $pid did not stop on SIGTERM within ${secs}s: SIGKILL"
			kill -KILL "$pid" 2>/dev/null
		fi
	fi
	wait "$pid" 2>/dev/null
	STOP_RC=$?
	it_unregister "$pid"
}

# --------------------------------------------------------------------------
# ports and readiness

# free_port - print a port free on 127.0.0.1 for both TCP and UDP, not
# handed out before by this script
free_port() {
	local p i
	for ((i = 0; i < 50; i++)); do
		p=$("$PY" - <<'EOF'
import socket
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.bind(("127.0.0.1", 0))
port = t.getsockname()[1]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    u.bind(("127.0.0.1", port))
except OSError:
    port = 0
u.close(); t.close()
print(port)
EOF
)
		[ "$p" != 0 ] || continue
		case "$IT_USED_PORTS" in *" $p "*) continue ;; esac
		IT_USED_PORTS="$IT_USED_PORTS$p "
		echo "$p"
		return 0
	done
	return 1
}

# alloc_port VAR - like free_port but sets VAR in this shell (so the
# used-port list is kept; $(free_port) loses it)
alloc_port() {
	local p
	p=$(free_port) || return 1
	IT_USED_PORTS="$IT_USED_PORTS$p "
	printf -v "$1" '%s' "$p"
}

# wait_for SECS CMD... - run CMD every 0.1 s until it succeeds or SECS pass
wait_for() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	"$@" >/dev/null 2>&1
}

# is_listening PORT - a TCP socket listens on 127.0.0.1:PORT or *:PORT
# (reads /proc/net/tcp: no connection is made)
is_listening() {
	local hex
	hex=$(printf '%04X' "$1")
	awk -v h="$hex" 'NR > 1 && $4 == "0A" {
		split($2, a, ":"); if (a[2] == h && (a[1] == "0100007F" || a[1] == "00000000")) f = 1
	} END { exit !f }' /proc/net/tcp
}

# wait_listen PORT [SECS] [PID] - wait for a listener; fail early if PID dies
wait_listen() {
	local port=$1 secs=${2:-10} pid=${3:-} i
	for ((i = 0; i < secs * 10; i++)); do
		is_listening "$port" && return 0
		[ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && return 1
		sleep 0.1
	done
	is_listening "$port"
}

# wait_socket PATH [SECS] [PID] - wait for a unix socket to appear
wait_socket() {
	local path=$1 secs=${2:-10} pid=${3:-} i
	for ((i = 0; i < secs * 10; i++)); do
		[ -S "$path" ] && return 0
		[ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && return 1
		sleep 0.1
	done
	[ -S "$path" ]
}

# --------------------------------------------------------------------------
# DNS: nsd, authoritative for the zones written with zone_new/zone_add

NSD_PORT=
NSD_PID=
NSD_DIR=

# zone_new ZONE - start $WORK/nsd/ZONE.zone with SOA and NS records
zone_new() {
	local z=${1%.}
	NSD_DIR=$WORK/nsd
	mkdir -p "$NSD_DIR"
	cat >"$NSD_DIR/$z.zone" <<EOF
\$ORIGIN $z.
\$TTL 300
@	IN SOA	ns.$z. hostmaster.$z. ( $(date +%s) 3600 600 86400 300 )
@	IN NS	ns.$z.
ns	IN A	127.0.0.1
EOF
}

# zone_add ZONE LINE... - append records (zone-file syntax) to ZONE
zone_add() {
	local z=${1%.}
	shift
	[ -f "$NSD_DIR/$z.zone" ] || zone_new "$z"
	printf '%s\n' "$@" >>"$NSD_DIR/$z.zone"
}

# zone_file ZONE - print the path of ZONE's file
zone_file() { echo "$WORK/nsd/${1%.}.zone"; }

# nsd_start - serve every zone written so far on 127.0.0.1:$NSD_PORT
nsd_start() {
	local z f conf
	NSD_DIR=$WORK/nsd
	mkdir -p "$NSD_DIR"
	alloc_port NSD_PORT || return 1
	conf=$NSD_DIR/nsd.conf
	cat >"$conf" <<EOF
server:
	ip-address: 127.0.0.1@$NSD_PORT
	port: $NSD_PORT
	do-ip6: no
	server-count: 1
	username: ""
	chroot: ""
	zonesdir: "$NSD_DIR"
	database: ""
	zonelistfile: "$NSD_DIR/zone.list"
	xfrdfile: "$NSD_DIR/xfrd.state"
	xfrdir: "$NSD_DIR"
	pidfile: "$NSD_DIR/nsd.pid"
	logfile: "$NSD_DIR/nsd.log"
	verbosity: 1
	hide-version: yes
	reuseport: no
	zonefiles-write: 0
remote-control:
	control-enable: no
EOF
	for f in "$NSD_DIR"/*.zone; do
		[ -f "$f" ] || continue
		z=$(basename "$f" .zone)
		if ! nsd-checkzone "$z" "$f" >"$NSD_DIR/checkzone.out" 2>&1; then
			diag "nsd-checkzone $z failed:"
			diag_file "$NSD_DIR/checkzone.out"
			return 1
		fi
		printf 'zone:\n\tname: "%s"\n\tzonefile: "%s"\n' "$z" "$f" >>"$conf"
	done
	if ! nsd-checkconf "$conf" >"$NSD_DIR/checkconf.out" 2>&1; then
		diag "nsd-checkconf failed:"
		diag_file "$NSD_DIR/checkconf.out"
		return 1
	fi
	nsd -d -c "$conf" >"$NSD_DIR/nsd.stderr" 2>&1 &
	NSD_PID=$!
	it_register "$NSD_PID" nsd
	if ! wait_listen "$NSD_PORT" 10 "$NSD_PID"; then
		diag "nsd did not start"
		diag_file "$NSD_DIR/nsd.stderr"
		diag_file "$NSD_DIR/nsd.log"
		return 1
	fi
	# ready when it answers for the first zone
	z=$(basename "$(ls "$NSD_DIR"/*.zone | head -n 1)" .zone)
	if [ -n "$z" ] && ! wait_for 10 dns_query "$z" SOA; then
		diag "nsd does not answer for $z"
		diag_file "$NSD_DIR/nsd.log"
		return 1
	fi
	return 0
}

# nsd_reload - re-read zone files that changed (mtime) and wait a moment
nsd_reload() {
	kill -HUP "$NSD_PID"
	sleep 0.5
}

# dns_query NAME TYPE - dig @127.0.0.1 -p $NSD_PORT NAME TYPE +short
dns_query() {
	local out
	out=$(dig @127.0.0.1 -p "$NSD_PORT" +short +time=2 +tries=1 "$1" "$2") || return 1
	[ -n "$out" ] || return 1
	printf '%s\n' "$out"
}

nsd_stop() {
	[ -n "$NSD_PID" ] && stop_pid "$NSD_PID" 10
	NSD_PID=
}

# --------------------------------------------------------------------------
# the sink: Postfix's next hop, stores each message as $SINK_DIR/new/N.eml

SINK_PORT=
SINK_PID=
SINK_DIR=

sink_start() {
	SINK_DIR=$WORK/sink
	mkdir -p "$SINK_DIR"
	alloc_port SINK_PORT || return 1
	"$PY" "$SINKPY" --port "$SINK_PORT" --dir "$SINK_DIR" >"$SINK_DIR/sink.log" 2>&1 &
	SINK_PID=$!
	it_register "$SINK_PID" sink
	if ! wait_listen "$SINK_PORT" 10 "$SINK_PID"; then
		diag "sink did not start"
		diag_file "$SINK_DIR/sink.log"
		return 1
	fi
}

# sink_find TOKEN - print the stored message(s) containing TOKEN
sink_find() {
	grep -l -F -- "$1" "$SINK_DIR"/new/*.eml 2>/dev/null
}

# sink_wait TOKEN [SECS] - wait until a message containing TOKEN arrived;
# print its path
sink_wait() {
	local tok=$1 secs=${2:-20} i f
	for ((i = 0; i < secs * 10; i++)); do
		f=$(sink_find "$tok" | head -n 1)
		[ -n "$f" ] && { echo "$f"; return 0; }
		sleep 0.1
	done
	return 1
}

sink_count() {
	ls "$SINK_DIR"/new/*.eml 2>/dev/null | wc -l
}

# --------------------------------------------------------------------------
# Postfix: a private instance: config in $PF_DIR (main.cf, master.cf), queue
# in $PF_ROOT/queue, data in $PF_ROOT/data, log in $PF_LOG
#
#     postfix_setup MILTER_SPEC     # e.g. unix:/path/sock or inet:127.0.0.1:port
#     postfix_listener PORT SPEC    # optional: another smtpd, another milter
#     postfix_conf 'key = value'... # optional main.cf overrides
#     postfix_start
#
# Mail to any domain is relayed to the sink. The system Postfix
# (/etc/postfix) is never read or written: everything goes through
# "postfix -c $PF_DIR" (MAIL_CONFIG), which root may use without listing the
# directory in the default main.cf.

PF_ROOT=
PF_DIR=
PF_PORT=
PF_PID=
PF_LOG=

postfix_setup() {
	local milter=$1
	# Postfix wants everything under its config directory owned by root:
	# keep queue, data and sockets beside it, not in it.
	PF_ROOT=$WORK/postfix
	PF_DIR=$PF_ROOT/etc
	PF_LOG=$PF_ROOT/maillog
	mkdir -p "$PF_DIR" "$PF_ROOT/queue" "$PF_ROOT/data" "$PF_ROOT/run"
	chown postfix "$PF_ROOT/data"
	[ -n "$SINK_PORT" ] || { diag "postfix_setup: start the sink first"; return 1; }
	alloc_port PF_PORT || return 1
	cat >"$PF_DIR/main.cf" <<EOF
# private test instance of authmilter's integration tests
compatibility_level = 3.6
queue_directory = $PF_ROOT/queue
data_directory = $PF_ROOT/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $PF_LOG
maillog_file_prefixes = $WORK
myhostname = mx.authmilter.test
mydomain = authmilter.test
myorigin = \$myhostname
mydestination =
local_recipient_maps =
local_transport = error:5.1.1 no local delivery in this test instance
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:$SINK_PORT
smtp_host_lookup = native
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions =
smtpd_tls_security_level = none
smtp_tls_security_level = none
smtputf8_enable = yes
disable_mime_output_conversion = yes
biff = no
append_dot_mydomain = no
notify_classes =
delay_warning_time = 0
smtpd_milters = $milter
non_smtpd_milters = $milter
milter_protocol = 6
milter_default_action = tempfail
milter_connect_timeout = 10s
milter_command_timeout = 30s
milter_content_timeout = 60s
message_size_limit = 20480000
queue_run_delay = 5s
minimal_backoff_time = 5s
maximal_backoff_time = 10s
EOF
	# chroot off everywhere: the queue directory holds no chroot jail
	cat >"$PF_DIR/master.cf" <<EOF
127.0.0.1:$PF_PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

# postfix_listener PORT MILTER_SPEC - one more smtpd on 127.0.0.1:PORT whose
# mail goes through another milter
postfix_listener() {
	echo "127.0.0.1:$1 inet n - n - - smtpd -o smtpd_milters=$2" >>"$PF_DIR/master.cf"
}

# postfix_conf 'key = value'... - override main.cf settings
postfix_conf() {
	postconf -c "$PF_DIR" -e "$@"
}

postfix_start() {
	if ! postfix -c "$PF_DIR" start >"$PF_ROOT/start.out" 2>&1; then
		diag "postfix start failed:"
		diag_file "$PF_ROOT/start.out"
		diag_file "$PF_LOG"
		return 1
	fi
	PF_PID=$(sed -n '1s/ //gp' "$PF_ROOT/queue/pid/master.pid" 2>/dev/null)
	[ -n "$PF_PID" ] || { diag "postfix: no master.pid"; return 1; }
	it_register "$PF_PID" postfix
	if ! wait_listen "$PF_PORT" 10 "$PF_PID"; then
		diag "postfix does not listen on $PF_PORT"
		diag_file "$PF_LOG"
		return 1
	fi
}

# postfix_sasl USER PASSWORD - SMTP AUTH (PLAIN, LOGIN) on every smtpd of
# the instance, checked by saslauth.py over the Dovecot auth protocol.
# Call between postfix_setup and postfix_start.
SASL_PID=
postfix_sasl() {
	local sock=$PF_ROOT/run/sasl-auth
	"$PY" "$IT_DIR/saslauth.py" --socket "$sock" --user "$1" --password "$2" \
	    >"$PF_ROOT/saslauth.log" 2>&1 &
	SASL_PID=$!
	it_register "$SASL_PID" saslauth
	wait_socket "$sock" 10 "$SASL_PID" || {
		diag "saslauth.py did not start"
		diag_file "$PF_ROOT/saslauth.log"
		return 1
	}
	postfix_conf "smtpd_sasl_auth_enable = yes" "smtpd_sasl_type = dovecot" \
	    "smtpd_sasl_path = $sock" "smtpd_sasl_security_options = noanonymous" \
	    "smtpd_tls_auth_only = no"
}

postfix_stop() {
	[ -n "$PF_PID" ] && stop_pid "$PF_PID" 15
	PF_PID=
}

# postfix_milter_trouble - print Postfix log lines about milter failures
# (connect/read errors, timeouts, milter-reject/tempfail/discard/hold);
# exit 0 when there are some
postfix_milter_trouble() {
	grep -iE 'warning: (milter|connect to milter|.*milter .*(timeout|error))|milter-(reject|discard|hold)' "$PF_LOG"
}

# postfix_queue_empty - nothing left in the active/incoming/deferred queues
postfix_queue_empty() {
	[ -z "$(find "$PF_ROOT/queue/incoming" "$PF_ROOT/queue/active" \
	    "$PF_ROOT/queue/deferred" -type f 2>/dev/null | head -n 1)" ]
}

# --------------------------------------------------------------------------
# swaks

SWAKS_N=0
SWAKS_LOG=

# swaks_send PORT FILE [SWAKS ARGS...] - send FILE as the DATA of one
# transaction (default envelope: sender@example.test -> rcpt@remote.test);
# the transcript is in $SWAKS_LOG. Returns swaks's exit status.
swaks_send() {
	local port=$1 file=$2
	shift 2
	SWAKS_N=$((SWAKS_N + 1))
	SWAKS_LOG=$WORK/swaks.$SWAKS_N.log
	swaks --server 127.0.0.1 --port "$port" --helo client.authmilter.test \
	    --from sender@example.test --to rcpt@remote.test \
	    --timeout 60 --data "@$file" "$@" >"$SWAKS_LOG" 2>&1
}

# --------------------------------------------------------------------------
# authmilter

AM_DIR=

# am_keygen DOMAIN SELECTOR rsa|ed25519 DIR [ZONE] - make a key pair with
# authmilter keygen; add its TXT record to ZONE (default DOMAIN's zone)
am_keygen() {
	local d=$1 s=$2 alg=$3 dir=$4 zone=${5:-$1} out
	mkdir -p "$dir"
	local extra=()
	[ "$alg" = rsa ] && extra=(--bits 2048)
	out=$("$AUTHMILTER" keygen --domain "$d" --selector "$s" --algorithm "$alg" \
	    "${extra[@]}" --directory "$dir" 2>"$dir/$s.keygen.err") || {
		diag "authmilter keygen $d $s $alg failed:"
		diag_file "$dir/$s.keygen.err"
		return 1
	}
	[ -n "$out" ] || { diag "authmilter keygen printed no record"; return 1; }
	zone_add "$zone" "$out"
}

# am_start NAME CONF - run authmilter -f -c CONF in the background; wait for
# its socket (and its PidFile, if any). Sets AM_PID_<NAME>; logs in
# $WORK/NAME.log
am_start() {
	local name=$1 conf=$2 pid sock log=$WORK/$1.log
	"$AUTHMILTER" -f -c "$conf" >>"$log" 2>&1 &
	pid=$!
	printf -v "AM_PID_$name" '%s' "$pid"
	it_register "$pid" "authmilter-$name"
	sock=$(am_conf_socket "$conf")
	case "$sock" in
	unix:* | local:*)
		wait_socket "${sock#*:}" 10 "$pid" ;;
	inet:*)
		local p=${sock#inet:}
		wait_listen "${p%%@*}" 10 "$pid" ;;
	*)
		sleep 1; kill -0 "$pid" 2>/dev/null ;;
	esac || {
		diag "authmilter ($name) did not come up on $sock"
		diag_file "$log"
		return 1
	}
	# the socket comes up before the pid file is written
	local pidfile
	pidfile=$(awk 'tolower($1) == "pidfile" { print $2; exit }' "$conf")
	[ -z "$pidfile" ] || wait_for 10 test -s "$pidfile"
}

# am_pid NAME - print the PID recorded by am_start
am_pid() { local v="AM_PID_$1"; echo "${!v}"; }

# am_stop NAME - SIGTERM, wait; STOP_RC is its exit status
am_stop() {
	local pid
	pid=$(am_pid "$1")
	[ -n "$pid" ] || return 1
	stop_pid "$pid" 20
	printf -v "AM_PID_$1" '%s' ""
}

# am_alive NAME - the process is running (not a zombie)
am_alive() {
	local pid
	pid=$(am_pid "$1")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# am_conf_socket CONF - the Socket value of a config file
am_conf_socket() {
	awk 'tolower($1) == "socket" { print $2; exit }' "$1"
}

# --------------------------------------------------------------------------
# miltc: the milter protocol client (the MTA's side, without an MTA)

MILTC_N=0
MILTC_OUT=

# miltc_run SOCKET [MILTC ARGS...] FILE... - run miltc; its output is in
# $MILTC_OUT (stderr in $MILTC_OUT.err). Returns miltc's exit status.
miltc_run() {
	local sock=$1
	shift
	MILTC_N=$((MILTC_N + 1))
	MILTC_OUT=$WORK/miltc.$MILTC_N.out
	"$MILTC" -s "$sock" -t 30 "$@" >"$MILTC_OUT" 2>"$MILTC_OUT.err"
}

# miltc_verdict [OUT] - the last line of miltc's output (ACCEPT, TEMPFAIL...)
miltc_verdict() {
	tail -n 1 "${1:-$MILTC_OUT}"
}

# miltc_sigs [OUT] - how many DKIM-Signature headers the milter added
miltc_sigs() {
	grep -cE '^(INSHEADER [0-9]+|ADDHEADER) DKIM-Signature:' "${1:-$MILTC_OUT}"
}

# miltc_sig_tags TAG [OUT] - the TAG= values of the added signatures, sorted
miltc_sig_tags() {
	grep -E '^(INSHEADER [0-9]+|ADDHEADER) DKIM-Signature:' "${2:-$MILTC_OUT}" |
	    sed 's/\\[rn]//g' | tr -d ' \t' | tr ';' '\n' |
	    sed -n "s/^$1=//p" | sort
}

# miltc_apply OUT MSG - print MSG (line ends made CRLF) with the header
# insertions of miltc's output OUT applied, as the MTA would deliver it
miltc_apply() {
	"$PY" - "$1" "$2" <<'EOF'
import re, sys
out, msg = sys.argv[1], sys.argv[2]
data = open(msg, "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
head, sep, body = data.partition(b"\r\n\r\n")
fields, cur = [], None
for line in head.split(b"\r\n"):
    if line[:1] in (b" ", b"\t") and cur is not None:
        cur += b"\r\n" + line
    else:
        if cur is not None:
            fields.append(cur)
        cur = line
if cur is not None:
    fields.append(cur)
def unesc(s):
    return s.replace(b"\\r", b"\r").replace(b"\\n", b"\n")
def field(name, value):
    v = unesc(value).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if not v[:1] in (b" ", b"\t"):
        v = b" " + v
    return name + b":" + v
for line in open(out, "rb").read().split(b"\n"):
    line = re.sub(rb"^[0-9]+: ", b"", line)
    m = re.match(rb"^INSHEADER (\d+) ([^:]+): (.*)$", line)
    if m:
        fields.insert(int(m.group(1)), field(m.group(2), m.group(3)))
        continue
    m = re.match(rb"^ADDHEADER ([^:]+): (.*)$", line)
    if m:
        fields.append(field(m.group(1), m.group(2)))
sys.stdout.buffer.write(b"\r\n".join(fields) + b"\r\n\r\n" + body)
EOF
}

# am_log_clean LOG - no sanitizer report or crash trace in an authmilter log
am_log_clean() {
	! grep -E 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:|Segmentation fault|Aborted|double free|stack smashing' "$1"
}

# --------------------------------------------------------------------------
# message helpers

# msg_header_count FILE NAME - how many NAME: header fields FILE has
msg_header_count() {
	"$PY" - "$1" "$2" <<'EOF'
import sys, email.parser, email.policy
with open(sys.argv[1], "rb") as f:
    data = f.read()
hdr = data.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in data else data.split(b"\n\n", 1)[0]
n = 0
for line in hdr.replace(b"\r\n", b"\n").split(b"\n"):
    if line[:1] in (b" ", b"\t"):
        continue
    name = line.split(b":", 1)[0].strip().lower()
    if name == sys.argv[2].lower().encode():
        n += 1
print(n)
EOF
}

# msg_sig_tags FILE TAG - the TAG= values of the DKIM-Signature headers,
# sorted, one a line (msg_sig_tags F a -> "ed25519-sha256" "rsa-sha256")
msg_sig_tags() {
	"$PY" - "$1" "$2" <<'EOF'
import sys, re
with open(sys.argv[1], "rb") as f:
    data = f.read().replace(b"\r\n", b"\n")
hdr = data.split(b"\n\n", 1)[0]
fields, cur = [], None
for line in hdr.split(b"\n"):
    if line[:1] in (b" ", b"\t") and cur is not None:
        cur += line
    else:
        if cur is not None:
            fields.append(cur)
        cur = line
if cur is not None:
    fields.append(cur)
out = []
for f in fields:
    name, _, value = f.partition(b":")
    if name.strip().lower() != b"dkim-signature":
        continue
    value = re.sub(rb"\s+", b"", value)
    tags = dict(p.split(b"=", 1) for p in value.split(b";") if b"=" in p)
    out.append(tags.get(sys.argv[2].encode(), b"?").decode())
print("\n".join(sorted(out)))
EOF
}

# dkim_verify FILE [ARGS...] - dkimverify.py against our nsd
dkim_verify() {
	local f=$1
	shift
	"$PY" "$DKIMVERIFY" --nameserver 127.0.0.1 --port "$NSD_PORT" "$@" "$f"
}

# the private unbound (unbound_new, unbound_zone, unbound_data, ...)
. "$(dirname "${BASH_SOURCE[0]}")/lib_dns.sh"
