#!/bin/bash
# t_milter_input.sh - hostile input through the milter protocol, and the
# daemon's life cycle (bad keys, bad config, SIGHUP, SIGTERM).
#
# The MTA side is tests/miltc (it speaks the milter protocol as Postfix does,
# and sends byte-exact input with --raw). Signatures the milter makes are
# put back into the message (miltc_apply) and checked by python3-dkim
# against keys served by nsd. The runner also runs this script against the
# sanitizer build: every check that the daemon is alive and its log clean
# then catches memory errors too.

. "$(dirname "$0")/lib.sh"
it_init milter_input
it_need_tools nsd nsd-checkzone nsd-checkconf dig
it_need_authmilter
it_need_miltc

DOMAIN=example.test
KEYS=$WORK/keys
mkdir -m 700 "$KEYS"
GEN="$PY $IT_DIR/genmsg.py"
M=$WORK/msgs
mkdir -p "$M"

zone_new "$DOMAIN"
am_keygen "$DOMAIN" rsa1 rsa "$KEYS" || bail "authmilter keygen (rsa)"
am_keygen "$DOMAIN" ed1 ed25519 "$KEYS" || bail "authmilter keygen (ed25519)"
am_keygen "$DOMAIN" sel1 rsa "$KEYS" || bail "authmilter keygen (sel1)"
am_keygen "$DOMAIN" sel2 ed25519 "$KEYS" || bail "authmilter keygen (sel2)"
nsd_start || bail "nsd (authoritative DNS for $DOMAIN) could not start"
# inbound mail is checked: its DNS comes from a private unbound
unbound_zone "$DOMAIN"
unbound_data "$DOMAIN. 300 IN TXT \"v=spf1 -all\"" \
    "_dmarc.$DOMAIN. 300 IN TXT \"v=DMARC1; p=none\""
unbound_start || bail "unbound (DNS for the inbound checks) could not start"

# --------------------------------------------------------------------------
# the milter under attack: dual signing, internal = 127.0.0.1 only

cat >"$KEYS/KeyTable" <<EOF
rsa $DOMAIN:rsa1:$KEYS/rsa1.private
ed  $DOMAIN:ed1:$KEYS/ed1.private
EOF
cat >"$KEYS/SigningTable" <<EOF
*@$DOMAIN rsa
*@$DOMAIN ed
EOF
mkdir -p "$WORK/main"
SOCK=unix:$WORK/main/milter.sock
cat >"$WORK/main/authmilter.conf" <<EOF
Socket              $SOCK
UMask               007
PidFile             $WORK/main/authmilter.pid
Syslog              no
LogWhy              yes
InternalHosts       127.0.0.1/32
KeyTable            $KEYS/KeyTable
SigningTable        refile:$KEYS/SigningTable
MultipleSignatures  yes
Canonicalization    relaxed/relaxed
RequireSafeKeys     yes
Nameservers         127.0.0.1:$UNBOUND_PORT
IgnoreHosts         192.0.2.77
AuthservID          mx.test
DNSTimeout          2
DNSBudget           4
EOF
am_start main "$WORK/main/authmilter.conf" || bail "authmilter could not start"
LOG=$WORK/main.log
check '[ "$(stat -c %a "${SOCK#unix:}")" = 660 ]' "UMask 007: the milter socket has mode 0660 (read and write, no execute bits)"

# send NAME [MILTC ARGS] - miltc from 127.0.0.1 (internal) unless -c given
send() {
	local name=$1
	shift
	miltc_run "$SOCK" -c 127.0.0.1 -f sender@example.test -r rcpt@remote.test \
	    "$@" "$M/$name.eml"
}

# expect_accept NAME - the verdict is ACCEPT (one check)
expect_accept() {
	local v
	v=$(miltc_verdict)
	if [ "$v" = ACCEPT ]; then
		ok "$1: milter answers ACCEPT"
	else
		not_ok "$1: milter answers ACCEPT"
		diag "verdict: '$v'"
		diag_file "$MILTC_OUT" 10
		diag_file "$MILTC_OUT.err" 5
		diag_file "$LOG" 5
	fi
}

# expect_signed_valid NAME N - N signatures, and python3-dkim verifies them
expect_signed_valid() {
	local name=$1 n=$2
	is "$(miltc_sigs)" "$n" "$name: $n DKIM-Signature header(s) added"
	miltc_apply "$MILTC_OUT" "$M/$name.eml" >"$M/$name.signed"
	check 'dkim_verify "$M/$name.signed"' "$name: the signatures verify (python3-dkim, keys from nsd)"
}

