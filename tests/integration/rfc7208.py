#!/usr/bin/python3
"""rfc7208.py - run the RFC 7208 test suite against `authmilter check`.

    rfc7208.py --yaml rfc7208-tests.yml --work DIR --authmilter BIN
               [--only PATTERN] [--jobs N] [--verbose]

The suite is the openspf.org YAML file (rfc7208-tests.yml) that Debian ships
in the source of pyspf. Each YAML document is a scenario: a zone (names with
A, AAAA, MX, PTR, CNAME, TXT and SPF records, and TIMEOUT markers) and test
cases (client address, HELO, MAIL FROM, the acceptable results and maybe the
expected explanation).

For every scenario a real DNS server is started on 127.0.0.1 (unbound, one
instance per scenario, stopped by its PID): the zone is served from an
authoritative zone "." (so CNAMEs are answered with their targets, as a
resolver would), names marked TIMEOUT get a "deny" local zone (the query is
dropped and never answered), and the records a TIMEOUT name does have are
put in local data, which "deny" still answers. As in the suite's own driver
(pyspf's testspf.py), SPF-type records are copied to TXT unless the name has
TXT data (or "TXT: NONE").

Each test case runs through the real command line:

    $SPF_CHECK_CMD --nameserver 127.0.0.1:PORT --client-ip HOST --helo HELO
        --mail-from MAILFROM MSGFILE

SPF_CHECK_CMD defaults to "BIN check --json -c CONF", CONF being a small
configuration with a short DNSTimeout for the TIMEOUT cases. The result is
spf.result of the JSON printed; spf.explanation is compared where the suite
gives an explanation ("DEFAULT" means the receiver's default explanation,
which is authmilter's "%{i} is not allowed to send mail for %{o} (SPF)").

Scenarios of authmilter's own (spf-extra-tests.yml) may also give
helo_result (compared with spf_helo.result) and domain (spf.domain).

Output: one TAP line per test case, "ok - SCENARIO/TEST" or "not ok - ...",
with the reason of a failure as "#" lines, then a summary line
"# LABEL: N of M test cases pass" (LABEL from --label, default rfc7208)
and the list of failures.
"""

import argparse
import concurrent.futures
import json
import os
import re
import shlex
import socket
import struct
import subprocess
import sys
import time

import yaml

# authmilter's default explanation: "%{i} is not allowed to send mail for %{o} (SPF)"
DEFAULT_EXP_RE = re.compile(r"^\S+ is not allowed to send mail for \S+ \(SPF\)$")
TTL = 300
UNBOUND_START_SECS = 10
CASE_TIMEOUT_SECS = 60
TXT_CHUNK = 255
MESSAGE = (b"From: spf suite <suite@example.org>\r\n"
           b"To: rcpt@example.net\r\n"
           b"Subject: RFC 7208 suite\r\n"
           b"\r\n"
           b"body\r\n")
CONFIG = """# authmilter configuration of the RFC 7208 suite (written by rfc7208.py)
AuthservID  mx.authmilter.test
DNSTimeout  1
DNSRetries  1
DNSBudget   20
"""


def name_text(name):
    """A domain name in zone-file syntax, absolute, odd bytes as \\DDD."""
    name = name.rstrip(".")
    if name == "":
        return "."
    labels = []
    for label in name.split("."):
        out = []
        for b in label.encode("utf-8"):
            c = chr(b)
            if c.isascii() and (c.isalnum() or c in "-_"):
                out.append(c)
            else:
                out.append("\\%03d" % b)
        labels.append("".join(out))
    return ".".join(labels) + "."


def txt_text(strings):
    """TXT rdata: each string quoted, split at 255 bytes, escaped."""
    if not strings:
        return '""'
    parts = []
    for s in strings:
        data = s.encode("utf-8") if isinstance(s, str) else bytes(s)
        chunks = [data[i:i + TXT_CHUNK]
                  for i in range(0, len(data), TXT_CHUNK)] or [b""]
        for chunk in chunks:
            out = []
            for b in chunk:
                if 0x20 <= b <= 0x7e and chr(b) not in "\"\\';":
                    out.append(chr(b))
                else:
                    out.append("\\%03d" % b)
            parts.append('"' + "".join(out) + '"')
    return " ".join(parts)


