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
import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
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
    concept_share: bool = True  # ... times the share of the query its concepts are
    # A passage that says what the asked concept is ("X is ...", kb.definitions), for
    # a question that asks what it is.
    definition_weight: float = 2.0
    # ... + this for a passage under a heading that is about what the query names, when
    # the query names nothing the glossary lacks ("cross-selling", "What is upstream
    # marketing?"): about 25 passages named cross-selling, all with full coverage, and
    # the article's overview came 8th-12th (QA16 F6).
    heading_weight: float = 1.0
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
    within: np.ndarray | None = None,
) -> list[tuple[int, float]]:
    """Chunk ids ranked by (language-corrected) cosine, across the given languages;
    ``center``: how much of each language's mean is removed (KnowledgeBase.centring);
    ``within``: only these chunk ids (sorted), as the language filter, before the cut.

    A question is usually answered by one sentence, which a whole-passage embedding
    dilutes; mixing in the best sentence's cosine lifted cross-lingual XQuAD R@1 from
    .757 to .810 (docs/retrieval.md).
    """
    ids, scores, pos = vectors.search_langs(langs, query_vec, candidates, within=within)
    if len(ids) == 0:
        return []
    means, sent_means = vectors.mean_rows(langs)
    if center:
        scores = scores - center * (means @ query_vec)[pos]
    if sentence_weight and vectors.sent_vecs:
        best = vectors.best_sentence(langs, query_vec, ids, pos)
        if center:
            best = best - center * (sent_means @ query_vec)[pos]
        scores = np.where(
            np.isnan(best), scores, (1 - sentence_weight) * scores + sentence_weight * best
        )
    order = np.argsort(-scores, kind="stable")[:candidates]
    return list(zip(ids[order].tolist(), scores[order].tolist(), strict=True))


def lexical_rankings(
    lexical: LexicalIndex,
    query: str,
    query_lang: str,
    langs: list[str],
    *,
    expansions: dict[str, list[str]] | None = None,
    candidates: int,
    within: np.ndarray | None = None,
) -> dict[str, list[tuple[int, float]]]:
    """BM25 rankings per language. The query language uses the query itself; other
    languages only get the glossary's translations of the query's concepts.
    ``within``: only these chunk ids (sorted), kept before the top ``candidates``."""
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
        if within is not None and len(ids):
            kept = np.isin(ids, within, assume_unique=True)
            ids, scores = ids[kept], scores[kept]
        if len(ids) == 0:
            continue
        ranked = _top_positive(ids, scores, candidates)
        if ranked:
            out[lang] = ranked
    return out


def _top_positive(
    ids: np.ndarray, scores: np.ndarray, k: int
) -> list[tuple[int, float]]:
    """The ``k`` best (id, score) with a score above zero, best first, ties in index order.

    A partial sort: at 1M chunks in one language a full argsort of the BM25 scores took
    6.7 ms a query against 2.7 ms for this (benchmarks/bm25_scale.py, docs/scale.md)."""
    hit = np.flatnonzero(scores > 0)
    if len(hit) > k:
        hit = hit[np.argpartition(-scores[hit], k - 1)[:k]]
    top = hit[np.argsort(-scores[hit], kind="stable")]
    return list(zip(ids[top].tolist(), scores[top].tolist(), strict=True))


