#!/usr/bin/python3
"""genmail.py - write realistic test messages for the benchmark.

usage: genmail.py --size SIZE --count N --from ADDR --to ADDR --outdir DIR
                  [--seed S] [--crlf]

SIZE is 10k, 100k, 1m or 10m (any NUMBER[k|m] works: k = 1024 bytes,
m = 1024 * 1024).  Writes N files DIR/msg-00001.eml ... each about SIZE bytes
(within 2 %), with:

  - a chain of three folded Received headers, Return-Path absent (it is added
    at delivery), From/To/Reply-To, Subject with an RFC 2047 encoded word,
    Date, Message-ID, MIME-Version, List-Id, List-Unsubscribe (folded),
    List-Unsubscribe-Post, List-Archive, Precedence, X-Mailer, Feedback-ID;
  - a multipart/alternative text + HTML body (quoted-printable free: plain
    7-bit lines of at most 76 characters);
  - from 100k up, a multipart/mixed wrapper with a base64 application/pdf
    attachment that makes up the size.

No DKIM-Signature or Authentication-Results: add them yourself when a test
needs them.  Lines end in LF (Postfix and loadgen accept that) unless --crlf.
The output depends only on the arguments: the same --seed (default 1) gives
the same bytes.  Standard library only.
"""

import argparse
import base64
import datetime
import email.utils
import os
import random
import re
import sys

WORDS = (
    "the of and to in is for on that with as by at from this be are we it an "
    "or your our will have has can more about account order report meeting "
    "update project team schedule invoice review please attached find below "
    "thanks regards message information service customer support delivery "
    "quarter results budget proposal contract agenda summary details request "
    "confirm payment shipment tracking number weekly newsletter offer event "
    "registration webinar release notes security policy change password link "
    "download document draft final version comments feedback question answer"
).split()

SUBJECT_WORDS = ("Réunion", "Überblick", "Quartalsbericht", "Café", "Année",
                 "Prüfung", "Señal", "Élan", "Naïve", "Smörgåsbord")

LINE_MAX = 76
BASE_DATE = datetime.datetime(2026, 11, 3, 9, 0, 0,
                              tzinfo=datetime.timezone.utc)
ATTACH_FROM = 100 * 1024      # messages this big get an attachment
READABLE_WITH_ATTACHMENT = 6000   # bytes of text + HTML beside an attachment
PDF_MAGIC = b"%PDF-1.7\n"


def parse_size(text):
    m = re.fullmatch(r"(\d+)([kKmM]?)", text)
    if not m or int(m.group(1)) == 0:
        raise argparse.ArgumentTypeError("bad size: %s" % text)
    n = int(m.group(1))
    unit = m.group(2).lower()
    return n * (1024 if unit == "k" else 1024 * 1024 if unit == "m" else 1)


def sentence(rng):
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 16))]
    words[0] = words[0].capitalize()
    return " ".join(words) + rng.choice((".", ".", ".", "?", "!"))


def wrap(text, width=LINE_MAX):
    """Greedy word wrap into lines of at most `width` characters."""
    lines, cur = [], ""
    for w in text.split():
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = w if not cur else cur + " " + w
    if cur:
        lines.append(cur)
    return lines


def paragraphs(rng, target):
    """Paragraphs (lists of lines) adding up to about `target` bytes."""
    out, size = [], 0
    while size < target:
        sentences = []
        for _ in range(rng.randint(2, 5)):
            sentences.append(sentence(rng))
            size += len(sentences[-1]) + 1
            if size >= target:
                break
        out.append(wrap(" ".join(sentences)))
        size += 1
    return out


def text_part(paras, name):
    lines = ["Hello %s," % name, ""]
    for p in paras:
        lines.extend(p)
        lines.append("")
    lines.extend(["-- ", "The Example Team", "https://lists.example.com/"])
    return lines


