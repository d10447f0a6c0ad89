"""Query-biased snippets: which sentence of a hit to show, and where the query's words
stand in it.

QA16: the search lists showed a passage's first lines and marked nothing, and in 11 of
16 keyword searches the words that matched came later ("Nike 플라이니트" showed four
lines on upgrades and no Nike). A hit now names its best sentence (``Hit.snippet``) and
the spans of the query's words (``Hit.marks``), both as offsets into the passage text.

The words marked in a passage are the query analysed as that passage's language (so a
brand in Latin script is found in a Korean passage), less the words most of that
language's passages hold, and of the glossary concepts the query names, the terms it
typed, or in a passage of another language their translations ("cross-selling" marks
크로스셀링; "focus groups" marks no "Market Research", QA21 F8). The best
sentence is the one holding the largest share of the marked text, the closest to the
query's vector among equals: a question in another language, which shares no word with
the passage, gets the sentence e5 puts nearest.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Callable, Collection, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from kb import lexical
from kb.results import Hit

if TYPE_CHECKING:
    from kb.core import KnowledgeBase
    from kb.glossary import Concept

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_JOIN = re.compile(r"[ \t\-‐–]*")  # what may stand between two marked words of one run
LEXICAL_WEIGHT = 2.0  # a sentence's share of the marked text, against its cosine

Run = tuple[str, ...]  # index terms (kb.lexical.analyze) that must stand together


def with_snippets(kb: KnowledgeBase, lex: lexical.LexicalIndex, query: str,
                  query_vec: np.ndarray, hits: Sequence[Hit]) -> list[Hit]:
    """``hits`` with their best sentence (``snippet``) and the query's words (``marks``)."""
    if not hits:
        return list(hits)
    named = [c for c in kb.glossary.match(query) if c.kind != "word"]  # not "example"
    runs = {lang: query_runs(query, lang, named, lambda ts, lang=lang: _common(lex, lang, ts))
            for lang in {h.lang for h in hits}}
    by_chunk = kb.store.chunk_sentences([h.chunk_id for h in hits])
    out = []
    for hit in hits:
        marks = mark_spans(hit.text, hit.lang, runs[hit.lang])
        headings = set(hit.sections)  # parsed once a hit: per sentence it was 40% of this
        sentences = [(a - hit.start, b - hit.start, v)
                     for a, b, v in by_chunk.get(hit.chunk_id, [])
                     if hit.start <= a < b <= hit.end and readable(hit, a, b, headings)]
        out.append(dataclasses.replace(
            hit, snippet=_best(sentences, marks, query_vec), marks=tuple(marks)))
    return out


def query_runs(query: str, lang: str, concepts: Sequence[Concept] = (),
               common: Callable[[list[str]], set[str]] | None = None) -> frozenset[Run]:
    """What to mark of ``query`` in passages in ``lang``: its own words, analysed as
    ``lang``, and the terms in ``lang`` of the glossary ``concepts`` it names that it
    typed (:func:`named_terms`), each term only where all its words stand together
    ("묶음 판매", not every 판매). ``common`` tells which of its own words most
    passages hold: those are left unmarked when it has others, or names a concept
    ("Affiliate Marketing" marks Affiliate, "upstream marketing" the concept's terms,
    not every Marketing)."""
    if lang == "vi":
        return frozenset(_vi_runs(query, concepts))
    own = [t for t in lexical.analyze_cached(query, lang) if _markable(t, lang)]
    frequent = common(own) if common else set()
    named = {run for term in named_terms(query, lang, concepts)
             for run in lexical.phrase_runs(term, lang)}
    runs = {(t,) for t in own if t not in frequent} or (set() if named else {(t,) for t in own})
    return frozenset(runs | named)


