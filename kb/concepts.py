"""Concept cards for onboarding: each glossary concept with its definition and sources.

A card holds the concept's terms in ko/en/de/vi, a one-sentence extractive definition
(the sentence of the answer to "What is <English name>?" that best says what the
concept is, or none), and the best passage in each language. A language whose best
passage fails the same calibrated evidence test that decides an answer's ``found`` is a
coverage gap: "no Vietnamese source on cross-selling yet".
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypeVar

from kb import answers, definitions, snippets
from kb.answers.coverage import _analyzed, _term_present
from kb.chunking import section_at
from kb.errors import BadInputError, NotFoundError
from kb.glossary import Concept, fold
from kb.language import LANG_NAMES, SUPPORTED
from kb.results import Hit
from kb.sentences import BULLET

if TYPE_CHECKING:
    from kb.core import KnowledgeBase

__all__ = ["ConceptCard", "LangSource", "about", "best_sentence", "card_of", "concept_card",
           "concept_cards", "line_rank", "mentions", "question", "says", "sentence_rank"]

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
    # Each passage's sentence to show and the concept's words in it, as search results
    # have them (kb.snippets), then, in each, the sentence that best says what the
    # concept is, and the passage whose sentence is most about it.
    # All the concept's words are marked, not only the name searched for.
    runs = snippets.concept_runs(concept, lang)
    hits = [replace(h, marks=tuple(snippets.mark_spans(h.text, lang, runs)))
            for h in kb.snippets(result.searched, result.hits)]
    rows = kb.store.chunk_sentences([h.chunk_id for h in hits])
    hits = [best_sentence(concept, lang, h, rows.get(h.chunk_id, []), kb.glossary.match)
            for h in hits]
    chosen = about(kb, concept, lang, hits)
    # The passage shown must also pass the calibrated evidence test: "Upselling" alone
    # is close enough in vector space to "Upstream Marketing Examples" (evidence 0.84,
    # all of it dense) for a card to list an article that never mentions upselling,
    # hiding a gap (QA). The test is of that passage, not of search's first: with 20
    # articles added, "구매자 페르소나" ranked a launch checklist's "첫 구매자" first
    # (coverage 0), and the Buyer persona card said no Korean source though its Korean
    # line, "- 타겟 고객 식별: …", was still there (QA25 F3).
    qvec = kb.encoder.encode([result.query], kind="query")[0]
    ev = answers.evidence(kb, result.query, qvec, lang, [chosen or result.hits[0]],
                          langs=[lang])
    if chosen is None or not (ev.score >= ev.threshold and ev.coverage > 0):
        return LangSource(lang, query, None, ev)
    return LangSource(lang, query, chosen, ev)


def best_sentence(concept: Concept, lang: str, hit: Hit,
                   rows: Sequence[tuple[int, int, object]],
                   match: Callable[[str], list[Concept]] | None = None) -> Hit:
    """``hit`` with the sentence that best says what ``concept`` is as its snippet
    (:func:`sentence_rank`, then, failing any, a sentence under a heading that names it,
    :func:`line_rank`); among equals one that names it by its own name before one that
    uses a looser term, one that names no other concept (``match``: the glossary's,
    when given) before one that does, then the one holding most of its marked text
    (``hit.marks``: the concept's words), then its search snippet, then the first in
    reading order; its search snippet when no sentence is about the concept. QA21 F6:
    the snippet is the sentence holding most of the concept's words, and the German and
    Vietnamese Downstream lines were "Alles, was der Marketingleiter tut, … ist eine
    nachgelagerte Aktivität" and a sentence on designing materials, where the passages
    open with the definition ("Die nachgelagerten Aktivitäten konzentrieren sich auf den
    kurzfristigen Vertrieb …")."""
    headings = set(hit.sections)
    best: tuple[tuple[int, ...], tuple[int, int]] | None = None
    for order, (start, end, _) in enumerate(rows):
        if not (hit.start <= start < end <= hit.end
                and snippets.readable(hit, start, end, headings)):
            continue
        a, b = start - hit.start, end - hit.start
        sentence = hit.text[a:b]
        rank = line_rank(concept, lang, sentence, section_at(hit.text, hit.section, a))
        if rank is not None:
            loose = _by_name(concept, sentence, lang)
            others = _others(concept, sentence, match)
            marked = sum(max(0, min(b, y) - max(a, x)) for x, y in hit.marks)
            key = (rank, loose, others, -marked, 0 if (a, b) == hit.snippet else 1, order)
            if best is None or key < best[0]:
                best = (key, (a, b))
    return hit if best is None else replace(hit, snippet=best[1])


def sentence_rank(concept: Concept, sentence: str, lang: str) -> int | None:
    """How well ``sentence`` (in ``lang``) says what ``concept`` is, smaller better: 0-2
    :func:`kb.definitions.kind` (defines it, a list item labelled with its name, has it
    as its subject), 3 it names the concept by a term of ``lang``, 4 it does but is
    about something else (an item labelled with something else, "- 평균 주문 금액:
    크로스셀링으로 …"), 5 it names it and states nothing: a question, or a table row
    ("Target Audience | New markets and segments | Current customers |" was the Existing
    customers card's English line, QA21 F6: its cells say nothing alone); None when it
    does not name it by a whole term of ``lang`` (:func:`says`), or when it points back
    ("이는 사고 리더십의 중요성을 보여주며, …" was the Thought leadership card's Korean
    line, QA25 F3: alone it says nothing of what "이는" is)."""
    if not says(concept, sentence, lang) or _POINTS_BACK.match(sentence):
        return None
    text = sentence.strip()
    if text.count("|") >= 2 or text.endswith(("?", "？")):
        return 5
    if _labelled_otherwise(concept, sentence, lang):
        return 4
    found = definitions.kind(concept, sentence, lang)
    return 3 if found is None else found


def line_rank(concept: Concept, lang: str, sentence: str, heading: str) -> int | None:
    """:func:`sentence_rank`, or 6 for a sentence that does not name the concept but sits
    under a heading that names it by its own name (the German e-mail article names
    E-Mail-Marketing in its title only, and opens "E-Mail ist … einer der rentabelsten
    Kanäle im Online-Marketing."); None for any other sentence, which a card never shows
    (QA25 F3: the Buyer persona card's German line was "Zwei 40-jährige Männer mit
    gleichem Einkommen können völlig unterschiedlich einkaufen.", for its passage named
    the Zielgruppe elsewhere). A looser term in the heading is not enough: under
    "Marktsegmentierung: Zielgruppen sinnvoll einteilen" that card's line became "Kein
    Produkt passt zu allen Kunden."."""
    rank = sentence_rank(concept, sentence, lang)
    if rank is not None:
        return rank
    if (heading and not _by_name(concept, heading, lang)
            and not _POINTS_BACK.match(sentence)):
        return 6
    return None


def about(kb: KnowledgeBase, concept: Concept, lang: str, hits: list[Hit]) -> Hit | None:
    """The hit whose sentence (``Hit.snippet``) is most about ``concept``, in ``lang``:
    first by :func:`sentence_rank` (one that defines it, then a list item labelled with
    it, then one with it as its subject, then one that only names it by a term of
    ``lang``), one naming it by its name before one using a looser term, one naming no
    other concept before one that does, under a heading that
    names it and no other concept before one under a heading that also names others,
    before one under any heading; then a hit whose sentence names it but is about
    something else, then one whose sentence (a table row, a question) names it and says
    nothing, then one whose heading alone names it; among equals, the better ranked.
    None when no hit's sentence is about it (:func:`line_rank`): the language is then a
    gap, since a card shows no sentence that is not about the concept (QA19 F9: the
    Marketing director card's German line was the article's intro, which never says
    "Marketingleiter"; QA25 F3: lines that named no term of the concept, or one only as
    part of another word, "Wettbewerb" for the Wettbewerbsanalyse)."""
    best: tuple[tuple[int, ...], Hit] | None = None
    for rank, hit in enumerate(hits):
        key = _aboutness(kb, concept, lang, hit)
        if key is not None and (best is None or (*key, rank) < best[0]):
            best = ((*key, rank), hit)
    return best[1] if best else None


def mentions(concept: Concept, lang: str, hits: Sequence[Hit]) -> bool:
    """Whether any of ``hits`` names ``concept`` by a term of ``lang`` anywhere, its
    headings included: what :func:`about` accepted before QA25 F3, when a passage
    naming the concept outside its shown sentence was a card's line. That is too loose
    for a line, not for saying that a language has passages on the concept at all."""
    return any(_names(concept, h.text, lang, own=True)
               or _names(concept, section_at(h.text, h.section, (h.snippet or (0, 0))[0]),
                         lang, own=True)
               for h in hits)


def _aboutness(kb: KnowledgeBase, concept: Concept, lang: str,
               hit: Hit) -> tuple[int, ...] | None:
    """How little ``hit``'s sentence is about ``concept`` (smaller is more), or None
    when it is not about it at all."""
    if hit.snippet is None:
        return None
    a, b = hit.snippet
    sentence = hit.text[a:b]
    heading = section_at(hit.text, hit.section, a)
    rank = line_rank(concept, lang, sentence, heading)
    if rank is None:
        return None
    if rank <= 3:
        headed = bool(heading) and says(concept, heading, lang)
        alone = headed and not any(c.id != concept.id and c.subject
                                   for c in kb.glossary.match(heading))
        return (rank, _by_name(concept, sentence, lang),
                _others(concept, sentence, kb.glossary.match), 0 if alone else 1 if headed else 2)
    return (rank, 0, 0, 0)


def _others(concept: Concept, sentence: str,
            match: Callable[[str], list[Concept]] | None) -> int:
    """1 when ``sentence`` also names another concept a card or question can be about,
    else 0: "충성도 프로그램과 크로스셀링 전략의 통합은 …" is about combining the two, and
    was the Cross-selling card's Korean line while "성공적인 크로스셀링 전략은 철저한
    고객 분석에서 시작됩니다." names cross-selling alone (QA25 F3)."""
    if match is None:
        return 0
    return int(any(c.id != concept.id and c.subject for c in match(sentence)))


# A list whose lead-in or heading says its items are something's benefits or roles:
# "Benefits of Downstream Marketing:", "충성도 프로그램의 역할은 다음과 같습니다:".
_ROLES = re.compile(r"benefit|advantage|\brole|역할|장점|이점|혜택|vorteil|nutzen|\brolle\b"
                    r"|lợi ích|ưu điểm|vai trò", re.IGNORECASE)


def _lists_what_another_does(concept: Concept, hit: Hit, start: int) -> bool:
    """Whether the list item at ``start`` (an offset into the article) is in a list of
    another thing's benefits or roles: its label is then what that thing brings, not a
    concept it defines. "- 고객 유지: 충성도 프로그램이 있는 고객은 … 이탈 속도가
    낮아지며 …" is a role of the loyalty programme, and "- Customer Retention:
    Strengthens relationships …" a benefit of downstream marketing; each was the
    Customer retention card's definition (QA25 F3)."""
    local = start - hit.start
    lines = [x.strip() for x in hit.text[:local].splitlines()]
    lead = next((x for x in reversed(lines) if x and not BULLET.match(x)), "")
    heading = section_at(hit.text, hit.section, local)
    return any(_ROLES.search(t) and not says(concept, t, hit.lang) for t in (lead, heading))


def _by_name(concept: Concept, sentence: str, lang: str) -> int:
    """0 when ``sentence`` names the concept by its own name in ``lang`` (the name,
    without or within its brackets, or the first term), 1 when only by a looser term:
    "기본 전략에는 시장 조사, 경쟁사 분석, …" names the Competitive analysis, "… 경쟁사
    비교표를 배포한다" only competitors."""
    name = concept.names.get(lang, "")
    own = (re.sub(r"\s*\([^)]*\)", "", name).strip(), *re.findall(r"\(([^)]*)\)", name),
           *(concept.terms.get(lang) or ())[:1])
    pattern = _term_pattern(tuple(o for o in own if o), lang)
    return 0 if pattern is not None and pattern.search(sentence) else 1


def _labelled_otherwise(concept: Concept, sentence: str, lang: str) -> bool:
    """A list item labelled with something else ("- 평균 주문 금액: 크로스셀링으로 …"):
    about its label, not about the concept it mentions ("- Buyer Persona Development:
    …" is about the buyer persona)."""
    text = BULLET.sub("", sentence)
    return (text != sentence and ":" in text
            and not says(concept, text.split(":", 1)[0], lang))


# A definition has to stand alone: a sentence that opens by pointing back at the one
# before it ("이는 ...", "This ...", "Dies ...") means little on a card.
_POINTS_BACK = re.compile(
    r"^(?:[-*•·▪–]\s+|\d{1,2}[.)]\s+)?(?:이는|이것은|이러한|이를|이와|그것은|이|그"
    r"|여기에는|여기에서는|여기서는"  # "here" is the list or section before (QA25 F3)
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
        if kind == 1 and _lists_what_another_does(concept, c.hit, s.start):
            kind = None
        if kind is not None:
            order = articles.setdefault(c.hit.article_id, len(articles))
            ranked.append(((kind, order, s.start), c, s, key))
    if not ranked:
        return None
    _, c, s, key = min(ranked, key=lambda r: r[0])
    if taken is not None:
        taken.add(key)
    return answers.Citation(c.n, c.hit, ((s.start, s.end),))


def says(concept: Concept, text: str, lang: str) -> bool:
    """Whether ``text`` (in ``lang``) names ``concept`` by a whole term of ``lang``: as
    written, its words in order, with an inflection at most ("KPIs", "Wettbewerbern",
    Korean particles: "크로스셀링의"). Not part of another word: "weniger Wettbewerb"
    is not "Wettbewerber", and was the Competitive analysis card's German line (QA25
    F3, its stem matched), nor the words apart: "개인화된 마케팅 이메일" is no "이메일
    마케팅", "a procurement director" no "marketing director". German may write it as
    a compound's head ("Marktsegmentierung", a kind of Segmentierung), not as its
    modifier ("Kundenbindungsprogramm")."""
    pattern = _term_pattern(tuple(concept.terms.get(lang) or ()), lang)
    return pattern is not None and pattern.search(text) is not None


# What may follow a term in the same word: an inflection in the Latin-script languages,
# any particle in Korean (크로스셀링을, 기존 고객층).
_INFLECTED = {"en": r"(?:s|es|['’]s)?", "de": r"(?:s|es|n|en|e|er|em|ern)?", "vi": ""}


@functools.lru_cache(maxsize=512)
def _term_pattern(terms: tuple[str, ...], lang: str) -> re.Pattern[str] | None:
    if not terms:
        return None
    words = []
    for term in sorted(terms, key=len, reverse=True):
        body = re.escape(term).replace(r"\-", r"[-\s]?").replace(r"\ ", r"[-\s]+")
        head = lang == "de" and not re.search(r"\s", term)  # a compound's head
        words.append(("" if head else r"(?<![^\W_])") + body)
    end = r"(?![^\W_])" if lang in _INFLECTED else ""
    return re.compile(rf"(?:{'|'.join(words)}){_INFLECTED.get(lang, '')}{end}", re.IGNORECASE)


def _names(concept: Concept, sentence: str, lang: str, *, own: bool = False) -> bool:
    """Whether ``sentence`` (in ``lang``) names ``concept`` by one of its terms: in any
    language, or (``own``) in ``lang`` only."""
    folded = fold(sentence)
    words = _analyzed(sentence, lang)
    return any(
        _term_present(term, term_lang, words if term_lang == lang else frozenset(),
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
