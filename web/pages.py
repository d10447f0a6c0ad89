"""The HTML pages: each handler parses its parameters, asks views for a context, renders."""

from __future__ import annotations

import base64
import dataclasses
import json
from contextlib import nullcontext
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kb import adding
from kb.articles import same_id, version_of
from kb.errors import BadInputError, KBError, NotFoundError, StaleError, WritesDisabledError
from kb.language import SUPPORTED
from web import jobs, logs, uploads, views
from web.deps import KB, concept_cards, get_kb, parse_langs, write_slot

# Unlike the API (web.deps.known_query), the pages ignore query parameters they do not
# take: a browser's address comes with what links and campaigns add (utm_source,
# fbclid), and a reader who follows one should get the page, not an error.
router = APIRouter(include_in_schema=False)


def render(request: Request, name: str, page: str, ctx: dict[str, Any], *,
           status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    tpl = request.app.state.templates
    return tpl.TemplateResponse(  # type: ignore[no-any-return]
        request, name, {**ctx, "page": page}, status_code=status_code, headers=headers)


@router.get("/", response_class=HTMLResponse)
def ask_page(
    request: Request,
    kb: KB,
    # No length limit here: the knowledge base's own (settings.max_query_chars) is
    # reported on the page, beside the question, instead of an error page.
    q: str | None = None,
    lang: Annotated[list[str] | None, Query(max_length=40)] = None,
    exact: bool = False,
    tag: Annotated[list[str] | None, Query(max_length=20)] = None,
    offset: str | None = None,  # one that is not a number is the first page
) -> HTMLResponse:
    """The ask page: the search box, language chips, the tag filter, examples, the
    cited answer (``exact``: the question searched as typed, no misspelling corrected)
    and the search ranking, ten passages a page (``offset``: how many come before this
    page's). A question that cannot be asked is kept in the box, with what is wrong
    (status 400). So is an unknown ``lang`` (it was a bare error page, the question and
    chips lost), and a ``tag`` no article has. A page past the end of the ranking says
    so (status 404), the question kept."""
    try:
        langs, lang_problem = parse_langs(lang), None
    except BadInputError as exc:  # an unknown code
        langs, lang_problem = _known_langs(lang), exc.message
    tags = [t.strip() for t in tag or () if t.strip()]
    ctx = views.ask_context(kb, q, langs, lang_problem=lang_problem, exact=exact, tags=tags,
                            offset=_offset(offset))
    beyond = ctx["results"] is not None and ctx["results"]["beyond"]
    if ctx["problem"]:  # said first (QA23b F11: the title was "Ask" as before asking)
        ctx["outcome"] = "Error"
    return render(request, "ask.html", "ask", ctx,
                  status_code=400 if ctx["problem"] else 404 if beyond else 200)


def _offset(value: str | None) -> int:
    """``offset`` as a number of passages: ASCII digits (one too long to be a page is
    past the end all the same), anything else 0, as a mangled link's parameter is
    ignored."""
    if not value or not value.isascii() or not value.isdigit():
        return 0
    return int(value) if len(value) <= 9 else 10**9


def _known_langs(values: list[str] | None) -> list[str]:
    """The codes among ``lang`` values that are languages: their chips stay checked."""
    codes = {x.strip().lower() for v in values or () for x in v.split(",")}
    return sorted(codes & set(SUPPORTED))


@router.get("/articles/{article_id}", response_class=HTMLResponse)
def article_page(
    request: Request,
    kb: KB,
    article_id: Annotated[str, Path(min_length=1, max_length=200)],
    # A highlight from a link; one that does not parse is ignored (the article still
    # shows): a mangled link should not cost the reader the page.
    hl: str | None = None,
    p: str | None = None,  # the link's passage; one that is not a number is ignored
    hp: str | None = None,  # the highlight as offsets into that passage (web/marks.py)
) -> HTMLResponse:
    """One article, with a chunk anchor per passage and the linked sentence highlighted;
    right after a save from the Add page, its notice (the flash cookie; the redirect's
    ``?saved=`` only names the save for the reader of the address bar)."""
    flash = _saved_flash(request, article_id)
    ctx = views.article_context(kb, article_id, hl, saved=flash and flash["saved"],
                                saved_notes=flash["notes"] if flash else (),
                                similar=flash and flash["similar"],
                                editable=uploads.writes_enabled(request.app.state.settings),
                                passage=int(p) if p and p.isdigit() and len(p) < 19 else None,
                                hp=hp)
    response = render(request, "article.html", "article", ctx)
    if SAVED_NOTES in request.cookies:
        response.delete_cookie(SAVED_NOTES, path="/articles/")
    return response


# What a save did and what to check about it (AddResult.notes: a given language the
# text does not look like, a similar article, metadata kept) travel with the redirect to
# the article in a short-lived cookie, as a flash message, shown once: the Add page's
# save showed only "Added", where the API and `kb add` warn (QA). A cookie, unlike the
# URL, cannot be handed to someone else in a link (QA: "?saved=added" told anyone who
# opened the link that the article had just been added), and it reaches any worker.
SAVED_NOTES = "kb_saved_notes"
MAX_NOTES_BYTES = 3000

def _flash_cookie(article_id: str, saved: str, notes: list[str],
                  similar: str | None) -> str:
    """The save's flash as a cookie value; notes that do not fit are left out."""
    flash = {"id": article_id, "saved": saved, "notes": notes, "similar": similar}
    for _ in range(2):
        raw = json.dumps(flash, ensure_ascii=False).encode()
        value = base64.urlsafe_b64encode(raw).decode()
        if len(value) <= MAX_NOTES_BYTES:
            break
        flash["notes"] = []
    return value


def _saved_flash(request: Request, article_id: str) -> dict[str, Any] | None:
    """The flash a save left for this article's page: None when the cookie is absent,
    names another article, or is not what this app wrote."""
    try:
        flash = json.loads(base64.urlsafe_b64decode(request.cookies.get(SAVED_NOTES, "")))
    except ValueError:
        return None
    if not isinstance(flash, dict) or flash.get("id") != article_id:
        return None
    notes, similar = flash.get("notes"), flash.get("similar")
    return {
        "saved": (flash["saved"] if flash.get("saved") in ("replaced", "unchanged", "restored")
                  else "added"),
        "notes": [n for n in notes if isinstance(n, str)][:10] if isinstance(notes, list) else [],
        "similar": similar if isinstance(similar, str) else None,
    }


def _to_saved(article_id: str, saved: str, notes: list[str], similar: str | None) -> Response:
    """The redirect from a save to its article, with the save's flash."""
    done = RedirectResponse(f"{views.article_href(article_id)}?saved={saved}", status_code=303)
    done.set_cookie(SAVED_NOTES, _flash_cookie(article_id, saved, notes, similar),
                    max_age=300, path="/articles/", httponly=True, samesite="lax")
    return done


def _save_as_job(kb: Any, request: Request, form: uploads.ArticleInput,
                 replace: bool) -> str | None:
    """Start a long save (a text over ``jobs.JOB_CHARS``) as a job and return its id;
    None when it is short after all, or would be refused: that save goes on at once,
    and a refusal comes back to the Add page with the text kept, as before."""
    lock = request.app.state.write_lock
    expect = form.extra.get("version") or None
    check = uploads.save(kb, lock, dataclasses.replace(form, preview=True), replace=replace,
                         expect=expect)
    if check.refusals or len(check.text) <= jobs.JOB_CHARS:
        return None
    # What the form sent, to fill it again if the save fails or is cut short: the pasted
    # text as typed, or a file's text as read.
    sent = {"text": form.text if form.text is not None and not form.filename else check.text,
            "article_id": form.article_id, "title": form.title, "lang": form.lang,
            "source": form.source, "tags": list(form.tags) if form.tags is not None else None,
            "extra": {k: v for k, v in form.extra.items()
                      if k in ("edit", "replace", "version", *uploads.OPENED)}}
    return jobs.start(
        kb.index_dir,
        lambda progress: uploads.save(kb, lock, dataclasses.replace(form, preview=False),
                                      replace=replace, progress=progress, expect=expect),
        saved="replaced" if check.exists else "added", article_id=check.article_id,
        sent=sent)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, kb: KB,
             job_id: Annotated[str, Path(min_length=1, max_length=200)]) -> Response:
    """A long save's progress; it reloads itself until the save is done, then goes on
    to the article. A save that failed or was cut short comes back to the Add page,
    with what was sent in the form and why."""
    job = jobs.read(kb.index_dir, job_id)
    if job is None:
        raise NotFoundError(f"no save in progress with id {job_id!r} (a finished save's "
                            "page is kept for a day)")
    if job["state"] == "done":
        if job.get("shown"):
            return RedirectResponse(views.article_href(job["article_id"]), status_code=303)
        jobs.mark_shown(kb.index_dir, job_id)
        return _to_saved(job["article_id"], job["saved"], job.get("notes") or [],
                         job.get("similar"))
    if job["state"] == "running":
        return render(request, "job.html", "add", views.job_context(job))
    error = KBError(job.get("error") or "the save failed")
    error.status = int(job.get("status", 500))
    status = error.status
    if job["state"] == "interrupted":
        error = KBError(views.interrupted_message(kb, job))
        # 200: this GET is answered in full (what became of the save, and the form to
        # save it again). A server stop cut the save short, which is neither a fault of
        # this request (a 4xx) nor of the server now answering it: as a 500, monitoring
        # counted every visit as a server error (QA23a F9). A failed save keeps its own
        # status (409, 412, …; a 500 for an internal error, which is one).
        status = 200
    stored = kb.store.article(job["article_id"]) if error.status == 412 else None
    if stored is not None:
        # Changed while the save waited its turn: refused as the Edit page refuses it
        # at once, so that Save again replaces the version now stored.
        error = StaleError(error.message, article_id=job["article_id"],
                           current=version_of(stored["content_sha256"]))
    form = _sent_form(jobs.sent(kb.index_dir, job_id))
    ctx = views.add_context(request.app.state.settings, form=form, error=error,
                            editing=_editing(kb, form))
    return render(request, "add.html", "add", ctx, status_code=status)


