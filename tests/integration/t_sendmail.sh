#!/bin/bash
# t_sendmail.sh - authmilter behind a real Sendmail 8.17.
#
# Debian's sendmail packages conflict with postfix (both provide
# mail-transport-agent), so nothing is installed: sendmail-bin, sendmail-cf
# and libwrap0 are fetched with "apt-get download" into $BUILD_DIR/build-
# sendmail/ (kept and reused across runs) and unpacked there with dpkg -x.
# That sendmail runs with -C and a .cf built by m4 from a test .mc (which
# includes contrib/sendmail.mc.snippet), its own queue, pid and status
# files, LD_LIBRARY_PATH for the unpacked libwrap, listening on 127.0.0.1
# and relaying everything to the sink (sink.py).
#
# Sendmail runs in namespaces of its own (unshare --uts --mount):
#   - UTS: the host name mx.sendmail.test (a name without a dot stalls
#     Sendmail for 60 s);
#   - mount: Sendmail empties its environment, so its SASL configuration
#     must be at libsasl2's compiled-in path: $WORK/sm/sasl2 is mounted on
#     /usr/lib/sasl2 (Sendmail.conf: pwcheck_method saslauthd, the socket of
#     saslauthd.py, which stands in for saslauthd); and a private /dev whose
#     /dev/log is the test's syslog receiver, so Sendmail's log is read.
# authmilter (UserID nobody, as the package runs it as its own user) has its
# socket in a 0750 directory of nobody's below /run: Sendmail refuses a
# milter socket below a world-writable directory such as /tmp (checked).
#
#   outbound: 127.0.0.1 (InternalHosts) -> RSA + Ed25519 (KeyTable,
#     SigningTable, MultipleSignatures yes), verified by python3-dkim;
#     SMTP AUTH from 127.0.0.2 -> signed too, though the .mc sends no
#     {auth_authen}: authmilter asks for it with smfi_setsymlist
#   inbound (127.0.0.2): pass -> one A-R of ours; forged A-R removed;
#     p=reject failure -> 550 5.7.1; p=quarantine failure -> Sendmail's
#     quarantine (an hf queue file, listed by mailq -qQ), then released
#     with sendmail -Q -qQ -qI<id> and delivered, as the README says

. "$(dirname "$0")/lib.sh"
it_init sendmail
it_need_tools unbound unbound-checkconf dig swaks m4 unshare mount openssl apt-get dpkg
it_need_authmilter

TOOL="$PY $IT_DIR/inb_tool.py"
EXT=127.0.0.2
RUN=$$-$(date +%s)
KEYS=$WORK/keys
M=$WORK/msgs
mkdir -m 700 "$KEYS"
mkdir -p "$M"
SM_HOST=mx.sendmail.test

# --------------------------------------------------------------------------
# Sendmail from Debian's packages, unpacked into the build tree

SM_CACHE=$BUILD_DIR/build-sendmail
SM_ROOT=$SM_CACHE/root
SM_PKGS="sendmail-bin sendmail-cf libwrap0"
SM_BIN=$SM_ROOT/usr/libexec/sendmail/sendmail
SM_CF=$SM_ROOT/usr/share/sendmail/cf

# sm_download - apt-get download the packages into $SM_CACHE/debs
sm_download() {
	mkdir -p "$SM_CACHE/debs"
	(cd "$SM_CACHE/debs" && apt-get download $SM_PKGS) \
	    >"$SM_CACHE/download.log" 2>&1
}

