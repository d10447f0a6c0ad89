"""No save undoes another unseen (QA17, F1 and F6): articles carry a version, sent as an
ETag and honoured as If-Match by PUT, PATCH and DELETE, and carried by the Edit page in
a hidden field; a stale save is refused and keeps what was typed.

Every test works on a private copy of the fake index and a temporary corpus directory.
"""

from __future__ import annotations

import html
import json
import re

import pytest
from fastapi.testclient import TestClient

from kb import adding
from kb.articles import parse_article
from kb.errors import StaleError
from web.app import create_app

from . import test_web_writes
from .http import assert_error
from .test_web_writes import AUTH, TOKEN

lib = test_web_writes.lib  # the fixture: a writable copy of the fake index and corpus
closed_client = test_web_writes.closed_client  # the fixture: no admin token, no web writes

TEXT = ("Customer retention\n\nWinning back a lapsed customer costs between five and fifteen "
        "percent of what a new one costs. Retention programmes pay for themselves.")


@pytest.fixture
def client(lib):
    with TestClient(create_app(lib.settings, kb=lib)) as c:
        r = c.post("/api/articles", headers=AUTH, json={"id": "retention", "text": TEXT,
                                                        "tags": ["crm"]})
        assert r.status_code == 201, r.text
        yield c


def _version(client, article_id: str = "retention") -> str:
    r = client.get(f"/api/articles/{article_id}")
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == f'"{r.json()["version"]}"'
    return str(r.json()["version"])


# -- the API ----------------------------------------------------------------------------
def test_get_gives_an_etag_that_a_put_accepts(client):
    version = _version(client)
    r = client.put("/api/articles/retention", headers={**AUTH, "If-Match": f'"{version}"'},
                   json={"text": TEXT.replace("fifteen", "twelve")})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == f'"{r.json()["version"]}"' and r.json()["version"] != version
    assert _version(client) == r.json()["version"]
    assert "twelve" in client.get("/api/articles/retention").json()["text"]
    listed = {a["id"]: a for a in client.get("/api/articles").json()["articles"]}
    assert listed["retention"]["version"] == r.json()["version"]


def test_two_stale_puts_the_second_is_refused_and_the_first_kept(client):
    """QA17 (race.py): two PUTs from one read both answered 200, and one change was lost."""
    opened = {**AUTH, "If-Match": f'"{_version(client)}"'}
    first = client.put("/api/articles/retention", headers=opened,
                       json={"text": TEXT.replace("fifteen", "twelve")})
    assert first.status_code == 200, first.text
    second = client.put("/api/articles/retention", headers=opened,
                        json={"text": TEXT + " Loyalty points help."})
    body = assert_error(second, 412)
    assert "changed since you read it" in body["error"] and "nothing was saved" in body["error"]
    assert second.headers["etag"] == f'"{first.json()["version"]}"'
    text = client.get("/api/articles/retention").json()["text"]
    assert "twelve" in text and "Loyalty points" not in text


def test_patch_and_delete_with_a_stale_if_match_are_refused(client):
    stale = {**AUTH, "If-Match": f'"{_version(client)}"'}
    assert client.patch("/api/articles/retention", headers=AUTH,
                        json={"title": "Retention costs"}).status_code == 200
    assert_error(client.patch("/api/articles/retention", headers=stale, json={"tags": ["x"]}),
                 412)
    assert_error(client.delete("/api/articles/retention", headers=stale), 412)
    art = client.get("/api/articles/retention").json()
    assert (art["title"], art["tags"]) == ("Retention costs", ["crm"])
    # The current version, or "*", goes through; several versions are a 400.
    assert_error(client.patch("/api/articles/retention",
                              headers={**AUTH, "If-Match": '"a", "b"'}, json={"tags": []}), 400)
    fresh = {**AUTH, "If-Match": f'"{_version(client)}"'}
    assert client.patch("/api/articles/retention", headers=fresh,
                        json={"tags": ["crm", "b2b"]}).status_code == 200
    assert client.delete("/api/articles/retention",
                         headers={**AUTH, "If-Match": "*"}).status_code == 200