def html_part(paras, name):
    lines = ["<!DOCTYPE html>", "<html><head><meta charset=\"utf-8\">",
             "<title>Newsletter</title></head>",
             "<body style=\"font-family: Arial, sans-serif\">",
             "<p>Hello %s,</p>" % name]
    for p in paras:
        lines.append("<p>")
        lines.extend(p)
        lines.append("</p>")
    lines.extend(["<p>-- <br>The Example Team<br>",
                  "<a href=\"https://lists.example.com/\">lists.example.com</a></p>",
                  "</body></html>"])
    return lines


def encoded_subject(rng):
    word = rng.choice(SUBJECT_WORDS)
    enc = "".join(c if c.isascii() and c.isalnum() else
                  "".join("=%02X" % b for b in c.encode("utf-8"))
                  for c in word)
    return "=?UTF-8?Q?%s?= %s %s %d" % (enc, rng.choice(WORDS),
                                          rng.choice(WORDS), rng.randint(1, 999))


def ip(rng, net):
    return "%s.%d" % (net, rng.randint(2, 250))


def queue_id(rng):
    return "".join(rng.choice("0123456789BCDFGHJKLMNPQRSTVWXYZ") for _ in range(12))


def headers(rng, args, idx, when, ctype):
    from_domain = args.sender.rsplit("@", 1)[-1]
    to_domain = args.rcpt.rsplit("@", 1)[-1]
    hop = [when + datetime.timedelta(seconds=s) for s in (4, 2, 0)]
    fmt = email.utils.format_datetime
    mid = "<%s.%d@%s>" % ("%016x" % rng.getrandbits(64), idx, from_domain)
    h = [
        "Received: from mx-in.%s (mx-in.%s [%s])\n"
        "\tby mail.%s (Postfix) with ESMTPS id %s\n"
        "\tfor <%s>; %s" % (to_domain, to_domain, ip(rng, "10.0.3"), to_domain,
                           queue_id(rng), args.rcpt, fmt(hop[0])),
        "Received: from out-%d.mta.%s (out-%d.mta.%s [%s])\n"
        "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\n"
        "\tby mx-in.%s (Postfix) with ESMTPS id %s\n"
        "\tfor <%s>; %s" % (idx % 7, from_domain, idx % 7, from_domain,
                           ip(rng, "198.51.100"), to_domain, queue_id(rng),
                           args.rcpt, fmt(hop[1])),
        "Received: from app-%d.internal.%s (app-%d.internal.%s [%s])\n"
        "\tby out-%d.mta.%s (Postfix) with ESMTP id %s;\n"
        "\t%s" % (idx % 3, from_domain, idx % 3, from_domain, ip(rng, "10.1.2"),
                 idx % 7, from_domain, queue_id(rng), fmt(hop[2])),
        "From: \"Example Newsletter\" <%s>" % args.sender,
        "To: <%s>" % args.rcpt,
        "Reply-To: <no-reply@%s>" % from_domain,
        "Subject: %s" % encoded_subject(rng),
        "Date: %s" % fmt(when),
        "Message-ID: %s" % mid,
        "MIME-Version: 1.0",
        "List-Id: Example announcements <announce.lists.%s>" % from_domain,
        "List-Unsubscribe: <mailto:unsubscribe-%d@lists.%s?subject=unsubscribe>,\n"
        " <https://lists.%s/unsubscribe?list=announce&id=%016x>"
        % (idx, from_domain, from_domain, rng.getrandbits(64)),
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        "List-Archive: <https://lists.%s/archive/announce/>" % from_domain,
        "Precedence: bulk",
        "X-Mailer: genmail 1.0 (authmilter benchmark)",
        "Feedback-ID: %d:announce:newsletter:%s" % (rng.randint(1, 99999), from_domain),
        "Content-Type: %s" % ctype,
    ]
    return h


