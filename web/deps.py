"""What the API handlers and the pages share: the knowledge base and parameter parsing."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Query, Request

from kb.core import KnowledgeBase
from kb.errors import BadInputError, BusyError, KBError
from kb.language import check_lang

if TYPE_CHECKING:
    from kb.concepts import ConceptCard

log = logging.getLogger(__name__)
_cards_lock = threading.Lock()


class NotReadyError(KBError):
    """A request arrived before the lifespan finished opening the knowledge base."""

    status = 503


def get_kb(request: Request) -> KnowledgeBase:
    kb = getattr(request.app.state, "kb", None)
    if kb is None:
        raise NotReadyError("the knowledge base is still loading; try again in a moment")
    return kb  # type: ignore[no-any-return]


async def _kb_dependency(request: Request) -> KnowledgeBase:
    # async, as known_query: FastAPI runs a plain def dependency in its thread pool, and
    # the two hops cost /api/search about 0.6 ms over HTTP on two cores (stop 41).
    return get_kb(request)


KB = Annotated[KnowledgeBase, Depends(_kb_dependency)]


def database_damage(app: Any, exc: BaseException) -> KBError | None:
    """The IndexCorruptError for SQLite's "database disk image is malformed" raised by a
    request or a health check, None for any other error; the first one is logged and
    remembered, so that /healthz reports it from then on (QA24a F4: every search failed
    with a 500 while /healthz said "ready"). It holds until the server restarts: the
    repair is a new index directory, which a running server does not take up anyway."""
    from kb.store import damaged

    kb = getattr(app.state, "kb", None)
    path = kb.store.path if kb is not None else app.state.settings.index_dir / "kb.sqlite"
    error = damaged(exc, path)
    if error is not None and getattr(app.state, "damage", None) is None:
        app.state.damage = error.message
        log.error("%s", error.message)
    return error

# How long an API write waits for the one before it. A 5-page article saves in 1-2 s;
# a long one runs as a job for minutes. Waiting for it, a client that gave up had its
# DELETE applied minutes later, with no line in the access log (QA23a F1).
WRITE_WAIT = 15.0
RETRY_AFTER = 30  # s, the Retry-After of the 503 that says so


@contextmanager
def write_slot(request: Request, kb: KnowledgeBase | None = None) -> Iterator[None]:
    """This server's write lock, and with ``kb`` the index's (another process's `kb
    add`), each waited for at most WRITE_WAIT; else BusyError, and nothing is written.
    Both are reentrant in this thread, so the write inside takes them without waiting."""
    from filelock import Timeout

    lock = request.app.state.write_lock
    if not lock.acquire(timeout=WRITE_WAIT):
        raise BusyError("another save is running on this server; nothing was changed, "
                        "send the request again later", RETRY_AFTER)
    try:
        with ExitStack() as stack:
            if kb is not None:
                try:
                    stack.enter_context(kb.writing(timeout=WRITE_WAIT))
                except Timeout:
                    raise BusyError("another process is writing the index (a kb add or "
                                    "ingest?); nothing was changed, send the request again "
                                    "later", RETRY_AFTER) from None
            yield
    finally:
        lock.release()

# A list, so that ?lang=ko&lang=en means both (a plain str kept only the last one).
LangParam = Annotated[
    list[str] | None,
    Query(
        max_length=40,
        description="Only passages in these languages: ko, en, de, vi; comma-separated "
        "(`lang=ko,de`) or repeated (`lang=ko&lang=de`).",
        examples=[["ko,de"]],
    ),
]


def accepted_query(dependant: Any) -> list[str]:
    """The query parameters an endpoint declares, its dependencies' included."""
    names = [f.alias for f in dependant.query_params]
    for sub in dependant.dependencies:
        names += [n for n in accepted_query(sub) if n not in names]
    return names


async def known_query(request: Request) -> None:
    """Refuse (400) a query parameter the endpoint does not declare. FastAPI ignores
    one: ``/api/search?q=upselling&tag=pricing`` answered 200 with every article's
    passages, and a script believed it had filtered (QA21 F7). Derived from the
    route's own parameters, so that a new endpoint or parameter needs nothing here.
    async: it only reads the request, and FastAPI would run a plain def in its thread
    pool, a hop per request."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    accepted = accepted_query(dependant)
    unknown = [n for n in dict.fromkeys(request.query_params) if n not in accepted]
    if unknown:
        import difflib

        which = ", ".join(repr(n) for n in unknown)
        close = [m for n in unknown for m in difflib.get_close_matches(n, accepted, 1)]
        takes = ", ".join(accepted) if accepted else "no query parameters"
        raise BadInputError(
            f"unknown query parameter{'s' if len(unknown) > 1 else ''} {which}"
            + (f" (did you mean {', '.join(close)}?)" if close else "")
            + f": {request.url.path} takes {takes}")


def parse_langs(value: str | list[str] | None) -> list[str] | None:
    """``"ko, de"`` (or repeated ``lang`` values) to ``["de", "ko"]``; unknown codes are a 400."""
    if not value:
        return None
    items = [value] if isinstance(value, str) else value
    codes = {check_lang(x) for item in items for x in item.split(",") if x.strip()}
    return sorted(codes) or None


def concept_cards(request: Request, kb: KnowledgeBase) -> tuple[list[ConceptCard], Any]:
    """The concept cards and the Concepts page's context of them, built once per index
    and glossary version (a few dozen searches) and cached: the page and
    ``GET /api/concepts/{id}/card`` show the same cards."""
    from kb.concepts import concept_cards as build
    from web import views

    cache: dict[Any, Any] = request.app.state.concepts_cache
    version = (kb.store.version, kb.glossary_version)  # an edited glossary shows at once
    with _cards_lock:
        if version not in cache:
            cache.clear()
            cards = build(kb)
            cache[version] = (cards, views.concepts_context(cards))
        return cache[version]  # type: ignore[no-any-return]