def test_a_save_that_changes_nothing_keeps_the_version(client):
    version = _version(client)
    r = client.patch("/api/articles/retention", headers={**AUTH, "If-Match": f'"{version}"'},
                     json={"tags": ["crm"]})
    assert r.status_code == 200 and r.json()["unchanged"] and _version(client) == version


# -- the Edit page ----------------------------------------------------------------------
def _edit_form(page: str) -> dict[str, str]:
    """The fields of an Edit page's form as a browser would send them for Save."""
    def value(name: str) -> str:
        m = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page)
        return m.group(1) if m else ""
    text = re.search(r'<textarea id="text" name="text"[^>]*>(.*?)</textarea>', page, re.S)
    assert text is not None
    return {"edit": value("edit"), "version": value("version"), "id": value("id"),
            "title": html.unescape(value("title")), "tags": html.unescape(value("tags")),
            "source": value("source"), "lang": "en", "replace": "true", "token": TOKEN,
            "action": "save", "text": html.unescape(text.group(1)),
            **{k: html.unescape(value(k)) for k in
               ("opened_title", "opened_lang", "opened_source", "opened_tags")}}


def test_two_edit_pages_the_stale_save_is_refused_with_the_typed_text_kept(client):
    """QA17 (two_tabs.py): B's fix was erased by A's later save; both saw "Replaced"."""
    tab_a = _edit_form(client.get("/add", params={"edit": "retention"}).text)
    tab_b = _edit_form(client.get("/add", params={"edit": "retention"}).text)
    assert tab_a["version"] == _version(client)
    tab_b["text"] = tab_b["text"].replace("fifteen", "twelve")
    r = client.post("/add", data=tab_b, follow_redirects=False)
    assert r.status_code == 303, r.text
    tab_a["text"] += "\n\nA paragraph typed in tab A."
    tab_a["tags"] = "crm, churn"
    # A's preview already says a save would be refused.
    preview = client.post("/add", data={**tab_a, "action": "preview"})
    assert 'id="preview-stale"' in preview.text
    r = client.post("/add", data=tab_a)
    assert r.status_code == 412
    assert "changed since you opened it" in r.text and 'id="changed-links"' in r.text
    assert 'href="/articles/retention" target="_blank"' in r.text
    refused = _edit_form(r.text)
    assert "A paragraph typed in tab A." in refused["text"] and refused["tags"] == "crm, churn"
    text = client.get("/api/articles/retention").json()["text"]
    assert "twelve" in text and "tab A" not in text
    # The refusal carries the version now stored: Save again replaces it, on purpose.
    assert refused["version"] == _version(client)
    assert client.post("/add", data=refused, follow_redirects=False).status_code == 303
    assert "tab A" in client.get("/api/articles/retention").json()["text"]


def test_a_stale_edit_page_does_not_revert_a_colleagues_kb_edit(client, lib):
    """QA17 (stale_meta.py): an Edit page opened before `kb edit` reverted its title,
    tags and source when one word of the text was saved."""
    form = _edit_form(client.get("/add", params={"edit": "retention"}).text)
    adding.edit(lib, "retention", title="Retention economics", tags=["crm", "churn"],
                source="https://example.com/retention")
    form["text"] = form["text"].replace("pay for", "more than pay for")
    assert client.post("/add", data=form).status_code == 412
    art = client.get("/api/articles/retention").json()
    assert (art["title"], art["tags"], art["source"]) == (
        "Retention economics", ["crm", "churn"], "https://example.com/retention")


# -- the library and the CLI: a text-only replace keeps a title set since (F6) ------------
def test_a_text_only_replace_keeps_a_title_set_since_unless_the_heading_changes(lib):
    """QA17 F6: PATCH set a title, and a PUT of the text (its `# heading` unchanged)
    set the title back to that heading."""
    first = parse_article("# Brand positioning\n\nPositioning decides which customers a brand "
                          "serves and why they choose it.", name="positioning.md")
    adding.add(lib, first)
    adding.edit(lib, "positioning", title="Brand positioning: a guide")
    fixed = parse_article("# Brand positioning\n\nPositioning decides which customers a brand "
                          "serves, and why they choose it over others.", name="positioning.md")
    res = adding.add(lib, fixed, replace=True)
    assert res.title == "Brand positioning: a guide" and "title" in res.kept
    assert any("keeps the title" in n for n in res.notes)
    # A new heading is a new title, as before.
    renamed = parse_article("# Positioning for challengers\n\nPositioning decides which "
                            "customers a brand serves.", name="positioning.md")
    assert adding.add(lib, renamed, replace=True).title == "Positioning for challengers"


