#!/usr/bin/python3
"""saslauthd.py - a password checker for Sendmail's SMTP AUTH in the tests.

Speaks the server side of the saslauthd protocol (what Cyrus SASL's
"pwcheck_method: saslauthd" uses, the one libsasl2 links into Sendmail) on
a UNIX socket, against one user name and password given on the command
line. It stands in for saslauthd (package sasl2-bin), which the tests do
not install: Sendmail, libsasl2, its PLAIN and LOGIN plugins and the milter
macros Sendmail sends are real.

The protocol: the client sends four counted strings (login, password,
service, realm), each a 16-bit big-endian length and that many bytes; the
server answers one counted string, "OK" or "NO <reason>", and closes.

Usage: saslauthd.py --socket PATH --user NAME --password SECRET
Stops on SIGTERM. Each request is logged to standard output.
"""

import argparse
import os
import signal
import socketserver
import struct
import sys
import threading

MAX_FIELD = 4096


class Handler(socketserver.StreamRequestHandler):
    def counted(self):
        raw = self.rfile.read(2)
        if len(raw) != 2:
            raise EOFError("short read")
        (n,) = struct.unpack("!H", raw)
        if n > MAX_FIELD:
            raise ValueError("field of %d bytes" % n)
        data = self.rfile.read(n)
        if len(data) != n:
            raise EOFError("short read")
        return data

    def answer(self, text):
        data = text.encode("utf-8")
        self.wfile.write(struct.pack("!H", len(data)) + data)
        self.wfile.flush()

    def handle(self):
        srv = self.server
        try:
            login, password, service, realm = (self.counted() for _ in range(4))
        except (EOFError, ValueError) as e:
            print("bad request: %s" % e, flush=True)
            return
        user = login.decode("utf-8", "replace")
        ok = user == srv.user and password == srv.password.encode("utf-8")
        print("login=%s service=%s realm=%s -> %s" % (
            user, service.decode("utf-8", "replace"),
            realm.decode("utf-8", "replace"), "OK" if ok else "NO"), flush=True)
        self.answer("OK" if ok else "NO authentication failed")


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    args = ap.parse_args()
    try:
        os.unlink(args.socket)
    except FileNotFoundError:
        pass
    srv = Server(args.socket, Handler)
    srv.user, srv.password = args.user, args.password
    os.chmod(args.socket, 0o666)

    def stop(*_):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    srv.serve_forever()
    srv.server_close()
    try:
        os.unlink(args.socket)
    except FileNotFoundError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
