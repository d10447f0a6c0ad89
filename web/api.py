"""The JSON API: thin handlers over KnowledgeBase, validated at the edge."""

from __future__ import annotations

import dataclasses
import sqlite3
import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kb import adding
from kb.adding import AddResult
from kb.articles import same_id
from kb.errors import BadInputError, IndexCorruptError, NotFoundError, StorageError
from web import logs, schemas, uploads
from web.deps import (
    KB,
    LangParam,
    concept_cards,
    database_damage,
    known_query,
    parse_langs,
    write_slot,
)
from web.views import article_href, card_json, concept_href


class ErrorBody(BaseModel):
    """Every error of every endpoint has this shape (web/app.py, handle_error)."""

    ok: Literal[False] = False
    error: str
    status: int
    fields: list[str] | None = Field(
        default=None, description="The request's fields the error is about, when it is "
        "about some: query parameters by name (`q`, `lang`, `k`), body fields by name or "
        "path (`id`, `tags`, `terms.ko`), `token` for the admin token.")


_ERRORS = {
    400: "A parameter kb cannot use: an unknown query parameter, language, tag or article "
         "id, a query that is empty, has no words or is over 500 characters; or a write's "
         "body kb cannot use: not valid JSON (or nested too deeply), an unknown field, a "
         "field over its limit, a PUT whose `id` is not the URL's, a bad article (empty, "
         "binary, undetectable language).",
    401: "The admin token is missing or wrong (writes only).",
    403: "Writes over HTTP are disabled: no KB_ADMIN_TOKEN is configured.",
    404: "No article with this id.",
    409: "The article duplicates one already stored, or its id exists (use PUT); or its "
         "corpus file was changed on disk since it was indexed (run kb ingest first).",
    412: "If-Match names a version that is no longer stored: the article (or concept) was "
         "changed since it was read. Nothing was written; the ETag header is the current "
         "version.",
    413: "The upload is larger than KB_MAX_UPLOAD_BYTES.",
    415: "The request body is in a format this endpoint does not read.",
    422: "A parameter fails validation: missing, too long, or of the wrong type.",
    503: "The index or the corpus directory cannot be written, the server is still "
         "loading, or (a write) another save held the index for longer than a request "
         "waits, 15 s: nothing was changed; Retry-After says when to send it again.",
}


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string"}}


# The response headers a client acts on, declared so that a client generated from
# /openapi.json knows them (QA23a F6: they were only in the prose).
ETAG = {"ETag": _header('The version, quoted ("3f9c0a1b2c3d4e5f"): send it back as '
                        "If-Match with a PUT, PATCH or DELETE, or as If-None-Match with GET.")}
LOCATION = {"Location": _header("Where the new resource is read.")}
_ERROR_HEADERS = {
    401: {"WWW-Authenticate": _header("Bearer: send the admin token as "
                                      "`Authorization: Bearer <token>`.")},
    412: {"ETag": _header("The version now stored: read it, merge, and send it as If-Match.")},
    503: {"Retry-After": _header("Seconds to wait before sending the write again (when "
                                 "another save held the index).")},
}


def ok(model: type[BaseModel], code: int = 200, description: str = "Success.",
       headers: dict[str, Any] | None = None) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for a success body (described, not run on each response)."""
    return {code: {"model": model, "description": description,
                   **({"headers": headers} if headers else {})}}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error statuses, all in the one error shape."""
    return {code: {"model": ErrorBody, "description": _ERRORS[code],
                   **({"headers": _ERROR_HEADERS[code]} if code in _ERROR_HEADERS else {})}
            for code in codes}


# FastAPI's own 422 schema ({"detail": [...]}) is not what handle_error sends. Every
# endpoint refuses a query parameter it does not take (known_query) with a 400, writes
# too: a mistyped ?preveiw=true would otherwise save.
router = APIRouter(responses=errors(400, 422, 503), dependencies=[Depends(known_query)])
READ_ERRORS = errors(400)
WRITE_ERRORS = errors(400, 401, 403, 404, 409, 412, 413, 415)