def test_the_library_refuses_a_stale_version(lib):
    article = parse_article(TEXT, name="retention.md")
    adding.add(lib, article)
    version = lib.article("retention")["version"]
    adding.edit(lib, "retention", tags=["crm"])
    with pytest.raises(StaleError) as caught:
        adding.edit(lib, "retention", title="Other", expect=version)
    assert caught.value.status == 412
    assert caught.value.current == lib.article("retention")["version"]
    with pytest.raises(StaleError):
        adding.remove(lib, "retention", expect=version)
    assert lib.article("retention")["title"] == "Customer retention"


# -- glossary concepts --------------------------------------------------------------------
def test_a_concept_put_from_a_stale_version_is_refused(client):
    """QA17: a PUT adding a `vi` term, then another editor's PUT from the concept as it
    was adding a `ko` term: the `vi` term was gone."""
    assert client.post("/api/concepts", headers=AUTH,
                       json={"terms": {"en": ["price anchor"]}}).status_code == 201
    r = client.get("/api/concepts/price-anchor")
    assert r.status_code == 200 and r.headers["etag"] == f'"{r.json()["version"]}"'
    opened = {**AUTH, "If-Match": r.headers["etag"]}
    first = client.put("/api/concepts/price-anchor", headers=opened,
                       json={"terms": {"en": ["price anchor"], "vi": ["giá neo"]}})
    assert first.status_code == 200, first.text
    assert first.headers["etag"] == client.get("/api/concepts/price-anchor").headers["etag"]
    second = client.put("/api/concepts/price-anchor", headers=opened,
                        json={"terms": {"en": ["price anchor"], "ko": ["가격 앵커"]}})
    body = assert_error(second, 412)
    assert "changed since you read it" in body["error"] and "giá neo" in body["error"]
    assert_error(client.delete("/api/concepts/price-anchor", headers=opened), 412)
    terms = client.get("/api/concepts/price-anchor").json()["terms"]
    assert terms == {"en": ["price anchor"], "vi": ["giá neo"]}
    listed = {c["id"]: c for c in client.get("/api/concepts").json()["concepts"]}
    assert listed["price-anchor"]["version"] == first.json()["version"]
    assert client.delete("/api/concepts/price-anchor",
                         headers={**AUTH, "If-Match": first.headers["etag"]}).status_code == 200


def test_the_concepts_page_refuses_a_stale_edit_and_keeps_the_typed_terms(client):
    assert client.post("/api/concepts", headers=AUTH,
                       json={"terms": {"en": ["price anchor"]}}).status_code == 201
    page = client.get("/concepts", params={"edit": "price-anchor"}).text
    version = re.search(r'name="version" value="([^"]+)"', page)
    assert version is not None
    r = client.put("/api/concepts/price-anchor", headers=AUTH,
                   json={"terms": {"en": ["price anchor"], "vi": ["giá neo"]}})
    assert r.status_code == 200
    form = {"edit": "price-anchor", "id": "price-anchor", "version": version.group(1),
            "en": "price anchor", "ko": "가격 앵커", "token": TOKEN, "action": "save"}
    r = client.post("/concepts", data=form)
    assert r.status_code == 412 and 'id="concept-changed"' in r.text
    assert 'value="가격 앵커"' in r.text and "giá neo" in r.text
    assert client.get("/api/concepts/price-anchor").json()["terms"]["vi"] == ["giá neo"]
    current = re.search(r'name="version" value="([^"]+)"', r.text)
    assert current is not None and current.group(1) != version.group(1)
    r = client.post("/concepts", data={**form, "version": current.group(1)},
                    follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/api/concepts/price-anchor").json()["terms"] == {
        "en": ["price anchor"], "ko": ["가격 앵커"]}


