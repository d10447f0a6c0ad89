"""View models: everything the templates show, prepared as plain dicts and lists.

Templates only loop and branch over what these functions return; all slicing,
highlighting and link building happens here.
"""

from __future__ import annotations

import re
import time
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from kb import adding, chunking, concepts, snippets, twins
from kb.answer_lang import same_question
from kb.core import clean_query
from kb.errors import BadInputError, NotFoundError, StaleError
from kb.language import LANG_NAMES, SUPPORTED
from kb.links import (  # noqa: F401 (kb.links: the CLI builds them too; web.api imports them here)
    article_href,
    ask_href,
    card_json,
    concept_anchor,
    concept_href,
)
from kb.results import Hit
from web import ranking, uploads
from web.marks import link_marks

if TYPE_CHECKING:
    from kb.adding import AddResult
    from kb.answer_lang import Languages
    from kb.answers import Answer
    from kb.concepts import ConceptCard
    from kb.core import KnowledgeBase
    from kb.errors import KBError
    from kb.settings import Settings
    from kb.store import ChunkRow
    from web.uploads import ArticleInput

NATIVE_NAMES = {"ko": "한국어", "en": "English", "de": "Deutsch", "vi": "Tiếng Việt"}

# Onboarding: one or two questions per language, some answered only in another language.
EXAMPLES: list[dict[str, str]] = [
    {"lang": "ko", "text": "업스트림과 다운스트림 마케팅의 차이는?"},
    {"lang": "ko", "text": "브랜드 메시지를 고객 세그먼트에 전달하는 방법"},
    {"lang": "en", "text": "Which KPIs should I track for cross-selling?"},
    {"lang": "en", "text": "What is upstream marketing?"},
    {"lang": "de", "text": "Was ist Bündelung von Produkten beim Cross-Selling?"},
    {"lang": "de", "text": "Wie sollte das Marketing mit dem Vertriebsteam zusammenarbeiten?"},
    {"lang": "vi", "text": "Tiếp thị hạ nguồn là gì?"},
    {"lang": "vi", "text": "Upselling là gì?"},
]

_BULLET = re.compile(r"^[-*•·▪–]\s+")
_NUMBERED_ITEM = re.compile(r"^\d{1,2}[.)]\s+\S")  # "1. Market research" (not "2.3 billion")
EXCERPT_CONTEXT = 240  # characters of passage shown on each side of a cited sentence
SNIPPET_BEFORE = 60  # characters shown before a listed hit's best sentence
_MARK_OPEN, _MARK_CLOSE = "\ue000", "\ue001"
_EDGE_MARKS = re.compile(f"([\\s{_MARK_OPEN}{_MARK_CLOSE}]*)(.*?)([\\s{_MARK_OPEN}{_MARK_CLOSE}]*)",
                         re.S)


def lang_chips(selected: list[str] | None) -> list[dict[str, Any]]:
    chosen = set(selected or [])
    return [
        {"code": c, "name": LANG_NAMES[c], "native": NATIVE_NAMES[c], "checked": c in chosen}
        for c in SUPPORTED
    ]


# kb.answers' filtered misses that others answer: "… in the chosen languages (German),
# but …" and "… in the chosen articles (tagged pricing), but …".
ELSEWHERE = "No good answer in the chosen "


_WORDS = re.compile(r"[^\W_]+")


def rewritten_parts(query: str, searched: str) -> list[dict[str, Any]]:
    """``searched`` (the query as corrected) as parts to show, the words it changed
    flagged, so that the page can mark what it searched for instead. A correction
    replaces word for word."""
    typed = _WORDS.findall(query)
    parts, at = [], 0
    for i, m in enumerate(_WORDS.finditer(searched)):
        parts += [{"text": searched[at:m.start()], "changed": False},
                  {"text": m.group(), "changed": i >= len(typed) or typed[i] != m.group()}]
        at = m.end()
    return [p for p in [*parts, {"text": searched[at:], "changed": False}] if p["text"]]


TITLE_CHARS = 80  # of a question shown in the page title (a tab or a history entry)


def page_title(question: str | None) -> str:
    """The Ask page's title: the question as searched, shortened, or "Ask" for none (QA:
    a blank one left the title a bare "· kb …", a 2,000-character one a 2,000-character
    title; QA21 F11: its markup was kept, where the heading leaves it out). The box
    keeps the question as typed, to edit."""
    words = clean_query(question or "")
    if not words:
        return "Ask"
    return words if len(words) <= TITLE_CHARS else words[: TITLE_CHARS - 1].rstrip() + "…"


def _trim_left(text: str, limit: int) -> tuple[str, bool]:
    """The last ``limit`` characters of ``text``, cut at a space; and whether it was cut."""
    if len(text) <= limit:
        return text, False
    cut = text[-limit:]
    space = cut.find(" ")
    return (cut[space + 1 :] if 0 <= space < 40 else cut), True


def _trim_right(text: str, limit: int) -> tuple[str, bool]:
    if len(text) <= limit:
        return text, False
    cut = text[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit - 40 else cut), True


_unmark = chunking.unmark


def _plain(text: str) -> str:
    """A passage as a one-line snippet or a card reads it: no heading marks, and a
    table's rows as cells separated by "·" without the "---|---" rule (QA: "Aspect |
    Upstream Marketing | … ---|---|---"). The private-use characters that hold marks
    (_MARK_OPEN, _MARK_CLOSE) are kept, a rule's too."""
    lines = []
    for line in _unmark(text).splitlines():
        bare = line.replace(_MARK_OPEN, "").replace(_MARK_CLOSE, "")
        if _TABLE_RULE.match(bare):
            line = "".join(ch for ch in line if ch in (_MARK_OPEN, _MARK_CLOSE))
            if not line:
                continue
        elif bare.count("|") >= 2:
            lead, row, trail = _EDGE_MARKS.fullmatch(line).groups()  # type: ignore[union-attr]
            line = lead + " · ".join(
                cell.strip() for cell in row.strip().strip("|").split("|")) + trail
        lines.append(line)
    return "\n".join(lines)


def _marked_parts(pieces: Sequence[tuple[str, bool]], *,
                  one_line: bool = False) -> list[dict[str, Any]]:
    """``pieces`` (text, marked) made plain as a whole (_plain: a mark may begin in one
    table row and end in the next), as parts; with ``one_line``, line breaks and runs of
    spaces as one space."""
    joined = "".join(f"{_MARK_OPEN}{piece}{_MARK_CLOSE}" if mark else piece
                     for piece, mark in pieces)
    plain = _plain(joined)
    if one_line:
        plain = " ".join(plain.split())
    parts = [{"text": chunk, "mark": i % 2 == 1}
             for i, chunk in enumerate(re.split(f"[{_MARK_OPEN}{_MARK_CLOSE}]", plain))]
    return [p for p in parts if p["text"]]