Q = Annotated[
    str,
    # No length bounds enforced here: kb checks them and says what is wrong in its own
    # words (a 400), as the CLI and the Ask page do ("the query is empty", "the query is
    # 600 characters long; the limit is 500"), where a 422 spoke of string lengths
    # (QA). They are declared for clients all the same (QA23a F6).
    Query(description="The question or keywords (ko/en/de/vi), 1 to 500 characters; "
                      "outside them a 400.",
          json_schema_extra={"minLength": 1, "maxLength": 500}),
]
K = Annotated[int, Query(ge=1, le=100, description="How many passages to return.")]
Offset = Annotated[int, Query(ge=0, le=99, description="How many passages to skip (a next "
                                                       "page); offset + k is at most 100.")]
QueryLang = Annotated[
    str | None,
    Query(description="The question's language (ko, en, de or vi), when detection would "
                      "get it wrong: a few Vietnamese words typed without diacritics "
                      "(\"ha nguon\") read as English. The CLI's --query-lang."),
]


Exact = Annotated[
    bool,
    Query(description="Search the query exactly as typed: no misspelled word corrected "
                      "(`corrected`), no Vietnamese diacritics restored (`restored`). The "
                      "CLI's --exact."),
]


# Lists, so that ?tag=a&tag=b means either (as ?lang= does).
Tags = Annotated[
    list[Annotated[str, StringConstraints(max_length=60)]] | None,
    Query(max_length=20, description="Only passages of articles with this tag "
                                     "(case-insensitive); repeat it for any of several. A "
                                     "tag no article has is a 400 that lists the tags."),
]
Articles = Annotated[
    list[Annotated[str, StringConstraints(max_length=200)]] | None,
    Query(max_length=20, description="Only passages of this article (its id); repeat it "
                                     "for several. With `tag`, an article must pass both. "
                                     "An id no article has is a 400."),
]


Translations = Annotated[
    Literal["fold", "keep"],
    Query(description="fold (the default): a passage that translates one ranked above it "
                      "is left out, and listed in that hit's `translations`; keep: every "
                      "passage is a hit of its own."),
]


@router.get("/api/search", tags=["api"], summary="Hybrid search over passages",
            response_model=None, responses=ok(schemas.SearchOut) | READ_ERRORS)
def search(kb: KB, q: Q, k: K = 10, lang: LangParam = None,
           query_lang: QueryLang = None, translations: Translations = "fold",
           offset: Offset = 0, exact: Exact = False, tag: Tags = None,
           article: Articles = None) -> JSONResponse:
    """Passages ranked by dense + BM25 fusion: `{"query", "restored", "corrected",
    "lang", "hits", "offset", "more", "found", "evidence", "took_ms"}`.

    A word no indexed language knows is searched as the close word the knowledge base
    uses, and `corrected` gives the query so searched (`exact=true`: as typed).

    `lang` limits the passages' languages, comma-separated (e.g. `ko,de`); the reply's
    `lang` is the question's own (detected, or `query_lang`). `tag` and `article`
    (each repeatable) limit the articles; the filters apply before the best `k` are
    chosen, so a page is full while enough passages pass them. Each hit lists its
    `translations`: passages of other articles that say the same in another language.
    `offset` skips that many hits; `more` says whether a next page has any.
    """
    # Its dict is plain JSON already: FastAPI's encoder, walking the ten hits with their
    # translations again, cost about 1.2 ms a search on the seed index.
    return JSONResponse(kb.search(q, k=k, langs=parse_langs(lang), query_lang=query_lang or None,
                                  translations=translations, offset=offset, explain=True,
                                  exact=exact, tags=tag, articles=article).to_dict())


@router.get("/api/ask", tags=["api"], summary="An extractive answer with citations",
            response_model=None, responses=ok(schemas.AskOut) | READ_ERRORS)