# --- a normal message first
$GEN plain --id plain >"$M/plain.eml"
if send plain; then
	expect_accept plain
	expect_signed_valid plain 2
	is "$(miltc_sig_tags a | tr '\n' ' ')" "ed25519-sha256 rsa-sha256 " "plain: rsa-sha256 + ed25519-sha256"
else
	not_ok "plain: miltc completed the conversation"; diag_file "$MILTC_OUT.err"
fi

# --- no From header: accepted, unsigned
$GEN nofrom --id nofrom >"$M/nofrom.eml"
send nofrom
expect_accept nofrom
is "$(miltc_sigs)" 0 "nofrom: not signed"
check 'grep -iE "not signed: .*(no From|From)" "$LOG"' "nofrom: the log says why (From)"

# --- two From headers: accepted unsigned by default (OnBadMessage accept)
$GEN multifrom --id multifrom >"$M/multifrom.eml"
send multifrom
expect_accept multifrom
is "$(miltc_sigs)" 0 "multifrom: several From headers: not signed"
check 'grep -iE "not signed: .*From" "$LOG" | grep -v -i "no From"' "multifrom: the log says why (From)"

# --- one From header, two addresses: same rule
$GEN fromlist --id fromlist >"$M/fromlist.eml"
send fromlist
expect_accept fromlist
is "$(miltc_sigs)" 0 "fromlist: From with two addresses: not signed"

# --- a 60 KB header field: about the largest one Postfix 3.7 hands to a
# milter (with a milter attached it cuts a header field at about 60000
# bytes, whatever header_size_limit says; t_sign_postfix.sh sends one)
$GEN bighdr --id bighdr --size 60000 >"$M/bighdr.eml"
if send bighdr; then
	expect_accept bighdr
	expect_signed_valid bighdr 2
else
	not_ok "bighdr: miltc completed the conversation"; diag_file "$MILTC_OUT.err"
fi

# --- a 100 KB header field (miltc cuts it at 102400, Postfix's
# header_size_limit): one SMFIC_HEADER packet larger than libmilter's default
# limit of 64 KiB. An MTA that sends it (Sendmail with a raised
# MaxHeadersLength) must still get an answer, not a dropped connection.
$GEN bighdr --id bighdr100k --size 100000 >"$M/bighdr100k.eml"
if send bighdr100k; then
	expect_accept bighdr100k
else
	not_ok "bighdr100k: the milter answers a 100 KB header field (no dropped connection)"
	diag "miltc: $(cat "$MILTC_OUT.err")"
	diag "libmilter refuses packets over 65535 bytes unless the filter calls smfi_setmaxdatasize()"
fi

# --- NUL bytes in the body, sent raw
$GEN nul --id nul >"$M/nul.eml"
if send nul --raw; then
	expect_accept nul
	n=$(miltc_sigs)
	diag "nul: $n signature(s) added"
	if [ "$n" -gt 0 ]; then
		miltc_apply "$MILTC_OUT" "$M/nul.eml" >"$M/nul.signed"
		check 'dkim_verify "$M/nul.signed"' "nul: the signatures made over a body with NUL bytes verify"
	fi
else
	not_ok "nul: miltc completed the conversation"; diag_file "$MILTC_OUT.err"
fi

# --- bare LF and bare CR in the body, sent raw (Postfix never sends this:
# the point is no crash, no hang, an answer)
$GEN barelf --id barelf >"$M/barelf.eml"
if send barelf --raw; then
	expect_accept barelf
	diag "barelf: $(miltc_sigs) signature(s) added"
else
	not_ok "barelf: miltc completed the conversation"; diag_file "$MILTC_OUT.err"
fi

# --- more headers than MaximumHeaders (default 1000): accepted unsigned
$GEN manyhdrs --id manyhdrs --count 1500 >"$M/manyhdrs.eml"
if send manyhdrs; then
	expect_accept manyhdrs
	is "$(miltc_sigs)" 0 "manyhdrs: 1505 headers (> MaximumHeaders 1000): not signed"
	check 'grep -iE "not signed: .*(header|MaximumHeaders)" "$LOG"' "manyhdrs: the log says why (too many headers)"
else
	not_ok "manyhdrs: miltc completed the conversation"; diag_file "$MILTC_OUT.err"
fi

