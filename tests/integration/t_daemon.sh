#!/usr/bin/env bash
# t_daemon.sh - the daemon's life: background start with a pid file, the
# switch to UserID after the socket and keys are opened as root, signing as
# that user, and a clean stop by the pid from the pid file.
. "$(dirname "$0")/lib.sh"
it_init daemon
it_need_authmilter
it_need_miltc
[ "$(id -u)" = 0 ] || { echo "ok - # SKIP not root: UserID cannot be tested"; exit 0; }
id nobody >/dev/null 2>&1 || bail "daemon: no user 'nobody'"

keys=$WORK/keys
mkdir -p "$keys" && chmod 700 "$keys"
"$AUTHMILTER" keygen --domain example.test --selector d1 --algorithm ed25519 \
    --directory "$keys" >/dev/null 2>&1 || bail "daemon: keygen failed"
rundir=$WORK/run
mkdir -p "$rundir"
chown nobody "$rundir"
sock=$rundir/am.sock
pidf=$rundir/am.pid
cat > "$WORK/am.conf" <<CONF
Socket unix:$sock
UMask 007
UserID nobody
PidFile $pidf
Syslog no
Domain example.test
Selector d1
KeyFile $keys/d1.private
CONF
printf 'From: a@example.test\nTo: b@remote.test\nSubject: t\n\nbody\n' > "$WORK/m.eml"

check "'$AUTHMILTER' -c '$WORK/am.conf'" "started without -f: the command returns at once (exit 0)"
wait_for 10 test -s "$pidf"
pid=$(cat "$pidf" 2>/dev/null)
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
	ok "the pid file names a running daemon ($pid)"
	it_register "$pid" authmilter-bg
else
	not_ok "the pid file names a running daemon"
	exit 0
fi
wait_socket "$sock" 10 "$pid"
uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
is "$uid" "$(id -u nobody)" "the daemon runs as UserID nobody (real uid)"
euid=$(awk '/^Uid:/ { print $3 }' "/proc/$pid/status")
is "$euid" "$(id -u nobody)" "the daemon runs as UserID nobody (effective uid)"
is "$(stat -c %U "$sock" 2>/dev/null)" nobody "the socket belongs to UserID"
check "'$MILTC' -s unix:$sock '$WORK/m.eml' | grep -q 'INSHEADER 0 DKIM-Signature'" \
    "as nobody it still signs with the root-owned 0600 key read at start-up"
kill -TERM "$pid"
wait_for 15 bash -c "! kill -0 $pid 2>/dev/null"
if kill -0 "$pid" 2>/dev/null; then
	not_ok "SIGTERM stops the background daemon"
else
	ok "SIGTERM stops the background daemon"
	it_unregister "$pid"
fi
check "test ! -e '$pidf'" "the pid file is removed at exit"
check "test ! -e '$sock'" "the socket is removed at exit"
exit 0