def _sent_form(sent: dict[str, Any] | None) -> uploads.ArticleInput | None:
    """The Add form as a job's save sent it (None when that is gone)."""
    if sent is None:
        return None
    text = str(sent.get("text") or "")
    tags = sent.get("tags")
    extra = sent.get("extra") if isinstance(sent.get("extra"), dict) else {}
    return uploads.ArticleInput(
        data=text.encode(), text=text, article_id=sent.get("article_id"),
        title=sent.get("title"), lang=sent.get("lang"), source=sent.get("source"),
        tags=tuple(str(t) for t in tags) if isinstance(tags, list) else None,
        extra={str(k): str(v) for k, v in extra.items()})


@router.get("/library", response_class=HTMLResponse)
def library_page(
    request: Request, kb: KB, lang: Annotated[list[str] | None, Query(max_length=40)] = None,
    tag: Annotated[str | None, Query(max_length=60)] = None,
    sort: str | None = None,
    removed: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    """All articles; ``lang`` and ``tag`` filter them, ``sort`` orders them (language,
    title, added or passages; an unknown one is ignored, like a mangled link's);
    ``removed`` shows the notice of a removal, with its Undo, for as long as the
    article is removed and its file kept: reloaded or opened again, the address was the
    plain library (QA22 F9). "?removed=" of an id never removed, or in the knowledge
    base, shows nothing (QA10: it claimed "the-whole-knowledge-base" removed)."""
    ctx = views.library_context(kb, langs=parse_langs(lang), tag=tag, sort=sort)
    ctx["removed"] = (views.removed_view(kb, request.app.state.settings, same_id(removed))
                      if removed else None)
    if ctx["removed"]:  # the title says it first (QA23b F2: it said "Library" alone)
        ctx["outcome"] = f"Removed {ctx['removed']['id']}"
    return render(request, "library.html", "library", ctx)


async def remove_form(request: Request) -> dict[str, str]:
    """The Edit page's removal form (token and confirmation), read before the handler."""
    form = await request.form()
    return {k: v for k in ("token", "confirm", "version") if isinstance(v := form.get(k), str)}


@router.get("/articles/{article_id}/remove", include_in_schema=False)
def remove_page(article_id: Annotated[str, Path(min_length=1, max_length=200)]) -> Response:
    """The removal's address reloaded or bookmarked: its Edit page, where the form is."""
    return RedirectResponse(views.edit_href(article_id), status_code=303)


@router.post("/articles/{article_id}/remove", response_class=HTMLResponse)
def remove_submit(
    request: Request, kb: KB, article_id: Annotated[str, Path(min_length=1, max_length=200)],
    form: Annotated[dict[str, str], Depends(remove_form)],
) -> Response:
    """Remove an article from its Edit page: its file moves to ``.removed/`` in the
    corpus directory, as ``kb remove`` and the API's DELETE do."""
    settings = request.app.state.settings
    editing = kb.article(article_id)  # a 404 page for an unknown id
    try:
        uploads.authorize(settings, form.get("token"))
        if form.get("confirm") != "yes":
            raise BadInputError("tick the box to confirm the removal", fields=("confirm",))
        with write_slot(request, kb), logs.removing(kb, article_id):
            # The version the Edit page was opened at: a page older than a change made
            # since does not remove the article unseen (QA18).
            adding.remove(kb, article_id, expect=form.get("version") or None)
    except KBError as exc:
        ctx = views.add_context(settings, editing=editing, remove_error=exc)
        return render(request, "add.html", "add", ctx, status_code=exc.status)
    return RedirectResponse(f"/library?removed={quote(article_id, safe='')}", status_code=303)


@router.post("/articles/{article_id}/restore", response_class=HTMLResponse)
def restore_submit(
    request: Request, kb: KB, article_id: Annotated[str, Path(min_length=1, max_length=200)],
    form: Annotated[dict[str, str], Depends(remove_form)],
) -> Response:
    """Undo a removal from the library's notice or the removed article's page: the
    article's file comes back from ``.removed/`` as it was, as ``kb restore`` and the
    API do (QA17: only the server's disk could undo it)."""
    settings = request.app.state.settings
    try:
        uploads.authorize(settings, form.get("token"))
        with write_slot(request, kb):
            done = adding.restore(kb, article_id)
        logs.restored(done)
    except KBError as exc:  # the notice again (while it applies), with why, to try again
        ctx = views.library_context(kb)
        ctx.update(removed=views.removed_view(kb, settings, same_id(article_id)),
                   restore_error=exc, outcome=f"Error: {same_id(article_id)} not restored",
                   restore_refused=exc.status == 401)  # the token field is at fault
        return render(request, "library.html", "library", ctx, status_code=exc.status)
    return _to_saved(done.article_id, "restored", [], None)


@router.get("/concepts", response_class=HTMLResponse)
def concepts_page(
    request: Request, kb: KB,
    edit: Annotated[str | None, Query(min_length=1, max_length=60)] = None,
    saved: Annotated[str | None, Query(min_length=1, max_length=60)] = None,
    gap: Annotated[str | None, Query(max_length=20)] = None,
    removed: Annotated[str | None, Query(min_length=1, max_length=60)] = None,
) -> HTMLResponse:
    """Concept cards, and the form that adds a concept (``edit``: changes or removes
    that one; ``saved``: the concept a save just wrote; ``gap``: only the concepts with
    no source in that language, which the coverage-gap counts link to). An ``edit`` of
    no concept is a 404, as ``/add?edit=`` of no article is (QA23a F9: a 200), though
    the page still shows the cards and a form that says so."""
    missing = edit is not None and all(c.id != edit for c in kb.glossary.cards)
    return _concepts(request, kb, gap=gap if gap in SUPPORTED else None, edit=edit,
                     saved=saved, removed=removed, status_code=404 if missing else 200)


def _concepts(request: Request, kb: Any, *, status_code: int = 200, gap: str | None = None,
              **form: Any) -> HTMLResponse:
    """The cards are built once per index and glossary version (a few dozen searches)
    and cached (web.deps.concept_cards); the form is the request's own."""
    _, ctx = concept_cards(request, kb)
    ctx = {**views.gap_view(ctx, gap), **views.concept_form_context(
        request.app.state.settings, kb.glossary.cards, problem=kb.glossary_problem, **form)}
    return render(request, "concepts.html", "concepts", ctx, status_code=status_code)


async def concept_submission(request: Request) -> tuple[Any, dict[str, Any], KBError | None]:
    """The Concepts form, read before the (blocking) handler: the concept, the fields as
    sent (to refill the form), and what is wrong, shown on the page."""
    from kb.glossary_edit import concept_edit

    settings = request.app.state.settings
    try:
        fields = await uploads.read_form_fields(request, settings,
                                                uploads.PAGE_CONCEPT_FIELDS)
    except KBError as exc:
        return None, {}, exc
    try:
        uploads.authorize(settings, fields.get("token") or None)
        if fields.get("action") == "remove":
            return None, fields, None
        # The concept being edited keeps its id, whatever its first term now slugs to
        # (QA15: reordering the English terms was refused as a change of id).
        edit = concept_edit(fields.get("edit") or fields.get("id") or None,
                            {lang: fields.get(lang) for lang in SUPPORTED})
    except KBError as exc:
        return None, fields, exc
    return edit, fields, None


@router.post("/concepts", response_class=HTMLResponse)
def concepts_submit(request: Request, kb: KB, submission: Annotated[
        tuple[Any, dict[str, Any], KBError | None], Depends(concept_submission)]) -> Response:
    """Save (add, or replace the concept being edited) or remove; a success goes back to
    the cards at the concept's, which show it at once."""
    from kb import glossary_edit

    edit, fields, error = submission
    editing = fields.get("edit") or None
    # The version the form was opened at: an edit over a change made since is refused,
    # the typed terms kept (QA17: the later of two edits silently dropped the other's).
    expect = fields.get("version") or None if editing else None
    if error is None:
        try:
            with write_slot(request):  # the glossary file has its own lock
                if fields.get("action") == "remove":
                    # A confirmation, as an article's removal asks for (QA15: one click).
                    if fields.get("confirm") != "yes":
                        raise BadInputError("tick the box to confirm the removal",
                                            fields=("confirm",))
                    removed = glossary_edit.delete_concept(kb.glossary_path, editing or "",
                                                           expect=expect)
                    logs.concept("removed", removed)
                    return RedirectResponse(f"/concepts?removed={quote(editing or '')}",
                                            status_code=303)
                if editing and edit.id != editing:
                    raise BadInputError(f"a concept keeps its id while it is edited "
                                        f"({editing!r}); add it under the new id and remove "
                                        "this one", fields=("id",))
                concept = glossary_edit.write_concept(kb.glossary_path, edit,
                                                      replace=bool(editing), expect=expect)
                logs.concept("replaced" if editing else "added", concept)
        except KBError as exc:
            error = exc
        else:
            # To the notice at the top, which links to the card (QA15: at the card, far
            # down the page, the notice was out of view).
            return RedirectResponse(f"/concepts?saved={quote(concept.id)}#concept-saved",
                                    status_code=303)
    values = {k: v for k, v in fields.items() if k != "token"}
    if isinstance(error, StaleError):  # Save again replaces the version now stored
        values["version"] = error.current
    return _concepts(request, kb, edit=editing, values=values, error=error,
                     status_code=error.status if error else 500)


# -- Add article --------------------------------------------------------------------------
# These pages are not "Cache-Control: no-store" (they were while the form carried the
# token back): the browser then could not show a preview or a refused save, answers to
# a POST, again from its cache, and Back to one was Chrome's "Confirm Form Resubmission"
# (QA). A save or a removal that went through is a 303 to a GET page (Post/Redirect/Get).


@router.get("/add", response_class=HTMLResponse)
def add_page(
    request: Request, edit: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> HTMLResponse:
    """The Add page: paste or upload, preview, save (or how to enable writes). ``edit``:
    an article's id, whose text and metadata fill the form, to be replaced."""
    editing = get_kb(request).article(edit) if edit else None
    ctx = views.add_context(request.app.state.settings, editing=editing)
    return render(request, "add.html", "add", ctx)


Submission = tuple[uploads.ArticleInput | None, KBError | None]


async def add_submission(request: Request) -> Submission:
    """The submitted form, read before the (blocking) handler runs, and what is wrong
    with it: errors are shown on the page, next to the fields, not as an error page."""
    settings = request.app.state.settings
    if not uploads.writes_enabled(settings):
        return None, WritesDisabledError(uploads.ENABLE_HINT)
    try:
        form = await uploads.read_article_input(
            request, settings, allowed=uploads.PAGE_FIELDS, check_token=False)
    except uploads.FormError as exc:
        form, problem = exc.form, exc
    except KBError as exc:
        return None, exc
    else:
        problem = None
    try:  # first: a missing or wrong token is what to fix before anything else
        uploads.authorize(settings, form.token)
    except KBError as exc:
        return form, exc
    return form, problem


def _edited_lang(kb: Any, form: uploads.ArticleInput) -> uploads.ArticleInput:
    """On the Edit page the language field holds the stored article's: with a new text
    and that field left as it was, the language is detected from the text (QA9: a
    Korean text pasted over an English article was saved as English, with a note that
    it looks Korean). The save's notes say when the language changes."""
    stored = kb.store.article(same_id(form.extra.get("edit", "")))
    if (stored is None or form.text is None or form.lang != stored["lang"]
            or " ".join(form.text.split()) == " ".join(stored["text"].split())):
        return form
    return dataclasses.replace(form, lang=None)


def _editing(kb: Any, form: uploads.ArticleInput | None) -> dict[str, Any] | None:
    """The article an Edit form came from (its hidden ``edit`` field), if it is still
    there: the page stays an Edit page across a preview or an error."""
    article_id = form.extra.get("edit") if form is not None else None
    if not article_id:
        return None
    try:
        return kb.article(article_id)  # type: ignore[no-any-return]
    except KBError:
        return None


def _kept_file(kb: Any, request: Request, form: uploads.ArticleInput, error: KBError, *,
               save: bool, replace: bool) -> Response | None:
    """The Add page after a refused save of an uploaded file, with the file's text in
    the text box, as a preview puts it there: a file input cannot be refilled, and the
    page came back empty (QA13: an id that exists, then "Replace" as the error advised,
    then "pasted text: the text is empty"). None when the file itself is what failed."""
    if not save or form.filename is None or (form.text or "").strip():
        return None
    try:
        result = uploads.save(kb, request.app.state.write_lock,
                              dataclasses.replace(form, preview=True), replace=replace,
                              expect=form.extra.get("version") or None)
    except KBError:
        return None
    ctx = views.add_context(request.app.state.settings, form=form, result=result, error=error,
                            editing=_editing(kb, form))
    return render(request, "add.html", "add", ctx, status_code=error.status)


@router.post("/add", response_class=HTMLResponse)
def add_submit(request: Request, kb: KB,
               submission: Annotated[Submission, Depends(add_submission)]) -> Response:
    """Preview (the default button) or save; a save redirects to the new article."""
    settings = request.app.state.settings
    form, error = submission
    edited = form.extra.get("edit") if form is not None else None
    if (error is None and form is not None and edited
            and same_id(form.article_id or "") != same_id(edited)):
        # The field is read-only; a hand-made form gets this rather than "no article
        # with id ... to replace".
        error = BadInputError(f"an article keeps its id while it is edited ({edited!r}); to "
                              "change it, add the text under a new id and remove this one",
                              fields=("id",))
    if form is not None and error is None:
        save = form.extra.get("action") == "save"
        replace = form.extra.get("replace", "").lower() in uploads.TRUE
        if not form.extra.get("edit"):
            # The plain form sends every field, blank or not: a blank one was left
            # alone, and a replace keeps the old value (it wiped the title, tags and
            # source). On the Edit page the fields hold the stored values, so a blank
            # one was cleared.
            form = dataclasses.replace(form, title=form.title or None,
                                       source=form.source or None, tags=form.tags or None)
        else:
            form = _edited_lang(kb, form)
        try:
            if save and len(form.data or b"") > jobs.JOB_CHARS:
                # A job queues behind a running save, and its page says so (QA9).
                if job_id := _save_as_job(kb, request, form, replace):
                    return RedirectResponse(f"/jobs/{job_id}", status_code=303)
            # A save here waits a bounded time for one running (a long save's job takes
            # minutes), then comes back to this page with the text kept, as the API's
            # 503 does (QA23a F1). A preview writes nothing and does not wait.
            with write_slot(request, kb) if save else nullcontext():
                # The Edit page's hidden version: a save over a change made since the
                # page was opened is refused, the form kept (QA17: the last save won,
                # silently).
                result = uploads.save(kb, request.app.state.write_lock,
                                      dataclasses.replace(form, preview=not save),
                                      replace=replace, expect=form.extra.get("version") or None)
        except KBError as exc:
            error = exc
            kept = _kept_file(kb, request, form, error, save=save, replace=replace)
            if kept is not None:
                return kept
        else:
            if result.saved:
                saved = ("unchanged" if result.unchanged else
                         "replaced" if result.exists else "added")
                similar = (result.similar_to if result.similar_to != result.article_id
                           and not result.duplicate_of else None)
                return _to_saved(result.article_id, saved, result.notes, similar)
            ctx = views.add_context(settings, form=form, result=result,
                                    editing=_editing(kb, form))
            return render(request, "add.html", "add", ctx)
    ctx = views.add_context(settings, form=form, error=error, editing=_editing(kb, form))
    return render(request, "add.html", "add", ctx, status_code=error.status if error else 500)
