"""The JSON API: thin handlers over KnowledgeBase, validated at the edge."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from web.deps import KB, LangParam, parse_langs

router = APIRouter()

Q = Annotated[
    str,
    Query(min_length=1, max_length=500, description="The question or keywords (ko/en/de/vi)."),
]
K = Annotated[int, Query(ge=1, le=50, description="How many passages to return.")]


@router.get("/api/search", tags=["api"], summary="Hybrid search over passages")
def search(kb: KB, q: Q, k: K = 10, lang: LangParam = None) -> dict[str, Any]:
    """Passages ranked by dense + BM25 fusion: `{"query", "lang", "hits", "took_ms"}`.

    `lang` limits the passages' languages, comma-separated (e.g. `ko,de`).
    """
    return kb.search(q, k=k, langs=parse_langs(lang)).to_dict()


@router.get("/api/ask", tags=["api"], summary="An extractive answer with citations")
def ask(kb: KB, q: Q, lang: LangParam = None) -> dict[str, Any]:
    """2-5 sentences quoted from the articles, each with the citation numbers of its passage.

    `found` is false (with a `message`) when no passage clearly addresses the question.
    Each citation is a passage (all the fields of a search hit) plus the absolute span
    `sentence_start`-`sentence_end` of the cited sentence in the article's cleaned text.
    """
    started = time.perf_counter()
    out = kb.ask(q, langs=parse_langs(lang)).to_dict()
    out["took_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return out


@router.get("/api/articles", tags=["api"], summary="All articles")
def articles(kb: KB) -> dict[str, Any]:
    """Every article's id, title, language, source, tags, chunk count and date added."""
    items = kb.articles()
    return {"count": len(items), "articles": items}


@router.get("/api/articles/{article_id}", tags=["api"], summary="One article")
def article(
    kb: KB, article_id: Annotated[str, Path(min_length=1, max_length=200)]
) -> dict[str, Any]:
    """The cleaned text, the metadata and the chunks' character offsets into the text."""
    return kb.article(article_id)


@router.get("/healthz", tags=["meta"], summary="Liveness and index summary")
def healthz(request: Request) -> dict[str, Any]:
    kb = getattr(request.app.state, "kb", None)
    if kb is None:
        return {"ok": False, "status": "starting"}
    stats = kb.stats()
    return {
        "ok": True,
        "status": "ready",
        "articles": stats.get("articles"),
        "chunks": stats.get("chunks"),
        "model": stats.get("model"),
        "index_version": stats.get("version"),
    }
