"""Writes over HTTP: the admin token, a bounded request body, and the article's fields.

The API (``web/api.py``) and the Add page (``web/pages.py``) share all of it. The body
is read here, asynchronously: waiting on the network never blocks the event loop, and
the size limit is enforced twice, from ``Content-Length`` before reading and by
counting the bytes as they arrive (a chunked body has no length). The handlers that
then write the index are plain ``def`` and run in the threadpool.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import re
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import FormParser, MultiPartException, MultiPartParser

from kb import adding
from kb.adding import AddResult
from kb.articles import MAX_TAG_CHARS, MAX_TAGS, same_id
from kb.core import KnowledgeBase, ProgressFn
from kb.errors import (
    AuthError,
    BadInputError,
    NotFoundError,
    TooLargeError,
    UnsupportedMediaError,
    WritesDisabledError,
)
from kb.glossary_edit import ConceptEdit
from kb.language import SUPPORTED
from kb.settings import Settings
from web import logs

__all__ = [
    "ArticleInput", "ENABLE_HINT", "authorize", "bearer_token", "if_match", "read_article_input",
    "read_token_field", "save", "writes_enabled",
]

ENABLE_HINT = (
    "writes over HTTP are disabled because no admin token is configured. To enable them, "
    "start the server with KB_ADMIN_TOKEN set to a long random secret, for example "
    "`KB_ADMIN_TOKEN=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))') "
    "kb serve`, and send it as `Authorization: Bearer <token>` or in the form field "
    "`token`. Locally, `kb add FILE` works without it"
)

# The fields of an article write; the Add page also sends which button was pressed and
# its "replace" checkbox.
API_FIELDS = ("file", "text", "id", "title", "lang", "source", "tags", "preview", "token")
# The form fields a preview fills in from the file it read, and the ArticleInput
# attribute each lands in.
FILLED = {"title": "title", "id": "article_id", "source": "source", "tags": "tags"}
# The Add page's own fields. ``carried`` and ``auto_<field>`` say what a preview filled
# in (a file's text, moved into the text box; the title, id, source and tags it read),
# so that another file chosen next replaces them instead of clashing or being saved
# with the first file's source.
AUTO = tuple(f"auto_{k}" for k in FILLED)
# The Edit page's metadata as it was opened (hidden fields): a save refused as stale takes
# the current value of each field its editor left as opened (QA18: "Save again" put back
# the tags another editor had changed meanwhile).
OPENED = ("opened_title", "opened_lang", "opened_source", "opened_tags")
# ``version``: the Edit page's article as it was opened (If-Match, for a form).
PAGE_FIELDS = API_FIELDS + ("action", "replace", "edit", "carried", "version") + AUTO + OPENED
MAX_CHARS = {"id": 120, "title": 300, "lang": 10, "source": 2000, "tags": 1000,
             "token": 500, "preview": 10, "action": 10, "replace": 10, "edit": 200,
             "version": 100, "opened_title": 300, "opened_lang": 10,
             "opened_source": 2000, "opened_tags": 1000}
# Room for the multipart boundaries and the small fields around the file or text.
SLACK = 64 * 1024
TRUE, FALSE = {"1", "true", "yes", "on"}, {"", "0", "false", "no", "off"}


@dataclass(frozen=True)
class ArticleInput:
    """One article write as sent: the content and the optional fields, unvalidated
    beyond their shape (kb.adding validates the content itself)."""

    data: bytes | None = None  # the file's bytes, or the pasted text as UTF-8
    filename: str | None = None  # None: pasted text
    text: str | None = None  # the pasted text as sent (to show it again in the form)
    article_id: str | None = None
    title: str | None = None
    lang: str | None = None
    source: str | None = None
    tags: tuple[str, ...] | None = None
    preview: bool = False
    token: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def writes_enabled(settings: Settings) -> bool:
    return bool(settings.admin_token)


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header; None without the header."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("send the admin token as `Authorization: Bearer <token>`")
    return token.strip()


def if_match(header: str | None) -> str | None:
    """The version an ``If-Match`` header names (``*``: any); None without one. One
    version only: a write is made from the one version its writer read."""
    if header is None:
        return None
    tags = [t.strip() for t in header.split(",") if t.strip()]
    if len(tags) != 1:
        raise BadInputError('If-Match takes one version: the ETag that GET sent, such as '
                            'If-Match: "3f9c0a1b2c3d4e5f"')
    tag = tags[0].removeprefix("W/")
    return tag if tag == "*" else tag.strip('"')


def none_match(header: str | None, version: str) -> bool:
    """Whether an ``If-None-Match`` header names ``version`` (or is ``*``): a GET of it
    is then a 304. Weak tags compare as strong ones, as RFC 9110 asks of this header."""
    if header is None:
        return False
    tags = {t.strip().removeprefix("W/").strip('"') for t in header.split(",")}
    return "*" in tags or version in tags


def etag(version: str) -> dict[str, str]:
    """The ``ETag`` header of an article or concept at ``version``."""
    return {"ETag": f'"{version}"'}


NEEDS_TOKEN = ("this write needs the admin token (KB_ADMIN_TOKEN): send "
               "`Authorization: Bearer <token>` or the form field `token`")


def authorize(settings: Settings, token: str | None) -> None:
    """403 when writes are disabled, 401 when the token is missing or wrong.

    The comparison takes the same time wherever the tokens differ.
    """
    expected = settings.admin_token
    if not expected:
        raise WritesDisabledError(ENABLE_HINT)
    if not token:
        raise AuthError(NEEDS_TOKEN)
    if not hmac.compare_digest(token.encode(), expected.encode()):
        raise AuthError("the admin token is wrong")


# -- the body -----------------------------------------------------------------------------
def _body_limit(settings: Settings) -> int:
    return settings.max_upload_bytes + SLACK


def _too_large(size: int | None, upload_limit: int | None) -> TooLargeError:
    """413 for a body over its limit; ``upload_limit`` None: an edit, not an upload."""
    if upload_limit is not None:
        return adding.too_large("the request", size, upload_limit)
    got = f"is {adding.format_size(size)}" if size is not None else "is too large"
    return TooLargeError(f"the request {got}; an edit (title, source, tags or language) "
                         f"is at most {adding.format_size(SLACK)}")


def _check_length(request: Request, limit: int, upload_limit: int | None) -> None:
    declared = request.headers.get("content-length")
    if declared is None:
        return
    if not declared.strip().isdigit():
        raise BadInputError("the Content-Length header is not a number")
    if int(declared) > limit:
        raise _too_large(int(declared), upload_limit)


async def _counted(
    request: Request, limit: int, upload_limit: int | None
) -> AsyncIterator[bytes]:
    """The body as it arrives, stopped with a 413 as soon as it passes ``limit``."""
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            raise _too_large(None, upload_limit)
        yield chunk


async def _read(request: Request, limit: int, upload_limit: int | None) -> bytes:
    _check_length(request, limit, upload_limit)
    return b"".join([c async for c in _counted(request, limit, upload_limit)])


async def _form(request: Request, settings: Settings, allowed: tuple[str, ...]) -> FormData:
    """A multipart or URL-encoded body, parsed while it streams in (the file part is
    spooled to a temporary file past 1 MB, never held whole in memory twice)."""
    limit, upload_limit = _body_limit(settings), settings.max_upload_bytes
    _check_length(request, limit, upload_limit)
    stream = _counted(request, limit, upload_limit)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    parser: MultiPartParser | FormParser
    if kind == "multipart/form-data":
        parser = MultiPartParser(
            request.headers, stream, max_files=1, max_fields=len(allowed) + 1,
            max_part_size=upload_limit + 1,  # pasted text; kb.adding gives the exact 413
        )
    else:
        parser = FormParser(request.headers, stream, max_fields=len(allowed) + 1,
                            max_part_size=upload_limit + 1)
    try:
        return await parser.parse()
    except MultiPartException as exc:
        message = exc.message
        if message.startswith(("Part exceeded", "Field exceeded")):
            raise adding.too_large("a form field", None, upload_limit) from None
        raise BadInputError(f"the form data cannot be read: {message}") from None


_SURROGATE = re.compile("[\ud800-\udfff]")


def _text_field(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise BadInputError(f"the field {name!r} must be text", fields=(name,))
    if _SURROGATE.search(value):  # JSON's "\ud800": no text can be saved with it (a 500)
        raise BadInputError(f"the field {name!r} is not valid Unicode (a lone surrogate)",
                            fields=(name,))
    if len(value) > MAX_CHARS.get(name, 10**9):
        raise BadInputError(f"the field {name!r} is longer than {MAX_CHARS[name]} characters",
                            fields=(name,))
    return value


def _flag(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if not isinstance(value, str):  # QA23a F6: JSON's 1 was told "must be text"
        raise BadInputError(f"the field {name!r} must be true or false, not {value!r}",
                            fields=(name,))
    text = _text_field(name, value).strip().lower()
    if text in TRUE or text in FALSE:
        return text in TRUE
    raise BadInputError(f"the field {name!r} must be true or false, not {value!r}",
                        fields=(name,))


def _tags(value: object) -> tuple[str, ...]:
    """Tags as sent: one comma-separated text (a form, or JSON), or a JSON list of tags.
    A tag in a list that holds a comma is refused: kb splits tags at commas
    (articles.tag_tuple), and "a,b" silently became two tags (QA22 F12). Blank tags
    are dropped, in a list as between commas."""
    if isinstance(value, str):
        items: list[object] = list(_text_field("tags", value).split(","))
    elif isinstance(value, list) and all(isinstance(t, str) for t in value):
        items = value
        comma = next((t for t in value if "," in t), None)
        if comma is not None:
            raise BadInputError(f"a tag cannot contain a comma: {comma!r}; send each tag as "
                                'its own item, such as ["pricing", "b2b"]', fields=("tags",))
    else:  # QA: [1] was told "must be text", though a list is what it should be
        raise BadInputError("the field 'tags' must be a list of texts, such as "
                            '["pricing", "b2b"], or one comma-separated text',
                            fields=("tags",))
    tags = tuple(_text_field("tags", t).strip() for t in items)
    tags = tuple(t for t in tags if t)
    if len(tags) > MAX_TAGS or any(len(t) > MAX_TAG_CHARS for t in tags):
        raise BadInputError(f"at most {MAX_TAGS} tags of at most {MAX_TAG_CHARS} characters each",
                            fields=("tags",))
    return tags  # sent, even empty: given (it clears the tags on a replace)


async def _fields(request: Request, settings: Settings, allowed: tuple[str, ...], *,
                  strict: bool = True) -> dict[str, Any]:
    """The body's fields by content type: multipart or URL-encoded form, or JSON. A file
    comes back as ``fields["file"] = (filename, bytes)``. ``strict``: a field not in
    ``allowed`` is a 400 here; otherwise the caller checks (after the token)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = await _form(request, settings, allowed)
        fields: dict[str, Any] = {}
        upload = None
        try:
            _not_json_as_form(kind, form)
            for key, value in form.multi_items():
                if key in fields or (key == "file" and upload is not None):
                    raise BadInputError(f"the field {_name(key)} is given twice",
                                        fields=(key,) if key in allowed else ())
                if key == "file" and value == "":
                    continue  # an empty file input, sent without a file name
                if key == "file":
                    if not isinstance(value, UploadFile):
                        raise BadInputError(
                            "the field 'file' must be a file upload (multipart/form-data)",
                            fields=("file",))
                    upload = value
                elif isinstance(value, UploadFile):
                    raise BadInputError(f"the field {_name(key)} must be text, not a file",
                                        fields=(key,) if key in allowed else ())
                else:
                    fields[key] = value
            if strict:
                _only(allowed, [*fields, *(["file"] if upload else [])])
            if upload is not None and not upload.filename and not upload.size:
                upload = None  # an HTML form's file input left empty
            data = await upload.read() if upload is not None else None
        finally:
            await form.close()
        if upload is not None:
            fields["file"] = (upload.filename or "upload", data)
        return fields
    if kind == "application/json":
        body = await _read(request, _body_limit(settings), settings.max_upload_bytes)
        payload = _json_object(body, '{"text": "..."}')
        if "file" in payload:
            raise BadInputError("JSON cannot carry a file: send multipart/form-data with the "
                                "field 'file', or put the article in 'text'")
        if strict:
            _only(allowed, list(payload))
        return payload
    if not kind and not await _read(request, _body_limit(settings), settings.max_upload_bytes):
        return {}  # no body at all
    raise UnsupportedMediaError(
        f"cannot read a body of type {kind or 'unknown'!r}: send multipart/form-data "
        "(field 'file' or 'text'), a URL-encoded form, or JSON {\"text\": \"...\"}"
    )


