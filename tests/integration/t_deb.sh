#!/bin/bash
# t_deb.sh - the Debian package: build, lintian, install, run, purge.
#
# contrib/build-deb.sh builds the .deb from a copy of the tree (with
# DEB_BUILD_OPTIONS="nocheck noddebs": the suite runs the unit tests);
# the top of the tree must not get a debian/ directory. lintian must find no
# error (its warnings and notes are printed as comments). The package's
# Build-Depends must be BUILD_PKGS of contrib/bootstrap.sh.
#
# Then it is installed on this machine with apt-get install ./x.deb (a
# policy-rc.d refuses every start), and checked: files, modes and owners,
# the system user, conffiles, "authmilter configtest" on the installed
# default configuration, and "systemd-analyze security --offline=true" on
# the packaged unit and contrib/authmilter.service (rated OK or better).
#
# The machine has no systemd as PID 1, so the packaged unit cannot run
# under systemd. unitsandbox.py rebuilds its sandbox without systemd (mount
# namespace: ProtectSystem=strict with the writable paths, PrivateTmp,
# PrivateDevices, ProtectHome; the user, an empty capability bounding set,
# NoNewPrivileges, RestrictNamespaces, and seccomp filters for
# SystemCallFilter, RestrictAddressFamilies and MemoryDenyWriteExecute) and
# runs the unit's ExecStartPre and ExecStart commands in it, with the
# installed binary, a configuration in /etc/authmilter and a key in
# /etc/authmilter/keys: the socket in /run/authmilter, a signed message and
# an inbound one (DNS from unbound over the network) through miltc, a DMARC
# failure report submitted by authmilter's own SMTP client (ReportSMTPRelay,
# what the README recommends for the unit) and received by the sink,
# the metrics endpoint, a reload, SIGTERM. The options it cannot apply are
# printed as comments.
#
# Last, dpkg -r keeps the conffile, dpkg --purge removes it. The package is
# purged at exit in any case; the system user and a key made here are
# removed when the test made them. The test refuses to run when an
# authmilter package is installed already, and two runs on one machine
# take turns (flock on /run/lock/authmilter-t_deb.lock).

. "$(dirname "$0")/lib.sh"
it_init deb
it_need_tools dpkg-buildpackage dpkg-deb dh lintian systemd-analyze apt-get \
    dpkg unbound unbound-checkconf curl
it_need_miltc
"$PY" -c 'import seccomp' 2>/dev/null || bail "python3-seccomp is missing"

PKG=authmilter
# The package, its user and /etc/authmilter are the machine's, not the
# test's: two runs at once (two trees on one machine) would undo each
# other's work. The second waits for the first.
exec 9>/run/lock/authmilter-t_deb.lock
flock -w 600 9 || bail "another t_deb.sh has held /run/lock/authmilter-t_deb.lock for 10 minutes"
if dpkg-query -W -f='${Status}' $PKG 2>/dev/null | grep -q 'installed'; then
	bail "the package $PKG is installed on this machine already: not touching it"
fi
OUT=$WORK/out
TOP=$TOP_SRCDIR
UNIT=/lib/systemd/system/authmilter.service
CONF=/etc/authmilter/authmilter.conf

# --------------------------------------------------------------------------
# build

t0=$(date +%s)
if DEB_BUILD_OPTIONS="nocheck noddebs" JOBS=2 sh "$TOP/contrib/build-deb.sh" "$OUT" \
    >"$WORK/build.log" 2>&1; then
	DEB=$(ls "$OUT"/${PKG}_*.deb 2>/dev/null | head -n 1)
	ok "contrib/build-deb.sh builds $(basename "$DEB") ($(( $(date +%s) - t0 )) s)"
else
	diag_file "$WORK/build.log" 30
	bail "contrib/build-deb.sh failed"
fi
check '[ ! -e "$TOP/debian" ]' "the top of the tree has no debian/ directory after the build"

# Build-Depends = BUILD_PKGS of bootstrap.sh (build-essential is implied;
# debhelper-compat is the packaging's own)
bpkgs=$(sed -n '/^BUILD_PKGS="/,/"$/p' "$TOP/contrib/bootstrap.sh" |
    sed 's/BUILD_PKGS=//; s/"//g' | tr ' \t' '\n\n' | grep -v '^$' |
    grep -vx build-essential | sort | tr '\n' ' ')
