#!/usr/bin/python3
"""faults_tool.py - messages, load and counts for t_faults.sh.

    faults_tool.py gen --dir DIR --tag TAG --out N --in N --key FILE
                       --selector S --domain D
        Writes DIR/TAG.list (one line per message: id kind mailfrom rcpt)
        and DIR/TAG-NNNN.eml. "out" messages come from olga@out.test to
        ID@out.rcpt.test (the sending Postfix relays them from 127.0.0.1:
        authmilter signs them); "in" messages come from alice@in.test to
        ID@in.rcpt.test, DKIM-signed here with the RSA key FILE for domain
        D, selector S (relayed from 127.0.0.2: authmilter checks them).
        Every tenth message has a body of some 300 KB (several milter body
        chunks), the others a few KB. Each has "X-Test-Id: ID" at the top.

    faults_tool.py send --port P --concurrency C DIR/TAG.list
        Submits every message of the list over SMTP to 127.0.0.1:P with C
        connections at once, one message per connection. Prints
        "sent N failed M" (failed: not accepted, with the reply on stderr).

    faults_tool.py count --sink DIR --list DIR/TAG.list --nameserver IP
                         --port N --authserv ID
        Reads every message stored by sink.py and prints one JSON object:
        delivered (ids delivered at least once), duplicated (ids delivered
        more than once), unsigned ("out" messages without a DKIM-Signature
        of out.test that python3-dkim verifies), unchecked ("in" messages
        without exactly one Authentication-Results of ID with spf, dkim and
        dmarc results and dmarc=pass), degraded ("in" messages delivered
        with dmarc=pass but spf or dkim not pass: DNS failed for that one
        lookup), missing (ids of the list never delivered) and details (the
        first few problems).

Only the top-level header section is read for X-Test-Id, so a delivery
status notification quoting a message is not counted as that message.
"""

import argparse
import glob
import json
import os
import smtplib
import sys
import threading

import dkim

sys.dont_write_bytecode = True		# no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dkimverify  # noqa: E402
import inb_tool  # noqa: E402


def crlf(data):
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def body_text(i, big):
    line = ("%04d the quick brown fox jumps over the lazy dog, "
            "0123456789 abcdefghijklmnopqrstuvwxyz\n" % i)
    n = 3000 if big else 40
    return "Hello,\n\n" + line * n + "\n-- \nt_faults\n"