def _not_json_as_form(kind: str, form: FormData) -> None:
    """415 for JSON sent as a form: ``curl -d '{"text": ...}'`` sends it as
    ``application/x-www-form-urlencoded``, and the whole body became one field's name,
    which "unknown field '{...}'" echoed back, token and text included (QA23a F4). No
    field name starts with ``{`` or ``[``; nothing of the body is quoted."""
    first = next(iter(form.keys()), "")
    if first.lstrip().startswith(("{", "[")):
        raise UnsupportedMediaError(
            f"the body looks like JSON but is sent as {kind!r}: send it with "
            "Content-Type: application/json (curl: -H 'Content-Type: application/json', "
            "or --json)")


def _json_object(body: bytes, example: str) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadInputError(f"the body is not valid JSON: {exc}") from None
    except RecursionError:  # a 500 with a traceback in the log (QA23a F5: [[[[...]]]])
        raise BadInputError("the body is not valid JSON: nested too deeply") from None
    if not isinstance(payload, dict):
        raise BadInputError(f"the JSON body must be an object such as {example}")
    return payload


def _name(key: str) -> str:
    """A field's name as a message quotes it: at most 40 characters, since a body sent
    the wrong way can be one long name (QA23a F4: a whole JSON body, token included)."""
    return repr(key if len(key) <= 40 else key[:40] + "…")