def ask(kb: KB, q: Q, lang: LangParam = None, query_lang: QueryLang = None,
        exact: Exact = False, tag: Tags = None, article: Articles = None) -> JSONResponse:
    """2-5 sentences quoted from the articles (up to 8 to quote a list whole), each with
    the citation number of its passage.

    `found` is false (with a `message`) when no passage clearly addresses the question.
    Each citation is a passage (all the fields of a search hit, but `section` is the
    heading its first quoted sentence sits under) plus `spans`: the
    absolute `start`-`end` of each quoted sentence in the article's cleaned text, in
    text order, and the `section` it sits under (they can sit under several). Two
    sentences from one passage share its citation. `sentence_start`-`sentence_end` repeat
    the first span. Each answer sentence gives its own `span` too. `tag` and `article`
    limit the articles quoted, as in search.
    """
    started = time.perf_counter()
    out = kb.ask(q, langs=parse_langs(lang), query_lang=query_lang or None,
                 exact=exact, tags=tag, articles=article).to_dict()
    out["took_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return JSONResponse(out)  # plain JSON already, as search's


@router.get("/api/articles", tags=["api"], summary="All articles", response_model=None,
            responses=ok(schemas.ArticlesOut) | errors(400))
def articles(
    kb: KB, lang: LangParam = None,
    tag: Annotated[str | None, Query(max_length=60, description="Only articles with this "
                                     "tag (case-insensitive). A tag no article has is a 400 "
                                     "that lists the tags, as in search.")] = None,
) -> dict[str, Any]:
    """Every article's id, title, language, source, tags, chunk count and date added;
    `lang` (as in search) and `tag` keep only some."""
    items = kb.articles(langs=parse_langs(lang), tag=tag)
    return {"count": len(items), "articles": items}


# One entity tag (uploads.if_match): an empty header or a list is a 400, declared so
# that a generated client does not send one.
_ONE_TAG = r'^\s*(\*|(W/)?"?[^",]*[^",\s][^",]*"?)\s*$'
IfMatch = Annotated[str | None, Header(
    alias="If-Match",
    description='The version this write is made from, as GET sent it in its ETag '
                '("3f9c0a1b2c3d4e5f"); `*` takes any. Refused with a 412 when the stored '
                "version differs. Without it, the last writer wins.",
    json_schema_extra={"pattern": _ONE_TAG})]
IfNoneMatch = Annotated[str | None, Header(
    alias="If-None-Match",
    description="The ETag of a copy the client holds (or several, comma-separated): a 304 "
                "without a body while the article is still at that version.")]


@router.get("/api/articles/{article_id}", tags=["api"], summary="One article",
            response_model=None,
            responses=ok(schemas.ArticleOut, headers=ETAG) | errors(404)
            | {304: {"description": "Not modified: the article is at the version "
                                    "If-None-Match names.", "headers": ETAG}})
def article(
    kb: KB, article_id: Annotated[str, Path(min_length=1, max_length=200)],
    if_none_match: IfNoneMatch = None,
) -> Response:
    """The cleaned text, the metadata, the chunks' character offsets into the text, and
    `family`: its translations in other languages (what the page shows as "also in").
    The `ETag` header is its `version`: send it as `If-Match` with a PUT, PATCH or
    DELETE, and the write is refused (412) if the article changed since; or as
    `If-None-Match`, and an article still at that version is a 304 with no body."""
    art = kb.article(article_id)
    headers = uploads.etag(str(art["version"]))
    if uploads.none_match(if_none_match, str(art["version"])):
        return Response(status_code=304, headers=headers)
    return JSONResponse({**art, "family": adding.family_of(kb, str(art["id"]))},
                        headers=headers)


# -- writes -------------------------------------------------------------------------------
ArticleId = Annotated[str, Path(min_length=1, max_length=200)]
Preview = Annotated[bool, Query(description="Only preview: change nothing.")]

_LIMIT = uploads.MAX_CHARS
_FIELDS_DOC: dict[str, Any] = {
    "text": {"type": "string", "description": "The article's text (instead of a file), at "
             "most KB_MAX_UPLOAD_BYTES in UTF-8 (a 413 beyond)."},
    "id": {"type": "string", "maxLength": _LIMIT["id"], "description": "Article id "
           "(default: from the file name or the title). A PUT's, if sent, must be the "
           "URL's (a 400 otherwise)."},
    "title": {"type": "string", "maxLength": _LIMIT["title"]},
    "lang": {"type": "string", "enum": ["auto", "ko", "en", "de", "vi"],
             "description": "Default (or empty): detected; case-insensitive."},
    "source": {"type": "string", "maxLength": _LIMIT["source"], "description": "Source URL."},
    "tags": {"type": "string", "maxLength": _LIMIT["tags"],
             "description": f"Comma-separated (JSON: a list); at most {uploads.MAX_TAGS} "
                            f"tags of {uploads.MAX_TAG_CHARS} characters."},
    "preview": {"type": "boolean", "description": "Only preview: change nothing."},
    "token": {"type": "string", "maxLength": _LIMIT["token"],
              "description": "The admin token, if not sent as a bearer header."},
}
_TAG_LIST = {"type": "array", "maxItems": uploads.MAX_TAGS,
             "items": {"type": "string", "maxLength": uploads.MAX_TAG_CHARS},
             "description": "The tags ([] for none; a tag with a comma is refused, a blank "
                            "one dropped)."}
# Any other field is a 400 "unknown field" (QA23a F6: the schema allowed any).
WRITE_BODY: dict[str, Any] = {"requestBody": {
    "required": True,
    "description": "The file or text is at most KB_MAX_UPLOAD_BYTES (default 10 MB), the "
                   f"whole body that plus {uploads.SLACK // 1024} KB: a 413 beyond, from "
                   "Content-Length before the body is read. Other body types are a 415.",
    "content": {
        "multipart/form-data": {"schema": {"type": "object", "additionalProperties": False,
                                           "properties": {
            "file": {"type": "string", "format": "binary",
                     "description": ".txt .md .html .docx or .pdf (the type is sniffed)."},
            **_FIELDS_DOC}}},
        "application/x-www-form-urlencoded": {"schema": {
            "type": "object", "additionalProperties": False, "properties": _FIELDS_DOC}},
        "application/json": {"schema": {"type": "object", "additionalProperties": False,
                                        "properties": {**_FIELDS_DOC, "tags": _TAG_LIST}}},
    }}}


async def article_write(request: Request) -> uploads.ArticleInput:
    """The article of a write request, after the token check (403 when writes are
    disabled; a wrong bearer header is refused before the body is read, a body's token
    before anything else about the body is said)."""
    return await uploads.read_article_input(request, request.app.state.settings)


async def writer(request: Request) -> None:
    """The token check of a write without an article (DELETE)."""
    settings = request.app.state.settings
    if not uploads.writes_enabled(settings):
        uploads.authorize(settings, None)
    header = uploads.bearer_token(request)
    uploads.authorize(settings, header or await uploads.read_token_field(request, settings))


ArticleWrite = Annotated[uploads.ArticleInput, Depends(article_write)]


def _written(res: AddResult) -> JSONResponse:
    body: dict[str, Any] = {"ok": True, **res.to_dict(with_text=not res.saved)}
    body["href"] = article_href(res.article_id)
    body["api_href"] = "/api" + article_href(res.article_id)
    if not res.saved:
        return JSONResponse(body)
    created = not res.exists
    headers = uploads.etag(res.version) if res.version else {}
    if created:
        headers["Location"] = body["api_href"]
    return JSONResponse(body, status_code=201 if created else 200, headers=headers)


@router.post("/api/articles", tags=["write"], summary="Add an article (or preview it)",
             status_code=201, openapi_extra=WRITE_BODY,
             responses=ok(schemas.WriteOut, 201, "Saved (a preview: 200).", ETAG | LOCATION)
             | ok(schemas.WriteOut, 200, "A preview.") | WRITE_ERRORS)
def add_article(request: Request, kb: KB, form: ArticleWrite,
                preview: Preview = False) -> JSONResponse:
    """Upload a file (`.txt .md .html .docx .pdf`, multipart field `file`) or send the
    text (`text`, as a form field or JSON), with optional `title`, `lang`, `source` and
    `tags`. Needs the admin token: `Authorization: Bearer <token>` or the field `token`.

    With `preview=true` nothing is written: the answer holds the detected language,
    the cleaned `text`, the chunk count, `duplicate_of` and `warnings`. Otherwise the
    article is saved to the corpus directory and indexed at once (201); it is
    searchable when this returns, and `family` lists the translations found.
    A duplicate or an existing id is a 409; use PUT to replace.
    """
    form = dataclasses.replace(form, preview=form.preview or preview)
    with write_slot(request, None if form.preview else kb):  # a preview writes nothing
        return _written(uploads.save(kb, request.app.state.write_lock, form))


@router.put("/api/articles/{article_id}", tags=["write"], summary="Replace an article",
            openapi_extra=WRITE_BODY,
            responses=ok(schemas.WriteOut, description="Replaced (or previewed: no ETag).",
                         headers=ETAG) | WRITE_ERRORS)
def replace_article(request: Request, kb: KB, article_id: ArticleId, form: ArticleWrite,
                    preview: Preview = False, if_match: IfMatch = None) -> JSONResponse:
    """Same inputs as POST; the article keeps `article_id` (404 when there is none), and
    an `id` in the body must be the same (400). The old version is replaced in one
    atomic write. With `If-Match: "<version>"` (the ETag of GET), a replace of an
    article changed since is refused (412)."""
    if form.article_id is not None and same_id(form.article_id) != same_id(article_id):
        # QA23a F6: the URL's id won silently; a client that meant to rename the article
        # (or sent the wrong body) believed it had.
        raise BadInputError(f"the body's id {form.article_id!r} is not the URL's "
                            f"({article_id!r}): an article keeps its id when it is "
                            "replaced; to change it, add it under the new id and remove "
                            "this one", fields=("id",))
    form = dataclasses.replace(form, preview=form.preview or preview)
    with write_slot(request, None if form.preview else kb):
        res = uploads.save(kb, request.app.state.write_lock, form, article_id=article_id,
                           replace=True, expect=uploads.if_match(if_match))
    return _written(res)


class ArticleEdit(BaseModel):
    """The metadata to change; a field left out stays as it is (the OpenAPI body of
    PATCH; uploads.read_edit reads and checks it)."""

    # A body with none of the four fields (`{}`, or the token alone) is a 400 "nothing
    # to change" (QA23a F6: it was schema-valid).
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "minProperties": 1,
        "anyOf": [{"required": [name]} for name in ("title", "source", "tags", "lang")]})
    title: str | None = Field(None, min_length=1, max_length=300)
    source: str | None = Field(None, max_length=2000)
    tags: list[Annotated[str, Field(max_length=uploads.MAX_TAG_CHARS)]] | None = Field(
        None, max_length=uploads.MAX_TAGS,
        description="The new tags ([] clears them; a comma-separated string also works). "
                    "A tag in the list cannot contain a comma (400); blank ones are dropped.")
    lang: Literal["ko", "en", "de", "vi"] | None = None
    token: str | None = Field(None, description="The admin token, if not sent as a "
                                                "bearer header.")