def records_of(items):
    """The records of one zonedata name, as pyspf's getrdata() reads them.

    Returns (records, timeout_types): records is a list of (TYPE, RDATA),
    timeout_types the set of types that time out ("*" for all that have no
    data)."""
    records, spf, timeout = [], [], set()
    has_txt = False
    for item in items:
        if item == "TIMEOUT":
            timeout.add("*")
            continue
        for rtype, value in item.items():
            if value == "TIMEOUT":
                timeout.add(rtype)
                continue
            if rtype in ("TXT", "SPF"):
                if isinstance(value, str):
                    value = [value]
                if rtype == "TXT":
                    has_txt = True
                if value == ["NONE"]:
                    continue
                if rtype == "SPF":
                    spf.append(value)
                records.append((rtype, txt_text(value)))
            elif rtype == "MX":
                records.append(("MX", "%d %s" % (value[0],
                                                 name_text(value[1]))))
            elif rtype in ("PTR", "CNAME"):
                records.append((rtype, name_text(value)))
            else:
                records.append((rtype, str(value)))
    if not has_txt:
        records += [("TXT", txt_text(v)) for v in spf]
    return records, timeout


def is_below(name, parent):
    name, parent = name.lower().rstrip("."), parent.lower().rstrip(".")
    return name != parent and name.endswith("." + parent)


def write_server(workdir, port, zonedata):
    """Write the zone file and unbound.conf of one scenario."""
    zone = [
        "$TTL %d" % TTL,
        ". IN SOA ns.suite.invalid. hostmaster.suite.invalid. "
        "1 3600 600 86400 %d" % TTL,
        ". IN NS ns.suite.invalid.",
    ]
    local = []
    timeouts = []
    names = {}
    for name, items in (zonedata or {}).items():
        records, timeout = records_of(items or [])
        names[name] = records
        for rtype, rdata in records:
            zone.append("%s %d IN %s %s" % (name_text(name), TTL, rtype,
                                             rdata))
        if timeout:
            timeouts.append(name)
            local.append('local-zone: "%s" deny' % name_text(name))
            for rtype, rdata in records:
                local.append("local-data: '%s %d IN %s %s'" % (
                    name_text(name), TTL, rtype, rdata))
    # names with data below a TIMEOUT name are not timed out themselves
    for name, records in names.items():
        if records and any(is_below(name, t) for t in timeouts) and \
                name not in timeouts:
            local.append('local-zone: "%s" transparent' % name_text(name))
    zonefile = os.path.join(workdir, "root.zone")
    with open(zonefile, "w") as f:
        f.write("\n".join(zone) + "\n")
    conf = os.path.join(workdir, "unbound.conf")
    with open(conf, "w") as f:
        f.write("server:\n")
        for line in [
                "interface: 127.0.0.1", "port: %d" % port,
                "do-ip4: yes", "do-ip6: no", "do-udp: yes", "do-tcp: yes",
                "do-daemonize: no", 'username: ""', 'chroot: ""',
                'directory: "%s"' % workdir, 'pidfile: ""',
                "use-syslog: no", 'logfile: ""', "verbosity: 0",
                "num-threads: 1", 'module-config: "iterator"',
                "unblock-lan-zones: yes", "insecure-lan-zones: yes",
                "access-control: 127.0.0.0/8 allow",
        ] + local:
            f.write("\t%s\n" % line)
        f.write("auth-zone:\n")
        f.write('\tname: "."\n\tzonefile: "%s"\n' % zonefile)
        f.write("\tfor-downstream: yes\n\tfor-upstream: no\n")
        f.write("\tfallback-enabled: no\n")
        f.write("remote-control:\n\tcontrol-enable: no\n")
    return conf


def free_port():
    """A port free on 127.0.0.1 for both UDP and TCP."""
    for _ in range(50):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            u.close()
            t.close()
    raise RuntimeError("no free port")


def answers(port):
    """Does the server on port answer a query for ". SOA"?"""
    query = struct.pack(">HHHHHH", 0x5350, 0x0100, 1, 0, 0, 0) + \
        b"\x00" + struct.pack(">HH", 6, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.2)
    try:
        s.sendto(query, ("127.0.0.1", port))
        data = s.recv(4096)
        return len(data) >= 12 and data[:2] == query[:2]
    except OSError:
        return False
    finally:
        s.close()


