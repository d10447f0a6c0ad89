"""Search stage: dense retrieval corrected for language bias, BM25 per language, fusion.

How the pieces fit (each choice was measured; see docs/retrieval.md):
- Dense: the query is searched in each language's FAISS index. Scores are made
  comparable across languages by centring: each language's mean passage vector is
  subtracted from the query's score against that language (``q·p - q·mean_L``),
  which removes the constant same-language bonus e5 gives.
- Lexical: BM25 in the query's own language with that language's analyzer, and, when
  a glossary is loaded, in the other languages with the query's concepts translated.
- Fusion: a weighted sum of normalised scores (dense and own-language BM25 z-scored,
  glossary BM25 lists scaled by their best), plus glossary concept coverage.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from kb.lexical import LexicalIndex, analyze_cached
from kb.vectors import VectorIndex

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class SearchConfig:
    """Knobs of the retriever; the defaults are the measured best (docs/retrieval.md)."""

    fusion: str = "linear"  # "linear" (normalised scores) | "rrf"
    # How linear fusion scales a BM25 list: "max" (top = 1) or "zscore" (like dense: a
    # list whose top stands far above the rest counts for more than a flat one). Z-scored
    # BM25 in the query's language lifted KorQuAD R@1 from .883 to .920 and the seed
    # questions' MRR@10 from .823 to .854, the others unchanged (benchmarks/tune.py
    # --grid zscore-own); the glossary's translated lists stay max-normalised: z-scored,
    # they cost two seed questions their first place.
    lexical_norm: str = "zscore"
    cross_lexical_norm: str | None = "max"  # for the glossary lists; None: lexical_norm
    lexical_pad: int = 10  # zscore: short lists count as padded with zeros to this length
    center: float = 0.75  # how much of each language's mean is removed (0 = raw cosine)
    sentence_weight: float = 0.4  # passage score = mix of its own and its best sentence's
    dense_weight: float = 1.0
    lexical_weight: float = 0.75  # BM25 in the query's language
    # Per-language overrides of lexical_weight. Korean BM25 over Kiwi morphemes beats e5
    # on KorQuAD (R@1 .90 vs .76) and a Korean weight of 2.5 lifted KorQuAD R@1 by ~1.3
    # pts, but then generic Korean word matches crowd the German answer out of a Korean
    # question's top 3 on the mixed seed corpus (tests/test_search_model.py), so none.
    lexical_weight_by_lang: dict[str, float] = field(default_factory=dict)
    cross_lexical_weight: float = 1.0  # BM25 in other languages via the glossary
    concept_weight: float = 4.0  # glossary concept coverage
    rrf_k: int = 60
    candidates: int = 100
    per_article_cap: int = 0  # 0: no cap


@dataclass(frozen=True)
class Scored:
    chunk_id: int
    score: float
    signals: dict[str, int]


def dense_ranking(
    vectors: VectorIndex,
    query_vec: np.ndarray,
    langs: list[str],
    *,
    center: float,
    candidates: int,
    sentence_weight: float = 0.0,
) -> list[tuple[int, float]]:
    """Chunk ids ranked by (language-corrected) cosine, across the given languages.

    A question is usually answered by one sentence, which a whole-passage embedding
    dilutes; mixing in the best sentence's cosine lifted cross-lingual XQuAD R@1 from
    .757 to .810 (docs/retrieval.md).
    """
    merged: list[tuple[int, float]] = []
    for lang in langs:
        ids, scores = vectors.search(lang, query_vec, candidates)
        if len(ids) == 0:
            continue
        if center:
            scores = scores - center * float(query_vec @ vectors.means[lang])
        if sentence_weight and lang in vectors.sent_vecs:
            best = vectors.best_sentence(lang, query_vec, ids)
            if center:
                best = best - center * float(query_vec @ vectors.sent_means[lang])
            scores = np.where(
                np.isnan(best), scores, (1 - sentence_weight) * scores + sentence_weight * best
            )
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
            terms = list(analyze_cached(query, lang))
            if expansions and expansions.get(lang):
                terms += [t for e in expansions[lang] for t in analyze_cached(e, lang)]
        elif expansions and expansions.get(lang):
            terms = [t for e in expansions[lang] for t in analyze_cached(e, lang)]
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
    coverage: dict[int, float] | None = None,
) -> list[Scored]:
    """Combine the rankings: a weighted sum of normalised scores (``linear``: dense
    z-scores over the candidates, BM25 over each list's best, concept coverage in
    [0, 1]) or weighted reciprocal-rank fusion (``rrf``)."""
    scores: dict[int, float] = defaultdict(float)
    signals: dict[int, dict[str, int]] = defaultdict(dict)
    if config.fusion == "rrf":
        dense_part = [(cid, 1.0 / (config.rrf_k + r)) for r, (cid, _) in enumerate(dense, 1)]
    elif dense:
        values = np.array([x for _, x in dense])
        mu, sd = float(values.mean()), float(values.std()) + 1e-6
        dense_part = [(cid, (x - mu) / sd) for cid, x in dense]
    else:
        dense_part = []
    if not config.dense_weight:
        dense_part = []
    for rank, (cid, x) in enumerate(dense_part, 1):
        scores[cid] += config.dense_weight * x
        signals[cid]["dense"] = rank
    for lang, ranked in lexical.items():
        if lang == query_lang:
            weight = config.lexical_weight_by_lang.get(lang, config.lexical_weight)
        else:
            weight = config.cross_lexical_weight
        if not weight or not ranked:
            continue
        top = ranked[0][1] or 1.0
        norm = config.lexical_norm
        if lang != query_lang and config.cross_lexical_norm:
            norm = config.cross_lexical_norm
        if norm == "zscore":
            # Short lists count as padded with zeros (chunks that did not match).
            pad = [0.0] * max(0, config.lexical_pad - len(ranked))
            values = np.array([x for _, x in ranked] + pad)
            mu, sd = float(values.mean()), float(values.std()) + 1e-6
        for rank, (cid, x) in enumerate(ranked, 1):
            if config.fusion == "rrf":
                part = 1.0 / (config.rrf_k + rank)
            elif norm == "zscore":
                part = (x - mu) / sd
            else:
                part = x / top
            scores[cid] += weight * part
            signals[cid][f"bm25_{lang}"] = rank
    if coverage and config.concept_weight:
        for cid, c in coverage.items():
            scores[cid] += config.concept_weight * c * (1.0 if config.fusion != "rrf" else 0.05)
            signals[cid]["concepts"] = round(c * 100)
    ordered = sorted(scores.items(), key=lambda x: -x[1])
    return [Scored(cid, s, signals[cid]) for cid, s in ordered]
