"""Extractive answers with citations: the corpus's own sentences, each cited to its passage.

There is no language model: every answer sentence is a verbatim slice of an article, so
an answer can never say something its source does not. How one is built (the numbers
behind each choice are in docs/answers.md; benchmarks/answer_quality.py re-measures):

1. **Passages.** The hybrid search's top ``k_passages`` passages.
2. **Evidence test.** e5's raw cosine is about 0.8 for any pair of texts, so no fixed
   cosine threshold can tell "answerable" from "off-topic". Two signals are combined:
   - *lexical coverage*: the IDF-weighted share of the question's content words that
     occur in the retrieved passages. A glossary concept the question names counts as
     one unit and is covered by any of its terms in any language (번들링 covers
     "Bündelung"). Words the corpus has never seen weigh the most, and off-topic
     questions are made of them;
   - *dense margin*: the question's best dense score, each passage's score first
     lowered by that passage's hubness (the mean score that fixed general-knowledge
     questions, :data:`NULL_QUESTIONS`, reach on it), against the same best corrected
     score of those null questions, in standard deviations. The null scores are
     measured at run time, once per index version, so they follow the model and the
     corpus; a passage close to everything (a long generic table) earns nothing, and
     adding one leaves other questions' margins alone.
   The answer is ``found`` when ``coverage + dense_weight * margin >= threshold``.
3. **Sentence scoring.** Each sentence of the passages is a candidate, except headings,
   questions, lead-ins ending in ":" and signposts ("In this section we will look at
   ..."); so is a table's data row that names, with its header, every concept the
   question names. Its score adds: its vector's similarity to the question (the
   vectors stored at ingest, centred per language so languages compete fairly, then
   standardised within the pool), its own lexical coverage of the question, the
   coverage by the heading it sits under (and what it and its heading cover together
   beyond either), a bonus when it opens with the question's subject (definitions do:
   "번들링은 ..."), a prior for its passage's search rank, and a bonus for the asker's
   language, so that where a translation holds the same content, the asker reads
   their own language first.
4. **Selection.** Maximal marginal relevance picks 2-5 sentences: a sentence too
   similar to one already chosen (a repeat) is skipped, and selection stops when the
   next sentence scores well below the best.
5. **Lists.** When the answer quotes a list's lead-in ("... define a few KPIs. Some of
   them are:") and one of its items, it quotes every item (lists of up to 6 items, up to
   8 sentences in all): a reader asking "which KPIs?" should not get one of four. A
   list the question names by its title ("What are the benefits of X?" and
   "Benefits of X:") leads the answer whole, even when its terse items scored low. A
   sentence that points back ("These rewards ...") brings the one before it.
6. **Order.** The best sentence's passage comes first; the others follow by search
   rank. A passage's sentences stay together and in their text order, since one may
   point back at another ("이러한 마케팅은 ...").
"""

from __future__ import annotations

import json
import math
import re
import threading
import unicodedata
import weakref
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from kb import answer_lang, chunking, definitions, language, lexical, outline
from kb import twins as twins_of
from kb.glossary import SUBJECTS
from kb.glossary import fold as _fold
from kb.results import Evidence, Hit
from kb.sentences import BULLET as _BULLET
from kb.sentences import sentence_spans

if TYPE_CHECKING:
    from kb.core import KnowledgeBase
    from kb.glossary import Concept
    from kb.store import ChunkRow

__all__ = [
    "Answer",
    "AnswerConfig",
    "AnswerSentence",
    "Citation",
    "Evidence",
    "NULL_QUESTIONS",
    "answer",
    "best_citation",
    "evidence",
    "prepare",
]

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


PASSAGES = 8  # search hits an answer reads its sentences from


@dataclass(frozen=True, kw_only=True)
class AnswerConfig:
    """Knobs of the answerer; the defaults are the measured best (docs/answers.md)."""

    dense_weight: float = 0.225  # evidence = coverage + dense_weight * dense margin (z)
    threshold: float = 1.1  # found when the evidence reaches this
    lexical_weight: float = 1.0  # sentence score: pool-z dense + this * sentence coverage
    rank_weight: float = 1.0  # ... + this / (1 + passage rank)
    asker_lang_bonus: float = 1.0  # ... + this when the sentence is in the asker's language
    lead_bonus: float = 1.0  # ... + this when the sentence opens with a word of the question
    # ... + this when the question asks what a concept is and the sentence says it
    # ("Bán chéo là …" for "What is cross-selling?"; kb.definitions)
    definition_bonus: float = 2.0
    definition_evidence: float = 1.0  # evidence + this when a passage defines the asked concept
    heading_weight: float = 2.0  # ... + this * coverage of the question by its heading
    # ... + this * what a sentence and its heading cover of the question together beyond
    # either alone ("이 단계의 핵심 활동으로는 …" under "상류 마케팅")
    completed_weight: float = 4.0
    # ... + this when it opens a section whose heading alone holds all of the question
    # ("Psychological prices" for "What are psychological prices?": QA22 F8, the
    # section's first sentence tied with the value-based one before it, which e5 put
    # nearer the question). Every sentence of such a section: the German "Vorteile" list
    # then led "What are the benefits of upstream marketing?" over the English one.
    whole_heading_bonus: float = 1.0
    focus: float = 1.0  # the question's first word or concept weighs 1 + focus in coverage
    min_sentences: int = 2
    max_sentences: int = 5
    lead_concept: bool = True  # the first sentence names a concept of the question, if one is close
    keep_within: float = 1.5  # after min_sentences, stop below best score - keep_within
    redundancy_z: float = 3.5  # a sentence this similar (pool z) to a chosen one is a repeat
    mmr_penalty: float = 0.3  # score - mmr_penalty * max(0, similarity z to chosen ones)
    # A quoted list item's later sentences come with it, room permitting: "- 구독
    # 해지율: 메일 한 번 발송당 … 비율." was quoted without "0.5%를 넘으면 … 점검해야
    # 합니다.", which answers "how high is too high?" (QA24b F5).
    whole_items: bool = True


@dataclass(frozen=True)
class Citation:
    """One cited passage and the spans of its sentences that the answer quotes.

    Two answer sentences from the same passage share one citation (and one number), so
    a reader sees each source once, with every quoted sentence marked in it.
    """

    n: int
    hit: Hit
    spans: tuple[tuple[int, int], ...]  # absolute offsets into the article's cleaned text
    # The translations of its quoted sentences among the answer's passages, as (chunk
    # id, start, end): the card's "also in" link marks them, not the whole passage.
    twins: tuple[tuple[int, int, int], ...] = ()

    @property
    def sentence_start(self) -> int:
        """Start of the first quoted sentence (the API's single-span fields)."""
        return self.spans[0][0]

    @property
    def sentence_end(self) -> int:
        return self.spans[0][1]

    @property
    def sentence(self) -> str:
        """The first quoted sentence."""
        return self.sentences[0]

    @property
    def sentences(self) -> tuple[str, ...]:
        return tuple(self.hit.text[a - self.hit.start : b - self.hit.start] for a, b in self.spans)

    @property
    def local_spans(self) -> list[tuple[int, int]]:
        """The spans within ``hit.text``."""
        return [(a - self.hit.start, b - self.hit.start) for a, b in self.spans]

    @property
    def section(self) -> str:
        """The heading the first quoted sentence sits under. A passage can run past a
        heading; ``hit.section`` is the one where the passage starts."""
        return self.span_sections[0]

    @property
    def span_sections(self) -> list[str]:
        """The heading each quoted sentence sits under, in the order of ``spans``."""
        return [section_at(self.hit, a) for a, _ in self.local_spans]

    @property
    def quoted_sections(self) -> list[str]:
        """The headings its quoted sentences sit under, each once, in text order: what
        labels its card. QA25 F10: an NPS passage's card quoted its opening sentence and
        the formula under "How the score is calculated", and named only the first."""
        return list(dict.fromkeys(name for name in self.span_sections if name))

    def to_dict(self) -> dict[str, object]:
        return {
            "n": self.n,
            **self.hit.to_dict(),
            "section": self.section,
            "sentence_start": self.sentence_start,
            "sentence_end": self.sentence_end,
            "spans": [{"start": a, "end": b, "section": name}
                      for (a, b), name in zip(self.spans, self.span_sections, strict=True)],
        }


def section_at(hit: Hit, local: int) -> str:
    """The heading the text at ``local`` (an offset into ``hit.text``) sits under, as
    the chunker names sections."""
    return chunking.section_at(hit.text, hit.section, local)


@dataclass(frozen=True)
class AnswerSentence:
    text: str
    citations: tuple[int, ...]
    start: int = 0  # absolute span of the sentence in its (first) citation's article
    end: int = 0
    # A later sentence of a list item ("- Target customers: …. Upstream marketing
    # targets …"): it belongs to the item quoted before it, not after the list.
    in_item: bool = False
    # "row": a table's data row, quoted after its "header" row; "" for a sentence.
    table: str = ""

    def to_dict(self) -> dict[str, object]:
        return {"text": self.text, "citations": list(self.citations),
                "span": {"start": self.start, "end": self.end}, "in_item": self.in_item,
                "table": self.table or None}


@dataclass(frozen=True)
class Answer:
    query: str
    lang: str
    found: bool
    message: str
    sentences: tuple[AnswerSentence, ...] = ()
    citations: tuple[Citation, ...] = ()
    evidence: Evidence | None = None
    best: int | None = None  # the citation number of the highest-scoring sentence
    # All passages the answer was drawn from, for "more sources" lists; not in to_dict.
    passages: tuple[Hit, ...] = field(default=(), compare=False)
    best_sentence: int | None = None  # index into ``sentences`` of the highest scorer
    restored: str | None = None  # the question as searched, when rewritten (kb.accents)
    corrected: str | None = None  # ... when a misspelled word was fixed (kb.spelling)
    # (concept id, its name in the question's language) when the question asks what a
    # concept is and no passage says it: the answer then only describes it.
    undefined: tuple[str, str] | None = None
    # The languages it quotes, for the asker (kb.answer_lang); None for no answer.
    languages: answer_lang.Languages | None = None

    @property
    def note(self) -> str | None:
        if self.undefined is None:
            return None
        return (f"No passage in the knowledge base defines “{self.undefined[1]}” yet: "
                "these sentences only say what the articles tell about it.")

    def to_dict(self) -> dict[str, object]:
        return {
            "query": self.query,
            "restored": self.restored,
            "corrected": self.corrected,
            "lang": self.lang,
            "found": self.found,
            "message": self.message,
            "note": self.note,
            "languages": self.languages.to_dict() if self.languages else None,
            "answer": [s.to_dict() for s in self.sentences],
            "citations": [c.to_dict() for c in self.citations],
            "evidence": self.evidence.to_dict() if self.evidence else None,
        }


# -- per-index state --------------------------------------------------------------------


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


def _sentence_vectors(kb: KnowledgeBase, st: _State, cands: list[_Candidate]) -> np.ndarray:
    """Passage-kind vectors of the candidate sentences.

    Ingest stores a vector per sentence of every chunk; those are used as they are. A
    sentence without one (an index built before sentences were stored) is encoded once
    and kept in a bounded cache keyed by (model, text).
    """
    stored: dict[tuple[int, int], np.ndarray] = {}
    by_chunk = getattr(kb.store, "chunk_sentences", None)
    if by_chunk is not None:
        for rows in by_chunk(sorted({c.hit.chunk_id for c in cands})).values():
            stored.update({(a, b): v for a, b, v in rows})
    out: list[np.ndarray | None] = [stored.get((c.start, c.end)) for c in cands]
    fp = st.fingerprint
    missing = [c.text for c, v in zip(cands, out, strict=True) if v is None]
    todo = [t for t in dict.fromkeys(missing) if (fp, t) not in st.vectors]
    if todo:
        new = kb.encoder.encode(todo, kind="passage")
        with st.lock:
            for t, v in zip(todo, new, strict=True):
                st.vectors[(fp, t)] = v
            while len(st.vectors) > _State.MAX_VECTORS:
                st.vectors.popitem(last=False)
    for i, c in enumerate(cands):
        if out[i] is None:
            with st.lock:
                v = st.vectors.get((fp, c.text))
            out[i] = v if v is not None else kb.encoder.encode([c.text], kind="passage")[0]
    if not out:
        return np.empty((0, kb.encoder.dim), np.float32)
    return np.stack([np.asarray(v, dtype=np.float32) for v in out])


# -- lexical coverage ---------------------------------------------------------------------


# Words that make a sentence a question rather than name what it asks about. English
# and German stopwords already drop theirs ("how", "wie"); Kiwi keeps 어떻게 (어떻다),
# 왜 and 하나요 (하다), and "làm" is "do" on its own but "how" in "làm thế nào".
# "방법" (way) asks how, as in "… 전달하는 방법" (how to deliver …): English "how" is a
# stopword.
_KO_ASKING = frozenset({"어떻다", "어떠하다", "왜", "하다", "방법",
                        # How much/often/many, where, what there is, best (stop 31): the
                        # frame of "얼마나 자주 …해야 하나요?", "무엇이 있나요?", "가장
                        # 좋나요?". No passage in another language can hold them, and they
                        # kept cross-language questions under the bar (QA8's library).
                        "얼마나", "자주", "몇", "어디", "있다", "가장", "좋다"})
# German question words survive its stopword list, where English "why", "when" and
# "who" do not: "Warum sollte ein Marketingleiter Blogs folgen?" counted "warum", found in
# no passage, and was refused where the English question was answered (QA10).
_DE_ASKING = frozenset({"warum", "wieso", "weshalb", "wozu", "wann", "wer", "wem", "wen",
                        # "wie oft", "wie lange", "wie viele", "ab welcher", "am besten"
                        "oft", "lang", "viel", "ab", "best"})
