"""Tune the fusion weights on a dev half of every suite; report the held-out half.

Every configuration is scored in one pass over the same query encodings (kb eval's
Evaluator with extra configurations). Questions are split into dev/test halves by a
stable hash of their text. Usage:
    .venv/bin/python benchmarks/tune.py --workdir benchmarks/out/eval --sample 400 \
        [--grid weights|zscore]
"""

from __future__ import annotations

import argparse
import itertools
import json
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from kb import evaluation
from kb.search import SearchConfig
from kb.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def weights_grid() -> dict[str, SearchConfig]:
    """Centring, sentence mixing and the fusion weights (the 162-config grid)."""
    out = {}
    base = SearchConfig()
    for center, sw, wl, wko, wc in itertools.product(
        [0.25, 0.5, 0.75], [0.4, 0.6], [0.5, 1.0, 1.5], [1.5, 2.5, 4.0], [2.0, 3.0, 4.0]
    ):
        cfg = replace(base, center=center, sentence_weight=sw, lexical_weight=wl,
                      lexical_weight_by_lang={"ko": wko}, cross_lexical_weight=1.0,
                      concept_weight=wc)
        out[f"c{center}-s{sw}-l{wl}-ko{wko}-k{wc}"] = cfg
    return out


def zscore_grid() -> dict[str, SearchConfig]:
    """BM25 lists z-scored like the dense list, against the shipped max-normalised ones."""
    base = SearchConfig()
    out = {"shipped": base}
    for wl, wc, wk, wko in itertools.product(
        [0.5, 0.75, 1.0, 1.25], [0.5, 1.0], [2.0, 3.0, 4.0], [None, 1.3]
    ):
        cfg = replace(base, lexical_norm="zscore", lexical_weight=wl, cross_lexical_weight=wc,
                      concept_weight=wk, lexical_weight_by_lang={"ko": wko} if wko else {})
        out[f"z-l{wl}-x{wc}-k{wk}-ko{wko}"] = cfg
    return out


def zscore_own_grid() -> dict[str, SearchConfig]:
    """Z-scored BM25 in the query's language only; glossary lists stay max-normalised."""
    base = SearchConfig()
    out = {"shipped": base}
    for wl, wc, wk in itertools.product([0.6, 0.75, 0.9, 1.0, 1.25], [0.5, 1.0], [3.0, 4.0, 5.0]):
        out[f"zo-l{wl}-x{wc}-k{wk}"] = replace(
            base, lexical_norm="zscore", cross_lexical_norm="max", lexical_weight=wl,
            cross_lexical_weight=wc, concept_weight=wk)
    return out


GRIDS = {"weights": weights_grid, "zscore": zscore_grid, "zscore-own": zscore_own_grid}


def half_scores(report: dict, name: str, half: str) -> dict[str, dict[str, float]]:
    """Per suite: macro-average over groups of this half."""
    out = {}
    for suite, variants in report.items():
        groups = {g: m for g, m in variants[name].items() if g.endswith(f"|{half}")}
        if not groups:
            continue
        keys = ["R@1", "R@5", "R@10", "MRR@10"]
        out[suite] = {k: float(np.mean([m[k] for m in groups.values()])) for k in keys}
    return out


def objective(scores: dict[str, dict[str, float]]) -> float:
    parts = []
    for suite, m in scores.items():
        parts += [m["R@5"], m["MRR@10"]] if suite == "seeds" else [m["R@1"]]
    return float(np.mean(parts))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "out" / "eval")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--sample", type=int, default=400)
    ap.add_argument("--grid", choices=list(GRIDS), default="zscore")
    ap.add_argument("--suite", action="append", choices=list(evaluation.SUITES))
    args = ap.parse_args()
    configs = GRIDS[args.grid]()
    ev = evaluation.Evaluator(args.shared, args.workdir, settings=Settings.from_env(),
                              sample=args.sample, extra=configs, split=True)
    try:
        report = evaluation.run(args.suite or list(evaluation.SUITES), ev, ROOT / "corpus")
    finally:
        ev.close()
    ranked = sorted(configs, key=lambda n: -objective(half_scores(report, n, "dev")))
    rows = []
    for name in ranked[:10] + ["hybrid", "dense", "bm25"]:
        dev, test = half_scores(report, name, "dev"), half_scores(report, name, "test")
        rows.append({"name": name, "dev_objective": objective(dev),
                     "test_objective": objective(test), "dev": dev, "test": test})
        print(f"{name:28s} dev {objective(dev):.4f} test {objective(test):.4f}  " + "  ".join(
            f"{s}: {m['R@1']:.3f}/{m['R@10']:.3f}" for s, m in test.items()))
    out = ROOT / "benchmarks" / "out" / "tune.json"
    out.write_text(json.dumps({"best": asdict(configs[ranked[0]]), "rows": rows}, indent=2))
    print("best:", ranked[0], asdict(configs[ranked[0]]))


if __name__ == "__main__":
    main()
