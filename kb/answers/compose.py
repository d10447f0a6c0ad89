"""What comes with the picked sentences: what they point back at, a compared table,
a section or introduction that answers whole, table headers, the reading order, and
the citations (step 6 of :mod:`kb.answers`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from kb import outline
from kb.answers.candidates import (
    _ADDS,
    _ANAPHOR,
    _CONTINUES,
    _CONTRAST,
    _before,
    _Candidate,
    _candidates,
    _first_in,
    _passage_candidates,
    _rows_that_name_the_question,
    _section,
    _section_end,
)
from kb.answers.lists import (
    MAX_LIST_ITEMS,
    MAX_WITH_LIST,
    TITLED_LIST_RANKS,
    _first_sentences,
    _in_list,
    _later_in_item,
    _list_at,
    _Units,
    _whole,
    _whole_lists,
)
from kb.answers.model import AnswerSentence, Citation
from kb.answers.state import _State
from kb.results import Hit

if TYPE_CHECKING:
    from kb.core import KnowledgeBase


FURTHER_PASSAGES = 20  # where a comparing question looks for its table beyond its own
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
        if not (contrast or _ANAPHOR.match(c.text) or _ADDS.match(c.text)
                or _CONTINUES.search(c.text)):
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
            # A chain held together only by sentences that say the one before again
            # in other words ("… 것이죠") is one statement, quoted whole.
            group = _pointed_at(before, cands)
            if (len(group) > 1 and all(group[0] is not y for y in chosen + out)
                    and any(_ANAPHOR.match(x.text) for x in group[1:])):
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
    """``before`` and, while it points back too (or says the one before it again,
    :data:`_CONTINUES`), the sentences right before it in its passage (two at most), in
    text order."""
    group = [before]
    while len(group) < 3 and (
            (_ANAPHOR.match(group[0].text) and not _CONTRAST.match(group[0].text))
            or _CONTINUES.search(group[0].text)):
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
        sentences.append(AnswerSentence(c.text, (n,), c.start, c.end, _later_in_item(c),
                                        c.table))
    citations = tuple(Citation(n, hits[n], tuple(sorted(spans[n])), tuple(sorted(aligned[n])))
                      for n in sorted(spans))
    return citations, tuple(sentences)
