"""View models: everything the templates show, prepared as plain dicts and lists.

Templates only loop and branch over what these functions return; all slicing,
highlighting and link building happens here.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from kb.language import LANG_NAMES, SUPPORTED
from kb.results import Hit

if TYPE_CHECKING:
    from kb.answers import Answer
    from kb.concepts import ConceptCard
    from kb.core import KnowledgeBase

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
EXCERPT_CONTEXT = 240  # characters of passage shown on each side of a cited sentence


def lang_chips(selected: list[str] | None) -> list[dict[str, Any]]:
    chosen = set(selected or [])
    return [
        {"code": c, "name": LANG_NAMES[c], "native": NATIVE_NAMES[c], "checked": c in chosen}
        for c in SUPPORTED
    ]


def article_href(article_id: str, *, chunk_id: int | None = None,
                 span: tuple[int, int] | None = None) -> str:
    """Link to an article, optionally highlighting ``span`` and jumping to a chunk."""
    href = f"/articles/{quote(article_id, safe='')}"
    if span is not None:
        href += "?" + urlencode({"hl": f"{span[0]}-{span[1]}"})
    if chunk_id is not None:
        href += f"#c{chunk_id}"
    return href


def ask_href(question: str) -> str:
    return "/?" + urlencode({"q": question})


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


def excerpt(hit: Hit, start: int, end: int) -> dict[str, Any]:
    """The passage split around the cited sentence (local offsets), trimmed for a card."""
    before, cut_before = _trim_left(hit.text[:start], EXCERPT_CONTEXT)
    after, cut_after = _trim_right(hit.text[end:], EXCERPT_CONTEXT)
    return {
        "before": before, "mark": hit.text[start:end], "after": after,
        "cut_before": cut_before, "cut_after": cut_after,
    }


def hit_view(hit: Hit, *, limit: int = 2 * EXCERPT_CONTEXT) -> dict[str, Any]:
    snippet, cut = _trim_right(" ".join(hit.text.split()), limit)
    return {
        "title": hit.title, "article_id": hit.article_id, "lang": hit.lang,
        "lang_name": LANG_NAMES.get(hit.lang, hit.lang), "section": hit.section,
        "snippet": snippet, "cut": cut, "href": article_href(hit.article_id, chunk_id=hit.chunk_id),
    }


def answer_view(ans: Answer) -> dict[str, Any]:
    cited = {c.n: c for c in ans.citations}
    sentences = [
        {
            "text": _BULLET.sub("", s.text),  # the quote reads as prose; the card keeps it
            "lang": cited[s.citations[0]].hit.lang if s.citations else ans.lang,
            "citations": [
                {"n": n, "href": f"#cite-{n}", "title": cited[n].hit.title} for n in s.citations
            ],
        }
        for s in ans.sentences
    ]
    cards = []
    for c in ans.citations:
        cards.append({
            "n": c.n, "title": c.hit.title, "lang": c.hit.lang,
            "lang_name": LANG_NAMES.get(c.hit.lang, c.hit.lang), "section": c.hit.section,
            "excerpt": excerpt(c.hit, c.local_start, c.local_end),
            "href": article_href(
                c.hit.article_id, chunk_id=c.hit.chunk_id, span=(c.sentence_start, c.sentence_end)
            ),
        })
    cited_chunks = {c.hit.chunk_id for c in ans.citations}
    others = [hit_view(h) for h in ans.passages if h.chunk_id not in cited_chunks][:5]
    return {
        "query": ans.query, "lang": ans.lang, "lang_name": LANG_NAMES.get(ans.lang, ans.lang),
        "found": ans.found, "message": ans.message, "sentences": sentences, "cards": cards,
        "others": others,
    }


def ask_context(kb: KnowledgeBase, question: str | None, langs: list[str] | None) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "query": question or "", "chips": lang_chips(langs),
        "examples": [dict(e, href=ask_href(e["text"]), lang_name=LANG_NAMES[e["lang"]])
                     for e in EXAMPLES],
        "answer": None,
    }
    if question and question.strip():
        ctx["answer"] = answer_view(kb.ask(question, langs=langs))
    return ctx


def _date(value: object) -> str:
    text = str(value or "")
    return text[:10]


def _source_view(source: str) -> dict[str, Any]:
    """A source is a link only when it is an http(s) URL: never javascript: or data:."""
    is_url = bool(re.match(r"^https?://[^\s\"'<>]+$", source, re.I))
    return {"text": source, "href": source if is_url else None}


def parse_span(hl: str | None, length: int) -> tuple[int, int] | None:
    """``"120-180"`` to a span clamped to the text, or None."""
    if not hl:
        return None
    a, b = (int(x) for x in hl.split("-", 1))
    a, b = max(0, min(a, length)), max(0, min(b, length))
    return (a, b) if a < b else None


def article_context(kb: KnowledgeBase, article_id: str, hl: str | None) -> dict[str, Any]:
    art = kb.article(article_id)
    text: str = art["text"]  # type: ignore[assignment]
    span = parse_span(hl, len(text))
    chunks: list[dict[str, Any]] = art["chunks"]  # type: ignore[assignment]
    segments: list[dict[str, Any]] = []
    pos = 0
    target_chunk = None
    for ch in sorted(chunks, key=lambda c: c["start"]):
        if ch["start"] > pos:
            segments.append({"kind": "gap", "parts": _parts(text, pos, ch["start"], span)})
        is_target = span is not None and ch["start"] <= span[0] < ch["end"]
        if is_target:
            target_chunk = ch["chunk_id"]
        segments.append({
            "kind": "chunk", "id": ch["chunk_id"], "lang": ch["lang"], "section": ch["section"],
            "target": is_target, "parts": _parts(text, ch["start"], ch["end"], span),
        })
        pos = max(pos, ch["end"])
    if pos < len(text):
        segments.append({"kind": "gap", "parts": _parts(text, pos, len(text), span)})
    return {
        "article": {
            "id": art["id"], "title": art["title"], "lang": art["lang"],
            "lang_name": LANG_NAMES.get(str(art["lang"]), art["lang"]),
            "source": _source_view(str(art["source"] or "")), "tags": art["tags"],
            "added": _date(art["added_at"]), "updated": _date(art["updated_at"]),
            "n_chunks": len(chunks), "chars": len(text),
        },
        "segments": segments, "highlight": span is not None, "target_chunk": target_chunk,
        "api_href": "/api" + article_href(article_id),
    }


def _parts(text: str, start: int, end: int, span: tuple[int, int] | None) -> list[dict[str, Any]]:
    """``text[start:end]`` split into plain and highlighted parts."""
    if span is None or span[1] <= start or span[0] >= end:
        return [{"text": text[start:end], "mark": False}]
    a, b = max(start, span[0]), min(end, span[1])
    parts = [
        {"text": text[start:a], "mark": False},
        {"text": text[a:b], "mark": True, "first": a == span[0]},
        {"text": text[b:end], "mark": False},
    ]
    return [p for p in parts if p["text"]]


def library_context(kb: KnowledgeBase) -> dict[str, Any]:
    rows = []
    for a in sorted(kb.articles(), key=lambda a: (str(a["lang"]), str(a["title"]).casefold())):
        rows.append({
            "id": a["id"], "title": a["title"], "lang": a["lang"],
            "lang_name": LANG_NAMES.get(str(a["lang"]), a["lang"]), "chunks": a["chunks"],
            "added": _date(a["added_at"]), "tags": a["tags"],
            "href": article_href(str(a["id"])),
        })
    per_lang = {c: sum(1 for r in rows if r["lang"] == c) for c in SUPPORTED}
    return {
        "rows": rows, "total": len(rows),
        "per_lang": [{"code": c, "name": LANG_NAMES[c], "count": n} for c, n in per_lang.items()],
    }


def concept_view(card: ConceptCard) -> dict[str, Any]:
    c = card.concept
    terms = [
        {"lang": lang, "lang_name": LANG_NAMES[lang], "name": c.names.get(lang, ""),
         "others": [t for t in c.terms.get(lang, []) if t != c.names.get(lang)]}
        for lang in SUPPORTED
    ]
    definition = None
    if card.definition is not None:
        d = card.definition
        definition = {
            "text": d.sentence, "lang": d.hit.lang, "title": d.hit.title,
            "href": article_href(d.hit.article_id, chunk_id=d.hit.chunk_id,
                                 span=(d.sentence_start, d.sentence_end)),
        }
    sources = []
    for s in card.sources:
        sources.append({
            "lang": s.lang, "lang_name": LANG_NAMES[s.lang], "gap": s.gap,
            "gap_message": card.gap_message(s.lang) if s.gap else "",
            "hit": hit_view(s.hit, limit=EXCERPT_CONTEXT) if s.hit is not None else None,
        })
    return {
        "id": c.id, "name": c.names.get("en") or c.id, "terms": terms, "definition": definition,
        "sources": sources, "n_gaps": len(card.gaps),
        "ask_href": ask_href(f"What is {c.names.get('en') or c.id}?"),
    }


def concepts_context(cards: list[ConceptCard]) -> dict[str, Any]:
    views = [concept_view(c) for c in cards]
    gaps = {lang: sum(1 for v in views for s in v["sources"] if s["lang"] == lang and s["gap"])
            for lang in SUPPORTED}
    return {
        "concepts": views,
        "gap_summary": [
            {"lang": k, "lang_name": LANG_NAMES[k], "count": n} for k, n in gaps.items()
        ],
    }