async def article_edit(request: Request) -> uploads.ArticleEditInput:
    return await uploads.read_edit(request, request.app.state.settings)


@router.patch("/api/articles/{article_id}", tags=["write"],
              summary="Change an article's title, source, tags or language",
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": ArticleEdit.model_json_schema()}}}},
              responses=ok(schemas.WriteOut, headers=ETAG)
              | errors(400, 401, 403, 404, 409, 412, 413, 415))
def edit_article(request: Request, kb: KB, article_id: ArticleId,
                 edit: Annotated[uploads.ArticleEditInput, Depends(article_edit)],
                 if_match: IfMatch = None) -> JSONResponse:
    """Only the fields sent change; the text stays, so nothing is uploaded again and its
    vectors are reused (a new `lang` re-analyzes it). Needs the admin token
    (`Authorization: Bearer <token>` or the field `token`). Answers like PUT, and takes
    `If-Match` as PUT does."""
    expect = uploads.if_match(if_match)
    with write_slot(request, kb):
        res = adding.edit(kb, article_id, title=edit.title, source=edit.source,
                          tags=edit.tags, lang=edit.lang, expect=expect)
    logs.edited(res, [name for name in ("title", "source", "tags", "lang")
                      if getattr(edit, name) is not None])
    return _written(res)