class Server:
    """unbound for one scenario, stopped by its PID."""

    def __init__(self, workdir, zonedata):
        self.port = free_port()
        self.workdir = workdir
        conf = write_server(workdir, self.port, zonedata)
        self.log = open(os.path.join(workdir, "unbound.log"), "wb")
        check = subprocess.run(["unbound-checkconf", conf],
                               capture_output=True)
        if check.returncode != 0:
            raise RuntimeError("unbound-checkconf: " +
                               check.stdout.decode(errors="replace") +
                               check.stderr.decode(errors="replace"))
        self.proc = subprocess.Popen(["unbound", "-d", "-c", conf],
                                     stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + UNBOUND_START_SECS
        while not answers(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                with open(os.path.join(workdir, "unbound.log"), "rb") as f:
                    raise RuntimeError("unbound did not start: " +
                                       f.read().decode(errors="replace"))
            time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def run_case(cmd, port, msgfile, test):
    """Run one test case; returns (ok, reasons, got)."""
    argv = cmd + ["--nameserver", "127.0.0.1:%d" % port,
                  "--client-ip", str(test["host"]),
                  "--helo", str(test.get("helo", "")),
                  "--mail-from", str(test.get("mailfrom", "")),
                  msgfile]
    try:
        p = subprocess.run(argv, capture_output=True,
                           timeout=CASE_TIMEOUT_SECS)
    except subprocess.TimeoutExpired:
        return False, ["timed out after %d s" % CASE_TIMEOUT_SECS], None
    except OSError as e:
        return False, ["cannot run %s: %s" % (argv[0], e)], None
    try:
        out = json.loads(p.stdout.decode("utf-8", errors="replace"))
        spf = out["spf"]
        got = spf["result"]
        exp = spf.get("explanation", "")
    except (ValueError, KeyError, TypeError):
        return False, ["exit status %d, no JSON with spf.result" %
                       p.returncode,
                       "stdout: " + p.stdout.decode(errors="replace")[:300],
                       "stderr: " + p.stderr.decode(errors="replace")[:300]
                       ], None
    want = test["result"]
    want = want if isinstance(want, list) else [want]
    reasons = []
    if got not in want:
        reasons.append("result %s, want %s" % (got, " or ".join(want)))
    if "explanation" in test and test["explanation"] is not None:
        wexp = test["explanation"]
        if wexp == "DEFAULT":
            if not DEFAULT_EXP_RE.match(exp):
                reasons.append("explanation %r, want the default" % exp)
        elif exp != wexp:
            reasons.append("explanation %r, want %r" % (exp, wexp))
    # keys of authmilter's own scenarios (spf-extra-tests.yml)
    if "helo_result" in test:
        hgot = (out.get("spf_helo") or {}).get("result")
        if hgot != test["helo_result"]:
            reasons.append("HELO result %s, want %s" %
                           (hgot, test["helo_result"]))
    if "domain" in test and spf.get("domain") != test["domain"]:
        reasons.append("domain %r, want %r" % (spf.get("domain"),
                                               test["domain"]))
    if reasons and spf.get("reason"):
        reasons.append("reason given: %s" % spf["reason"])
    return not reasons, reasons, got


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--yaml", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--authmilter", default=os.environ.get("AUTHMILTER"))
    ap.add_argument("--only", default="")
    ap.add_argument("--label", default="rfc7208")
    ap.add_argument("--jobs", type=int, default=8)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    os.makedirs(args.work, exist_ok=True)
    msgfile = os.path.join(args.work, "message.eml")
    with open(msgfile, "wb") as f:
        f.write(MESSAGE)
    conffile = os.path.join(args.work, "authmilter.conf")
    with open(conffile, "w") as f:
        f.write(CONFIG)
    if os.environ.get("SPF_CHECK_CMD"):
        cmd = shlex.split(os.environ["SPF_CHECK_CMD"])
    else:
        cmd = [args.authmilter, "check", "--json", "-c", conffile]

    with open(args.yaml, "rb") as f:
        scenarios = list(yaml.safe_load_all(f))
    total = passed = 0
    failures = []
    started = time.monotonic()
    for num, sc in enumerate(scenarios):
        title = sc.get("description", "scenario %d" % num)
        cases = [(tid, t) for tid, t in sc["tests"].items()
                 if args.only in "%s/%s" % (title, tid)]
        if not cases:
            continue
        workdir = os.path.join(args.work, "scenario%02d" % num)
        os.makedirs(workdir, exist_ok=True)
        try:
            server = Server(workdir, sc.get("zonedata"))
        except (RuntimeError, OSError) as e:
            for tid, _ in cases:
                total += 1
                failures.append("%s/%s: DNS server did not start" %
                                (title, tid))
                print("not ok - %s: %s/%s" % (args.label, title, tid))
            print("# " + str(e).replace("\n", "\n# "))
            continue
        try:
            with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
                futs = [pool.submit(run_case, cmd, server.port, msgfile, t)
                        for _, t in cases]
                results = [fu.result() for fu in futs]
        finally:
            server.stop()
        for (tid, t), (ok, reasons, got) in zip(cases, results):
            total += 1
            name = "%s/%s" % (title, tid)
            if ok:
                passed += 1
                print("ok - %s: %s" % (args.label, name))
                if args.verbose:
                    print("# %s" % got)
            else:
                print("not ok - %s: %s" % (args.label, name))
                for r in reasons:
                    print("#   %s" % r)
                failures.append("%s: %s" % (name, "; ".join(reasons)))
        sys.stdout.flush()
    print("# %s: %d of %d test cases pass (%.1f s)" %
          (args.label, passed, total, time.monotonic() - started))
    for f in failures:
        print("#   failed: %s" % f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
