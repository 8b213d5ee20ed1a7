#!/usr/bin/python3
"""hostile.py - write the hostile messages of t_hostile.sh.

Usage: hostile.py KIND DOMAIN > FILE

Each message is written byte-exact, CRLF line ends, for miltc --raw (so
no 100 KB header_size_limit: what reaches the milter is what is written
here). Every one has a usable From in DOMAIN unless its point is the From.

Kinds:
  dkim3000     3000 DKIM-Signature headers (past MaximumHeaders 1000)
  dkim990      990 DKIM-Signature headers (within MaximumHeaders)
  fromcomment  a From with 100,000 nested comments around the address
  fromgroup    a From with 20,000 nested groups, then 20,000 empty ones
  bigfold      a Subject of about 1 MB folded into 78-byte lines
  arcomment    an Authentication-Results with 100,000 nested comments
               before the authserv-id, and one left unclosed
  mime         broken MIME: 5,000 nested multiparts, boundaries never
               closed, a part header of 200 KB, bare CR and LF, NUL bytes
  dkimtags     a DKIM-Signature with 100,000 tags
  arc300       300 ARC sets (900 ARC fields, past the 50 RFC 8617 allows)
  arc50        50 ARC sets, each ARC-Message-Signature naming 500 fields
               in h=, over a message of 800 fields they name
  arctags      an ARC-Seal and an ARC-Message-Signature of 45,000 tags each
  arcaar       an ARC-Authentication-Results with 100,000 nested comments
               and 10,000 dmarc=pass clauses
  plain        an ordinary message, for before and after
"""

import sys

CRLF = "\r\n"
NESTED_COMMENTS = 100000	# depth of the comment towers
NESTED_GROUPS = 20000
EMPTY_GROUPS = 20000
FOLD_BYTES = 1000000		# the folded Subject (under 1 MB - 1 packet)
FOLD_WIDTH = 78
MIME_DEPTH = 5000
MIME_HEADER_BYTES = 200000
DKIM_TAGS = 100000
B64_SIG = "dGhpcyBpcyBub3QgYSBzaWduYXR1cmU="
ARC_MANY_SETS = 300		# 900 fields: within MaximumHeaders (1000)
ARC_MAX_SETS = 50		# RFC 8617 5.2
ARC_H_NAMES = 500
ARC_FIELDS = 800
ARC_TAGS = 45000		# two fields of ~400 KB: within MaximumHeaderBytes
ARC_AAR_CLAUSES = 10000		# ~650 KB in all, under libmilter's 1 MB
BH_EMPTY = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="


def base(dom, extra=(), from_=None):
    """The usual header fields, then extra ones."""
    h = [from_ if from_ is not None else "From: Sender <alice@%s>" % dom,
         "To: <rcpt@remote.test>",
         "Subject: hostile input",
         "Date: Sun, 22 Nov 2026 12:00:00 +0000",
         "Message-ID: <hostile@%s>" % dom]
    return h + list(extra)


def message(headers, body="Hello.\r\n"):
    return (CRLF.join(headers) + CRLF + CRLF).encode("latin-1") + \
        (body.encode("latin-1") if isinstance(body, str) else body)


def dkim_sig(dom, i):
    return ("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; "
            "d=d%d.%s; s=s%d; h=from:to:subject; "
            "bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=%s"
            % (i, dom, i, B64_SIG))


