"""Concept cards for onboarding: each glossary concept with its definition and sources.

A card holds the concept's terms in ko/en/de/vi, a one-sentence extractive definition
(the sentence of the answer to "What is <English name>?" that best says what the
concept is, or none), and the best passage in each language. A language whose best
passage fails the same calibrated evidence test that decides an answer's ``found`` is a
coverage gap: "no Vietnamese source on cross-selling yet".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypeVar

from kb import answers, definitions, snippets
from kb.chunking import section_at
from kb.errors import BadInputError, NotFoundError
from kb.glossary import Concept
from kb.language import LANG_NAMES, SUPPORTED
from kb.results import Hit
from kb.sentences import BULLET

if TYPE_CHECKING:
    from kb.core import KnowledgeBase

__all__ = ["ConceptCard", "LangSource", "about", "best_sentence", "card_of", "concept_card",
           "concept_cards", "question", "sentence_rank"]

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class LangSource:
    """The best passage on a concept in one language, or a gap (``hit is None``)."""

    lang: str
    query: str
    hit: Hit | None
    evidence: answers.Evidence | None

    @property
    def gap(self) -> bool:
        return self.hit is None

    @property
    def sentence(self) -> tuple[int, int] | None:
        """The sentence about the concept, as offsets into the article; None for a gap."""
        if self.hit is None or self.hit.snippet is None:
            return None
        a, b = self.hit.snippet
        return self.hit.start + a, self.hit.start + b

    def to_dict(self, gap_message: str) -> dict[str, object]:
        """The API's and the CLI's form: the passage as a search hit (its ``snippet``
        the sentence, its ``marks`` the concept's words), and the sentence on its own."""
        hit, span = self.hit, self.sentence
        sentence = None
        if hit is not None and span is not None:
            a, b = span
            sentence = {"text": hit.text[a - hit.start : b - hit.start], "start": a, "end": b,
                        "section": section_at(hit.text, hit.section, a - hit.start)}
        return {"lang": self.lang, "gap": self.gap, "message": gap_message if self.gap else None,
                "query": self.query, "passage": hit.to_dict() if hit is not None else None,
                "sentence": sentence}


@dataclass(frozen=True)
class ConceptCard:
    concept: Concept
    definition: answers.Citation | None
    sources: tuple[LangSource, ...]

    @property
    def gaps(self) -> list[str]:
        return [s.lang for s in self.sources if s.gap]

    def gap_message(self, lang: str) -> str:
        name = self.concept.names.get("en") or self.concept.id
        return f"no {LANG_NAMES[lang]} source on {name} yet"  # as written: KPI, not kpi

    @property
    def name(self) -> str:
        c = self.concept
        return c.names.get("en") or next((n for n in c.names.values() if n), c.id)

    def to_dict(self) -> dict[str, object]:
        """What the Concepts page shows of it, for the API and the CLI (QA19 F12)."""
        c, d = self.concept, self.definition
        return {
            "id": c.id, "name": self.name, "names": dict(c.names), "terms": dict(c.terms),
            "definition": None if d is None else {
                "text": d.sentence, "lang": d.hit.lang, "article_id": d.hit.article_id,
                "title": d.hit.title, "chunk_id": d.hit.chunk_id,
                "start": d.sentence_start, "end": d.sentence_end},
            "sources": [s.to_dict(self.gap_message(s.lang)) for s in self.sources],
            "gaps": self.gaps,
            "questions": [{"lang": lang, "text": q} for lang in SUPPORTED
                          if (q := question(c, lang)) is not None],
        }


# How many of a language's best passages a card looks through for the one that is
# about the concept: the Korean cross-selling article names it in all its 25 passages,
# and search ranks its KPI list first (QA19 F9).
CANDIDATES = 30


def _source(kb: KnowledgeBase, concept: Concept, lang: str) -> LangSource:
    query = concept.names.get(lang) or next(iter(concept.terms.get(lang) or []), "")
    if not query:
        return LangSource(lang, "", None, None)
    result = kb.search(query, k=CANDIDATES, langs=[lang], query_lang=lang)
    if not result.hits:
        return LangSource(lang, query, None, None)
    qvec = kb.encoder.encode([result.query], kind="query")[0]
    ev = answers.evidence(kb, result.query, qvec, lang, result.hits[:1], langs=[lang])
    # The passage must also name the concept: "Upselling" alone is close enough in
    # vector space to "Upstream Marketing Examples" (evidence 0.84, all of it dense) for
    # a card to list an article that never mentions upselling, hiding a gap (QA).
    if not (ev.score >= ev.threshold and ev.coverage > 0):
        return LangSource(lang, query, None, ev)
    # Each passage's sentence to show and the concept's words in it, as search results
    # have them (kb.snippets), then, in each, the sentence that best says what the
    # concept is, and the passage whose sentence is most about it.
    # All the concept's words are marked, not only the name searched for.
    runs = snippets.concept_runs(concept, lang)
    hits = [replace(h, marks=tuple(snippets.mark_spans(h.text, lang, runs)))
            for h in kb.snippets(result.searched, result.hits)]
    rows = kb.store.chunk_sentences([h.chunk_id for h in hits])
    hits = [best_sentence(concept, lang, h, rows.get(h.chunk_id, [])) for h in hits]
    return LangSource(lang, query, about(kb, concept, lang, hits), ev)


def best_sentence(concept: Concept, lang: str, hit: Hit,
                   rows: Sequence[tuple[int, int, object]]) -> Hit:
    """``hit`` with the sentence that best says what ``concept`` is as its snippet
    (:func:`sentence_rank`); among equals the one holding most of its marked text
    (``hit.marks``: the concept's words), then its search snippet, then the first in
    reading order; its search snippet when no sentence names the concept. QA21 F6: the
    snippet is the sentence holding most of the concept's words, and the German and
    Vietnamese Downstream lines were "Alles, was der Marketingleiter tut, … ist eine
    nachgelagerte Aktivität" and a sentence on designing materials, where the passages
    open with the definition ("Die nachgelagerten Aktivitäten konzentrieren sich auf den
    kurzfristigen Vertrieb …")."""
    headings = set(hit.sections)
    best: tuple[tuple[int, int, int, int], tuple[int, int]] | None = None
    for order, (start, end, _) in enumerate(rows):
        if not (hit.start <= start < end <= hit.end
                and snippets.readable(hit, start, end, headings)):
            continue
        a, b = start - hit.start, end - hit.start
        rank = sentence_rank(concept, hit.text[a:b], lang)
        if rank is not None:
            marked = sum(max(0, min(b, y) - max(a, x)) for x, y in hit.marks)
            key = (rank, -marked, 0 if (a, b) == hit.snippet else 1, order)
            if best is None or key < best[0]:
                best = (key, (a, b))
    return hit if best is None else replace(hit, snippet=best[1])


def sentence_rank(concept: Concept, sentence: str, lang: str) -> int | None:
    """How well ``sentence`` (in ``lang``) says what ``concept`` is, smaller better: 0-2
    :func:`kb.definitions.kind` (defines it, a list item labelled with it, has it as its
    subject), 3 it names the concept by a term of ``lang``, 4 it does but is about
    something else (it points back, "이는 …", or is an item labelled with something
    else, "- 평균 주문 금액: 크로스셀링으로 …"), 5 it names it and states nothing: a
    question, or a table row ("Target Audience | New markets and segments | Current
    customers |" was the Existing customers card's English line, QA21 F6: its cells
    say nothing alone); None when it does not name it."""
    if not _names(concept, sentence, lang, own=True):
        return None
    text = sentence.strip()
    if text.count("|") >= 2 or text.endswith(("?", "？")):
        return 5
    if _POINTS_BACK.match(sentence) or _labelled_otherwise(concept, sentence, lang):
        return 4
    found = definitions.kind(concept, sentence, lang)
    return 3 if found is None else found


def about(kb: KnowledgeBase, concept: Concept, lang: str, hits: list[Hit]) -> Hit | None:
    """The hit whose sentence (``Hit.snippet``) is most about ``concept``, in ``lang``:
    first by :func:`sentence_rank` (one that defines it, then a list item labelled with
    it, then one with it as its subject, then one that only names it by a term of
    ``lang``), under a heading that names it and no other concept before one under a
    heading that also names others, before one under any heading; then a hit whose
    sentence names it but is about something else, then one whose sentence (a table
    row, a question) or heading names it and says nothing; among equals, the better
    ranked. None when no hit names it at all: the language is then a gap, since
    a card lists no article that never mentions the concept (QA19 F9: the Marketing
    director card's German line was the article's intro, which never says
    "Marketingleiter")."""
    best: tuple[tuple[int, ...], Hit] | None = None
    for rank, hit in enumerate(hits):
        key = _aboutness(kb, concept, lang, hit)
        if key is not None and (best is None or (*key, rank) < best[0]):
            best = ((*key, rank), hit)
    return best[1] if best else None


def _aboutness(kb: KnowledgeBase, concept: Concept, lang: str,
               hit: Hit) -> tuple[int, ...] | None:
    """How little ``hit``'s sentence is about ``concept`` (smaller is more), or None
    when neither the passage nor its headings name it."""
    a, b = hit.snippet or (0, 0)
    sentence = hit.text[a:b]
    heading = section_at(hit.text, hit.section, a)
    rank = sentence_rank(concept, sentence, lang) if sentence else None
    headed = bool(heading) and _names(concept, heading, lang, own=True)
    if rank is not None and rank <= 3:
        alone = headed and not any(c.id != concept.id and c.subject
                                   for c in kb.glossary.match(heading))
        return (rank, 0 if alone else 1 if headed else 2)
    if rank is not None or headed:
        return (4 if rank == 4 else 5, 0)  # about something else; says nothing
    return (6, 0) if _names(concept, hit.text, lang, own=True) else None


def _labelled_otherwise(concept: Concept, sentence: str, lang: str) -> bool:
    """A list item labelled with something else ("- 평균 주문 금액: 크로스셀링으로 …"):
    about its label, not about the concept it mentions ("- Buyer Persona Development:
    …" is about the buyer persona)."""
    text = BULLET.sub("", sentence)
    return (text != sentence and ":" in text
            and not _names(concept, text.split(":", 1)[0], lang, own=True))


# A definition has to stand alone: a sentence that opens by pointing back at the one
# before it ("이는 ...", "This ...", "Dies ...") means little on a card.
_POINTS_BACK = re.compile(
    r"^(?:[-*•·▪–]\s+|\d{1,2}[.)]\s+)?(?:이는|이것은|이러한|이를|이와|그것은|이|그"
    r"|[Tt]his|[Tt]hese|[Tt]hat|[Ii]t|[Tt]hey|[Dd]ies|[Dd]iese[rsmn]?|[Dd]adurch|[Dd]amit"
    r"|[Đđ]iều này|[Nn]ó|[Cc]húng)(?=\s|,)")  # case matters: "IT teams ..." is no pronoun


def definition(
    kb: KnowledgeBase, concept: Concept, taken: set[tuple[str, int]] | None = None
) -> answers.Citation | None:
    """The sentence of the answer to "What is <English name>?" that best says what the
    concept is, and is not already another concept's definition (``taken``: (article
    id, start) pairs); None when no sentence of the answer does.

    Best is a sentence that defines it ("번들링은 … 기법입니다", :mod:`kb.definitions`),
    then a list item labelled with it ("- Sales Enablement: Providing …"), then one
    with the concept as its subject ("Upstream marketing focuses on …"); among equals,
    the article quoted first (the answer's best sentence first, then reading order),
    and in an article the first in reading order: by score alone, the Downstream card's
    definition moved from one sentence to another when articles on pricing were added
    (QA22 F10). A sentence that only mentions
    the concept ("Alles, was der Marketingleiter tut, … ist eine nachgelagerte
    Aktivität") or says what it can do ("크로스셀링은 … 이끌어낼 수 있습니다") is no
    definition: the card then says none is there yet (QA: cards quoted such sentences).
    """
    name = concept.names.get("en") or concept.id
    ans = answers.answer(kb, f"What is {name}?")
    if not ans.found:
        return None
    cited = {c.n: c for c in ans.citations}
    ranked = []
    first = ans.best_sentence or 0  # the best-scoring sentence first, then reading order
    articles: dict[str, int] = {}
    for s in (ans.sentences[first], *ans.sentences[:first], *ans.sentences[first + 1 :]):
        c = cited[s.citations[0]]
        key = (c.hit.article_id, s.start)
        if (taken is not None and key in taken) or _POINTS_BACK.match(s.text):
            continue
        kind = definitions.kind(concept, s.text, c.hit.lang)
        if kind is not None:
            order = articles.setdefault(c.hit.article_id, len(articles))
            ranked.append(((kind, order, s.start), c, s, key))
    if not ranked:
        return None
    _, c, s, key = min(ranked, key=lambda r: r[0])
    if taken is not None:
        taken.add(key)
    return answers.Citation(c.n, c.hit, ((s.start, s.end),))


def _names(concept: Concept, sentence: str, lang: str, *, own: bool = False) -> bool:
    """Whether ``sentence`` (in ``lang``) names ``concept`` by one of its terms: in any
    language, or (``own``) in ``lang`` only."""
    folded = answers._fold(sentence)
    words = answers._analyzed(sentence, lang)
    return any(
        answers._term_present(term, term_lang, words if term_lang == lang else frozenset(),
                              folded)
        for term_lang, terms in concept.terms.items() if not own or term_lang == lang
        for term in terms
    )


def question(concept: Concept, lang: str) -> str | None:
    """"What is it?" asked of the concept in ``lang``, in a form that is good grammar
    whatever its term is and that :func:`kb.definitions.asked` reads as asking for a
    definition; None when it has no term there. QA19 F12: the cards asked "What is
    <English term>?" of every reader, which gave "What is loyalty program?" and "What
    is existing customers?"."""
    terms = concept.terms.get(lang) or []
    name = concept.names.get(lang) or next(iter(terms), "")
    if not name:
        return None
    if lang == "en":  # a term in quotes reads right, count noun, plural or mass noun
        return f"What does “{terms[0] if terms else name}” mean?"
    if lang == "de":
        return f"Was bedeutet „{terms[0] if terms else name}“?"
    if lang == "vi":
        return f"{name} là gì?"
    return f"{name}{_ko_topic(name)}?"


def _ko_topic(name: str) -> str:
    """이란 after a final consonant, 란 after a vowel ("업스트림 마케팅이란", "번들링이란",
    "전환율이란", "주요 성과 지표(KPI)란"), "(이)란" where the script does not say."""
    last = re.sub(r"\s*\([^)]*\)\s*$", "", name).strip()[-1:]
    if not "가" <= last <= "힣":
        return "(이)란"
    return "이란" if (ord(last) - ord("가")) % 28 else "란"


def concept_card(
    kb: KnowledgeBase, concept: Concept, taken: set[tuple[str, int]] | None = None
) -> ConceptCard:
    """Build one card: the definition and each language's best passage or gap."""
    # A term search cannot read (an edited glossary's, say) costs its card a source or
    # a definition, not the whole page (QA15: one bad term made /concepts a 400).
    sources = tuple(_or_none(lambda: _source(kb, concept, lang),  # noqa: B023 - called now
                             LangSource(lang, "", None, None)) for lang in SUPPORTED)
    defined = _or_none(lambda: definition(kb, concept, taken), None)
    if defined is not None:
        # The definition's language quotes it on its line too: QA22 F10, the Downstream
        # card's definition was one English sentence and its English line another, two
        # "definitions" on one card.
        sources = tuple(_quoting(s, defined, concept) if s.lang == defined.hit.lang else s
                        for s in sources)
    return ConceptCard(concept, defined, sources)


def _quoting(source: LangSource, cited: answers.Citation, concept: Concept) -> LangSource:
    """``source`` with the definition's passage and sentence as its own."""
    hit = cited.hit
    marks = tuple(snippets.mark_spans(hit.text, hit.lang, snippets.concept_runs(concept,
                                                                                 hit.lang)))
    snippet = (cited.sentence_start - hit.start, cited.sentence_end - hit.start)
    return replace(source, hit=replace(hit, snippet=snippet, marks=marks))


def _or_none(build: Callable[[], T], fallback: T) -> T:
    try:
        return build()
    except BadInputError as exc:
        log.warning("a concept card's search failed: %s", exc.message)
        return fallback


def card_of(kb: KnowledgeBase, concept_id: str) -> ConceptCard:
    """The card of one concept, as :func:`concept_cards` builds it: with the definitions
    of the concepts before it taken, so that it quotes the same one as the page."""
    taken: set[tuple[str, int]] = set()
    for concept in kb.glossary.cards:
        if concept.id == concept_id:
            return concept_card(kb, concept, taken)
        _or_none(lambda: definition(kb, concept, taken), None)  # noqa: B023 - called now
    raise NotFoundError(f"the glossary has no concept {concept_id!r}")


def concept_cards(kb: KnowledgeBase) -> list[ConceptCard]:
    """One card per concept of the knowledge base's glossary, in glossary order; no
    sentence defines two concepts."""
    taken: set[tuple[str, int]] = set()
    return [concept_card(kb, c, taken) for c in kb.glossary.cards]