def named_terms(query: str, lang: str, concepts: Sequence[Concept]) -> list[str]:
    """The terms in ``lang`` to mark of the ``concepts`` that ``query`` names: those it
    has itself, and all of them (its translations) where it names the concept by a
    term of another language ("Nike 플라이니트" marks 나이키 in a Korean passage).
    QA21 F8: "focus groups" marked every "Market Research" and "Surveys" of an English
    passage, the concept's other terms, which the searcher never typed."""
    folded = _fold(query)
    out = []
    for concept in concepts:
        terms = [t for t in concept.terms.get(lang, ()) if t]
        own = {_fold(t) for t in terms}
        typed = [t for t in terms if _typed(t, query, folded, lang)]
        elsewhere = any(_typed(t, query, folded, other)
                        for other, others in concept.terms.items() if other != lang
                        for t in others if t and _fold(t) not in own)
        out += terms if elsewhere or not typed else typed
    return out


def _typed(term: str, query: str, folded: str, lang: str) -> bool:
    """Whether ``query`` (``folded``) has ``term`` of ``lang``: as written, or all its
    analysed words among the query's (as the glossary matches a query: "customer
    segments" has the term "segments")."""
    if _fold(term) in folded:
        return True
    words = set(lexical.analyze_cached(term, lang))
    return bool(words) and words <= set(lexical.analyze_cached(query, lang))


def concept_runs(concept: Concept, lang: str) -> frozenset[Run]:
    """Every term in ``lang`` of ``concept``, as :func:`mark_spans` takes them: what a
    concept card marks in its sentences (the concept's words, all of them)."""
    if lang == "vi":
        return frozenset(tuple(_words(t)) for t in concept.terms.get(lang, ()) if t)
    return frozenset(run for t in concept.terms.get(lang, ()) if t
                     for run in lexical.phrase_runs(t, lang))


def _vi_runs(query: str, concepts: Sequence[Concept]) -> set[Run]:
    """Vietnamese is marked by syllables: two the query has side by side, or all of a
    glossary term's, stand together; one alone only where the query has it alone ("SEO
    là gì"): "hạ" of "tiếp thị hạ nguồn" would mark every "hạ giá"."""
    syllables = _words(query)
    content = lexical.vi_content(syllables)
    runs: set[Run] = set()
    for i, s in enumerate(syllables):
        if not content[i]:
            continue
        after = i + 1 < len(syllables) and content[i + 1]
        if after:
            runs.add((s, syllables[i + 1]))
        elif not (i and content[i - 1]):
            runs.add((s,))
    runs.update(tuple(_words(term)) for term in named_terms(query, "vi", concepts))
    return runs


def mark_spans(text: str, lang: str, runs: frozenset[Run]) -> list[tuple[int, int]]:
    """Spans of ``text`` where one of ``runs`` stands, neighbours joined into one."""
    if not runs:
        return []
    tokens, at = _tokens(text, lang)
    spans = []
    for run in runs:
        n = len(run)
        if not n:  # a glossary term with no word in it ("(!)") marks nothing
            continue
        # Only where its first word stands: comparing every position's n-gram with
        # every run was most of the time a search's snippets took.
        spans += [(tokens[i][0], tokens[i + n - 1][1]) for i in at.get(run[0], ())
                  if i + n <= len(tokens)
                  and all(tokens[i + j][2] == run[j] for j in range(1, n))]
        if lang == "ko" and n == 1 and len(run[0]) > 1 and _HANGUL.search(run[0]):
            # Kiwi splits a loanword one way alone and another in a sentence
            # (플라이니트): its letters stand in the text all the same.
            spans += [(m.start(), m.end()) for m in re.finditer(re.escape(run[0]), text)]
    return _runs(text, spans)


@lru_cache(maxsize=2048)
def _tokens(text: str, lang: str) -> tuple[tuple[tuple[int, int, str], ...], dict[str, list[int]]]:
    """(start, end, index term) of each word of ``text`` that its analysis keeps, and
    where each term stands among them. Memoised: the same passages come back query
    after query."""
    if lang == "ko":
        spans = lexical.ko_spans(text)
        tokens = tuple(zip(*spans, strict=True)) if spans else ()
    elif lang == "vi":
        tokens = tuple((m.start(), m.end(), _fold(m.group())) for m in _WORD.finditer(text))
    else:
        out = []
        for m in _WORD.finditer(text):
            terms = lexical.analyze_cached(m.group(), lang)
            if terms:
                out.append((m.start(), m.end(), terms[0]))
        tokens = tuple(out)
    at: dict[str, list[int]] = {}
    for i, (_, _, term) in enumerate(tokens):
        at.setdefault(term, []).append(i)
    return tokens, at


