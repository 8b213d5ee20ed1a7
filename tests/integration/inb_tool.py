#!/usr/bin/python3
"""inb_tool.py - helpers of the inbound integration tests (t_check.sh,
t_inbound_postfix.sh). Run it with Debian's /usr/bin/python3 (python3-dkim,
python3-nacl).

  inb_tool.py msg --id ID --from FROM [--to TO] [--header 'Name: value']...
                  [--no-from] [--body TEXT]
      print a test message (CRLF line ends). --from may be given several
      times (several From header fields); "--from ''" is allowed.
  inb_tool.py sign --key FILE --domain D --selector S [--alg rsa|ed25519]
                  [--canon relaxed/relaxed] [--length] [--headers a,b,...]
                  [--identity I] [--time T] [--expire X] FILE
      print FILE with one more DKIM-Signature on top, made by python3-dkim
      (the independent signer). --key is a PEM file as "authmilter keygen"
      or openssl writes it (RSA PKCS#1/PKCS#8, Ed25519 PKCS#8). --headers
      is h= (DKIM-Signature allowed), --identity i=, --time t= and
      --expire x= (Unix times; x= is signed like any tag).
  inb_tool.py addhdr --count N --header 'Name: value' FILE
      print FILE with N copies of the header field added at the end of
      its header section.
  inb_tool.py bigsig --tags N
      print the value of a DKIM-Signature with N extra tags
      ("t0=v; t1=v; ..."), for the hostile-input tests.
  inb_tool.py keytxt --key FILE
      print the DKIM key record text ("v=DKIM1; k=...; p=...") of a
      private key (openssl derives the public key).
  inb_tool.py zonetxt FILE
      print the record text of an "authmilter keygen" zone-file record
      (the quoted strings joined).
  inb_tool.py rr NAME TEXT
      print one TXT resource record in zone-file syntax, TEXT cut into
      character-strings of at most 250 bytes: NAME. 300 IN TXT "..." "..."
  inb_tool.py get FILE EXPR
      print the value of the Python expression EXPR over the JSON object
      in FILE (j = the object, ar = the parsed authentication_results:
      see parse_ar; arc(method[, n]) = the n-th clause of method, empty if
      none; arcs(method) = all of them; arwith(prop[, value]) = the first
      clause with that property). Strings are printed bare, other values as JSON. Exit 3 when
      FILE is not one JSON object.
  inb_tool.py shape FILE...
      check that each FILE holds a JSON object with exactly the documented
      fields and types of "authmilter check --json"; print what is wrong.
  inb_tool.py arshape ID FILE...
      check the authentication_results of each JSON FILE: authserv-id ID,
      spf, dkim and dmarc clauses, dkim properties (header.b: 8 chars;
      header.d a domain name and header.s a selector wherever present;
      all four present unless the result is permerror).
  inb_tool.py msgget FILE ID EXPR
      EXPR over a message file: names (header names, in order), hdrs
      [(name, value)], ars (all A-R fields parsed), ours (those with
      authserv-id ID), arc(method[, n]) / arcs(method) over ours[0].
  inb_tool.py hdr FILE NAME
      print the values of the NAME header fields of a message file, one
      per line, unfolded (lines joined with one space).
  inb_tool.py hdrnames FILE
      print the header field names of a message file in order, one a line.
  inb_tool.py sigtag FILE TAG [N]
      print the value of TAG of the N-th (from 0, top first) DKIM-Signature
      of a message file, white space removed.
"""
import base64
import json
import re
import subprocess
import sys


def crlf(data):
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def cmd_msg(args):
    ids = None
    froms = []
    to = "rcpt@remote.test"
    headers = []
    body = None
    nofrom = False
    subject = None
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--id":
            ids = args[i + 1]; i += 2
        elif a == "--from":
            froms.append(args[i + 1]); i += 2
        elif a == "--to":
            to = args[i + 1]; i += 2
        elif a == "--header":
            headers.append(args[i + 1]); i += 2
        elif a == "--body":
            body = args[i + 1]; i += 2
        elif a == "--subject":
            subject = args[i + 1]; i += 2
        elif a == "--no-from":
            nofrom = True; i += 1
        else:
            sys.exit("inb_tool.py msg: unknown argument %r" % a)
    if ids is None:
        sys.exit("inb_tool.py msg: --id is required")
    lines = []
    lines.extend(headers)
    if not nofrom:
        for f in froms or ["sender@example.test"]:
            lines.append("From: " + f)
    lines.append("To: " + to)
    lines.append("Subject: " + (subject or "inbound test " + ids))
    lines.append("Date: Mon, 02 Nov 2026 10:00:00 +0000")
    lines.append("Message-ID: <%s@authmilter.test>" % ids)
    lines.append("MIME-Version: 1.0")
    lines.append("Content-Type: text/plain; charset=us-ascii")
    lines.append("X-Test-Id: " + ids)
    if body is None:
        body = ("Hello,\n\nthis is the test message %s.\n"
                "A line with trailing blanks   \n"
                "\tand one that starts with a tab.\n\n-- \nthe tests\n" % ids)
    out = "\n".join(lines) + "\n\n" + body
    sys.stdout.buffer.write(crlf(out.encode("utf-8")))