_EN_ASKING = frozenset({"mani", "much", "often"})  # "how many", "how much", "how often"
# "nên" (should), "cách" (way: how, as 방법), "bao" ("bao lâu", "bao nhiêu": how long,
# how many), "lần" (times: "bao lâu một lần"), "nhất" (most: "tốt nhất"), "gì" (what),
# "giữa" (between: "khác biệt giữa A và B", which English and German analysis drop as a
# stopword; it made "căng thẳng giữa các nhóm …" cover the question; QA19 F5).
_VI_ASKING_WORDS = frozenset({"nên", "cách", "bao", "lần", "nhất", "gì", "giữa"})
_VI_ASKING = re.compile(r"\blàm (?=thế nào|sao\b|cách nào)", re.I)
# Words that ask for a definition: "What does bundling mean?", "Was bedeutet …?", "Was
# versteht man unter …?", "Định nghĩa …", "…의 뜻": counted as content, they halved the
# coverage of such questions, and QA got "no good answer" for each.
_DEFINITION_ASKING = {
    "en": re.compile(r"\b(mean|means|meaning|definition|define)\b", re.I),
    "de": re.compile(r"\b(bedeutet|bedeuten|bedeutung|heißt|versteht\s+man\s+unter|"
                     r"definition|definiere)\b", re.I),
    "vi": re.compile(r"\b(định\s+nghĩa|nghĩa\s+là\s+gì|thế\s+nào\s+là)\b", re.I),
    "ko": re.compile(r"의\s*(뜻|정의|의미)(?=\s*(은|는|이|가)?\s*(무엇|뭐|\?|$))"),
}


def query_terms(query: str, lang: str) -> list[str]:
    """The question's content words (Vietnamese syllable bigrams left out: they
    double-count), without the words that only make it a question."""
    if lang == "vi":
        query = _VI_ASKING.sub(" ", unicodedata.normalize("NFC", query))
    asking = _DEFINITION_ASKING.get(lang)
    if asking is not None:
        query = asking.sub(" ", query)
    # Cached: search analyzed the same question for BM25 (Kiwi takes ~0.3 ms).
    terms = (t for t in lexical.analyze_cached(query, lang) if "_" not in t)
    asking_words = {"ko": _KO_ASKING, "de": _DE_ASKING, "en": _EN_ASKING,
                    "vi": _VI_ASKING_WORDS}.get(lang, frozenset())
    return list(dict.fromkeys(t for t in terms if t not in asking_words))


def _idf(st: _State, lang: str, terms: list[str]) -> dict[str, float]:
    weights = st.lexical.idf(lang, terms) if st.lexical else [math.log(3.0)] * len(terms)
    return dict(zip(terms, weights, strict=True))


def _concept_tokens(
    kb: KnowledgeBase, query: str, qlang: str, qterms: list[str], *,
    kinds: frozenset[str] = SUBJECTS,
) -> list[tuple[set[str], dict[str, list[str]]]]:
    """For each glossary entry of ``kinds`` the question names (concepts; "word": the
    glossary's question words, "Beispiel", "vai trò"; "name": brands, "Amazon"): the
    question's tokens that name it, and its terms per language (to look for in
    passages)."""
    glossary = getattr(kb, "glossary", None)
    if glossary is None:
        return []
    out = []
    for concept in glossary.match(query):
        if concept.kind not in kinds:
            continue
        tokens = glossary.naming(concept, query, qlang, qterms)
        if tokens:
            out.append((tokens, {lang: list(ts) for lang, ts in concept.terms.items() if ts}))
    return out


def _coverage(
    qterms: list[str],
    idf: dict[str, float],
    qlang: str,
    concepts: list[tuple[set[str], dict[str, list[str]]]],
    found_terms: dict[str, set[str]],
    *,
    texts: dict[str, str] | None = None,
    focus: float = 0.0,
    concepts_only: bool = False,
    words: list[tuple[set[str], dict[str, list[str]]]] | None = None,
    loanwords: tuple[str, set[str]] | None = None,
) -> float:
    """IDF-weighted share of the question's words present in ``found_terms`` ({lang: terms}).

    A glossary concept the question names is one unit, however many words spell it, and
    counts as present when one of its terms in any language is among that language's
    analyzed terms, or literally in that language's ``texts`` (Kiwi splits "번들링" alone
    and "번들링은 ..." in a sentence differently). With ``focus``, the question's first
    unit, usually what it asks about ("Was ist *Bündelung* ... beim Cross-Selling?"),
    weighs ``1 + focus`` times as much. With ``concepts_only`` the question's other words
    are left out (the passages are in other languages), and a question naming no
    concept has no coverage. ``words``, the glossary's question words the question
    holds, only ever help: one found in any language is a covered unit, like a concept;
    one found nowhere stays the plain words it is. With ``loanwords``, a plain word in
    Latin letters also counts when the passages of another language in Latin letters
    use it ("Affiliate Marketing là gì?": the English passage says "Affiliate Marketing");
    ``loanwords`` is the question, whose words are analyzed as each language would,
    and the terms that may be loanwords.
    """
    own = found_terms.get(qlang, set())
    loaned: set[str] = set()
    if loanwords:
        question, foreign = loanwords
        loaned = _loanwords(question, qlang, foreign - own, found_terms)
    folded = {lang: _fold(t) for lang, t in (texts or {}).items()}
    position = {t: i for i, t in reversed(list(enumerate(qterms)))}

    def present(tokens: set[str], per_lang: dict[str, list[str]]) -> bool:
        return tokens <= own or any(
            _term_present(term, lang, found_terms.get(lang, set()), folded.get(lang, ""))
            for lang, terms in per_lang.items()
            for term in terms
        )

    named = [(tokens, present(tokens, per_lang)) for tokens, per_lang in concepts]
    # A found question word weighs what its plain words would (their summed IDF), so it
    # can only raise the coverage ("lợi ích" as one unit of the larger IDF had lowered it).
    found_words = [tokens for tokens, per_lang in words or () if present(tokens, per_lang)]
    in_units = set().union(*(tokens for tokens, _ in named), *found_words)
    # (position in the question, weight, how present: 1, LOANWORD_CREDIT or 0)
    units: list[tuple[int, float, float]] = []
    for t in qterms:
        if t not in in_units and not concepts_only:
            credit = 1.0 if t in own else LOANWORD_CREDIT if t in loaned else 0.0
            units.append((position[t], idf[t], credit))
    for tokens, is_present in named:
        first = min(position.get(t, len(qterms)) for t in tokens)
        units.append((first, max(idf.get(t, 0.0) for t in tokens), is_present))
    for tokens in found_words:
        first = min(position.get(t, len(qterms)) for t in tokens)
        units.append((first, sum(idf.get(t, 0.0) for t in tokens), True))
    if not units:
        return 0.0
    units.sort()
    weights = [w * (1 + focus if i == 0 else 1.0) for i, (_, w, _) in enumerate(units)]
    total = sum(weights)
    covered = sum(w * present for w, (_, _, present) in zip(weights, units, strict=True))
    return covered / total if total > 0 else 0.0


_LATIN_LANGS = ("en", "de", "vi")
# A loanword another language's passages use counts half: a word the passages share
# says less of what the question asks than one in its own language's passages would.
# At full credit, QA's labelled questions (benchmarks/qa_found.py) gained 3 false finds
# ("Wie berechnet man den Customer Lifetime Value?", where the English text only names
# it; "Ưu điểm của quảng cáo Instagram") and no true one.
LOANWORD_CREDIT = 0.5
# A word that can be the same in two languages' texts: Latin letters, at least 4 (not
# "app", "ist", "là"), or an acronym as typed in capitals ("CAC", "NPS", "SEO").
_LOANWORD = re.compile(r"[A-Za-zÄÖÜäöüß]{4,}|\b[A-Z]{2,3}s?\b")


def _loanwords(question: str, qlang: str, missing: set[str],
               found_terms: dict[str, set[str]]) -> set[str]:
    """Of ``missing`` (the question's terms its own language's passages lack), those
    whose word another Latin-script language's passages use, as that language analyzes
    it: German "Affiliate-Marketing" is "affiliat" to German and "affili" to English.
    QA21 F4: the Vietnamese and German questions on affiliate marketing were not found,
    with the English definition first, as their English words were looked for in
    Vietnamese and German passages only."""
    # Korean passages write Latin words too, as they are: acronyms ("ROAS는 광고비
    # 대비 …") and glossed terms ("미끼 효과(decoy effect)"). QA24b F10: "What is ROAS?"
    # found nothing in the Korean passage that names it nine times.
    others = [(lang, found_terms[lang]) for lang in (*_LATIN_LANGS, "ko")
              if lang != qlang and found_terms.get(lang)]
    if not missing or not others:
        return set()
    out = set()
    for word in _LOANWORD.findall(lexical.join_e_prefix(question)):  # "E-Mail": "EMail"
        mine = _analyzed(word, qlang) & missing
        if mine and any((t := _analyzed(word, lang)) and t <= terms for lang, terms in others):
            out |= mine
    return out


def _term_present(term: str, lang: str, terms: set[str], folded_text: str) -> bool:
    tokens = _analyzed(term, lang)
    if tokens and tokens <= terms:
        return True
    return len(term) >= 2 and bool(folded_text) and _fold(term) in folded_text


# -- sentences ------------------------------------------------------------------------------

_TERMINAL = re.compile(r"[.!。…！]['\"”’)\]]*$")


def _is_statement(text: str, section: str) -> bool:
    """True for sentences that can answer: not headings, questions, lead-ins or table rows."""
    s = text.strip()
    if len(s) < 12 or s.count("|") >= 2 or s.endswith(("?", "？", ":", "：")):
        return False
    if " ".join(s.split()).casefold() == " ".join(section.split()).casefold():
        return False
    if _TERMINAL.search(s):
        return len(s.split()) >= 3 or len(s) >= 20  # Korean has fewer, longer words
    # No final period: a bulleted "Label: explanation" item still counts (numbered lines
    # without a period are headings such as "1. 크로스셀링의 중요성: ...").
    return bool(_BULLET.match(s)) and ":" in s and len(s.split(":", 1)[1].split()) >= 5


# A sentence that opens by pointing back ("These rewards ...", "이러한 마케팅은 ...", "여기에는 …",
# "Diese Methode ...", "Chiến lược này ...") leans on the one before it.
_ANAPHOR = re.compile(
    r"^(?:[-*•·▪–]\s+)?(?:"
    r"(?:this|these|that|those|such|it|its|they|their)\b"
    r"|(?:dies|diese[rsmn]?|solche[rsmn]?)\b"
    r"|(?:이러한|이런|이는|이것은|이것이|이를|이와|이에|그러한|그런|그것은|이|그"
    r"|여기에는|여기에서는|여기서는|이 중에는|그중)(?=\s)"
    r"|(?:điều (?:này|đó)|nó|chúng|việc (?:này|đó))\b"
    r"|(?:\S+\s){1,2}(?:này|đó)\b)",
    re.I,
)
# So does one that opens by contrasting with it ("반면, 다운스트림 마케팅은 …",
# "However, …", "Dagegen …", "Ngược lại, …": QA found answers quoting such a sentence
# without the one it answers). Not "그리고" or "한편" (and, meanwhile): they go on, or
# start afresh.
_CONTRAST = re.compile(
    r"^(?:[-*•·▪–]\s+)?(?:"
    r"(?:however|in contrast|by contrast|conversely|on the other hand)\b"
    r"|(?:jedoch|dagegen|hingegen|andererseits)\b"
    r"|(?:반면에?|반대로|그러나|하지만)(?=[\s,])"
    r"|(?:tuy nhiên|ngược lại|trong khi đó|mặt khác)\b)",
    re.I,
)

# Or by adding to it ("또한 CAC 회수 기간이 …", "Also, …", "Außerdem …", "Ngoài ra, …"):
# it can follow what it adds to, not open an answer.
_ADDS = re.compile(
    r"^(?:[-*•·▪–]\s+)?(?:"
    r"(?:also|moreover|furthermore|in addition|additionally)\b"
    r"|(?:außerdem|zudem|darüber hinaus|ebenso|auch)\b"
    r"|(?:또한|게다가|더불어|아울러|뿐만 아니라)(?=[\s,])"
    r"|(?:ngoài ra|hơn nữa|bên cạnh đó|thêm vào đó|đồng thời)\b)",
    re.I,
)

# Sentences about the text itself ("In this section we will look at ...") name the
# question's terms without answering anything.
_SIGNPOST = re.compile(
    r"\bin this (?:article|post|section|guide|blog)\b|\bwe(?:'ll| will) (?:explore|look|discuss)"
    r"|\blet'?s (?:look|explore|dive)|\bin diesem (?:Artikel|Beitrag|Abschnitt)\b"
    r"|\bschauen wir uns\b|이 (?:섹션|글|포스트|기사)에서는|이번 (?:블로그 )?포스트에서는"
    r"|살펴보겠습니다|알아보겠습니다|살펴보았습니다"
    r"|trong bài viết này|chúng ta sẽ (?:tìm hiểu|xem xét)",
    re.I,
)


