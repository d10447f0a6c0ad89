""":func:`answer`: search, the evidence test, then the sentences picked, completed and
cited, as :mod:`kb.answers` describes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from kb import answer_lang, definitions, language
from kb import twins as twins_of
from kb.answers.candidates import _Candidate, _candidates, _rows_that_name_the_question
from kb.answers.compose import (
    _antecedents,
    _arrange,
    _cite,
    _compared_table,
    _compared_table_further,
    _each_compared,
    _introduction,
    _titled_section,
    _what_follows,
    _with_headers,
)
from kb.answers.coverage import query_terms
from kb.answers.evidence import evidence, topicless
from kb.answers.lists import (
    _COMPARES,
    MAX_WITH_LIST,
    _in_list,
    _led_list,
    _titled_list,
    _Units,
)
from kb.answers.messages import _count, _elsewhere, _filters, _not_found_message, _outside
from kb.answers.model import PASSAGES, Answer, AnswerConfig, Citation
from kb.answers.scoring import _select
from kb.answers.state import _state

if TYPE_CHECKING:
    from kb.core import KnowledgeBase
    from kb.glossary import Concept


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
                  **rewritten, languages=langs_of,
                  # Only for the note: an undefined compared concept does not make an
                  # article's introduction open the answer, which would lose the other.
                  undefined=undefined or _compared_undefined(kb, sq, qlang, cands))


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
    return _named(concept, qlang)


def _named(concept: Concept, qlang: str) -> tuple[str, str]:
    return concept.id, concept.names.get(qlang) or concept.names.get("en") or concept.id


def _compared_undefined(kb: KnowledgeBase, question: str, qlang: str,
                        cands: list[_Candidate]) -> tuple[str, str] | None:
    """Of the concepts a comparing question names, the first that no passage says what
    it is: neither one of the answer's, nor one of those the question of its card finds
    (a comparison's passages compare, and the definitions are elsewhere: "Downstream
    marketing is more tactical …" is not among those of "What is the difference between
    upstream and downstream marketing?"). QA25 F6: "크로스셀링과 업셀링의 차이는
    무엇인가요?" quoted what upselling is and its tactics, and no article says what
    cross-selling is: a new marketer took upselling for the whole answer."""
    from kb import concepts  # it imports this package

    glossary = getattr(kb, "glossary", None)
    compared = [c for c in glossary.match(question) if c.card] if glossary else []
    if len(compared) < 2 or not _COMPARES.search(question):
        return None
    for concept in compared:
        if any(definitions.kind(concept, c.text, c.hit.lang) is not None for c in cands):
            continue
        asked = concepts.question(concept, qlang)
        hits = kb.search(asked, k=PASSAGES).hits if asked else []
        if not any(definitions.kind(concept, c.text, c.hit.lang) is not None
                   for c in _candidates(hits)):
            return _named(concept, qlang)
    return None


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
