"""The web app factory: HTML pages and the JSON API over one KnowledgeBase.

``create_app(settings)`` builds the app without touching the model or the index; the
knowledge base is opened in the lifespan (or passed in, for tests). Every error goes
through one handler: JSON ``{"ok": false, "error", "status"}`` under ``/api`` and an
HTML page elsewhere.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kb.errors import BusyError, KBError, RemovedError, StaleError
from kb.settings import Settings
from web.headers import HEADERS, PAGE_POLICY, SecurityHeaders, docs_policy

if TYPE_CHECKING:
    from kb.core import KnowledgeBase

__all__ = ["create_app", "create_app_from_env", "open_kb"]

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
DOCS_ASSETS = "/docs-assets"


def templates() -> Jinja2Templates:
    """Jinja2 templates shipped in the package, with autoescaping on for every file."""
    from jinja2 import Environment, FileSystemLoader

    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
    return Jinja2Templates(env=env)


# The modules requests import lazily (to keep `import kb` light), imported when the
# server starts instead: a server running while the code under it is updated otherwise
# imports the new version of one of them on some later request, beside the old versions
# of the rest, and answered 500s until restarted (QA).
REQUEST_MODULES = ("kb.accents", "kb.adding", "kb.answers", "kb.concepts", "kb.definitions",
                   "kb.extract", "kb.families", "kb.spelling", "web.views", "web.uploads")


def preload() -> None:
    import importlib

    for name in REQUEST_MODULES:
        importlib.import_module(name)


def open_kb(settings: Settings) -> KnowledgeBase:
    """Open the knowledge base and load the model and index, logging what takes time."""
    from kb import adding, answers
    from kb.core import KnowledgeBase

    started = time.perf_counter()
    kb = KnowledgeBase.open(settings=settings)
    for article_id in adding.recover_pending(kb, wait=False):
        log.warning("recovered %s: its save was interrupted after indexing", article_id)
    log.info(
        "loading the embedding model %r (the first run builds it into %s: this can take a "
        "while)", settings.model, settings.cache_dir,
    )
    kb.encoder  # noqa: B018 - load the model now, not on the first request
    n = len(kb.articles())
    if n:
        log.info("loading the index at %s (%d articles)", kb.index_dir, n)
        answers.prepare(kb)
        kb.warm_up()
    else:
        log.warning("the index at %s is empty: run `kb ingest` to add articles", kb.index_dir)
    log.info("ready in %.1fs", time.perf_counter() - started)
    return kb


def _finish_saves(timeout: float = 300.0) -> None:
    """A server stopping lets the Add page's long saves (web.jobs) finish first: they
    were dropped without a word (QA). A second interrupt stops it at once; the saves
    are atomic, and their pages then say they were cut short."""
    from web import jobs

    if n := jobs.running():
        log.warning("waiting for %d save%s from the Add page to finish before stopping "
                    "(up to %.0f s; interrupt again to stop now)", n, "" if n == 1 else "s",
                    timeout)
        if left := jobs.wait_running(timeout):
            log.warning("stopping with %d save%s unfinished; the knowledge base holds "
                        "those articles as they were", left, "" if left == 1 else "s")


def create_app(settings: Settings, *, kb: KnowledgeBase | None = None) -> FastAPI:
    """Build the web app.

    Args:
        settings: where the index lives and which model to use.
        kb: an already open knowledge base (tests pass one built with the fake
            encoder); it is used as is and not closed. Without it, the lifespan opens
            ``settings.index_dir`` and closes it on shutdown.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        import anyio

        preload()
        if kb is not None:
            app.state.kb = kb
            yield
            await anyio.to_thread.run_sync(_finish_saves)
            return
        opened = await anyio.to_thread.run_sync(open_kb, settings)
        app.state.kb = opened
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(_finish_saves)
            opened.close()

    app = FastAPI(
        title="kb",
        summary="A multilingual (ko/en/de/vi) marketing knowledge base with cited answers.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served below from local assets, not a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.templates = templates()
    app.state.concepts_cache = {}
    app.state.damage = None  # the damaged database's message, once a request found it
    # HTTP writes in this process, one at a time; reentrant, so that an API write can
    # hold it while it waits a bounded time (web.deps.write_slot) and the save inside
    # takes it again.
    app.state.write_lock = threading.RLock()
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    _mount_docs(app)

    from web import api, pages

    app.include_router(api.router)
    app.include_router(api.meta)
    app.include_router(pages.router)
    app.add_exception_handler(KBError, handle_error)
    app.add_exception_handler(sqlite3.DatabaseError, handle_database_error)
    app.add_exception_handler(RequestValidationError, handle_error)
    app.add_exception_handler(StarletteHTTPException, handle_error)
    app.add_exception_handler(Exception, handle_error)
    app.add_middleware(HeadAsGet)
    app.add_middleware(SecurityHeaders)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, plus the admin token as a bearer scheme on the writes, so /docs
    has an Authorize button and clients see which calls need it."""
    if app.openapi_schema is None:
        from fastapi.openapi.utils import get_openapi

        schema = get_openapi(title=app.title, version=app.version, summary=app.summary,
                             routes=app.routes)
        schema.setdefault("components", {})["securitySchemes"] = {"adminToken": {
            "type": "http", "scheme": "bearer",
            "description": "The server's KB_ADMIN_TOKEN (writes only)."}}
        for operations in schema["paths"].values():
            for op in operations.values():
                if "write" in op.get("tags", ()):
                    op["security"] = [{"adminToken": []}]
        app.openapi_schema = schema
    return app.openapi_schema


class HeadAsGet:
    """HEAD answered as GET without the body, as HTTP asks of every GET resource: FastAPI
    routes only the methods declared, so uptime monitors' HEAD /healthz got a 405."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body"):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


def _mount_docs(app: FastAPI) -> None:
    """Swagger UI at /docs from the assets that the fastapi-offline wheel ships."""
    try:
        import fastapi_offline
    except ImportError:  # documented in the README: /openapi.json still works
        log.info("fastapi-offline is not installed; /docs is off, /openapi.json is served")
        return
    assets = Path(fastapi_offline.__file__).resolve().parent / "static"
    app.mount(DOCS_ASSETS, StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        swagger = get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="kb API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )
        body = _site_docs(bytes(swagger.body).decode())
        return HTMLResponse(body, headers={"Content-Security-Policy": docs_policy(body)})


def _site_docs(page: str) -> str:
    """Swagger UI's page as one of the site's: in English (it had no ``lang``), with a
    way back to the site and its content in a ``main`` landmark (QA23b F5: the main
    navigation's "API" led to a page with neither). The rest is Swagger UI's own."""
    page = page.replace("<html>", '<html lang="en">', 1)
    back = ('<nav aria-label="Site" style="padding: .75rem 1.25rem; font-family: system-ui, '
            'sans-serif"><a href="/">← Marketing knowledge base</a> · '
            '<a href="/openapi.json">/openapi.json</a></nav>\n<main>')
    page = page.replace('<div id="swagger-ui">', back + '<div id="swagger-ui">', 1)
    return page.replace("<script", "</main>\n<script", 1)


def _where(err: dict[str, Any]) -> str:
    """A validation error's field, named as KBError.fields name them ("k", "terms.ko")."""
    return ".".join(str(x) for x in err.get("loc", ()) if x not in ("query", "path", "body"))


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = _where(err)
        parts.append(f"{where}: {err.get('msg', 'invalid value')}" if where else err.get("msg", ""))
    return "; ".join(parts) or "invalid request"


def _allowed(request: Request) -> str:
    """Every method some route takes at this path: Starlette's 405 names only the first
    route that matched the path (``Allow: GET`` where PUT, PATCH and DELETE exist too)."""
    methods = {
        m for m in ("DELETE", "GET", "PATCH", "POST", "PUT")
        if any(r.matches({**request.scope, "method": m})[0] == Match.FULL
               for r in request.app.router.routes)
    }
    if "GET" in methods:
        methods.add("HEAD")  # HeadAsGet answers it
    return ", ".join(sorted(methods))


async def handle_error(request: Request, exc: Exception) -> Response:
    """The one error translation: JSON under /api, an HTML page elsewhere."""
    fields: tuple[str, ...] = ()
    if isinstance(exc, KBError):
        status, message, fields = exc.status, exc.message, exc.fields
    elif isinstance(exc, RequestValidationError):
        status, message = 422, _validation_message(exc)
        fields = tuple(dict.fromkeys(w for err in exc.errors() if (w := _where(err))))
    elif isinstance(exc, StarletteHTTPException):
        status = exc.status_code
        message = str(exc.detail) if exc.detail else "error"
        if status == 404 and exc.detail == "Not Found":
            message = f"nothing at {request.url.path}"
    else:
        log.exception("unexpected error on %s", request.url.path, exc_info=exc)
        status, message = 500, "internal error; the server log has the details"
    # A 500 is answered outside the middleware stack: the security headers go on here.
    headers = {**HEADERS, "Content-Security-Policy": PAGE_POLICY}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, BusyError):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, StaleError):  # the version to read, merge into and send again
        headers["ETag"] = f'"{exc.current}"'
    if isinstance(exc, StarletteHTTPException) and exc.headers:
        headers.update(exc.headers)  # e.g. 405's Allow, which HTTP requires
    if status == 405:
        headers["Allow"] = _allowed(request)
    if request.url.path.startswith("/api/") or request.url.path == "/api":
        body: dict[str, object] = {"ok": False, "error": message, "status": status}
        if fields:
            body["fields"] = list(fields)  # as KBError.to_dict, the CLI's --json, has them
        if isinstance(exc, RemovedError):
            # The API's own way back beside the CLI's, which the message names (the
            # QA22 helper: an API client was told only to run `kb restore` on the server).
            restore = f"/api/articles/{quote(exc.article_id, safe='')}/restore"
            body["error"] = (f"{message}; over the API, POST {restore} with the admin token "
                             "restores it")
        return JSONResponse(body, status_code=status, headers=headers)
    tpl: Jinja2Templates = request.app.state.templates
    from web.views import removed_view, suggestion_views

    close = getattr(exc, "suggestions", ())
    suggestions = suggestion_views(request.app.state.kb, close) if close else []
    # A removed article's page offers its restore, which the one-time notice after the
    # removal did alone (QA22 F9).
    removed = (removed_view(request.app.state.kb, request.app.state.settings, exc.article_id)
               if isinstance(exc, RemovedError) else None)
    # The title a screen reader says first names what is missing (QA23b F4: "Error 404"
    # for a removed article said neither which nor that it was removed).
    what = request.path_params.get("article_id") or unquote(request.url.path)
    title = (f"Removed: {removed['id']}" if removed else f"Not found: {what}"
             if status == 404 else f"Error {status}")
    return tpl.TemplateResponse(
        request, "error.html", {"status": status, "message": message, "page": "error",
                                "suggestions": suggestions, "removed": removed,
                                "title": title},
        status_code=status, headers=headers,
    )


