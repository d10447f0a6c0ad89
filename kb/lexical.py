"""Lexical stage: per-language analyzers and BM25 indexes (kb.bm25).

Each language gets the analyzer that measured best for it:
- ko: content morphemes from kiwipiepy (nouns, verb/adjective stems, roots, foreign
  words, numbers, Hanja), so 크로스셀링을/크로스셀링은 both match 크로스셀링;
- en, de: lowercase words, stop words removed, Snowball stems (PyStemmer);
- vi: syllables (Vietnamese writes one syllable per space-separated unit) plus
  syllable bigrams, which carry most multi-syllable words ("tiếp thị", "bán hàng").
"""

from __future__ import annotations

import json
import math
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from kb.bm25 import BM25

# 2: Kiwi without its multi-word dictionary (_kiwi).
# 3: Vietnamese function words: more of them, and multi-syllable ones (_VI_PHRASES).
# 4: English and German "e-mail" is "email" (_E_PREFIX).
ANALYZER_VERSION = 4

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_VI_STOP = {
    "là",
    "của",
    "và",
    "các",
    "những",
    "có",
    "được",
    "cho",
    "một",
    "trong",
    "với",
    "này",
    "đó",
    "gì",
    "không",
    "để",
    "khi",
    "thì",
    "mà",
    "như",
    "về",
    "từ",
    "cũng",
    "đã",
    "sẽ",
    "nào",
    "ra",
    "vào",
    "hay",
    "hoặc",
    "bởi",
    "nó",
    "tại",
    "sao",
    "thế",
    # Prepositions, conjunctions and adverbs the common Vietnamese stop lists share
    # (QA21 F5: "trên" of "dựa trên", "based on", outranked a glossary concept).
    "trên",
    "theo",
    "bằng",
    "qua",
    "đến",
    "giữa",
    "nếu",
    "vì",
    "nhưng",
    "còn",
    "rằng",
    "vẫn",
    "chỉ",
    "lại",
    "đang",
    "bị",
    "rất",
    "hơn",
    "đây",
    "vậy",
    "ấy",
    "sự",  # the nominaliser ("sự khác biệt"); "việc" is work too ("làm việc"): kept
}
# Words of two syllables that are function words as a whole, though a syllable of
# them is not one alone ("dựa" is to lean; "dựa trên" is "based on", as "based on"
# would be to English BM25). Their syllables and their bigram are left out, as a stop
# word is: QA21 F5, "Hệ thống gợi ý sản phẩm dựa trên lịch sử mua hàng" ranked first a
# passage that says "dựa trên" three times and nothing about recommendations.
_VI_PHRASES = {
    ("dựa", "trên"),
    ("dựa", "vào"),
    ("dựa", "theo"),
    ("thông", "qua"),
    ("đối", "với"),
    ("bởi", "vì"),
    ("tuy", "nhiên"),
    ("mặc", "dù"),
    ("ngoài", "ra"),
    ("do", "đó"),
    ("vì", "vậy"),
    ("cũng", "như"),
    ("như", "vậy"),
    ("chẳng", "hạn"),
    ("thay", "vì"),
    ("có", "thể"),
}
_KO_CONTENT = {"NNG", "NNP", "NR", "XR", "SL", "SH", "SN", "VV", "VA", "MAG"}
_kiwi_lock = threading.Lock()


@cache
def _kiwi():  # type: ignore[no-untyped-def]
    from kiwipiepy import Kiwi

    # Without the multi-word dictionary (proper nouns of several words, "쇼와 천황", kept
    # as one term) Kiwi is ready in 1.0 s instead of 2.6 s (load plus first call), which
    # every CLI run and server start pays. kb eval, KorQuAD: hybrid unchanged to four
    # places, BM25 alone R@1 .900 -> .895; the seeds' terms are identical.
    return Kiwi(load_multi_dict=False)


@cache
def _stemmer(lang: str):  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer({"en": "english", "de": "german"}[lang])


@cache
def _stopwords(lang: str) -> frozenset[str]:
    from bm25s import stopwords

    words = {"en": stopwords.STOPWORDS_EN_PLUS, "de": stopwords.STOPWORDS_GERMAN}[lang]
    return frozenset(words)


def is_stopword(word: str, lang: str) -> bool:
    """Whether ``word`` (case-folded) is one the analysis of ``lang`` leaves out."""
    if lang == "vi":
        return word in _VI_STOP
    return lang in ("en", "de") and word in _stopwords(lang)


def vi_content(syllables: Sequence[str]) -> list[bool]:
    """Per syllable (folded, as :func:`_words` gives them), whether it carries content:
    not a function word (_VI_STOP) nor part of a function word of two (_VI_PHRASES)."""
    content = [s not in _VI_STOP for s in syllables]
    for i in range(len(syllables) - 1):
        if (syllables[i], syllables[i + 1]) in _VI_PHRASES:
            content[i] = content[i + 1] = False
    return content