bdeps=$(sed -n '/^Build-Depends:/,/^[A-Z]/p' \
    "$TOP/contrib/debian/control" | sed 's/^Build-Depends://; /^[A-Z][A-Za-z-]*:/d' |
    tr ',' '\n' | sed 's/(.*)//; s/[[:space:]]//g' | grep -v '^$' |
    grep -vx debhelper-compat | sort | tr '\n' ' ')
is "$bdeps" "$bpkgs" "Build-Depends are BUILD_PKGS of contrib/bootstrap.sh"

# --------------------------------------------------------------------------
# what the .deb holds

dpkg-deb -c "$DEB" | awk '{ print $1, $2, $NF }' >"$WORK/contents"
has() { grep -q " \./${1#/}\$" "$WORK/contents"; }
mode_of() { awk -v f="./${1#/}" '$3 == f { print $1 " " $2 }' "$WORK/contents"; }
check 'has /usr/sbin/authmilter' "the package holds /usr/sbin/authmilter"
check 'grep -qx "ExecStart=/usr/sbin/authmilter report -c $CONF" <(dpkg-deb --fsys-tarfile "$DEB" | tar -xOf - ./lib/systemd/system/authmilter-report.service)' \
    "the report service runs /usr/sbin/authmilter report -c $CONF"
check 'has /usr/share/man/man8/authmilter.8.gz && has /usr/share/man/man5/authmilter.conf.5.gz' \
    "the package holds the manual pages authmilter(8) and authmilter.conf(5)"
check 'has $CONF && has /etc/authmilter/keys/' "the package holds $CONF and /etc/authmilter/keys/"
check 'has $UNIT && has /usr/lib/tmpfiles.d/authmilter.conf' \
    "the package holds the systemd unit and the tmpfiles entry"
check 'has /lib/systemd/system/authmilter-report.service && has /lib/systemd/system/authmilter-report.timer' \
    "the package holds the report service and its timer"
is "$(mode_of $CONF)" "-rw-r--r-- root/root" "$CONF in the package: 0644 root:root"
dpkg-deb --ctrl-tarfile "$DEB" | tar -xOf - ./conffiles >"$WORK/conffiles" 2>/dev/null
is "$(cat "$WORK/conffiles")" "$CONF" "conffiles: $CONF (and nothing else)"
DEPS=$(dpkg-deb -f "$DEB" Depends)
check 'grep -q "libmilter1.0.1" <<<"$DEPS" && grep -q "libopendkim11" <<<"$DEPS" && grep -q "libspf2-2" <<<"$DEPS" && grep -q "adduser" <<<"$DEPS"' \
    "Depends from \${shlibs:Depends} (libmilter, libopendkim, libspf2...) and adduser"
diag "Depends: $DEPS"

# --------------------------------------------------------------------------
# lintian

lintian --display-info --pedantic "$DEB" >"$WORK/lintian.out" 2>&1
lrc=$?
n_e=$(grep -c '^E: ' "$WORK/lintian.out")
n_w=$(grep -c '^W: ' "$WORK/lintian.out")
if [ "$n_e" = 0 ] && [ "$lrc" -lt 2 ]; then
	ok "lintian: no error ($n_w warnings)"
else
	not_ok "lintian: no error (exit $lrc, $n_e errors)"
fi
[ -s "$WORK/lintian.out" ] && diag "lintian says:" "$(grep -E '^[EWIPX]: ' "$WORK/lintian.out")"

# --------------------------------------------------------------------------
# install (nothing starts: policy-rc.d; nor is there a systemd to start it)

