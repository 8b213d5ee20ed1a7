#!/usr/bin/python3
"""dkimverify.py - verify every DKIM-Signature of a message with python3-dkim.

An independent verifier for the integration tests: it shares no code with
authmilter. Public keys are fetched over the network from the given name
server (the test's own nsd on loopback), never from the system resolver.

Usage: dkimverify.py [--nameserver IP] [--port N] [--allow-none] [-v] FILE|-

Prints one line per signature, in header order (index 0 is the topmost):
    sig 0: d=example.test s=sel a=rsa-sha256 pass
    sig 1: d=example.test s=ed a=ed25519-sha256 fail (body hash mismatch)
Exit status: 0 when every signature passes (and there is at least one,
unless --allow-none); 1 when a signature fails or there is none; 2 on a
usage error or an unreadable file.
"""

import argparse
import logging
import re
import sys

try:
    import dkim
    import dkim.util
    import dns.exception
    import dns.flags
    import dns.message
    import dns.query
    import dns.rcode
    import dns.rdatatype
except ImportError as e:  # pragma: no cover
    print("dkimverify.py: needs python3-dkim and python3-dnspython (%s); "
          "run it with /usr/bin/python3" % e, file=sys.stderr)
    sys.exit(2)


class ListHandler(logging.Handler):
    """Keeps the log records of python3-dkim: they carry the fail reason."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def make_dnsfunc(server, port, queries):
    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode("ascii", "replace")
        q = dns.message.make_query(name, dns.rdatatype.TXT, use_edns=0,
                                   payload=4096)
        try:
            r = dns.query.udp(q, server, timeout=timeout, port=port)
            if r.flags & dns.flags.TC:
                r = dns.query.tcp(q, server, timeout=timeout, port=port)
        except dns.exception.Timeout as e:
            queries.append("%s: timeout" % name)
            raise dkim.DnsTimeoutError("timeout querying %s:%d for %s: %s"
                                       % (server, port, name, e))
        queries.append("%s: %s, %d answer rrsets" %
                       (name, dns.rcode.to_text(r.rcode()), len(r.answer)))
        if r.rcode() != dns.rcode.NOERROR:
            return None
        txts = []
        for rrset in r.answer:
            if rrset.rdtype != dns.rdatatype.TXT:
                continue
            for rd in rrset:
                txts.append(b"".join(rd.strings))
        if not txts:
            return None
        # Several TXT records at one name: prefer the DKIM one.
        for t in txts:
            if t.lstrip().startswith(b"v=DKIM1"):
                return t
        return txts[0]
    return dnsfunc


def sig_tags(value):
    """Tags of one DKIM-Signature header value (bytes) as a dict of str."""
    v = re.sub(rb"\s+", b"", value)
    try:
        tags = dkim.util.parse_tag_value(v)
    except Exception:  # a broken signature: show what we can
        tags = {}
        for part in v.split(b";"):
            if b"=" in part:
                k, _, val = part.partition(b"=")
                tags.setdefault(k, val)
    return {k.decode("ascii", "replace"): val.decode("ascii", "replace")
            for k, val in tags.items()}


def main():
    ap = argparse.ArgumentParser(
        description="Verify every DKIM-Signature of a message.")
    ap.add_argument("--nameserver", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--allow-none", action="store_true",
                    help="exit 0 when the message has no signature")
    ap.add_argument("--minkey", type=int, default=1024)
    ap.add_argument("--timeout", type=int, default=5)
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="show python3-dkim's log and the DNS queries")
    ap.add_argument("file")
    a = ap.parse_args()

    try:
        if a.file == "-":
            msg = sys.stdin.buffer.read()
        else:
            with open(a.file, "rb") as f:
                msg = f.read()
    except OSError as e:
        print("dkimverify.py: %s" % e, file=sys.stderr)
        return 2

    handler = ListHandler()
    logger = logging.getLogger("dkimverify")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    logger.propagate = False

    queries = []
    dnsfunc = make_dnsfunc(a.nameserver, a.port, queries)
    d = dkim.DKIM(msg, logger=logger, minkey=a.minkey, timeout=a.timeout)
    sigs = [v for (n, v) in d.headers if n.lower() == b"dkim-signature"]
    if not sigs:
        print("no DKIM-Signature header")
        return 0 if a.allow_none else 1

    failed = 0
    for i, value in enumerate(sigs):
        tags = sig_tags(value)
        del handler.lines[:]
        del queries[:]
        reason = ""
        try:
            good = d.verify(idx=i, dnsfunc=dnsfunc)
        except dkim.DKIMException as e:
            good, reason = False, str(e)
        except Exception as e:  # never let one signature stop the others
            good, reason = False, "%s: %s" % (type(e).__name__, e)
        if not good and not reason:
            # python3-dkim logs the cause at debug level; keep the last word.
            why = [l for l in handler.lines if not l.startswith("sig")]
            reason = why[-1] if why else "signature did not verify"
        print("sig %d: d=%s s=%s a=%s %s%s" % (
            i, tags.get("d", "?"), tags.get("s", "?"), tags.get("a", "?"),
            "pass" if good else "fail", "" if good else " (%s)" % reason))
        if a.verbose:
            for q in queries:
                print("  dns: %s" % q)
            for l in handler.lines:
                print("  log: %s" % l.replace("\n", " "))
        if not good:
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