# sm_fetch - fetch and unpack Sendmail unless a previous run did
sm_fetch() {
	local deb
	[ -x "$SM_BIN" ] && [ -f "$SM_CF/m4/cf.m4" ] && [ -f "$SM_ROOT/.unpacked" ] &&
	    return 0
	rm -rf "$SM_ROOT" "$SM_CACHE/debs"
	if ! sm_download; then
		# an empty or stale package list: update it once, try again
		apt-get update -q >>"$SM_CACHE/download.log" 2>&1
		sm_download || {
			diag_file "$SM_CACHE/download.log" 10
			return 1
		}
	fi
	mkdir -p "$SM_ROOT"
	for deb in "$SM_CACHE"/debs/*.deb; do
		dpkg -x "$deb" "$SM_ROOT" || return 1
	done
	# the binary is set-group-id mail: the loader would ignore
	# LD_LIBRARY_PATH (secure execution) and miss the unpacked libwrap
	chmod g-s "$SM_BIN"
	ls "$SM_CACHE/debs" >"$SM_ROOT/.unpacked"
}

sm_fetch || bail "apt-get download $SM_PKGS failed (archive not reachable?): no Sendmail to test"
ok "Sendmail unpacked from Debian's packages: $(tr '\n' ' ' <"$SM_ROOT/.unpacked")"
SM_LIB=$(dirname "$(find "$SM_ROOT/usr/lib" -name 'libwrap.so.0' | head -n 1)")
[ -d /usr/lib/sasl2 ] || bail "/usr/lib/sasl2 (package libsasl2-2) is missing: nowhere to mount Sendmail's SASL configuration"

# --------------------------------------------------------------------------
# keys and DNS (unbound)

for k in "in.test r1 rsa" "in.test e1 ed25519" "example.test rsa2026 rsa" \
    "example.test ed2026 ed25519"; do
	set -- $k
	"$AUTHMILTER" keygen --domain "$1" --selector "$2" --algorithm "$3" \
	    --directory "$KEYS" >"$KEYS/$2.rr" 2>"$KEYS/$2.err" ||
	    { diag_file "$KEYS/$2.err"; bail "authmilter keygen $k"; }
done

rr() { unbound_data "$($TOOL rr "$1" "$2")"; }
unbound_new
unbound_zone test 30
for d in in.test example.test; do
	rr "$d" "v=spf1 ip4:$EXT ip4:127.0.0.1 -all"
	unbound_data "$d. 300 IN A 192.0.2.1"
done
for d in rej.test quar.test; do
	rr "$d" "v=spf1 ip4:192.0.2.99 -all"	# not us: SPF fails
	unbound_data "$d. 300 IN A 192.0.2.1"
done
rr _dmarc.in.test "v=DMARC1; p=reject"
rr _dmarc.rej.test "v=DMARC1; p=reject"
rr _dmarc.quar.test "v=DMARC1; p=quarantine"
rr _dmarc.example.test "v=DMARC1; p=reject"
for k in "r1 in.test" "e1 in.test" "rsa2026 example.test" "ed2026 example.test"; do
	set -- $k
	rr "$1._domainkey.$2" "$($TOOL zonetxt "$KEYS/$1.rr")"
done
unbound_start || bail "unbound (test DNS data) could not start"

# --------------------------------------------------------------------------
# authmilter, its socket in a directory Sendmail considers safe

SOCKDIR=$(mktemp -d /run/authmilter-it-sendmail.XXXXXX) ||
    bail "could not make a socket directory under /run"
it_rmdir_at_exit "$SOCKDIR"
# as the package has it: /run/authmilter, 0750, owned by the daemon's user
# (here nobody), which makes the socket (0660) and drops to it
chown nobody:nogroup "$SOCKDIR"
chmod 750 "$SOCKDIR"
SOCK=$SOCKDIR/authmilter.sock
cat >"$KEYS/KeyTable" <<EOF
rsa       example.test:rsa2026:$KEYS/rsa2026.private
ed        example.test:ed2026:$KEYS/ed2026.private
EOF
cat >"$KEYS/SigningTable" <<EOF
*@example.test rsa
*@example.test ed
EOF
mkdir -p "$WORK/am"
AM_CONF=$WORK/am/authmilter.conf
cat >"$AM_CONF" <<EOF
Socket              local:$SOCK
UMask               007
UserID              nobody:nogroup
PidFile             $SOCKDIR/authmilter.pid
Syslog              no
LogWhy              yes
InternalHosts       127.0.0.1/32
KeyTable            $KEYS/KeyTable
SigningTable        refile:$KEYS/SigningTable
MultipleSignatures  yes
Canonicalization    relaxed/relaxed
AuthservID          $SM_HOST
Nameservers         127.0.0.1:$UNBOUND_PORT
DNSTimeout          2
DNSRetries          1
DNSBudget           4
EOF
check '"$AUTHMILTER" configtest -c "$AM_CONF"' "configtest accepts the config"
am_start sm "$AM_CONF" || bail "authmilter could not start"
# (UMask 007: bind(2) makes the socket 0770; x means nothing on a socket)
check '[ "$(stat -c "%U:%G" "$SOCK")" = nobody:nogroup ] && [ $((0$(stat -c %a "$SOCK") & 07)) = 0 ]' \
    "the socket is nobody:nogroup, no access for others ($(stat -c %a "$SOCK")), in a 0750 directory of nobody's"

# --------------------------------------------------------------------------
# sink, password checker, syslog receiver, Sendmail

sink_start || bail "sink could not start"
SM_DIR=$WORK/sm
mkdir -p "$SM_DIR/etc" "$SM_DIR/run" "$SM_DIR/sasl2" "$SM_DIR/hostdev"
mkdir -m 700 "$SM_DIR/mqueue"
SM_LOG=$SM_DIR/maillog
: >"$SM_LOG"
: >"$SM_DIR/run/statistics"

"$PY" "$IT_DIR/saslauthd.py" --socket "$SM_DIR/run/saslauthd.mux" \
    --user alice --password s3cret-pw >"$SM_DIR/saslauthd.log" 2>&1 &
it_register $! saslauthd
wait_socket "$SM_DIR/run/saslauthd.mux" 10 $! ||
    { diag_file "$SM_DIR/saslauthd.log"; bail "saslauthd.py did not start"; }
cat >"$SM_DIR/sasl2/Sendmail.conf" <<EOF
pwcheck_method: saslauthd
saslauthd_path: $SM_DIR/run/saslauthd.mux
mech_list: PLAIN LOGIN
EOF

# syslog: one datagram per line
"$PY" -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
with open(sys.argv[2], "ab", buffering=0) as f:
    while True:
        f.write(s.recv(65536).rstrip(b"\0\n") + b"\n")
' "$SM_DIR/run/log" "$SM_LOG" 2>"$SM_DIR/syslog.err" &
it_register $! syslog
wait_socket "$SM_DIR/run/log" 10 $! ||
    { diag_file "$SM_DIR/syslog.err"; bail "syslog receiver did not start"; }

# ns.sh CMD... - run CMD in Sendmail's namespaces (see the top)
cat >"$SM_DIR/ns.sh" <<EOF
#!/bin/bash
set -e
hostname $SM_HOST
mount --bind "$SM_DIR/sasl2" /usr/lib/sasl2
mount --bind /dev "$SM_DIR/hostdev"
mount -t tmpfs -o mode=755 tmpfs /dev
for n in null zero full random urandom tty; do
	touch /dev/\$n
	mount --bind "$SM_DIR/hostdev/\$n" /dev/\$n
done
ln -s "$SM_DIR/run/log" /dev/log
exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LD_LIBRARY_PATH="$SM_LIB" "\$@"
EOF
chmod 755 "$SM_DIR/ns.sh"
sm() { unshare --uts --mount --fork "$SM_DIR/ns.sh" "$SM_BIN" -C "$SM_DIR/etc/sendmail.cf" "$@"; }

alloc_port SM_PORT || bail "no free port"
# the shipped snippet, with the test's socket
sed "s#local:/run/authmilter/authmilter.sock#local:$SOCK#" \
    "$TOP_SRCDIR/contrib/sendmail.mc.snippet" >"$SM_DIR/etc/authmilter.m4"
grep -q "S=local:$SOCK" "$SM_DIR/etc/authmilter.m4" ||
    bail "contrib/sendmail.mc.snippet has no S=local:/run/authmilter/authmilter.sock"
# sendmail_mc [SNIPPET] - the test .mc on stdout
sendmail_mc() {
	cat <<EOF
divert(-1)
# private test instance of authmilter's integration tests
divert(0)dnl
include(\`$SM_CF/m4/cf.m4')dnl
VERSIONID(\`authmilter t_sendmail.sh')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`$SM_HOST')dnl
define(\`QUEUE_DIR', \`$SM_DIR/mqueue')dnl
define(\`STATUS_FILE', \`$SM_DIR/run/statistics')dnl
define(\`confPID_FILE', \`$SM_DIR/run/sendmail.pid')dnl
define(\`ALIAS_FILE', \`')dnl
define(\`confCW_FILE', \`-o $SM_DIR/etc/local-host-names')dnl
define(\`confCT_FILE', \`-o $SM_DIR/etc/trusted-users')dnl
define(\`HELP_FILE', \`$SM_DIR/etc/helpfile')dnl
define(\`confSERVICE_SWITCH_FILE', \`$SM_DIR/etc/service.switch')dnl
define(\`confHOSTS_FILE', \`$SM_DIR/etc/hosts')dnl
define(\`confDONT_PROBE_INTERFACES', \`true')dnl
define(\`confTO_IDENT', \`0s')dnl
define(\`confLOG_LEVEL', \`14')dnl
define(\`confDELIVERY_MODE', \`background')dnl
define(\`SMART_HOST', \`esmtp:[127.0.0.1]')dnl
define(\`ESMTP_MAILER_ARGS', \`TCP \$h $SINK_PORT')dnl
define(\`confAUTH_MECHANISMS', \`PLAIN LOGIN')dnl
TRUST_AUTH_MECH(\`PLAIN LOGIN')dnl
FEATURE(\`nocanonify')dnl
dnl no MSA on port 587 of every address: only the test's own port
FEATURE(\`no_default_msa')dnl
FEATURE(\`accept_unresolvable_domains')dnl
dnl inbound: mail for remote.test is taken from anyone; other domains
dnl only from 127.0.0.1 or an authenticated client
RELAY_DOMAIN(\`remote.test')dnl
DAEMON_OPTIONS(\`Port=$SM_PORT, Addr=127.0.0.1, Name=MTA')dnl
include(\`${1:-$SM_DIR/etc/authmilter.m4}')dnl
dnl no {auth_authen}, no {i} in the macro lists: authmilter asks for
dnl them itself (smfi_setsymlist)
define(\`confMILTER_MACROS_ENVFROM', \`{mail_mailer}')dnl
define(\`confMILTER_MACROS_EOM', \`{msg_id}')dnl
MAILER(\`local')dnl
MAILER(\`smtp')dnl
EOF
}
printf 'hosts files\naliases files\n' >"$SM_DIR/etc/service.switch"
printf '127.0.0.1 localhost %s\n' "$SM_HOST" >"$SM_DIR/etc/hosts"
sendmail_mc >"$SM_DIR/etc/sendmail.mc"
m4 "$SM_DIR/etc/sendmail.mc" >"$SM_DIR/etc/sendmail.cf" 2>"$SM_DIR/etc/m4.err" ||
    { diag_file "$SM_DIR/etc/m4.err"; bail "m4 could not build sendmail.cf"; }
check 'grep -q "^Xauthmilter, S=local:$SOCK, F=T" "$SM_DIR/etc/sendmail.cf"' \
    "sendmail.cf has the filter from contrib/sendmail.mc.snippet"
check 'grep -qx "O Milter.macros.envfrom={mail_mailer}" "$SM_DIR/etc/sendmail.cf" && grep -qx "O Milter.macros.eom={msg_id}" "$SM_DIR/etc/sendmail.cf" && ! grep -q "^O Milter.macros.*auth_authen" "$SM_DIR/etc/sendmail.cf"' \
    "sendmail.cf sends no {auth_authen} and no {i} of its own accord"

# A socket below a world-writable directory is refused at start-up
mkdir -m 1777 "$WORK/ww"
sed "s#local:$SOCK#local:$WORK/ww/authmilter.sock#" "$SM_DIR/etc/authmilter.m4" \
    >"$SM_DIR/etc/unsafe.m4"
sendmail_mc "$SM_DIR/etc/unsafe.m4" >"$SM_DIR/etc/unsafe.mc"
m4 "$SM_DIR/etc/unsafe.mc" >"$SM_DIR/etc/unsafe.cf" 2>/dev/null
# the daemon does not start at all (exit 71, EX_OSERR)
timeout -k 5 20 unshare --uts --mount --fork "$SM_DIR/ns.sh" "$SM_BIN" \
    -C "$SM_DIR/etc/unsafe.cf" -bD >"$SM_DIR/unsafe-daemon.out" 2>&1
urc=$?
check '[ $urc = 71 ] && grep -q "Xauthmilter: local socket name $WORK/ww/authmilter.sock unsafe: World writable directory" "$SM_DIR/unsafe-daemon.out"' \
    "Sendmail refuses a milter socket below a world-writable directory: the daemon exits ($urc) saying 'unsafe: World writable directory'"
# an SMTP session on standard input (-bs) answers 451 4.0.0 and ends
printf 'HELO client.test\r\nQUIT\r\n' | unshare --uts --mount --fork "$SM_DIR/ns.sh" \
    "$SM_BIN" -C "$SM_DIR/etc/unsafe.cf" -bs >"$SM_DIR/unsafe.out" 2>&1
check 'grep -q "^451 4.0.0 .*Xauthmilter: local socket name $WORK/ww/authmilter.sock unsafe: World writable directory" "$SM_DIR/unsafe.out" && ! grep -q "^220 " "$SM_DIR/unsafe.out"' \
    "... and sendmail -bs answers 451 4.0.0 and no session"

unshare --uts --mount --fork "$SM_DIR/ns.sh" "$SM_BIN" -C "$SM_DIR/etc/sendmail.cf" \
    -bD >"$SM_DIR/sendmail.out" 2>&1 &
SM_NS_PID=$!
it_register "$SM_NS_PID" sendmail-unshare
wait_listen "$SM_PORT" 20 "$SM_NS_PID" || {
	diag_file "$SM_DIR/sendmail.out"
	diag_file "$SM_LOG"
	bail "Sendmail did not start"
}
wait_for 10 test -s "$SM_DIR/run/sendmail.pid"
SM_PID=$(head -n 1 "$SM_DIR/run/sendmail.pid")
[ -n "$SM_PID" ] && it_register "$SM_PID" sendmail
check 'wait_for 5 grep -q "starting daemon (8.17" "$SM_LOG"' "Sendmail 8.17 started (its log reaches the test)"
diag "unbound :$UNBOUND_PORT  sendmail :$SM_PORT  sink :$SINK_PORT  socket $SOCK  work $WORK"

# --------------------------------------------------------------------------
# helpers

# mk NAME FROM [inb_tool msg ARGS] - $M/NAME.eml (token NAME-RUN)
mk() {
	local n=$1 from=$2
	shift 2
	$TOOL msg --id "$n-$RUN" --from "$from" "$@" >"$M/$n.eml" || bail "inb_tool.py msg $n"
}
sign_in() {
	local h=from,to,subject,date,message-id
	$TOOL sign --key "$KEYS/e1.private" --alg ed25519 --domain in.test \
	    --selector e1 --headers $h "$M/$1.eml" >"$M/$1.tmp" &&
	$TOOL sign --key "$KEYS/r1.private" --alg rsa --domain in.test \
	    --selector r1 --headers $h "$M/$1.tmp" >"$M/$1.eml" ||
	    bail "inb_tool.py sign $1"
}
# send NAME MAILFROM [SWAKS ARGS] - swaks to Sendmail; transcript $SWAKS_LOG
send() {
	local n=$1 mf=$2
	shift 2
	swaks_send "$SM_PORT" "$M/$n.eml" --from "$mf" --helo relay.in.test "$@"
}
swaks_said() { grep -q "^<\*\{0,2\} *$1" "$SWAKS_LOG"; }
mget() { $TOOL msgget "$1" "$SM_HOST" "$2" 2>&1; }
# qid - the queue id Sendmail gave the last message (its 250 reply)
qid() { sed -n 's/^<- *250 2\.0\.0 \([A-Za-z0-9]*\) Message accepted.*/\1/p' "$SWAKS_LOG" | tail -n 1; }
dverify() { "$PY" "$DKIMVERIFY" --nameserver 127.0.0.1 --port "$UNBOUND_PORT" "$1"; }
check_dual() {
	local name=$1
	is "$(msg_sig_tags "$GOT" a | tr '\n' ' ')" "ed25519-sha256 rsa-sha256 " \
	    "$name: one rsa-sha256 and one ed25519-sha256 signature"
	is "$(msg_sig_tags "$GOT" d | sort -u | tr '\n' ' ')" "example.test " "$name: d=example.test"
	check 'dverify "$GOT"' "$name: python3-dkim verifies both signatures (keys from unbound)"
	is "$(msg_header_count "$GOT" Authentication-Results)" 0 "$name: no Authentication-Results added"
}

# --------------------------------------------------------------------------
# outbound from 127.0.0.1: dual signatures

GOT=
mk out "Olga <olga@example.test>" --to rcpt@elsewhere.test
if send out olga@example.test --to rcpt@elsewhere.test &&
    GOT=$(sink_wait "out-$RUN" 30); then
	ok "outbound (127.0.0.1): accepted by Sendmail and delivered to the sink"
	check_dual outbound
	Q=$(qid)
	check 'grep -q "^authmilter: info: $Q: .*signed d=example.test s=rsa2026" "$WORK/sm.log"' \
	    "outbound: authmilter logged Sendmail's queue id ($Q): {i} reached it"
	diag "outbound: headers at the sink, top first: $(mget "$GOT" 'names[:5]')"
else
	not_ok "outbound (127.0.0.1): accepted by Sendmail and delivered to the sink"
	diag_file "$SWAKS_LOG" 12
	diag_file "$SM_LOG" 10
fi

# --------------------------------------------------------------------------
# SMTP AUTH from 127.0.0.2

mk noauth "Olga <olga@example.test>" --to rcpt@elsewhere.test
if send noauth olga@example.test --to rcpt@elsewhere.test --local-interface $EXT; then
	not_ok "unauthenticated client 127.0.0.2: relaying to elsewhere.test refused"
else
	check 'swaks_said "550 5.7.1"' "unauthenticated client 127.0.0.2: relaying to elsewhere.test refused"
fi
mk badauth "Olga <olga@example.test>" --to rcpt@elsewhere.test
if send badauth olga@example.test --to rcpt@elsewhere.test --local-interface $EXT \
    --auth PLAIN --auth-user alice --auth-password wrong; then
	not_ok "SMTP AUTH: a wrong password is refused"
else
	ok "SMTP AUTH: a wrong password is refused"
fi
mk auth "Olga <olga@example.test>" --to rcpt@elsewhere.test
if send auth olga@example.test --to rcpt@elsewhere.test --local-interface $EXT \
    --auth PLAIN --auth-user alice --auth-password s3cret-pw &&
    GOT=$(sink_wait "auth-$RUN" 30); then
	ok "SMTP AUTH (PLAIN, 127.0.0.2): accepted, relayed and delivered"
	check 'grep -q "^<- *235 " "$SWAKS_LOG" && grep -q "login=alice service=smtp .* -> OK" "$SM_DIR/saslauthd.log"' \
	    "SMTP AUTH: Sendmail authenticated alice through libsasl2 and saslauthd.py"
	Q=$(qid)
	check 'grep -q "^authmilter: info: $Q: client=.*\[127.0.0.2\] auth=alice from=.* signed" "$WORK/sm.log"' \
	    "SMTP AUTH: authmilter saw {auth_authen}=alice (asked for with smfi_setsymlist; the .mc sends none)"
	check_dual auth
else
	not_ok "SMTP AUTH (PLAIN, 127.0.0.2): accepted, relayed and delivered"
	diag_file "$SWAKS_LOG" 15
	diag_file "$SM_LOG" 10
fi

# --------------------------------------------------------------------------
# inbound from 127.0.0.2: pass

mk pass "Alice <alice@in.test>"
sign_in pass
if send pass alice@in.test --local-interface $EXT && GOT=$(sink_wait "pass-$RUN" 30); then
	ok "inbound pass: accepted and delivered"
	diag "inbound pass: headers at the sink, top first: $(mget "$GOT" 'names[:5]')"
	is "$(mget "$GOT" 'len(ars)')" 1 "inbound pass: exactly one Authentication-Results header"
	is "$(mget "$GOT" 'len(ours)')" 1 "inbound pass: it is ours (authserv-id $SM_HOST)"
	is "$(mget "$GOT" '[c["method"] + "=" + c["result"] for c in ours[0]["clauses"] if c["props"].get("smtp.mailfrom")]')" \
	    '["spf=pass"]' "inbound pass: spf=pass smtp.mailfrom"
	is "$(mget "$GOT" 'sorted(c["result"] + "/" + c["props"].get("header.a", "") for c in arcs("dkim"))')" \
	    '["pass/ed25519-sha256", "pass/rsa-sha256"]' "inbound pass: dkim=pass for the RSA and the Ed25519 signature"
	is "$(mget "$GOT" 'arc("dmarc")["result"] + " " + arc("dmarc")["props"].get("header.from", "")')" \
	    "pass in.test" "inbound pass: dmarc=pass header.from=in.test"
	ar_i=$(mget "$GOT" '[n.lower() for n in names].index("authentication-results")')
	rcv_i=$(mget "$GOT" '[n.lower() for n in names].index("received")')
	check '[ "$ar_i" -le 1 ] && [ "$rcv_i" -le 1 ]' \
	    "inbound pass: our A-R and Sendmail's Received are the two top headers (A-R $ar_i, Received $rcv_i)"
	check 'dverify "$GOT"' "inbound pass: the delivered message still verifies (python3-dkim)"
	is "$(msg_header_count "$GOT" DKIM-Signature)" 2 "inbound pass: not signed by us (only the two original signatures)"
else
	not_ok "inbound pass: accepted and delivered"
	diag_file "$SWAKS_LOG" 12
	diag_file "$SM_LOG" 10
fi

# forged A-R with our authserv-id removed (smfi_chgheader under Sendmail)
mk forged "Alice <alice@in.test>" \
    --header "Authentication-Results: $SM_HOST; dkim=pass header.d=forged.example; dmarc=pass header.from=in.test" \
    --header "Authentication-Results: other.example; spf=pass smtp.mailfrom=alice@in.test"
sign_in forged
if send forged alice@in.test --local-interface $EXT && GOT=$(sink_wait "forged-$RUN" 30); then
	ok "forged A-R: accepted and delivered"
	is "$(mget "$GOT" 'len(ars)')" 2 "forged A-R: two A-R left (ours and other.example's)"
	is "$(mget "$GOT" '"forged" in " ".join(v for n, v in hdrs if n.lower() == "authentication-results")')" \
	    false "forged A-R: the forged one (authserv-id $SM_HOST) is gone"
	is "$(mget "$GOT" 'arc("dmarc")["result"]')" pass "forged A-R: ours says dmarc=pass"
else
	not_ok "forged A-R: accepted and delivered"
	diag_file "$SWAKS_LOG" 12
fi

# --------------------------------------------------------------------------
# DMARC failure, p=reject: 550 5.7.1

mk reject "Bob <bob@rej.test>"
if send reject bob@rej.test --local-interface $EXT; then
	not_ok "p=reject failure: refused"
	diag_file "$SWAKS_LOG" 12
else
	check 'grep -q "^<\*\* *550 5.7.1 .*DMARC.*rej.test" "$SWAKS_LOG"' \
	    "p=reject failure: refused at end of data with 550 5.7.1 naming DMARC and rej.test"
fi
check 'wait_for 5 grep -q "Milter: data, reject=550 5.7.1" "$SM_LOG"' \
    "p=reject failure: Sendmail logged the milter's reject"

# --------------------------------------------------------------------------
# DMARC failure, p=quarantine: Sendmail's quarantine

mk quar "Quentin <q@quar.test>"
QQ=
if send quar q@quar.test --local-interface $EXT; then
	QQ=$(qid)
	ok "p=quarantine failure: accepted (250, queue id $QQ)"
else
	not_ok "p=quarantine failure: accepted (250)"
	diag_file "$SWAKS_LOG" 12
fi
if [ -n "$QQ" ] && wait_for 10 test -f "$SM_DIR/mqueue/hf$QQ"; then
	ok "p=quarantine failure: kept as a quarantined queue file (hf$QQ)"
	sleep 1
	check '! sink_find "quar-$RUN"' "p=quarantine failure: nothing at the sink"
	check 'grep -q "^H.*Authentication-Results: $SM_HOST;" "$SM_DIR/mqueue/hf$QQ" && grep -q "dmarc=fail" "$SM_DIR/mqueue/hf$QQ"' \
	    "p=quarantine failure: the quarantined message carries our A-R with dmarc=fail"
	diag "quarantine reason (q line): $(grep '^q' "$SM_DIR/mqueue/hf$QQ" | cut -c1-200)"
	sm -bp -qQ >"$SM_DIR/mailq.out" 2>&1
	check 'grep -q "^$QQ" "$SM_DIR/mailq.out" && grep -q "QUARANTINE:" "$SM_DIR/mailq.out"' \
	    "p=quarantine failure: mailq -qQ lists it with its QUARANTINE: reason"
	sm -bp >"$SM_DIR/mailq-plain.out" 2>&1
	check '! grep -q "^$QQ" "$SM_DIR/mailq-plain.out"' \
	    "p=quarantine failure: the normal queue listing (mailq) does not show it"
	[ -n "${IT_VERBOSE:-}" ] && diag_file "$SM_DIR/mailq.out"
	# what the README tells an administrator: -Q without a reason on the
	# quarantined (-qQ) item releases it; -qI then delivers it
	sm -Q -qQ -qI"$QQ" >"$SM_DIR/release.out" 2>&1
	check 'wait_for 20 test -f "$SM_DIR/mqueue/qf$QQ" || sink_find "quar-$RUN"' \
	    "p=quarantine failure: sendmail -Q -qQ -qI$QQ releases it (hf -> qf)"
	sm -q -qI"$QQ" >"$SM_DIR/run.out" 2>&1
	check 'sink_wait "quar-$RUN" 30' \
	    "p=quarantine failure: released and run, it reaches the sink"
else
	not_ok "p=quarantine failure: kept as a quarantined queue file (hf$QQ)"
	diag "queue directory: $(ls "$SM_DIR/mqueue" | tr '\n' ' ')"
	diag_file "$SM_LOG" 10
fi
sm_quarantine_logged() {
	grep -q "$QQ: milter=authmilter, quarantine=DMARC policy of quar.test" "$SM_LOG" &&
	    grep -q "$QQ: to=.*stat=quarantined" "$SM_LOG"
}
check 'wait_for 5 sm_quarantine_logged' \
    "p=quarantine failure: Sendmail logged the milter's quarantine"

# --------------------------------------------------------------------------
# the end

sleep 1
check '! sink_find "reject-$RUN"' "p=reject failure: nothing at the sink"
check '! sink_find "noauth-$RUN" && ! sink_find "badauth-$RUN"' "refused relaying: nothing at the sink"
check '! grep -iE "Milter \(authmilter\): (error|timeout|to error state)|Milter .*(local socket|connect).*(failed|refused|unsafe)" "$SM_LOG"' \
    "Sendmail logged no milter error"
check 'am_alive sm' "authmilter still running"
check 'am_log_clean "$WORK/sm.log"' "authmilter log has no crash or sanitizer report"
[ -n "${IT_VERBOSE:-}" ] && { diag_file "$SM_LOG" 40; diag_file "$WORK/sm.log" 20; }
stop_pid "$SM_PID" 15
stop_pid "$SM_NS_PID" 15
am_stop sm
is "$STOP_RC" 0 "authmilter exits 0 on SIGTERM"
exit 0