def _only(allowed: tuple[str, ...], keys: list[str]) -> None:
    unknown = sorted(set(keys) - set(allowed))
    if unknown:
        raise BadInputError(
            f"unknown field {_name(unknown[0])}; the fields are {', '.join(allowed)}")


async def _token_then_fields(request: Request, settings: Settings,
                             allowed: tuple[str, ...]) -> dict[str, Any]:
    """The body's fields after the token check: a bearer header before the body is
    read, else the body's ``token`` field before anything else about the body is
    said. QA23a F4: a write with no token was told what was wrong with its body (a
    400 that echoed it) instead of 401. A body too unreadable to hold a token is a
    401 that says why; a 413 still comes first, from Content-Length before reading."""
    header = bearer_token(request)
    if header is not None or not writes_enabled(settings):
        authorize(settings, header)
        return await _fields(request, settings, allowed)
    try:
        fields = await _fields(request, settings, allowed, strict=False)
    except TooLargeError:
        raise
    except BadInputError as exc:
        raise AuthError(f"{NEEDS_TOKEN}; no `token` field could be read from the body: "
                        f"{exc.message}") from None
    token = fields.get("token")
    authorize(settings, token if isinstance(token, str) else None)
    _only(allowed, list(fields))
    return fields


async def read_article_input(
    request: Request,
    settings: Settings,
    *,
    allowed: tuple[str, ...] = API_FIELDS,
    check_token: bool = True,
) -> ArticleInput:
    """Read and check the shape of one article write (file or text plus fields).

    With ``check_token``, a bearer header is checked before the body is read, and
    otherwise the ``token`` field as soon as the fields are read, before anything else
    is looked at (:func:`_token_then_fields`).
    """
    fields = await (_token_then_fields(request, settings, allowed) if check_token
                    else _fields(request, settings, allowed))
    text = fields.get("text")
    if text is not None:
        text = _text_field("text", text)
    upload = fields.get("file")
    # A title or source that is sent, even empty, is given (empty clears it on a
    # replace); one not sent is kept from the article a replace replaces.
    opt = {k: _text_field(k, fields[k]).strip() for k in ("id", "title", "source", "token")
           if fields.get(k) is not None}
    lang = _text_field("lang", fields.get("lang") or "").strip().lower()
    form = ArticleInput(
        data=upload[1] if upload is not None else (text or "").encode(),
        filename=upload[0] if upload is not None else None,
        text=text,
        article_id=opt.get("id") or None,
        title=opt.get("title"),
        lang=None if lang in ("", "auto") else lang,
        source=opt.get("source"),
        tags=_tags(fields["tags"]) if fields.get("tags") is not None else None,
        preview=_flag("preview", fields.get("preview", False)),
        token=opt.get("token") or None,
        extra={k: _text_field(k, fields[k])
               for k in ("action", "replace", "edit", "carried", "version", *AUTO, *OPENED)
               if k in fields},
    )
    if upload is not None:
        form = _new_file_wins(form)
        text = form.text
    if upload is not None and text and text.strip():
        raise FormError("send either a file or text, not both", form)
    if upload is None and text is None:
        raise FormError("the article is missing: upload a file (field 'file') or paste its "
                        "text (field 'text')", form)
    return form