had_user=$(getent passwd authmilter)
had_spool=
[ -d /var/spool/postfix/authmilter ] && had_spool=1
had_runtime=
[ -d /run/authmilter ] && had_runtime=1
[ -d /var/lib/authmilter ] && had_state=1
purge_all() {
	if dpkg-query -W -f='${Status}' $PKG 2>/dev/null | grep -q 'ok'; then
		dpkg --purge $PKG >>"$WORK/purge.log" 2>&1
	fi
	rm -f /etc/authmilter/keys/t-deb.* /etc/authmilter/t-deb-*.conf
	rmdir /etc/authmilter/keys /etc/authmilter 2>/dev/null
	[ -n "$had_runtime" ] || rm -rf /run/authmilter
	[ -n "${had_state:-}" ] || rm -rf /var/lib/authmilter
	[ -n "$had_spool" ] || rmdir /var/spool/postfix/authmilter 2>/dev/null
	[ -n "$had_user" ] || ! getent passwd authmilter >/dev/null ||
	    deluser --system authmilter >>"$WORK/purge.log" 2>&1
	[ -n "$MADE_PRC" ] && rm -f /usr/sbin/policy-rc.d
	MADE_PRC=
}
MADE_PRC=
it_at_exit purge_all
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	MADE_PRC=1
fi
if DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q \
    --no-install-recommends "$DEB" >"$WORK/install.log" 2>&1; then
	ok "apt-get install ./$(basename "$DEB")"
else
	diag_file "$WORK/install.log" 20
	bail "apt-get install ./$(basename "$DEB") failed"
fi
[ -n "$MADE_PRC" ] && rm -f /usr/sbin/policy-rc.d && MADE_PRC=

is "$(dpkg-query -W -f='${Status}' $PKG)" "install ok installed" "dpkg: $PKG installed"
pw=$(getent passwd authmilter)
check '[ -n "$pw" ] && [ "$(echo "$pw" | cut -d: -f3)" -lt 1000 ] && [ "$(echo "$pw" | cut -d: -f6)" = /nonexistent ] && [ "$(echo "$pw" | cut -d: -f7)" = /usr/sbin/nologin ]' \
    "postinst made the system user authmilter (uid < 1000, home /nonexistent, shell nologin)"
diag "passwd: $pw; group: $(getent group authmilter)"
stat_of() { stat -c '%a %U:%G' "$1" 2>&1; }
is "$(stat_of /etc/authmilter/keys)" "700 authmilter:authmilter" "/etc/authmilter/keys: 0700 authmilter:authmilter"
is "$(stat_of $CONF)" "644 root:root" "$CONF: 0644 root:root"
is "$(stat_of /etc/authmilter)" "755 root:root" "/etc/authmilter: 0755 root:root"
is "$(stat_of /usr/sbin/authmilter)" "755 root:root" "/usr/sbin/authmilter: 0755 root:root"
check 'man -w authmilter >/dev/null 2>&1 || [ -f /usr/share/man/man8/authmilter.8.gz ]' "man page authmilter(8) installed"
if [ -d /var/spool/postfix ]; then
	is "$(stat_of /var/spool/postfix/authmilter)" "750 authmilter:authmilter" \
	    "the tmpfiles entry made /var/spool/postfix/authmilter (0750 authmilter:authmilter)"
fi
check '[ -L /etc/systemd/system/multi-user.target.wants/authmilter.service ]' \
    "the unit is enabled (deb-systemd-helper)"
check '[ ! -e /etc/systemd/system/timers.target.wants/authmilter-report.timer ]' \
    "the report timer is not enabled (it needs the Report* keys first)"

# the installed default configuration is valid as installed
check '/usr/sbin/authmilter configtest' "authmilter configtest (the built-in default, $CONF) passes"
check '/usr/sbin/authmilter configtest -c $CONF' "authmilter configtest -c $CONF passes"
check 'runuser -u authmilter -- /usr/sbin/authmilter configtest -c $CONF' \
    "... also as the user authmilter"
check '! grep -Eq "^(Domain|Selector|KeyFile)[[:space:]]" $CONF' \
    "signing is commented out in the default configuration (no key exists yet)"

# --------------------------------------------------------------------------
# the unit

check 'grep -qx "ExecStart=/usr/sbin/authmilter -f -c $CONF" $UNIT' \
    "the packaged unit runs /usr/sbin/authmilter -f -c $CONF"