# A word held by this share of a language's passages or more is common: it tells no
# passage from another, so marking it paints text rather than pointing at anything.
# The share is counted with BM25's half a passage of smoothing, (n + 0.5) / (N + 1), so
# that one of a handful of passages is not "most". QA21 F8: the cut was "more than
# half", and 마케팅, in 16 of the seed index's 34 Korean passages (.47; all 8 of the
# upstream/downstream article's), was marked 6 to 8 times in each of them. At .45 the
# words it adds on the seed index are the Korean 중요, 구매 and 마케팅 (16 of 34) and
# the English growth, develop, target, effort, achiev, help (6 of 13); the next ones
# down (유도, 활용 15 of 34: .44; insight, brand 5 of 13: .39) are kept, and German and
# Vietnamese (5 passages each) are as before: 3 of 5 (.58) common, 2 of 5 (.42) not.
COMMON_SHARE = 0.45


def _common(lex: lexical.LexicalIndex, lang: str, terms: list[str]) -> set[str]:
    """Those of ``terms`` that :data:`COMMON_SHARE` of ``lang``'s passages hold."""
    counts, total = lex.doc_freq(lang, terms)
    return {t for t, c in zip(terms, counts, strict=True)
            if total and (c + 0.5) / (total + 1) >= COMMON_SHARE}


def readable(hit: Hit, start: int, end: int, headings: Collection[str]) -> bool:
    """A stored sentence worth showing alone: not a table's rule line, nor a heading
    (one of ``headings``, the hit's: shown beside the snippet), nor a list's lead-in
    ("Downstream Marketing Examples:", "For example:"), which holds the words and says
    nothing (QA18)."""
    text = hit.text[start - hit.start : end - hit.start].strip().lstrip("#").strip()
    return (bool(_WORD.search(text)) and text not in headings
            and not text.endswith((":", "："))
            and not (text.endswith("?") and len(text.split()) <= 8))


def _markable(term: str, lang: str) -> bool:
    """Korean verbs and adjectives (analysed as their 다 form) and one-syllable words
    (수, 더) stand in every other sentence: marking them would mark noise."""
    return lang != "ko" or not (term.endswith("다") or (len(term) == 1 and _HANGUL.match(term)))


def marked(text: str, marks: Sequence[tuple[int, int]], start: int,
           end: int) -> list[tuple[str, bool]]:
    """``text[start:end]`` cut where ``marks`` (clipped to it) begin and end, each piece
    with whether it is marked: what the CLI and the pages render a snippet from."""
    out, pos = [], start
    for x, y in marks:
        x, y = max(x, start), min(y, end)
        if x < y:
            out += [(text[pos:x], False), (text[x:y], True)]
            pos = y
    out.append((text[pos:end], False))
    return [(piece, mark) for piece, mark in out if piece]


def _best(sentences: list[tuple[int, int, np.ndarray]], marks: list[tuple[int, int]],
          query_vec: np.ndarray) -> tuple[int, int] | None:
    """The sentence holding most of the marked text, the nearest to the query among
    equals; None for a passage without stored sentences."""
    if not sentences:
        return None
    marked = sum(b - a for a, b in marks) or 1
    near = [float(x) for x in np.stack([v for _, _, v in sentences]) @ query_vec]

    def score(i: int) -> float:
        a, b, _ = sentences[i]
        inside = sum(max(0, min(b, y) - max(a, x)) for x, y in marks) if marks else 0
        return LEXICAL_WEIGHT * inside / marked + near[i]

    a, b, _ = sentences[max(range(len(sentences)), key=score)]
    return a, b


def _runs(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans sorted, overlaps merged, and words separated by a space or hyphen joined."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and (a <= out[-1][1] or _JOIN.fullmatch(text, out[-1][1], a)):
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _fold(word: str) -> str:
    return unicodedata.normalize("NFC", word).casefold()


def _words(text: str) -> list[str]:
    return [_fold(w) for w in _WORD.findall(text)]