def alternative(b_alt, paras, name):
    """The lines of the multipart/alternative text + HTML part."""
    return (["--" + b_alt,
             "Content-Type: text/plain; charset=\"utf-8\"",
             "Content-Transfer-Encoding: 7bit", ""] + text_part(paras, name) +
            ["--" + b_alt,
             "Content-Type: text/html; charset=\"utf-8\"",
             "Content-Transfer-Encoding: 7bit", ""] + html_part(paras, name) +
            ["--" + b_alt + "--"])


def size_of(lines):
    return sum(len(x) + 1 for x in lines)


def message(rng, args, idx):
    when = BASE_DATE + datetime.timedelta(seconds=idx * 37 + rng.randint(0, 30))
    b_alt = "alt-%016x" % rng.getrandbits(64)
    b_mix = "mix-%016x" % rng.getrandbits(64)
    name = args.rcpt.split("@", 1)[0]
    preamble = ["This is a multi-part message in MIME format.", ""]

    if args.size < ATTACH_FROM:
        ctype = "multipart/alternative;\n boundary=\"%s\"" % b_alt
        head = headers(rng, args, idx, when, ctype)
        fixed = size_of(head) + 1 + size_of(preamble)
        # the text appears twice (plain and HTML): aim at half the room, then
        # correct the aim once by what the first try missed
        aim = max((args.size - fixed) / 2 - 300, 100)
        state = rng.getstate()
        got = fixed + size_of(alternative(b_alt, paragraphs(rng, aim), name))
        rng.setstate(state)
        aim = max(aim + (args.size - got) / 2, 100)
        body = preamble + alternative(b_alt, paragraphs(rng, aim), name)
        return "\n".join(head) + "\n\n" + "\n".join(body) + "\n"

    ctype = "multipart/mixed;\n boundary=\"%s\"" % b_mix
    head = headers(rng, args, idx, when, ctype)
    body = preamble + ["--" + b_mix,
                       "Content-Type: multipart/alternative;",
                       " boundary=\"%s\"" % b_alt, ""]
    body += alternative(b_alt, paragraphs(rng, READABLE_WITH_ATTACHMENT / 2), name)
    body += ["",
             "--" + b_mix,
             "Content-Type: application/pdf; name=\"report-%d.pdf\"" % idx,
             "Content-Transfer-Encoding: base64",
             "Content-Disposition: attachment; filename=\"report-%d.pdf\"" % idx,
             ""]
    closing = "--" + b_mix + "--"
    used = size_of(head) + 1 + size_of(body) + len(closing) + 1
    left = max(args.size - used, 0)
    # base64: 4 characters per 3 bytes, and a LF after each 76 characters
    nbytes = (left * LINE_MAX // (LINE_MAX + 1)) * 3 // 4
    data = rng.getrandbits(8 * nbytes).to_bytes(nbytes, "big") if nbytes else b""
    if nbytes > len(PDF_MAGIC):
        data = PDF_MAGIC + data[len(PDF_MAGIC):]
    enc = base64.b64encode(data)
    body.extend(enc[i:i + LINE_MAX].decode("ascii")
                for i in range(0, len(enc), LINE_MAX))
    body.append(closing)
    return "\n".join(head) + "\n\n" + "\n".join(body) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=parse_size, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--from", dest="sender", required=True)
    ap.add_argument("--to", dest="rcpt", required=True)
    ap.add_argument("--outdir", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--crlf", action="store_true")
    args = ap.parse_args()
    if args.count < 1:
        ap.error("--count must be at least 1")
    if "@" not in args.sender or "@" not in args.rcpt:
        ap.error("--from and --to need an address with @")
    os.makedirs(args.outdir, exist_ok=True)
    width = max(5, len(str(args.count)))
    for i in range(1, args.count + 1):
        rng = random.Random("%d/%d/%d" % (args.seed, args.size, i))
        text = message(rng, args, i)
        if args.crlf:
            text = text.replace("\n", "\r\n")
        path = os.path.join(args.outdir, "msg-%0*d.eml" % (width, i))
        with open(path, "wb") as f:
            f.write(text.encode("ascii"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
