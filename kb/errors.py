"""The one hierarchy of domain errors. Each edge (CLI, web) translates them once."""

from __future__ import annotations


class KBError(Exception):
    """Base class for every error kb raises on purpose."""

    status = 500
    # The input fields the error is about, named as the JSON API names them ("id",
    # "text", "tags", "terms.ko", "names.de", "token", "confirm"): the API lists them
    # and each form marks those fields (QA23b F3). Empty: no field is at fault.
    fields: tuple[str, ...] = ()

    def __init__(self, message: str, *, fields: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        if fields:
            self.fields = fields

    def to_dict(self) -> dict[str, object]:
        """The error as the JSON API and the CLI's ``--json`` give it."""
        body: dict[str, object] = {"ok": False, "error": self.message, "status": self.status}
        if self.fields:
            body["fields"] = list(self.fields)
        return body


class BadInputError(KBError):
    """A query or request parameter the user can fix."""

    status = 400


class ArticleError(BadInputError):
    """An article file that cannot be ingested (empty, binary, wrong encoding...)."""

    def __init__(self, source: str, problem: str, *, fields: tuple[str, ...] = ()) -> None:
        super().__init__(f"{source}: {problem}", fields=fields)
        self.source = source
        self.problem = problem


class TooLargeError(BadInputError):
    status = 413


class UnsupportedMediaError(BadInputError):
    """A request body in a format the endpoint does not read."""

    status = 415


class AuthError(KBError):
    """A write over HTTP without the right admin token."""

    status = 401
    fields = ("token",)


class WritesDisabledError(KBError):
    """Writes over HTTP are off because no admin token is configured."""

    status = 403


class NotFoundError(KBError):
    status = 404

    def __init__(self, message: str, *, suggestions: tuple[tuple[str, str], ...] = (),
                 fields: tuple[str, ...] = ()) -> None:
        super().__init__(message, fields=fields)
        # (article id, title) pairs close to what was asked for: "did you mean".
        self.suggestions = suggestions


class RemovedError(NotFoundError):
    """The article was removed, and its file is kept to restore it (``kb restore``): an
    edge may offer the restore where it says so (QA22 F9: the web page told its reader
    to run a command on the server)."""

    def __init__(self, message: str, *, article_id: str) -> None:
        super().__init__(message)
        self.article_id = article_id


class ConflictError(KBError):
    """The write would duplicate or clash with what the knowledge base already has."""

    status = 409

    def __init__(self, message: str, *, article_id: str | None = None,
                 reason: str | None = None, fields: tuple[str, ...] = ()) -> None:
        super().__init__(message, fields=fields)
        self.article_id = article_id  # the stored article it clashes with, if one
        # "duplicate" (its text is stored under article_id) or "exists" (its id is
        # taken), for an edge that words the way out its own way (the Add page).
        self.reason = reason


class StaleError(ConflictError):
    """A write made from a version of an article or concept that another write has
    changed since: it would undo that change unseen (QA17: the last of two editors'
    saves won, silently). ``current`` is the version now stored, to save from."""

    status = 412

    def __init__(self, message: str, *, current: str, article_id: str | None = None) -> None:
        super().__init__(message, article_id=article_id, reason="changed")
        self.current = current


class ModelError(KBError):
    """The embedding model could not be built or loaded."""


class IndexMismatchError(KBError):
    """The index on disk was built differently from what is configured now."""

    status = 409


class IndexCorruptError(KBError):
    """The index directory is inconsistent or unreadable."""

    # Service unavailable until the operator rebuilds the index: not a fault of the
    # request, nor one a retry of it fixes on its own (QA24a F4: it was a 500).
    status = 503


class StorageError(KBError):
    """A file or directory kb has to write could not be written (permissions, a full
    disk, a read-only mount). What was there before is left as it was."""

    status = 503


class BusyError(KBError):
    """Another write holds the index (a long save, a `kb add` in another process) for
    longer than a request waits: the write was not applied; send it again later."""

    status = 503

    def __init__(self, message: str, retry_after: int = 30) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class IndexMovedError(StorageError):
    """The index directory was deleted, moved or replaced while kb had it open: a write
    would go into the orphaned database and be lost, so writes are refused."""


class ConfigError(KBError, ValueError):
    """A setting (a ``KB_*`` variable or an option) with a value kb cannot use."""