@router.delete("/api/articles/{article_id}", tags=["write"], summary="Remove an article",
               dependencies=[Depends(writer)], response_model=None,
               responses=ok(schemas.DeleteOut) | errors(400, 401, 403, 404, 412, 413, 415))
def delete_article(request: Request, kb: KB, article_id: ArticleId,
                   if_match: IfMatch = None) -> dict[str, Any]:
    """Removes the article's vectors, lexical entries and metadata; its corpus file
    moves to `.removed/` in the corpus directory (recoverable). Needs the admin token.
    Takes `If-Match` as PUT does: an article changed since it was read is kept (412)."""
    expect = uploads.if_match(if_match)
    with write_slot(request, kb), logs.removing(kb, article_id):
        adding.remove(kb, article_id, expect=expect)
    return {"ok": True, "deleted": article_id}


@router.post("/api/articles/{article_id}/restore", tags=["write"],
             summary="Put a removed article back", dependencies=[Depends(writer)],
             response_model=None, responses=ok(schemas.RestoreOut) | errors(401, 403, 404, 409))
def restore_article(request: Request, kb: KB, article_id: ArticleId) -> dict[str, Any]:
    """The article's last file in `.removed/` returns to the corpus as it was, and is
    indexed again (its passages get new ids). 409 when the article is in the knowledge
    base, 404 when nothing of that id was removed. Needs the admin token."""
    with write_slot(request, kb):
        res = adding.restore(kb, article_id)
    logs.restored(res)
    return res.to_dict()