# --- several messages on one connection, hostile one in the middle
if miltc_run "$SOCK" -c 127.0.0.1 -f sender@example.test -r rcpt@remote.test \
    "$M/plain.eml" "$M/nofrom.eml" "$M/plain.eml"; then
	check '[ "$(grep -c "^[0-9]*: *ACCEPT$" "$MILTC_OUT")" = 3 ]' "3 messages on one connection: 3 ACCEPT"
	check '[ "$(grep -cE "^3: (INSHEADER [0-9]+|ADDHEADER) DKIM-Signature:" "$MILTC_OUT")" = 2 ]' \
	    "3 messages on one connection: the third (after an unsignable one) is signed again"
else
	not_ok "3 messages on one connection: miltc completed the conversation"; diag_file "$MILTC_OUT.err"
fi

# --- external clients
$GEN plain --id extauth >"$M/extauth.eml"
if miltc_run "$SOCK" -c 192.0.2.9 -a alice -f sender@example.test -r rcpt@remote.test "$M/extauth.eml"; then
	expect_accept extauth
	expect_signed_valid extauth 2
else
	not_ok "extauth: miltc completed the conversation"; diag_file "$MILTC_OUT.err"
fi
$GEN plain --id extplain >"$M/extplain.eml"
miltc_run "$SOCK" -c 192.0.2.9 -f sender@example.test -r rcpt@remote.test "$M/extplain.eml"
expect_accept extplain
is "$(miltc_sigs)" 0 "extplain: external, unauthenticated client: not signed"
check 'grep -Eq "(INSHEADER 0|ADDHEADER) Authentication-Results: *mx.test;" "$MILTC_OUT"' \
    "extplain: inbound, so checked: our Authentication-Results is added"
miltc_run "$SOCK" -c 192.0.2.77 -f sender@example.test -r rcpt@remote.test "$M/extplain.eml"
expect_accept extplain
check '! grep -q "Authentication-Results" "$MILTC_OUT" && [ "$(miltc_sigs)" = 0 ]' \
    "IgnoreHosts client: neither checked (no A-R) nor signed"

# --- after all of it: alive and answering
check 'am_alive main' "after the hostile input the milter process is still running"
send plain
check '[ "$(miltc_verdict)" = ACCEPT ] && [ "$(miltc_sigs)" = 2 ]' "after the hostile input the milter still answers and signs"
check 'am_log_clean "$LOG"' "no sanitizer report or crash in the log"

# --------------------------------------------------------------------------
# refusals at start-up

mkdir -p "$WORK/bad"
# a key file readable by others
cp "$KEYS/sel1.private" "$WORK/bad/open.private"
chmod 0644 "$WORK/bad/open.private"
cat >"$WORK/bad/openkey.conf" <<EOF
Socket      unix:$WORK/bad/openkey.sock
PidFile     $WORK/bad/openkey.pid
Syslog      no
Domain      $DOMAIN
Selector    sel1
KeyFile     $WORK/bad/open.private
RequireSafeKeys yes
EOF
timeout 10 "$AUTHMILTER" -f -c "$WORK/bad/openkey.conf" >"$WORK/bad/openkey.log" 2>&1
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ]; then
	ok "key file with mode 0644: authmilter refuses to start (exit $rc)"
else
	not_ok "key file with mode 0644: authmilter refuses to start (exit $rc)"
	diag_file "$WORK/bad/openkey.log"
fi
check 'grep -F "$WORK/bad/open.private" "$WORK/bad/openkey.log" | grep -q "0\?644"' \
    "key file with mode 0644: the message names the file and its mode"
check '[ ! -S "$WORK/bad/openkey.sock" ] && [ ! -e "$WORK/bad/openkey.pid" ]' \
    "key file with mode 0644: no socket, no pid file left behind"
check_fails '"$AUTHMILTER" configtest -c "$WORK/bad/openkey.conf"' "configtest rejects the config with the 0644 key"

# a typo in a key name (line 4)
cat >"$WORK/bad/typo.conf" <<EOF
Socket      unix:$WORK/bad/typo.sock
PidFile     $WORK/bad/typo.pid
Syslog      no
Selectr     sel1
Domain      $DOMAIN
KeyFile     $KEYS/sel1.private
EOF
timeout 10 "$AUTHMILTER" -f -c "$WORK/bad/typo.conf" >"$WORK/bad/typo.log" 2>&1
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ]; then
	ok "config with a misspelt key: authmilter exits non-zero (exit $rc)"
else
	not_ok "config with a misspelt key: authmilter exits non-zero (exit $rc)"
	diag_file "$WORK/bad/typo.log"
