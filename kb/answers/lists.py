"""Lists in the passages: their lead-ins and items, the list a question names by
its title, and when an answer quotes one whole (step 5 of :mod:`kb.answers`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from kb import chunking
from kb.answers.candidates import _Candidate
from kb.answers.coverage import _analyzed
from kb.results import Hit

if TYPE_CHECKING:
    from kb.core import KnowledgeBase


MAX_LIST_ITEMS = 6  # items (lines), not sentences: a longer list is not quoted whole
MAX_WITH_LIST = 8  # sentences in an answer that quotes a whole list
# The question's coverage by a list's heading (its words, IDF-weighted) that makes the
# heading the list's lead-in: the question asks for what the list holds.
LIST_HEADING_COVERAGE = 0.75
TITLED_LIST_RANKS = 3  # passages searched for a list the question names
# An item leading the answer stands for its list when a sibling is among this many
# best-scored sentences.
SIBLING_RANKS = 3


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


def _later_in_item(c: _Candidate) -> bool:
    """Whether ``c`` is a list item's second sentence or later: it goes on from the
    item's label, which it does not repeat."""
    line = _line_start(c)
    return (c.start - c.hit.start != line
            and chunking.is_list_item(c.hit.text[line:].split("\n", 1)[0]))


def _in_list(c: _Candidate) -> bool:
    """Whether ``c`` is a list's item or part of its lead-in."""
    return any(lst.lead_a <= c.start < lst.end for lst in _lists(c.hit))


def _list_at(c: _Candidate, cands: list[_Candidate]) -> _List | None:
    """The list whose items ``c`` is part of, if any, with its rest in ``cands``'
    passages (:func:`_joined`)."""
    lst = next((x for x in _lists(c.hit) if x.items_a <= c.start < x.end), None)
    return _joined(lst, cands) if lst is not None else None