def cmd_gen(a):
    os.makedirs(a.dir, exist_ok=True)
    key = open(a.key, "rb").read()
    lines = []
    kinds, o, n = [], a.out, a.inb
    while o or n:			# interleaved: out, in, out, in...
        if o:
            kinds.append("out")
            o -= 1
        if n:
            kinds.append("in")
            n -= 1
    for i, kind in enumerate(kinds):
        ident = "%s-%04d" % (a.tag, i)
        if kind == "out":
            mfrom, hfrom, rcpt = ("olga@out.test", "Olga <olga@out.test>",
                                  ident + "@out.rcpt.test")
        else:
            mfrom, hfrom, rcpt = ("alice@in.test", "Alice <alice@in.test>",
                                  ident + "@in.rcpt.test")
        hdr = ["X-Test-Id: " + ident,
               "From: " + hfrom,
               "To: <%s>" % rcpt,
               "Subject: t_faults %s (%s)" % (ident, kind),
               "Date: Mon, 02 Nov 2026 10:00:00 +0000",
               "Message-ID: <%s@t-faults.test>" % ident,
               "MIME-Version: 1.0",
               "Content-Type: text/plain; charset=us-ascii"]
        msg = crlf(("\n".join(hdr) + "\n\n" +
                    body_text(i, i % 10 == 9)).encode("ascii"))
        if kind == "in":
            sig = dkim.sign(msg, a.selector.encode(), a.domain.encode(), key,
                            canonicalize=(b"relaxed", b"relaxed"),
                            include_headers=[b"from", b"to", b"subject",
                                             b"date", b"message-id"])
            msg = sig + msg
        with open(os.path.join(a.dir, ident + ".eml"), "wb") as f:
            f.write(msg)
        lines.append("%s %s %s %s" % (ident, kind, mfrom, rcpt))
    with open(os.path.join(a.dir, a.tag + ".list"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return 0


def read_list(path):
    out = []
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) == 4:
                out.append({"id": p[0], "kind": p[1], "from": p[2],
                            "rcpt": p[3]})
    return out


def cmd_send(a):
    msgs = read_list(a.list)
    base = os.path.dirname(a.list)
    lock = threading.Lock()
    state = {"next": 0, "sent": 0, "failed": 0}

    def worker():
        while True:
            with lock:
                if state["next"] >= len(msgs):
                    return
                m = msgs[state["next"]]
                state["next"] += 1
            data = open(os.path.join(base, m["id"] + ".eml"), "rb").read()
            try:
                with smtplib.SMTP("127.0.0.1", a.port, timeout=120) as s:
                    s.ehlo("inject.t-faults.test")
                    s.sendmail(m["from"], [m["rcpt"]], data)
                ok = True
            except (smtplib.SMTPException, OSError) as e:
                print("send %s: %s" % (m["id"], e), file=sys.stderr)
                ok = False
            with lock:
                state["sent" if ok else "failed"] += 1

    threads = [threading.Thread(target=worker) for _ in range(a.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("sent %d failed %d" % (state["sent"], state["failed"]))
    return 0


def top_header(data, name):
    head = data.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    want = name.lower().encode() + b":"
    for line in head.split(b"\n"):
        if line.lower().startswith(want):
            return line[len(want):].strip().decode("ascii", "replace")
    return None


def out_signed(data, ns, port):
    """a DKIM-Signature of out.test that python3-dkim verifies"""
    d = dkim.DKIM(data, minkey=1024, timeout=5)
    dnsfunc = dkimverify.make_dnsfunc(ns, port, [])
    sigs = [v for (n, v) in d.headers if n.lower() == b"dkim-signature"]
    for i, v in enumerate(sigs):
        if dkimverify.sig_tags(v).get("d") != "out.test":
            continue
        try:
            if d.verify(idx=i, dnsfunc=dnsfunc):
                return True, ""
        except Exception as e:  # noqa: BLE001
            return False, "%s: %s" % (type(e).__name__, e)
        return False, "signature of out.test does not verify"
    return False, "no DKIM-Signature of out.test"


def in_checked(path, authserv):
    """exactly one A-R of ours with spf, dkim and dmarc results, dmarc=pass
    (in.test publishes p=reject). Returns (checked, why, degraded): SPF or
    DKIM may be temperror when DNS failed for that lookup only, DMARC then
    passing on the other; degraded says so."""
    ars = [inb_tool.parse_ar(v.strip())
           for n, v in inb_tool.header_fields(path)
           if n.lower() == "authentication-results"]
    ours = [r for r in ars if r["id"].lower() == authserv.lower()]
    if len(ours) != 1:
        return False, "%d Authentication-Results of %s" % (
            len(ours), authserv), ""
    res = {}
    for c in ours[0]["clauses"]:
        if c["method"] == "spf" and "smtp.mailfrom" not in c["props"]:
            continue
        res.setdefault(c["method"], c["result"])
    for m in ("spf", "dkim", "dmarc"):
        if m not in res:
            return False, "no %s result" % m, ""
    if res["dmarc"] != "pass":
        return False, "dmarc=%s" % res["dmarc"], ""
    degraded = " ".join("%s=%s" % (m, res[m]) for m in ("spf", "dkim")
                        if res[m] != "pass")
    return True, "", degraded


def cmd_count(a):
    msgs = read_list(a.list)
    kinds = {m["id"]: m["kind"] for m in msgs}
    copies = {}
    for path in sorted(glob.glob(os.path.join(a.sink, "new", "*.eml"))):
        with open(path, "rb") as f:
            data = f.read()
        ident = top_header(data, "X-Test-Id")
        if ident in kinds:
            copies.setdefault(ident, []).append((path, data))
    res = {"listed": len(msgs), "delivered": len(copies),
           "duplicated": sum(1 for c in copies.values() if len(c) > 1),
           "unsigned": 0, "unchecked": 0, "degraded": [],
           "missing": sorted(set(kinds) - set(copies))[:10],
           "details": []}
    for ident, cs in sorted(copies.items()):
        for path, data in cs:
            if kinds[ident] == "out":
                good, why = out_signed(data, a.nameserver, a.port)
                key = "unsigned"
            else:
                good, why, degraded = in_checked(path, a.authserv)
                key = "unchecked"
                if degraded:
                    res["degraded"].append("%s: %s" % (ident, degraded))
            if not good:
                res[key] += 1
                if len(res["details"]) < 5:
                    res["details"].append("%s %s: %s" % (
                        ident, os.path.basename(path), why))
    print(json.dumps(res, sort_keys=True))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("--dir", required=True)
    g.add_argument("--tag", required=True)
    g.add_argument("--out", type=int, required=True)
    g.add_argument("--in", dest="inb", type=int, required=True)
    g.add_argument("--key", required=True)
    g.add_argument("--selector", required=True)
    g.add_argument("--domain", required=True)
    s = sub.add_parser("send")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--concurrency", type=int, default=6)
    s.add_argument("list")
    c = sub.add_parser("count")
    c.add_argument("--sink", required=True)
    c.add_argument("--list", required=True)
    c.add_argument("--nameserver", default="127.0.0.1")
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--authserv", required=True)
    a = ap.parse_args()
    return {"gen": cmd_gen, "send": cmd_send, "count": cmd_count}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