# verify names every key systemd 252 would ignore (a typo in a sandbox
# option would silently weaken it) and checks the commands and man pages
for u in $UNIT /lib/systemd/system/authmilter-report.service \
    /lib/systemd/system/authmilter-report.timer; do
	systemd-analyze verify "$u" >"$WORK/verify.out" 2>&1
	vrc=$?
	check '[ $vrc = 0 ] && [ ! -s "$WORK/verify.out" ]' \
	    "systemd-analyze verify $u: no complaint (unknown keys, commands, man pages)"
	[ -s "$WORK/verify.out" ] && diag_file "$WORK/verify.out"
done
for u in "$UNIT" "$TOP/contrib/authmilter.service"; do
	cp "$u" "$WORK/authmilter.service"
	(cd "$WORK" && systemd-analyze security --offline=true authmilter.service) \
	    >"$WORK/security.out" 2>&1
	line=$(grep 'Overall exposure level' "$WORK/security.out")
	score=$(sed -n 's/.*authmilter.service: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p' <<<"$line")
	if [[ "$score" =~ ^[0-9.]+\ (OK|SAFE|PERFECT)$ ]] &&
	    (cd "$WORK" && systemd-analyze security --offline=true --threshold=49 \
	    authmilter.service >/dev/null 2>&1); then
		ok "systemd-analyze security --offline=true $u: $score"
	else
		not_ok "systemd-analyze security --offline=true $u: OK or better"
		diag "$line"
		diag_file "$WORK/security.out" 15
	fi
done
diag "what it still counts against the unit:" "$(grep '✗' "$WORK/security.out" | sed 's/  */ /g')"

# --------------------------------------------------------------------------
# the daemon in the unit's sandbox (unitsandbox.py)

unbound_new
unbound_zone test 30
rr() { unbound_data "$($PY "$IT_DIR/inb_tool.py" rr "$1" "$2")"; }
rr in.test "v=spf1 ip4:127.0.0.2 -all"
rr _dmarc.in.test "v=DMARC1; p=none"
rr fail.test "v=spf1 ip4:192.0.2.99 -all"
rr _dmarc.fail.test "v=DMARC1; p=none; ruf=mailto:ruf@fail.test; fo=1"
KEY=/etc/authmilter/keys/t-deb
/usr/sbin/authmilter keygen --domain deb.test --selector t-deb --algorithm ed25519 \
    --directory /etc/authmilter/keys >"$WORK/keygen.rr" 2>"$WORK/keygen.err" ||
    { diag_file "$WORK/keygen.err"; bail "authmilter keygen into /etc/authmilter/keys"; }
chown authmilter: "$KEY.private"
rr t-deb._domainkey.deb.test "$($PY "$IT_DIR/inb_tool.py" zonetxt "$WORK/keygen.rr")"
unbound_start || bail "unbound could not start"

alloc_port MPORT || bail "no free port"
# failure reports leave by SMTP (ReportSMTPRelay) to the sink: Postfix's and
# Sendmail's sendmail(1) cannot work under the unit (see the README)
sink_start || bail "sink could not start"
TCONF=/etc/authmilter/t-deb-$$.conf
# the installed configuration, with a key, the unit's socket, the test DNS
sed -e 's/^#\(Domain\|Selector\|KeyFile\)\([[:space:]]\)/\1\2/' \
    -e 's/^\(Domain[[:space:]]*\).*/\1deb.test/' \
    -e 's/^\(Selector[[:space:]]*\).*/\1t-deb/' \
    -e "s#^\\(KeyFile[[:space:]]*\\).*#\\1$KEY.private#" \
    -e 's#^Socket[[:space:]].*#Socket local:/run/authmilter/authmilter.sock#' \
    -e 's/^Syslog[[:space:]].*/Syslog no/' $CONF >"$TCONF"