def load_key(path, alg):
    pem = open(path, "rb").read()
    if alg == "rsa":
        return pem
    # Ed25519 PKCS#8 PEM -> the base64 32-byte seed python3-dkim wants
    der = subprocess.run(["openssl", "pkey", "-in", path, "-outform", "DER"],
                         check=True, capture_output=True).stdout
    if len(der) != 48:
        sys.exit("inb_tool.py: %s: not an Ed25519 PKCS#8 key (%d bytes DER)"
                 % (path, len(der)))
    return base64.b64encode(der[16:])


def cmd_sign(args):
    import dkim
    key = domain = selector = identity = when = expire = None
    alg = "rsa"
    canon = "relaxed/relaxed"
    length = False
    heads = None
    path = None
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--key":
            key = args[i + 1]; i += 2
        elif a == "--domain":
            domain = args[i + 1]; i += 2
        elif a == "--selector":
            selector = args[i + 1]; i += 2
        elif a == "--alg":
            alg = args[i + 1]; i += 2
        elif a == "--canon":
            canon = args[i + 1]; i += 2
        elif a == "--length":
            length = True; i += 1
        elif a == "--headers":
            heads = [h.encode() for h in args[i + 1].split(",")]; i += 2
        elif a == "--identity":
            identity = args[i + 1].encode(); i += 2
        elif a == "--time":
            when = int(args[i + 1]); i += 2
        elif a == "--expire":
            expire = args[i + 1].encode(); i += 2
        else:
            path = a; i += 1
    msg = crlf(open(path, "rb").read())
    c = tuple(x.encode() for x in canon.split("/"))

    class Signer(dkim.DKIM):
        """python3-dkim with x= among the signed tags, before b="""
        def gen_header(self, fields, *rest, **kw):
            if expire is not None:
                at = [k for k, f in enumerate(fields) if f[0] == b"b"][0]
                fields.insert(at, (b"x", expire))
            return dkim.DKIM.gen_header(self, fields, *rest, **kw)

    if when is not None:
        dkim.time.time = lambda: when
    d = Signer(msg, linesep=b"\r\n")
    d.should_not_sign = set()       # h= may name DKIM-Signature here
    sig = d.sign(selector.encode(), domain.encode(), load_key(key, alg),
                 canonicalize=c, identity=identity,
                 signature_algorithm=b"ed25519-sha256" if alg == "ed25519"
                 else b"rsa-sha256",
                 include_headers=heads, length=length)
    sys.stdout.buffer.write(crlf(sig) + msg)


def cmd_addhdr(args):
    n = int(args[args.index("--count") + 1])
    field = args[args.index("--header") + 1].encode() + b"\r\n"
    msg = crlf(open(args[-1], "rb").read())
    head, sep, body = msg.partition(b"\r\n\r\n")
    sys.stdout.buffer.write(head + b"\r\n" + field * n + b"\r\n" + body)


def cmd_bigsig(args):
    n = int(args[args.index("--tags") + 1])
    sys.stdout.write("v=1; a=rsa-sha256; d=rej.test; s=r1; h=from; "
                     "bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; "
                     "b=dGVzdA==" + "".join("; t%d=v" % k for k in range(n)))


