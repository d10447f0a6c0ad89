"""Per-index state of the answerer: the null questions' scores that the dense margin
is measured against, the index's document frequencies and language means, refreshed
when the index changes."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kb import lexical

if TYPE_CHECKING:
    from kb.core import KnowledgeBase


# General-knowledge questions no marketing corpus answers, in the four languages. Their
# scores on the live index form the null distribution for the dense margin. They are
# deliberately not the off-topic questions the tests use.
NULL_QUESTIONS: tuple[str, ...] = (
    "Who painted the Mona Lisa?",
    "How long does it take to boil an egg?",
    "What causes earthquakes?",
    "Which planet is closest to the sun?",
    "How do I renew my passport?",
    "What is the tallest mountain in Africa?",
    "Wie hoch ist die Zugspitze?",
    "Wer schrieb Faust?",
    "Wie lange dauert ein Flug nach Tokio?",
    "Warum fallen im Herbst die Blätter?",
    "Wie repariere ich ein Fahrrad?",
    "Was kostet ein Liter Milch?",
    "세종대왕은 언제 태어났나요?",
    "라면을 맛있게 끓이는 방법은?",
    "축구 경기는 몇 분 동안 하나요?",
    "바다는 왜 짠가요?",
    "강아지 산책은 얼마나 자주 해야 하나요?",
    "제주도에 가는 가장 좋은 계절은?",
    "Sông dài nhất Việt Nam là sông nào?",
    "Làm thế nào để ngủ ngon hơn?",
    "Ai phát minh ra bóng đèn?",
    "Vì sao lá cây có màu xanh?",
    "Cách làm bánh mì ở nhà?",
    "Núi cao nhất thế giới là núi nào?",
)


class _State:
    """Per-KnowledgeBase caches: null distribution, IDF, language means, sentence vectors.

    Everything but the sentence vectors depends on the index version and is rebuilt
    when another writer changes the index.
    """

    MAX_VECTORS = 50_000

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.version = -1
        # Per set of searched languages: the null questions' dense ranking changes
        # with the passages it may choose from.
        self.nulls: dict[tuple[str, ...], _Null] = {}
        self.lexical: lexical.LexicalIndex | None = None  # for document frequencies
        self.null_vectors: np.ndarray | None = None
        self.means: dict[str, np.ndarray] = {}
        self.vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self.fingerprint = ""


_STATES: weakref.WeakKeyDictionary[KnowledgeBase, _State] = weakref.WeakKeyDictionary()
_STATES_LOCK = threading.Lock()


def _state(kb: KnowledgeBase) -> _State:
    """The cache for ``kb``, refreshed when the index version changed."""
    with _STATES_LOCK:
        st = _STATES.get(kb)
        if st is None:
            st = _STATES[kb] = _State()
    version = kb.store.version
    if st.version == version and st.fingerprint == kb.encoder.fingerprint:
        return st
    with st.lock:
        if st.version != version or st.fingerprint != kb.encoder.fingerprint:
            _refresh(kb, st, version)
    return st


def _refresh(kb: KnowledgeBase, st: _State, version: int) -> None:
    # Document frequencies and language means come from the search indexes. Counting
    # them from every chunk's stored terms and vectors made the first answer after
    # each write read the whole database (minutes at 1M chunks).
    vectors, lex = kb._ensure_fresh()
    st.lexical, st.means = lex, dict(vectors.means)
    if st.fingerprint != kb.encoder.fingerprint or st.null_vectors is None:
        # The null questions' vectors depend on the model only, not on the data.
        st.null_vectors = kb.encoder.encode(list(NULL_QUESTIONS), kind="query")
        st.fingerprint = kb.encoder.fingerprint
    st.nulls = {}
    langs = tuple(kb.store.langs())
    st.nulls[langs] = _null_scores(kb, list(langs), st.null_vectors)
    st.version = version


@dataclass(frozen=True)
class _Null:
    """What the null questions reach: each passage's hubness (the mean of their scores
    on it) and the spread of their best hubness-corrected scores.

    A question's dense margin is its best score minus the passage's hubness, against
    the same figure for the null questions (each corrected without its own score).
    Correcting by hubness keeps a passage close to every question (QA's 60-row
    campaign table) from raising the bar for all; comparing best with best keeps a
    large corpus, where any question's best passage stands out from what others score
    on it, from passing everything (docs/answers.md, "Calibration").
    """

    hubness: dict[int, float]  # passage -> mean null score (passages the rankings reach)
    floor: float  # the hubness of any other passage: the rankings' lowest scores, averaged
    centre: float  # median of the null questions' best corrected scores
    scale: float  # their spread (MAD, as a standard deviation)

    def margin(self, dense: list[tuple[int, float]]) -> float:
        """The best hubness-corrected score of ``dense`` (a dense ranking), in units of
        the null questions' spread above their median."""
        if not dense:
            return -10.0
        best = max(score - self.hubness.get(cid, self.floor) for cid, score in dense)
        return (best - self.centre) / self.scale


_NO_NULL = _Null({}, 0.0, 0.0, 1.0)


def _null(kb: KnowledgeBase, st: _State, langs: list[str]) -> _Null:
    """The null scores over ``langs`` (worked out once per set of languages)."""
    key = tuple(langs)
    with st.lock:
        null = st.nulls.get(key)
        if null is None and st.null_vectors is not None:
            null = st.nulls[key] = _null_scores(kb, langs, st.null_vectors)
    return null or _NO_NULL


def _null_scores(kb: KnowledgeBase, langs: list[str], vecs: np.ndarray) -> _Null:
    """Hubness and the null distribution from the null questions' (``vecs``, their
    query vectors) dense rankings."""
    rankings = [kb.dense(v, langs) for v in vecs] if langs else []
    rankings = [r for r in rankings if r]
    n = len(rankings)
    if n < 3:
        return _NO_NULL
    # A passage below a null question's candidates scores at most its lowest ranked one.
    floor = np.array([r[-1][1] for r in rankings])
    scores: dict[int, np.ndarray] = {}
    for i, ranking in enumerate(rankings):
        for cid, score in ranking:
            scores.setdefault(cid, floor.copy())[i] = score
    total = {cid: float(v.sum()) for cid, v in scores.items()}
    best = np.array([max(s - (total[cid] - s) / (n - 1) for cid, s in ranking)
                     for ranking in rankings])
    centre = float(np.median(best))
    mad = float(np.median(np.abs(best - centre))) * 1.4826
    # A floor on the spread keeps a degenerate index (one chunk) from dividing by ~0.
    return _Null({cid: t / n for cid, t in total.items()}, float(floor.mean()), centre,
                 max(mad, 1e-3))
