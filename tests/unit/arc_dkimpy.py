#!/usr/bin/python3
"""arc_dkimpy.py - python3-dkim's ARC, the independent implementation the
unit tests of arc.c (test_arc.c) check against. Run with Debian's
/usr/bin/python3 (python3-dkim, python3-authres).

  arc_dkimpy.py sign KEYS MSG PEM DOMAIN SELECTOR SRV_ID
      print MSG with a new ARC set on top, made by dkim.arc_sign (the
      results and cv= come from MSG's Authentication-Results of SRV_ID)
  arc_dkimpy.py verify KEYS MSG
      dkim.arc_verify: print the chain's status and reason on the first
      line, then "INSTANCE AMS-VALID AS-VALID CV" for each set, newest
      first
  arc_dkimpy.py sealonly KEYS MSG
      check the newest ARC-Seal over its own set only, as dkim.arc_sign
      makes the seal that follows a failed chain (cv=fail): print
      "sealonly True" or "sealonly False"

KEYS is a JSON file {"selector._domainkey.domain": "v=DKIM1; ..."}: the
DNS of the test, given to dkimpy as its dnsfunc (no network).
"""
import json
import sys

import dkim


def main():
    mode, keys = sys.argv[1], json.load(open(sys.argv[2]))

    def dnsfunc(name, timeout=5):
        n = name.decode() if isinstance(name, bytes) else name
        txt = keys.get(n.rstrip(".").lower())
        return txt.encode() if txt is not None else None

    msg = open(sys.argv[3], "rb").read()
    if mode == "sign":
        pem, domain, selector, srv = sys.argv[4:8]
        out = dkim.arc_sign(msg, selector.encode(), domain.encode(),
                            open(pem, "rb").read(), srv.encode())
        if not out:
            print("arc_sign made no set", file=sys.stderr)
            return 1
        sys.stdout.buffer.write(b"".join(out) + msg)
        return 0
    if mode == "sealonly":
        a = dkim.ARC(msg)
        top, hdrs = a.sorted_arc_headers()
        value = [v for (i, (n, v)) in hdrs
                 if i == top and n.lower() == b"arc-seal"][0]
        sig = dkim.util.parse_tag_value(value)
        sig[b"c"] = b"relaxed/relaxed"
        # arc_sign's way: newest first, so that h= picks the newest set
        a.headers.reverse()
        ok = a.verify_sig(sig, [b"arc-authentication-results",
                                b"arc-message-signature"],
                          (b"ARC-Seal", b" " + value), dnsfunc)
        print("sealonly %s" % ok)
        return 0
    cv, results, reason = dkim.arc_verify(msg, dnsfunc=dnsfunc)
    print("%s %s" % (cv.decode() if cv else "None", reason))
    for r in results:
        print("%d %s %s %s" % (r["instance"], r.get("ams-valid"),
                               r.get("as-valid"),
                               r.get("cv", b"?").decode()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