# -- concepts: the glossary ------------------------------------------------------------
class ConceptIn(BaseModel):
    """A concept to add or replace (the OpenAPI body; uploads.read_concept reads and
    checks it). A form sends the terms as fields `en`, `ko`, `de`, `vi` instead."""

    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(None, max_length=60, description="Lower-case letters, digits "
                           "and hyphens (default: from the English or first Latin term).")
    # A string is read as comma-separated terms, on purpose (the form's fields are such
    # strings); the schema says so rather than refusing it (QA23a F6: it was accepted
    # where the schema asked for a list).
    terms: dict[Literal["ko", "en", "de", "vi"],
                list[Annotated[str, StringConstraints(min_length=1)]]
                | Annotated[str, StringConstraints(min_length=1)]] = Field(
        min_length=1,  # no terms at all is a 400 "a concept needs at least one term"
        description="Terms per language, the first being its name there: "
                    '{"en": ["churn", "churn rate"], "de": ["Abwanderung"]}. A '
                    'comma-separated string is read as the same list: "churn, churn rate".')
    names: dict[Literal["ko", "en", "de", "vi"], str] | None = Field(
        None, description="Display names, when not the first term.")
    token: str | None = Field(None, description="The admin token, if not sent as a bearer "
                                                "header.")


CONCEPT_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": ConceptIn.model_json_schema()}}}}
CONCEPT_ERRORS = errors(400, 401, 403, 404, 409, 412, 413, 415)


async def concept_write(request: Request) -> Any:
    return await uploads.read_concept(request, request.app.state.settings)


ConceptWrite = Annotated[Any, Depends(concept_write)]
ConceptId = Annotated[str, Path(min_length=1, max_length=60)]


def _concept(concept: Any) -> dict[str, Any]:
    out = concept.to_dict()
    del out["kind"]  # the API lists concepts only
    return {**out, "href": concept_href(concept.id), "version": concept.version}


@router.get("/api/concepts", tags=["api"], summary="The glossary's concepts",
            response_model=None)
def list_concepts(kb: KB) -> dict[str, Any]:
    """Every concept with its terms per language. A question naming a term reaches the
    other languages' articles through the concept's terms there. `problem`: why the
    glossary file's last change was not taken up (it does not parse), else null."""
    return {"concepts": [_concept(c) for c in kb.glossary.cards],
            "problem": kb.glossary_problem}


@router.get("/api/concepts/{concept_id}", tags=["api"], summary="One concept",
            response_model=None,
            responses={200: {"description": "The concept.", "headers": ETAG}} | errors(404))
def get_concept(kb: KB, concept_id: Annotated[str, Path(min_length=1, max_length=60)]
                ) -> JSONResponse:
    """The concept's terms and names; the `ETag` header is its `version`, for `If-Match`
    with PUT or DELETE."""
    concept = next((c for c in kb.glossary.cards if c.id == concept_id), None)
    if concept is None:
        raise NotFoundError(f"the glossary has no concept {concept_id!r}")
    return JSONResponse(_concept(concept), headers=uploads.etag(concept.version))


@router.get("/api/concepts/{concept_id}/card", tags=["api"], summary="One concept's card",
            response_model=None, responses=ok(schemas.ConceptCardOut) | errors(404))
def get_concept_card(request: Request, kb: KB,
                     concept_id: Annotated[str, Path(min_length=1, max_length=60)]
                     ) -> dict[str, Any]:
    """What the Concepts page shows of the concept: its definition quoted from the
    articles (or null), and in each language the passage about it with the sentence
    that names it (`sentence`, and `href` to the article with it marked) or a coverage
    gap (`gap`, `message`); `questions` ask what it is in each language."""
    cards, _ = concept_cards(request, kb)
    card = next((c for c in cards if c.concept.id == concept_id), None)
    if card is None:
        raise NotFoundError(f"the glossary has no concept {concept_id!r}")
    return card_json(card)


@router.post("/api/concepts", tags=["write"], summary="Add a concept to the glossary",
             status_code=201, openapi_extra=CONCEPT_BODY, response_model=None,
             responses={201: {"description": "Added.", "headers": LOCATION}}
             | CONCEPT_ERRORS)
