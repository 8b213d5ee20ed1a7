#!/usr/bin/python3
"""results.py - bench/run's bookkeeping: check and record one run, print the table.

  results.py record --out RUNS.jsonl --row ID --label TEXT --filter TEXT
                    --side am|peer|base --run N --messages N --loadgen JSONFILE
                    --cpu-ticks T --clk-tck HZ --rss-kb KB --hdrs H
                    [--loadgen-rc RC] [--crypto SPEC]
      Reads loadgen's --json line, checks it (no errors, every message
      answered, all accepted, H added/inserted header fields per message),
      appends one JSON line to RUNS.jsonl, prints a one-line summary and
      exits 1 when the run was wrong. SPEC is the cryptography one message
      needs from this filter, as NAME=COUNT,...: rsa_sign, rsa_verify,
      ed_sign, ed_verify (operations) and kb (KB of the message, hashed
      once with SHA-256).

  results.py table --runs RUNS.jsonl --header FILE [--floor FLOOR.json]...
                   [--framework FILTER] [--note TEXT]...
      Prints the table: for each row and filter the median of each measure
      over its runs, and on the authmilter line the ratios authmilter/peer
      (msgs/s: > 1 is faster; CPU: < 1 is cheaper). With --floor (the
      output of bench/cryptofloor; several are averaged): the floor of each
      line (the cryptography its SPEC needs, priced by FLOOR) and the
      overhead (CPU per message minus the floor), and below the table what
      each floor is made of. Side "base" lines (a milter doing no work) get
      no ratios; with --framework naming one of them, a note splits each
      authmilter overhead into that line's CPU per message (libmilter and
      the kernel) and the rest (authmilter's own work). A base line with
      cryptography in its SPEC (nullmilter -c: that cryptography and no
      other work) splits the overheads of its own row the same way, into
      its overhead and the rest.
"""

import argparse
import json
import statistics
import sys

ACCEPTED = ("accept", "continue")
# authmilter, its peers, and milters that do no work (the framework's cost)
SIDES = ("am", "peer", "base")


