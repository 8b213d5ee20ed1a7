#!/usr/bin/env python3
"""layering.py - check the include graph of filter/ and include/ (TAP).

A module is one concern: filter/NAME.c with its header NAME.h (in include/
or filter/). Module A depends on module B when a file of A includes B's
header. The checks:

  - no include circle between modules (A -> B -> ... -> A);
  - libmilter is included by the milter front end alone;
  - the configuration (config.c, config.h) includes no engine module and no
    service: it is plain data;
  - no engine module includes a front end (milter, cli, daemon).

Prints one TAP line per check, the circles found as '#' lines, and exits 0
(the runner counts "not ok" lines); exit 2 when the tree cannot be read.
"""
import os
import re
import sys

INCLUDE_RE = re.compile(r'^\s*#\s*include\s+([<"])([^>"]+)[>"]', re.M)

ENGINE = {"spf", "dkimverify", "dmarc", "inbound", "session", "dns", "sign",
          "dkimsign", "authres", "arc", "runtime", "metrics", "report",
          "doctor"}
SERVICES = {"runtime", "metrics", "metrics_http", "dns", "dkimverify",
            "inbound", "session", "spf", "dmarc", "doctor"}
FRONT_ENDS = {"milter", "cli", "cli_check", "cli_stats", "cli_help",
              "cli_doctor", "cli_report", "daemon", "main"}


def strip_comments(text):
    return re.sub(r'/\*.*?\*/', '', text, flags=re.S)


def module_of(path):
    base = os.path.basename(path)
    return os.path.splitext(base)[0]


def read_graph(top):
    files = []
    for d in ("filter", "include"):
        full = os.path.join(top, d)
        if not os.path.isdir(full):
            continue
        for f in sorted(os.listdir(full)):
            if f.endswith((".c", ".h")):
                files.append(os.path.join(full, f))
    headers = {os.path.basename(f) for f in files if f.endswith(".h")}
    graph = {}
    system = {}
    for f in files:
        with open(f, encoding="utf-8", errors="replace") as fp:
            text = strip_comments(fp.read())
        mod = module_of(f)
        graph.setdefault(mod, set())
        system.setdefault(mod, set())
        for kind, inc in INCLUDE_RE.findall(text):
            name = os.path.basename(inc)
            if kind == '"' and name in headers:
                dep = module_of(name)
                if dep != mod:
                    graph[mod].add(dep)
            elif kind == "<":
                system[mod].add(inc)
    return graph, system


def find_cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index = {}
    low = {}
    stack = []
    on = set()
    sccs = []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sccs


def one_cycle(graph, comp):
    """A concrete path around a component, for the message."""
    members = set(comp)
    start = comp[0]
    path = [start]
    seen = {start}
    v = start
    while True:
        nxt = sorted(w for w in graph[v] if w in members)
        if start in nxt and len(path) > 1:
            return path + [start]
        nxt = [w for w in nxt if w not in seen] or nxt
        v = nxt[0]
        if v in seen:
            return path + [v]
        path.append(v)
        seen.add(v)


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    graph, system = read_graph(top)
    if not graph:
        print("not ok - layering: no source files under %s" % top)
        return 2
    cycles = find_cycles(graph)
    for comp in cycles:
        print("# circle among %s: %s" % (", ".join(comp),
                                         " -> ".join(one_cycle(graph, comp))))
    print("%s - layering: no include circle among %d modules" %
          ("not ok" if cycles else "ok", len(graph)))

    milter_users = sorted(m for m, incs in system.items()
                          if any(i.startswith("libmilter/") for i in incs))
    print("%s - layering: libmilter only in the milter front end (%s)" %
          ("ok" if milter_users == ["milter"] else "not ok",
           ", ".join(milter_users) or "nobody"))

    bad = sorted(graph.get("config", set()) & SERVICES)
    print("%s - layering: config includes no engine module or service%s" %
          ("not ok" if bad else "ok", (" (" + ", ".join(bad) + ")")
           if bad else ""))

    bad = sorted("%s->%s" % (m, d) for m in ENGINE
                 for d in graph.get(m, ()) if d in FRONT_ENDS)
    print("%s - layering: no engine module includes a front end%s" %
          ("not ok" if bad else "ok", (" (" + ", ".join(bad) + ")")
           if bad else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