def tag_name(i):
    """A DKIM tag name for i: a letter, then base-36 digits."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    s = ""
    while True:
        s = digits[i % 36] + s
        i //= 36
        if i == 0:
            return "x" + s


def kind_dkim(dom, n):
    return message(base(dom, [dkim_sig(dom, i) for i in range(n)]))


def kind_fromcomment(dom):
    addr = "alice@%s" % dom
    f = "From: " + "(" * NESTED_COMMENTS + "c" + ")" * NESTED_COMMENTS + \
        " " + addr
    return message(base(dom, from_=f))


def kind_fromgroup(dom):
    g = "".join("g%d: " % i for i in range(NESTED_GROUPS))
    f = "From: " + g + "alice@%s" % dom + ";" * NESTED_GROUPS + \
        ", " + ", ".join("e%d:;" % i for i in range(EMPTY_GROUPS))
    return message(base(dom, from_=f))


def kind_bigfold(dom):
    words, line, lines, total = "lorem ipsum dolor sit amet", "Subject:", \
        [], 0
    while total < FOLD_BYTES:
        if len(line) + 6 > FOLD_WIDTH:
            lines.append(line)
            total += len(line) + 2
            line = "\t"
        line += " " + words.split()[total % 5]
    lines.append(line)
    h = [x for x in base(dom) if not x.startswith("Subject:")]
    return message(h + [CRLF.join(lines)])


def kind_arcomment(dom):
    tower = "(" * NESTED_COMMENTS + "x" + ")" * NESTED_COMMENTS
    ar1 = "Authentication-Results: " + tower + " mx.test; spf=pass"
    ar2 = "Authentication-Results: (" + "(" * NESTED_COMMENTS + \
        " mx.test; dkim=pass"
    return message(base(dom, [ar1, ar2]))


def kind_mime(dom):
    parts = []
    for i in range(MIME_DEPTH):
        parts.append("--b%d\r\nContent-Type: multipart/mixed; "
                     "boundary=\"b%d\"\r\n\r\n" % (i, i + 1))
    big = "Content-Type: text/plain; x=\"" + "y" * MIME_HEADER_BYTES + \
        "\r\n\r\n"
    body = ("preamble\r\n" + "".join(parts) + "--b%d\r\n" % MIME_DEPTH +
            big + "text\rwith bare CR\nand bare LF\r\n").encode("latin-1")
    body += b"\x00\x00NUL\x00\r\n--b0-\r\n--\r\n"
    h = base(dom, ["MIME-Version: 1.0",
                   "Content-Type: multipart/mixed; boundary=\"b0\"; "
                   "boundary=\"other\"; charset=\"\x01\"",
                   "Content-Transfer-Encoding: base64"])
    return message(h, body)


def kind_dkimtags(dom):
    tags = "; ".join("%s=1" % tag_name(i) for i in range(DKIM_TAGS))
    sig = ("DKIM-Signature: v=1; a=rsa-sha256; d=%s; s=sel; h=from; "
           "bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; %s; b=%s"
           % (dom, tags, B64_SIG))
    return message(base(dom, [sig]))


def arc_set(dom, i, h="from:to:subject", cv=None):
    """The three fields of ARC set i (newest first), signatures not valid."""
    cv = cv or ("none" if i == 1 else "pass")
    return ["ARC-Seal: i=%d; a=rsa-sha256; t=1800000000; cv=%s; d=s%d.%s; "
            "s=arc; b=%s" % (i, cv, i, dom, B64_SIG),
            "ARC-Message-Signature: i=%d; a=rsa-sha256; c=relaxed/relaxed; "
            "d=s%d.%s; s=arc; t=1800000000; h=%s; bh=%s; b=%s"
            % (i, i, dom, h, BH_EMPTY, B64_SIG),
            "ARC-Authentication-Results: i=%d; s%d.%s; dmarc=pass "
            "header.from=%s" % (i, i, dom, dom)]


def arc_chain(dom, n, h="from:to:subject"):
    fields = []
    for i in range(n, 0, -1):
        fields += arc_set(dom, i, h)
    return fields


def kind_arc300(dom):
    return message(arc_chain(dom, ARC_MANY_SETS) + base(dom))


def kind_arc50(dom):
    h = ":".join(["from"] + ["x-h%d" % (i % ARC_FIELDS)
                             for i in range(ARC_H_NAMES - 1)])
    extra = ["X-H%d: %d" % (i, i) for i in range(ARC_FIELDS)]
    return message(arc_chain(dom, ARC_MAX_SETS, h) + base(dom, extra))


def kind_arctags(dom):
    tags = "; ".join("%s=1" % tag_name(i) for i in range(ARC_TAGS))
    seal, ams, aar = arc_set(dom, 1)
    return message([seal + "; " + tags, ams + "; " + tags, aar] + base(dom))


def kind_arcaar(dom):
    tower = "(" * NESTED_COMMENTS + "x" + ")" * NESTED_COMMENTS
    clauses = "; ".join("dmarc=pass header.from=d%d.%s" % (i, dom)
                        for i in range(ARC_AAR_CLAUSES))
    seal, ams, _ = arc_set(dom, 1)
    aar = "ARC-Authentication-Results: i=1; %s s1.%s; %s" % (tower, dom,
                                                           clauses)
    return message([seal, ams, aar] + base(dom))


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    kind, dom = sys.argv[1], sys.argv[2]
    kinds = {
        "dkim3000": lambda: kind_dkim(dom, 3000),
        "dkim990": lambda: kind_dkim(dom, 990),
        "fromcomment": lambda: kind_fromcomment(dom),
        "fromgroup": lambda: kind_fromgroup(dom),
        "bigfold": lambda: kind_bigfold(dom),
        "arcomment": lambda: kind_arcomment(dom),
        "mime": lambda: kind_mime(dom),
        "dkimtags": lambda: kind_dkimtags(dom),
        "arc300": lambda: kind_arc300(dom),
        "arc50": lambda: kind_arc50(dom),
        "arctags": lambda: kind_arctags(dom),
        "arcaar": lambda: kind_arcaar(dom),
        "plain": lambda: message(base(dom)),
    }
    if kind not in kinds:
        sys.exit("unknown kind %s\n%s" % (kind, __doc__))
    sys.stdout.buffer.write(kinds[kind]())


if __name__ == "__main__":
    main()