def _words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFC", text).casefold())


# (text, lang) -> its analysis, known without running the analyzer (see seed_analyses).
_SEEDED: dict[tuple[str, str], tuple[str, ...]] = {}


def seed_analyses(lang: str, analyses: dict[str, tuple[str, ...]]) -> None:
    """Tell :func:`analyze_cached` the analyses of these texts, worked out by an earlier
    process (the glossary's Korean terms: analyzing them is what loads Kiwi)."""
    _SEEDED.update(((text, lang), terms) for text, terms in analyses.items())


def analyze_cached(text: str, lang: str) -> tuple[str, ...]:
    """:func:`analyze` for short texts seen again and again: a query is analyzed in every
    language by the glossary and again by BM25, and glossary terms on every query."""
    seeded = _SEEDED.get((text, lang))
    return seeded if seeded is not None else _analyze_lru(text, lang)


@lru_cache(maxsize=4096)
def _analyze_lru(text: str, lang: str) -> tuple[str, ...]:
    return tuple(analyze(text, lang))


def analyzer_fingerprint(lang: str) -> str:
    """What ``lang``'s analysis depends on besides the text: ANALYZER_VERSION and, for
    Korean, the installed Kiwi and its model (a cached analysis is valid while it holds)."""
    if lang != "ko":
        return f"{ANALYZER_VERSION}"
    from importlib import metadata

    versions = []
    for dist in ("kiwipiepy", "kiwipiepy_model"):
        try:
            versions.append(metadata.version(dist))
        except metadata.PackageNotFoundError:
            versions.append("")
    return f"{ANALYZER_VERSION}:" + ":".join(versions)


def ko_terms_at(text: str) -> tuple[tuple[int, ...], tuple[str, ...]] | None:
    """Korean :func:`analyze` of ``text`` with each term's start offset, sorted by offset;
    None when NFC would change the text (the offsets would not be the caller's).

    Kiwi costs about 0.6 ms a call, and an answer needs the terms of every sentence of
    its passages: one pass over the passage, bucketed by offset, replaces one per
    sentence (``/api/ask`` p50 on the benchmark corpus, docs/performance.md).
    """
    spans = ko_spans(text)
    return None if spans is None else (spans[0], spans[2])


@lru_cache(maxsize=2048)
def ko_spans(text: str) -> tuple[tuple[int, ...], tuple[int, ...], tuple[str, ...]] | None:
    """:func:`ko_terms_at` with each term's end offset too (starts, ends, terms): where a
    snippet marks the query's words. One Kiwi pass serves both."""
    if unicodedata.normalize("NFC", text) != text:
        return None
    with _kiwi_lock:  # Kiwi is not documented as thread-safe
        tokens = _kiwi().tokenize(text)
    triples = [(t.start, t.start + t.len, term) for t, term in _content_tokens(tokens)]
    return (tuple(a for a, _, _ in triples), tuple(b for _, b, _ in triples),
            tuple(t for _, _, t in triples))


_KO_NOUNS = {"NNG", "NNP", "UN"}  # common and proper nouns, and what Kiwi cannot tag
_KO_PIECES = _KO_NOUNS | {"XR", "Z_CODA"}  # what Kiwi cuts an unknown word into


@lru_cache(maxsize=1024)
def ko_unknown_nouns(text: str) -> tuple[tuple[tuple[int, int], ...], ...]:
    """Where NFC ``text`` has a noun that is not in Kiwi's dictionary (``oov``, a guess
    of Kiwi's): the Korean words kb.spelling may correct. Never a particle, an ending
    or a verb, nor a word Kiwi knows, which is Korean whatever the articles say
    (KorQuAD: 저작자 was "corrected" to 제작자, 남우조연상 to 남우주연상).

    Each is given as the (start, end) spans to try, widest first: Kiwi often cuts a
    misspelled word into an unknown piece and known ones (대톹령 is 대톹 + 령), so the
    unknown noun with the nouns it touches in its word, then the unknown noun alone."""
    with _kiwi_lock:  # Kiwi is not documented as thread-safe
        tokens = _kiwi().tokenize(text)
    found = []
    for i, t in enumerate(tokens):
        if not (t.oov and t.tag.split("-")[0] in _KO_NOUNS and text[t.start:t.end] == t.form):
            continue
        first = last = i
        while first > 0 and _touching_piece(tokens[first - 1], tokens[first]):
            first -= 1
        while last + 1 < len(tokens) and _touching_piece(tokens[last + 1], tokens[last]):
            last += 1
        spans = dict.fromkeys([(tokens[first].start, tokens[last].end), (t.start, t.end)])
        found.append(tuple(spans))
    return tuple(found)