def add_concept(request: Request, kb: KB, edit: ConceptWrite) -> JSONResponse:
    """Adds a concept with its terms in one or more languages (two or more carry a
    question across languages). It counts from the next search, in every worker; the
    glossary file keeps its comments and layout. A taken id or term is a 409. Needs the
    admin token."""
    from kb.glossary_edit import write_concept

    with write_slot(request):
        concept = write_concept(kb.glossary_path, edit[0])
    logs.concept("added", concept)
    return JSONResponse({"ok": True, **_concept(concept)}, status_code=201,
                        headers={"Location": f"/api/concepts#{concept.id}"})


@router.put("/api/concepts/{concept_id}", tags=["write"], summary="Replace a concept",
            openapi_extra=CONCEPT_BODY, response_model=None,
            responses={200: {"description": "Replaced.", "headers": ETAG}} | CONCEPT_ERRORS)
def replace_concept(request: Request, kb: KB, concept_id: ConceptId,
                    edit: ConceptWrite, if_match: IfMatch = None) -> JSONResponse:
    """Same body as POST; the concept keeps `concept_id` (404 when there is none).
    With `If-Match: "<version>"` (its ETag), a concept changed since is kept (412)."""
    from kb.glossary_edit import write_concept

    given, fields = edit
    if fields.get("id") not in (None, "", concept_id):
        raise BadInputError(f"a concept keeps its id when it is replaced ({concept_id!r}); "
                            "to change it, add it under the new id and remove this one",
                            fields=("id",))
    expect = uploads.if_match(if_match)
    with write_slot(request):
        concept = write_concept(kb.glossary_path, dataclasses.replace(given, id=concept_id),
                                replace=True, expect=expect)
    logs.concept("replaced", concept)
    return JSONResponse({"ok": True, **_concept(concept)}, headers=uploads.etag(concept.version))


@router.delete("/api/concepts/{concept_id}", tags=["write"], summary="Remove a concept",
               dependencies=[Depends(writer)], response_model=None,
               responses=errors(400, 401, 403, 404, 409, 412, 413, 415))
def delete_concept(request: Request, kb: KB, concept_id: ConceptId,
                   if_match: IfMatch = None) -> dict[str, Any]:
    """Takes the concept out of the glossary. Needs the admin token. Takes `If-Match` as
    PUT does."""
    from kb import glossary_edit

    expect = uploads.if_match(if_match)
    with write_slot(request):
        removed = glossary_edit.delete_concept(kb.glossary_path, concept_id, expect=expect)
    logs.concept("removed", removed)
    return {"ok": True, "deleted": concept_id}


# Its own router: it takes no parameters (no 422), and its 503 is a health body. Nor
# does it refuse unknown ones: uptime monitors add cache-busting ones (?_=1712345678).
meta = APIRouter()


@meta.get("/healthz", tags=["meta"], summary="Liveness and index summary",
          response_model=None,
          responses=ok(schemas.HealthOut, 200, "Ready, or still starting (ok false).")
          | {503: {"model": schemas.HealthOut,
                   "description": "Degraded: the index directory is gone or unwritable, "
                                  "or its database is damaged."}})
def healthz(request: Request) -> dict[str, Any] | JSONResponse:
    kb = getattr(request.app.state, "kb", None)
    if kb is None:
        return {"ok": False, "status": "starting"}
    try:
        # A damaged database that a request ran into: searches fail, so monitoring must
        # hear of it (QA24a F4). No integrity check here: it reads the whole file.
        if request.app.state.damage:
            raise IndexCorruptError(request.app.state.damage)
        kb.store.check_in_place()
        stats = kb.stats()
    except (StorageError, IndexCorruptError) as exc:
        # Moved: still answering from memory, but writes would be lost.
        return JSONResponse({"ok": False, "status": "degraded", "error": exc.message},
                            status_code=503)
    except sqlite3.DatabaseError as exc:  # the damage is in the pages stats() reads
        if (error := database_damage(request.app, exc)) is None:
            raise
        return JSONResponse({"ok": False, "status": "degraded", "error": error.message},
                            status_code=503)
    ready: dict[str, Any] = {
        "ok": True,
        "status": "ready",
        "articles": stats.get("articles"),
        "chunks": stats.get("chunks"),
        "model": stats.get("model"),
        "index_version": stats.get("version"),
    }
    if why := kb.unwritten():  # searches still answer, from memory: ready, with a warning
        ready["warning"] = (f"the index files of the last write could not be written "
                            f"({why}); searches use indexes built in memory until a write "
                            "or `kb reindex` can write them")
    return ready
