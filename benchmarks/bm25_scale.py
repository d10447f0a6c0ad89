"""The lexical leg at scale: BM25 over 100k and 1M synthetic chunks in one language.

Usage: .venv/bin/python benchmarks/bm25_scale.py [--sizes 100000 1000000]

Chunks are 60 terms drawn from a 60,000-term vocabulary with Zipf-like frequencies
(exponent 1.07), so common terms match most chunks, as stop-word-free marketing text
would not quite do: a pessimistic case for the scoring step. Everything runs through
the app's code: ``kb.lexical.LexicalIndex`` (``kb.bm25``) and the top-k selection that
``kb.search.lexical_rankings`` uses, next to a full argsort for comparison. Queries: 5
terms, drawn from the same distribution ("common") or uniformly from all but the 100
commonest terms ("rarer"). Prints a Markdown table; writes benchmarks/out/bm25_scale.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from pathlib import Path

import numpy as np

from kb.lexical import LexicalIndex
from kb.search import _top_positive

OUT = Path(__file__).resolve().parent / "out"
TERMS, VOCAB, K = 60, 60_000, 100


def run(n: int, rng: np.random.Generator) -> dict:
    p = 1 / np.arange(1, VOCAB + 1) ** 1.07
    p /= p.sum()
    vocab = [f"t{i}" for i in range(VOCAB)]
    t = time.perf_counter()
    draws = rng.choice(VOCAB, size=(n, TERMS), p=p)
    chunks = [[vocab[i] for i in row] for row in draws.tolist()]
    del draws
    index = LexicalIndex()
    index.build("xx", zip(np.arange(n), chunks, strict=True))
    build_s = time.perf_counter() - t
    del chunks
    queries = {
        "common": [[vocab[i] for i in rng.choice(VOCAB, size=5, p=p)] for _ in range(100)],
        "rarer": [[vocab[i] for i in rng.integers(100, VOCAB, size=5)] for _ in range(100)],
    }
    out: dict = {"chunks": n, "build_s": round(build_s, 1),
                 "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}
    for name, qs in queries.items():
        score_ms, top_ms, argsort_ms = [], [], []
        for q in qs:
            t0 = time.perf_counter()
            ids, scores = index.scores("xx", q)
            t1 = time.perf_counter()
            _top_positive(ids, scores, K)
            t2 = time.perf_counter()
            np.argsort(-scores)[:K]
            t3 = time.perf_counter()
            score_ms.append((t1 - t0) * 1000)
            top_ms.append((t2 - t1) * 1000)
            argsort_ms.append((t3 - t2) * 1000)
        out[name] = {k: round(statistics.median(v), 2) for k, v in
                     (("score_p50_ms", score_ms), ("top_k_p50_ms", top_ms),
                      ("full_argsort_p50_ms", argsort_ms))}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    results = [run(n, rng) for n in args.sizes]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bm25_scale.json").write_text(json.dumps(results, indent=2) + "\n")
    print("| chunks | build s | queries | BM25 scores p50 ms | top-100 p50 ms "
          "| (full argsort p50 ms) | peak RSS MB |")
    print("|---:|---:|---|---:|---:|---:|---:|")
    for r in results:
        for name in ("common", "rarer"):
            q = r[name]
            print(f"| {r['chunks']:,} | {r['build_s']} | {name} | {q['score_p50_ms']} "
                  f"| {q['top_k_p50_ms']} | {q['full_argsort_p50_ms']} | {r['peak_rss_mb']} |")


if __name__ == "__main__":
    main()