# -- nothing overwritten is lost ----------------------------------------------------------
def test_a_replace_keeps_the_previous_file_in_removed(client, lib):
    """QA17: a replace kept no copy of the old file; the overwritten fix existed nowhere."""
    corpus = lib.settings.corpus_dir
    before = (corpus / "retention.md").read_bytes()
    r = client.put("/api/articles/retention", headers=AUTH,
                   json={"text": TEXT.replace("fifteen", "twelve")})
    assert r.status_code == 200, r.text
    kept = r.json()["previous_file"]
    assert kept is not None and re.fullmatch(r"\.removed/retention\.\d{19}\.replaced\.md", kept)
    assert (corpus / kept).read_bytes() == before
    assert b"twelve" in (corpus / "retention.md").read_bytes()
    # A metadata edit keeps the previous file too; and a kept file comes back under its
    # own id when it is added again.
    r = client.patch("/api/articles/retention", headers=AUTH, json={"title": "Costs"})
    assert (corpus / r.json()["previous_file"]).read_bytes() != before
    old, _ = adding.prepare(lib, (corpus / kept).read_bytes(), filename=kept)
    assert old.id == "retention"
    restored = adding.add(lib, old, replace=True)
    assert "fifteen" in lib.article("retention")["text"] and restored.previous_file


# -- the corpus file: changes on disk and markup survive (F3) -----------------------------
MARKDOWN = (b"---\ntitle: Referral programmes\nlang: en\nauthor: QA17\n---\n"
            b"# Referral programmes\n\nA referral programme pays **both** sides: see the "
            b"[full checklist](https://example.com/checklist) for *details*.\n\n"
            b"![diagram](https://example.com/diagram.png)\n\n"
            b"Most programmes pay out after the friend's second purchase, and 60 days is a "
            b"common window.\n")


@pytest.fixture
def referral(client, lib):
    """A hand-written Markdown file in the corpus, ingested where it is."""
    path = lib.settings.corpus_dir / "referral.md"
    path.write_bytes(MARKDOWN)
    assert not lib.ingest_paths([path]).errors
    return path


def test_a_metadata_patch_of_a_markdown_file_keeps_its_body_bytes(client, referral):
    """QA17 F3b: the file was rewritten from the cleaned text; its URLs, emphasis and
    image were gone after an edit."""
    r = client.patch("/api/articles/referral", headers=AUTH,
                     json={"title": "Referral programmes that pay", "tags": ["referral"]})
    assert r.status_code == 200, r.text
    saved = referral.read_bytes()
    assert saved.endswith(MARKDOWN.split(b"---\n", 2)[2])  # the body, byte for byte
    assert b"title: Referral programmes that pay" in saved and b"author: QA17" in saved
    assert not any("held more" in n for n in r.json()["notes"])
    # The index reads it as it was saved: an ingest finds nothing to change.
    assert "referral" in client.app.state.kb.ingest_paths([referral]).unchanged


def test_a_text_edit_of_a_markdown_file_keeps_the_old_file_and_says_so(client, lib, referral):
    text = client.get("/api/articles/referral").json()["text"].replace("60", "25")
    r = client.put("/api/articles/referral", headers=AUTH, json={"text": text})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["markup_dropped"] and any("held more than its cleaned text" in n
                                          for n in body["notes"])
    assert (lib.settings.corpus_dir / body["previous_file"]).read_bytes() == MARKDOWN