def _touching_piece(token: Any, neighbour: Any) -> bool:
    """Whether ``token`` is a noun-like piece written against ``neighbour``, no space
    between: a piece of the same word."""
    touching = token.end == neighbour.start or neighbour.end == token.start
    return touching and token.tag.split("-")[0] in _KO_PIECES


def _ko_terms(text: str) -> Iterator[tuple[int, str]]:
    """(start offset, term) of each content morpheme Kiwi finds in NFC ``text``."""
    with _kiwi_lock:  # Kiwi is not documented as thread-safe
        tokens = _kiwi().tokenize(text)
    return _content_morphemes(tokens)


def _content_morphemes(tokens: Iterable[Any]) -> Iterator[tuple[int, str]]:
    return ((t.start, term) for t, term in _content_tokens(tokens))


def _content_tokens(tokens: Iterable[Any]) -> Iterator[tuple[Any, str]]:
    """Each content morpheme's Kiwi token and its index term."""
    for t in tokens:
        tag = t.tag.split("-")[0]
        if tag in _KO_CONTENT:
            form = t.form.casefold()
            yield t, form + "다" if tag in ("VV", "VA") else form


def analyze_many(texts: Sequence[str], langs: Sequence[str]) -> list[list[str]]:
    """:func:`analyze` of each text in its language. Korean texts go to Kiwi in one
    batch, which Kiwi spreads over its worker threads: on 237 KorQuAD paragraphs that
    took 0.5 s instead of 1.0 s one at a time, with the same morphemes."""
    out: list[list[str] | None] = [
        None if lang == "ko" else analyze(text, lang)
        for text, lang in zip(texts, langs, strict=True)
    ]
    korean = [i for i, lang in enumerate(langs) if lang == "ko"]
    if korean:
        normal = [unicodedata.normalize("NFC", texts[i]) for i in korean]
        with _kiwi_lock:
            batches = list(_kiwi().tokenize(normal))
        for i, tokens in zip(korean, batches, strict=True):
            out[i] = [term for _, term in _content_morphemes(tokens)]
    return [terms or [] for terms in out]


# "E-Mail", "e-mail", "e-commerce": written with and without the hyphen, and Vietnamese
# writes "email". QA22 F6: "Wie baue ich eine E-Mail-Liste auf?" was "e", "mail" and
# "list", none of which the Vietnamese article on email lists holds.
_E_PREFIX = re.compile(r"(?<![\w\-\u2010])([eE])[-\u2010](?=[^\W\d_]{2})")


def join_e_prefix(text: str) -> str:
    """``text`` with "E-Mail", "e-commerce" written as one word, as English and German
    analysis reads them."""
    return _E_PREFIX.sub(r"\1", text)


def analyze(text: str, lang: str) -> list[str]:
    """Turn text into index terms for ``lang``'s lexical index."""
    if lang == "ko":
        return [term for _, term in _ko_terms(unicodedata.normalize("NFC", text))]
    if lang in ("en", "de"):
        stop = _stopwords(lang)
        words = [w for w in _words(join_e_prefix(text)) if w not in stop]
        return list(_stemmer(lang).stemWords(words))
    if lang == "vi":
        syllables = _words(text)
        content = vi_content(syllables)
        uni = [s for s, keep in zip(syllables, content, strict=True) if keep]
        # A pair of function words ("là gì", "dựa trên") is no term either.
        bi = [f"{a}_{b}" for a, b, x, y in zip(syllables, syllables[1:], content,
                                               content[1:], strict=False) if x or y]
        return uni + bi
    return _words(text)


@lru_cache(maxsize=4096)
def phrase_runs(phrase: str, lang: str) -> tuple[tuple[str, ...], ...]:
    """Runs of terms, one of which :func:`analyze` gives consecutively for a text that
    contains ``phrase``: a test for "this text mentions this phrase" on analyzed terms.

    Mostly that is ``analyze(phrase)``. Two languages need more:
    - Vietnamese analysis lists all syllables before all bigrams, so a phrase of two or
      more syllables is its run of bigrams (which also keeps the syllables adjacent);
    - Kiwi splits a loanword standing alone but keeps it whole in a sentence
      (크로스셀링 alone is 크로스/셀/링; in "크로스셀링이 기존 고객에" it is one
      morpheme), so the phrase's words taken whole are a second run.
    """
    terms = analyze_cached(phrase, lang)
    if lang == "vi":
        bigrams = tuple(t for t in terms if "_" in t)
        return (bigrams or terms,) if terms else ()
    runs = [terms] if terms else []
    if lang == "ko":
        words = tuple(_words(phrase))
        if words and words != terms:
            runs.append(words)
    return tuple(runs)