fi
check 'grep -qF "$WORK/bad/typo.conf:4:" "$WORK/bad/typo.log"' \
    "config with a misspelt key: the message says FILE:LINE ($WORK/bad/typo.conf:4:)"

# configtest: good and bad
check '"$AUTHMILTER" configtest -c "$WORK/main/authmilter.conf"' "configtest: good config exits 0"
"$AUTHMILTER" configtest -c "$WORK/bad/typo.conf" >"$WORK/bad/configtest.out" 2>&1
rc=$?
is "$rc" 1 "configtest: bad config exits 1"
check 'grep -qF "$WORK/bad/typo.conf:4:" "$WORK/bad/configtest.out"' "configtest: bad config: FILE:LINE: reason on stderr"

# --------------------------------------------------------------------------
# SIGHUP and SIGTERM (single key: Domain / Selector / KeyFile)

mkdir -p "$WORK/hup"
HSOCK=unix:$WORK/hup/milter.sock
HCONF=$WORK/hup/authmilter.conf
HPID=$WORK/hup/authmilter.pid
HLOG=$WORK/hup.log
hup_conf() {	# hup_conf SELECTOR [EXTRA LINE] - write the config, atomically
	cat >"$HCONF.new" <<EOF
Socket          $HSOCK
PidFile         $HPID
Syslog          no
LogWhy          yes
InternalHosts   127.0.0.1/32
Domain          $DOMAIN
Selector        $1
KeyFile         $KEYS/$1.private
${2:-}
EOF
	mv -f "$HCONF.new" "$HCONF"
}
hup_conf sel1
am_start hup "$HCONF" || bail "authmilter (reload test) could not start"
# the socket comes up before the pid file is written: wait for both
wait_for 10 test -s "$HPID"
check '[ "$(cat "$HPID" 2>/dev/null)" = "$(am_pid hup)" ]' "PidFile holds the daemon's pid"

$GEN plain --id hup >"$M/hup.eml"
miltc_run "$HSOCK" -c 127.0.0.1 -f sender@example.test -r rcpt@remote.test "$M/hup.eml"
is "$(miltc_sig_tags s)" sel1 "before SIGHUP: signs with s=sel1"

# a broken new config: refused, the old one stays
hup_conf sel2 "MultipleSignatures  perhaps"	# line 9
kill -HUP "$(am_pid hup)"
if wait_for 10 grep -qF "$HCONF:9:" "$HLOG"; then
	ok "SIGHUP with a broken config: the log names $HCONF:9:"
else
	not_ok "SIGHUP with a broken config: the log names $HCONF:9:"
	diag_file "$HLOG" 5
fi
check 'am_alive hup' "SIGHUP with a broken config: still running"
miltc_run "$HSOCK" -c 127.0.0.1 -f sender@example.test -r rcpt@remote.test "$M/hup.eml"
is "$(miltc_sig_tags s)" sel1 "SIGHUP with a broken config: old config stays (still signs with s=sel1)"

# a good new config with a new selector
hup_conf sel2
kill -HUP "$(am_pid hup)"
wait_for 10 grep -q "configuration reloaded" "$HLOG"
got=
for i in 1 2 3 4 5 6 7 8 9 10; do
	miltc_run "$HSOCK" -c 127.0.0.1 -f sender@example.test -r rcpt@remote.test "$M/hup.eml"
	got=$(miltc_sig_tags s)
	[ "$got" = sel2 ] && break
	sleep 0.5
done
is "$got" sel2 "SIGHUP with a good config: the next message uses the new selector s=sel2"
miltc_apply "$MILTC_OUT" "$M/hup.eml" >"$M/hup.signed"
check 'dkim_verify "$M/hup.signed"' "SIGHUP with a good config: the new key's signature verifies"

# SIGTERM: exit 0, pid file removed
am_stop hup
is "$STOP_RC" 0 "SIGTERM: authmilter exits 0"
check '[ ! -e "$HPID" ]' "SIGTERM: the pid file is removed"
check '[ ! -e "${HSOCK#unix:}" ]' "SIGTERM: the socket is removed"
check 'am_log_clean "$HLOG"' "reload daemon: no sanitizer report or crash in the log"

am_stop main
is "$STOP_RC" 0 "SIGTERM: the hostile-input daemon exits 0 (no leak report under the sanitizer build)"
check 'am_log_clean "$LOG"' "hostile-input daemon: no sanitizer report in the log after exit"
exit 0