@dataclass
class _Candidate:
    rank: int  # the passage's rank in the search result
    hit: Hit
    start: int  # absolute offsets
    end: int
    text: str
    context: str  # the heading or lead-in line the sentence sits under
    score: float = 0.0
    features: dict[str, float] = field(default_factory=dict)
    # A table's data row: its header row's absolute span, which says what its cells are.
    header: tuple[int, int] | None = None
    table: str = ""  # "row" or "header" for a table's lines, else ""
    # The first sentence under its heading in the passage; no list item: a list the
    # question names by its title leads the answer whole (_titled_list) unless one of
    # its items is quoted already.
    opens: bool = False

    def own_text(self) -> str:
        """The sentence, and for a table row the header that names its columns."""
        if self.header is None:
            return self.text
        a, b = self.header
        return self.hit.text[a - self.hit.start : b - self.hit.start] + "\n" + self.text


def _candidates(hits: Sequence[Hit]) -> list[_Candidate]:
    """The answerable sentences of the passages, each with the heading it sits under,
    and the data rows of their tables with a header ("Metrics | Customer insights,
    market potential | Conversion rates, engagement |" under "Aspect | Upstream
    Marketing | Downstream Marketing |")."""
    out = []
    seen: set[str] = set()
    for rank, hit in enumerate(hits):
        context = hit.section
        opened = None  # the context of the passage's last sentence
        rows, lines = _table_lines(hit.text)
        for a, b in sentence_spans(hit.text):
            text = hit.text[a:b]
            key = " ".join(text.split()).casefold()
            if a in lines:  # a table's line is no heading or lead-in of what follows
                header = rows.get((a, b))
                if header is not None and key not in seen:
                    seen.add(key)
                    out.append(_Candidate(
                        rank, hit, hit.start + a, hit.start + b, text, context,
                        header=(hit.start + header[0], hit.start + header[1]), table="row"))
                continue
            if _SIGNPOST.search(text):
                continue
            if not _is_statement(text, hit.section):
                if len(text) <= 120 and (a == 0 or hit.text[a - 1] == "\n"):
                    context = _BULLET.sub("", text).rstrip(":：").strip()  # a heading or lead-in
                continue
            if key in seen:
                continue
            seen.add(key)
            out.append(_Candidate(rank, hit, hit.start + a, hit.start + b, text, context,
                                  opens=context != opened and not _BULLET.match(text)))
            opened = context
    return out


def _rows_that_name_the_question(kb: KnowledgeBase, st: _State, question: str, qlang: str,
                                  cands: list[_Candidate]) -> list[_Candidate]:
    """``cands`` without the table rows that do not name, with their header and heading,
    every glossary concept the question names. A row says little on its own, and a
    short one is close to many questions: "Metrics | …" of the upstream/downstream
    table is no answer to "Which KPIs for cross-selling?". Left in the pool, they also
    moved the other sentences' standardised scores."""
    if not any(c.table for c in cands):
        return cands
    qterms = query_terms(question, qlang)
    concepts = _concept_tokens(kb, question, qlang, qterms, kinds=SUBJECTS | {"name"})
    idf = _idf(st, qlang, qterms)
    out = []
    for c in cands:
        if c.table:
            # With no concept named, a row must hold every word of the question: QA22 F2,
            # "What is freemium?" could quote no row of an uploaded table of pricing
            # models, and got five sentences from four articles instead of "| Freemium |
            # A free tier plus paid upgrades | …", which search ranked first.
            terms = _own_terms(c) | _analyzed(c.context, c.hit.lang)
            if _coverage(qterms, idf, qlang, concepts, {c.hit.lang: terms},
                         texts={c.hit.lang: c.own_text() + "\n" + c.context},
                         concepts_only=bool(concepts)) < (1.0 if concepts else WHOLE):
                continue
        out.append(c)
    return out


WHOLE = 0.999  # a coverage that holds all of the question (rounding aside)
LEAD_SHARE = 0.5  # of the best passage's search score, for the asker's language to lead


def _own_terms(c: _Candidate) -> set[str]:
    """The analyzed terms of the sentence, and of a table row's header."""
    terms = set(_span_terms(c.hit, c.start - c.hit.start, c.end - c.hit.start))
    if c.header is not None:
        terms |= _span_terms(c.hit, c.header[0] - c.hit.start, c.header[1] - c.hit.start)
    return terms


def _table_lines(text: str) -> tuple[dict[tuple[int, int], tuple[int, int]], set[int]]:
    """The data rows of ``text``'s tables that have a header in it, each mapped to its
    header's span; and where every table line starts."""
    rows: dict[tuple[int, int], tuple[int, int]] = {}
    starts: set[int] = set()
    if "|" not in text:
        return rows, starts
    for block in chunking.blocks(text):
        if block.kind != "table":
            continue
        starts.update(m.start() + block.start
                      for m in re.finditer(r"[^\n]+", text[block.start : block.end]))
        header, data = chunking.table_rows(text, block)
        if header is not None:
            rows.update((row, header) for row in data)
    return rows, starts


def _zscore(x: np.ndarray) -> np.ndarray:
    if len(x) < 2:
        return np.zeros_like(x)
    sd = float(x.std())
    return (x - float(x.mean())) / (sd if sd > 1e-9 else 1.0)


# -- the answerer ---------------------------------------------------------------------------


def evidence(
    kb: KnowledgeBase,
    query: str,
    query_vec: np.ndarray,
    query_lang: str,
    hits: Sequence[Hit],
    *,
    langs: Sequence[str] | None = None,
    config: AnswerConfig | None = None,
    within: np.ndarray | None = None,
) -> Evidence:
    """How strongly ``hits`` support an answer to ``query`` (see the module docstring).
    ``within``: the chunk ids a tag or article filter keeps (KnowledgeBase.within)."""
    cfg = config or AnswerConfig()
    st = _state(kb)
    qterms = query_terms(query, query_lang)
    idf = _idf(st, query_lang, qterms)
    # Not the glossary's brand names: counted here, "Who founded Starbucks?" and 17 more
    # of QA's unanswerable questions were found (4 answerable ones more too; stop 26).
    # Unless they are all the question asks: "Amazon" alone was not found while its
    # Korean passage (아마존) came first (QA18).
    names_only = getattr(kb, "names_only", None)
    kinds = (SUBJECTS | {"name"}
             if names_only is not None and names_only(query, query_lang)
             else SUBJECTS)
    concepts = _concept_tokens(kb, query, query_lang, qterms, kinds=kinds)
    found_terms: dict[str, set[str]] = {}
    texts: dict[str, str] = {}
    for h in hits:
        found_terms.setdefault(h.lang, set()).update(_span_terms(h, 0, len(h.text)))
        texts[h.lang] = texts.get(h.lang, "") + "\n" + h.text
    search_langs = [x for x in kb.store.langs() if not langs or x in langs]
    # With no passage in the question's language to search (filtered out, or none in
    # the knowledge base), only its glossary concepts can be looked for in the
    # passages: "차이" cannot be found in German ones, which is no sign that they miss it.
    # The glossary's question words ("Beispiel", "vai trò") count only beside a concept
    # the question names: they bridge what is asked of it. Alone they found "Welche
    # Rolle spielen Dinosaurier im Marketing?" and "Vorteile von Elektroautos" (QA).
    words = (_concept_tokens(kb, query, query_lang, qterms, kinds=frozenset({"word"}))
             if concepts else [])
    outranked = query_lang not in found_terms and query_lang in search_langs
    # How many of its language's passages use each word, read once for both uses below.
    used = (st.lexical.doc_freq(query_lang, qterms)[0]
            if st.lexical and (outranked or query_lang in _LATIN_LANGS) else None)
    if outranked and used is not None:
        # Its language was outranked: a word its passages use elsewhere may be missing
        # from these only because none of them is in its language; one no passage of
        # the knowledge base uses ("mèo" in "Chương trình khách hàng thân thiết cho
        # mèo?") still counts against it. (Stop 29, QA11: with short notes added, "Hệ
        # thống đề xuất hoạt động như thế nào?" had only Korean and English passages,
        # and "hoạt động" made its coverage 0.57.)
        found_terms[query_lang] = {t for t, c in zip(qterms, used, strict=True) if c}
    # Words no passage in the question's language uses may be loanwords another
    # language's passages use ("Affiliate" in a Vietnamese question). Not words its own
    # passages do use: "content" in "When was content marketing invented?" was then
    # found in a German passage's "Content-Marketing".
    foreign = ({t for t, c in zip(qterms, used, strict=True) if not c}
               if used is not None and query_lang in _LATIN_LANGS else set())
    cov = _coverage(qterms, idf, query_lang, concepts, found_terms, texts=texts,
                    concepts_only=query_lang not in search_langs, words=words,
                    loanwords=(query, foreign) if foreign else None)
    if len(set(qterms)) == 1 and not concepts:
        # One word, and no concept: that a passage has it says little of what is asked.
        # QA13: "어디서부터 시작해야 하나요?" (where do I start?) is 시작 alone, which the
        # Korean articles use, and was answered with six sentences out of context;
        # "where do I start?" and the German and Vietnamese were not.
        cov = min(cov, SINGLE_WORD_COVERAGE)
    # The dense ranking: (chunk id, language-centred score), best first.
    # Filtered by tag or article, the best passage it keeps is measured against the null
    # questions over the languages: the bar stays the one calibrated, and a close passage
    # the filter leaves out cannot make the ones it keeps look answered.
    dense = kb.dense(query_vec, search_langs, within) if search_langs else []
    margin = _null(kb, st, search_langs).margin(dense)
    # A dense margin alone does not find an answer, even when its passage is in another
    # language, where the coverage cannot see the question's words: allowing 3.5 alone
    # (tried in stop 25) found 42 more of 240 XQuAD questions limited to a translation of
    # their paragraph, but on the seed corpus 17 of QA's 143 unanswerable questions
    # ("Who founded Starbucks?", "Wie viele Mitarbeiter hat Netflix?": the brand in a
    # Korean passage gives a margin of 3.5-4.8 whatever is asked of it) and none of its
    # 125 answerable ones (docs/answers.md, "Calibration").
    score = cov + cfg.dense_weight * margin
    if concepts and cov == 0:
        # None of the concepts it names, in any language, nor any other word of it, is
        # in the passages: they are about something else, however close e5 puts them.
        # QA11: "What is upselling?" limited to English (no English passage says
        # upselling) was answered with five sentences on upstream marketing (margin 4.9).
        score = min(score, cfg.threshold - 0.01)
    # A question that asks what a concept is, and a passage that says it (search marks
    # it, kb.definitions), is answered whatever e5 makes of a short question: "Was ist
    # Bündelung?" has full coverage but a dense margin of -0.02 against the Korean
    # definition.
    if any(h.signals.get("defines") for h in hits):
        score += cfg.definition_evidence
    if not concepts and topicless(kb, query, query_lang, qterms):
        # QA19: "Beispiele?" was answered with four sentences from four articles (its
        # dense margin alone, 5.5), "Ví dụ?" and "예시" were not: examples of nothing
        # named are no question the passages can answer.
        score = min(score, cfg.threshold - 0.01)
    return Evidence(cov, margin, score, cfg.threshold)


def topicless(kb: KnowledgeBase, query: str, qlang: str, qterms: list[str]) -> bool:
    """Whether ``query`` is only the glossary's question words ("Beispiele?", "역할",
    "What are the benefits?"): what to ask of a topic, with no topic."""
    words = _concept_tokens(kb, query, qlang, qterms, kinds=frozenset({"word"}))
    return bool(qterms) and bool(words) and set(qterms) <= set().union(*(t for t, _ in words))


def _span_terms(hit: Hit, a: int, b: int) -> frozenset[str]:
    """The analyzed terms of ``hit.text[a:b]``. Korean takes them from one Kiwi pass over
    the whole passage (:func:`kb.lexical.ko_terms_at`), the others analyze the span."""
    at = lexical.ko_terms_at(hit.text) if hit.lang == "ko" else None
    if at is None:
        return _analyzed(hit.text[a:b], hit.lang)
    starts, terms = at
    return frozenset(terms[bisect_left(starts, a) : bisect_left(starts, b)])


@lru_cache(maxsize=20_000)
def _analyzed(text: str, lang: str) -> frozenset[str]:
    """``lexical.analyze`` as a set, memoised: passages and glossary terms recur."""
    return frozenset(lexical.analyze(text, lang))


def _not_found_message(
    kb: KnowledgeBase, qlang: str, reason: str, *, filtered: bool | str, empty: bool = False,
    closest: Sequence[Hit] = (), chosen_tags: Sequence[str] = (),
) -> str:
    """Why there is no answer, what the knowledge base does hold, and what to try.
    ``filtered``: the filter to try without (True: the language filter); ``chosen_tags``:
    the tags it was limited to, not offered as the library's other tags (QA22 F7:
    "Pricing" was, to a question asked of the articles tagged "pricing").
    ``closest``: the passages search found, whose articles are named (QA8: in a
    library of 25 articles, "no good answer" named only the glossary's seed topics,
    while search had the article that answers it first, in another language)."""
    if empty:  # nothing to rephrase for: say how to fill it
        return (f"No good answer: {reason}. Add articles (the Add article page, `kb add` or "
                "`kb ingest`), then ask again.")
    glossary = getattr(kb, "glossary", None)
    store = getattr(kb, "store", None)
    near = list(dict.fromkeys((h.article_id, h.title) for h in closest))[:3]
    if near:
        hint = (" The nearest articles, though none clearly answers it: "
                + "; ".join(f"“{title}” ({article_id})" for article_id, title in near) + ".")
        # With the concepts their passages name, to rephrase with: the glossary's first
        # six were unrelated to the question (QA10: "가격 앵커란 …" was offered
        # upstream marketing, cross-selling, ...).
        named: dict[str, Concept] = {}
        for h in closest[:5] if glossary is not None else ():
            for c in glossary.match(h.text):
                if c.card:
                    named.setdefault(c.id, c)
        topics = [c.names.get(qlang) or c.names.get("en") or c.id
                  for c in list(named.values())[:6]]
        if topics:
            hint += f" Concepts they name include {', '.join(topics)}."
    else:
        topics = ([c.names.get(qlang) or c.names.get("en") or c.id for c in glossary.cards[:6]]
                  if glossary is not None else [])
        # Named as what they are: in a grown library "It covers topics such as" + the
        # glossary's seed concepts read as all it holds (QA9).
        hint = f" Concepts its glossary knows include {', '.join(topics)}." if topics else ""
    # And what the library's own tags say it holds: QA added articles on pricing, email
    # and retention, and the message still named only the glossary's seed concepts.
    known = {t.casefold() for t in (*topics, *chosen_tags)} | {
        n.casefold() for c in (glossary.cards if glossary is not None else ())
        for n in c.names.values()}
    tags = [t for t in (store.top_tags(12) if store is not None else [])
            if t.casefold() not in known and len(t) >= 3][:2]
    if tags:
        hint += f" The library's articles are also tagged {', '.join(tags)}."
    if filtered:
        which = filtered if isinstance(filtered, str) else "the language filter"
        tries = f"rephrasing with the key terms, removing {which}, or browsing the library"
    else:
        tries = "rephrasing with the key terms, or browsing the library"
    return f"No good answer: {reason}.{hint} Try {tries}."