class LexicalIndex:
    """One BM25 index per language over chunk ids (:class:`kb.bm25.BM25`)."""

    def __init__(self) -> None:
        self._bm25: dict[str, BM25] = {}

    @property
    def langs(self) -> list[str]:
        return sorted(self._bm25)

    def copy(self) -> LexicalIndex:
        """A shallow copy: changing a language in it leaves this one untouched."""
        other = LexicalIndex()
        other._bm25 = dict(self._bm25)
        return other

    def build(self, lang: str, chunks: Iterable[tuple[int, Sequence[str]]]) -> None:
        """(Re)build the index for one language from already-analyzed chunks, given as
        (id, terms) pairs and read once (a store cursor: they need not all fit in
        memory as Python lists)."""
        index = BM25()
        index.add_pairs(chunks)
        self._set(lang, index)

    def update(self, lang: str, gone: np.ndarray,
               chunks: Iterable[tuple[int, Sequence[str]]]) -> None:
        """Remove the chunks ``gone`` from one language and add new ones, (id, terms)
        pairs, in place of a rebuild (the scores come out the same)."""
        index = self._bm25[lang].copy() if lang in self._bm25 else BM25()
        index.remove(gone)
        index.add_pairs(chunks)
        self._set(lang, index)

    def doc_freq(self, lang: str, terms: Sequence[str]) -> tuple[list[int], int]:
        """How many of ``lang``'s chunks contain each of ``terms``, and how many chunks
        ``lang`` has."""
        index = self._bm25.get(lang)
        if index is None:
            return [0] * len(terms), 0
        ids = [index.vocab.get(t) for t in terms]
        return [int(index.df[i]) if i is not None else 0 for i in ids], index.live

    def near(self, lang: str, term: str, max_edits: int) -> list[tuple[str, int, int]]:
        """The word terms of ``lang``'s chunks that share ``term``'s first letter and are
        within ``max_edits`` edits of it (optimal string alignment: a letter inserted,
        dropped or changed, or two neighbours swapped), as (term, edits, chunks holding
        it), closest first, then commonest. A Korean ``term`` is given as its jamo
        (NFD), and the edits counted are jamo (:meth:`kb.bm25.BM25.terms_like`).
        rapidfuzz compares in C, about 0.1 µs a term of the right first letter and
        lengths."""
        index = self._bm25.get(lang)
        if index is None or max_edits <= 0:
            return []
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        found: list[tuple[str, int, int]] = []
        for size in range(max(1, len(term) - max_edits), len(term) + max_edits + 1):
            bucket = index.terms_like(term[:1], size)
            for other, edits, _ in process.extract(term, bucket, scorer=OSA.distance,
                                                   score_cutoff=max_edits, limit=None):
                if edits > 0:
                    other = unicodedata.normalize("NFC", other)  # Hangul is kept as jamo
                    found.append((other, int(edits), int(index.df[index.vocab[other]])))
        return sorted(found, key=lambda f: (f[1], -f[2], f[0]))

    def chunks_with(self, lang: str, term: str, limit: int) -> list[int]:
        """Up to ``limit`` of ``lang``'s chunks that hold ``term``."""
        index = self._bm25.get(lang)
        return index.chunk_ids(term, limit) if index is not None else []

    def idf(self, lang: str, terms: Sequence[str]) -> list[float]:
        """BM25's inverse document frequency of each of ``terms`` in ``lang``'s chunks."""
        counts, n = self.doc_freq(lang, terms)
        return [math.log(1 + (n + 1) / (c + 0.5)) for c in counts]

    def _set(self, lang: str, index: BM25) -> None:
        if index.live:
            self._bm25[lang] = index
        else:
            self._bm25.pop(lang, None)

    def ids(self, lang: str) -> np.ndarray:
        """The chunk ids indexed for ``lang``."""
        index = self._bm25.get(lang)
        return index.live_ids() if index is not None else np.empty(0, np.int64)

    def scores(self, lang: str, terms: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """BM25 scores of every chunk of ``lang`` for ``terms``: (ids, scores); deleted
        chunks that are still stored score 0."""
        if lang not in self._bm25 or not terms:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        return self._bm25[lang].scores(terms)

    def save(self, directory: Path) -> None:
        """Write every language's index under ``directory`` (no pickle; files already
        saved elsewhere are hard-linked)."""
        directory.mkdir(parents=True, exist_ok=True)
        for lang, index in self._bm25.items():
            index.save(directory / lang)
        (directory / "langs.json").write_text(json.dumps(sorted(self._bm25)))

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        index = cls()
        for lang in json.loads((directory / "langs.json").read_text()):
            index._bm25[lang] = BM25.load(directory / lang)
        return index