def cmd_keytxt(args):
    path = args[args.index("--key") + 1]
    der = subprocess.run(["openssl", "pkey", "-in", path, "-pubout",
                          "-outform", "DER"],
                         check=True, capture_output=True).stdout
    txt = subprocess.run(["openssl", "pkey", "-in", path, "-noout", "-text"],
                         check=True, capture_output=True).stdout
    if b"ED25519" in txt.upper()[:200]:
        print("v=DKIM1; k=ed25519; p=" + base64.b64encode(der[-32:]).decode())
    else:
        print("v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode())


def cmd_zonetxt(args):
    data = open(args[0]).read()
    print("".join(re.findall(r'"([^"]*)"', data)))


def cmd_rr(args):
    name, text = args[0], args[1]
    if not name.endswith("."):
        name += "."
    parts = [text[i:i + 250] for i in range(0, len(text), 250)] or [""]
    print("%s 300 IN TXT %s" % (name, " ".join(
        '"%s"' % p.replace("\\", "\\\\").replace('"', '\\"') for p in parts)))


# --------------------------------------------------------------------------
# Authentication-Results (RFC 8601), parsed independently of authmilter


def strip_comments(s):
    """remove (comments), nesting and quoted-pairs allowed, outside quotes"""
    out = []
    depth = 0
    inq = False
    i = 0
    while i < len(s):
        ch = s[i]
        if depth == 0 and ch == '"':
            inq = not inq
            out.append(ch)
        elif inq:
            out.append(ch)
            if ch == "\\" and i + 1 < len(s):
                out.append(s[i + 1]); i += 1
        elif ch == "\\" and depth > 0:
            i += 1
        elif ch == "(":
            depth += 1
        elif ch == ")" and depth > 0:
            depth -= 1
            if depth == 0:
                out.append(" ")
        elif depth == 0:
            out.append(ch)
        i += 1
    return "".join(out)


def split_outside_quotes(s, sep):
    parts, cur, inq, i = [], [], False, 0
    while i < len(s):
        ch = s[i]
        if ch == '"':
            inq = not inq
        if ch == "\\" and inq and i + 1 < len(s):
            cur.append(ch); cur.append(s[i + 1]); i += 2; continue
        if not inq and ch == sep:
            parts.append("".join(cur)); cur = []
        else:
            cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return parts


def tokens(s):
    return re.findall(r'(?:[^\s"]+|"(?:[^"\\]|\\.)*")+', s)


def unq(v):
    if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        return re.sub(r"\\(.)", r"\1", v[1:-1])
    return v


def parse_ar(value):
    """{"id": authserv-id, "raw": [clause texts], "clauses": [{"method",
    "result", "reason", "props": {ptype.property: value}}]}"""
    v = re.sub(r"\r?\n[ \t]", " ", value or "")
    raw_clauses = [c.strip() for c in split_outside_quotes(v, ";")]
    nc = strip_comments(v)
    parts = [p.strip() for p in split_outside_quotes(nc, ";")]
    res = {"id": "", "version": "", "raw": raw_clauses[1:], "clauses": []}
    if not parts:
        return res
    head = parts[0].split()
    res["id"] = head[0] if head else ""
    res["version"] = head[1] if len(head) > 1 else ""
    for p in parts[1:]:
        if not p or p == "none":
            continue
        toks = tokens(p)
        if not toks or "=" not in toks[0]:
            res["clauses"].append({"method": "?", "result": "?", "text": p,
                                   "props": {}, "reason": ""})
            continue
        m, r = toks[0].split("=", 1)
        c = {"method": m.split("/")[0].lower(), "result": r.lower(),
             "props": {}, "reason": "", "text": p}
        for t in toks[1:]:
            if "=" not in t:
                continue
            k, val = t.split("=", 1)
            k = k.lower()
            if k == "reason":
                c["reason"] = unq(val)
            else:
                c["props"][k] = unq(val)
        res["clauses"].append(c)
    return res


def load_json(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
        obj = json.loads(data.decode("utf-8"))
    except Exception as e:  # noqa
        print("not JSON (%s): %r" % (e, data[:300] if 'data' in dir() else ""))
        sys.exit(3)
    if not isinstance(obj, dict):
        print("not a JSON object")
        sys.exit(3)
    return obj


def cmd_get(args):
    j = load_json(args[0])
    ar = parse_ar(j.get("authentication_results", ""))

    def arc(method, n=0):
        cl = [c for c in ar["clauses"] if c["method"] == method]
        return cl[n] if n < len(cl) else {"method": method, "result": "",
                                          "props": {}, "reason": "", "text": ""}

    def arcs(method):
        return [c for c in ar["clauses"] if c["method"] == method]

    def arwith(prop, value=None):
        for c in ar["clauses"]:
            if prop in c["props"] and (value is None or
                                       c["props"][prop] == value):
                return c
        return {"method": "", "result": "", "props": {}, "reason": "",
                "text": ""}

    env = {"j": j, "ar": ar, "arc": arc, "arcs": arcs, "arwith": arwith,
           "len": len,
           "sorted": sorted, "re": re, "any": any, "all": all}
    try:
        v = eval(args[1], env)
    except Exception as e:  # noqa
        print("<error: %s: %s>" % (type(e).__name__, e))
        sys.exit(4)
    if isinstance(v, str):
        print(v)
    else:
        print(json.dumps(v, sort_keys=True))


SHAPE = {
    "spf": {"result": str, "domain": str, "explanation": str},
    "spf_helo": {"result": str, "domain": str},
    "dkim": [{"result": str, "domain": str, "selector": str,
              "algorithm": str, "reason": str}],
    "arc": {"result": str, "sets": int, "oldest_pass": int,
            "sealers": [str], "reason": str, "trusted": bool,
            "sealed": int},
    "dmarc": {"result": str, "policy": str, "header_from": str,
              "disposition": str, "override": str,
              "override_comment": str},
    "action": str,
    "smtp_reply": str,
    "authentication_results": str,
    "headers_added": [{"name": str, "value": str}],
    "headers_removed": [{"name": str, "index": int}],
}
ENUMS = {
    ("spf", "result"): {"pass", "fail", "softfail", "neutral", "none",
                        "temperror", "permerror"},
    ("spf_helo", "result"): {"pass", "fail", "softfail", "neutral", "none",
                             "temperror", "permerror"},
    ("dkim", "result"): {"pass", "fail", "neutral", "policy", "temperror",
                         "permerror", "none"},
    ("arc", "result"): {"pass", "fail", "none"},
    ("dmarc", "result"): {"pass", "fail", "none", "temperror", "permerror"},
    ("dmarc", "policy"): {"none", "quarantine", "reject", "unknown"},
    ("dmarc", "disposition"): {"none", "quarantine", "reject"},
    ("dmarc", "override"): {"none", "trusted_forwarder", "mailing_list",
                            "local_policy", "policy_test_mode", "other"},
    ("action",): {"accept", "reject", "quarantine", "tempfail"},
}


def shape_errors(obj):
    errs = []

    def chk(o, shape, path):
        if isinstance(shape, dict):
            if not isinstance(o, dict):
                errs.append("%s: not an object" % path); return
            if set(o) != set(shape):
                errs.append("%s: keys %s, want %s" % (path or "top",
                            sorted(o), sorted(shape)))
            for k, s in shape.items():
                if k in o:
                    chk(o[k], s, (path + "." if path else "") + k)
        elif isinstance(shape, list):
            if not isinstance(o, list):
                errs.append("%s: not an array" % path); return
            for i, e in enumerate(o):
                chk(e, shape[0], "%s[%d]" % (path, i))
        elif not isinstance(o, shape):
            errs.append("%s: %r is not a %s" % (path, o, shape.__name__))

    chk(obj, SHAPE, "")
    if errs:
        return errs
    for key, allowed in ENUMS.items():
        if key[0] == "dkim":
            vals = [d[key[1]] for d in obj["dkim"]]
        elif len(key) == 1:
            vals = [obj[key[0]]]
        else:
            vals = [obj[key[0]][key[1]]]
        for v in vals:
            if v not in allowed:
                errs.append("%s: %r not in %s" % (".".join(key), v,
                                                  sorted(allowed)))
    for d in obj["dkim"]:
        if d["algorithm"] not in ("rsa-sha256", "ed25519-sha256", "rsa-sha1", ""):
            errs.append("dkim.algorithm: %r" % d["algorithm"])
    a, r = obj["action"], obj["smtp_reply"]
    if a in ("accept", "quarantine") and r != "":
        errs.append("smtp_reply %r with action %s (want \"\")" % (r, a))
    if a == "reject" and not re.match(r"^5\d\d 5\.\d+\.\d+ ", r):
        errs.append("smtp_reply %r with action reject" % r)
    if a == "tempfail" and not re.match(r"^4\d\d 4\.\d+\.\d+ ", r):
        errs.append("smtp_reply %r with action tempfail" % r)
    return errs


def cmd_shape(args):
    bad = 0
    for path in args:
        try:
            obj = json.loads(open(path, "rb").read().decode("utf-8"))
        except Exception as e:  # noqa
            print("%s: not JSON: %s" % (path, e)); bad += 1; continue
        errs = shape_errors(obj)
        for e in errs:
            print("%s: %s" % (path, e))
        bad += bool(errs)
    sys.exit(1 if bad else 0)


# RFC 6376 3.5: domain-name (LDH labels, two or more) and selector
LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
DOMAIN = re.compile(r"^%s(?:\.%s)+$" % (LABEL, LABEL))
SELECTOR = re.compile(r"^%s(?:\.%s)*$" % (LABEL, LABEL))


def cmd_arshape(args):
    """arshape ID FILE...: every authentication_results starts with ID and
    has spf, dkim and dmarc clauses; dkim clauses other than none name
    header.d, header.s, header.a and an 8-character header.b"""
    want = args[0]
    bad = 0
    for path in args[1:]:
        try:
            j = json.loads(open(path, "rb").read().decode("utf-8"))
            ar = parse_ar(j["authentication_results"])
        except Exception as e:  # noqa
            print("%s: %s" % (path, e)); bad += 1; continue
        errs = []
        if ar["id"].lower() != want.lower():
            errs.append("authserv-id %r" % ar["id"])
        methods = [c["method"] for c in ar["clauses"]]
        for m in ("spf", "dkim", "dmarc"):
            if m not in methods:
                errs.append("no %s clause" % m)
        for c in ar["clauses"]:
            if c["method"] == "dkim" and c["result"] not in ("none", ""):
                # a permerror names only what the signature had valid
                need = ("header.d", "header.s", "header.a", "header.b")
                for p in need if c["result"] != "permerror" else ():
                    if not c["props"].get(p):
                        errs.append("dkim clause without %s: %s" % (p, c["text"]))
                b = c["props"].get("header.b", "")
                if b and len(b) != 8:
                    errs.append("header.b %r is not 8 characters" % b)
                d = c["props"].get("header.d")
                if d is not None and not DOMAIN.match(d):
                    errs.append("header.d %r is not a domain name" % d)
                s = c["props"].get("header.s")
                if s is not None and not SELECTOR.match(s):
                    errs.append("header.s %r is not a selector" % s)
            if c["method"] == "?":
                errs.append("clause not method=result: %r" % c["text"])
        for e in errs:
            print("%s: %s\n    %s" % (path, e, j.get("authentication_results")))
        bad += bool(errs)
    sys.exit(1 if bad else 0)


def header_fields(path):
    data = open(path, "rb").read().replace(b"\r\n", b"\n")
    head = data.split(b"\n\n", 1)[0]
    fields, cur = [], None
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and cur is not None:
            cur += b"\n" + line
        else:
            if cur is not None:
                fields.append(cur)
            cur = line
    if cur is not None:
        fields.append(cur)
    out = []
    for f in fields:
        name, _, value = f.partition(b":")
        out.append((name.decode("utf-8", "replace"),
                    value.decode("utf-8", "replace")))
    return out


def cmd_hdr(args):
    for n, v in header_fields(args[0]):
        if n.lower() == args[1].lower():
            print(re.sub(r"\s*\n\s*", " ", v).strip())


def cmd_sigtag(args):
    n = int(args[2]) if len(args) > 2 else 0
    sigs = [v for k, v in header_fields(args[0]) if k.lower() == "dkim-signature"]
    v = re.sub(r"\s+", "", sigs[n])
    tags = dict(p.split("=", 1) for p in v.split(";") if "=" in p)
    print(tags.get(args[1], ""))


def cmd_msgget(args):
    """msgget FILE ID EXPR: EXPR over a stored message: names (header
    names in order), hdrs [(name, value)], ars (every parsed A-R), ours
    (the A-R fields whose authserv-id is ID, parsed), arc(method[, n]) and
    arcs(method) over the first of ours"""
    hdrs = header_fields(args[0])
    names = [n for n, v in hdrs]
    ars = [parse_ar(v.strip()) for n, v in hdrs
           if n.lower() == "authentication-results"]
    ours = [a for a in ars if a["id"].lower() == args[1].lower()]
    first = ours[0] if ours else {"clauses": []}

    def arcs(method):
        return [c for c in first["clauses"] if c["method"] == method]

    def arc(method, n=0):
        cl = arcs(method)
        return cl[n] if n < len(cl) else {"method": method, "result": "",
                                          "props": {}, "reason": "",
                                          "text": ""}

    env = {"names": names, "hdrs": hdrs, "ars": ars, "ours": ours,
           "arc": arc, "arcs": arcs, "len": len, "sorted": sorted,
           "re": re, "any": any, "all": all}
    try:
        v = eval(args[2], env)
    except Exception as e:  # noqa
        print("<error: %s: %s>" % (type(e).__name__, e))
        sys.exit(4)
    print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))


def cmd_hdrnames(args):
    for n, v in header_fields(args[0]):
        print(n)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    f = {"msg": cmd_msg, "sign": cmd_sign, "keytxt": cmd_keytxt,
         "zonetxt": cmd_zonetxt, "rr": cmd_rr, "get": cmd_get,
         "shape": cmd_shape, "hdr": cmd_hdr, "sigtag": cmd_sigtag,
         "bigsig": cmd_bigsig, "addhdr": cmd_addhdr,
         "arshape": cmd_arshape, "msgget": cmd_msgget, "hdrnames": cmd_hdrnames}.get(cmd)
    if f is None:
        sys.exit("inb_tool.py: unknown command %r" % cmd)
    f(args)


if __name__ == "__main__":
    main()