def _filters(langs: Sequence[str] | None, scoped: bool) -> str:
    """The filters a question was asked with, to try without ("" for none)."""
    if langs and scoped:
        return "the filters"
    return "the language filter" if langs else "the tag or article filter" if scoped else ""


def _elsewhere(kb: KnowledgeBase, query: str, qlang: str, langs: Sequence[str], k: int,
               cfg: AnswerConfig) -> str | None:
    """When a question limited to ``langs`` finds nothing, which languages left out
    answer it, in words (QA: "크로스셀링 KPI는?" limited to German said only "No good
    answer", though the Korean article answers it). Named from what the answer without
    the filter cites, not from what search ranks first (QA: that named English for
    "What is upselling?", which English alone does not answer)."""
    full = answer(kb, query, query_lang=qlang, k_passages=k, config=cfg)
    other = list(dict.fromkeys(c.hit.lang for c in full.citations if c.hit.lang not in langs))
    if not full.found or not other:
        return None
    return (f"No good answer in the chosen languages ({language.names(langs)}), but the "
            f"{language.names(other)} articles answer it: ask again with all languages.")


def _outside(kb: KnowledgeBase, query: str, qlang: str, langs: Sequence[str] | None,
             tags: Sequence[str] | None, articles: Sequence[str] | None, k: int,
             cfg: AnswerConfig) -> str | None:
    """When a question limited to ``tags`` or ``articles`` finds nothing, which articles
    left out answer it, in words, as :func:`_elsewhere` says it of languages (QA22 F7:
    "Was ist Cross-Selling?" asked of the articles tagged pricing said "No good answer
    in the knowledge base", which answers it, and named none of the tags that do)."""
    full = answer(kb, query, query_lang=qlang, langs=langs, k_passages=k, config=cfg)
    cited = list(dict.fromkeys(c.hit.article_id for c in full.citations))
    if not full.found or not cited:
        return None
    if tags:
        chosen = {t.casefold() for t in tags}
        theirs: dict[str, str] = {}
        for article_id in cited:
            row = kb.store.article(article_id)
            for tag in json.loads(row["tags"]) if row is not None else ():
                if tag.casefold() not in chosen:
                    theirs.setdefault(tag.casefold(), tag)
        which = ", ".join(tags)
        if not theirs:
            return (f"No good answer in the chosen articles (tagged {which}), but untagged "
                    "articles answer it: ask again without the tag filter.")
        return (f"No good answer in the chosen articles (tagged {which}), but the articles "
                f"tagged {', '.join(list(theirs.values())[:3])} answer it: ask again "
                "without the tag filter.")
    titles = list(dict.fromkeys(f"“{c.hit.title}” ({c.hit.article_id})"
                                for c in full.citations
                                if c.hit.article_id not in (articles or ())))
    if not titles:
        return None
    return (f"No good answer in the chosen articles ({', '.join(articles or ())}), but "
            f"{'; '.join(titles)} answer{'s' if len(titles) == 1 else ''} it: ask again "
            "without the article filter.")




def answer(
    kb: KnowledgeBase,
    question: str,
    *,
    langs: Sequence[str] | None = None,
    query_lang: str | None = None,
    k_passages: int = PASSAGES,
    config: AnswerConfig | None = None,
    exact: bool = False,
    tags: Sequence[str] | None = None,
    articles: Sequence[str] | None = None,
) -> Answer:
    """Answer ``question`` with 2-5 cited sentences from the knowledge base (up to 8
    when it quotes a list whole).

    Args:
        kb: the knowledge base to draw from.
        question: the question, in any of ko/en/de/vi.
        langs: only use passages in these languages (default: all).
        query_lang: override the detected language of the question.
        k_passages: how many search passages to take sentences from.
        config: scoring knobs (tests and the calibration script vary them).
        exact: search the question as typed (no diacritics restored, no misspelling
            corrected).
        tags, articles: only use passages of articles with one of these tags, or of
            these articles (KnowledgeBase.within).

    Raises:
        BadInputError: an empty or over-long question, an unknown language, tag or
            article.
    """
    cfg = config or AnswerConfig()
    result = kb.search(question, k=k_passages, langs=langs, query_lang=query_lang,
                       exact=exact, tags=tags, articles=articles)
    q, qlang, hits = result.query, result.lang, tuple(result.hits)
    sq = result.searched  # the question as searched
    # The rewrites it was searched with, which every Answer below reports.
    rewritten = {"restored": result.restored, "corrected": result.corrected}
    langs = [language.check_lang(x) for x in langs] if langs else None
    within = kb.within(tags, articles)
    scope = {"tags": tags, "articles": articles}  # passed on to any further search
    filtered = _filters(langs, within is not None)
    if not hits:
        if filtered:
            chosen = " and ".join(x for x in ("languages" if langs else "",
                                              "articles" if within is not None else "") if x)
            message = _not_found_message(kb, qlang, "the knowledge base has no passages in "
                                         f"the chosen {chosen}", filtered=filtered)
        else:
            message = _not_found_message(kb, qlang, "the knowledge base is empty",
                                         filtered=False, empty=True)
        return Answer(q, qlang, False, message, passages=hits, **rewritten)
    st = _state(kb)
    qvec = kb.encode_query(sq)
    ev = evidence(kb, sq, qvec, qlang, hits, langs=langs, config=cfg, within=within)
    if not ev.found and topicless(kb, sq, qlang, query_terms(sq, qlang)):
        return Answer(q, qlang, False, _not_found_message(
            kb, qlang, "the question names no topic, only what to ask of one: name the "
            "concept, product or company too", filtered=False),
            evidence=ev, passages=hits, **rewritten)
    if not ev.found:
        message = _not_found_message(kb, qlang, "no passage in the knowledge base clearly "
                                     "addresses this question", filtered=filtered,
                                     closest=hits, chosen_tags=tags or ())
        if langs and within is None:  # which languages answer it, when that is the filter
            message = _elsewhere(kb, sq, qlang, langs, k_passages, cfg) or message
        elif within is not None:  # which articles answer it, when those are the filter
            message = _outside(kb, sq, qlang, langs, tags, articles, k_passages,
                               cfg) or message
        return Answer(q, qlang, False, message, evidence=ev, passages=hits, **rewritten)
    cands = _rows_that_name_the_question(kb, st, sq, qlang, _candidates(hits))
    if not cands:
        return Answer(q, qlang, False, _not_found_message(
            kb, qlang, "the closest passages hold no full sentences to quote",
            filtered=filtered, closest=hits),
            evidence=ev, passages=hits, **rewritten)
    picked, twins = _select(kb, st, sq, qvec, qlang, cands, cfg)
    qset = frozenset(query_terms(sq, qlang))
    units = _Units(kb, sq)
    titled = _titled_list(picked, cands, qset, qlang, units)
    if titled and any(p in titled for p in picked):
        # Quoted in part already, the list the question names is whole only when
        # another list would otherwise take the answer (QA11: "What are the benefits of
        # downstream marketing?" quoted a benefit, then the list of examples whose lead-in
        # scored best, all eight sentences of it, and no other benefit).
        led = _led_list(picked, cands)
        if not led or any(c in titled for c in led):
            titled = []
    section = [] if titled else _titled_section(kb, cands, sq, units)
    undefined = _undefined(kb, sq, qlang, cands)  # the original candidates: as before
    intro: list[_Candidate] = []
    if titled:  # it leads, and the other sentences make room for its items
        best_item = max(titled, key=lambda c: c.score)
        others = [c for c in picked if c not in titled]
        picked = [best_item] + others[: MAX_WITH_LIST - len(titled)]
    elif section:  # it answers whole: its lead-in, then a sentence of each subsection
        cands = cands + [c for c in section if c not in cands]
        picked = section
    elif intro := _introduction(kb, cands, undefined, units):
        # It opens the answer; the best other sentences follow, but no list: a list
        # under a heading that names the concept is one aspect of it, not what it is.
        cands = cands + [c for c in intro if c not in cands]
        rest = [c for c in picked if c not in intro and not _in_list(c)]
        picked = intro + rest[: max(0, cfg.max_sentences - len(intro))]
    else:  # a list the best sentence leads into or is an item of makes room the same way
        led = _led_list(picked, cands)
        if led:
            rest = [c for c in led if c is not picked[0]]
            # Not the best sentence again when the list is quoted by its items' first
            # sentences and the best is a later one (it was then quoted twice).
            others = [c for c in picked[1:] if c not in led]
            picked = [picked[0]] + rest + others[: max(0, MAX_WITH_LIST - 1 - len(rest))]
    if not (titled or section or intro):
        picked = _each_compared(picked, cands, units, max(len(picked), cfg.max_sentences))
    follows = _what_follows(picked[0], cands) if not section else []
    if follows:
        rest = [c for c in picked[1:] if c not in follows]
        picked = [picked[0], *follows, *rest][: max(len(picked), cfg.max_sentences)]
    limit = MAX_WITH_LIST
    table = _compared_table(cands, units) or _compared_table_further(
        kb, st, sq, qlang, langs, hits, units, k_passages, scope)
    if table:
        # It answers whole, beside the best two sentences and one they point back at:
        # its lines are short, and a Korean asker still reads Korean first.
        rest = [c for c in picked[1:] if c not in table][:2]
        picked = [picked[0], *rest, *(c for c in table if c is not picked[0])]
        limit = len(rest) + 3 + len(table)
    chosen = _with_headers(_arrange(picked, cands, qset, qlang, units), picked[0], limit)
    # Whole lists and table headers first, then antecedents in the room they leave; a
    # sentence that points back at what found no room is left out, unless it is the best.
    # A section's sentences open its subsections: they stand alone, in text order.
    extra, orphans = _antecedents(chosen, cands, limit - len(chosen)) if not section else ([], [])
    if section:
        chosen = section
    elif extra or orphans:
        picked = [c for c in picked if c is picked[0] or c not in orphans]
        chosen = _with_headers(_arrange(picked + extra, cands, qset, qlang, units), picked[0],
                               limit)
    best = next(i for i, c in enumerate(chosen) if c is picked[0])
    citations, sentences = _cite(chosen, twins)
    # Each cited passage lists its translations, as a search hit does (QA: the API's
    # citations always said [] where the Ask page's cards said "also in: DE").
    listed = kb.with_translations([c.hit for c in citations])
    citations = tuple(replace(c, hit=h) for c, h in zip(citations, listed, strict=True))
    citations = twins_of.with_twins(kb, citations)  # their "also in" links mark sentences
    n_articles = len({c.hit.article_id for c in chosen})
    # A table's header is no sentence, and its rows are rows: "3 sentences and 5 table
    # rows quoted from 2 articles."
    n_rows = sum(1 for s in sentences if s.table == "row")
    parts = [_count(sum(1 for s in sentences if not s.table), "sentence"),
             _count(n_rows, "table row")]
    message = (f"{' and '.join(p for p in parts if p)} quoted from "
               f"{_count(n_articles, 'article')}.")
    # Which languages it quotes, said apart (kb.answer_lang): an all-Korean answer to an
    # English question reads as the best there is, not as a mistake (QA11, QA19 F8).
    langs_of = answer_lang.describe_languages(kb, sq, qlang, [c.hit.lang for c in chosen])
    return Answer(q, qlang, True, message, sentences, citations, ev,
                  sentences[best].citations[0], hits, best_sentence=best,
                  **rewritten, undefined=undefined, languages=langs_of)


def _count(n: int, noun: str) -> str:
    """"1 sentence", "3 sentences"; "" for none."""
    return f"{n} {noun}{'s' if n != 1 else ''}" if n else ""


def _undefined(kb: KnowledgeBase, question: str, qlang: str,
               cands: list[_Candidate]) -> tuple[str, str] | None:
    """The concept ``question`` asks to define, when no sentence of the answer's
    passages says what it is (by the concept cards' measure, :func:`kb.definitions.kind`).
    "What is cross-selling?" is answered from sentences that only use the word (a
    loyalty programme's section came first): a new marketer should be told that none of
    them is a definition rather than take the first for one. Any sentence of the
    passages counts, quoted or not: "Was ist Downstream-Marketing?" quotes a German
    comparison, and the English "Downstream marketing is more tactical …" is among them."""
    glossary = getattr(kb, "glossary", None)
    concept = definitions.asked(question, glossary.match(question)) if glossary else None
    if concept is None or any(c.features.get("says") for c in cands):
        return None
    return concept.id, concept.names.get(qlang) or concept.names.get("en") or concept.id


