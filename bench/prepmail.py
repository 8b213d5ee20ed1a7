#!/usr/bin/python3
"""prepmail.py - derive the benchmark's message sets from genmail.py output.

Reads the .eml files of --indir (sorted), and writes --count messages to
--outdir (000000.eml, 000001.eml, ...; the input files are reused in turn
when --count is larger), each with:
  - line ends made CRLF,
  - the From header field replaced by "From: Alice <ADDR>", where ADDR is
    --from with "{i}" replaced by the message's number,
  - with --key: a DKIM-Signature (python3-dkim, rsa-sha256 for an RSA key,
    relaxed/relaxed) for d=--domain, s=--selector ("{i}" replaced too).

Usage: prepmail.py --indir DIR --outdir DIR --count N --from ADDR
                   [--key PEM --domain D --selector S] [--jobs N]
"""

import argparse
import multiprocessing
import os
import re
import sys

try:
    import dkim
except ImportError:  # pragma: no cover
    dkim = None

SIGN_HEADERS = [b"from", b"to", b"cc", b"subject", b"date", b"message-id",
                b"mime-version", b"content-type",
                b"content-transfer-encoding", b"reply-to", b"in-reply-to",
                b"references"]

ARGS = None
KEY = None
SOURCES = []


def crlf(data):
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def set_from(msg, addr):
    head, sep, body = msg.partition(b"\r\n\r\n")
    if not sep:
        head, body = msg, b""
    out, skip, done = [], False, False
    for line in head.split(b"\r\n"):
        if skip and line[:1] in (b" ", b"\t"):
            continue
        skip = False
        if re.match(rb"(?i)from[ \t]*:", line):
            skip = True
            if not done:
                out.append(b"From: Alice <" + addr + b">")
                done = True
            continue
        out.append(line)
    if not done:
        out.insert(0, b"From: Alice <" + addr + b">")
    return b"\r\n".join(out) + b"\r\n\r\n" + body


def make(i):
    src = SOURCES[i % len(SOURCES)]
    with open(src, "rb") as f:
        msg = crlf(f.read())
    msg = set_from(msg, ARGS.sender.replace("{i}", str(i)).encode())
    if KEY is not None:
        present = {l.split(b":", 1)[0].strip().lower()
                   for l in msg.partition(b"\r\n\r\n")[0].split(b"\r\n")
                   if l[:1] not in (b" ", b"\t") and b":" in l}
        hdrs = [h for h in SIGN_HEADERS if h in present]
        sig = dkim.sign(msg,
                        ARGS.selector.replace("{i}", str(i)).encode(),
                        ARGS.domain.replace("{i}", str(i)).encode(),
                        KEY, canonicalize=(b"relaxed", b"relaxed"),
                        include_headers=hdrs)
        msg = sig + msg
    with open(os.path.join(ARGS.outdir, "%06d.eml" % i), "wb") as f:
        f.write(msg)
    return 0


def main():
    global ARGS, KEY, SOURCES
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--indir", required=True)
    p.add_argument("--outdir", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--from", dest="sender", required=True)
    p.add_argument("--key")
    p.add_argument("--domain")
    p.add_argument("--selector")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ARGS = p.parse_args()
    SOURCES = sorted(os.path.join(ARGS.indir, n) for n in os.listdir(ARGS.indir)
                     if n.endswith(".eml"))
    if not SOURCES:
        sys.exit("prepmail.py: no .eml files in %s" % ARGS.indir)
    if ARGS.key:
        if dkim is None:
            sys.exit("prepmail.py: python3-dkim is missing (run with /usr/bin/python3)")
        if not (ARGS.domain and ARGS.selector):
            sys.exit("prepmail.py: --key needs --domain and --selector")
        with open(ARGS.key, "rb") as f:
            KEY = f.read()
    os.makedirs(ARGS.outdir, exist_ok=True)
    if ARGS.jobs > 1 and ARGS.count > 50:
        with multiprocessing.Pool(ARGS.jobs) as pool:
            for _ in pool.imap_unordered(make, range(ARGS.count), chunksize=16):
                pass
    else:
        for i in range(ARGS.count):
            make(i)


if __name__ == "__main__":
    main()