def load_loadgen(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = [l for l in f.read().splitlines() if l.strip().startswith("{")]
    if not lines:
        raise ValueError("no JSON line in loadgen's output")
    return json.loads(lines[-1])


# the operations of a crypto SPEC: key, its cost in FLOOR, and its name
CRYPTO_OPS = (
    ("rsa_sign", "rsa2048_sign_ms", "RSA-2048 signature"),
    ("rsa_verify", "rsa2048_verify_ms", "RSA-2048 verification"),
    ("ed_sign", "ed25519_sign_ms", "Ed25519 signature"),
    ("ed_verify", "ed25519_verify_ms", "Ed25519 verification"),
)
# from this size on, SHA-256 is priced by the 1 MB figure (64 KB pieces)
CRYPTO_LARGE_KB = 512.0
# the bound of issue 11: reports may add this much CPU per message
REPORT_BOUND_MS = 0.05
# a peer that answered every message but left out a header field on at
# most this share of them (seen: OpenDKIM -> OpenDMARC with 50 ms DNS, one
# message in 2,000) is noted, not failed: its figures still compare
PEER_SHORT_SHARE = 0.01


def parse_crypto(spec):
    out = {}
    for part in (spec or "").split(","):
        if "=" in part:
            k, _, v = part.partition("=")
            out[k.strip()] = float(v)
    return out


def floor_ms(crypto, fl):
    """(ms, text): what the cryptography of crypto costs by fl"""
    if not crypto or not fl:
        return None, ""
    ms, parts = 0.0, []
    for key, cost, name in CRYPTO_OPS:
        n = crypto.get(key, 0)
        if n:
            ms += n * fl[cost]
            parts.append("%g %s%s (%.4f)" % (n, name, "s" if n > 1 else "",
                                              n * fl[cost]))
    kb = crypto.get("kb", 0)
    if kb:
        per_kb = fl["sha256_ms_per_mb"] / 1024.0 if kb >= CRYPTO_LARGE_KB \
            else fl["sha256_ms_per_kb"]
        ms += kb * per_kb
        parts.append("SHA-256 of %.1f KB (%.4f)" % (kb, kb * per_kb))
    if not parts:
        return ms, "no cryptography"
    return ms, " + ".join(parts) + " = %.3f ms" % ms


def load_floor_runs(paths):
    """the cryptofloor outputs, in the order given"""
    runs = []
    for p in paths or []:
        with open(p, encoding="utf-8") as f:
            for line in f:
                if line.strip().startswith("{"):
                    runs.append(json.loads(line))
    return runs


def load_floor(paths):
    """the mean of each figure over the cryptofloor outputs"""
    runs = load_floor_runs(paths)
    if not runs:
        return None
    keys = [c for _, c, _ in CRYPTO_OPS] + ["sha256_ms_per_kb",
                                             "sha256_ms_per_mb"]
    return {k: statistics.mean(r[k] for r in runs) for k in keys}


# The floor is measured before the loads and after them. When its RSA-2048
# signature moved more than this between the two, the machine's speed
# changed during the run, and a note says by how much.
FLOOR_MOVED = 0.03


def floor_moved_note(paths):
    """the note on a floor that moved between its measurements, or None"""
    signs = [r["rsa2048_sign_ms"] for r in load_floor_runs(paths)]
    if len(signs) < 2:
        return None
    spread = (max(signs) - min(signs)) / statistics.mean(signs)
    if spread <= FLOOR_MOVED:
        return None
    return ("note: the floor moved between its measurements (RSA-2048 "
            "signature %s ms, %.0f%% apart): the machine's speed changed "
            "during the run, so each overhead is uncertain by up to half "
            "that share of its floor" % (
                " then ".join("%.4f" % x for x in signs), spread * 100))


def record(a):
    problems = []
    peer_short = 0
    try:
        lg = load_loadgen(a.loadgen)
    except (OSError, ValueError) as e:
        lg = {}
        problems.append("loadgen output unreadable: %s" % e)
    if a.loadgen_rc not in (None, 0):
        problems.append("loadgen exited %d" % a.loadgen_rc)
    msgs = int(lg.get("messages", 0) or 0)
    replies = lg.get("replies", {}) or {}
    headers = lg.get("headers", {}) or {}
    errors = int(lg.get("errors", 0) or 0)
    if lg:
        if msgs != a.messages:
            problems.append("%d of %d messages done" % (msgs, a.messages))
        if errors:
            problems.append("%d errors" % errors)
        ok = sum(int(replies.get(k, 0) or 0) for k in ACCEPTED)
        bad = {k: v for k, v in replies.items() if k not in ACCEPTED and v}
        if ok != msgs or bad:
            problems.append("replies %s (want all accept)" %
                            json.dumps(replies, sort_keys=True))
        added = int(headers.get("add", 0) or 0) + int(headers.get("insert", 0) or 0)
        short = a.hdrs * msgs - added
        if a.side == "peer" and 0 < short <= PEER_SHORT_SHARE * msgs:
            peer_short = short
        elif added != a.hdrs * msgs:
            problems.append("%d header fields added for %d messages (want %d each)"
                            % (added, msgs, a.hdrs))
    cpu_ms = (a.cpu_ticks * 1000.0 / a.clk_tck / msgs) if msgs else None
    rec = {
        "row": a.row, "label": a.label, "filter": a.filter, "side": a.side,
        "run": a.run, "messages": msgs,
        "rate": lg.get("rate"), "p50_ms": lg.get("p50_ms"),
        "p90_ms": lg.get("p90_ms"), "p99_ms": lg.get("p99_ms"),
        "max_ms": lg.get("max_ms"), "cpu_ms": cpu_ms,
        "rss_mb": a.rss_kb / 1024.0,
        "client_cpu_ms": lg.get("client_cpu_ms_per_msg"),
        "replies": replies, "headers": headers, "errors": errors,
        "problems": problems, "crypto": parse_crypto(a.crypto),
        "peer_short": peer_short, "hdrs": a.hdrs,
        # one clock tick over the run, per message: CPU's resolution
        "cpu_res_ms": (1000.0 / a.clk_tck / msgs) if msgs else None,
    }
    with open(a.out, "a", encoding="utf-8") as f:
        f.write(json.dumps(rec, sort_keys=True) + "\n")
    print("  %-24s %-34s run %d: %s msgs, %s msg/s, p50 %s ms, p99 %s ms, "
          "CPU %s ms/msg, RSS %.1f MB%s" % (
              a.label, a.filter, a.run, msgs, fmt(lg.get("rate"), 1),
              fmt(lg.get("p50_ms"), 2), fmt(lg.get("p99_ms"), 2),
              fmt(cpu_ms, 3), rec["rss_mb"],
              ("  WRONG: " + "; ".join(problems)) if problems else
              ("  (%d header fields short: noted)" % peer_short)
              if peer_short else ""))
    return 1 if problems else 0


def fmt(v, nd):
    if v is None:
        return "-"
    return "%.*f" % (nd, v)


def median(recs, key):
    vals = [r[key] for r in recs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def ratio(x, y):
    if x is None or y is None or y == 0:
        return "-"
    return "%.2fx" % (x / y)


def split_lines(out, overheads, base):
    """each (row label, filter, overhead) as base + the rest"""
    for label, name, over in overheads:
        rest = over - base
        out.append("      %-22s %-30s overhead %.3f = %.3f %s %.3f"
                   % (label, name, over, base, "+" if rest >= 0 else "-",
                      abs(rest)))


def table(a):
    rows, order = {}, []
    with open(a.runs, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            if r["row"] not in rows:
                rows[r["row"]] = {"label": r["label"], "am": {}, "peer": {},
                                  "base": {}}
                order.append(r["row"])
            rows[r["row"]][r["side"]].setdefault(r["filter"], []).append(r)
    fl = load_floor(a.floor)
    out = []
    if a.header:
        with open(a.header, encoding="utf-8") as f:
            out.append(f.read().rstrip("\n"))
        out.append("")
    if fl:
        out.append("floor:    bench/cryptofloor (one thread, CPU time): RSA-2048 sign "
                   "%.4f ms, verify %.4f ms; Ed25519 sign %.4f ms, verify %.4f ms;"
                   % (fl["rsa2048_sign_ms"], fl["rsa2048_verify_ms"],
                      fl["ed25519_sign_ms"], fl["ed25519_verify_ms"]))
        out.append("          SHA-256 %.5f ms per KB (10 KB at once), %.3f ms per MB "
                   "(64 KB pieces); overhead = CPU ms/msg - floor ms"
                   % (fl["sha256_ms_per_kb"], fl["sha256_ms_per_mb"]))
        moved = floor_moved_note(a.floor)
        if moved:
            out.append(moved)
        out.append("")
    cols = ("%-22s %-30s %6s %9s %8s %8s %10s %8s %9s %8s %9s %9s")
    out.append(cols % ("row", "filter", "msgs", "msgs/s", "p50 ms", "p99 ms",
                       "CPU ms/msg", "floor ms", "overhead", "RSS MB",
                       "am/peer", "am/peer"))
    out.append(cols % ("", "", "", "", "", "", "", "", "ms/msg", "(peak)",
                       "msgs/s", "CPU"))
    width = len(cols % (("",) * 12))
    out.append("-" * width)
    wrong = 0
    floors = []     # (row label, filters, text), for the legend
    overheads = []  # (row label, filter, overhead ms) of the authmilter lines
    framework = None    # CPU ms/msg of the --framework line
    in_place = {}       # row label: (name, overhead) of a base line with crypto
    for rid in order:
        row = rows[rid]
        meds = {}
        for side in SIDES:
            for name, recs in row[side].items():
                meds[(side, name)] = {k: median(recs, k) for k in
                                      ("messages", "rate", "p50_ms", "p99_ms",
                                       "cpu_ms", "rss_mb")}
                meds[(side, name)]["runs"] = len(recs)
                meds[(side, name)]["wrong"] = sum(1 for r in recs if r["problems"])
                meds[(side, name)]["crypto"] = recs[0].get("crypto") or {}
        peer = next((v for (s, _), v in meds.items() if s == "peer"), None)
        first = True
        for side in SIDES:
            for name in row[side]:
                m = meds[(side, name)]
                wrong += m["wrong"]
                note = "  (%d of %d runs WRONG)" % (m["wrong"], m["runs"]) if m["wrong"] else ""
                r1 = r2 = ""
                if side == "am" and peer is not None:
                    r1 = ratio(m["rate"], peer["rate"])
                    r2 = ratio(m["cpu_ms"], peer["cpu_ms"])
                fms, text = floor_ms(m["crypto"], fl)
                over = m["cpu_ms"] - fms if fms is not None and \
                    m["cpu_ms"] is not None else None
                if text:
                    for f_row, f_names, f_text in floors:
                        if f_row == row["label"] and f_text == text:
                            f_names.append(name)
                            break
                    else:
                        floors.append((row["label"], [name], text))
                if side == "am" and over is not None:
                    overheads.append((row["label"], name, over))
                if side == "base" and name == a.framework:
                    framework = m["cpu_ms"]
                elif side == "base" and over is not None and \
                        any(m["crypto"].get(k) for k, _, _ in CRYPTO_OPS):
                    in_place[row["label"]] = (name, over)
                out.append((cols % (row["label"] if first else "", name,
                                    fmt(m["messages"], 0), fmt(m["rate"], 1),
                                    fmt(m["p50_ms"], 2), fmt(m["p99_ms"], 2),
                                    fmt(m["cpu_ms"], 3), fmt(fms, 3),
                                    fmt(over, 3), fmt(m["rss_mb"], 1),
                                    r1, r2)).rstrip() + note)
                first = False
    out.append("-" * width)
    for label, names, text in floors:
        out.append("floor of %s (%s): %s" % (label, ", ".join(names), text))
    if framework is not None and overheads:
        out.append("note: of each authmilter overhead, %.3f ms per message is "
                   "libmilter's and the kernel's (%s, no work); "
                   "authmilter's own work is the rest:" % (framework,
                                                           a.framework))
        split_lines(out, overheads, framework)
    # a row with a milter that does its cryptography and nothing else
    for label, (base, base_over) in in_place.items():
        own = [(l, n, o) for l, n, o in overheads if l == label]
        if not own:
            continue
        out.append("note: %s: %s makes the floor's signatures and "
                   "verifications at the end of each message and does "
                   "nothing else: its overhead, %.3f ms, is libmilter's, "
                   "the kernel's and the cryptography's run in place of a "
                   "loop; authmilter's own work is the rest:"
                   % (label, base, base_over))
        split_lines(out, own, base_over)
    # a row that measured authmilter on TCP and on its unix socket in turn
    for rid in order:
        ams = rows[rid]["am"]
        tcp = ams.get("authmilter")
        unix = ams.get("authmilter (unix socket)")
        if tcp and unix:
            t = median(tcp, "rate")
            u = median(unix, "rate")
            if t and u:
                out.append("note: %s: authmilter over TCP ran at %.0f%% of its "
                           "unix socket's msgs/s (same runs, in turn)"
                           % (rows[rid]["label"], 100.0 * t / u))
    # rows that measured authmilter with something on and off, in turn
    for rid in order:
        ams = rows[rid]["am"]
        for what, on_names, off_names, bound in (
                ("metrics on", ("authmilter (metrics on)",),
                 ("authmilter (metrics off)",), None),
                ("reports on", ("authmilter (reports SQLite)",
                                "authmilter (reports PostgreSQL)"),
                 ("authmilter (reports off)", "authmilter"),
                 REPORT_BOUND_MS)):
            off_name = next((n for n in off_names if n in ams), off_names[0])
            off = ams.get(off_name)
            for on_name in on_names:
                on = ams.get(on_name)
                if not (on and off):
                    continue
                c1 = median(on, "cpu_ms")
                c0 = median(off, "cpu_ms")
                if c1 is None or c0 is None:
                    continue
                if bound is None:
                    out.append("note: %s: %s cost %+.3f ms of CPU per "
                               "message over %s (same runs, in turn)"
                               % (rows[rid]["label"], what, c1 - c0,
                                  off_name[len("authmilter ("):-1]))
                else:
                    d = round(c1 - c0, 3)
                    res = max(median(on, "cpu_res_ms") or 0,
                              median(off, "cpu_res_ms") or 0)
                    out.append("note: %s: %s cost %+.3f ms of CPU per message "
                               "over reports off (same runs, in turn; CPU "
                               "resolution %.3f ms): %s the %.2f ms bound"
                               % (rows[rid]["label"],
                                  on_name[len("authmilter ("):-1], d, res,
                                  "within" if d <= bound else "OVER",
                                  bound))
    # memory that grows run after run (the same processes serve all runs
    # of a row; VmHWM is reset before each run)
    for rid in order:
        for side in SIDES:
            for name, recs in rows[rid][side].items():
                rss = [r["rss_mb"] for r in sorted(recs, key=lambda r: r["run"])]
                if len(rss) >= 3 and all(b > a for a, b in zip(rss, rss[1:])) \
                        and rss[-1] - rss[0] >= 1.0:
                    out.append("note: %s, %s: peak RSS grew run after run: %s MB"
                               % (rows[rid]["label"], name,
                                  " -> ".join("%.1f" % x for x in rss)))
    # a peer short of a few header fields
    for rid in order:
        for name, recs in rows[rid]["peer"].items():
            n = sum(r.get("peer_short", 0) for r in recs)
            if n:
                out.append("note: %s, %s: %d header field(s) missing over "
                           "%d messages in %d runs (want %d a message; a "
                           "peer's answers: up to %d%% of a run's messages "
                           "is noted, more fails the run)"
                           % (rows[rid]["label"], name, n,
                              sum(r["messages"] for r in recs), len(recs),
                              recs[0].get("hdrs", 0),
                              int(PEER_SHORT_SHARE * 100)))
    for line in a.note or []:
        out.append("note: " + line)
    print("\n".join(out))
    return 1 if wrong else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("--out", required=True)
    r.add_argument("--row", required=True)
    r.add_argument("--label", required=True)
    r.add_argument("--filter", required=True)
    r.add_argument("--side", choices=SIDES, required=True)
    r.add_argument("--run", type=int, required=True)
    r.add_argument("--messages", type=int, required=True)
    r.add_argument("--loadgen", required=True)
    r.add_argument("--loadgen-rc", type=int)
    r.add_argument("--cpu-ticks", type=int, required=True)
    r.add_argument("--clk-tck", type=int, required=True)
    r.add_argument("--rss-kb", type=int, required=True)
    r.add_argument("--hdrs", type=int, required=True)
    r.add_argument("--crypto")
    t = sub.add_parser("table")
    t.add_argument("--runs", required=True)
    t.add_argument("--header")
    t.add_argument("--floor", action="append")
    t.add_argument("--note", action="append")
    t.add_argument("--framework")
    a = p.parse_args()
    sys.exit(record(a) if a.cmd == "record" else table(a))


if __name__ == "__main__":
    main()