SINGLE_WORD_COVERAGE = 0.5  # the most a question of one word and no concept covers
MAX_LIST_ITEMS = 6  # items (lines), not sentences: a longer list is not quoted whole
MAX_WITH_LIST = 8  # sentences in an answer that quotes a whole list
FURTHER_PASSAGES = 20  # where a comparing question looks for its table beyond its own
# A sentence and its heading must cover this much of the question together to earn
# what they cover beyond either alone: "why do sales and marketing teams clash?" had a
# list item ("Sales Enablement", .38) lead for its heading's "marketing" (.11), and the
# sentence on the tension went from 2nd to 6th (QA12b).
COMPLETED_COVERAGE = 0.5
# The question's coverage by a list's heading (its words, IDF-weighted) that makes the
# heading the list's lead-in: the question asks for what the list holds.
LIST_HEADING_COVERAGE = 0.75
TITLED_LIST_RANKS = 3  # passages searched for a list the question names
# An item leading the answer stands for its list when a sibling is among this many
# best-scored sentences.
SIBLING_RANKS = 3
DEFINITION_FOLLOWS = 2  # sentences of a definition's paragraph after it (_what_follows)
INTRODUCTION_SENTENCES = 3  # at most, from an article's opening passage (_introduction)


def _antecedents(chosen: list[_Candidate], cands: list[_Candidate],
                 room: int) -> tuple[list[_Candidate], list[_Candidate]]:
    """For each sentence of ``chosen`` that points back ("이 방법은 ...", "These rewards
    ..."), the sentence right before it in its passage when the answer lacks it, up to
    ``room`` sentences: quoted alone, "This method adds value" does not say which
    method. Also the sentences of ``chosen`` whose antecedent found no room."""
    out: list[_Candidate] = []
    orphans: list[_Candidate] = []
    for c in chosen:
        contrast = bool(_CONTRAST.match(c.text))
        if not contrast and not _ANAPHOR.match(c.text) and not _ADDS.match(c.text):
            continue
        before, between = _before(next(j for j, x in enumerate(cands) if x is c), cands)
        if before is None:
            continue
        # What a contrast answers must stand alone: "이러한 활동에는 …" before "반면, …"
        # would need its own antecedent in turn, so neither is quoted (stop 35: "반면,
        # 다운스트림 마케팅은 전술적인 접근 방식을 채택합니다." ended an answer, turning
        # from nothing it had said).
        if contrast and (_ANAPHOR.match(before.text) or _CONTRAST.match(before.text)):
            orphans.append(c)
            continue
        if between.strip():
            continue
        # A line of its own right after a list points back further than the list's
        # last item: at the list when the answer quotes part of it already ("업셀링은
        # ..." + "이러한 다양한 기법을 ..."), else at the section ("이러한 체계적인 성과
        # 측정과 조정 과정을 통해 ..." after five lists), which is not quoted.
        lst = _list_at(before, cands) if "\n" in between else None
        if lst is None:
            # What it points at may point back in turn ("다운스트림 마케팅은 …. 이는 …
            # 방식입니다. 여기에는 … 포함됩니다."): quoted with "이는 …" alone, "여기에는"
            # still said nothing of what it is about. Such a chain comes whole only when
            # the answer quotes its first sentence already: else it is a detour (a
            # question on double opt-in got three sentences on downstream marketing).
            group = _pointed_at(before, cands)
            if len(group) > 1 and all(group[0] is not y for y in chosen + out):
                orphans.append(c)
                continue
        elif lst.n_items <= MAX_LIST_ITEMS and any(x in chosen for x in _whole(lst, cands)):
            group = _whole(lst, cands)
        else:
            group = []
        new = [x for x in group if all(x is not y for y in chosen + out)]
        if len(out) + len(new) <= room:
            out += new
        elif group:
            orphans.append(c)
    return out, orphans


def _pointed_at(before: _Candidate, cands: list[_Candidate]) -> list[_Candidate]:
    """``before`` and, while it points back too, the sentences right before it in its
    passage (two at most), in text order."""
    group = [before]
    while len(group) < 3 and _ANAPHOR.match(group[0].text) and not _CONTRAST.match(
            group[0].text):
        prev, gap = _before(next(j for j, x in enumerate(cands) if x is group[0]), cands)
        if prev is None or prev.table or gap.strip() or "\n" in gap:
            # none in its passage, a table row, a sentence between, or another line
            break
        group.insert(0, prev)
    return group


def _compared_table(cands: list[_Candidate], units: _Units) -> list[_Candidate]:
    """The rows of the first table among the passages whose header (with the heading
    it sits under) names every concept a comparing question names, at least two: for
    "upstream vs downstream", the rows of "Aspect | Upstream Marketing | Downstream
    Marketing |" are the answer, and no sentence of them says "difference". None for a
    table of more than :data:`MAX_LIST_ITEMS` rows."""
    if not units.compares or len(units.concepts) < 2:
        return []
    tables: dict[tuple[int, int], list[_Candidate]] = {}
    for c in cands:
        if c.header is not None:
            tables.setdefault(c.header, []).append(c)
    for rows in tables.values():
        head = rows[0].own_text().split("\n", 1)[0]
        if units.concepts <= units.of(head + "\n" + rows[0].context):
            return rows if len(rows) <= MAX_LIST_ITEMS else []
    return []


def _compared_table_further(kb: KnowledgeBase, st: _State, question: str, qlang: str,
                            langs: Sequence[str] | None, hits: Sequence[Hit], units: _Units,
                            k: int, scope: dict[str, Sequence[str] | None] | None = None
                            ) -> list[_Candidate]:
    """:func:`_compared_table` in the passages that search ranks after the answer's
    own: "업스트림 마케팅과 다운스트림 마케팅의 차이점은 무엇인가요?" has its Korean
    passages first and the English comparison table 11th (QA12), where English, German
    and Vietnamese questions had it among their eight."""
    if not units.compares or len(units.concepts) < 2:
        return []
    seen = {h.chunk_id for h in hits}
    more = kb.search(question, k=FURTHER_PASSAGES, langs=langs, query_lang=qlang,
                     **(scope or {})).hits
    extra = [h for h in more if h.chunk_id not in seen and "|" in h.text]
    cands = _rows_that_name_the_question(kb, st, question, qlang, _candidates(extra))
    for c in cands:
        c.rank += k  # after the answer's own passages
    return _compared_table(cands, units)


def _with_headers(chosen: list[_Candidate], best: _Candidate,
                  limit: int = MAX_WITH_LIST) -> list[_Candidate]:
    """``chosen`` (in reading order) with each quoted table row's header row before the
    first of its rows: "Metrics | Customer insights, … | Conversion rates, … |" does not
    say which column is upstream marketing. A row whose header finds no room within
    ``limit`` lines is left out; the best sentence never is (the last sentence that is
    no table row makes room)."""
    out = list(chosen)
    for c in chosen:
        if c.header is None or c not in out or any(
                x.table == "header" and (x.start, x.end) == c.header for x in out):
            continue
        if len(out) >= limit:
            spare = next((x for x in reversed(out) if x is not best and not x.table), None)
            if c is not best or spare is None:
                out.remove(c)
                continue
            out.remove(spare)
        a, b = c.header
        head = _Candidate(c.rank, c.hit, a, b, c.hit.text[a - c.hit.start : b - c.hit.start],
                          c.context, table="header")
        out.insert(out.index(c), head)
    return out


def _arrange(chosen: list[_Candidate], cands: list[_Candidate], qterms: frozenset[str],
             qlang: str, named: _Units | None = None) -> list[_Candidate]:
    """The answer's sentences in reading order: ``chosen`` (best first) with the lists
    it introduces completed (``named``: what names a list across languages,
    :func:`_names_the_question`); the best sentence's passage first, then by search
    rank, each passage's sentences in text order."""
    units: list[list[_Candidate]] = []
    placed: set[int] = set()
    picked = {id(c) for c in chosen}
    total = len(chosen)
    for group in _whole_lists(chosen, cands, qterms, qlang, named):
        whole = group
        extra = sum(1 for c in group if id(c) not in picked)
        if total + extra > MAX_WITH_LIST:
            group = _first_sentences(group)
            if any(c is chosen[0] for c in whole) and all(c is not chosen[0] for c in group):
                # The best sentence is a later one of an item: it stays, in its place.
                group = sorted([*group, chosen[0]], key=lambda c: c.start)
            extra = sum(1 for c in group if id(c) not in picked)
        # A list quoted by its items' first sentences leaves out their later ones, also
        # those MMR chose: after the list they read out of order ("For example, a
        # survey could …" cut off from its item; QA). They make room for the list.
        kept = {id(c) for c in group}
        dropped = {id(c) for c in whole if id(c) in picked and id(c) not in kept}
        if (total + extra - len(dropped) > MAX_WITH_LIST
                or any(id(c) in placed for c in whole)):
            continue
        total += extra - len(dropped)
        units.append(group)
        placed |= kept | dropped
    units += [[c] for c in chosen if id(c) not in placed]
    # Sentences of one passage stay together and in their text order (the second may
    # point back at the first: "이러한 마케팅은 ..."); the best sentence's passage leads.
    # Within a passage, a section whose heading holds all of the question comes first
    # when it holds the passage's best sentence: QA22 F8, "What are psychological
    # prices?" opened with "Value-based pricing sets the price …", from the section
    # before "Psychological prices" in the same passage. Only then: a section's opening
    # ("성공적인 크로스셀링 전략은 철저한 고객 분석에서 시작됩니다.") still leads its
    # subsection ("고객 세분화") when that is not all the question asks.
    top = chosen[0].hit.chunk_id
    lead: dict[int, str | None] = {}
    for c in chosen:
        if c.hit.chunk_id not in lead:
            lead[c.hit.chunk_id] = _section(c) if c.features.get("its_section") else None
    units.sort(key=lambda u: (u[0].hit.chunk_id != top, u[0].rank,
                              _off_lead(u[0], lead.get(u[0].hit.chunk_id)), u[0].start))
    return [c for u in units for c in u]


def _off_lead(c: _Candidate, section: str | None) -> bool:
    """Whether ``c`` is outside ``section``, the one that leads its passage (None: none
    does, and the heading is not read)."""
    return section is not None and _section(c) != section


def _section(c: _Candidate) -> str:
    """The heading ``c`` sits under."""
    return section_at(c.hit, c.start - c.hit.start)


# A heading is the question when more than this share of its words are the question's
HEADING_IS_QUESTION = 0.5


def _heading_is_the_question(c: _Candidate, qterms: list[str], qlang: str,
                             concepts: list[tuple[set[str], dict[str, list[str]]]]) -> bool:
    """Whether most words of ``c``'s heading are the question's, or terms of its glossary
    concepts in the heading's language: "Psychological prices" is the question "What
    are psychological prices?"; "4.2. 크로스셀링과의 통합 전략" holds all of "Bán chéo là
    gì?" but is about more."""
    # Word by word, not token by token: Kiwi reads 크로스셀링 as 크로스, 셀, 링, and
    # three of the heading's five tokens were then the question's.
    words = [t for w in _HEADING_WORD.findall(c.context) if (t := _analyzed(w, c.hit.lang))]
    if not words:
        return False
    known = set(qterms) if c.hit.lang == qlang else set()
    for _, terms in concepts:
        for term in terms.get(c.hit.lang, ()):
            known |= _analyzed(term, c.hit.lang)
    return sum(t <= known for t in words) > HEADING_IS_QUESTION * len(words)


_HEADING_WORD = re.compile(r"[^\W\d_][\w'’-]*")  # a word, not a section number


def _in_section(c: _Candidate) -> bool:
    """Whether ``c`` sits under a heading of its article's, not at its top: a question
    that the title holds whole is asked about the article, and its opening is found
    otherwise (_introduction); "Bán chéo là gì?" opened with the cross-selling
    article's first sentence, "기업의 성공에 있어 추가 매출의 창출은 …", with this bonus."""
    section = _section(c)
    return bool(section) and _fold(section) != _fold(c.hit.title)


@dataclass(frozen=True)
class _List:
    """A list in a passage, in absolute offsets: its lead-in line(s) from ``lead_a``, its
    items from ``items_a`` to ``end``."""

    chunk_id: int  # the passage it starts in; it may run on into the next (_joined)
    article_id: str
    lead_a: int
    items_a: int
    end: int
    n_items: int


def _lists(hit: Hit) -> list[_List]:
    out = []
    for block in chunking.blocks(hit.text):
        if block.kind != "list":
            continue
        lines = [(m.start(), m.group()) for m in re.finditer(r"[^\n]+", hit.text[: block.end])
                 if m.start() >= block.start]
        first_item = next((a for a, line in lines if chunking.is_list_item(line)), None)
        if first_item is None:
            continue
        n_items = sum(chunking.is_list_item(line) for a, line in lines if a >= first_item)
        out.append(_List(hit.chunk_id, hit.article_id, hit.start + block.start,
                         hit.start + first_item,
                         hit.start + block.end, n_items))
    return out


