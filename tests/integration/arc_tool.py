#!/usr/bin/python3
"""arc_tool.py - ARC helpers of the integration tests (t_arc.sh,
t_arc_postfix.sh): python3-dkim's ARC as an independent sealer and
verifier, keys fetched over the wire from the test's DNS server. Run with
Debian's /usr/bin/python3 (python3-dkim, python3-dnspython,
python3-authres).

  arc_tool.py seal --key PEM --domain D --selector S --srvid ID FILE
      print FILE with a new ARC set on top made by dkim.arc_sign; the
      results and the cv= come from FILE's Authentication-Results of ID
  arc_tool.py verify --nameserver IP --port N FILE
      dkim.arc_verify: print "CV reason" (CV pass, fail, none or None for
      a chain that ended with cv=fail), then "I AMS-VALID AS-VALID CV" per
      set, newest first; exit 0 when CV is pass, 1 otherwise
  arc_tool.py sealonly --nameserver IP --port N FILE
      check the newest ARC-Seal over its own set only, the way
      dkim.arc_sign makes the seal that follows a failed chain: print
      "sealonly True|False"; exit 0 when True
  arc_tool.py apply JSON FILE
      print FILE (CRLF line ends) as the milter would deliver it after
      "authmilter check --json" wrote JSON: the headers_removed taken
      out, then the headers_added put on top, the first one topmost
  arc_tool.py prepend 'Name: value' FILE
      print FILE with that header field on top
  arc_tool.py footer TEXT FILE
      print FILE with a line of TEXT appended to the body and the Subject
      tagged "[list] ", as a mailing list does
"""
import json
import re
import sys


def crlf(data):
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def opts(args):
    o, rest, i = {}, [], 0
    while i < len(args):
        if args[i].startswith("--"):
            o[args[i][2:]] = args[i + 1]
            i += 2
        else:
            rest.append(args[i])
            i += 1
    return o, rest


def make_dnsfunc(server, port):
    import dns.message
    import dns.query
    import dns.rdatatype

    def dnsfunc(name, timeout=5):
        n = name.decode() if isinstance(name, bytes) else name
        q = dns.message.make_query(n, dns.rdatatype.TXT)
        try:
            r = dns.query.udp(q, server, timeout=timeout, port=port)
            if r.flags & 0x0200:        # TC: ask again over TCP
                r = dns.query.tcp(q, server, timeout=timeout, port=port)
        except Exception:               # noqa: a timeout is no key
            return None
        for rrset in r.answer:
            for rd in rrset:
                if rd.rdtype == dns.rdatatype.TXT:
                    return b"".join(rd.strings)
        return None
    return dnsfunc


def split(msg):
    head, sep, body = msg.partition(b"\r\n\r\n")
    fields, cur = [], None
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and cur is not None:
            cur += b"\r\n" + line
        else:
            if cur is not None:
                fields.append(cur)
            cur = line
    if cur is not None:
        fields.append(cur)
    return fields, body


def join(fields, body):
    return b"\r\n".join(fields) + b"\r\n\r\n" + body


def cmd_seal(args):
    import dkim
    o, rest = opts(args)
    msg = crlf(open(rest[0], "rb").read())
    out = dkim.arc_sign(msg, o["selector"].encode(), o["domain"].encode(),
                        open(o["key"], "rb").read(), o["srvid"].encode())
    if not out:
        sys.exit("arc_tool.py seal: dkim.arc_sign made no set")
    sys.stdout.buffer.write(crlf(b"".join(out)) + msg)


def cmd_verify(args):
    import dkim
    o, rest = opts(args)
    msg = crlf(open(rest[0], "rb").read())
    cv, results, reason = dkim.arc_verify(
        msg, dnsfunc=make_dnsfunc(o["nameserver"], int(o["port"])))
    print("%s %s" % (cv.decode() if cv else "None", reason))
    for r in results:
        print("%d %s %s %s" % (r["instance"], r.get("ams-valid"),
                               r.get("as-valid"), r.get("cv", b"?").decode()))
    sys.exit(0 if cv == b"pass" else 1)


def cmd_sealonly(args):
    import dkim
    import dkim.util
    o, rest = opts(args)
    msg = crlf(open(rest[0], "rb").read())
    a = dkim.ARC(msg)
    top, hdrs = a.sorted_arc_headers()
    value = [v for (i, (n, v)) in hdrs
             if i == top and n.lower() == b"arc-seal"][0]
    sig = dkim.util.parse_tag_value(value)
    sig[b"c"] = b"relaxed/relaxed"
    a.headers.reverse()         # h= then picks the newest set, as arc_sign
    ok = a.verify_sig(sig, [b"arc-authentication-results",
                            b"arc-message-signature"],
                      (b"ARC-Seal", b" " + value),
                      make_dnsfunc(o["nameserver"], int(o["port"])))
    print("sealonly %s" % ok)
    sys.exit(0 if ok else 1)


def field(name, value):
    v = crlf(value.encode("utf-8"))
    return name.encode() + b": " + v.lstrip(b" \t")


def cmd_apply(args):
    j = json.load(open(args[0]))
    fields, body = split(crlf(open(args[1], "rb").read()))
    # removals first: index N is the N-th field of that name, top down
    drop = set()
    for r in j.get("headers_removed", []):
        n = 0
        for k, f in enumerate(fields):
            if f.split(b":", 1)[0].strip().lower() == \
                    r["name"].lower().encode():
                n += 1
                if n == r["index"]:
                    drop.add(k)
    fields = [f for k, f in enumerate(fields) if k not in drop]
    added = [field(h["name"], h["value"]) for h in j["headers_added"]]
    sys.stdout.buffer.write(join(added + fields, body))


def cmd_prepend(args):
    name, _, value = args[0].partition(":")
    fields, body = split(crlf(open(args[1], "rb").read()))
    sys.stdout.buffer.write(join([field(name, value)] + fields, body))


def cmd_footer(args):
    fields, body = split(crlf(open(args[1], "rb").read()))
    fields = [re.sub(rb"^Subject:\s*", b"Subject: [list] ", f, flags=re.I)
              for f in fields]
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    body += b"-- \r\n" + args[0].encode() + b"\r\n"
    sys.stdout.buffer.write(join(fields, body))


def main():
    cmds = {"seal": cmd_seal, "verify": cmd_verify, "apply": cmd_apply,
            "sealonly": cmd_sealonly,
            "prepend": cmd_prepend, "footer": cmd_footer}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