def carried_digest(text: str) -> str:
    """A short digest of a text the Add page moved into its text box."""
    return hashlib.sha256(text.replace("\r\n", "\n").encode()).hexdigest()[:16]


def _new_file_wins(form: ArticleInput) -> ArticleInput:
    """A file sent from the Add page after a preview of another: the text, title and id
    that preview filled in are dropped, as the user would expect, unless they were
    edited since (then the file and the text clash as usual)."""
    carried = form.extra.get("carried")
    if not carried:
        return form
    changes: dict[str, Any] = {}
    if form.text is not None and carried_digest(form.text) == carried:
        changes["text"] = None
    changes.update({FILLED[name]: None for name in still_filled(form)})
    return dataclasses.replace(form, **changes) if changes else form


def shown(form: ArticleInput, name: str) -> str:
    """A filled-in field's value as the form shows it (tags comma-separated)."""
    value = getattr(form, FILLED[name])
    return ", ".join(value) if name == "tags" and value else (value or "")


def still_filled(form: ArticleInput) -> dict[str, str]:
    """The fields an earlier preview filled in that the user has not changed since:
    {field: value}."""
    out = {}
    for name in FILLED:
        value = shown(form, name)
        if value and value == form.extra.get(f"auto_{name}"):
            out[name] = value
    return out