def _joined(lst: _List, cands: list[_Candidate]) -> _List:
    """``lst`` with the rest of it in the passages around, when the chunker split it
    between items and those passages are among ``cands``' (QA: the five steps under
    "두 가지 접근 방식을 함께 사용하는 방법은 무엇일까요?" are three items in one
    passage and two in the next, and the answer quoted one of each). A passage that
    opens with items, with no lead-in, continues the list its previous passage ends with."""
    hits = list({c.hit.chunk_id: c.hit for c in cands if c.hit.article_id == lst.article_id
                 }.values())

    def after(h: Hit) -> Hit | None:
        return next((x for x in hits if 0 <= x.start - h.end <= 2), None)

    def opens_with(h: Hit) -> _List | None:
        first = _lists(h)[:1]
        return first[0] if first and first[0].lead_a == first[0].items_a == h.start else None

    while True:
        tail = next((h for h in hits if h.start < lst.end <= h.end + 1), None)
        nxt = after(tail) if tail is not None and tail.end - lst.end <= 1 else None
        cont = opens_with(nxt) if nxt is not None else None
        if cont is not None:
            lst = replace(lst, end=cont.end, n_items=lst.n_items + cont.n_items)
            continue
        head = next((h for h in hits if h.start == lst.lead_a == lst.items_a), None)
        prev = next((h for h in hits if head is not None and after(h) is head), None)
        ends = _lists(prev)[-1:] if prev is not None else []
        if ends and prev is not None and prev.end - ends[0].end <= 1:
            lst = replace(lst, chunk_id=prev.chunk_id, lead_a=ends[0].lead_a,
                          items_a=ends[0].items_a, n_items=lst.n_items + ends[0].n_items)
            continue
        return lst


def _items(lst: _List, cands: list[_Candidate]) -> list[_Candidate]:
    return [c for c in cands
            if c.hit.article_id == lst.article_id and lst.items_a <= c.start < lst.end]


def _names_the_question(items: list[_Candidate], qterms: frozenset[str], qlang: str,
                        units: _Units | None = None) -> bool:
    """The title the list's items sit under (its lead-in line or heading) and the
    question name the same thing: the title covers the question, and the question holds
    most of the title's words. "Benefits of Downstream Marketing" names "What are the
    benefits of downstream marketing?"; it does not name "What is downstream
    marketing?". In another language, the title must name the same glossary concepts
    and question words as the question, and one at least of the words (``units``):
    "Welche Vorteile hat Upstream-Marketing?" names "Benefits of Upstream Marketing"."""
    for c in items:
        if c.hit.lang != qlang:
            if (units is not None and units.asks_for_a_list
                    and units.of(c.context) == units.question):
                return True
            continue
        if c.features.get("heading", 0.0) < LIST_HEADING_COVERAGE:
            continue
        title = _analyzed(c.context, c.hit.lang)
        if title and len(title & qterms) >= LIST_HEADING_COVERAGE * len(title):
            return True
    return False


# A question that compares ("upstream vs downstream", "차이", "Unterschied", "khác nhau").
_COMPARES = re.compile(
    r"\b(?:differen(?:ce|ces|t)|differ|vs\.?|versus|compare[sd]?|comparison)\b"
    r"|차이|비교|\bUnterschied|\bunterscheide|\bVergleich|\bvergleich"
    r"|khác(?: biệt| nhau)|so sánh", re.I)
# A question that asks for a reason: its answer is an explanation, not a list that two
# of its items happen to match.
_WHY = re.compile(r"\b(?:why|warum|wieso|weshalb|tại sao|vì sao|lý do)\b|왜|이유", re.I)


class _Units:
    """The glossary concepts and question words ("benefit", "Beispiel") a text names,
    by id: what lets a list's title in one language name a question in another."""

    def __init__(self, kb: KnowledgeBase, question: str) -> None:
        self._glossary = getattr(kb, "glossary", None)
        matched = self._glossary.match(question) if self._glossary is not None else []
        self.question = frozenset(c.id for c in matched)
        # Only a question that asks for something a list holds (benefits, examples, …)
        # of a concept: "Was ist Upstream-Marketing?" names no list's title.
        self.asks_for_a_list = (any(c.kind == "word" for c in matched)
                                and any(c.subject for c in matched))
        self.concepts = frozenset(c.id for c in matched if c.subject)
        self.compares = bool(_COMPARES.search(question))
        self.why = bool(_WHY.search(question))

    def of(self, text: str) -> frozenset[str]:
        if self._glossary is None or not text:
            return frozenset()
        return frozenset(c.id for c in self._glossary.match(text))


def _titled_list(picked: list[_Candidate], cands: list[_Candidate], qterms: frozenset[str],
                 qlang: str, units: _Units | None = None) -> list[_Candidate]:
    """The items of a short list that the question names (:func:`_names_the_question`),
    in one of the top ``TITLED_LIST_RANKS`` passages, when the answer quotes none of
    them: such a list is the answer, though its terse items score low alone (their
    vectors are far from the question, and their words are not its words)."""
    seen: set[int] = set()
    for c in cands:
        if c.rank >= TITLED_LIST_RANKS or c.hit.chunk_id in seen:
            continue
        seen.add(c.hit.chunk_id)
        for lst in _lists(c.hit):
            lst = _joined(lst, cands)
            items = _fit(_items(lst, cands))
            if (items and lst.n_items <= MAX_LIST_ITEMS
                    and _names_the_question(items, qterms, qlang, units)):
                return items
    return []


# A question that asks for cases: examples, companies, success stories. Words, not
# glossary entries: "company" as a glossary word would also be carried into every
# search for it, and "examples of companies" would name no topic.
_CASES = re.compile(
    r"\b(?:examples?|compan(?:y|ies)|firms?|brands?|case stud(?:y|ies)|success stor(?:y|ies))\b"
    r"|사례|기업|회사|브랜드"
    r"|\b(?:Beispiele?|Fallbeispiele?|Fallstudien?|Unternehmen|Firm(?:a|en)|Marken?"
    r"|Erfolgsgeschichten?)\b"
    r"|\b(?:ví dụ|công ty|doanh nghiệp|thương hiệu|câu chuyện thành công)\b", re.I)


def _titled_section(kb: KnowledgeBase, cands: list[_Candidate], question: str,
                    units: _Units) -> list[_Candidate]:
    """A section that the question names, answered by its lead-in sentence and the
    first sentence of each of its 2-``MAX_LIST_ITEMS`` subsections; or nothing.

    QA19: "Which companies do cross-selling well?" quoted the lead-in of "6. 성공 사례
    분석: 크로스셀링으로 매출을 극대화한 기업들" (success stories: the companies …) and
    loosely related sentences, never the companies: they are its subsections "6.1.
    아마존: …" to "6.4. 지마켓: …", which no search for the question ranks high, since
    each names one company. The question must ask for cases (:data:`_CASES`) of its
    glossary concepts, and the heading must name both, in any language."""
    if not units.concepts or units.why or units.compares or not _CASES.search(question):
        return []
    articles = list(dict.fromkeys(c.hit.article_id for c in cands
                                  if c.rank < TITLED_LIST_RANKS))
    for article_id in articles:
        rows = kb.store.article_chunks(article_id)
        heads = outline.headings((r.start, r.text) for r in rows)
        for head in heads:
            if not (_CASES.search(head.text) and units.concepts <= units.of(head.text)):
                continue
            subs = outline.subsections(heads, head)
            if not 2 <= len(subs) <= MAX_LIST_ITEMS:
                continue
            known = next(c.hit for c in cands if c.hit.article_id == article_id)
            bounds = [head, *subs]
            ends = [h.start for h in subs] + [_section_end(heads, subs[-1], rows[-1].end)]
            out = []
            for h, end in zip(bounds, ends, strict=True):
                first = _first_in(known, rows, cands, h.end, end)
                if first is not None:
                    out.append(first)
            if sum(1 for c in out if c.start >= subs[0].start) >= 2:
                return out
    return []


def _introduction(kb: KnowledgeBase, cands: list[_Candidate],
                  undefined: tuple[str, str] | None, units: _Units) -> list[_Candidate]:
    """For a question that asks what a concept is when no passage says it: the
    sentences naming the concept in the opening passage of an article whose title
    names it, among the top ``TITLED_LIST_RANKS`` passages' articles; or nothing.

    QA19 F2: "What is cross-selling?" opened with "충성도 프로그램과 크로스셀링 전략의
    통합은 …" and quoted the loyalty-programme tactics under it (every heading that
    names 크로스셀링 covers a one-concept question). The article on cross-selling
    introduces it in its first section: "… 이미 존재하는 고객을 대상으로 한 크로스셀링
    전략은 적은 비용으로도 큰 매출 효과를 가져올 수 있는 혁신적인 접근법으로 …"."""
    if undefined is None:  # no concept asked, or a passage says what it is
        return []
    concept_id = undefined[0]
    for c in cands:
        if c.rank >= TITLED_LIST_RANKS or concept_id not in units.of(c.hit.title):
            continue
        rows = kb.store.article_chunks(c.hit.article_id)
        if not rows:
            continue
        mine = _passage_candidates(rows[0], c.hit.title, cands)
        naming = [x for x in mine if not x.table and concept_id in units.of(x.text)]
        if naming:
            return naming[:INTRODUCTION_SENTENCES]
    return []


def _what_follows(best: _Candidate, cands: list[_Candidate]) -> list[_Candidate]:
    """The sentences of its paragraph right after the answer's opening sentence, when
    that one says what the asked concept is (kb.definitions.kind): at most
    ``DEFINITION_FOLLOWS``, none skipped between.

    QA19 F7: "What is upstream marketing?" quoted "Upstream marketing focuses on the
    early stages of the marketing process." and then one-liners in German and Korean,
    not what the same paragraph goes on to say: "It involves identifying customer
    needs, … The goal is to build a solid foundation for sustainable growth." A
    definition's paragraph explains it; its sentences alone score low (they name
    nothing of the question), and the ones that point back ("It …") were left out."""
    if not best.features.get("says") or best.table or _in_list(best):
        return []
    text, base = best.hit.text, best.hit.start
    line_end = text.find("\n", best.end - base)
    end = base + (line_end if line_end >= 0 else len(text))
    after = sorted((c for c in cands if c.hit.chunk_id == best.hit.chunk_id
                    and best.end <= c.start < end and not c.table), key=lambda c: c.start)
    out: list[_Candidate] = []
    at = best.end
    for c in after[:DEFINITION_FOLLOWS]:
        if text[at - base : c.start - base].strip():  # a sentence between, not quotable
            break
        if _CONTRAST.match(c.text):  # it turns to something else: "반면, 다운스트림 …"
            break
        out.append(c)
        at = c.end
    return out


def _each_compared(picked: list[_Candidate], cands: list[_Candidate],
                   units: _Units, room: int) -> list[_Candidate]:
    """``picked`` with, for a question that compares concepts, the best-scored sentence
    naming each compared concept that no picked sentence names: in
    place of the lowest-scored others when there is no ``room``.

    QA19 F5: "khác biệt giữa bán thêm và bán chéo" (the difference between upselling
    and cross-selling) quoted two sentences on cross-selling techniques and two on
    sales, never what upselling is ("업셀링은 고객에게 더 고급 제품이나 서비스를
    추천하여 …", 1.8 below the best); the same question in English, German and Korean
    opened with it."""
    if not units.compares or len(units.concepts) < 2:
        return picked

    def names(c: _Candidate) -> frozenset[str]:
        # The sentence itself: "이러한 다양한 크로스셀링 기법을 …" sits under "3.3. 업셀링".
        return units.of(c.text)

    out = list(picked)
    for concept in sorted(units.concepts):
        if any(concept in names(c) for c in out):
            continue
        best = max((c for c in cands if c not in out and concept in names(c)),
                   key=lambda c: (c.features.get("says", 0.0), c.score), default=None)
        if best is None:
            continue
        if len(out) >= room:
            spare = min((c for c in out[1:] if not (names(c) & units.concepts)
                         or len([x for x in out if names(x) & names(c) & units.concepts]) > 1),
                        key=lambda c: c.score, default=None)
            if spare is None:
                continue
            out.remove(spare)
        out.append(best)
    return out


def _passage_candidates(row: ChunkRow, title: str,
                        cands: list[_Candidate]) -> list[_Candidate]:
    """The candidate sentences of a stored passage: ``cands``' when search found it,
    else read from it, ranked after every passage search returned."""
    mine = [c for c in cands if c.hit.chunk_id == row.id]
    if mine:
        return mine
    hit = Hit(row.id, row.article_id, title, row.lang, row.section, row.text,
              row.start, row.end, 0.0)
    return [replace(c, rank=PASSAGES + row.ord) for c in _candidates([hit])]


def _section_end(heads: list[outline.Heading], last: outline.Heading, text_end: int) -> int:
    """Where the section of ``last`` ends: the next heading of any kind, or the text's end."""
    return next((h.start for h in heads if h.start > last.start), text_end)


def _first_in(known: Hit, rows: list[ChunkRow], cands: list[_Candidate],
              a: int, b: int) -> _Candidate | None:
    """The first answerable sentence between offsets ``a`` and ``b`` of an article: one
    of ``cands`` when its passage was found, else read from the stored passage."""
    for row in (r for r in rows if r.start < b and a < r.end):
        mine = _passage_candidates(row, known.title, cands)
        first = next((c for c in mine if a <= c.start < b and not c.table), None)
        if first is not None:
            return first
    return None


