"""The server's log: one format, with the time, for uvicorn's lines and kb's (QA24a F6:
`kb serve > kb.log` had uvicorn's default format, without a time on any line), and one
line per write naming what it changed (:func:`write`)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

DATE_FORMAT = "%Y-%m-%d %H:%M:%S"  # 2026-12-07 12:00:00, the server's local time

writes = logging.getLogger("web.writes")


def config(fmt: str, *, verbose: bool = False) -> dict[str, Any]:
    """The ``logging.config.dictConfig`` dict for ``kb serve`` (``fmt``: the settings'
    ``log_format``, ``KB_LOG_FORMAT``), given to uvicorn (which
    applies it in every worker process too). Every line goes to stderr, uvicorn's access
    lines included, so that one file holds them in order. ``web`` logs at INFO (the
    model load, each write); ``kb`` at WARNING, or INFO with ``kb -v``."""
    handler = {"class": "logging.StreamHandler", "formatter": "kb",
               "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"kb": {"format": fmt, "datefmt": DATE_FORMAT}},
        "handlers": {"kb": handler},
        "loggers": {
            # uvicorn's own handlers are replaced by the root's (propagate).
            "uvicorn": {"level": "INFO", "handlers": [], "propagate": True},
            "uvicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
            "uvicorn.access": {"level": "INFO", "handlers": [], "propagate": True},
            "web": {"level": "INFO"},
            "kb": {"level": "INFO" if verbose else "WARNING"},
            # faiss says at INFO which build it loads (kb.cli does the same).
            "faiss.loader": {"level": "WARNING"},
        },
        "root": {"level": "INFO" if verbose else "WARNING", "handlers": ["kb"]},
    }


def write(what: str, name: str, *, passages: int | None = None, lang: str | None = None,
          detail: str = "") -> None:
    """One INFO line for a write from the web (API or pages): what it did, to which
    article or concept. The access line beside it says who and when; this one says
    what (QA24a F6: a POST's article id was in no log line)."""
    parts = [f"{what} {name}"]
    if lang:
        parts.append(f"[{lang}]")
    if passages is not None:
        parts.append(f"({passages} passage{'' if passages == 1 else 's'})")
    if detail:
        parts.append(detail)
    writes.info(" ".join(parts))


def saved(res: Any) -> None:
    """An article saved by POST, PUT or the Add and Edit pages (a kb.adding.AddResult)."""
    if not res.saved:
        return  # a preview, or a re-paste of the stored text: nothing was written
    what = ("article unchanged" if res.unchanged else "replaced article" if res.exists
            else "added article")
    write(what, res.article_id, passages=res.chunks, lang=res.lang)


def edited(res: Any, fields: Sequence[str]) -> None:
    """An article's metadata changed by PATCH (``fields``: those sent)."""
    what = "article unchanged" if res.identical else "edited article"
    write(what, res.article_id, passages=res.chunks, lang=res.lang,
          detail=f"fields: {', '.join(fields)}" if fields and not res.identical else "")


@contextmanager
def removing(kb: Any, article_id: str) -> Iterator[None]:
    """Around a removal (DELETE, the Edit page's): logs it with the passages it had,
    counted before they are gone, once it succeeded."""
    passages = kb.store.chunk_counts([article_id]).get(article_id)
    yield
    write("removed article", article_id, passages=passages)


def restored(res: Any) -> None:
    """A removed article put back (a kb.adding.Restored)."""
    write("restored article", res.article_id, passages=res.chunks,
          detail=f"from {res.removed_file}")


def concept(what: str, concept: Any) -> None:
    """A glossary concept added, replaced or removed (``what``)."""
    langs = [lang for lang, terms in getattr(concept, "terms", {}).items() if terms]
    write(f"{what} concept", concept.id, detail=f"({', '.join(langs)})" if langs else "")
