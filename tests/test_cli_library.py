"""The CLI does what the JSON API does: `kb list` is GET /api/articles, `kb show ID` is
GET /api/articles/{id}, and `kb add -` adds pasted text as the Add page's text box does.
Every test runs on a private copy of the fake index and an empty temporary corpus."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from kb.cli import cli

TOKEN = "test-admin-token-0123456789"
DE = "de-upstream-downstream-marketingleiter"
VI = "vi-thuong-nguon-ha-nguon-tiep-thi"
EN = "en-upstream-vs-downstream-marketing"


@pytest.fixture
def dirs(tmp_path, monkeypatch, fake_kb_dir) -> tuple[Path, Path]:
    index, corpus = tmp_path / "index", tmp_path / "corpus"
    shutil.copytree(fake_kb_dir, index)
    corpus.mkdir()
    monkeypatch.setenv("KB_MODEL", "fake")
    monkeypatch.setenv("KB_INDEX_DIR", str(index))
    monkeypatch.setenv("KB_CORPUS_DIR", str(corpus))
    return index, corpus


@pytest.fixture
def run(dirs):
    def invoke(*args: str, stdin: str | bytes | None = None):
        return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)

    return invoke


@pytest.fixture
def api(dirs, fake_encoder):
    """The web app on the same index and corpus (opened afresh for each request, so it
    sees what the CLI wrote)."""
    from kb.core import KnowledgeBase
    from kb.settings import Settings
    from web.app import create_app

    index, corpus = dirs
    settings = Settings(index_dir=index, corpus_dir=corpus, model="fake", admin_token=TOKEN)

    def request(method: str, url: str, **kwargs):
        kb = KnowledgeBase.open(index, settings=settings, encoder=fake_encoder)
        try:
            with TestClient(create_app(settings, kb=kb)) as client:
                return client.request(method, url, **kwargs)
        finally:
            kb.close()

    return request


def _link_de_vi() -> None:
    """The de and vi seeds as one translation family (what `kb ingest` finds with the
    real model; the fake encoder finds none)."""
    from kb.core import KnowledgeBase

    kb = KnowledgeBase.open()  # KB_INDEX_DIR: the private copy
    de = [c.id for c in kb.store.article_chunks(DE)]
    vi = [c.id for c in kb.store.article_chunks(VI)]
    with kb.store.transaction(bump=False) as conn:
        kb.store.set_links(conn, DE, [(VI, "translation", 0.83, [[de[0], vi[0]]])])
    kb.close()


# -- kb list ------------------------------------------------------------------------------
@pytest.mark.parametrize("params", [
    {}, {"lang": "ko"}, {"lang": "ko,DE"}, {"tag": "STRATEGY"}, {"lang": "en", "tag": "strategy"},
    {"tag": "no-such-tag"},
    {"lang": "ko,xx"},  # the error too: the API's 400 body
])
def test_list_json_is_what_the_api_returns(run, api, params):
    args = [x for k, v in params.items() for x in (f"--{k}", v)]
    res = run("list", "--json", *args)
    r = api("GET", "/api/articles", params=params)
    assert json.loads(res.stdout) == r.json()
    assert res.exit_code == (0 if r.status_code == 200 else 1)


def test_list_shows_one_line_per_article_and_filters(run, api):
    everything = api("GET", "/api/articles").json()["articles"]
    res = run("list")
    assert res.exit_code == 0, res.output
    head, *rows, total = res.stdout.splitlines()
    assert head.split() == ["id", "lang", "passages", "added", "title", "[tags]"]
    assert total == "5 article(s)" and len(rows) == len(everything) == 5
    for row, a in zip(rows, everything, strict=True):
        assert row.split()[:4] == [a["id"], a["lang"], str(a["chunks"]), a["added_at"][:10]]
        assert row.endswith(f"{a['title']}  [{', '.join(a['tags'])}]")

    res = run("list", "--lang", "ko", "--tag", "Strategy")
    _, row, total = res.stdout.splitlines()
    assert row.startswith("ko-upstream-downstream-marketing ") and total == "1 of 5 article(s)"
    res = run("list", "--tag", "no-such-tag")  # named, as `kb search --tag` and the API do
    assert res.exit_code == 1 and res.stderr.startswith(
        "error: no article is tagged 'no-such-tag'; the tags are: ")
    res = run("list", "--lang", "vi", "--tag", "kpi")  # a known tag, no article in vi
    assert res.exit_code == 0 and res.stdout.startswith("no article matches these filters")
    for bad in (",,", ""):
        res = run("list", "--lang", bad)
        assert res.exit_code == 1
        assert res.stderr == "error: --lang needs at least one language: ko, en, de, vi\n"


def test_list_ids_prints_only_the_ids_for_scripts(run, api):
    """QA23b F16: `kb list | wc -l` was the articles plus a header and a count line."""
    everything = api("GET", "/api/articles").json()["articles"]
    res = run("list", "--ids")
    assert res.exit_code == 0 and res.stdout.splitlines() == [a["id"] for a in everything]
    res = run("list", "-q", "--lang", "ko")
    assert res.stdout.splitlines() == [a["id"] for a in everything if a["lang"] == "ko"]
    res = run("list", "-q", "--lang", "vi", "--tag", "kpi")  # none: nothing on stdout
    assert res.exit_code == 0 and res.stdout == ""
    for bad in (",,",):
        res = run("list", "-q", "--lang", bad)
        assert res.exit_code == 1
        assert res.stderr == "error: --lang needs at least one language: ko, en, de, vi\n"


# -- kb show ------------------------------------------------------------------------------
def test_show_json_is_what_the_api_returns_with_the_family(run, api):
    _link_de_vi()
    res = run("show", DE, "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out == api("GET", f"/api/articles/{DE}").json()
    assert out["family"] == [{"article_id": VI, "lang": "vi", "title": out["family"][0]["title"]}]
    # A missing id: the API's 404 body, exit 1.
    res = run("show", "no-such-article", "--json")
    assert res.exit_code == 1
    assert json.loads(res.stdout) == api("GET", "/api/articles/no-such-article").json()


def test_show_prints_metadata_family_and_text(run, api):
    _link_de_vi()
    art = api("GET", f"/api/articles/{VI}").json()
    res = run("show", VI)
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert out.startswith(f"{art['title']}\n\nid:       {VI}\nlang:     vi (Vietnamese)\n")
    assert f"tags:     {', '.join(art['tags'])}\n" in out
    assert f"size:     {len(art['chunks'])} passage(s), {len(art['text']):,} characters" in out
    assert f"also in:  de {DE} (" in out
    assert out.endswith(f"\n\n{art['text']}\n")
    assert "also in:  (no translation found)" in run("show", EN).stdout


def test_show_a_missing_id_is_one_error_with_suggestions(run):
    res = run("show", "en-upstream-downstream-marketing")  # a mistyped id
    assert res.exit_code == 1 and res.stdout == ""
    lines = res.stderr.splitlines()
    assert lines[0] == "error: no article with id 'en-upstream-downstream-marketing'"
    assert lines[1] == "did you mean:" and lines[2].split()[0] == EN
    res = run("show", "zzzz")  # nothing close: where to find the ids
    assert res.exit_code == 1
    assert res.stderr == "error: no article with id 'zzzz'; `kb list` shows every article's id\n"


def test_add_edit_and_remove_print_what_the_api_answers_with_json(run, api, dirs):
    """QA23b F16: restore, show, list, search and ask had --json; add, edit and remove
    did not (`kb remove x --json`: "No such option")."""
    web = api("POST", "/api/articles", json={"text": PASTE, "preview": True, "token": TOKEN})
    preview = json.loads(run("add", "-", "--preview", "--json", stdin=PASTE).stdout)
    assert preview["ok"] is True and preview["article_id"] == web.json()["article_id"]
    assert preview["text"] == web.json()["text"] and preview["saved"] is False
    res = run("add", "-", "--json", stdin=PASTE)
    assert res.exit_code == 0, res.output
    added = json.loads(res.stdout)
    assert added["ok"] is True and added["saved"] is True
    assert set(web.json()) - {"href", "api_href", "text"} <= set(added)
    again = run("add", "-", "--json", stdin=PASTE)  # a duplicate: the error, as JSON
    assert again.exit_code == 1
    refused = json.loads(again.stdout)
    assert refused["ok"] is False and refused["status"] == 409 and refused["file"] == "-"
    edited = json.loads(run("edit", added["article_id"], "--tags", "x", "--json").stdout)
    assert edited["ok"] is True and edited["tags"] == ["x"]
    gone = run("remove", added["article_id"], "--json")
    assert json.loads(gone.stdout) == {"ok": True, "deleted": added["article_id"]}
    missing = run("remove", added["article_id"] + "-nope", "--json")
    assert missing.exit_code == 1 and json.loads(missing.stdout)["status"] == 404


def test_remove_and_edit_of_a_missing_id_suggest_the_close_ones(run):
    """QA23b F16: `kb show` suggested the id it probably meant; `kb remove` and `kb edit`
    only said "no article with id …"."""
    for args in (["remove", "en-upstream-downstream-marketing"],
                 ["edit", "en-upstream-downstream-marketing", "--title", "X"]):
        res = run(*args)
        assert res.exit_code == 1, res.output
        lines = res.stderr.splitlines()
        assert lines[0] == "error: no article with id 'en-upstream-downstream-marketing'"
        assert lines[1] == "did you mean:" and lines[2].split()[0] == EN


# -- kb add - -----------------------------------------------------------------------------
PASTE = ("Upstream / Downstream: a primer\n\nUpstream marketing shapes what a company "
         "sells; downstream marketing helps the sales team sell it to the customers.\n")


def test_add_dash_reads_one_article_from_stdin_as_a_web_paste(run, api, dirs):
    _, corpus = dirs
    # The id is guessed from the title as for text pasted on the web (not from a file name).
    web = api("POST", "/api/articles", json={"text": PASTE, "preview": True, "token": TOKEN})
    assert web.status_code == 200, web.text
    want = web.json()["article_id"]
    assert want == "upstream-downstream-a-primer"
    res = run("add", "-", "--preview", stdin=PASTE)
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith(f"pasted text: id {want}, text, lang en, 1 chunk(s), title "
                                 "'Upstream / Downstream: a primer'\n")
    assert list(corpus.iterdir()) == []  # a preview writes nothing

    res = run("add", "-", "--tags", "primer,upstream marketing", stdin=PASTE)
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith(f"added {want} [en] 1 chunk(s)")
    # Its progress, a line a stage on a stderr that is no terminal (QA: kb add of a
    # 110-passage file was silent for 13 s).
    assert re.search(r"^add: embedding (\d+)/\1 text\(s\) in", res.stderr, re.M), res.stderr
    assert (corpus / f"{want}.md").exists()
    art = json.loads(run("show", want, "--json").stdout)
    assert art["tags"] == ["primer", "upstream marketing"]
    assert art["title"] == "Upstream / Downstream: a primer"
    assert [a["id"] for a in json.loads(run("list", "--tag", "primer", "--json").stdout)
            ["articles"]] == [want]

    # --id, --title and --lang apply to stdin as to a file.
    res = run("add", "-", "--id", "nurture", "--title", "Email nurture flows", "--lang", "en",
              stdin="Nurture emails move leads along when each one answers the next "
                    "question a buyer has about the product.")
    assert res.exit_code == 0 and res.stdout.startswith("added nurture [en]"), res.output
    assert json.loads(run("show", "nurture", "--json").stdout)["title"] == "Email nurture flows"


def test_add_dash_says_when_the_title_is_the_texts_opening_words(run):
    """QA22 F11: `kb add -` of a note with no heading titled it by its first sentence
    and said nothing."""
    note = ("Cross-selling in B2B needs patience and good data about each customer. Sales "
            "suggests the products that fit. Customers then buy more.")
    res = run("add", "-", "--preview", stdin=note)
    assert res.exit_code == 0, res.output
    want = ("warning: no heading: the title was taken from the text's first words "
            "(“Cross-selling in B2B needs patience and good data about each customer.”); "
            "give a title, or start the text with a heading line (“# …”)")
    assert want in res.stderr.splitlines()
    res = run("add", "-", stdin=note)
    assert res.exit_code == 0 and want in res.stderr.splitlines(), res.output
    res = run("add", "-", "--preview", "--title", "Cross-selling in B2B", stdin=note)
    assert "no heading" not in res.stderr


@pytest.mark.parametrize("stdin", ["", " \n\t\n"])
def test_add_dash_with_nothing_on_stdin_is_an_error_and_writes_nothing(run, dirs, stdin):
    index, corpus = dirs
    before = json.loads(run("list", "--json").stdout)
    res = run("add", "-", stdin=stdin)
    assert res.exit_code == 1 and res.stderr == "error: pasted text: the text is empty\n"
    assert list(corpus.iterdir()) == [] and json.loads(run("list", "--json").stdout) == before
    res = run("add", "-", "-", stdin=PASTE)  # stdin holds one article
    assert res.exit_code == 2 and "give '-' once" in res.stderr
    assert list(corpus.iterdir()) == []
