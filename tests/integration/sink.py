#!/usr/bin/python3
"""sink.py - a minimal SMTP server that stores every message it accepts.

Used by the integration tests as the next hop of the private Postfix
instance. Each accepted message is written to DIR/new/NNNNNN.eml exactly as
received (CRLF line ends, dot-unstuffed), and its envelope to
DIR/new/NNNNNN.env (JSON). The .env file is written first and the .eml file
is renamed into place last, so a test that sees an .eml file sees a complete
message and its envelope.

Usage: sink.py --port N [--address 127.0.0.1] --dir DIR
Stops on SIGTERM or SIGINT. Advertises 8BITMIME, SMTPUTF8, PIPELINING and
SIZE, so that Postfix never needs to convert a message before relaying it.
"""

import argparse
import itertools
import json
import os
import signal
import socketserver
import sys
import threading

MAX_LINE = 1024 * 1024          # longest command or data line accepted
MAX_MESSAGE = 64 * 1024 * 1024  # largest message accepted

_seq = itertools.count(1)
_seq_lock = threading.Lock()


def next_seq():
    with _seq_lock:
        return next(_seq)


class Handler(socketserver.StreamRequestHandler):
    def reply(self, text):
        self.wfile.write(text.encode("ascii") + b"\r\n")
        self.wfile.flush()

    def readline(self):
        line = self.rfile.readline(MAX_LINE + 2)
        if not line:
            return None
        return line

    def handle(self):
        srv = self.server
        client = self.client_address[0]
        helo = None
        mail = None
        rcpts = []
        self.reply("220 sink.test ESMTP authmilter test sink")
        while True:
            line = self.readline()
            if line is None:
                return
            cmd = line.rstrip(b"\r\n").decode("utf-8", "replace")
            verb = cmd.split(" ", 1)[0].upper()
            arg = cmd[len(verb):].strip()
            if verb == "EHLO":
                helo = arg
                mail, rcpts = None, []
                self.wfile.write(b"250-sink.test\r\n250-PIPELINING\r\n"
                                 b"250-SIZE %d\r\n250-8BITMIME\r\n"
                                 b"250-SMTPUTF8\r\n250 ENHANCEDSTATUSCODES\r\n"
                                 % MAX_MESSAGE)
                self.wfile.flush()
            elif verb == "HELO":
                helo = arg
                mail, rcpts = None, []
                self.reply("250 sink.test")
            elif verb == "MAIL":
                mail, rcpts = arg, []
                self.reply("250 2.1.0 Ok")
            elif verb == "RCPT":
                if mail is None:
                    self.reply("503 5.5.1 Error: need MAIL command")
                else:
                    rcpts.append(arg)
                    self.reply("250 2.1.5 Ok")
            elif verb == "DATA":
                if not rcpts:
                    self.reply("503 5.5.1 Error: need RCPT command")
                    continue
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                chunks = []
                size = 0
                while True:
                    dl = self.rfile.readline(MAX_LINE + 2)
                    if not dl:
                        return
                    if dl in (b".\r\n", b".\n"):
                        break
                    if dl.startswith(b"."):
                        dl = dl[1:]
                    size += len(dl)
                    if size <= MAX_MESSAGE:
                        chunks.append(dl)
                if size > MAX_MESSAGE:
                    self.reply("552 5.3.4 Message too big")
                else:
                    self.store(client, helo, mail, rcpts, b"".join(chunks))
                    self.reply("250 2.0.0 Ok: stored")
                mail, rcpts = None, []
            elif verb == "RSET":
                mail, rcpts = None, []
                self.reply("250 2.0.0 Ok")
            elif verb == "NOOP":
                self.reply("250 2.0.0 Ok")
            elif verb == "QUIT":
                self.reply("221 2.0.0 Bye")
                return
            else:
                self.reply("502 5.5.2 Error: command not recognized")

    def store(self, client, helo, mail, rcpts, data):
        d = self.server.store_dir
        n = next_seq()
        base = "%06d" % n
        tmp = os.path.join(d, "tmp", base + ".eml")
        with open(tmp, "wb") as f:
            f.write(data)
        env = {"client": client, "helo": helo, "mail": mail, "rcpts": rcpts,
               "size": len(data)}
        with open(os.path.join(d, "new", base + ".env"), "w") as f:
            json.dump(env, f)
        os.rename(tmp, os.path.join(d, "new", base + ".eml"))


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--address", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    a = ap.parse_args()
    for sub in ("tmp", "new"):
        os.makedirs(os.path.join(a.dir, sub), exist_ok=True)
    srv = Server((a.address, a.port), Handler)
    srv.store_dir = a.dir

    def stop(signum, frame):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("sink: listening on %s:%d, storing in %s" % (a.address, a.port, a.dir),
          file=sys.stderr, flush=True)
    srv.serve_forever(poll_interval=0.2)
    srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