def test_a_file_changed_on_disk_is_not_overwritten_by_a_patch(client, lib, referral):
    """QA17 F3a: a paragraph added on disk, not yet ingested, was erased by a tag change."""
    edited = MARKDOWN + b"\nA paragraph written on disk, not yet ingested.\n"
    referral.write_bytes(edited)
    body = assert_error(client.patch("/api/articles/referral", headers=AUTH,
                                     json={"tags": ["psychology"]}), 409)
    assert "changed on disk since it was indexed" in body["error"]
    assert "kb ingest" in body["error"]
    form = _edit_form(client.get("/add", params={"edit": "referral"}).text)
    r = client.post("/add", data={**form, "title": "Referrals"})
    assert r.status_code == 409 and "changed on disk" in r.text
    assert 'id="clash-links"' not in r.text
    assert referral.read_bytes() == edited
    # A header broken by hand (never closed) is refused the same way, saying why.
    referral.write_bytes(b"---\ntitle: Referrals\n" + edited.split(b"---\n", 2)[2])
    body = assert_error(client.patch("/api/articles/referral", headers=AUTH,
                                     json={"tags": ["x"]}), 409)
    assert "does not read as an article now" in body["error"]
    # Once ingested, the change on disk is the article, and edits go through again.
    referral.write_bytes(edited)
    assert "referral" in lib.ingest_paths([referral]).updated
    r = client.patch("/api/articles/referral", headers=AUTH, json={"tags": ["psychology"]})
    assert r.status_code == 200 and b"written on disk" in referral.read_bytes()


def test_kb_edit_refuses_a_file_changed_on_disk(lib, referral):
    from kb.errors import ConflictError

    referral.write_bytes(MARKDOWN + b"\nAdded on disk.\n")
    with pytest.raises(ConflictError, match="changed on disk"):
        adding.edit(lib, "referral", tags=["psychology"])
    assert referral.read_bytes().endswith(b"Added on disk.\n")


def test_a_long_save_refused_as_stale_in_its_job_comes_back_ready_to_save_again(client, lib):
    """A long save runs as a job, behind other saves: an article changed while it
    waited comes back refused as the Edit page refuses it, carrying the current version."""
    import json
    import os
    import time

    from web import jobs

    state = {"id": "BBBBBBBBBBBB", "state": "failed", "status": 412, "saved": "replaced",
             "error": "the article 'retention' was changed since you read it",
             "article_id": "retention", "pid": os.getpid(), "process": jobs._PROCESS,
             "started": time.time(), "updated": time.time()}
    folder = jobs.jobs_dir(lib.index_dir)
    folder.mkdir(exist_ok=True)
    (folder / "BBBBBBBBBBBB.json").write_text(json.dumps(state))
    (folder / "BBBBBBBBBBBB.input.json").write_text(json.dumps(
        {"text": "The long text typed.", "article_id": "retention",
         "extra": {"edit": "retention", "replace": "true", "version": "0" * 16}}))
    r = client.get("/jobs/BBBBBBBBBBBB")
    assert r.status_code == 412 and "changed since you opened it" in r.text
    form = _edit_form(r.text)
    assert form["text"] == "The long text typed." and form["version"] == _version(client)


# -- undoing a removal ---------------------------------------------------------------------
def test_a_removed_article_comes_back_as_its_file_was(client, lib, referral):
    """QA17 F5: a removal could be undone only on the server's disk (`kb add` on the
    file in .removed/). Restored, the hand-written file is back byte for byte."""
    assert client.delete("/api/articles/referral", headers=AUTH).status_code == 200
    assert not referral.exists()
    assert client.post("/api/articles/referral/restore").status_code == 401
    r = client.post("/api/articles/referral/restore", headers=AUTH)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["restored"] == "referral" and body["file"] == "referral.md"
    assert body["removed_file"].startswith(".removed/referral.") and body["chunks"] >= 1
    assert referral.read_bytes() == MARKDOWN
    assert not (lib.settings.corpus_dir / body["removed_file"]).exists()
    assert client.get("/api/search", params={"q": "friend's second purchase"}).json()[
        "hits"][0]["article_id"] == "referral"
    # Nothing more to restore, and a knowledge base article is not restored over.
    again = client.post("/api/articles/referral/restore", headers=AUTH)
    assert_error(again, 409)
    assert_error(client.post("/api/articles/nothing-here/restore", headers=AUTH), 404)