def fuse(
    dense: list[tuple[int, float]],
    lexical: dict[str, list[tuple[int, float]]],
    query_lang: str,
    config: SearchConfig,
    coverage: dict[int, float] | None = None,
    *,
    defining: set[int] | None = None,
    headed: set[int] | None = None,
    stands_in: set[int] | None = None,
    limit: int | None = None,
    own_scale: float = 1.0,
    cross_scale: float = 1.0,
    cross_norm: str | None = None,
) -> list[Scored]:
    """Combine the rankings: a weighted sum of normalised scores (``linear``: dense
    z-scores over the candidates, BM25 over each list's best, concept coverage in
    [0, 1]) or weighted reciprocal-rank fusion (``rrf``). Only the best ``limit``
    (all when None) are returned. ``own_scale`` scales the BM25 weight in the query's
    language (KnowledgeBase.own_lexical_scale), ``cross_scale`` the glossary's lists in
    the other languages (the share of the query its concepts are); ``cross_norm``
    overrides how those lists are scaled (z-scored for a query of glossary names only);
    ``stands_in``: those of ``headed`` that get the definition's weight, not the
    heading's (KnowledgeBase._signals: asked what a concept is, nothing says it).

    Each signal's ranks are kept per list and read only for the returned results: a
    dict of signals for each of the ~200 candidates was half of fusion's time.
    """
    scores: dict[int, float] = defaultdict(float)
    ranks: list[tuple[str, dict[int, int]]] = []  # (signal name, chunk id -> rank)
    if config.dense_weight and dense:
        if config.fusion == "rrf":
            parts = [1.0 / (config.rrf_k + r) for r in range(1, len(dense) + 1)]
        else:
            values = np.fromiter((x for _, x in dense), dtype=np.float64, count=len(dense))
            parts = ((values - values.mean()) / (values.std() + 1e-6)).tolist()
        _add(scores, dense, parts, config.dense_weight)
        ranks.append(("dense", _ranks(dense)))
    for lang, ranked in lexical.items():
        if lang == query_lang:
            weight = config.lexical_weight_by_lang.get(lang, config.lexical_weight) * own_scale
        else:
            weight = config.cross_lexical_weight * cross_scale
        if not weight or not ranked:
            continue
        norm = config.lexical_norm
        if lang != query_lang and (cross_norm or config.cross_lexical_norm):
            norm = cross_norm or config.cross_lexical_norm
        if config.fusion == "rrf":
            parts = [1.0 / (config.rrf_k + r) for r in range(1, len(ranked) + 1)]
        elif norm == "zscore":
            # Short lists count as padded with zeros (chunks that did not match).
            pad = [0.0] * max(0, config.lexical_pad - len(ranked))
            values = np.array([x for _, x in ranked] + pad)
            mu, sd = float(values.mean()), float(values.std()) + 1e-6
            parts = [(x - mu) / sd for _, x in ranked]
        else:
            top = ranked[0][1] or 1.0
            parts = [x / top for _, x in ranked]
        _add(scores, ranked, parts, weight)
        ranks.append((f"bm25_{lang}", _ranks(ranked)))
    if coverage and config.concept_weight:
        scale = 1.0 if config.fusion != "rrf" else 0.05
        for cid, c in coverage.items():
            scores[cid] += config.concept_weight * c * scale
        ranks.append(("concepts", {cid: round(c * 100) for cid, c in coverage.items()}))
    if defining and config.definition_weight and config.fusion != "rrf":
        for cid in defining:
            scores[cid] += config.definition_weight
        ranks.append(("defines", dict.fromkeys(defining, 1)))
    if headed and config.heading_weight and config.fusion != "rrf":
        # Standing in for a definition no passage gives, a heading counts as one would.
        for cid in headed:
            scores[cid] += (config.definition_weight if stands_in and cid in stands_in
                            else config.heading_weight)
        ranks.append(("heading", dict.fromkeys(headed, 1)))
    ordered = sorted(scores.items(), key=lambda x: -x[1])
    if limit is not None:
        ordered = ordered[:limit]
    return [
        Scored(cid, s, {name: r[cid] for name, r in ranks if cid in r}) for cid, s in ordered
    ]


def _add(
    scores: dict[int, float], ranked: list[tuple[int, float]], parts: list[float], weight: float
) -> None:
    for (cid, _), part in zip(ranked, parts, strict=True):
        scores[cid] += weight * part


def _ranks(ranked: list[tuple[int, float]]) -> dict[int, int]:
    return {cid: rank for rank, (cid, _) in enumerate(ranked, 1)}


# Text between double quotes of any kind ("…", “…”, „…“, «…», ＂…＂): what a user
# wants found as written. Single quotes are left alone: they are apostrophes too.
_QUOTED = re.compile(r'["\u201c\u201e\u00ab\uff02]([^"\u201c\u201d\u201e\u00ab\u00bb\uff02]+)'
                     r'["\u201d\u201c\u00bb\uff02]')


def quoted_phrases(query: str) -> list[str]:
    """The phrases ``query`` puts in double quotes, folded (case, spacing, NFC)."""
    return [p for p in (_fold_phrase(m.group(1)) for m in _QUOTED.finditer(query)) if p]


def _fold_phrase(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def holds_phrases(text: str, phrases: Sequence[str]) -> bool:
    """Whether ``text`` has every one of ``phrases``, each starting a word and its
    words in that order (the last may go on: "focus group" is in "focus groups", and
    "크로스셀링 전략" in "크로스셀링 전략을")."""
    folded = _fold_phrase(text)
    return all(re.search(r"(?<!\w)" + re.escape(p), folded) for p in phrases)


def phrase_first(fused: list[Scored], holders: set[int]) -> list[Scored]:
    """``fused`` with the passages that hold the quoted phrases first, each group in its
    own order; theirs get the ``phrase`` signal. QA21 F8: quotes did nothing, and
    "groups focus" ranked the same passages as "focus groups"."""
    first = [Scored(s.chunk_id, s.score, {**s.signals, "phrase": 1})
             for s in fused if s.chunk_id in holders]
    return first + [s for s in fused if s.chunk_id not in holders]

