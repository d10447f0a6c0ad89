"""Search stage: dense retrieval corrected for language bias, BM25 per language, fusion.

How the pieces fit (each choice was measured; see docs/retrieval.md):
- Dense: the query is searched in each language's FAISS index. Scores are made
  comparable across languages by centring: each language's mean passage vector is
  subtracted from the query's score against that language (``q·p - q·mean_L``),
  which removes the constant same-language bonus e5 gives.
- Lexical: BM25 in the query's own language with that language's analyzer, and, when
  a glossary is loaded, in the other languages with the query's concepts translated.
- Fusion: weighted reciprocal-rank fusion of the dense list and the lexical lists.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from kb.lexical import LexicalIndex, analyze
from kb.vectors import VectorIndex

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class SearchConfig:
    """Knobs of the retriever; the defaults are the measured best (docs/retrieval.md)."""

    dense_mode: str = "centered"  # "raw" | "centered"
    dense_weight: float = 1.0
    lexical_weight: float = 0.5  # BM25 in the query's language
    cross_lexical_weight: float = 0.3  # BM25 in other languages via the glossary
    rrf_k: int = 60
    candidates: int = 100
    per_article_cap: int = 0  # 0: no cap


@dataclass(frozen=True)
class Scored:
    chunk_id: int
    score: float
    signals: dict[str, int]


def dense_ranking(
    vectors: VectorIndex, query_vec: np.ndarray, langs: list[str], *, mode: str, candidates: int
) -> list[tuple[int, float]]:
    """Chunk ids ranked by (language-corrected) cosine, across the given languages."""
    merged: list[tuple[int, float]] = []
    for lang in langs:
        ids, scores = vectors.search(lang, query_vec, candidates)
        if len(ids) == 0:
            continue
        if mode == "centered":
            scores = scores - float(query_vec @ vectors.means[lang])
        merged.extend(zip(ids.tolist(), scores.tolist(), strict=True))
    merged.sort(key=lambda x: -x[1])
    return merged[:candidates]


def lexical_rankings(
    lexical: LexicalIndex,
    query: str,
    query_lang: str,
    langs: list[str],
    *,
    expansions: dict[str, list[str]] | None = None,
    candidates: int,
) -> dict[str, list[tuple[int, float]]]:
    """BM25 rankings per language. The query language uses the query itself; other
    languages only get the glossary's translations of the query's concepts."""
    out: dict[str, list[tuple[int, float]]] = {}
    for lang in langs:
        if lang == query_lang:
            terms = analyze(query, lang)
            if expansions and expansions.get(lang):
                terms += [t for e in expansions[lang] for t in analyze(e, lang)]
        elif expansions and expansions.get(lang):
            terms = [t for e in expansions[lang] for t in analyze(e, lang)]
        else:
            continue
        if not terms:
            continue
        ids, scores = lexical.scores(lang, terms)
        if len(ids) == 0:
            continue
        top = np.argsort(-scores)[:candidates]
        ranked = [(int(ids[i]), float(scores[i])) for i in top if scores[i] > 0]
        if ranked:
            out[lang] = ranked
    return out


def fuse(
    dense: list[tuple[int, float]],
    lexical: dict[str, list[tuple[int, float]]],
    query_lang: str,
    config: SearchConfig,
) -> list[Scored]:
    """Weighted reciprocal-rank fusion."""
    scores: dict[int, float] = defaultdict(float)
    signals: dict[int, dict[str, int]] = defaultdict(dict)
    for rank, (cid, _) in enumerate(dense, 1):
        scores[cid] += config.dense_weight / (config.rrf_k + rank)
        signals[cid]["dense"] = rank
    for lang, ranked in lexical.items():
        weight = config.lexical_weight if lang == query_lang else config.cross_lexical_weight
        for rank, (cid, _) in enumerate(ranked, 1):
            scores[cid] += weight / (config.rrf_k + rank)
            signals[cid][f"bm25_{lang}"] = rank
    ordered = sorted(scores.items(), key=lambda x: -x[1])
    return [Scored(cid, s, signals[cid]) for cid, s in ordered]
