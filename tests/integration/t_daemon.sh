#!/usr/bin/env bash
# t_daemon.sh - the daemon's life: background start with a pid file, the
# switch to UserID after the socket and keys are opened as root, signing as
# that user, and a clean stop by the pid from the pid file. Then signals
# sent back to back (a second one arrives while the first is pending, which
# Linux may hand to a thread other than the main one): every SIGUSR1 and
# SIGHUP reloads and none stops the daemon, and a SIGHUP followed at once
# by SIGTERM reloads, then stops cleanly.
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

# --------------------------------------------------------------------------
# signals back to back (foreground, as root)

fsock=$WORK/fg.sock
sed -e "s#^Socket .*#Socket unix:$fsock#" -e '/^UserID/d' \
    -e "s#^PidFile .*#PidFile $WORK/fg.pid#" "$WORK/am.conf" >"$WORK/fg.conf"
am_start fg "$WORK/fg.conf" || bail "daemon: foreground authmilter did not start"
fpid=$(am_pid fg)
pairs=300
for ((i = 0; i < pairs; i++)); do
	kill -USR1 "$fpid" 2>/dev/null
	kill -HUP "$fpid" 2>/dev/null
	sleep 0.01
done
reloads() { grep -c "configuration reloaded" "$WORK/fg.log"; }
all_reloaded() { [ "$(reloads)" -ge $((2 * pairs)) ]; }
wait_for 30 all_reloaded
check "kill -0 $fpid && ! grep -q stopping '$WORK/fg.log'" \
    "$pairs SIGUSR1+SIGHUP pairs back to back: the daemon keeps running"
is "$(reloads)" $((2 * pairs)) "$pairs SIGUSR1+SIGHUP pairs back to back: $((2 * pairs)) reloads"
check "'$MILTC' -s unix:$fsock '$WORK/m.eml' | grep -q 'INSHEADER 0 DKIM-Signature'" \
    "after the signal storm it still signs"
before=$(reloads)
kill -HUP "$fpid"
kill -TERM "$fpid"
wait_for 15 bash -c "! kill -0 $fpid 2>/dev/null || grep -q '^State:.*Z' /proc/$fpid/status"
wait "$fpid" 2>/dev/null
rc=$?
it_unregister "$fpid"
is "$rc" 0 "SIGHUP then SIGTERM at once: the daemon exits 0"
is "$(reloads)" $((before + 1)) "SIGHUP then SIGTERM at once: it reloaded first"
check "grep -q '^authmilter: info: stopped' '$WORK/fg.log'" "SIGHUP then SIGTERM at once: it logged the stop"
check "test ! -e '$fsock'" "SIGHUP then SIGTERM at once: the socket is removed"
exit 0