def _whole_lists(chosen: list[_Candidate], cands: list[_Candidate], qterms: frozenset[str],
                 qlang: str, units: _Units | None = None) -> list[list[_Candidate]]:
    """The short lists ``chosen`` quotes part of, each as its lead-in sentences and all
    its items in text order, when the answer is about the list:
    - ``chosen`` quotes its lead-in, or the question names it
      (:func:`_names_the_question`; the title itself is never quoted, not being a
      statement): one of three benefits was all such an answer gave;
    - or ``chosen`` quotes two of its items, or leads with one. This is how a question
      in another language gets the list: "How do you measure the success of
      cross-selling?" quoted three of the four Korean KPIs, without the sentence that
      says they are KPIs."""
    groups = []
    seen: set[tuple[str, int]] = set()
    for chunk_id in dict.fromkeys(c.hit.chunk_id for c in chosen):
        mine = [c for c in chosen if c.hit.chunk_id == chunk_id]
        for lst in _lists(mine[0].hit):
            lst = _joined(lst, cands)
            if (lst.article_id, lst.lead_a) in seen:
                continue
            seen.add((lst.article_id, lst.lead_a))
            inside = [c for c in chosen if c.hit.article_id == lst.article_id]
            lead = [c for c in inside if lst.lead_a <= c.start < lst.items_a]
            quoted = [c for c in inside if lst.items_a <= c.start < lst.end]
            if not quoted or lst.n_items > MAX_LIST_ITEMS:
                continue
            if lead or _names_the_question(quoted, qterms, qlang, units):
                groups.append(sorted(lead + _items(lst, cands), key=lambda c: c.start))
            # Two items quoted by their names: two later sentences that happen to name
            # the question's concept ("업스트림 마케팅은 …" in two of five steps) are
            # no sign that the question asks for the list.
            elif (units is None or not units.why) and sum(
                c.start - c.hit.start == _line_start(c) and _near_best(c, chosen)
                for c in quoted) >= 2 or (
                chosen[0] in quoted and _close_sibling(chosen[0], lst, cands)
            ):
                groups.append(_whole(lst, cands))
    return groups


# Two quoted items bring their whole list only when both score within this of the best
# sentence: QA10's "Why is there tension between marketing and sales teams?" quoted two
# items of a list of marketing activities (1.1 and 0.7 below the best) and then the
# other two, eight sentences padded with loosely related ones.
WHOLE_LIST_GAP = 1.0


def _near_best(c: _Candidate, chosen: list[_Candidate]) -> bool:
    return c.score >= max(x.score for x in chosen) - WHOLE_LIST_GAP


def _led_list(picked: list[_Candidate], cands: list[_Candidate]) -> list[_Candidate]:
    """The whole short list (:func:`_whole`) that the best sentence introduces, or is
    an item of and stands for (:func:`_close_sibling`), or nothing. A lead-in that is
    the best sentence promises its list: QA got "… define a few KPIs" followed by a
    definition of cross-selling from another article, and none of the four KPIs."""
    best = picked[0]
    lst = _list_at(best, cands)
    if lst is not None and lst.n_items <= MAX_LIST_ITEMS and _close_sibling(best, lst, cands):
        return _whole(lst, cands)
    # The lead-in is the line right before the items, not every line of its block.
    led = next((x for x in _lists(best.hit) if x.lead_a <= best.start < x.items_a
                and "\n" not in best.hit.text[best.start - best.hit.start:
                                               x.items_a - best.hit.start - 1]), None)
    led = _joined(led, cands) if led is not None else None
    whole = _whole(led, cands) if led is not None and led.n_items <= MAX_LIST_ITEMS else []
    return _fit(whole)


def _close_sibling(item: _Candidate, lst: _List, cands: list[_Candidate]) -> bool:
    """A sentence of another of ``lst``'s items is among the ``SIBLING_RANKS`` best-scored
    candidates beside ``item``: the question is about the list ("Wie misst man den
    Erfolg von Cross-Selling?": two of the four Korean KPIs score highest), not about
    one item ("크로스셀링에서 추천 시스템은 어떤 역할을 하나요?" led with a loyalty
    programme's "포인트 기반 추천" item, and none of its siblings came close)."""
    line = _line_start(item)
    items = [c for c in _items(lst, cands) if _line_start(c) != line]
    top = sorted(cands, key=lambda c: -c.score)[:SIBLING_RANKS]
    return any(c in items for c in top)


def _fit(group: list[_Candidate]) -> list[_Candidate]:
    """``group`` (a list's sentences) when it fits in an answer; else the first sentence
    of each of its lines, when those fit; else nothing. QA: "What are examples of
    downstream marketing?" got none of its six examples, whose items hold nine
    sentences ("- Social Media Marketing: Engaging … . This could include …")."""
    if len(group) <= MAX_WITH_LIST:
        return group
    first = _first_sentences(group)
    return first if len(first) <= MAX_WITH_LIST else []


def _first_sentences(group: list[_Candidate]) -> list[_Candidate]:
    """The first sentence of each item of ``group``: its name and what it is; and the
    last of each other line, the lead-in's sentence that introduces the list ("… 두 가지
    접근 방식을 혼합할 때 따라야 할 단계는 다음과 같습니다.")."""
    lines: dict[tuple[int, int], list[_Candidate]] = {}
    for c in group:
        lines.setdefault((c.hit.chunk_id, _line_start(c)), []).append(c)
    out = []
    for (_, start), mine in lines.items():
        line = mine[0].hit.text[start:].split("\n", 1)[0]
        out.append(mine[0] if chunking.is_list_item(line) else mine[-1])
    return out


def _line_start(c: _Candidate) -> int:
    """Where the line holding ``c`` starts: an item's later sentences share its line."""
    return c.hit.text.rfind("\n", 0, c.start - c.hit.start) + 1


def _whole(lst: _List, cands: list[_Candidate]) -> list[_Candidate]:
    """A list's lead-in sentences and items, in text order."""
    return [c for c in cands
            if c.hit.article_id == lst.article_id and lst.lead_a <= c.start < lst.end]


def _in_list(c: _Candidate) -> bool:
    """Whether ``c`` is a list's item or part of its lead-in."""
    return any(lst.lead_a <= c.start < lst.end for lst in _lists(c.hit))


def _list_at(c: _Candidate, cands: list[_Candidate]) -> _List | None:
    """The list whose items ``c`` is part of, if any, with its rest in ``cands``'
    passages (:func:`_joined`)."""
    lst = next((x for x in _lists(c.hit) if x.items_a <= c.start < x.end), None)
    return _joined(lst, cands) if lst is not None else None


def _cite(
    chosen: Sequence[_Candidate], twins: dict[int, list[_Candidate]] | None = None,
) -> tuple[tuple[Citation, ...], tuple[AnswerSentence, ...]]:
    """Number the passages in order of first use; sentences of one passage share it.
    ``twins``: each candidate's translations (by ``id``), for the citations' ``twins``."""
    numbers: dict[int, int] = {}
    spans: dict[int, list[tuple[int, int]]] = {}
    aligned: dict[int, set[tuple[int, int, int]]] = {}
    hits: dict[int, Hit] = {}
    sentences = []
    for c in chosen:
        n = numbers.setdefault(c.hit.chunk_id, len(numbers) + 1)
        spans.setdefault(n, []).append((c.start, c.end))
        aligned.setdefault(n, set()).update(
            (t.hit.chunk_id, t.start, t.end) for t in (twins or {}).get(id(c), []))
        hits[n] = c.hit
        line = _line_start(c)
        in_item = (c.start - c.hit.start != line
                   and chunking.is_list_item(c.hit.text[line:].split("\n", 1)[0]))
        sentences.append(AnswerSentence(c.text, (n,), c.start, c.end, in_item, c.table))
    citations = tuple(Citation(n, hits[n], tuple(sorted(spans[n])), tuple(sorted(aligned[n])))
                      for n in sorted(spans))
    return citations, tuple(sentences)


def _openings(
    cand: _Candidate,
    qterms: list[str],
    qlang: str,
    concepts: list[tuple[set[str], dict[str, list[str]]]],
) -> tuple[bool, bool]:
    """Whether the sentence's subject is what the question asks about: (it opens with a
    word of the question or a glossary concept of it, it opens with such a concept).

    Definitions put their subject first ("번들링은 ...", "Upstream marketing focuses
    on ..."), so a question word or concept term among the first words is a good sign.
    """
    body = _BULLET.sub("", cand.text)
    words = list(re.finditer(r"\S+", body))[:4]
    opening = " ".join(w.group() for w in words)
    first = cand.start - cand.hit.start + len(cand.text) - len(body)  # where body starts
    lead = set(_span_terms(cand.hit, first, first + (words[-1].end() if words else 0)))
    folded = _fold(opening)
    concept = any(
        _term_present(term, cand.hit.lang, lead, folded)
        for _, per_lang in concepts
        for term in per_lang.get(cand.hit.lang, [])
    )
    return concept or (cand.hit.lang == qlang and bool(lead & set(qterms))), concept


def _before(i: int, cands: list[_Candidate]) -> tuple[_Candidate | None, str]:
    """The candidate right before ``cands[i]`` in its passage (None when it is in another
    passage or there is none) and the text between the two."""
    c = cands[i]
    before = cands[i - 1] if i > 0 else None
    if before is None or before.hit.chunk_id != c.hit.chunk_id:
        return None, ""
    return before, c.hit.text[before.end - c.hit.start : c.start - c.hit.start]


def _leads_with(
    cands: list[_Candidate],
    qterms: list[str],
    qlang: str,
    concepts: list[tuple[set[str], dict[str, list[str]]]],
) -> list[bool]:
    """Whether each sentence's subject is what the question asks about: it opens with
    it (:func:`_openings`), or it opens by pointing back ("이는 …", "여기에는 …",
    "These rewards …") at the sentence right before it in its passage, which does. In
    "다운스트림 마케팅은 … 위치합니다. 이는 … 방식입니다. 여기에는 인적 판매, 이메일
    마케팅, 판촉 활동과 같은 전략이 포함됩니다." the last is about downstream
    marketing as much as the first, and it lost the lead bonus to every sentence that
    names it, for "다운스트림 마케팅에는 어떤 전략이 포함되나요?" (stop 33's xfail)."""
    out: list[bool] = []
    named = False  # the sentence before opens with a concept of the question, or points at one
    for i, c in enumerate(cands):
        lead, concept = _openings(c, qterms, qlang, concepts)
        pointing = False
        if named and _ANAPHOR.match(c.text) and not _CONTRAST.match(c.text):
            before, between = _before(i, cands)
            pointing = before is not None and not between.strip()
        named = pointing or concept
        out.append(lead or pointing)
    return out


def _features(
    kb: KnowledgeBase,
    st: _State,
    query: str,
    qvec: np.ndarray,
    qlang: str,
    cands: list[_Candidate],
    cfg: AnswerConfig,
) -> np.ndarray:
    """Fill each candidate's features; return the pairwise similarity z-scores."""
    vecs = _sentence_vectors(kb, st, cands)
    raw = vecs @ qvec
    centre = np.array(
        [float(qvec @ st.means[c.hit.lang]) if c.hit.lang in st.means else 0.0 for c in cands]
    )
    dense = _zscore(raw - centre)
    qterms = query_terms(query, qlang)
    idf = _idf(st, qlang, qterms)
    # The glossary's question words ("example", "차이") count in the evidence only: here
    # they made "For example, a survey could ask …" a sentence about bundling examples.
    # Brands count here as concepts do: "How does Amazon use cross-selling?" is answered
    # by the sentences that say 아마존, which share no letter with it.
    concepts = _concept_tokens(kb, query, qlang, qterms, kinds=SUBJECTS | {"name"})
    glossary = getattr(kb, "glossary", None)
    asked = definitions.asked(query, glossary.match(query)) if glossary is not None else None
    counts = kb.store.chunk_counts(sorted({c.hit.article_id for c in cands}))
    several = {a for a, n in counts.items() if n > 1}
    sims = vecs @ vecs.T
    twins = _translations(kb, cands, sims)
    # The asker's language is preferred where search ranks a passage in it among the
    # first three, and between a sentence and its translation. Where search does not,
    # the bonus had the answer quote passages in the asker's language on another topic:
    # "Why is cross-selling to existing customers cheaper than winning new customers?"
    # quoted the English article on upstream and downstream marketing, not the Korean
    # sentence that says why (docs/answers.md). Only the first passage was too few: an
    # English question whose German twin ranked first lost its English sentences.
    top = max(c.hit.score for c in cands)
    leads = any(c.hit.lang == qlang and c.rank < 3 and c.hit.score >= LEAD_SHARE * top
                for c in cands)
    twinned = {i for pair in twins for i in pair}
    leads_with = _leads_with(cands, qterms, qlang, concepts)
    for i, c in enumerate(cands):
        own = {c.hit.lang: _own_terms(c)}
        says = _says(asked, c) if asked is not None else 0.0  # kind() tests defines() first
        # Whether it names a glossary concept of the question: itself, or with its
        # heading (tested only when it does not itself).
        names = bool(concepts) and _coverage(qterms, idf, qlang, concepts, own,
                                             texts={c.hit.lang: c.own_text()},
                                             concepts_only=True) > 0
        near = names or (bool(concepts) and _coverage(
            qterms, idf, qlang, concepts,
            {c.hit.lang: own[c.hit.lang] | _analyzed(c.context, c.hit.lang)},
            texts={c.hit.lang: c.own_text() + "\n" + c.context}, concepts_only=True) > 0)
        coverage = _coverage(qterms, idf, qlang, concepts, own,
                             texts={c.hit.lang: c.own_text()}, focus=cfg.focus)
        heading = _coverage(
            qterms, idf, qlang, concepts, {c.hit.lang: set(_analyzed(c.context, c.hit.lang))},
            texts={c.hit.lang: c.context}, focus=cfg.focus,
        ) if c.context and not _title_of_many(c, several) else 0.0
        completed = 0.0
        if coverage and heading:
            both = _coverage(
                qterms, idf, qlang, concepts,
                {c.hit.lang: own[c.hit.lang] | _analyzed(c.context, c.hit.lang)},
                texts={c.hit.lang: c.own_text() + "\n" + c.context}, focus=cfg.focus)
            if both >= COMPLETED_COVERAGE:
                completed = both - max(coverage, heading)
        c.features = {
            "dense": float(dense[i]),
            "coverage": coverage,
            "rank": 1.0 / (1 + c.rank),
            "asker_lang": float(c.hit.lang == qlang and (leads or i in twinned)),
            "lead": float(leads_with[i]),
            "defines": float(says == 3),
            # It says what the asked concept is, if less plainly (kb.definitions.kind).
            "says": says,
            "concept": float(names),
            "concept_near": float(near),
            "heading": heading,
            "completed": completed,
            # Under a heading that is the question, all of it (QA22 F8).
            "its_section": float(heading >= WHOLE and _in_section(c)
                                 and _heading_is_the_question(c, qterms, qlang, concepts)),
        }
    off = sims[~np.eye(len(cands), dtype=bool)]
    mu, sd = (float(off.mean()), max(float(off.std()), 1e-6)) if off.size else (0.0, 1.0)
    sim_z = (sims - mu) / sd
    for i, j in twins:
        # Twins are as new as each other, and the better scored (the asker's language)
        # is quoted: across languages e5 finds a sentence far from those already quoted,
        # so MMR took the other language's twin for the newer one. "Wie kann ein
        # Marketingleiter Marketing und Vertrieb zusammenbringen?" quoted the Vietnamese
        # of a sentence beside three German ones from its passage, not the German.
        both = np.minimum(sim_z[i], sim_z[j])
        sim_z[i], sim_z[j] = both, both
        sim_z[:, i], sim_z[:, j] = both, both
        sim_z[i, j] = sim_z[j, i] = np.inf  # a translation of a quoted sentence repeats it
    return sim_z


