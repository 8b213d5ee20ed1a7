#!/usr/bin/python3
"""saslauth.py - a password checker for Postfix's SMTP AUTH in the tests.

Speaks the server side of the Dovecot authentication protocol (the one
Postfix uses with smtpd_sasl_type = dovecot) on a UNIX socket, with PLAIN
and LOGIN, against one user name and password given on the command line.
It stands in for Dovecot's auth service, which the tests do not install:
Postfix, its SASL client code and the milter macros it sends are real.

Usage: saslauth.py --socket PATH --user NAME --password SECRET
Stops on SIGTERM.
"""

import argparse
import base64
import os
import signal
import socketserver
import sys
import threading


class Handler(socketserver.StreamRequestHandler):
    def send(self, line):
        self.wfile.write(line.encode("utf-8") + b"\n")
        self.wfile.flush()

    def check(self, rid, resp, mech, state):
        srv = self.server
        if mech == "PLAIN":
            parts = resp.split(b"\0")
            if len(parts) != 3:
                return self.send("FAIL\t%s\treason=malformed PLAIN" % rid)
            user, pw = parts[1].decode("utf-8", "replace"), parts[2]
        else:  # LOGIN, after two CONT rounds
            user, pw = state["user"], resp
        if user == srv.user and pw == srv.password.encode("utf-8"):
            self.send("OK\t%s\tuser=%s" % (rid, user))
        else:
            self.send("FAIL\t%s\tuser=%s\treason=wrong password" % (rid, user))

    def handle(self):
        self.send("VERSION\t1\t2")
        self.send("MECH\tPLAIN\tplaintext")
        self.send("MECH\tLOGIN\tplaintext")
        self.send("SPID\t%d" % os.getpid())
        self.send("CUID\t1")
        self.send("COOKIE\t0123456789abcdef0123456789abcdef")
        self.send("DONE")
        pending = {}
        for raw in self.rfile:
            f = raw.rstrip(b"\n").decode("utf-8", "replace").split("\t")
            if f[0] == "AUTH" and len(f) >= 3:
                rid, mech = f[1], f[2].upper()
                params = dict(p.split("=", 1) for p in f[3:] if "=" in p)
                if mech not in ("PLAIN", "LOGIN"):
                    self.send("FAIL\t%s\treason=unsupported mechanism" % rid)
                    continue
                resp = params.get("resp")
                if mech == "PLAIN":
                    if resp is None:
                        pending[rid] = (mech, {})
                        self.send("CONT\t%s\t" % rid)
                    else:
                        self.check(rid, base64.b64decode(resp), mech, {})
                else:
                    pending[rid] = (mech, {})
                    self.send("CONT\t%s\t%s" % (
                        rid, base64.b64encode(b"Username:").decode()))
            elif f[0] == "CONT" and len(f) >= 3 and f[1] in pending:
                rid = f[1]
                mech, state = pending[rid]
                data = base64.b64decode(f[2]) if f[2] else b""
                if mech == "LOGIN" and "user" not in state:
                    state["user"] = data.decode("utf-8", "replace")
                    self.send("CONT\t%s\t%s" % (
                        rid, base64.b64encode(b"Password:").decode()))
                    continue
                del pending[rid]
                self.check(rid, data, mech, state)
            # VERSION, CPID and anything else from the client: no reply


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    a = ap.parse_args()
    if os.path.exists(a.socket):
        os.unlink(a.socket)
    srv = Server(a.socket, Handler)
    os.chmod(a.socket, 0o666)  # Postfix's smtpd runs as user postfix
    srv.user, srv.password = a.user, a.password

    def stop(signum, frame):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    srv.serve_forever(poll_interval=0.2)
    srv.server_close()
    try:
        os.unlink(a.socket)
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
