"""Calibrate translation-family detection on XQuAD's parallel paragraphs, then report
the seeds.

Positives: the same paragraph in two languages. Hard negatives: a different paragraph
of the same Wikipedia article in the other language (same topic, not a translation).
Usage: .venv/bin/python benchmarks/families_calibrate.py [--n 80]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
from pathlib import Path

import numpy as np

from kb.articles import read_article
from kb.cleaning import clean
from kb.encoder import load_encoder
from kb.families import FAMILY_THRESHOLD, MIN_ALIGNED, align
from kb.sentences import sentences

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def paragraphs(lang: str) -> dict[tuple[int, int], str]:
    data = json.loads((SHARED / "bench" / "xquad" / f"xquad.{lang}.json").read_text())["data"]
    return {(a, p): para["context"] for a, art in enumerate(data)
            for p, para in enumerate(art["paragraphs"])}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=80)
    args = ap.parse_args()
    enc = load_encoder("embedded")
    cache: dict[str, np.ndarray] = {}

    def vecs(text: str) -> np.ndarray:
        if text not in cache:
            cache[text] = enc.encode(sentences(clean(text)), kind="passage")
        return cache[text]

    paras = {lang: paragraphs(lang) for lang in ("en", "de", "vi")}
    keys = sorted(paras["en"])
    rng = random.Random(3)
    sample = rng.sample(keys, args.n)
    pos, neg = [], []
    for la, lb in itertools.combinations(("en", "de", "vi"), 2):
        for key in sample:
            r = align(vecs(paras[la][key]), vecs(paras[lb][key]))
            pos.append((r.score, len(r.pairs)))
            siblings = [k for k in keys if k[0] == key[0] and k != key]
            if siblings:
                other = rng.choice(siblings)
                r = align(vecs(paras[la][key]), vecs(paras[lb][other]))
                neg.append((r.score, len(r.pairs)))
    pos_a, neg_a = np.array([p for p, _ in pos]), np.array([n for n, _ in neg])
    pos_ok = np.array([p >= FAMILY_THRESHOLD and k >= MIN_ALIGNED for p, k in pos])
    neg_ok = np.array([n >= FAMILY_THRESHOLD and k >= MIN_ALIGNED for n, k in neg])
    print(f"translations (n={len(pos)}): min {pos_a.min():.2f} p5 {np.percentile(pos_a, 5):.2f} "
          f"median {np.median(pos_a):.2f}")
    print(f"same-topic non-translations (n={len(neg)}): median {np.median(neg_a):.2f} "
          f"p95 {np.percentile(neg_a, 95):.2f} max {neg_a.max():.2f}")
    for t in (0.3, 0.4, 0.5, 0.6):
        print(f"threshold {t}: recall {np.mean(pos_a >= t):.3f}, "
              f"false-positive rate {np.mean(neg_a >= t):.3f}")
    print(f"shipped rule (score >= {FAMILY_THRESHOLD} and >= {MIN_ALIGNED} aligned): "
          f"recall {pos_ok.mean():.3f}, false-positive rate {neg_ok.mean():.3f}")
    print(f"\nseeds (threshold {FAMILY_THRESHOLD}):")
    arts = [read_article(p) for p in sorted((ROOT / "corpus").glob("*.txt"))]
    for a, b in itertools.combinations(arts, 2):
        if a.lang == b.lang:
            continue
        r = align(vecs(a.text), vecs(b.text))
        print(f"  {a.id} ~ {b.id}: score {r.score:.2f} ({len(r.pairs)} aligned of "
              f"{r.n_a}/{r.n_b} sentences) -> {'FAMILY' if r.score >= FAMILY_THRESHOLD else '-'}")


if __name__ == "__main__":
    main()
