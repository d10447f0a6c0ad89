"""Offline fusion tuning on dumped signals (benchmarks/fusion_signals.py).

Queries are split by a stable hash into dev (tuning) and held-out test halves; the
grid is searched on dev only and every suite is reported on test.
Usage: .venv/bin/python benchmarks/tune_fusion.py
"""

from __future__ import annotations

import itertools
import json
import zlib
from collections import defaultdict
from pathlib import Path

import numpy as np

SIG = Path(__file__).resolve().parent / "out" / "signals"
SUITES = ["seeds", "xquad-mono", "xquad-cross", "xquad-mixed", "korquad"]


def load(suite):
    return [json.loads(x) for x in (SIG / f"{suite}.jsonl").read_text().splitlines()]


def split(q):
    return "dev" if zlib.crc32(q["q"].encode()) % 2 == 0 else "test"


def dense_list(q, mode):
    items = []
    for lang, d in q["dense"].items():
        off = d["offset"] * (1.0 if mode == "centered" else float(mode) if mode != "raw" else 0.0)
        items += [(label, s - off) for label, s in d["hits"]]
    items.sort(key=lambda x: -x[1])
    return items


def dedupe(items):
    seen, out = set(), []
    for label, s in items:
        if label not in seen:
            seen.add(label)
            out.append((label, s))
    return out


def fuse(q, p):
    dense = dedupe(dense_list(q, p["mode"]))[:100]
    lex = q["lex"] if p["gloss"] else q["lex_plain"]
    scores = defaultdict(float)
    if p["kind"] == "rrf":
        for r, (label, _) in enumerate(dense, 1):
            scores[label] += p["wd"] / (p["k"] + r)
        for lang, lst in lex.items():
            w = p["wl"] if lang == q["qlang"] else p["wx"]
            for r, (label, _) in enumerate(dedupe(lst), 1):
                scores[label] += w / (p["k"] + r)
    else:  # linear on normalised scores
        if dense:
            ds = np.array([s for _, s in dense])
            top, mu, sd = ds[0], ds.mean(), ds.std() + 1e-6
            for label, s in dense:
                scores[label] += p["wd"] * (s - mu) / sd
        for lang, lst in lex.items():
            lst = dedupe(lst)
            if not lst:
                continue
            w = p["wl"] if lang == q["qlang"] else p["wx"]
            mx = lst[0][1]
            for label, s in lst:
                scores[label] += w * (s / mx) * p["lscale"]
    if p.get("wc"):
        for label, c in q.get("coverage", {}).items():
            scores[label] += p["wc"] * c
    return [l for l, _ in sorted(scores.items(), key=lambda x: -x[1])]


def metrics(qs, p):
    r1 = r5 = r10 = mrr = 0.0
    groups = defaultdict(list)
    for q in qs:
        ranked = fuse(q, p)[:10]
        rel = set(q["relevant"])
        first = next((i for i, l in enumerate(ranked, 1) if l in rel), None)
        groups[q["group"]].append(first)
    # macro average over groups (directions / languages)
    res = defaultdict(list)
    for g, firsts in groups.items():
        n = len(firsts)
        res["R@1"].append(sum(f == 1 for f in firsts if f) / n)
        res["R@5"].append(sum(f <= 5 for f in firsts if f) / n)
        res["R@10"].append(sum(f <= 10 for f in firsts if f) / n)
        res["MRR"].append(sum(1 / f for f in firsts if f) / n)
    return {k: float(np.mean(v)) for k, v in res.items()}


def grid():
    for mode, gloss in itertools.product(["raw", "centered"], [True]):
        for k, wd, wl, wx in itertools.product([10, 30, 60], [1.0], [0, 0.25, 0.5, 1, 1.5, 2],
                                               [0, 0.5, 1, 2]):
            yield {"kind": "rrf", "mode": mode, "gloss": gloss, "k": k, "wd": wd, "wl": wl,
                   "wx": wx}
        for wd, wl, wx, ls in itertools.product([1.0], [0, 0.5, 1, 2, 3], [0, 0.5, 1, 2, 3],
                                                [1.0]):
            yield {"kind": "lin", "mode": mode, "gloss": gloss, "wd": wd, "wl": wl, "wx": wx,
                   "lscale": ls}


def main():
    data = {s: load(s) for s in SUITES if (SIG / f"{s}.jsonl").exists()}
    dev = {s: [q for q in qs if split(q) == "dev"] for s, qs in data.items()}
    test = {s: [q for q in qs if split(q) == "test"] for s, qs in data.items()}
    results = []
    for p in grid():
        m = {s: metrics(qs, p) for s, qs in dev.items()}
        # objective: mean R@1 over suites, seeds weighted by R@5 and MRR
        obj = np.mean([m[s]["R@1"] for s in m if s != "seeds"] +
                      ([m["seeds"]["R@5"], m["seeds"]["MRR"]] if "seeds" in m else []))
        results.append((obj, p, m))
    results.sort(key=lambda x: -x[0])
    for obj, p, m in results[:8]:
        print(f"{obj:.4f}", p)
        t = {s: metrics(qs, p) for s, qs in test.items()}
        print("   dev ", {s: {k: round(v, 3) for k, v in x.items()} for s, x in m.items()})
        print("   test", {s: {k: round(v, 3) for k, v in x.items()} for s, x in t.items()})


if __name__ == "__main__":
    main()
