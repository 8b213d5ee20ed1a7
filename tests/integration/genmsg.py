#!/usr/bin/python3
"""genmsg.py - write the test messages of the integration tests.

Usage: genmsg.py KIND [--id TOKEN] [--from ADDR] [--to ADDR] [--size N]
                 [--count N] [--crlf] > FILE

Every message carries its TOKEN in an X-Test-Id header and in the Subject,
so that a test can find it again at the sink. Line ends are LF unless
--crlf (swaks and miltc turn LF into CRLF; the --raw kinds are written
byte-exact and ignore --crlf).

Kinds:
  plain      a short text/plain message
  multipart  multipart/mixed: multipart/alternative (text + html) and a
             base64 attachment of pseudo-random bytes
  8bit       UTF-8 body (Content-Transfer-Encoding: 8bit), UTF-8 Subject
  big        text/plain of about --size bytes (default 1 MiB)
  nofrom     no From header at all
  multifrom  two From headers
  fromlist   one From header with two addresses
  bighdr     one header field of about --size bytes (default 100 KiB),
             folded into lines of 78 bytes
  manyhdrs   --count (default 1500) extra X-Filler headers
  nul        body with NUL bytes, CRLF line ends (raw)
  barelf     headers with CRLF, body with bare LF and bare CR (raw)
"""

import argparse
import base64
import random
import sys


def headers(a, extra=(), subject=None, from_=True):
    h = []
    if from_:
        h.append("From: Test Sender <%s>" % a.from_)
    h += ["To: <%s>" % a.to,
          "Subject: %s %s" % (subject or "authmilter test", a.id),
          "Date: Sun, 22 Nov 2026 12:00:00 +0000",
          "Message-ID: <%s@example.test>" % a.id,
          "X-Test-Id: %s" % a.id]
    h += list(extra)
    return h


def text_lines(n, width=72, seed=1):
    rnd = random.Random(seed)
    words = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do "
             "eiusmod tempor incididunt ut labore et dolore magna aliqua "
             "mail milter signature canonical header body hash").split()
    out = []
    for _ in range(n):
        line = ""
        while len(line) < width:
            line += rnd.choice(words) + " "
        out.append(line.rstrip())
    return out


def emit(lines, a, raw=None):
    out = sys.stdout.buffer
    if raw is not None:
        out.write(raw)
        return
    eol = "\r\n" if a.crlf else "\n"
    out.write((eol.join(lines) + eol).encode("utf-8"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind")
    ap.add_argument("--id", default="test-0")
    ap.add_argument("--from", dest="from_", default="sender@example.test")
    ap.add_argument("--to", default="rcpt@remote.test")
    ap.add_argument("--size", type=int, default=0)
    ap.add_argument("--count", type=int, default=1500)
    ap.add_argument("--crlf", action="store_true")
    a = ap.parse_args()
    k = a.kind

    if k == "plain":
        emit(headers(a) + ["", "Hello,", "", "this is a plain test message.",
                           "A line with trailing space   ",
                           ".A line that starts with a dot", "", "-- ",
                           "the tests", ""], a)
    elif k == "multipart":
        rnd = random.Random(7)
        blob = bytes(rnd.getrandbits(8) for _ in range(24 * 1024))
        b64 = base64.encodebytes(blob).decode("ascii").splitlines()
        b1, b2 = "=_outer_%s" % a.id, "=_inner_%s" % a.id
        body = [
            "This is a multi-part message in MIME format.", "",
            "--" + b1,
            'Content-Type: multipart/alternative; boundary="%s"' % b2, "",
            "--" + b2,
            "Content-Type: text/plain; charset=us-ascii",
            "Content-Transfer-Encoding: 7bit", "",
            "The text part.", "",
            "--" + b2,
            "Content-Type: text/html; charset=us-ascii",
            "Content-Transfer-Encoding: 7bit", "",
            "<html><body><p>The <b>html</b> part.</p></body></html>", "",
            "--" + b2 + "--", "",
            "--" + b1,
            'Content-Type: application/octet-stream; name="data.bin"',
            "Content-Transfer-Encoding: base64",
            'Content-Disposition: attachment; filename="data.bin"', ""]
        body += b64
        body += ["", "--" + b1 + "--", ""]
        emit(headers(a, ["MIME-Version: 1.0",
                         'Content-Type: multipart/mixed; boundary="%s"' % b1])
             + [""] + body, a)
    elif k == "8bit":
        emit(headers(a, ["MIME-Version: 1.0",
                         "Content-Type: text/plain; charset=utf-8",
                         "Content-Transfer-Encoding: 8bit"],
                     subject="Grüße aus Köln, 8bit")
             + ["", "Grüße! Ça va? Τὴ γλῶσσα μοῦ ἔδωσαν ἑλληνική.",
                "日本語のテキスト。 Emoji: 📨✅",
                "Non-breaking\u00a0space and a soft hyphen\u00ad here.",
                "Trailing 8-bit é", ""], a)
    elif k == "big":
        size = a.size or 1024 * 1024
        lines = text_lines(size // 73 + 1, seed=3)
        emit(headers(a, ["MIME-Version: 1.0",
                         "Content-Type: text/plain; charset=us-ascii"])
             + [""] + lines, a)
    elif k == "nofrom":
        emit(headers(a, from_=False) + ["", "This message has no From.", ""], a)
    elif k == "multifrom":
        emit(["From: <%s>" % a.from_] + headers(a)
             + ["", "This message has two From headers.", ""], a)
    elif k == "fromlist":
        h = headers(a, from_=False)
        emit(["From: <%s>, <other@elsewhere.test>" % a.from_] + h
             + ["", "One From header, two addresses.", ""], a)
    elif k == "bighdr":
        size = a.size or 100 * 1024
        words = text_lines(size // 73 + 1, seed=5)
        folded = ["X-Big: " + words[0]] + ["\t" + w for w in words[1:]]
        emit(headers(a) + folded + ["", "A message with a huge header.", ""], a)
    elif k == "manyhdrs":
        extra = ["X-Filler-%d: value %d" % (i, i) for i in range(a.count)]
        emit(headers(a, extra) + ["", "A message with many headers.", ""], a)
    elif k == "nul":
        h = "\r\n".join(headers(a)).encode("utf-8")
        body = (b"before the NUL\r\nNUL here:\x00:and here\x00\x00\r\n"
                b"\x00 at the start of a line\r\nend\r\n")
        emit(None, a, raw=h + b"\r\n\r\n" + body)
    elif k == "barelf":
        h = "\r\n".join(headers(a)).encode("utf-8")
        body = (b"line with CRLF\r\nline with bare LF\nanother bare LF\n"
                b"bare CR\rin the middle\r\nlast line\r\n")
        emit(None, a, raw=h + b"\r\n\r\n" + body)
    else:
        ap.error("unknown kind %r" % k)
    return 0


if __name__ == "__main__":
    sys.exit(main())