class FormError(BadInputError):
    """A write whose fields were read but do not make an article: the Add page shows
    them again with the error instead of an empty form."""

    def __init__(self, message: str, form: ArticleInput,
                 fields: tuple[str, ...] = ("text", "file")) -> None:
        super().__init__(message, fields=fields)
        self.form = form


EDIT_FIELDS = ("title", "source", "tags", "lang", "token")


@dataclass(frozen=True)
class ArticleEditInput:
    """A metadata edit (PATCH) as sent; None: not sent, kept as it is."""

    title: str | None = None
    source: str | None = None
    tags: tuple[str, ...] | None = None
    lang: str | None = None


async def read_edit(request: Request, settings: Settings) -> ArticleEditInput:
    """Read and check a PATCH body: a small JSON object of the fields to change, read
    only after a bearer header is checked (or checked by its ``token`` field), and
    checked like the other writes' fields (400, 413, 415; never 422)."""
    header = bearer_token(request)
    if not writes_enabled(settings) or header is not None:
        authorize(settings, header)
    # Titles, sources and tags fit in SLACK many times over; no upload comes this way.
    body = await _read(request, SLACK, None)
    try:
        payload = _edit_payload(request, body)
    except BadInputError as exc:
        if header is None:  # the token first, as for the other writes (QA23a F4)
            raise AuthError(f"{NEEDS_TOKEN}; no `token` field could be read from the "
                            f"body: {exc.message}") from None
        raise
    if header is None:
        token = payload.get("token")
        authorize(settings, token if isinstance(token, str) else None)
    _only(EDIT_FIELDS, list(payload))
    got = {k: _text_field(k, payload[k]) for k in ("title", "source", "lang")
           if payload.get(k) is not None}
    return ArticleEditInput(
        title=got.get("title"), source=got.get("source"),
        tags=_tags(payload["tags"]) if payload.get("tags") is not None else None,
        lang=got["lang"].strip().lower() if "lang" in got else None,
    )


def _edit_payload(request: Request, body: bytes) -> dict[str, Any]:
    """A PATCH body as a JSON object (400 or 415 when it is none)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        if not kind and not body:
            raise BadInputError('nothing to change: send JSON such as {"tags": ["pricing"]}')
        raise UnsupportedMediaError(
            f"cannot read a body of type {kind or 'unknown'!r}: send JSON such as "
            '{"tags": ["pricing"]} with Content-Type: application/json')
    return _json_object(body, '{"tags": ["pricing"]}')


async def read_token_field(request: Request, settings: Settings) -> str | None:
    """The ``token`` field of a small form body (a DELETE from a form); None without one."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("multipart/form-data", "application/x-www-form-urlencoded",
                    "application/json"):
        return None
    fields = await _fields(request, settings, ("token",))
    token = fields.get("token")
    return _text_field("token", token) if token is not None else None


