#!/usr/bin/python3
"""
test/tools/check_layers.py -- the module graph of profile_ext, checked.

Builds the graph from the object files, as the linker sees it: module A
depends on module B when A uses a symbol B defines (nm).  Fails when

  - the graph has a circle (a group of modules that depend on each other),
  - a module depends on a module of a higher layer, or
  - an object is in no known layer.

The layers, bottom up, are the directories under src/:

  core     the rule core: validators, normalisers, code tables (no PostgreSQL)
  base     plumbing: saved plans and acting as the owner, JSON, errors,
           crypto, PostgREST
  catalog  caches and settings: tenants, tokens, contracts, rate limits
  model    the profile in PostgreSQL terms: fields, documents, the caller
  audit    the audit trail: events, chains, seals, its triggers
  store    writes that go with the audit trail: profiles, verification
  api      the SQL-callable entry points and the module's _PG_init

Modules of one layer may call each other (without a circle).

Usage (after make):  /usr/bin/python3 test/tools/check_layers.py [TOPDIR]
Prints the graph's size and every problem; exits non-zero on any.
"""
import os
import subprocess
import sys

LAYERS = ["core", "base", "catalog", "model", "audit", "store", "api"]


def symbols(obj):
    """(defined, undefined) global symbols of an object file."""
    out = subprocess.run(["nm", "-g", obj], check=True, capture_output=True,
                         text=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            undefined.add(parts[1])
        elif len(parts) == 3 and parts[1] not in ("U", "w", "v"):
            defined.add(parts[2])
    return defined, undefined


def circles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else "."
    src = os.path.join(top, "src")
    objs = []
    for layer in os.listdir(src):
        d = os.path.join(src, layer)
        if os.path.isdir(d):
            objs += [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith(".o")]
    objs += [os.path.join(src, f) for f in os.listdir(src) if f.endswith(".o")]
    if not objs:
        print("no object files under src/: run make first")
        return 1

    problems = []
    module = {}
    for o in objs:
        rel = os.path.relpath(o, src)
        module[o] = rel[:-2]
        if os.path.dirname(rel) not in LAYERS:
            problems.append("%s is in no layer (%s)" % (rel, ", ".join(LAYERS)))
    defs, uses = {}, {}
    owner = {}
    for o in objs:
        d, u = symbols(o)
        defs[module[o]], uses[module[o]] = d, u
        for s in d:
            owner[s] = module[o]
    graph = {m: set() for m in defs}
    why = {}
    for m, used in uses.items():
        for s in used:
            if s in owner and owner[s] != m:
                graph[m].add(owner[s])
                why.setdefault((m, owner[s]), s)

    def layer(m):
        l = os.path.dirname(m)
        return LAYERS.index(l) if l in LAYERS else -1

    edges = sum(len(v) for v in graph.values())
    for m in sorted(graph):
        for t in sorted(graph[m]):
            if layer(t) > layer(m):
                problems.append("%s calls up into %s (%s)" % (m, t, why[(m, t)]))
    for comp in circles(graph):
        problems.append("circle: " + " -> ".join(comp + [comp[0]]))

    print("%d modules in %d layers, %d dependencies" % (len(graph), len(LAYERS), edges))
    for p in problems:
        print("  " + p)
    print("layering: %s" % ("ok" if not problems else "%d problem(s)" % len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