async def handle_database_error(request: Request, exc: Exception) -> Response:
    """A damaged database found by a request: the same 503 and message as opening it
    gives (QA24a F4: a 500 "internal error"). Any other database error is raised on,
    to the 500 handler, which logs it."""
    from web.deps import database_damage

    error = database_damage(request.app, exc)
    if error is None:
        raise exc
    return await handle_error(request, error)


def create_app_from_env() -> FastAPI:
    """The app for ``KB_*`` settings: what each ``kb serve --workers N`` process runs."""
    # A worker is a fresh process, without the CLI's logging setup: without this, the
    # lifespan's report (model load, index, "ready in") was dropped in every worker.
    # (kb serve gives uvicorn its log config, web.logs, which each worker applies; this
    # is for a worker started some other way.)
    settings = Settings.from_env()
    if not logging.getLogger().handlers:
        from web.logs import DATE_FORMAT

        logging.basicConfig(format=settings.log_format, datefmt=DATE_FORMAT)
    logging.getLogger("web").setLevel(logging.INFO)
    _stop_with_parent()
    return create_app(settings)


def _stop_with_parent() -> None:
    """Have Linux send this worker SIGTERM (a graceful stop) when its uvicorn parent
    dies. Killed with SIGKILL, the parent cannot stop its workers, and they went on
    holding the port, serving from stale code (QA9 N7)."""
    parent = os.environ.get("KB_SERVE_PARENT")
    if not parent or not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0) != 0:
        log.warning("cannot arrange to stop with the parent process: errno %d",
                    ctypes.get_errno())
        return
    if str(os.getppid()) != parent:  # the parent died before the line above
        os.kill(os.getpid(), signal.SIGTERM)
