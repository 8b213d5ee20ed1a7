#!/usr/bin/python3
"""prepmail.py - derive the benchmark's message sets from genmail.py output.

Reads the .eml files of --indir (sorted), and writes --count messages to
--outdir (000000.eml, 000001.eml, ...; the input files are reused in turn
when --count is larger), each with:
  - line ends made CRLF,
  - the From header field replaced by "From: Alice <ADDR>", where ADDR is
    --from with "{i}" replaced by the message's number,
  - with --key: a DKIM-Signature (python3-dkim, rsa-sha256 for an RSA key,
    relaxed/relaxed) for d=--domain, s=--selector ("{i}" replaced too);
  - with --arc-key and --arc-sealers DOMAIN:SELECTOR,...: an ARC chain of
    one set per sealer, in that order (i=1 first), as forwarders that
    leave the message intact would make it: each hop puts its
    Authentication-Results (authserv-id mx.DOMAIN: spf, dkim and dmarc
    pass for the From domain, and arc=pass from the second hop on) on
    top and seals with python3-dkim's dkim.arc_sign, all with the key of
    --arc-key.

Usage: prepmail.py --indir DIR --outdir DIR --count N --from ADDR
                   [--key PEM --domain D --selector S]
                   [--arc-key PEM --arc-sealers D:S,...] [--jobs N]
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
ARC_KEY = None
SEALERS = []
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


def arc_chain(msg, sender):
    """msg with one ARC set per sealer on top, i=1 first"""
    domain = sender.rpartition("@")[2]
    for n, (sdom, sel) in enumerate(SEALERS):
        srvid = "mx." + sdom
        ar = "Authentication-Results: %s;%s spf=pass smtp.mailfrom=%s;" \
             " dkim=pass header.d=%s; dmarc=pass header.from=%s\r\n" % (
                 srvid, " arc=pass;" if n else "", sender,
                 ARGS.domain or domain, domain)
        msg = ar.encode() + msg
        out = dkim.arc_sign(msg, sel.encode(), sdom.encode(), ARC_KEY,
                            srvid.encode())
        if not out:
            raise SystemExit("prepmail.py: dkim.arc_sign made no set for %s"
                             % sdom)
        msg = crlf(b"".join(out)) + msg
    return msg


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
    if ARC_KEY is not None:
        msg = arc_chain(msg, ARGS.sender.replace("{i}", str(i)))
    with open(os.path.join(ARGS.outdir, "%06d.eml" % i), "wb") as f:
        f.write(msg)
    return 0


def main():
    global ARGS, KEY, ARC_KEY, SEALERS, SOURCES
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--indir", required=True)
    p.add_argument("--outdir", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--from", dest="sender", required=True)
    p.add_argument("--key")
    p.add_argument("--domain")
    p.add_argument("--selector")
    p.add_argument("--arc-key")
    p.add_argument("--arc-sealers", default="")
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
    if ARGS.arc_key:
        if dkim is None:
            sys.exit("prepmail.py: python3-dkim is missing (run with /usr/bin/python3)")
        try:
            SEALERS = [tuple(x.split(":", 1)) for x in ARGS.arc_sealers.split(",")]
        except ValueError:
            SEALERS = []
        if not SEALERS or any(len(x) != 2 or not all(x) for x in SEALERS):
            sys.exit("prepmail.py: --arc-key needs --arc-sealers DOMAIN:SELECTOR,...")
        with open(ARGS.arc_key, "rb") as f:
            ARC_KEY = f.read()
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