def test_the_library_notice_of_a_removal_undoes_it(client, lib):
    page = client.get("/add?edit=retention").text
    assert 'action="/articles/retention/remove"' in page
    r = client.post("/articles/retention/remove", data={"token": TOKEN, "confirm": "yes"},
                    follow_redirects=False)
    assert r.status_code == 303
    notice = client.get(r.headers["location"]).text
    assert 'action="/articles/retention/restore"' in notice
    wrong = client.post("/articles/retention/restore", data={"token": "nope"})
    assert wrong.status_code in (401, 403) and 'id="restore-error"' in wrong.text
    assert lib.store.article("retention") is None
    done = client.post("/articles/retention/restore", data={"token": TOKEN},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("/articles/retention")
    assert "Restored: the article is searchable now" in client.get(done.headers["location"]).text
    assert lib.store.article("retention") is not None


def test_a_removed_article_can_be_restored_from_its_page_and_the_library_later(client, lib):
    """QA22 F9: the Undo was on the page right after the removal alone: reloaded, the
    library showed nothing, and the removed article's page (a 404) told a web user to
    run `kb restore` on the server. Both offer the restore while the article is
    removed; the API's answer stays a 404."""
    assert client.delete("/api/articles/retention", headers=AUTH).status_code == 200
    page = client.get("/articles/retention")
    assert page.status_code == 404 and "<h1>Removed <span" in page.text
    assert 'action="/articles/retention/restore"' in page.text
    assert 'id="restore-token" name="token" type="password"' in page.text
    assert "kb restore" not in page.text and 'id="error-q"' in page.text  # search box stays
    assert client.get("/api/articles/retention").status_code == 404
    library = client.get("/library?removed=retention").text  # no cookie: any time later
    assert 'id="removed-notice"' in library and 'action="/articles/retention/restore"' in library
    # The page's form restores it, as the notice's does.
    done = client.post("/articles/retention/restore", data={"token": TOKEN},
                       follow_redirects=False)
    assert done.status_code == 303 and lib.store.article("retention") is not None
    # Back: the notice is gone, and a page of an id never removed offers nothing.
    assert 'id="removed-notice"' not in client.get("/library?removed=retention").text
    assert client.get("/articles/retention").status_code == 200
    never = client.get("/articles/never-was")
    assert never.status_code == 404 and "/restore" not in never.text


def test_without_web_writes_a_removed_articles_page_says_how_to_restore_it(closed_client):
    """Without an admin token the server takes no writes: the page says how to restore
    it on the server instead of offering a form that would be refused."""
    kb = closed_client.kb
    adding.remove(kb, test_web_writes.EN_SEED)
    page = closed_client.get(f"/articles/{test_web_writes.EN_SEED}")
    assert page.status_code == 404 and 'id="removed-notice"' in page.text
    assert "restore-form" not in page.text
    assert f"<code>kb restore {test_web_writes.EN_SEED}</code> on the server" in page.text
    library = closed_client.get("/library", params={"removed": test_web_writes.EN_SEED}).text
    assert 'id="removed-notice"' in library and "restore-form" not in library
    # An address that names no removed article shows no notice, and nothing of it.
    evil = closed_client.get("/library", params={"removed": "<script>x()</script>"}).text
    assert 'id="removed-notice"' not in evil and "<script>x()" not in evil


def test_kb_restore(lib, referral, monkeypatch):
    from click.testing import CliRunner

    from kb.cli import cli

    monkeypatch.setenv("KB_INDEX_DIR", str(lib.index_dir))
    monkeypatch.setenv("KB_CORPUS_DIR", str(lib.settings.corpus_dir))
    monkeypatch.setenv("KB_MODEL", "fake")
    adding.remove(lib, "referral")
    lib.close()
    out = CliRunner().invoke(cli, ["restore", "referral"])
    assert out.exit_code == 0, out.output
    assert out.output.startswith("restored referral from .removed/referral.")
    import re

    count = re.search(r"\((\d+) passage(s?)\)", out.output)  # QA20: "(1 passages)"
    assert count and (count.group(1) == "1") == (count.group(2) == ""), out.output
    assert referral.read_bytes() == MARKDOWN
    twice = CliRunner().invoke(cli, ["restore", "referral"])
    assert twice.exit_code != 0 and "is in the knowledge base" in twice.output


def test_restore_finds_an_article_whose_id_is_not_its_file_name(lib):
    """QA18 F1: removal kept the file under its name (pricing-notes), restore looked for
    its id (pricing-2025) and answered that nothing was removed."""
    path = lib.settings.corpus_dir / "pricing-notes.md"
    raw = (b"---\ntitle: Pricing notes 2025\nid: pricing-2025\n---\n"
           b"Decoy pricing adds a third option that makes the second look cheap.\n")
    path.write_bytes(raw)
    assert not lib.ingest_paths([path]).errors and lib.store.article("pricing-2025")
    adding.remove(lib, "pricing-2025")
    assert not path.exists()
    done = adding.restore(lib, "pricing-2025")
    assert done.file == "pricing-2025.md" and lib.store.article("pricing-2025") is not None
    assert (lib.settings.corpus_dir / done.file).read_bytes() == raw


def test_removing_an_article_whose_file_is_gone_keeps_its_text(lib, tmp_path):
    """QA18 F2: an article ingested from outside the corpus, its file deleted since, had
    its only copy in the index, and a removal destroyed it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    memo = outside / "ext-memo.md"
    memo.write_text("---\ntitle: External memo\ntags: [ops]\n---\nChurn falls when onboarding "
                    "calls happen in the first week of a subscription.\n")
    assert not lib.ingest_paths([memo]).errors
    memo.unlink()
    adding.remove(lib, "ext-memo")
    kept = list((lib.settings.corpus_dir / adding.REMOVED).glob("ext-memo.*.md"))
    assert len(kept) == 1 and "onboarding calls" in kept[0].read_text()
    done = adding.restore(lib, "ext-memo")
    row = lib.store.article("ext-memo")
    assert done.file == "ext-memo.md" and row["title"] == "External memo"
    assert "onboarding calls" in row["text"] and json.loads(row["tags"]) == ["ops"]


def test_save_again_after_a_stale_refusal_keeps_what_the_other_editor_changed(client):
    """QA18 F9: tab A changed the tags; tab B, opened before, changed only the title and
    was refused, its form still showing the old tags, and its "Save again" put them
    back. The fields B left as opened now take their current values."""
    tab_a = _edit_form(client.get("/add", params={"edit": "retention"}).text)
    tab_b = _edit_form(client.get("/add", params={"edit": "retention"}).text)
    assert tab_b["opened_tags"] == "crm"
    tab_a["tags"] = "crm, from-tab-a"
    assert client.post("/add", data=tab_a, follow_redirects=False).status_code == 303
    tab_b["title"] = "Customer retention, revised"
    r = client.post("/add", data=tab_b)
    assert r.status_code == 412 and 'id="taken-fields"' in r.text
    refused = _edit_form(r.text)
    assert refused["tags"] == "crm, from-tab-a"  # taken: B had not changed them
    assert refused["title"] == "Customer retention, revised"  # B's own change stays
    assert client.post("/add", data=refused, follow_redirects=False).status_code == 303
    stored = client.get("/api/articles/retention").json()
    assert stored["tags"] == ["crm", "from-tab-a"]
    assert stored["title"] == "Customer retention, revised"


def test_a_stale_edit_page_does_not_remove_the_article(client, lib):
    """QA18: the Edit page's Remove form sent no version, so a page opened before a
    change removed the article without a word."""
    page = client.get("/add", params={"edit": "retention"}).text
    version = _edit_form(page)["version"]
    assert client.patch("/api/articles/retention", headers=AUTH,
                        json={"tags": ["crm", "since"]}).status_code == 200
    r = client.post("/articles/retention/remove",
                    data={"token": TOKEN, "confirm": "yes", "version": version})
    assert r.status_code == 412 and "nothing was removed" in r.text
    assert lib.store.article("retention") is not None
    fresh = _edit_form(client.get("/add", params={"edit": "retention"}).text)["version"]
    done = client.post("/articles/retention/remove",
                       data={"token": TOKEN, "confirm": "yes", "version": fresh},
                       follow_redirects=False)
    assert done.status_code == 303 and lib.store.article("retention") is None