cat >>"$TCONF" <<EOF
PidFile         /run/authmilter/authmilter.pid
LogWhy          yes
AuthservID      mx.deb.test
InternalHosts   127.0.0.1/32
Nameservers     127.0.0.1:$UNBOUND_PORT
MetricsListen   127.0.0.1:$MPORT
FailureReports  yes
ReportOrgName   deb test
ReportEmail     dmarc-reports@deb.test
ReportSMTPRelay 127.0.0.1:$SINK_PORT
EOF
chmod 644 "$TCONF"
SB() { "$PY" "$IT_DIR/unitsandbox.py" "$UNIT" -- "$@"; }
# the unit's own ExecStartPre and ExecStart, with the test's config
pre=$(sed -n 's/^ExecStartPre=//p' $UNIT | sed "s#$CONF#$TCONF#")
start=$(sed -n 's/^ExecStart=//p' $UNIT | sed "s#$CONF#$TCONF#")
check 'SB $pre' "ExecStartPre ($pre) passes in the sandbox"
# not through SB: $! must be the daemon (python execs it), not a subshell
"$PY" "$IT_DIR/unitsandbox.py" "$UNIT" -- $start >"$WORK/daemon.log" 2>"$WORK/daemon.err" &
DPID=$!
it_register "$DPID" authmilter-sandboxed
SOCK=/run/authmilter/authmilter.sock
if ! wait_socket "$SOCK" 15 "$DPID"; then
	not_ok "the sandboxed daemon makes its socket $SOCK"
	diag_file "$WORK/daemon.err"
	diag_file "$WORK/daemon.log"