# -- the write ----------------------------------------------------------------------------
def save(
    kb: KnowledgeBase,
    lock: threading.Lock,
    form: ArticleInput,
    *,
    article_id: str | None = None,
    replace: bool = False,
    progress: ProgressFn | None = None,
    expect: str | None = None,
) -> AddResult:
    """Preview or add/replace one article (blocking: call it from a ``def`` handler or
    a job's thread); ``progress`` is told of each stage of a save. ``expect``: the
    version the writer read (kb.adding.add).

    Writes from this process take ``lock`` so that two uploads of the same id cannot
    both pass the existence check; the index's file lock serialises other processes.
    """
    if article_id is not None and replace and kb.store.article(same_id(article_id)) is None:
        # The path names an article as GET names it: "ART1" is not "art1", though a new
        # id given as "ART1" would be made "art1".
        raise NotFoundError(f"no article with id {article_id!r} to replace")
    article, kind = adding.prepare(
        kb, form.data or b"", filename=form.filename, article_id=article_id or form.article_id,
        title=form.title, lang=form.lang, source=form.source, tags=form.tags,
    )
    if form.preview:
        result = adding.dry_run(kb, article, kind=kind, replace=replace, expect=expect)
        if replace and not result.exists:
            raise NotFoundError(f"no article with id {article.id!r} to replace")
        return result
    if progress:
        progress("waiting", 0, 0)  # until this save's turn comes (one write at a time)
    with lock:
        result = adding.add(kb, article, kind=kind, replace=replace, progress=progress,
                            expect=expect)
    logs.saved(result)  # QA24a F6: the article a save wrote, in the server log
    return result


# -- concepts -----------------------------------------------------------------------------
CONCEPT_FIELDS = ("id", "terms", "names", "en", "ko", "de", "vi", "token")
PAGE_CONCEPT_FIELDS = ("id", "en", "ko", "de", "vi", "token", "action", "edit", "confirm",
                       "version")


async def read_form_fields(request: Request, settings: Settings,
                           allowed: tuple[str, ...]) -> dict[str, str]:
    """A small form's text fields (no file), each checked as text."""
    fields = await _fields(request, settings, allowed)
    return {k: _text_field(k, v) for k, v in fields.items()}


async def read_concept(request: Request, settings: Settings, *,
                       check_token: bool = True) -> tuple[ConceptEdit, dict[str, Any]]:
    """A concept from a JSON body (``{"id", "terms": {"en": [...]}, "names"}``) or a form
    (fields ``en``, ``ko``, ``de``, ``vi``: comma-separated terms), checked by
    :func:`kb.glossary_edit.concept_edit`; and the body's fields."""
    from kb.glossary_edit import concept_edit

    fields = await (_token_then_fields(request, settings, CONCEPT_FIELDS) if check_token
                    else _fields(request, settings, CONCEPT_FIELDS))
    terms = fields.get("terms") or {}
    names = fields.get("names") or {}
    if not isinstance(terms, dict) or not isinstance(names, dict):
        raise BadInputError("'terms' and 'names' are objects by language: "
                            '{"terms": {"en": ["churn", "churn rate"], "de": ["Abwanderung"]}}')
    terms = {**terms, **{lang: fields[lang] for lang in SUPPORTED if fields.get(lang)}}
    for lang, value in [*terms.items(), *names.items()]:
        if not isinstance(value, (str, list)) or (
                isinstance(value, list) and not all(isinstance(t, str) for t in value)):
            raise BadInputError(f"the terms and name of {lang!r} must be text (a list of "
                                "terms, or one comma-separated string)",
                                fields=(f"terms.{lang}" if lang in terms else f"names.{lang}",))
    return concept_edit(_opt_text(fields, "id"), terms, names), fields


def _opt_text(fields: dict[str, Any], name: str) -> str | None:
    value = fields.get(name)
    return _text_field(name, value) if value not in (None, "") else None
