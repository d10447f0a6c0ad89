"""The whole search path at 100k and 1M chunks in one language, through the app's code.

Usage: .venv/bin/python benchmarks/app_scale.py [--sizes 100000 1000000] [--sentences 3]
           [--real 'benchmarks/out/ix-bench/kb.sqlite'] [--queries 200]

Per query, single-threaded as the app searches (FAISS on one thread), what
``KnowledgeBase.search`` does between its input checks and reading the hits:

1. the query encoded by the app's encoder (the default ``onnx-int8``);
2. ``kb.search.dense_ranking``: the IVF index (``kb.vectors.VectorIndex``, default
   policy), language centring and best-sentence scoring of every candidate;
3. the glossary match and expansion, then ``kb.search.lexical_rankings``: the query
   analysed, BM25 (``kb.lexical.LexicalIndex``, ``kb.bm25``) and the top-k selection;
4. concept coverage of the candidates (their terms from memory; the app reads them
   from SQLite by primary key) and ``kb.search.fuse``.

Not included: reading the 10 hits from SQLite, by primary key (0.06-0.25 ms on the
benchmark corpus; it does not grow with the corpus), and the freshness check.

Data. Chunk and sentence vectors are synthesised from real e5 vectors (those stored in
``--real``, by default the benchmark-corpus index) as ``benchmarks/vector_scale.py``
does: a real vector moved towards a real neighbour, plus noise the size of the median
real nearest-neighbour distance. Each chunk gets ``--sentences`` sentence vectors
(the benchmark corpus has 3.9 per chunk); they are drawn independently of their chunk,
which costs the same to score. Chunk texts for BM25 are 60 terms drawn from the
analysed English XQuAD paragraphs' term frequencies, so real English questions (XQuAD,
one per paragraph) match real postings. Quality is not measured here: ``kb eval`` does
that on real data, and ``benchmarks/vector_scale.py`` the IVF recall at these sizes.

Prints Markdown; writes benchmarks/out/app_scale.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

from vector_scale import (  # noqa: E402
    median_nn_distance,
    neighbour_table,
    real_vectors,
    synthesise,
)

OUT = ROOT / "benchmarks" / "out"
XQUAD_EN = ROOT.parent / "shared" / "bench" / "xquad" / "xquad.en.json"
TERMS = 60


def english() -> tuple[list[str], list[str], np.ndarray]:
    """Real English questions (one per paragraph), and the analysed paragraphs' term
    vocabulary with its frequencies."""
    from kb.lexical import analyze

    data = json.loads(XQUAD_EN.read_text(encoding="utf-8"))["data"]
    counts: Counter[str] = Counter()
    questions = []
    for article in data:
        for p in article["paragraphs"]:
            counts.update(analyze(p["context"], "en"))
            if p["qas"]:
                questions.append(p["qas"][0]["question"])
    vocab = sorted(counts)
    freq = np.array([counts[t] for t in vocab], dtype=np.float64)
    return questions, vocab, freq / freq.sum()


def build(n: int, sentences: int, seeds: np.ndarray, nn: np.ndarray, noise: float,
          vocab: list[str], p: np.ndarray, rng: np.random.Generator):  # type: ignore[no-untyped-def]
    from kb.lexical import LexicalIndex
    from kb.vectors import VectorIndex

    ids = np.arange(1, n + 1, dtype=np.int64)
    t = time.perf_counter()
    vecs = synthesise(seeds, nn, n, noise, rng)
    svecs = synthesise(seeds, nn, n * sentences, noise, rng)
    vectors = VectorIndex(seeds.shape[1])
    vectors.build("en", ids, vecs, np.repeat(ids, sentences), svecs)
    del vecs, svecs
    vector_s = time.perf_counter() - t
    t = time.perf_counter()
    draws = rng.choice(len(vocab), size=(n, TERMS), p=p)
    terms = {int(i): [vocab[j] for j in row] for i, row in zip(ids, draws.tolist(), strict=True)}
    del draws
    lex = LexicalIndex()
    lex.build("en", zip(ids, terms.values(), strict=True))
    lexical_s = time.perf_counter() - t
    return vectors, lex, terms, {"vectors_s": round(vector_s, 1), "bm25_s": round(lexical_s, 1),
                                 "index": vectors.describe()}


def measure(vectors, lex, terms, questions: list[str]) -> dict:  # type: ignore[no-untyped-def]
    from kb.encoder import load_encoder
    from kb.glossary import joined_terms, load_glossary
    from kb.search import SearchConfig, dense_ranking, fuse, lexical_rankings

    cfg = SearchConfig()
    enc = load_encoder("embedded")
    glossary = load_glossary(ROOT / "corpus" / "glossary.yaml")
    parts: dict[str, list[float]] = {k: [] for k in
                                     ("encode", "dense", "lexical", "fuse", "total")}
    for i, q in enumerate(questions[:5] + questions):  # the first five warm up
        t0 = time.perf_counter()
        qvec = enc.encode([q], kind="query")[0]
        t1 = time.perf_counter()
        dense = dense_ranking(vectors, qvec, ["en"], center=cfg.center,
                              candidates=cfg.candidates, sentence_weight=cfg.sentence_weight)
        t2 = time.perf_counter()
        concepts = glossary.match(q)
        lists = lexical_rankings(lex, q, "en", ["en"], expansions=glossary.expand(q, concepts),
                                 candidates=cfg.candidates)
        t3 = time.perf_counter()
        coverage: dict[int, float] = {}
        if concepts and cfg.concept_weight:
            found = {c for c, _ in dense} | {c for r in lists.values() for c, _ in r}
            coverage = glossary.coverage(
                concepts, {c: ("en", joined_terms(terms[c])) for c in found})
        fuse(dense, lists, "en", cfg, coverage, limit=10)
        t4 = time.perf_counter()
        if i >= 5:
            for key, a, b in (("encode", t0, t1), ("dense", t1, t2), ("lexical", t2, t3),
                              ("fuse", t3, t4), ("total", t0, t4)):
                parts[key].append((b - a) * 1000)
    return {key: {"p50_ms": round(statistics.median(v), 2),
                  "p95_ms": round(float(np.percentile(v, 95)), 2)} for key, v in parts.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--sentences", type=int, default=3, help="sentence vectors per chunk")
    ap.add_argument("--real", default=str(OUT / "ix-bench" / "kb.sqlite"),
                    help="glob of kb.sqlite files holding real vectors")
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()

    from kb.vectors import _one_search_thread

    _one_search_thread()
    seeds, real_info = real_vectors(args.real)
    sims, nn = neighbour_table(seeds, 10)
    noise = median_nn_distance(sims)
    questions, vocab, p = english()
    questions = questions[: args.queries]
    results = []
    for n in args.sizes:
        rng = np.random.default_rng(n)
        vectors, lex, terms, info = build(n, args.sentences, seeds, nn, noise, vocab, p, rng)
        timing = measure(vectors, lex, terms, questions)
        results.append({"chunks": n, "sentences": n * args.sentences, **info, **timing,
                        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024})
        del vectors, lex, terms
        print(f"{n:,} chunks: total p50 {timing['total']['p50_ms']} ms", file=sys.stderr)
    out = {"real": real_info, "noise_norm": round(noise, 4), "queries": len(questions),
           "vocabulary": len(vocab), "results": results}
    OUT.mkdir(exist_ok=True)
    (OUT / "app_scale.json").write_text(json.dumps(out, indent=1))
    print("| chunks (one language) | sentence vectors | index | build s (vectors; BM25) "
          "| encode p50 | dense p50 | lexical p50 | coverage + fuse p50 | total p50 / p95 ms "
          "| peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        en = r["index"]["langs"]["en"]
        kind = " ".join(f"{k}={v}" for k, v in en.items() if k != "vectors")
        print(f"| {r['chunks']:,} | {r['sentences']:,} | {kind} | {r['vectors_s']}; {r['bm25_s']} "
              f"| {r['encode']['p50_ms']} | {r['dense']['p50_ms']} | {r['lexical']['p50_ms']} "
              f"| {r['fuse']['p50_ms']} | **{r['total']['p50_ms']}** / {r['total']['p95_ms']} "
              f"| {r['peak_rss_mb']} |")


if __name__ == "__main__":
    main()