def excerpt(hit: Hit, spans: Sequence[tuple[int, int]]) -> dict[str, Any]:
    """The passage with its cited sentences (local offsets, in order) marked, trimmed for
    a card: some context either side, and long stretches between marks shortened."""
    text = hit.text
    before, cut_before = _trim_left(text[: spans[0][0]], EXCERPT_CONTEXT)
    pieces = [(before, False)]
    for i, (a, b) in enumerate(spans):
        pieces.append((text[a:b], True))
        if i + 1 < len(spans):
            gap = text[b : spans[i + 1][0]]
            head, cut = _trim_right(gap, EXCERPT_CONTEXT // 2)
            if cut and len(gap) > EXCERPT_CONTEXT:
                gap = head + " … " + _trim_left(gap, EXCERPT_CONTEXT // 2)[0]
            pieces.append((gap, False))
    after, cut_after = _trim_right(text[spans[-1][1] :], EXCERPT_CONTEXT)
    pieces.append((after, False))
    # A table's rows as the passage lists show them (QA19: a card quoting the comparison
    # table showed "Aspect | Upstream Marketing |" and its "---|---" rule).
    return {"parts": _marked_parts(pieces), "cut_before": cut_before,
            "cut_after": cut_after}


def _sections(hit: Hit) -> str:
    """What labels a listed passage: the heading its shown sentence sits under, as the
    CLI and the JSON's ``snippet_section`` say (QA21 F9: three labels for one hit);
    without a sentence, the sections it runs through, "A → B" (one that starts under
    "상류 마케팅" and is mostly about "다운스트림 마케팅" was labelled with the first
    alone, QA)."""
    if hit.snippet_section:
        return hit.snippet_section
    names = hit.sections
    return " → ".join(names if len(names) <= 3 else [names[0], "…", names[-1]])


def hit_view(hit: Hit, *, limit: int = 2 * EXCERPT_CONTEXT,
             sentence_only: bool = False) -> dict[str, Any]:
    """A hit in a list: its best sentence with some context and the query's words marked
    when search gave them (kb.snippets), else the passage's start. ``sentence_only``:
    the sentence alone (up to twice ``limit``), as a concept card shows it."""
    if hit.snippet is None:
        text, cut = _trim_right(" ".join(_plain(hit.text).split()), limit)
        parts, cut_before = [{"text": text, "mark": False}], False
        span = (hit.start, hit.end)
    else:
        parts, cut_before, cut = _snippet_parts(hit, hit.snippet, limit,
                                                sentence_only=sentence_only)
        span = (hit.start + hit.snippet[0], hit.start + hit.snippet[1])
    return {
        "title": hit.title, "article_id": hit.article_id, "lang": hit.lang,
        "lang_name": LANG_NAMES.get(hit.lang, hit.lang), "section": _sections(hit),
        "parts": parts, "cut_before": cut_before, "cut": cut,
        # Marked on the article page, as a citation's passage is (QA: only its "also in"
        # links marked theirs): the sentence shown.
        "href": article_href(hit.article_id, chunk_id=hit.chunk_id, start=hit.start,
                             span=span),
    }


def _snippet_parts(hit: Hit, snippet: tuple[int, int], limit: int, *,
                   sentence_only: bool = False) -> tuple[list[dict[str, Any]], bool, bool]:
    """The hit's best sentence and what follows it up to ``limit`` characters, with a
    little of what precedes it (``sentence_only``: the sentence alone), as parts marked
    where the query's words stand; and whether text was left out before and after."""
    text = hit.text
    a, b = snippet
    start = a if sentence_only else max(0, a - SNIPPET_BEFORE)
    if start:  # at a word boundary
        space = text.find(" ", start, a)
        start = space + 1 if space >= 0 else a
    # Up to ``limit`` characters, the sentence's end beyond them too, unless it runs on
    # past twice that (QA18: a 1,200-character paragraph with no full stop was all shown).
    end = min(len(text), max(min(b, start + 2 * limit), start + limit))
    if sentence_only:
        end = min(b, start + 2 * limit)
    if end < len(text) and end != b:
        low = max(b, end - 40) if b <= end else end - 40  # the sentence whole if it fits
        space = text.rfind(" ", low, end)
        end = space if space > a else end
    parts = _marked_parts(snippets.marked(text, hit.marks, start, end), one_line=True)
    if sentence_only:  # a whole sentence needs no "…", a long one cut short does
        return parts, False, end < b
    return parts, start > 0, end < len(text)


def answer_view(ans: Answer,
                also: dict[int, list[dict[str, Any]]] | None = None) -> dict[str, Any]:
    """The answer for the ask page; ``also`` maps a cited chunk to its "also in" links.
    The passages listed below it are the search ranking's (web.ranking)."""
    also = also or {}
    cited = {c.n: c for c in ans.citations}
    sentences = [
        {
            "text": _BULLET.sub("", s.text),  # the bullet goes: the list markup says it
            "item": bool(_BULLET.match(s.text) or _NUMBERED_ITEM.match(s.text)),
            "lang": cited[s.citations[0]].hit.lang if s.citations else ans.lang,
            "citations": [
                {"n": n, "href": f"#cite-{n}", "title": cited[n].hit.title,
                 "label": f"source {n}: {cited[n].hit.title}", "repeat": False}
                for n in s.citations
            ],
            "in_item": s.in_item,
            "article": cited[s.citations[0]].hit.article_id if s.citations else None,
            "table": s.table,
            "cells": [{"text": s.text[lo:hi]} for lo, hi in _cells(s.text, 0, len(s.text))]
            if s.table else [],
        }
        for s in ans.sentences
    ]
    # Prose runs are paragraphs and list items a list: three benefits ran together as
    # one paragraph ("...short-term sales.[1] Customer Retention: ...").
    blocks: list[dict[str, Any]] = []
    for sent in sentences:
        last = blocks[-1] if blocks else None
        # A table's quoted rows are a table, under the header row quoted with them.
        if sent["table"]:
            if sent["table"] == "header" or last is None or not last.get("table"):
                blocks.append({"table": True, "list": False, "entries": [], "rows": []})
            head = sent["table"] == "header"  # its rows cite the passage
            blocks[-1]["rows"].append(
                sent | {"head": head, "citations": [] if head else sent["citations"]})
            blocks[-1]["entries"].append([sent])
            continue
        same_article = last is not None and last["entries"][-1][-1]["article"] == sent["article"]
        if sent["in_item"] and last is not None and last["list"] and same_article:
            last["entries"][-1].append(sent)  # a later sentence of the item above (QA)
            continue
        # Items of another article start another list (QA: "1. Collect baseline metrics."
        # from another article read as a fifth KPI); of another passage of the same
        # article, they go on with it (a list the chunker split: five steps read as
        # two lists).
        # Prose in another language is a paragraph of its own (QA13: Korean sentences
        # inside an English paragraph read as broken).
        if (last is None or last.get("table") or last["list"] != sent["item"]
                or (sent["item"] and not same_article)
                or (not sent["item"] and last["entries"][-1][-1]["lang"] != sent["lang"])):
            blocks.append({"list": sent["item"], "entries": []})
        if sent["item"] or not blocks[-1]["entries"]:
            blocks[-1]["entries"].append([])
        blocks[-1]["entries"][-1].append(sent)
    for block in blocks:  # a paragraph is its sentences; a list, its items' sentences
        block["sentences"] = [x for item in block["entries"] for x in item]
        if block.get("table"):
            _label_cells(block["rows"], lambda cell: cell["text"])
    _first_markers(blocks)
    _number_tables(blocks)
    cards = []
    for c in ans.citations:
        cards.append({
            "n": c.n, "title": c.hit.title, "lang": c.hit.lang,
            "lang_name": LANG_NAMES.get(c.hit.lang, c.hit.lang),
            # Every heading its quoted sentences sit under, as a listed passage without a
            # sentence is labelled (QA25 F10: the first alone hid the formula's section).
            "section": " → ".join(c.quoted_sections),
            "excerpt": excerpt(c.hit, c.local_spans),
            "href": article_href(c.hit.article_id, chunk_id=c.hit.chunk_id, start=c.hit.start,
                                 spans=c.spans),
            "also": also.get(c.hit.chunk_id, []),
        })
    # The page heads a miss with "No good answer in …", so the message's own "No good
    # answer" would say it twice. A miss in the chosen languages that others answer
    # gets a link that asks again in all of them.
    elsewhere = ans.message.startswith(ELSEWHERE)
    detail = (ans.message.split("), but ", 1)[-1] if elsewhere
              else ans.message.removeprefix("No good answer: "))
    return {
        "query": ans.query, "lang": ans.lang, "lang_name": LANG_NAMES.get(ans.lang, ans.lang),
        "restored": ans.restored, "found": ans.found, "message": ans.message,
        "corrected": ans.corrected,
        "corrected_parts": rewritten_parts(ans.query, ans.corrected) if ans.corrected else [],
        "note": ans.note,
        "concept_href": concept_href(ans.undefined[0]) if ans.undefined else None,
        "languages": languages_view(ans.languages) if ans.languages else None,
        "detail": detail[:1].upper() + detail[1:],
        "detail_parts": linked_titles(detail[:1].upper() + detail[1:], ans.passages),
        "heading": ans.message.split(" (", 1)[0] if elsewhere
        else "No good answer in the knowledge base",
        "all_href": ask_href(ans.query) if elsewhere else None,
        "all_text": "Ask in all languages",
        "blocks": blocks, "cards": cards,
    }


def _first_markers(blocks: Sequence[dict[str, Any]]) -> None:
    """Leave only the first marker of each source in the tab order (QA25 F14: an answer
    of eight sentences from one passage was eight "source 1" stops before its card).
    A repeat goes where the first goes, so a keyboard loses nothing; it stays a link
    for the mouse, and a screen reader still hears which source each sentence has,
    the title said once ("source 1: Title", then "source 1")."""
    seen: set[int] = set()
    for block in blocks:
        for line in block["rows"] if block.get("table") else block["sentences"]:
            for c in line["citations"]:
                if c["n"] in seen:
                    c["repeat"], c["label"] = True, f"source {c['n']}"
                seen.add(c["n"])


def _label_cells(rows: Sequence[dict[str, Any]],
                 name: Callable[[dict[str, Any]], str]) -> None:
    """Give each body cell of a table the name of its column (``label``: the header
    row's cell above it, ``name(cell)`` its text; "" without one). A phone shows a table
    stacked, a row a block and each cell after its column's name (QA25 F9: at 390 px the
    comparison table scrolled in a box that cut "Downstream Marketing" and hid the
    sources column), so the names must be on the cells."""
    names: list[str] = []
    for row in rows:
        if row["head"]:
            names = [name(cell) for cell in row["cells"]]
            continue
        for i, cell in enumerate(row["cells"]):
            cell["label"] = names[i] if i < len(names) else ""


def _number_tables(blocks: Sequence[dict[str, Any]]) -> None:
    """Name each table's scroll region "Table 1", "Table 2" … when a page has more than
    one (QA23b F10: the landmarks list showed several regions all named "Table")."""
    tables = [b for b in blocks if b.get("table") or b.get("tag") == "table"]
    for i, b in enumerate(tables, 1):
        b["label"] = f"Table {i}" if len(tables) > 1 else "Table"


def languages_view(langs: Languages) -> dict[str, Any]:
    """What the Ask page says above an answer of its languages (kb.answer_lang): the
    summary, and for an answer mostly in other languages than the question's, each
    concept it names in the four languages ("Bundling = 번들링 = Bündelung = Bán theo
    gói") with links to its concept card and, where articles in the asker's language
    name it, to its question in that language (QA19 F8)."""
    mine = LANG_NAMES.get(langs.lang, langs.lang)
    bridges = []
    for b in langs.bridges:
        names = dict(b.names)
        name = names.get(langs.lang) or names.get("en") or b.concept_id
        name_lang = langs.lang if names.get(langs.lang) else "en"
        # The asker's language first, then the others in the usual order.
        ordered = sorted(b.names, key=lambda ln: ln[0] != langs.lang)
        bridges.append({
            "names": [{"lang": x, "code": x.upper(), "lang_name": LANG_NAMES.get(x, x),
                       "name": n} for x, n in ordered],
            "card_href": concept_href(b.concept_id), "name": name, "name_lang": name_lang,
            "ask": b.ask, "ask_href": ask_href(b.ask) if b.ask else None,
            "missing": None if b.own or langs.own else f"No {mine} article names it yet.",
        })
    return {"summary": langs.summary, "foreign": langs.foreign, "lang": langs.lang,
            "lang_name": mine, "bridges": bridges}


def linked_titles(text: str, hits: Sequence[Hit]) -> list[dict[str, str]]:
    """``text`` as parts to show, where each “title” (id) of an article among ``hits``
    is a link to it: the no-answer message names the nearest articles, and the page
    left them as plain text (QA13). Parts: {"text"} or {"text", "href"}."""
    named = {f"“{h.title}” ({h.article_id})": h for h in hits}
    if not named:
        return [{"text": text}]
    pattern = re.compile("|".join(re.escape(k) for k in sorted(named, key=len, reverse=True)))
    parts: list[dict[str, str]] = []
    at = 0
    for m in pattern.finditer(text):
        hit = named[m.group()]
        parts += [{"text": text[at:m.start()]},
                  {"text": hit.title, "href": article_href(hit.article_id), "lang": hit.lang}]
        at = m.end()
    return [p for p in [*parts, {"text": text[at:]}] if p["text"]]


def named_concepts(parts: list[dict[str, str]], names: dict[str, str]) -> list[dict[str, str]]:
    """``parts`` (linked_titles') with each concept name the no-answer message lists
    ("… include 크로스셀링, 고객 유지.") a part of its own with its language (QA23b F1:
    the article links had one, the concept names none). ``names``: name -> language.
    Only a name in the message's list counts, after "include " or ", " and before ","
    or ".", so a word inside a title or a sentence is left alone."""
    if not names:
        return parts
    alts = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    pattern = re.compile(f"(?:(?<=include )|(?<=, ))({alts})(?=[,.])")
    out: list[dict[str, str]] = []
    for part in parts:
        if "href" in part:
            out.append(part)
            continue
        text, at = part["text"], 0
        for m in pattern.finditer(text):
            out += [{"text": text[at:m.start()]}, {"text": m.group(), "lang": names[m.group()]}]
            at = m.end()
        out.append({"text": text[at:]})
    return [p for p in out if p["text"]]


def ask_context(kb: KnowledgeBase, question: str | None, langs: list[str] | None, *,
                lang_problem: str | None = None, exact: bool = False,
                tags: Sequence[str] = (), offset: int = 0) -> dict[str, Any]:
    """The Ask page. ``lang_problem``: what is wrong with the ``lang`` values (an unknown
    code), said beside the chips with the form kept, and nothing asked. ``exact``: ask
    the question as typed (no misspelling corrected, no diacritics restored). ``tags``:
    only articles with one of these (a tag no article has is said beside the filter).
    ``offset``: the page of the search ranking listed (web.ranking); the answer heads
    the first page only."""
    ctx: dict[str, Any] = {
        "query": question or "", "title": page_title(question), "chips": lang_chips(langs),
        "tags": tag_options(kb, tags),
        # Not the question just asked (QA22 F3: "Tiếp thị hạ nguồn là gì?" was offered
        # under its own answer).
        "examples": [dict(e, href=ask_href(e["text"], langs, tags=tags),
                          lang_name=LANG_NAMES[e["lang"]]) for e in EXAMPLES
                     if not (question and same_question(question, e["text"]))],
        "answer": None, "results": None, "problem": None, "problem_field": "q",
        "query_lang": None,
        "max_chars": kb.settings.max_query_chars,
    }
    tag_problem = None
    if tags:
        try:
            kb.within(tags)
        except BadInputError as exc:
            tag_problem = exc.message
    if lang_problem is not None:
        ctx.update(problem=lang_problem, problem_field="lang")
    elif tag_problem is not None:
        ctx.update(problem=tag_problem, problem_field="tag")
    elif question is not None and not question.strip():  # "/?q=%20": the box said nothing
        ctx["problem"] = "the question is empty: type a question, or pick an example below"
    elif question is not None:
        try:
            cited: dict[int, int] = {}
            found = None
            if not offset:
                ans = kb.ask(question, langs=langs, exact=exact, tags=tags)
                ctx["answer"] = _answer_with_links(kb, ans, question, langs, exact=exact,
                                                  tags=tags)
                cited, found = {c.hit.chunk_id: c.n for c in ans.citations}, ans.found
            ctx["results"] = ranking.results_context(
                kb, question, langs, tags=tags, exact=exact, offset=offset, cited=cited,
                found=found)
        except BadInputError as exc:  # said beside the kept question, to fix it there
            ctx.update(problem=exc.message, answer=None, results=None)
            return ctx
        results = ctx["results"]
        # The box is read in the question's language (QA23b F1: a Korean question in a
        # box marked English was spelled out).
        ctx["query_lang"] = ctx["answer"]["lang"] if ctx["answer"] else results["lang"]
        if not results["hits"] and not results["beyond"]:  # nothing searched: the answer says
            ctx["results"] = None
        elif results["hits"]:
            results["hits"] = ranked_views(kb, results["hits"])
            if offset:  # a history entry or tab says which page
                ctx["title"] += f" · passages {results['first']}–{results['last']}"
    return ctx


def ranked_views(kb: KnowledgeBase, ranked: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ranked passages (web.ranking) as the page's passage lists show a hit, with
    their rank, "also in" links and the answer's citation of them."""
    aligned = adding.aligned_map(kb, [r["hit"].chunk_id for r in ranked])
    return [hit_view(r["hit"]) | {
        "rank": r["rank"], "cited": r["cited"],
        "also": also_in(kb, r["hit"].article_id, chunk_id=r["hit"].chunk_id,
                        twins=snippet_twins(kb, r["hit"], aligned)),
    } for r in ranked]


def _answer_with_links(kb: KnowledgeBase, ans: Answer, question: str,
                       langs: list[str] | None, *, exact: bool,
                       tags: Sequence[str]) -> dict[str, Any]:
    """The answer's view with its cards' "also in" links, the link that asks the
    question exactly as typed ("Searched for ...") and, for a miss in the chosen
    articles, the one that asks without the tag."""
    also = {c.hit.chunk_id: also_in(kb, c.hit.article_id, chunk_id=c.hit.chunk_id,
                                    twins=c.twins) for c in ans.citations}
    view = answer_view(ans, also)
    if not ans.found and ans.lang != "en":  # the concepts it names, in the asker's language
        names = {c.names[ans.lang]: ans.lang for c in kb.glossary.concepts
                 if c.names.get(ans.lang)}
        view["detail_parts"] = named_concepts(view["detail_parts"], names)
    if view["all_href"] and ans.message.startswith(ELSEWHERE + "articles"):
        # Other articles answer it: ask again in the same languages, without the tag.
        view |= {"all_href": ask_href(question, langs), "all_text": "Ask without the tag filter"}
    view["exact_href"] = ask_href(question, langs, exact=True, tags=tags)
    return view


def tag_options(kb: KnowledgeBase, chosen: Sequence[str]) -> list[dict[str, Any]]:
    """The Ask page's tag filter: every tag, one entry whatever its case (as the
    Library lists them), the chosen one selected; one no article has stays listed, so
    that asking again keeps it (and says again that no article has it)."""
    options = kb.tags()
    known = {t.casefold() for t in options}
    folded = {t.casefold() for t in chosen}
    options = options + [t for t in chosen if t.casefold() not in known]
    return [{"text": t, "selected": t.casefold() in folded} for t in options]


def snippet_twins(kb: KnowledgeBase, hit: Hit,
                  aligned: dict[int, set[int]]) -> tuple[tuple[int, int, int], ...]:
    """The translations of a listed passage's shown sentence in its aligned passages
    (kb.twins), which its "also in" links mark rather than the whole passage."""
    if hit.snippet is None:
        return ()
    a, b = hit.snippet
    return twins.sentence_twins(kb, hit.chunk_id, [(hit.start + a, hit.start + b)],
                                aligned.get(hit.chunk_id, ()))


# -- translation families -----------------------------------------------------------------
def _lang_order(lang: str) -> int:
    return SUPPORTED.index(lang) if lang in SUPPORTED else len(SUPPORTED)


def _passage_link(article_id: str, lang: str, title: str, chunk: ChunkRow | None,
                  marks: Sequence[tuple[int, int]] = ()) -> dict[str, Any]:
    """One "also in" link: to the aligned passage (highlighted) when there is one, with
    ``marks`` (the translations of the quoted sentences) marked instead of all of it."""
    if chunk is not None:
        href = article_href(article_id, chunk_id=chunk.id, start=chunk.start,
                            spans=list(marks) or [(chunk.start, chunk.end)])
    else:
        href = article_href(article_id)
    name = LANG_NAMES.get(lang, lang)
    what = ("the same sentences" if marks else "the aligned passage") if chunk is not None \
        else "the translation"
    return {"lang": lang, "code": lang.upper(), "lang_name": name, "title": title,
            "href": href, "label": f"{lang.upper()} – {name}: {what}, in “{title}”"}


def also_in(kb: KnowledgeBase, article_id: str, *, chunk_id: int | None = None,
            twins: Sequence[tuple[int, int, int]] = ()) -> list[dict[str, Any]]:
    """"Also in: DE · VI": the other members of the article's translation family. With
    ``chunk_id``, each link goes to the passage aligned with that chunk, if any, with
    ``twins`` ((chunk id, start, end) of the quoted sentences' translations) marked."""
    members = adding.family_of(kb, article_id)
    if not members:
        return []
    aligned = kb.store.chunks(adding.aligned_chunks(kb, chunk_id)) if chunk_id is not None else {}
    by_article: dict[str, ChunkRow] = {}
    for row in sorted(aligned.values(), key=lambda r: r.start):
        by_article.setdefault(row.article_id, row)
    marks: dict[int, list[tuple[int, int]]] = {}
    for twin_chunk, a, b in twins:
        marks.setdefault(twin_chunk, []).append((a, b))
    links = []
    for m in members:
        row = by_article.get(str(m["article_id"]))
        links.append(_passage_link(str(m["article_id"]), str(m["lang"]), str(m["title"]), row,
                                   sorted(marks.get(row.id, [])) if row is not None else ()))
    return sorted(links, key=lambda x: (_lang_order(x["lang"]), x["title"]))


def _aligned_passages(kb: KnowledgeBase, article_id: str) -> dict[int, list[dict[str, Any]]]:
    """Per chunk of the article, links to the aligned passages in its translations, each
    labelled with the passage it opens (its number and section). A passage that two of
    one translation's passages translate shows the numbers too: QA22 F11 saw "VI VI"
    and nothing said what either was."""
    pairs = adding.article_alignments(kb, article_id)
    rows = kb.store.chunks(sorted({c for cs in pairs.values() for c in cs}))
    titles = {str(m["article_id"]): str(m["title"]) for m in adding.family_of(kb, article_id)}
    out: dict[int, list[dict[str, Any]]] = {}
    for cid, others in pairs.items():
        shown = sorted((rows[o] for o in others if o in rows),
                       key=lambda r: (_lang_order(r.lang), r.article_id, r.ord))
        several = Counter(r.article_id for r in shown)
        links = []
        for row in shown:
            link = _passage_link(row.article_id, row.lang,
                                 titles.get(row.article_id, row.article_id), row)
            n = row.ord + 1
            link["label"] = (f"{row.lang.upper()} – {link['lang_name']}: passage {n}"
                             + (f" ({row.section})" if row.section else "")
                             + f", in “{link['title']}”")
            if several[row.article_id] > 1:
                link["code"] = f"{link['code']} ¶{n}"
            links.append(link)
        out[cid] = links
    return out


def _date(value: object) -> str:
    text = str(value or "")
    return text[:10]


def _source_view(source: str) -> dict[str, Any]:
    """A source is a link only when it is an http(s) URL: never javascript: or data:."""
    is_url = bool(re.match(r"^https?://[^\s\"'<>]+$", source, re.I))
    return {"text": source, "href": source if is_url else None}


def article_context(
    kb: KnowledgeBase, article_id: str, hl: str | None, *, saved: str | None = None,
    saved_notes: Sequence[str] = (), similar: str | None = None, editable: bool = False,
    passage: int | None = None, hp: str | None = None,
) -> dict[str, Any]:
    """The article page; ``saved`` ("added", "replaced", "restored" or "unchanged") adds the Add
    page's notice,
    with ``saved_notes``, what the save said to check, and a link to ``similar``, the
    article the save found it much like; ``editable`` (writes are enabled)
    links to the Add page filled in with it; ``passage``: the passage a link's marks
    (``hl``, or ``hp`` within the passage) were made for (web/marks.py)."""
    art = kb.article(article_id)
    aligned = _aligned_passages(kb, article_id)
    family = also_in(kb, article_id)
    text: str = art["text"]  # type: ignore[assignment]
    chunks: list[dict[str, Any]] = art["chunks"]  # type: ignore[assignment]
    found = link_marks(kb, article_id, text, hl=hl, hp=hp, passage=passage)
    spans = found.spans
    segments: list[dict[str, Any]] = []
    pos = 0
    target_chunk = None
    read = chunking.blocks(text)  # one pass for the headings, tables and lists
    headings = _headings(text, str(art["title"]), read)
    structures = _structures(text, read)
    for n, ch in enumerate(sorted(chunks, key=lambda c: c["start"]), 1):
        # Blank lines between passages are left to CSS: each passage is a block already.
        if ch["start"] > pos and text[pos : ch["start"]].strip():
            segments.append({"kind": "gap", "blocks": _blocks(
                text, pos, ch["start"], spans, headings, structures)})
        is_target = bool(spans) and ch["start"] <= spans[0][0] < ch["end"]
        if is_target:
            target_chunk = ch["chunk_id"]
        segments.append({
            "kind": "chunk", "id": ch["chunk_id"], "n": n, "lang": ch["lang"],
            "section": ch["section"],
            "target": is_target, "aligned": aligned.get(ch["chunk_id"], []),
            "blocks": _blocks(text, ch["start"], ch["end"], spans, headings, structures),
        })
        pos = max(pos, ch["end"])
    if pos < len(text):
        segments.append({"kind": "gap",
                         "blocks": _blocks(text, pos, len(text), spans, headings, structures)})
    # The jump target is the first mark shown: a span can start on what the page does
    # not show (a heading's "#", the line breaks around a heading).
    _number_tables([b for seg in segments for b in seg["blocks"]])
    marks = [p for seg in segments for b in seg["blocks"] for p in _all_parts(b)
             if p["mark"] and p["text"].strip()]
    for i, p in enumerate(marks):
        p["first"] = i == 0
    return {
        "article": {
            "id": art["id"], "title": art["title"], "lang": art["lang"],
            "lang_name": LANG_NAMES.get(str(art["lang"]), art["lang"]),
            "source": _source_view(str(art["source"] or "")), "tags": art["tags"],
            "added": _date(art["added_at"]), "updated": _date(art["updated_at"]),
            "n_chunks": len(chunks), "chars": len(text),
        },
        "segments": segments, "highlight": bool(marks), "target_chunk": target_chunk,
        "api_href": "/api" + article_href(article_id), "also": family,
        "edit_href": edit_href(art["id"]) if editable else None,
        "notice": _saved_notice(kb, saved, len(chunks), family, saved_notes, similar)
        if saved else None,
        # What the save did, first in the title (QA23b F2: the title was the article's).
        "outcome": SAVED_OUTCOMES.get(saved or ""),
        "stale": found.stale, "moved": found.moved,
    }


SAVED_OUTCOMES = {"added": "Added", "replaced": "Replaced", "restored": "Restored",
                  "unchanged": "Nothing changed"}


def _saved_notice(kb: KnowledgeBase, saved: str, n_chunks: int, family: list[dict[str, Any]],
                  notes: Sequence[str] = (), similar: str | None = None) -> dict[str, Any]:
    if saved == "unchanged":
        return {"similar": None, "notes": [], "family": [], "no_family": "",
                "text": "Nothing changed: the text and its details are the ones stored, "
                        "so nothing was saved."}
    verb = {"replaced": "Replaced", "restored": "Restored"}.get(saved, "Added")
    other = kb.store.article(similar) if similar else None  # gone since: no link
    return {
        "similar": {"href": article_href(other["id"]), "title": other["title"],
                    "id": other["id"], "lang": other["lang"]} if other else None,
        "notes": [n[:1].upper() + n[1:] + ("" if n.endswith((".", "?", "!")) else ".")
                  for n in notes],
        "text": f"{verb}: the article is searchable now ({n_chunks} passage"
                f"{'' if n_chunks == 1 else 's'} indexed).",
        "family": family,
        "no_family": "No translation of it was found among the other articles.",
    }


_MD_MARK = re.compile(r"[ \t]*(#{1,6})[ \t]+")
_NUMBERED = re.compile(r"\s*(\d{1,2}(?:\.\d{1,2})*)\.?\s")


def _headings(text: str, title: str,
              read: Sequence[chunking.Block]) -> list[tuple[int, int, int, str]]:
    """The article's headings as the chunker reads them: (line start, where the words
    start, line end, tag). Markdown's "#" gives h2 ("##" h3 …), "1.1." numbering h3. A
    first line that repeats the title is a plain paragraph: the page's h1 already says it."""
    found = []
    for b in read:
        if b.kind != "heading":
            continue
        line = text[b.start : b.end]
        md, numbered = _MD_MARK.match(line), _NUMBERED.match(line)
        words = b.start + (md.end() if md else len(line) - len(line.lstrip()))
        repeat = b.start == 0 and _folded(text[words : b.end]) == _folded(title)
        found.append((b.start, words, b.end, repeat, len(md.group(1)) if md else 0,
                      numbered.group(1).count(".") + 2 if numbered and not md else 2))
    # Levels are relative: an article whose sections are "##" (its "#" being the title)
    # gets h2 for them, not h3, so no level is skipped.
    top = min((hashes for *_, repeat, hashes, _ in found if hashes and not repeat), default=1)
    out = []
    for start, words, end, repeat, hashes, level in found:
        if hashes:
            level = hashes - top + 2
        out.append((start, words, end, "p" if repeat else f"h{min(max(level, 2), 4)}"))
    return out


def _folded(text: str) -> str:
    return " ".join(text.split()).casefold()


def _structures(text: str, read: Sequence[chunking.Block]) -> list[tuple[int, int, str]]:
    """The article's tables and list items (without a list's lead-in line) as the
    chunker reads them (``read``): (start, end, "table" or "list"), in text order."""
    out = []
    for b in read:
        if b.kind == "table":
            out.append((b.start, b.end, "table"))
        elif b.kind == "list":
            items = [m.start() + b.start for m in re.finditer(r"[^\n]+", text[b.start : b.end])
                     if chunking.is_list_item(m.group())]
            if items:
                out.append((items[0], b.end, "list"))
    return out


def _all_parts(block: dict[str, Any]) -> list[dict[str, Any]]:
    """A block's marked parts in reading order (a table's cell by cell, a list's item
    by item)."""
    if "rows" in block:
        return [p for row in block["rows"] for cell in row["cells"] for p in cell["parts"]]
    if "entries" in block:
        return _item_parts(block["entries"])
    return block["parts"]  # type: ignore[no-any-return]


def _blocks(
    text: str, start: int, end: int, spans: Sequence[tuple[int, int]],
    headings: Sequence[tuple[int, int, int, str]],
    structures: Sequence[tuple[int, int, str]] = (),
) -> list[dict[str, Any]]:
    """``text[start:end]`` as text runs, headings, tables and lists, each split into
    marked parts. A pipe table is a table and a list a list: the page showed them as
    rows of "|" and lines of "- ", unreadable on a phone (QA)."""
    out: list[dict[str, Any]] = []
    pos = start
    for whole, b, kind in structures:
        a, b = max(whole, start), min(b, end)
        if a >= b or a < pos:
            continue
        run_end = a
        while run_end > pos and text[run_end - 1] in "\n\r":  # the block breaks the line
            run_end -= 1
        out += _text_blocks(text, pos, run_end, spans, headings)
        if kind == "table":
            out.append(_table(text, a, b, spans, header_from=whole))
        else:
            out.append(_list(text, a, b, spans))
        pos = b
        while pos < end and text[pos] in "\n\r":
            pos += 1
    return out + _text_blocks(text, pos, end, spans, headings)


def _list(text: str, start: int, end: int,
          spans: Sequence[tuple[int, int]]) -> dict[str, Any]:
    """The items of ``text[start:end]``, each as marked parts, without its bullet, an
    indented item under the one before it (``children``; they were flattened, QA); a
    numbered list keeps its numbers (``numbered``: shown without bullets)."""
    top: list[dict[str, Any]] = []
    open_items: list[tuple[int, dict[str, Any]]] = []  # (indent, item) from the top down
    numbered = False
    for m in re.finditer(r"[^\n]+", text[start:end]):
        line, line_start = m.group(), start + m.start()
        indent = len(line) - len(line.lstrip())
        bullet = re.match(r"\s*[-*•·▪–]\s+", line)
        numbered = numbered or (bullet is None and not indent)
        words = line_start + (bullet.end() if bullet else indent)
        item = {"parts": _parts(text, words, start + m.end(), spans), "children": []}
        while open_items and open_items[-1][0] >= indent:
            open_items.pop()
        (open_items[-1][1]["children"] if open_items else top).append(item)
        open_items.append((indent, item))
    return {"tag": "list", "entries": top, "numbered": numbered, "parts": []}


def _item_parts(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for it in items for p in it["parts"] + _item_parts(it["children"])]


def _cells(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """The cells of the table row ``text[a:b]``, as spans without their padding."""
    cells, cell_start = [], a
    for m in re.finditer(r"\|", text[a:b] + "|"):
        cut = a + m.start()
        lo, hi = cell_start, cut
        while lo < hi and text[lo].isspace():
            lo += 1
        while hi > lo and text[hi - 1].isspace():
            hi -= 1
        if not (cut == a and lo == hi):  # a leading "|" opens no cell
            cells.append((lo, hi))
        cell_start = cut + 1
    if cells and text[a:b].rstrip().endswith("|") and cells[-1][0] == cells[-1][1]:
        cells.pop()  # nor does a trailing one ("| | 300 | |" keeps its empty cells)
    return cells


_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def _table(text: str, start: int, end: int, spans: Sequence[tuple[int, int]],
           header_from: int | None = None) -> dict[str, Any]:
    """The table rows of ``text[start:end]``, each cell as marked parts; the row before
    the "---|---" rule is the header. A later part of a table that a passage boundary
    split (the table starts at ``header_from``) repeats the header rows, unmarked: the
    columns had no names there (QA)."""
    rows: list[dict[str, Any]] = []
    lines = [(m.start() + start, m.end() + start) for m in re.finditer(r"[^\n]+", text[start:end])]
    if header_from is not None and header_from < start:
        first = _table(text, header_from, start, ())
        rows = [r for r in first["rows"] if r["head"]]
    header = next((i for i, (a, b) in enumerate(lines) if _TABLE_RULE.match(text[a:b])), None)
    for i, (a, b) in enumerate(lines):
        if i == header:
            continue
        rows.append({"head": header is not None and i < header,
                     "cells": [{"parts": _parts(text, lo, hi, spans)}
                               for lo, hi in _cells(text, a, b)]})
    _label_cells(rows, lambda cell: "".join(p["text"] for p in cell["parts"]))
    # The name of its scroll region (keyboard users scroll it; a screen reader says
    # what it is): a pipe table has no caption to name it by.
    return {"tag": "table", "rows": rows, "parts": [], "label": "Table"}


def _text_blocks(
    text: str, start: int, end: int, spans: Sequence[tuple[int, int]],
    headings: Sequence[tuple[int, int, int, str]],
) -> list[dict[str, Any]]:
    """``text[start:end]`` as text runs and headings, each split into marked parts.

    The line breaks around a heading are left out: it is a block of its own, and in the
    page's pre-wrapped text they would add blank lines.
    """
    out: list[dict[str, Any]] = []
    pos = start
    # Only the headings that can overlap [start, end): a page has one segment per
    # passage, so scanning every heading for each cost headings x passages.
    first = max(0, bisect_right(headings, (start, start + 1)) - 1)
    for line, words, line_end, tag in headings[first:]:
        if line >= end:
            break
        if line_end <= start:
            continue
        run_end = max(pos, line)
        while run_end > pos and text[run_end - 1] in "\n\r":
            run_end -= 1
        if run_end > pos:
            out.append({"tag": None, "parts": _parts(text, pos, run_end, spans)})
        a, b = max(start, words), min(end, line_end)
        if a < b:
            out.append({"tag": tag, "parts": _parts(text, a, b, spans)})
        pos = min(end, line_end)
        while pos < end and text[pos] in "\n\r":
            pos += 1
    if pos < end:
        out.append({"tag": None, "parts": _parts(text, pos, end, spans)})
    return out


def _parts(
    text: str, start: int, end: int, spans: Sequence[tuple[int, int]]
) -> list[dict[str, Any]]:
    """``text[start:end]`` split into plain and highlighted parts (``spans``: sorted,
    disjoint)."""
    parts = []
    pos = start
    for a, b in spans:
        if b <= pos or a >= end:
            continue
        a, b = max(pos, a), min(end, b)
        parts.append({"text": text[pos:a], "mark": False})
        parts.append({"text": text[a:b], "mark": True})
        pos = b
    parts.append({"text": text[pos:end], "mark": False})
    return [p for p in parts if p["text"]]


LIBRARY_SORTS = {"lang": "language", "title": "title", "added": "newest first",
                 "passages": "most passages"}


def library_context(
    kb: KnowledgeBase, *, langs: list[str] | None = None, tag: str | None = None,
    sort: str | None = None,
) -> dict[str, Any]:
    """The library table, filtered by languages and a tag and sorted; the counts per
    language and the list of tags are over the whole library. A tag no article has
    (kb.articles refuses it, as the API does) is said on the page, with no rows."""
    everything = kb.articles()
    unknown_tag = None
    try:
        shown = kb.articles(langs=langs, tag=tag) if langs or tag else everything
    except BadInputError:
        shown, unknown_tag = [], (tag or "").strip()
    sort = sort if sort in LIBRARY_SORTS else "lang"
    keys = {
        "lang": lambda a: (_lang_order(str(a["lang"])), str(a["title"]).casefold()),
        "title": lambda a: str(a["title"]).casefold(),
        "added": lambda a: str(a["added_at"] or ""),
        "passages": lambda a: int(a["chunks"] or 0),  # type: ignore[call-overload]
    }
    # Sorted by id first: ties (the same second, the same size) then read A to Z, since
    # a stable sort keeps that order even when reversed.
    by_id = sorted(shown, key=lambda a: str(a["id"]))
    rows = []
    for a in sorted(by_id, key=keys[sort], reverse=sort in ("added", "passages")):
        rows.append({
            "id": a["id"], "title": a["title"], "lang": a["lang"],
            "lang_name": LANG_NAMES.get(str(a["lang"]), a["lang"]), "chunks": a["chunks"],
            "added": _date(a["added_at"]), "added_at": _minute(a["added_at"]),
            "added_iso": str(a["added_at"] or ""),
            "tags": [{"text": t, "href": _library_href(langs=langs, tag=t, sort=sort)}
                     for t in a["tags"]],
            "href": article_href(str(a["id"])),
        })
    per_lang = {c: sum(1 for a in everything if a["lang"] == c) for c in SUPPORTED}
    # One entry a tag whatever its case, as the filter matches it ("B2B" and "b2b" were
    # listed twice, for the same articles; QA): the first spelling met.
    spelled: dict[str, str] = {}
    for a in everything:
        for t in a["tags"]:
            spelled.setdefault(t.casefold(), t)
    all_tags = sorted(spelled.values(), key=str.casefold)
    if tag and tag.casefold() not in {t.casefold() for t in all_tags}:
        all_tags.append(tag)  # a tag no article has: still the one chosen, so Apply keeps it
    chosen = set(langs or [])
    return {
        "rows": rows, "total": len(everything), "shown": len(rows),
        "filtered": bool(langs or tag), "unknown_tag": unknown_tag,
        "per_lang": [{"code": c, "name": LANG_NAMES[c], "count": n,
                      "href": _library_href(langs=[c], sort=sort)}
                     for c, n in per_lang.items()],
        "filters": {
            # Native names, as the Ask page's chips have them (QA13: "Korean" here,
            # "한국어" there).
            "langs": [{"code": c, "name": LANG_NAMES[c], "native": NATIVE_NAMES[c],
                       "checked": c in chosen} for c in SUPPORTED],
            "tags": [{"text": t, "selected": bool(tag) and t.casefold() == tag.casefold()}
                     for t in all_tags],
            "sorts": [{"value": k, "label": v, "selected": k == sort}
                      for k, v in LIBRARY_SORTS.items()],
            "clear_href": _library_href(sort=sort),
        },
    }


def _library_href(*, langs: list[str] | None = None, tag: str | None = None,
                  sort: str = "lang") -> str:
    params = [("lang", c) for c in langs or []] + ([("tag", tag)] if tag else [])
    if sort != "lang":
        params.append(("sort", sort))
    return "/library" + ("?" + urlencode(params) if params else "")


def _minute(value: object) -> str:
    """``2026-12-01T04:58:12+00:00`` -> ``2026-12-01 04:58 UTC``: uploads of one day apart."""
    text = str(value or "")
    return f"{text[:10]} {text[11:16]} UTC" if len(text) >= 16 else text


def _name_parts(name: str) -> set[str]:
    """"Bán thêm (upselling)" -> {"bán thêm", "upselling"}: what the name already says."""
    m = re.fullmatch(r"(.*?)\s*\((.*)\)", name)
    parts = [m.group(1), m.group(2)] if m else [name]
    return {p.strip().casefold() for p in parts}


def concept_view(card: ConceptCard) -> dict[str, Any]:
    c = card.concept
    terms = []
    for lang in SUPPORTED:
        name = c.names.get(lang, "")
        said = _name_parts(name)  # "Bán thêm (upselling) (upselling, bán thêm)" said it twice
        if not name:  # no term in this language: no empty row (QA15); the gap says it
            continue
        terms.append({"lang": lang, "lang_name": LANG_NAMES[lang], "name": name,
                      "others": [t for t in c.terms.get(lang, []) if t.casefold() not in said]})
    # What it is, asked in each language it has a term in (QA19 F12: one English
    # question for every reader, "What is loyalty program?").
    questions = [{"lang": t["lang"], "lang_name": t["lang_name"], "text": q, "href": ask_href(q)}
                 for t in terms if (q := concepts.question(c, t["lang"])) is not None]
    definition = None
    if card.definition is not None:
        d = card.definition
        definition = {
            "text": _BULLET.sub("", d.sentence), "lang": d.hit.lang, "title": d.hit.title,
            "lang_name": LANG_NAMES.get(d.hit.lang, d.hit.lang),
            "href": article_href(d.hit.article_id, chunk_id=d.hit.chunk_id,
                                 start=d.hit.start, span=(d.sentence_start, d.sentence_end)),
        }
    sources = []
    for s in card.sources:
        sources.append({
            "lang": s.lang, "lang_name": LANG_NAMES[s.lang], "gap": s.gap,
            "gap_message": card.gap_message(s.lang) if s.gap else "",
            "hit": _card_line(s.hit) if s.hit is not None else None,
        })
    return {
        "id": c.id, "anchor": concept_anchor(c.id),
        "name": c.names.get("en") or next((n for n in c.names.values() if n), c.id),
        "terms": terms, "definition": definition,
        "sources": sources, "n_gaps": len(card.gaps),
        "questions": questions,
        "edit_href": "/concepts?" + urlencode({"edit": card.concept.id}) + "#add-concept",
    }


def _card_line(hit: Hit) -> dict[str, Any]:
    """A card's passage in one language: the sentence about the concept alone, with the
    concept's words marked, under the heading it sits under, linked with the sentence
    marked (QA19 F9: the passage's first 300 characters, the whole passage marked)."""
    view = hit_view(hit, limit=EXCERPT_CONTEXT, sentence_only=True)
    if hit.snippet is not None:
        first = view["parts"][0] if view["parts"] else None
        if first is not None and not first["mark"]:  # a list item, as the definition shows it
            first["text"] = _BULLET.sub("", first["text"])
    return view


def concepts_context(cards: list[ConceptCard]) -> dict[str, Any]:
    views = [concept_view(c) for c in cards]
    gaps = {lang: sum(1 for v in views for s in v["sources"] if s["lang"] == lang and s["gap"])
            for lang in SUPPORTED}
    return {
        "concepts": views,
        # The link's name starts with what it shows, "vi 14", so that a voice user's
        # "click vi 14" finds it (QA23b F6: "14 concepts with no …"; "1 concepts").
        "gap_summary": [
            {"lang": k, "lang_name": LANG_NAMES[k], "count": n,
             "label": f"{k} {n}: {_concepts(n)} with no {LANG_NAMES[k]} source"}
            for k, n in gaps.items()
        ],
    }


def _concepts(n: int) -> str:
    return "concept" if n == 1 else "concepts"


def gap_view(ctx: dict[str, Any], gap: str | None) -> dict[str, Any]:
    """The cards' context with each gap count linked to its filter, and (``gap``) only
    the concepts with no source in that language (QA13: the counts led nowhere)."""
    summary = [g | {"href": f"/concepts?gap={g['lang']}#h-gaps" if g["lang"] != gap
                    else "/concepts", "current": g["lang"] == gap}
               for g in ctx["gap_summary"]]
    concepts = ctx["concepts"]
    if gap is not None:
        concepts = [c for c in concepts if any(s["gap"] and s["lang"] == gap
                                               for s in c["sources"])]
    return {**ctx, "gap_summary": summary, "concepts": concepts,
            "gap_filter": {"lang": gap, "lang_name": LANG_NAMES[gap],
                           "shown": f"{len(concepts)} {_concepts(len(concepts))}"}
            if gap else None}


def concept_form_context(settings: Settings, concepts: list[Any], *,
                         edit: str | None = None, values: dict[str, Any] | None = None,
                         error: KBError | None = None, saved: str | None = None,
                         removed: str | None = None,
                         problem: str | None = None) -> dict[str, Any]:
    """The Concepts page's form: add a concept, or (``edit``: its id) change or remove
    one; refilled after an error. ``saved``: the concept just saved, when it exists;
    ``removed``: the one just removed, when it no longer does."""
    known = {c.id: c for c in concepts}
    editing = known.get(edit or "")
    if edit and editing is None and error is None:  # a stale "Edit its terms" link
        error = NotFoundError(f"the glossary has no concept {edit!r} to edit (removed "
                              "since?); the form adds a new one")
    form = {"id": "", "version": "", **{lang: "" for lang in SUPPORTED}}
    if editing is not None:
        form.update(id=editing.id, version=editing.version,
                    **{lang: ", ".join(editing.terms.get(lang, [])) for lang in SUPPORTED})
    if values:
        form.update({k: str(v) for k, v in values.items() if k in form and v is not None})
    done = known.get(saved or "")
    gone = removed if removed and removed not in known else None
    return {"outcome": ("Error" if error else f"Saved {done.id}" if done
                        else f"Removed {gone}" if gone else None),
            "concept_form": {
        "entered": form, "editing": editing.id if editing is not None else None,
        "fields": [{"lang": lang, "lang_name": LANG_NAMES[lang], "native": NATIVE_NAMES[lang],
                    "value": form[lang]} for lang in SUPPORTED],
        "enabled": uploads.writes_enabled(settings), "enable_hint": uploads.ENABLE_HINT,
        "error": error, "problem": problem,
        "states": field_states(("id", *SUPPORTED, "token", "confirm"), concept_fault(error),
                               "concept-error", {"id": "concept-id-help"}),
        "saved": {"id": done.id, "name": done.names.get("en") or done.id,
                  "href": f"#{concept_anchor(done.id)}"} if done else None,
        "removed": gone,
    }}


# -- the fields an error is about ---------------------------------------------------------
# As the Ask form does (aria-invalid, aria-describedby="q-problem"), each form marks the
# field at fault and ties the message and its hint to it (QA23b F3: the Add, Edit,
# Concepts and Restore forms showed an error nobody's field pointed at). The error names
# its fields (KBError.fields, as the JSON API gives them); here they become the form's.


def field_states(names: Sequence[str], fault: set[str], message_id: str,
                 hints: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Per field: whether it is at fault, and the ids that describe it (the message,
    when it is at fault, then its hint)."""
    return {name: {"invalid": name in fault,
                   "describedby": " ".join(([message_id] if name in fault else [])
                                           + ([hints[name]] if name in hints else []))}
            for name in names}


def add_fault(error: KBError | None, form: ArticleInput | None) -> set[str]:
    """The Add form's fields an error is about."""
    from kb.errors import ArticleError, ConflictError, TooLargeError

    if error is None:
        return set()
    if error.fields:
        return set(error.fields)
    # What the article itself is refused for (empty, binary, too large, a duplicate)
    # is about the input it came in: the pasted text or the chosen file.
    typed = "file" if form is not None and form.filename else "text"
    if isinstance(error, ArticleError) and error.source == adding.PASTED:
        return {"text"}
    if isinstance(error, ArticleError | TooLargeError) or (
            isinstance(error, ConflictError) and error.reason == "duplicate"):
        return {typed}
    return set()


def concept_fault(error: KBError | None) -> set[str]:
    """The Concepts form's fields an error is about: a language's terms or name are its
    field (``terms.ko``, ``names.ko`` → ``ko``), every language's for ``terms``."""
    if error is None:
        return set()
    out: set[str] = set()
    for name in error.fields:
        head, _, lang = name.partition(".")
        out |= ({lang} if lang in SUPPORTED else set(SUPPORTED)) if head in ("terms", "names") \
            else {name}
    return out


# -- the Add page -------------------------------------------------------------------------
PREVIEW_CHARS = 20_000  # of cleaned text shown in the preview (the count says the rest)


def _still_filled(form: ArticleInput) -> dict[str, str]:
    """What an earlier preview filled in and the user has not changed since (see
    ``uploads.PAGE_FIELDS``): it stays marked as filled in."""
    carried = form.extra.get("carried", "")
    out = {f"auto_{name}": value for name, value in uploads.still_filled(form).items()}
    if carried and form.text is not None and uploads.carried_digest(form.text) == carried:
        out["carried"] = carried
    return out


def edit_href(article_id: str) -> str:
    """The Add page filled in with the stored article, to replace it."""
    return "/add?" + urlencode({"edit": article_id})


def _clash_links(article_id: str | None) -> dict[str, str] | None:
    if not article_id:
        return None
    return {"id": article_id, "href": article_href(article_id),
            "edit_href": edit_href(article_id)}


def _on_the_page(error: KBError) -> str:
    """A refusal as the Add page says it: what to do there, not the CLI's and the API's
    ways (QA13: "`kb add --replace --id …`, … or PUT /api/articles/…", backticks shown)."""
    article_id = getattr(error, "article_id", None)
    reason = getattr(error, "reason", None)
    if not article_id:
        return error.message
    if reason == "duplicate":
        return (f"already in the knowledge base as {article_id!r}; not saved twice. If this "
                f"is a new version of it, set the Id to {article_id}, tick “Replace” and "
                "save: the text stays in the box below.")
    if reason == "exists":
        return (f"an article with id {article_id!r} already exists: tick “Replace” to "
                "overwrite it with this text, or change the Id.")
    if reason == "changed":
        return (f"{article_id!r} was changed since you opened this page (saved from another "
                "page, or edited with kb edit or the API), and saving would have undone that "
                "change: nothing was saved. Your text and fields are kept below. Open the "
                "current version, bring its change into the form if you want to keep it, "
                "and Save again: that replaces the current version with the form (its file "
                "is kept in .removed/ in the corpus directory).")
    return error.message


def suggestion_views(kb: KnowledgeBase,
                     suggestions: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """A 404's "did you mean" links, each in its article's language (QA23b F1: a Korean
    title in an English page was read as English)."""
    out = []
    for article_id, title in suggestions:
        row = kb.store.article(article_id)
        out.append({"href": article_href(article_id), "title": title,
                    "lang": row["lang"] if row is not None else None})
    return out


def removed_view(kb: KnowledgeBase, settings: Settings, article_id: str) -> dict[str, Any] | None:
    """What a page says of a removed article, with the form that restores it (its
    action, and whether this server takes writes at all: else how to restore it on the
    server); None when nothing would restore it. The library's notice and the removed
    article's own page show it (QA22 F9: the one-time notice was the only way back)."""
    if not adding.restorable(kb, article_id):
        return None
    return {"id": article_id, "action": article_href(article_id) + "/restore",
            "can_restore": uploads.writes_enabled(settings),
            "command": f"kb restore {article_id}"}


def job_context(job: dict[str, Any]) -> dict[str, Any]:
    """A long save's page while it runs: its stage and progress."""
    from web.jobs import STAGES

    done, total = int(job.get("done") or 0), int(job.get("total") or 0)
    elapsed = max(0, int(time.time() - float(job.get("started", 0))))
    return {
        "stage": STAGES.get(job.get("stage", ""), "Saving"),
        "done": done, "total": total,
        # One article read or analyzed is no count worth showing.
        "counts": f"{done:,} of {total:,}" if total > 1 else "",
        "percent": round(100 * done / total) if total > 1 else None,
        "elapsed": f"{elapsed // 60} min {elapsed % 60:02d} s" if elapsed >= 60
        else f"{elapsed} s",
    }


def interrupted_message(kb: KnowledgeBase, job: dict[str, Any]) -> str:
    """What a save cut short by a server stop left (a save is atomic)."""
    article_id = str(job.get("article_id") or "")
    row = kb.store.article(article_id) if article_id else None
    saved = row is not None and row["updated_at"] >= _iso(float(job.get("started", 0)))
    if saved:
        return (f"the server stopped while this save was finishing, but the article was "
                f"saved: it is in the library as {article_id!r}. The form below holds "
                "what was sent, should you want to change it.")
    return ("the server stopped before this save finished, so the knowledge base holds "
            + ("the article as it was before" if row is not None else "nothing of it")
            + ". The form below holds what was sent: save it again.")


def _iso(stamp: float) -> str:
    """A Unix time as the store's timestamps write it (kb.store.now)."""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds")


def add_context(
    settings: Settings,
    *,
    form: ArticleInput | None = None,
    result: AddResult | None = None,
    error: KBError | None = None,
    editing: dict[str, Any] | None = None,
    remove_error: KBError | None = None,
) -> dict[str, Any]:
    """The Add page: the form (refilled after a preview or an error), the preview, and
    the error or the "writes are disabled" notice. ``editing``: a stored article (as
    :meth:`KnowledgeBase.article` gives it) to fill the form with, to be replaced.

    The admin token is never written into the page (QA: a preview echoed it into the
    HTML); app.js keeps it for the tab, so Save needs no second typing of it."""
    values = {"text": "", "id": "", "title": "", "lang": "auto", "source": "", "tags": "",
              "replace": False, "carried": "", "version": "",
              **{name: "" for name in uploads.AUTO}, **dict.fromkeys(uploads.OPENED, "")}
    note = None
    if editing is not None:
        values.update(text=editing["text"], id=editing["id"], title=editing["title"],
                      lang=editing["lang"], source=editing["source"] or "",
                      tags=", ".join(editing["tags"]), replace=True,
                      # A file chosen on the Edit page is the new version: it replaces
                      # the stored text in the box (QA: it clashed with it).
                      carried=uploads.carried_digest(editing["text"]),
                      version=editing["version"])
        values.update({f"opened_{k}": values[k] for k in ("title", "lang", "source", "tags")})
    if form is not None:
        values.update(
            text=form.text or "", id=form.article_id or "", title=form.title or "",
            lang=form.lang or "auto", source=form.source or "", tags=", ".join(form.tags or ()),
            replace=form.extra.get("replace", "").lower() in uploads.TRUE,
            # The version the page was opened at, across previews: not the current one.
            version=form.extra.get("version", values["version"]),
            **{k: form.extra.get(k, values[k]) for k in uploads.OPENED},
        )
        values.update(_still_filled(form))
    taken: list[str] = []
    if isinstance(error, StaleError):
        # Refused as stale: the next Save replaces the version now stored, on purpose
        # (the message says so, and links to it); each field left as it was opened
        # takes its value now, so that Save again does not put back what another editor
        # changed (QA18), and the page becomes opened at this version.
        values["version"] = error.current
        if editing is not None and form is not None:
            now = {"title": editing["title"], "lang": editing["lang"],
                   "source": editing["source"] or "", "tags": ", ".join(editing["tags"])}
            for name, value in now.items():
                if values[name] == values[f"opened_{name}"] and values[name] != value:
                    values[name] = value
                    taken.append(name)
                values[f"opened_{name}"] = value
    preview = None
    if result is not None:
        # Saving stores what the preview showed: the fields take the article's values,
        # and a file's cleaned text moves into the text box (a file input cannot be
        # refilled), so Save needs no second upload.
        values.update(id=result.article_id, title=result.title, source=result.source,
                      tags=", ".join(result.tags))
        if form is not None:
            for name in uploads.FILLED:  # what the preview, not the user, filled in
                if not uploads.shown(form, name) and values[name]:
                    values[f"auto_{name}"] = values[name]
        if form is not None and form.filename is not None:
            values["text"] = result.text
            values["carried"] = uploads.carried_digest(result.text)
            note = (f"The text of {form.filename} is now in the text box: Save stores it as "
                    "shown, and you can still edit it.")
        shown, cut = result.text[:PREVIEW_CHARS], len(result.text) > PREVIEW_CHARS
        identical = result.identical and not result.replacing  # a re-paste: nothing to add
        preview = {
            "id": result.article_id, "title": result.title, "lang": result.lang,
            "lang_name": LANG_NAMES.get(result.lang, result.lang),
            "lang_how": {"given": "chosen", "header": "from the header"}.get(
                result.lang_source, "detected"),
            "kind": result.kind, "chunks": result.chunks, "chars": len(result.text),
            "text": shown, "more": len(result.text) - len(shown) if cut else 0,
            "duplicate": ({"id": result.duplicate_of, "href": article_href(result.duplicate_of)}
                          if result.duplicate_of else None),
            "identical": ({"id": result.article_id, "href": article_href(result.article_id)}
                          if identical else None),
            "exists": ({"id": result.article_id, "href": article_href(result.article_id)}
                       if result.exists and not result.replacing and not identical else None),
            "replaces": ({"id": result.article_id, "href": article_href(result.article_id)}
                         if result.exists and result.replacing else None),
            "similar": ({"id": result.similar_to, "href": article_href(result.similar_to),
                         "likeness": result.likeness}
                        if result.similar_to and result.similar_to != result.article_id
                        else None),
            "lang_looks": result.lang_looks,
            "title_guessed": result.title_guessed,
            "no_concepts": result.concepts == (),
            "stale": ({"id": result.article_id, "href": article_href(result.article_id)}
                      if result.stale else None),
            "note": note,
            # No "Save this article" when the save would be refused whatever the form
            # says (QA: it stayed under "saving it would be refused"); an id that exists
            # is not such a refusal: ticking "Replace" gets past it.
            "can_save": not (result.duplicate_of or identical),
        }
    langs = [{"value": "auto", "label": "Detect automatically",
              "selected": values["lang"] == "auto"}]
    langs += [{"value": c, "label": f"{c} · {NATIVE_NAMES[c]} ({LANG_NAMES[c]})",
               "selected": values["lang"] == c} for c in SUPPORTED]
    return {
        "enabled": uploads.writes_enabled(settings),
        "enable_hint": uploads.ENABLE_HINT,
        "limit": adding.format_size(settings.max_upload_bytes),
        "limit_bytes": settings.max_upload_bytes,
        "values": values, "langs": langs, "preview": preview, "taken": ", ".join(taken),
        "editing": ({"id": editing["id"], "title": editing["title"], "lang": editing["lang"],
                     "href": article_href(editing["id"])} if editing else None),
        # The language the title and text fields are read in (QA23b F1: a Korean
        # article's text, in a page marked English, was spelled out by screen readers):
        # the preview's, else the article being edited's; none for an empty Add form.
        "field_lang": preview["lang"] if preview else editing["lang"] if editing else None,
        "error": {"status": error.status, "message": _on_the_page(error) + (
                      f"; {form.filename} was not read: choose it again with the token"
                      if error.status == 401 and form is not None and form.filename else ""),
                  # The stored article a refusal names, to open or edit from here (QA9:
                  # the page gave only the CLI's and the API's way to replace it).
                  # (Not for a file changed on disk: its fix is `kb ingest`, not an edit.)
                  "article": (_clash_links(getattr(error, "article_id", None))
                              if getattr(error, "reason", None) != "disk" else None),
                  "reason": getattr(error, "reason", None)}
        if error else None,
        "remove_error": ({"status": remove_error.status, "message": remove_error.message}
                         if remove_error else None),
        "fields": field_states(("text", "file", "title", "lang", "source", "tags", "id", "token"),
                               add_fault(error, form), "add-error",
                               {"file": "file-hint", "title": "title-hint", "id": "id-hint",
                                "token": "token-hint"}),
        "remove_fields": field_states(
            ("token", "confirm"),
            set() if remove_error is None else set(remove_error.fields),
            "remove-error", {}),
        # First in the title, what a screen reader says first (QA23b F2).
        "outcome": ("Error" if error else "Error: not removed" if remove_error
                    else "Preview" if preview else None),
    }
