"""Dump per-query retrieval signals from `kb eval`'s indexes, for offline fusion tuning.

Usage: .venv/bin/python benchmarks/fusion_signals.py [--workdir benchmarks/out/eval]
Writes benchmarks/out/signals/<suite>.jsonl: per query, the dense scores per language
(raw cosine and the language-mean offset) and BM25 scores per language (query language
plus glossary expansions), over the top candidates, and the relevant ids.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from kb import evaluation
from kb.language import detect_query
from kb.search import lexical_rankings
from kb.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def dump(ev: evaluation.Evaluator, name: str, queries: list[evaluation.Query], out, chunk_level):
    kb = ev._kbs[name]
    vectors, lex = kb._ensure_fresh()
    labels = {}
    for r in kb.store.conn.execute("SELECT id, article_id FROM chunks"):
        labels[r["id"]] = str(r["id"]) if chunk_level else r["article_id"]
    vecs = kb.encoder.encode([q.text for q in queries], kind="query", batch_size=64)
    for q, v in zip(queries, vecs, strict=True):
        qlang = detect_query(q.text)
        dense = {}
        for lang in vectors.langs:
            ids, scores = vectors.search(lang, v, 100)
            dense[lang] = {
                "offset": float(v @ vectors.means[lang]),
                "hits": [[labels[int(i)], float(s)] for i, s in zip(ids, scores, strict=True)],
                "ids": ids.tolist(),
            }
        lexs = lexical_rankings(lex, q.text, qlang, vectors.langs,
                                expansions=kb.glossary.expand(q.text), candidates=100)
        plain = lexical_rankings(lex, q.text, qlang, vectors.langs, candidates=100)
        concepts = kb.glossary.match(q.text)
        cands = {int(i) for d in dense.values() for i in d.pop("ids")}
        cands |= {i for r in lexs.values() for i, _ in r}
        cov: dict[str, float] = {}
        for cid, c in kb.glossary.coverage(concepts, kb.store.chunk_terms(sorted(cands))).items():
            cov[labels[cid]] = max(c, cov.get(labels[cid], 0.0))
        out.write(json.dumps({
            "q": q.text, "qlang": qlang, "group": q.group, "relevant": sorted(q.relevant),
            "dense": dense,
            "lex": {lang: [[labels[i], s] for i, s in r] for lang, r in lexs.items()},
            "lex_plain": {lang: [[labels[i], s] for i, s in r] for lang, r in plain.items()},
            "coverage": cov,
        }, ensure_ascii=False) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "out" / "eval")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--suite", action="append")
    args = ap.parse_args()
    outdir = ROOT / "benchmarks" / "out" / "signals"
    outdir.mkdir(parents=True, exist_ok=True)
    ev = evaluation.Evaluator(args.shared, args.workdir, settings=Settings.from_env())
    captured: list = []
    ev.run_queries = lambda kb, qs, chunk_level=False: captured.append((kb, qs, chunk_level)) or {}
    for suite in args.suite or ["seeds", "xquad-mono", "xquad-cross", "xquad-mixed", "korquad"]:
        captured.clear()
        if suite == "seeds":
            ev.seeds(ROOT / "corpus")
        elif suite == "korquad":
            ev.korquad()
        else:
            ev.xquad(suite.split("-")[1])
        with open(outdir / f"{suite}.jsonl", "w") as out:
            for kb, qs, chunk_level in captured:
                name = next(n for n, k in ev._kbs.items() if k is kb)
                dump(ev, name, qs, out, chunk_level)
        print("wrote", suite, flush=True)
    ev.close()


if __name__ == "__main__":
    main()