def _title_of_many(c: _Candidate, several: set[str]) -> bool:
    """Whether ``c`` sits under its article's title, in an article of several passages.
    The title heads the opening passage when the text repeats it (the German seed): it
    names what the whole article is about, not that passage, and as a heading it made
    "Die Begriffe "Upstream" und "Downstream" …" lead 7 of QA's 60 answers about
    upstream or downstream, whatever they asked. In an article of one passage ("Bán
    chéo là gì" over its definition) it is that passage's heading."""
    return c.hit.article_id in several and _fold(c.context) == _fold(c.hit.title)


def _says(concept: Concept, c: _Candidate) -> float:
    """How plainly the sentence says what the asked concept is: 3 it defines it, 2 it
    is a list item labelled with it, 1 the concept is its subject, 0 none of these
    (:func:`kb.definitions.kind`)."""
    k = definitions.kind(concept, c.text, c.hit.lang)
    return 0.0 if k is None else float(3 - k)


# Two sentences of aligned passages whose similarity passes this are paired by the
# in-order alignment below (the seeds' de/vi translations: .83-.92; unrelated pairs of
# those passages mostly under .8).
TWIN_SIMILARITY = 0.8


def _translations(kb: KnowledgeBase, cands: list[_Candidate],
                  sims: np.ndarray) -> list[tuple[int, int]]:
    """Pairs of candidates that translate each other: in passages that the translation
    links align, paired by an in-order alignment of their sentences (a translation keeps
    the order). Across languages e5's similarity is too low for the pool's z-scores to
    call them repeats (1.1-1.7 against 3.5), and answers quoted the German and the
    Vietnamese of the same sentence. Mutual best matches alone missed short ones:
    "Tiếp thị ngược dòng tập trung vào sự đổi mới." is closer to a longer German
    sentence than to "Upstream-Marketing konzentriert sich auf Innovation."."""
    from kb import adding

    chunks = sorted({c.hit.chunk_id for c in cands})
    aligned = adding.aligned_map(kb, chunks)
    if not aligned:
        return []
    rows: dict[int, list[int]] = {}
    for i, c in enumerate(cands):
        rows.setdefault(c.hit.chunk_id, []).append(i)
    out = []
    for x, others in aligned.items():
        for y in others:
            if y <= x or y not in rows or x not in rows:
                continue
            block = sims[np.ix_(rows[x], rows[y])]
            out += [(rows[x][a], rows[y][b]) for a, b in _in_order(block - TWIN_SIMILARITY)]
    return out


def _in_order(gain: np.ndarray) -> list[tuple[int, int]]:
    """The pairs (row, column) of the best in-order alignment: rising in both, each
    row and column used once, maximising the summed ``gain`` (only positive ones pay)."""
    n, m = gain.shape
    best = np.zeros((n + 1, m + 1))
    for i in range(n):
        for j in range(m):
            best[i + 1, j + 1] = max(best[i, j] + gain[i, j], best[i, j + 1], best[i + 1, j])
    pairs, i, j = [], n, m
    while i and j:
        if best[i, j] == best[i - 1, j]:
            i -= 1
        elif best[i, j] == best[i, j - 1]:
            j -= 1
        else:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
    return pairs[::-1]


def _score(c: _Candidate, cfg: AnswerConfig) -> float:
    f = c.features
    return (
        f["dense"]
        + cfg.lexical_weight * f["coverage"]
        + cfg.rank_weight * f["rank"]
        + cfg.asker_lang_bonus * f["asker_lang"]
        + cfg.lead_bonus * f["lead"]
        + cfg.definition_bonus * f["defines"]
        + cfg.heading_weight * f["heading"]
        + cfg.completed_weight * f["completed"]
        + cfg.whole_heading_bonus * (c.opens and f["its_section"])
    )


def _pick(cands: list[_Candidate], sim_z: np.ndarray, cfg: AnswerConfig) -> list[_Candidate]:
    """Maximal marginal relevance: 2-5 high scorers that do not repeat each other."""
    for c in cands:
        c.score = _score(c, cfg)
    order = sorted(range(len(cands)), key=lambda i: -cands[i].score)
    best = cands[order[0]].score
    grounded = {i for i in order if cands[i].features["coverage"] > 0
                or cands[i].features["heading"] > 0}
    # The answer opens with a sentence that names a glossary concept of the question
    # when one scores close to the best: QA's "ví dụ bán theo gói" (bundling examples)
    # opened with a Vietnamese sentence on sales teams, close to it in vector space
    # only, above the Korean definition of bundling. Any shared word was too weak a
    # sign ("Netflix sử dụng gợi ý như thế nào?" would open with a Vietnamese sentence
    # sharing "sử dụng", not the Korean Netflix one). And only when the best sentence
    # names none, not even in its heading: a list's terse items name it there ("Benefits
    # of Downstream Marketing:"), and "마케팅 책임자의 역할은?" opened with an upstream
    # sentence once any concept-naming one could lead.
    lead = order[0]
    if cfg.lead_concept and not cands[lead].features["concept_near"]:
        lead = next((i for i in order if cands[i].features["concept"] > 0), lead)
        if cands[lead].score < best - cfg.keep_within:
            lead = order[0]
    # A question that asks what a concept is opens with a sentence that says it, if
    # one is close ("- Brand Messaging: …" for "Was ist Markenbotschaft?" rather than a
    # sentence on advertising campaigns); not instead of a list's lead-in or item,
    # which bring their list ("What are KPIs?": the four Korean KPIs).
    # The plainest such sentence leads: "- Sales Enablement: Providing the sales team …"
    # before "Das Verkaufsteam weigert sich …" (its subject is a term of the concept).
    says = [i for i in order if cands[i].features["says"]]
    close = [i for i in says if cands[i].score >= best - cfg.keep_within]
    if close and (cands[lead].features["says"] or not _in_list(cands[lead])):
        plainest = max(close, key=lambda i: (cands[i].features["says"], cands[i].score))
        if cands[plainest].features["says"] > cands[lead].features["says"]:
            lead = plainest
    # Nor does it open by turning from a sentence it cannot quote (QA25 F5: "업스트림과
    # 다운스트림 마케팅의 차이는?" opened with "반면, 다운스트림 마케팅은 전술적인 접근
    # 방식을 채택합니다.", "On the other hand, …", after a sentence that points back in
    # turn): the best close sentence that does not lean so leads.
    if _turns_from_nothing(lead, cands):
        lead = next((i for i in order if cands[i].score >= best - cfg.keep_within
                     and not _turns_from_nothing(i, cands)), lead)
    picked: list[int] = [lead]
    # When the question names a glossary concept that the passages name too, a
    # sentence that names none of it, not even in its heading, and none of the
    # question's words, is close in vector space only: QA19 F5's "khác biệt giữa bán
    # thêm và bán chéo" (upselling vs cross-selling) quoted Vietnamese sentences on
    # sales ("bán hàng") for their vectors and language, not the upselling definition.
    if any(c.features["concept_near"] for c in cands):
        loose = {i for i in order if not cands[i].features["concept_near"]
                 and not cands[i].features["coverage"]}
    else:
        loose = set()
    # Far below the best, sentences that only come close in vector space are about
    # something else: filling up to min_sentences with the most diverse of them quoted
    # "Das Upstream-Marketing konzentriert sich auf …" for "Was ist Upselling?" once a
    # short German note was added (QA). A grounded one (a word or concept of the
    # question in it or its heading) goes first.
    while len(picked) < cfg.max_sentences:
        best_i, best_val = None, -math.inf
        spare = len(picked) < cfg.min_sentences and bool(grounded - set(picked))
        for i in order:
            if i in picked or i in loose:
                continue
            if spare and i not in grounded and cands[i].score < best - cfg.keep_within:
                continue
            redundancy = max(float(sim_z[i, j]) for j in picked)
            if redundancy >= cfg.redundancy_z:
                continue
            val = cands[i].score - cfg.mmr_penalty * max(0.0, redundancy)
            if val > best_val:
                best_i, best_val = i, val
        if best_i is None:
            break
        if len(picked) >= cfg.min_sentences and cands[best_i].score < best - cfg.keep_within:
            break
        picked.append(best_i)
    # A question that asks what a concept is quotes a sentence that says it when its
    # passages hold one, however far below the best: "Was ist Downstream-Marketing?"
    # quoted a German comparison, and not the English "Downstream marketing is more
    # tactical and focuses on short-term results."
    if says and not any(cands[i].features["says"] for i in picked):
        plainest = max(says, key=lambda i: (cands[i].features["says"], cands[i].score))
        picked = [picked[0], plainest, *picked[1 : cfg.max_sentences - 1]]
    if cfg.whole_items:
        picked = _with_item_rests(cands, picked, cfg.max_sentences)
    return [cands[i] for i in picked]


def _turns_from_nothing(i: int, cands: list[_Candidate]) -> bool:
    """Whether ``cands[i]`` turns from the sentence before it ("반면, …", "However, …")
    that no answer can quote with it: none right before it in its passage, or one that
    leans on another in turn (as :func:`_antecedents` decides)."""
    if not _CONTRAST.match(cands[i].text):
        return False
    before, between = _before(i, cands)
    if before is None:
        return True
    return bool(between.strip()) or bool(
        _ANAPHOR.match(before.text) or _CONTRAST.match(before.text))


def _with_item_rests(cands: list[_Candidate], picked: list[int], limit: int) -> list[int]:
    """``picked`` with the later sentences of each list item it opens, after it, up to
    ``limit`` sentences in all: an item is one thought, and its first sentence often
    only names what the next says of it."""
    out = list(picked)
    for i in picked:
        c = cands[i]
        local = c.start - c.hit.start
        line = _line_start(c)
        if line != local or not chunking.is_list_item(c.hit.text[line:].split("\n", 1)[0]):
            continue
        end = c.hit.text.find("\n", local)
        end = len(c.hit.text) if end < 0 else end
        rest = sorted((j for j, d in enumerate(cands)
                       if d.hit.chunk_id == c.hit.chunk_id and c.end <= d.start
                       and d.start - d.hit.start < end and j not in out),
                      key=lambda j: cands[j].start)
        at = out.index(i) + 1
        for j in rest[: max(0, limit - len(out))]:
            out.insert(at, j)
            at += 1
    return out


def _select(
    kb: KnowledgeBase,
    st: _State,
    query: str,
    qvec: np.ndarray,
    qlang: str,
    cands: list[_Candidate],
    cfg: AnswerConfig,
) -> tuple[list[_Candidate], dict[int, list[_Candidate]]]:
    """Score the candidate sentences and pick 2-5 of them, best first; and each
    candidate's translations among the others (by ``id``)."""
    sim_z = _features(kb, st, query, qvec, qlang, cands, cfg)
    twins: dict[int, list[_Candidate]] = {}
    for i, j in zip(*np.nonzero(np.isposinf(sim_z)), strict=True):
        if i != j:
            twins.setdefault(id(cands[i]), []).append(cands[j])
    return _pick(cands, sim_z, cfg), twins


def prepare(kb: KnowledgeBase) -> None:
    """Measure the null distribution and IDF now, so the first question is not slow."""
    _state(kb)


def best_citation(
    kb: KnowledgeBase, question: str, *, langs: Sequence[str] | None = None
) -> Citation | None:
    """The single best-supported sentence for ``question``, or None when the evidence is weak."""
    ans = answer(kb, question, langs=langs)
    if not ans.found or ans.best_sentence is None:
        return None
    s = ans.sentences[ans.best_sentence]
    cited = next(c for c in ans.citations if c.n == s.citations[0])
    return Citation(cited.n, cited.hit, ((s.start, s.end),))
