"""The HTML pages: each handler parses its parameters, asks views for a context, renders."""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from web import views
from web.deps import KB, parse_langs

router = APIRouter(include_in_schema=False)
_concepts_lock = threading.Lock()


def render(request: Request, name: str, page: str, ctx: dict[str, Any]) -> HTMLResponse:
    tpl = request.app.state.templates
    return tpl.TemplateResponse(request, name, {**ctx, "page": page})  # type: ignore[no-any-return]


@router.get("/", response_class=HTMLResponse)
def ask_page(
    request: Request,
    kb: KB,
    q: Annotated[str | None, Query(max_length=500)] = None,
    lang: Annotated[list[str] | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    """The ask page: the search box, language chips, examples, and the cited answer."""
    ctx = views.ask_context(kb, q, parse_langs(lang))
    return render(request, "ask.html", "ask", ctx)


@router.get("/articles/{article_id}", response_class=HTMLResponse)
def article_page(
    request: Request,
    kb: KB,
    article_id: Annotated[str, Path(min_length=1, max_length=200)],
    hl: Annotated[str | None, Query(pattern=r"^\d{1,9}-\d{1,9}$")] = None,
) -> HTMLResponse:
    """One article, with a chunk anchor per passage and the linked sentence highlighted."""
    return render(request, "article.html", "article", views.article_context(kb, article_id, hl))


@router.get("/library", response_class=HTMLResponse)
def library_page(request: Request, kb: KB) -> HTMLResponse:
    return render(request, "library.html", "library", views.library_context(kb))


@router.get("/concepts", response_class=HTMLResponse)
def concepts_page(request: Request, kb: KB) -> HTMLResponse:
    """Concept cards, built once per index version (a few dozen searches) and cached."""
    from kb.concepts import concept_cards

    cache: dict[int, Any] = request.app.state.concepts_cache
    version = kb.store.version
    with _concepts_lock:
        if version not in cache:
            cache.clear()
            cache[version] = views.concepts_context(concept_cards(kb))
        ctx = cache[version]
    return render(request, "concepts.html", "concepts", ctx)