else
	ok "the sandboxed daemon makes its socket $SOCK"
	diag "not applied by unitsandbox.py (systemd would): $(grep '^unitsandbox: not applied' \
	    "$WORK/daemon.err" | sed 's/unitsandbox: not applied: //' | tr '\n' ' ')"
	st=/proc/$DPID/status
	is "$(awk '/^(Uid|Gid):/ { print $2 }' $st | tr '\n' ' ')" \
	    "$(id -u authmilter) $(id -g authmilter) " "it runs as authmilter:authmilter"
	is "$(awk '/^(CapBnd|CapEff):/ { print $2 }' $st | tr '\n' ' ')" \
	    "0000000000000000 0000000000000000 " "no capability (bounding and effective sets empty)"
	is "$(awk '/^(NoNewPrivs|Seccomp):/ { print $2 }' $st | tr '\n' ' ')" "1 2 " \
	    "no new privileges, seccomp filter mode"
	is "$(stat_of /run/authmilter)" "750 authmilter:authmilter" "/run/authmilter (RuntimeDirectory): 0750 authmilter:authmilter"
	check '[ "$(stat -c %U:%G "$SOCK")" = authmilter:authmilter ] && [ $((0$(stat -c %a "$SOCK") & 07)) = 0 ]' \
	    "the socket is authmilter:authmilter, no access for others (UMask=0007)"

	printf 'From: Olga <olga@deb.test>\r\nTo: r@remote.test\r\nSubject: deb\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\nMessage-ID: <deb-1@deb.test>\r\n\r\nsigned in the sandbox\r\n' >"$WORK/out.eml"
	if miltc_run "local:$SOCK" -c 127.0.0.1 -f olga@deb.test -r r@remote.test "$WORK/out.eml" &&
	    [ "$(miltc_verdict)" = ACCEPT ] && [ "$(miltc_sigs)" = 1 ]; then
		ok "outbound through the socket: accepted and signed (key read from /etc/authmilter/keys)"
		miltc_apply "$MILTC_OUT" "$WORK/out.eml" >"$WORK/out.signed"
		check '"$PY" "$DKIMVERIFY" --nameserver 127.0.0.1 --port "$UNBOUND_PORT" "$WORK/out.signed"' \
		    "the signature verifies (python3-dkim)"
	else
		not_ok "outbound through the socket: accepted and signed"
		diag_file "$MILTC_OUT"
		diag_file "$MILTC_OUT.err"
		diag_file "$WORK/daemon.log"
	fi
	printf 'From: A <a@in.test>\r\nTo: b@mx.deb.test\r\nSubject: in\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\nMessage-ID: <deb-2@in.test>\r\n\r\nbody\r\n' >"$WORK/in.eml"
	if miltc_run "local:$SOCK" -c 127.0.0.2 -H mx.in.test -f a@in.test -r b@mx.deb.test "$WORK/in.eml" &&
	    [ "$(miltc_verdict)" = ACCEPT ] &&
	    grep -Eq 'Authentication-Results: +mx.deb.test;.*spf=pass.*dmarc=pass' "$MILTC_OUT"; then
		ok "inbound through the socket: DNS over the network (unbound), A-R with spf=pass dmarc=pass"
	else
		not_ok "inbound through the socket: DNS over the network (unbound), A-R with spf=pass dmarc=pass"
		diag_file "$MILTC_OUT"
		diag_file "$WORK/daemon.log"
	fi
	printf 'From: F <f@fail.test>\r\nTo: b@mx.deb.test\r\nSubject: fail\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\nMessage-ID: <deb-3@fail.test>\r\n\r\nbody\r\n' >"$WORK/fail.eml"
	if miltc_run "local:$SOCK" -c 127.0.0.2 -H mx.fail.test -f f@fail.test -r b@mx.deb.test "$WORK/fail.eml" &&
	    grep -Eq 'Authentication-Results: +mx.deb.test;.*dmarc=fail' "$MILTC_OUT"; then
		ok "a DMARC failure with ruf= (p=none): A-R with dmarc=fail"
		report_at_sink() { grep -qs "ruf@fail.test" "$SINK_DIR"/new/*.env; }
		check 'wait_for 20 report_at_sink' \
		    "FailureReports: the report left through ReportSMTPRelay from inside the sandbox"
	else
		not_ok "a DMARC failure with ruf= (p=none): A-R with dmarc=fail"
		diag_file "$MILTC_OUT"
	fi
	check 'curl -sS --max-time 10 "http://127.0.0.1:$MPORT/metrics" | grep -q "^authmilter_config_reloads_total"' \
	    "MetricsListen: /metrics answers over TCP"
	kill -HUP "$DPID"
	check 'wait_for 10 grep -q "configuration reloaded from $TCONF" "$WORK/daemon.log" "$WORK/daemon.err"' \
	    "SIGHUP: the configuration and the key are read again as authmilter"
	check '! SB /usr/sbin/authmilter keygen --domain deb.test --selector t-deb-x --algorithm ed25519 --directory /etc/authmilter/keys' \
	    "in the sandbox /etc/authmilter/keys cannot be written (ProtectSystem=strict is in force)"
	stop_pid "$DPID" 20
	is "$STOP_RC" 0 "SIGTERM: the daemon exits 0"
	check '[ ! -e "$SOCK" ]' "... and removes its socket"
	check 'am_log_clean "$WORK/daemon.log" && am_log_clean "$WORK/daemon.err"' "no crash in the daemon's log"
fi
rm -f "$TCONF"
unbound_stop

# --------------------------------------------------------------------------
# remove keeps the conffile, purge removes it

echo "# a local change" >>$CONF
if dpkg -r $PKG >"$WORK/remove.log" 2>&1; then
	ok "dpkg -r $PKG"
else
	not_ok "dpkg -r $PKG"
	diag_file "$WORK/remove.log"
fi
check '[ ! -e /usr/sbin/authmilter ] && [ ! -e $UNIT ]' "after dpkg -r: the binary and the unit are gone"
check 'tail -n 1 $CONF | grep -q "a local change"' "after dpkg -r: the changed conffile is kept"
if dpkg --purge $PKG >"$WORK/purge.log" 2>&1; then
	ok "dpkg --purge $PKG"
else
	not_ok "dpkg --purge $PKG"
	diag_file "$WORK/purge.log"
fi
is "$(dpkg-query -W -f='${Status}' $PKG 2>/dev/null)" "" "after purge: dpkg knows nothing of $PKG"
check '[ ! -e $CONF ]' "after purge: $CONF is gone"
check '[ -f $KEY.private ]' "after purge: a key the administrator made is left alone"
check '[ ! -L /etc/systemd/system/multi-user.target.wants/authmilter.service ]' \
    "after purge: the unit is no longer enabled"
if [ -d /var/spool/postfix ] && [ -z "$had_spool" ]; then
	check '[ ! -e /var/spool/postfix/authmilter ]' "after purge: /var/spool/postfix/authmilter (empty) is gone"
fi
exit 0
