"""Writes over HTTP: the token, preview, uploads of every type, replace, delete, the size
limit, path traversal, and bad input that gets a clear 4xx and changes nothing.

Every test works on a private copy of the fake index and a temporary corpus directory
(the ``lib`` fixture), so nothing is written into the repository's corpus/.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import io
import re
import shutil
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kb.articles import parse_article
from kb.core import KnowledgeBase
from kb.settings import Settings
from web.app import create_app

from .conftest import CORPUS
from .http import assert_error
from .test_adding import _pdf

TOKEN = "test-admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
LIMIT = 200_000
EN_SEED = "en-upstream-vs-downstream-marketing"
DE_SEED = "de-upstream-downstream-marketingleiter"
VI_SEED = "vi-thuong-nguon-ha-nguon-tiep-thi"

RETAIL = (
    "Retail media networks\n\n"
    "Retail media networks let retailers sell advertising on their own websites and apps. "
    "Brands reach shoppers at the moment of purchase, and the retailer earns a new margin."
)


# -- fixtures -----------------------------------------------------------------------------
def _open(tmp_path: Path, fake_kb_dir: Path, fake_encoder, token: str | None) -> KnowledgeBase:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    index = tmp_path / "index"
    shutil.copytree(fake_kb_dir, index)
    settings = Settings(index_dir=index, corpus_dir=corpus, model="fake",
                        max_upload_bytes=LIMIT, admin_token=token)
    return KnowledgeBase.open(index, settings=settings, encoder=fake_encoder)


@pytest.fixture
def lib(tmp_path, fake_kb_dir, fake_encoder):
    kb = _open(tmp_path, fake_kb_dir, fake_encoder, TOKEN)
    yield kb
    kb.close()


@pytest.fixture
def client(lib):
    with TestClient(create_app(lib.settings, kb=lib)) as c:
        yield c


@pytest.fixture
def closed_client(tmp_path, fake_kb_dir, fake_encoder):
    """No admin token configured: writes over HTTP are disabled."""
    kb = _open(tmp_path, fake_kb_dir, fake_encoder, None)
    with TestClient(create_app(kb.settings, kb=kb)) as c:
        c.kb = kb  # type: ignore[attr-defined]
        yield c
    kb.close()


def snapshot(kb: KnowledgeBase) -> tuple[Any, ...]:
    """Index version, article list and the corpus directory (names and sizes)."""
    root = kb.settings.corpus_dir
    files = sorted((str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*"))
    return kb.store.version, sorted(a["id"] for a in kb.articles()), files




def search_ids(client, q: str) -> list[str]:
    r = client.get("/api/search", params={"q": q, "k": 3})
    assert r.status_code == 200, r.text
    return [h["article_id"] for h in r.json()["hits"]]


# -- files of every type ------------------------------------------------------------------
def _docx(title: str, body: str) -> bytes:
    import docx

    d = docx.Document()
    d.add_heading(title, level=1)
    d.add_paragraph(body)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("notes.txt", "not a Word document")
    return buf.getvalue()


UPLOADS = {
    "txt": ("quokka.txt", (
        b"Quokka loyalty\n\nThe quokka loyalty programme rewards repeat buyers with points. "
        b"Members redeem quokka points for discounts and early access.")),
    "md": ("wombat.md", (
        b"---\ntitle: Wombat pricing\ntags: [pricing]\n---\n# Wombat pricing\n\n"
        b"Wombat pricing bundles three products at one price. Bundles raise the "
        b"wombat basket size and simplify the choice.")),
    "html": ("numbat.html", (
        b"<html><head><title>Numbat newsletters</title><script>track()</script></head>"
        b"<body><nav>Home | Shop | Login</nav><article><h1>Numbat newsletters</h1><p>Numbat "
        b"newsletters keep customers informed about new products every month, and numbat "
        b"readers buy more often than other customers.</p></article></body></html>")),
    "docx": ("bilby.docx", _docx(
        "Bilby Händlermedien", "Bilby Händlermedien erlauben es Einzelhändlern, Werbung auf "
        "ihren eigenen Websites zu verkaufen. Marken erreichen Käufer im Moment des Kaufs.")),
    "pdf": ("dingo.pdf", _pdf("Dingo referral programmes reward customers who bring friends.")),
}
QUERY = {"txt": "quokka loyalty", "md": "wombat pricing", "html": "numbat newsletters",
         "docx": "bilby Händlermedien", "pdf": "dingo referral"}
KIND = {"txt": "text", "md": "markdown", "html": "html", "docx": "docx", "pdf": "pdf"}


# -- the bad inputs -----------------------------------------------------------------------
@dataclass(frozen=True)
class Bad:
    """One bad request: what it is, the status it must get, and words of the message."""

    kind: str
    status: int
    match: str
    method: str = "POST"
    url: str = "/api/articles"
    auth: bool = True
    request: dict[str, Any] = field(default_factory=dict)

    def send(self, client, token: str) -> Any:
        headers = dict(self.request.get("headers", {}))
        if self.auth:
            headers["Authorization"] = f"Bearer {token}"
        kwargs = {k: v for k, v in self.request.items() if k != "headers"}
        return client.request(self.method, self.url, headers=headers, **kwargs)


def bad_inputs(limit: int) -> list[Bad]:
    """The bad inputs of the closing note; ``limit`` is the server's upload limit."""
    seed = (CORPUS / f"{EN_SEED}.txt").read_text(encoding="utf-8")
    trivially_changed = seed.replace("\n\n", "\n\n\n").upper()
    big = b"marketing " * (limit // 10 + 10)
    return [
        Bad("empty file", 400, "empty", request={"files": {"file": ("empty.txt", b"")}}),
        Bad("whitespace-only text", 400, "empty", request={"data": {"text": "  \n\t \n "}}),
        Bad("PNG image renamed .md", 400, "unsupported file type",
            request={"files": {"file": ("photo.md", b"\x89PNG\r\n\x1a\n" + bytes(200))}}),
        Bad("ZIP archive renamed .docx", 400, "damaged or not a Word document",
            request={"files": {"file": ("report.docx", _zip())}}),
        Bad("ELF executable renamed .txt", 400, "unsupported file type",
            request={"files": {"file": ("notes.txt", b"\x7fELF\x02\x01\x01" + bytes(300))}}),
        Bad("PDF with no text layer (a scan)", 400, "no text layer",
            request={"files": {"file": ("scan.pdf", _pdf(None))}}),
        Bad("broken PDF", 400, "PDF file is damaged",
            request={"files": {"file": ("broken.pdf", b"%PDF-1.4\n1 0 obj garbage")}}),
        Bad("bytes that are no text in any encoding", 400, "encoding could not be recognised",
            request={"files": {"file": ("latin.txt", bytes(range(0x80, 0x100)) * 8)}}),
        Bad("HTML page with no article text", 400, "text",
            request={"files": {"file": ("nav.html", b"<html><head><script>x()</script>"
                                        b"</head><body><nav>Home</nav></body></html>")}}),
        Bad("unknown language override (lang=fr)", 400, "unknown language",
            request={"data": {"text": RETAIL, "lang": "fr"}}),
        Bad("unsupported language content (French)", 400, "supported language",
            request={"data": {"text": "Le marketing en amont étudie les besoins des clients "
                                      "avant de concevoir un produit, et le marketing en aval "
                                      "vend ce produit aux clients."}}),
        Bad("file above the size limit", 413, "upload limit",
            request={"files": {"file": ("big.txt", big)}}),
        Bad("JSON text above the size limit", 413, "upload limit",
            request={"json": {"text": big.decode()}}),
        Bad("chunked body above the limit (no Content-Length)", 413, "upload limit",
            request={"content": [b"x" * 65536] * (limit // 65536 + 3),
                     "headers": {"content-type": "application/json"}}),
        Bad("neither file nor text", 400, "missing", request={"data": {"title": "No body"}}),
        Bad("both file and text", 400, "either a file or text",
            request={"files": {"file": ("a.txt", RETAIL.encode())}, "data": {"text": RETAIL}}),
        Bad("two files", 400, "Too many files",
            request={"files": [("file", ("a.txt", b"one")), ("file", ("b.txt", b"two"))]}),
        Bad("duplicate of an existing article (trivially changed)", 409,
            f"already in the knowledge base as '{EN_SEED}'",
            request={"files": {"file": ("upstream-copy.txt", trivially_changed.encode())}}),
        Bad("existing id without PUT", 409, "already exists",
            request={"files": {"file": (f"{DE_SEED}.txt", RETAIL.encode())}}),
        Bad("PUT of an id that does not exist", 404, "no article with id", method="PUT",
            url="/api/articles/no-such-article", request={"data": {"text": RETAIL}}),
        Bad("DELETE of an id that does not exist", 404, "no article with id", method="DELETE",
            url="/api/articles/no-such-article"),
        Bad("malformed JSON", 400, "not valid JSON",
            request={"content": b'{"text": "abc', "headers": {"content-type": "application/json"}}),
        Bad("JSON that is not an object", 400, "must be an object",
            request={"json": ["Retail media networks"]}),
        Bad("unknown field", 400, "unknown field 'txt'", request={"data": {"txt": RETAIL}}),
        Bad("invalid preview flag", 400, "true or false",
            request={"data": {"text": RETAIL, "preview": "maybe"}}),
        Bad("title over 300 characters", 400, "longer than 300",
            request={"data": {"text": RETAIL, "title": "t" * 301}}),
        Bad("JSON sent as a URL-encoded form (curl -d)", 415, "looks like JSON",
            request={"content": b'{"text": "Retail media networks"}',
                     "headers": {"content-type": "application/x-www-form-urlencoded"}}),
        Bad("unsupported content type (text/plain)", 415, "multipart/form-data",
            request={"content": RETAIL.encode(), "headers": {"content-type": "text/plain"}}),
        Bad("missing token", 401, "needs the admin token", auth=False,
            request={"data": {"text": RETAIL}}),
        Bad("wrong token in the form", 401, "wrong", auth=False,
            request={"data": {"text": RETAIL, "token": "guess"}}),
        Bad("a lone surrogate in JSON (a 500)", 400, "not valid Unicode",
            request={"content": b'{"text": "Retail media \\ud800 networks"}',
                     "headers": {"content-type": "application/json"}}),
        Bad("search: k out of range", 422, "k", method="GET", url="/api/search?q=x&k=1000"),
        Bad("search: q over 500 characters", 400, "501 characters long", method="GET",
            url="/api/search?q=" + "x" * 501),
    ]


BAD = bad_inputs(LIMIT)


@pytest.mark.parametrize("bad", BAD, ids=[b.kind for b in BAD])
def test_bad_input_gets_a_clear_4xx_and_changes_nothing(client, lib, bad):
    before = snapshot(lib)
    body = assert_error(bad.send(client, TOKEN), bad.status)
    assert bad.match.lower() in body["error"].lower(), body["error"]
    assert snapshot(lib) == before
    assert search_ids(client, "upstream marketing")  # still answering


def test_there_are_at_least_twelve_kinds_of_bad_input():
    assert len({b.kind for b in BAD}) >= 12


# -- the token ----------------------------------------------------------------------------
def test_writes_are_disabled_without_a_configured_token(closed_client):
    before = snapshot(closed_client.kb)
    for method, url in [("POST", "/api/articles"), ("PUT", f"/api/articles/{EN_SEED}"),
                        ("DELETE", f"/api/articles/{EN_SEED}")]:
        r = closed_client.request(method, url, data={"text": RETAIL, "token": "x"}, headers=AUTH)
        assert "KB_ADMIN_TOKEN" in assert_error(r, 403)["error"]
    page = closed_client.get("/add")
    assert page.status_code == 200
    assert "disabled" in page.text and "KB_ADMIN_TOKEN" in page.text
    assert "<fieldset disabled>" in page.text
    r = closed_client.post("/add", data={"text": RETAIL, "token": "x", "action": "save"})
    assert r.status_code == 403 and "KB_ADMIN_TOKEN" in r.text
    assert snapshot(closed_client.kb) == before


@pytest.mark.parametrize("headers, data", [
    ({}, {}),
    ({"Authorization": "Bearer wrong"}, {}),
    ({"Authorization": f"Basic {TOKEN}"}, {}),
    ({}, {"token": "wrong"}),
    ({}, {"token": TOKEN[:-1]}),
    ({"Authorization": "Bearer wrong"}, {"token": TOKEN}),  # a wrong header is not rescued
])
def test_wrong_or_missing_token_is_401(client, lib, headers, data):
    before = snapshot(lib)
    r = client.post("/api/articles", data={"text": RETAIL, **data}, headers=headers)
    assert_error(r, 401)
    assert r.headers["www-authenticate"] == "Bearer"
    r = client.request("DELETE", f"/api/articles/{EN_SEED}", headers=headers, data=data)
    assert_error(r, 401)
    assert snapshot(lib) == before


def test_token_in_header_or_form_field(client, lib):
    r = client.post("/api/articles", data={"text": RETAIL, "token": TOKEN})
    assert r.status_code == 201, r.text
    r = client.request("DELETE", "/api/articles/retail-media-networks", data={"token": TOKEN})
    assert r.status_code == 200, r.text
    r = client.post("/api/articles", json={"text": RETAIL}, headers=AUTH)
    assert r.status_code == 201, r.text


def test_token_is_compared_in_constant_time(client, monkeypatch):
    import web.uploads

    calls = []
    real = web.uploads.hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(web.uploads.hmac, "compare_digest", spy)
    client.post("/api/articles", data={"text": RETAIL, "preview": "true"}, headers=AUTH)
    assert calls == [(TOKEN.encode(), TOKEN.encode())]


def test_write_handlers_run_in_the_threadpool():
    """Indexing is blocking work: the handlers are plain ``def`` (FastAPI runs them in
    its threadpool), so the event loop keeps serving reads during a write."""
    from web import api, pages

    for fn in (api.add_article, api.replace_article, api.delete_article, pages.add_submit):
        assert not asyncio.iscoroutinefunction(fn), fn.__name__


# -- preview, add, replace, delete --------------------------------------------------------
def test_preview_writes_nothing(client, lib):
    before = snapshot(lib)
    r = client.post("/api/articles", params={"preview": "true"},
                    files={"file": UPLOADS["docx"]}, headers=AUTH)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["saved"] is False and body["lang"] == "de" and body["lang_source"] == "detected"
    assert body["kind"] == "docx" and body["chunks"] >= 1 and body["duplicate_of"] is None
    assert body["text"].startswith("# Bilby Händlermedien")
    seed = (CORPUS / f"{EN_SEED}.txt").read_bytes()
    r = client.post("/api/articles", data={"preview": "true"},
                    files={"file": ("again.txt", seed)}, headers=AUTH)
    body = r.json()
    assert body["duplicate_of"] == EN_SEED and body["warnings"]
    # Refusals (a save would fail) apart from notes (it would go ahead).
    assert body["refusals"] == body["warnings"][:1] and "refused" in body["refusals"][0]
    r = client.put(f"/api/articles/{DE_SEED}", json={"text": RETAIL, "preview": True},
                   headers=AUTH)
    assert r.json()["exists"] is True and r.json()["article_id"] == DE_SEED
    assert snapshot(lib) == before


@pytest.mark.parametrize("kind", list(UPLOADS))
def test_upload_is_searchable_immediately(client, lib, kind):
    name, data = UPLOADS[kind]
    word = QUERY[kind].split()[0]
    assert word not in " ".join(search_ids(client, QUERY[kind]))
    r = client.post("/api/articles", files={"file": (name, data)}, data={"tags": "test, upload"},
                    headers=AUTH)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["kind"] == KIND[kind]
    assert r.headers["location"] == f"/api/articles/{body['article_id']}"
    assert search_ids(client, QUERY[kind])[0] == body["article_id"] == word
    saved = lib.settings.corpus_dir / f"{body['article_id']}.md"
    assert saved.exists() and "- upload" in saved.read_text()
    art = client.get(f"/api/articles/{body['article_id']}").json()
    assert art["tags"] == ["test", "upload"]
    assert "track()" not in art["text"] and "Login" not in art["text"]


def test_pasted_text_gets_its_id_from_the_title(client):
    r = client.post("/api/articles", json={"text": RETAIL, "title": "Retail / media: 2025",
                                           "tags": ["retail", "media"]}, headers=AUTH)
    assert r.status_code == 201, r.text
    assert r.json()["article_id"] == "retail-media-2025"
    assert r.json()["tags"] == ["retail", "media"]


def test_untitled_pasted_texts_are_titled_by_their_first_words(client):
    """Pasted text whose first line is long had the title and id "pasted-text", so a
    second such paste was a 409 that invited overwriting the first."""
    texts = [
        "Retail media networks let retailers sell advertising on their own websites and "
        "apps, so brands reach shoppers at the moment of purchase. The retailer earns a "
        "new margin from its traffic.",
        "Referral programmes reward customers who bring in friends with a discount for "
        "both sides, which makes every happy customer a channel for acquisition and keeps "
        "acquisition costs low.",
    ]
    made = []
    for text in texts:
        r = client.post("/api/articles", json={"text": text}, headers=AUTH)
        assert r.status_code == 201, r.text
        made.append(r.json())
    title = "Retail media networks let retailers sell advertising on their own websites and…"
    assert made[0]["title"] == title and len(title) <= 81
    # The id keeps whole words up to about 60 characters (adding.title_id).
    assert made[0]["article_id"] == "retail-media-networks-let-retailers-sell-advertising-on"
    assert made[1]["title"].startswith("Referral programmes reward customers")
    # An explicit id is a slug; it never becomes the title.
    r = client.post("/api/articles", json={"text": "Loyalty apps reward repeat purchases with "
                    "points. " * 12, "id": "Evil Plan"}, headers=AUTH)
    assert r.status_code == 201, r.text
    assert r.json()["article_id"] == "evil-plan"
    assert r.json()["title"] == "Loyalty apps reward repeat purchases with points."
    # QA: a short pasted paragraph was its own title, two sentences long, and its id
    # kept the punctuation ("...-channels.-a-consistent-...").
    r = client.post("/api/articles", json={"text": "Brand messaging must be consistent "
                    "across channels. A consistent brand message builds trust."}, headers=AUTH)
    assert r.status_code == 201, r.text
    assert r.json()["title"] == "Brand messaging must be consistent across channels."
    assert r.json()["article_id"] == "brand-messaging-must-be-consistent-across-channels"
    r = client.post("/api/articles", json={"text": "Upstream vs. Downstream Marketing\n\n"
                    "Upstream work shapes the product; downstream work sells it."}, headers=AUTH)
    assert r.json()["title"] == "Upstream vs. Downstream Marketing"  # a title line stays
    assert r.json()["article_id"] == "upstream-vs-downstream-marketing"


def test_put_replaces_an_article(client, lib):
    client.post("/api/articles", files={"file": UPLOADS["txt"]}, headers=AUTH)
    r = client.put("/api/articles/quokka", headers=AUTH, data={
        "text": "Quokka loyalty v2\n\nThe quokka programme now gives cashback on every "
                "purchase instead of points, paid monthly to members."})
    assert r.status_code == 200, r.text
    assert r.json()["exists"] is True
    art = client.get("/api/articles/quokka").json()
    assert "cashback" in art["text"] and "redeem" not in art["text"]
    assert search_ids(client, "quokka cashback")[0] == "quokka"
    assert [p.name for p in lib.settings.corpus_dir.glob("quokka*")] == ["quokka.md"]
    # The path names the article as GET names it: "QUOKKA" is not "quokka".
    assert_error(client.put("/api/articles/QUOKKA", headers=AUTH, data={"text": "x y z."}), 404)
    assert_error(client.get("/api/articles/QUOKKA"), 404)
    # A preview of the replace does not call the existing article a clash.
    preview = client.put("/api/articles/quokka", headers=AUTH, params={"preview": "true"},
                         data={"text": "The quokka programme ends in June for all members."})
    assert preview.status_code == 200 and preview.json()["exists"] is True
    assert preview.json()["refusals"] == [] and "replacing" not in preview.json()


def test_delete_removes_an_article(client, lib):
    client.post("/api/articles", files={"file": UPLOADS["txt"]}, headers=AUTH)
    r = client.delete("/api/articles/quokka", headers=AUTH)
    assert r.status_code == 200 and r.json() == {"ok": True, "deleted": "quokka"}
    assert_error(client.get("/api/articles/quokka"), 404)
    # An old link to it says what became of it, on the page and in the API.
    gone = client.get("/api/articles/quokka").json()
    assert "'quokka' was removed" in gone["error"]
    # The API's own way back is named, not only the server's `kb restore`.
    assert "POST /api/articles/quokka/restore with the admin token" in gone["error"]
    page = client.get("/articles/quokka")
    assert page.status_code == 404 and "was removed from the knowledge base" in page.text
    assert "was removed" not in client.get("/api/articles/never-was").json()["error"]
    # A second DELETE says the same (QA10: "no article with id 'quokka'").
    again = client.delete("/api/articles/quokka", headers=AUTH)
    assert again.status_code == 404 and "was removed already" in again.json()["error"]
    assert "POST /api/articles/quokka/restore" in again.json()["error"]
    restored = client.post("/api/articles/quokka/restore", headers=AUTH)
    assert restored.status_code == 200, restored.text
    assert client.get("/api/articles/quokka").status_code == 200
    assert client.delete("/api/articles/quokka", headers=AUTH).status_code == 200
    assert "quokka" not in search_ids(client, "quokka loyalty points")
    assert not (lib.settings.corpus_dir / "quokka.md").exists()
    assert list((lib.settings.corpus_dir / ".removed").glob("quokka.*.md"))


def test_size_limit_is_checked_before_reading(client, lib):
    """A declared Content-Length above the limit is refused before the body is read."""
    read = []

    async def app_receive_spy(scope, receive, send):  # count body messages the app reads
        async def counting():
            msg = await receive()
            read.append(len(msg.get("body", b"")))
            return msg
        await inner(scope, counting, send)

    inner = client.app
    before = snapshot(lib)
    with TestClient(app_receive_spy) as spied:
        r = spied.post("/api/articles", files={"file": ("big.txt", b"y" * (LIMIT + 100_000))},
                       headers=AUTH)
    assert_error(r, 413)
    assert "upload limit is 195 KB" in r.json()["error"]
    assert sum(read) == 0
    assert snapshot(lib) == before


def test_path_traversal_stays_inside_the_corpus(client, lib, tmp_path):
    for i, evil in enumerate(["../../etc/passwd", "..\\..\\windows\\win.ini", "/etc/hosts"]):
        text = f"Partner program {i}\n\nPartner program {i} pays resellers a commission on " \
               f"every sale they bring, tier {i} of the partner programme."
        r = client.post("/api/articles", files={"file": (evil, text.encode())}, headers=AUTH)
        assert r.status_code == 201, r.text
    # A file name is cut to its last part; an explicit id with a path in it is refused.
    r = client.post("/api/articles", data={"text": RETAIL, "id": "../../../tmp/evil"},
                    headers=AUTH)
    assert_error(r, 400)
    root = lib.settings.corpus_dir.resolve()
    written = {p.name for p in root.iterdir()} - {p.name for p in CORPUS.iterdir()}
    assert written == {"passwd.md", "win.ini.md", "hosts.md"}
    assert not (tmp_path / "etc").exists() and not (root.parent / "tmp").exists()
    assert_error(client.delete("/api/articles/..%2F..%2Fcorpus", headers=AUTH), 404)


# -- the Add page -------------------------------------------------------------------------
def test_add_page_is_linked_and_has_the_form(client):
    home = client.get("/")
    assert 'href="/add"' in home.text
    page = client.get("/add")
    assert page.status_code == 200
    for name in ("text", "file", "title", "lang", "source", "tags", "token"):
        assert f'name="{name}"' in page.text
    assert 'enctype="multipart/form-data"' in page.text
    assert 'value="preview"' in page.text and 'value="save"' in page.text
    assert "disabled" not in page.text.split('<form id="add-form"')[1].split(">")[1]


EVIL_TEXT = ("Zebra <script>alert(1)</script> campaign\n\n"
             "The zebra campaign is a marketing test with a clear zebra budget. It shows "
             "<img src=x onerror=alert(1)> to every zebra customer.")


def test_add_page_preview_then_save(client, lib):
    before = snapshot(lib)
    form = {"text": EVIL_TEXT, "title": "", "lang": "auto", "source": "javascript:alert(1)",
            "tags": "zebra", "token": TOKEN, "action": "preview"}
    r = client.post("/add", data=form, files={"file": ("", b"")})
    assert r.status_code == 200
    assert snapshot(lib) == before
    assert "<script>alert(1)</script>" not in r.text and "<img src=x" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert "English (detected)" in r.text and 'id="preview-chunks">1<' in r.text
    assert TOKEN not in r.text  # never in a page: app.js keeps it for the tab
    r = client.post("/add", data={**form, "action": "save"}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/articles/zebra-script-alert-1-script-campaign?saved=added"
    page = client.get(r.headers["location"])
    assert "searchable now" in page.text and "No translation" in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert 'href="javascript:' not in page.text
    assert search_ids(client, "zebra campaign budget")[0] == "zebra-script-alert-1-script-campaign"


def test_add_page_file_preview_moves_the_text_into_the_form(client, lib):
    name, data = UPLOADS["pdf"]
    r = client.post("/add", data={"token": TOKEN, "action": "preview", "text": ""},
                    files={"file": (name, data, "application/pdf")})
    assert r.status_code == 200, r.text
    assert "The text of dingo.pdf is now in the text box" in r.text
    assert re.search(r'<textarea[^>]*>Dingo referral programmes', r.text)
    assert 'name="id" type="text" maxlength="120" value="dingo"' in r.text
    r = client.post("/add", data={"token": TOKEN, "action": "save", "id": "dingo",
                                  "text": "Dingo referral programmes reward customers who "
                                          "bring friends."}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/articles/dingo?")


def test_add_page_a_refused_file_save_keeps_the_file_text(client, lib):
    """QA13: saving an uploaded file whose id exists came back with an empty form, and
    doing what the error said (tick "Replace", Save) then failed with "pasted text: the
    text is empty". The file's text now moves into the text box, as a preview's does."""
    client.post("/api/articles", files={"file": UPLOADS["txt"]}, headers=AUTH)
    new = ("quokka.txt", b"Quokka loyalty v2\n\nQuokka members now collect stamps in "
           b"the quokka app and swap them for gifts.")
    r = client.post("/add", data={"token": TOKEN, "action": "save", "text": ""},
                    files={"file": new})
    assert r.status_code == 409 and 'id="add-error"' in r.text, r.text
    assert "The text of quokka.txt is now in the text box" in r.text
    box = re.search(r"<textarea[^>]*>([^<]*)</textarea>", r.text)
    assert box and "Quokka members now collect stamps" in box.group(1)
    r = client.post("/add", data={"token": TOKEN, "action": "save", "replace": "true",
                                  "id": "quokka", "text": html.unescape(box.group(1)),
                                  "carried": _hidden(r.text, "carried")},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/articles/quokka?saved=replaced"
    assert "stamps" in client.get("/api/articles/quokka").json()["text"]
    # A duplicate of a stored article: the text is kept too.
    seed = (CORPUS / f"{EN_SEED}.txt").read_bytes()
    r = client.post("/add", data={"token": TOKEN, "action": "save", "text": ""},
                    files={"file": ("copy.txt", seed)})
    assert r.status_code == 409 and "is now in the text box" in r.text


def _hidden(html: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    return m.group(1) if m else ""


def test_add_page_another_file_after_a_preview_is_read_on_its_own(client, lib):
    """QA: after previewing one file, previewing another failed ("send either a file or
    text, not both": the first file's text sat in the text box), and once the box was
    emptied by hand the preview kept the first file's title and id."""
    first = ("dingo.md", b"---\nsource: https://example.com/dingo\ntags: [referral, dingo]\n---\n"
             b"Dingo referral programmes\n\nDingo referral programmes reward "
             b"customers who bring friends. Each friend gives both a discount.")
    second = ("koala.txt", b"Koala bundles\n\nKoala bundles sell three products "
              b"together at a lower price than each on its own.")
    r = client.post("/add", data={"token": TOKEN, "action": "preview", "text": "",
                                  "title": "", "id": ""}, files={"file": first})
    assert r.status_code == 200, r.text
    filled = {k: _hidden(r.text, k)
              for k in ("carried", "auto_title", "auto_id", "auto_source", "auto_tags")}
    assert filled["auto_id"] == "dingo" and filled["carried"]
    # QA round 3: the first file's source and tags were saved with the next file.
    assert (filled["auto_source"], filled["auto_tags"]) == (
        "https://example.com/dingo", "referral, dingo")
    text = re.search(r"<textarea[^>]*>(.*?)</textarea>", r.text, re.S).group(1)
    form = {"token": TOKEN, "action": "preview", "title": filled["auto_title"], "id": "dingo",
            "source": filled["auto_source"], "tags": filled["auto_tags"],
            "text": html.unescape(text).replace("\n", "\r\n"), **filled}  # as a browser

    r = client.post("/add", data=form, files={"file": second})
    assert r.status_code == 200, r.text
    assert "<code>koala</code>" in r.text and '<dd lang="en">Koala bundles</dd>' in r.text
    assert _hidden(r.text, "auto_id") == "koala"
    assert 'name="source" type="text" maxlength="2000" value=""' in r.text
    assert 'name="tags" type="text" maxlength="1000" value=""' in r.text
    # A title typed since the preview is the user's: it stays, and an edited text box
    # still clashes with a file.
    r = client.post("/add", data={**form, "title": "My own title"}, files={"file": second})
    assert '<dd lang="en">My own title</dd>' in r.text
    r = client.post("/add", data={**form, "text": "Edited by hand."}, files={"file": second})
    assert r.status_code == 400 and "not both" in r.text
    corpus = lib.settings.corpus_dir
    assert not list(corpus.glob("koala*")) and not list(corpus.glob("dingo*"))


def test_edit_page_takes_a_new_version_as_a_file(client, lib):
    """QA round 3: on the Edit page a chosen file clashed with the stored text in the
    box ("send either a file or text, not both"); it is the new version."""
    client.post("/api/articles", headers=AUTH, json={
        "id": "koala", "lang": "en", "title": "Koala bundles", "tags": ["bundles"],
        "text": "Koala bundles sell three products together at a lower price."})
    page = client.get("/add", params={"edit": "koala"}).text
    form = {"edit": "koala", "id": "koala", "title": "Koala bundles", "tags": "bundles",
            "source": "", "replace": "true", "token": TOKEN, "action": "save",
            "carried": _hidden(page, "carried"),
            "text": "Koala bundles sell three products together at a lower price."}
    new = ("koala-v2.txt", b"Koala bundles, second edition\n\nKoala bundles now sell four "
           b"products together, and members pay less for each of them.")
    r = client.post("/add", data=form, files={"file": new}, follow_redirects=False)
    assert r.status_code == 303, r.text
    art = client.get("/api/articles/koala").json()
    assert "four products" in art["text"] and art["tags"] == ["bundles"]


def test_add_page_reads_a_pasted_header_with_browser_line_ends(client, lib):
    """Browsers send a textarea with CRLF line ends; the metadata header still counts."""
    text = ("---\r\ntitle: Loyalty apps\r\nsource: https://example.com/loyalty\r\n"
            "tags: [loyalty, apps]\r\n---\r\nLoyalty apps reward repeat purchases with "
            "points and offers.\r\nMembers see their points in the app.\r\n")
    r = client.post("/add", data={"text": text, "token": TOKEN, "action": "preview"})
    assert r.status_code == 200, r.text
    assert '<dd lang="en">Loyalty apps</dd>' in r.text and "<code>loyalty-apps</code>" in r.text
    assert 'value="loyalty, apps"' in r.text
    shown = re.search(r'<div class="preview-text"[^>]*>(.*?)</div>', r.text, re.S).group(1)
    assert shown.startswith("Loyalty apps reward") and "title:" not in shown


def test_add_page_shows_errors_on_the_page(client, lib):
    before = snapshot(lib)
    r = client.post("/add", data={"text": RETAIL, "token": "wrong", "action": "save"})
    assert r.status_code == 401 and 'id="add-error"' in r.text
    assert 'value="wrong"' not in r.text  # a wrong token is not echoed back
    assert "Retail media networks let retailers" in r.text  # the text is kept
    r = client.post("/add", data={"text": "", "token": TOKEN, "action": "preview"},
                    files={"file": ("photo.md", b"\x89PNG\r\n\x1a\n" + bytes(100))})
    assert r.status_code == 400 and "unsupported file type" in r.text
    seed = (CORPUS / f"{EN_SEED}.txt").read_text()
    r = client.post("/add", data={"text": seed, "token": TOKEN, "action": "preview"})
    assert r.status_code == 200 and "Already in the knowledge base as" in r.text
    r = client.post("/add", data={"text": seed, "token": TOKEN, "action": "save"})
    assert r.status_code == 409 and "already in the knowledge base" in r.text
    assert f"set the Id to {EN_SEED}, tick “Replace” and save" in r.text
    assert "`kb add" not in r.text
    assert snapshot(lib) == before


def test_add_page_replace_checkbox(client):
    client.post("/api/articles", files={"file": UPLOADS["txt"]}, headers=AUTH)
    data = {"text": "Quokka loyalty v3\n\nQuokka members now collect stamps in the quokka "
                    "app and swap them for gifts.", "id": "quokka", "token": TOKEN,
            "action": "save"}
    refused = client.post("/add", data=data)
    assert refused.status_code == 409 and "tick “Replace” to overwrite it" in refused.text
    # QA13: the page spoke the CLI's and the API's ways, backticks and all.
    assert "kb add" not in refused.text and "PUT /api" not in refused.text
    client.patch("/api/articles/quokka", headers=AUTH,
                 json={"title": "Quokka points", "tags": ["loyalty"], "source": "crm"})
    # The form sends its blank fields too; blank on the plain form is "left alone", so
    # the replace keeps the title, tags and source (it wiped them).
    blank = {"title": "", "tags": "", "source": "", "lang": "auto"}
    preview = client.post("/add", data={**data, **blank, "replace": "true", "action": "preview"})
    assert "already exists: tick" not in preview.text and "Saving replaces" in preview.text
    r = client.post("/add", data={**data, **blank, "replace": "true"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/articles/quokka?saved=replaced"
    art = client.get("/api/articles/quokka").json()
    assert (art["title"], art["tags"], art["source"]) == ("Quokka points", ["loyalty"], "crm")
    assert "stamps" in art["text"]
    # On the Edit page the fields hold the stored values: one emptied is cleared.
    client.post("/add", data={**data, **blank, "title": "Quokka points", "replace": "true",
                              "edit": "quokka"})
    art = client.get("/api/articles/quokka").json()
    assert (art["title"], art["tags"], art["source"]) == ("Quokka points", [], "")


def test_enter_after_a_preview_previews_again(client):
    """The preview's "Save this article" came first in the page, so Enter in a field
    saved the article."""
    r = client.post("/add", data={"text": RETAIL, "token": TOKEN, "action": "preview"})
    buttons = re.findall(r'<button[^>]*type="submit"[^>]*>', r.text)
    assert 'value="preview"' in buttons[0], buttons


def test_a_form_that_is_not_an_article_keeps_what_was_typed(client, lib):
    """A file and pasted text together emptied the whole form."""
    r = client.post("/add", data={"text": RETAIL, "title": "Retail media", "tags": "ads",
                                  "token": TOKEN, "action": "preview"},
                    files={"file": UPLOADS["txt"]})
    assert r.status_code == 400 and "either a file or text" in r.text
    assert "Retail media networks let retailers" in r.text
    assert 'value="Retail media"' in r.text and 'value="ads"' in r.text
    r = client.post("/add", data={"text": RETAIL, "token": "wrong", "action": "preview"},
                    files={"file": UPLOADS["txt"]})
    assert r.status_code == 401 and 'value="wrong"' not in r.text


def test_the_admin_token_is_never_written_into_a_page(client, lib):
    """QA: after a preview or a refused save the Add page echoed the token into its HTML
    (value="..."), where the cache, a saved page or a screenshot kept it. app.js keeps
    it for the tab instead (tests/test_browser_add.py)."""
    seed = (CORPUS / f"{EN_SEED}.txt").read_text()
    client.post("/api/articles", headers=AUTH, json={
        "id": "quokka", "lang": "en", "text": "Quokka points reward members every week."})
    sent = [
        ("/add", {"text": RETAIL, "action": "preview"}, 200),
        ("/add", {"text": seed, "action": "save"}, 409),  # refused: a duplicate
        ("/add", {"text": RETAIL, "id": "quokka", "action": "save"}, 409),  # the id exists
        ("/add", {"text": "", "action": "preview"}, 400),  # nothing to add
        ("/add", {"text": RETAIL, "id": "quokka", "edit": "quokka", "replace": "true",
                  "action": "preview"}, 200),  # the Edit page's preview
        ("/articles/quokka/remove", {}, 400),  # the removal not confirmed
    ]
    for url, data, status in sent:
        r = client.post(url, data={**data, "token": TOKEN})
        assert r.status_code == status, (data, r.text)
        assert TOKEN not in r.text, data
        assert re.search(r'<input id="(remove-)?token"[^>]*value=', r.text) is None


def test_back_to_a_preview_comes_from_the_cache(client, lib):
    """QA: Back after a save (or a second preview) was Chrome's "Confirm Form
    Resubmission": the preview, an answer to a POST, was "no-store", so the browser had
    to send the form again. It may be cached now that it holds no token; a save that went
    through is still a 303 to a GET page (Post/Redirect/Get)."""
    seed = (CORPUS / f"{EN_SEED}.txt").read_text()
    pages = [client.get("/add"), client.get("/add", params={"edit": EN_SEED}),
             client.post("/add", data={"text": RETAIL, "token": TOKEN, "action": "preview"}),
             client.post("/add", data={"text": seed, "token": TOKEN, "action": "save"})]
    for r in pages:
        assert "no-store" not in r.headers.get("cache-control", ""), r.request.url
    r = client.post("/add", data={"text": RETAIL, "token": TOKEN, "action": "save"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/articles/retail-media")
    r = client.post("/articles/retail-media-networks/remove",
                    data={"token": TOKEN, "confirm": "yes"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/library?")


def _save_button(page: str) -> bool:
    preview = re.search(r'<section class="preview".*?</section>', page, re.S)
    assert preview is not None
    return 'value="save">Save this article</button>' in preview.group(0)


def test_the_preview_offers_save_only_when_a_save_can_succeed(client, lib):
    """QA: the preview said "saving it would be refused" (a duplicate) above a "Save this
    article" button. A refusal that no field gets past hides it; an id that exists does
    not (ticking "Replace" gets past it)."""
    seed = (CORPUS / f"{EN_SEED}.txt").read_text()
    r = client.post("/add", data={"text": seed, "token": TOKEN, "action": "preview"})
    assert "saving it would be refused" in r.text and not _save_button(r.text)
    quokka = {"id": "quokka", "lang": "en", "title": "Quokka points",
              "text": "Quokka points reward members who visit every week."}
    client.post("/api/articles", headers=AUTH, json=quokka)
    form = {**quokka, "token": TOKEN, "action": "preview"}
    r = client.post("/add", data=form)  # a re-paste: the same text under its own id
    assert "with this exact text: nothing to add" in r.text and not _save_button(r.text)
    assert "tick “Replace”" not in r.text
    r = client.post("/add", data={**form, "text": quokka["text"] + " Points never expire."})
    assert "tick “Replace” to overwrite it" in r.text and _save_button(r.text)
    r = client.post("/add", data={**form, "text": quokka["text"] + " Points never expire.",
                                  "replace": "true"})
    assert "Saving replaces" in r.text and _save_button(r.text)
    r = client.post("/add", data={"text": RETAIL, "token": TOKEN, "action": "preview"})
    assert _save_button(r.text)


# -- translation families in the UI -------------------------------------------------------
@pytest.fixture
def family(lib):
    """The de and vi seeds linked as a translation family (as `kb ingest` finds with the
    real model), their first two chunks aligned, plus an English article whose title
    carries markup, linked to the German one."""
    evil = parse_article("Zebra <script>alert(1)</script>\n\nZebra campaigns need careful "
                         "planning and a clear zebra budget for every zebra customer.",
                         name="evil-zebra.txt", lang="en")
    lib.ingest([evil])
    de = [c.id for c in lib.store.article_chunks(DE_SEED)]
    vi = [c.id for c in lib.store.article_chunks(VI_SEED)]
    en = [c.id for c in lib.store.article_chunks("evil-zebra")]
    with lib.store.transaction(bump=False) as conn:  # as kb.adding writes links
        lib.store.set_links(conn, DE_SEED, [
            (VI_SEED, "translation", 0.83, [[de[0], vi[0]], [de[1], vi[1]]]),
            ("evil-zebra", "translation", 0.6, [[de[0], en[0]]]),
        ])
    return de, vi, en


def test_article_page_shows_the_family_and_aligned_passages(client, lib, family):
    de, vi, en = family
    r = client.get(f"/articles/{DE_SEED}")
    assert r.status_code == 200
    also = re.search(r'<p class="also">also in: (.*?)</p>', r.text, re.S).group(1)
    assert re.findall(r">(\w\w)</a>", also) == ["EN", "VI"]
    vi_chunk = lib.store.chunks([vi[0]])[vi[0]]
    section = re.search(rf'<section id="c{de[0]}".*?</section>', r.text, re.S).group(0)
    href = f"/articles/{VI_SEED}?p={vi[0]}&hp=0-{vi_chunk.end - vi_chunk.start}#c{vi[0]}"
    assert f'href="{href.replace("&", "&amp;")}"' in section
    assert 'href="/articles/evil-zebra?p=' in section
    assert "<script>alert(1)</script>" not in r.text  # the English title, in a label
    assert "Zebra &lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    other = re.search(rf'<section id="c{de[2]}".*?</section>', r.text, re.S).group(0)
    assert 'class="aligned"' not in other
    page = client.get(href)  # the aligned passage opens highlighted
    assert page.status_code == 200 and f'id="c{vi[0]}" class="chunk target"' in page.text
    back = client.get(f"/articles/{VI_SEED}").text
    assert re.findall(r">(\w\w)</a>", re.search(r'<p class="also">(.*?)</p>', back).group(1)) \
        == ["EN", "DE"]


def test_a_passage_that_two_passages_translate_says_which_is_which(client, lib, family):
    """QA22 F11: a passage aligned with two Vietnamese passages showed "VI VI", two
    unlabelled badges. Each says which passage it opens, the row is labelled, and a
    language that comes twice shows the passage numbers."""
    de, vi, en = family
    with lib.store.transaction(bump=False) as conn:
        lib.store.set_links(conn, DE_SEED, [
            (VI_SEED, "translation", 0.83, [[de[0], vi[0]], [de[0], vi[1]]])])
    page = client.get(f"/articles/{DE_SEED}").text
    section = re.search(rf'<section id="c{de[0]}".*?</section>', page, re.S).group(0)
    aligned = re.search(r'<span class="aligned">(.*?</a>)</span>', section, re.S).group(1)
    assert aligned.startswith('<span class="aligned-label">also in:</span>')
    rows = lib.store.chunks(vi[:2])
    title = lib.store.article(VI_SEED)["title"]
    for n, cid in enumerate(vi[:2], 1):
        label = f"VI – Vietnamese: passage {n}" + (
            f" ({rows[cid].section})" if rows[cid].section else "") + f", in “{title}”"
        assert f'aria-label="{label}" title="{label}">VI ¶{n}</a>' in aligned, aligned
    # One passage of a language: its badge is the language alone, still labelled.
    with lib.store.transaction(bump=False) as conn:
        lib.store.set_links(conn, DE_SEED, [(VI_SEED, "translation", 0.83, [[de[0], vi[0]]])])
    page = client.get(f"/articles/{DE_SEED}").text
    section = re.search(rf'<section id="c{de[0]}".*?</section>', page, re.S).group(0)
    assert re.search(r'aria-label="VI – Vietnamese: passage 1[^"]*" title="[^"]+">VI</a>',
                     section), section


def test_citation_cards_show_also_in(client, family):
    r = client.get("/", params=[("q", "Was ist Upstream-Marketing?"), ("lang", "de")])
    assert r.status_code == 200
    cards = re.findall(r'<li class="card".*?</li>', r.text, re.S)
    assert cards, "the German article is cited"
    assert all("also in:" in c for c in cards)
    assert any(f'href="/articles/{VI_SEED}' in c for c in cards)
    assert "<script>alert(1)</script>" not in r.text


def test_saved_notice_lists_the_family(client, family):
    from web.pages import SAVED_NOTES, _flash_cookie

    client.cookies.set(SAVED_NOTES, _flash_cookie(DE_SEED, "added", [], None), path="/articles/")
    r = client.get(f"/articles/{DE_SEED}", params={"saved": "added"})
    notice = re.search(r'<div class="notice good".*?</div>', r.text, re.S).group(0)
    assert "Translation family found" in notice and f"/articles/{VI_SEED}" in notice
    client.cookies.clear()
    r = client.get(f"/articles/{DE_SEED}", params={"saved": "<x>"})  # only names the save
    assert r.status_code == 200 and 'class="notice good"' not in r.text


def test_a_corpus_that_cannot_be_written_is_a_503_with_the_reason(client, lib, monkeypatch):
    """It was a 500 "internal error", and the Add page lost what the user typed."""
    from kb import adding

    def fail(*_a, **_k):
        raise PermissionError(13, "Permission denied")

    before = snapshot(lib)
    monkeypatch.setattr(adding, "atomic_write_text", fail)
    r = client.post("/api/articles", json={"text": RETAIL}, headers=AUTH)
    assert r.status_code == 503 and r.json()["ok"] is False
    assert "could not save the article in the corpus directory" in r.json()["error"]
    assert "Permission denied" in r.json()["error"]
    r = client.post("/add", data={"text": RETAIL, "token": TOKEN, "action": "save"})
    assert r.status_code == 503 and 'id="add-error"' in r.text and "Permission denied" in r.text
    assert "Retail media networks let retailers" in r.text  # the text is kept
    assert snapshot(lib) == before


def test_an_index_moved_away_under_the_server_refuses_writes(client, lib, tmp_path):
    """Writes went into the orphaned database (201, saved) and were lost at restart;
    /healthz said ready. Now writes are a 503 and /healthz says degraded, while
    searches still answer from memory."""
    import shutil

    assert client.get("/healthz").json()["status"] == "ready"
    moved = tmp_path / "moved-away"
    shutil.move(str(lib.index_dir), moved)
    r = client.post("/api/articles", json={"text": RETAIL}, headers=AUTH)
    assert r.status_code == 503 and "deleted, moved or replaced" in r.json()["error"]
    assert not (lib.settings.corpus_dir / "retail-media-networks.md").exists()
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json()["status"] == "degraded"
    assert client.get("/api/search", params={"q": "upstream marketing"}).json()["hits"]
    # The moved copy did not take the write either.
    import sqlite3

    with sqlite3.connect(moved / "kb.sqlite") as conn:
        ids = {r[0] for r in conn.execute("SELECT id FROM articles")}
    assert "retail-media-networks" not in ids
    # Edits and removals are refused too, and leave no empty index directory behind
    # (it had a .lock in it, so the real one could not be moved back).
    seed = client.get("/api/articles").json()["articles"][0]["id"]
    assert client.patch(f"/api/articles/{seed}", headers=AUTH,
                        json={"tags": ["x"]}).status_code == 503
    assert client.delete(f"/api/articles/{seed}", headers=AUTH).status_code == 503
    assert not lib.index_dir.exists()


NOTE = ("no heading: the title was taken from the text's first words (“{}”); give a title, "
        "or start the text with a heading line (“# …”)")
NOTE_TEXT = ("Cross-Selling im B2B-Vertrieb braucht Geduld und gute Daten über die Kunden. "
             "Der Vertrieb schlägt passende Produkte vor. Die Kunden kaufen dann mehr.")
NOTE_TITLE = "Cross-Selling im B2B-Vertrieb braucht Geduld und gute Daten über die Kunden."


def test_a_title_from_the_opening_words_is_a_note_of_the_preview_and_the_save(client):
    """QA22 F11: pasted text with no heading got its first sentence as title, cut at
    about 80 characters, and nothing said so, though the title is what ranks and what
    the Library shows. A title given, or a heading, gives no such note."""
    preview = client.post("/api/articles", headers=AUTH, json={"text": NOTE_TEXT,
                                                                "preview": True}).json()
    assert preview["title"] == NOTE_TITLE and preview["title_guessed"] is True
    assert NOTE.format(NOTE_TITLE) in preview["notes"]
    saved = client.post("/api/articles", headers=AUTH, json={"text": NOTE_TEXT})
    assert saved.status_code == 201 and NOTE.format(NOTE_TITLE) in saved.json()["notes"]
    for given in ({"title": "Cross-Selling im B2B"}, {"text": "# Cross-Selling im B2B\n\n"
                                                              + NOTE_TEXT}):
        body = {"text": NOTE_TEXT, "preview": True, **given}
        got = client.post("/api/articles", headers=AUTH, json=body).json()
        assert got["title"] == "Cross-Selling im B2B", got
        assert got["title_guessed"] is False and not any("no heading" in n
                                                         for n in got["notes"])
    # A short first line that is a whole sentence is a title of its own, as for a file.
    one = client.post("/api/articles", headers=AUTH, json={
        "text": "Rabatte im Überblick\n\n" + NOTE_TEXT, "preview": True}).json()
    assert one["title"] == "Rabatte im Überblick" and one["title_guessed"] is False
    # A metadata edit keeps the title it has: no note.
    edited = client.patch(f"/api/articles/{saved.json()['article_id']}", headers=AUTH,
                          json={"tags": ["b2b"]}).json()
    assert edited["title_guessed"] is False


def test_the_add_page_says_the_title_is_the_opening_words(client):
    """QA22 F11: the Add page's preview, and the article's page after the save."""
    page = client.post("/add", data={"text": NOTE_TEXT, "token": TOKEN, "action": "preview"})
    assert page.status_code == 200 and 'id="title-guessed"' in page.text
    assert "No heading: the title was taken from the text" in page.text
    titled = client.post("/add", data={"text": NOTE_TEXT, "title": "Cross-Selling im B2B",
                                       "token": TOKEN, "action": "preview"})
    assert 'id="title-guessed"' not in titled.text
    r = client.post("/add", data={"text": NOTE_TEXT, "token": TOKEN, "action": "save"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert "No heading: the title was taken from the text" in client.get(
        r.headers["location"]).text


def test_a_replacement_without_metadata_keeps_the_title_tags_and_source(client):
    """PUT with only new text wiped the title (it became the first sentence) and the
    tags, and said nothing."""
    r = client.post("/api/articles", headers=AUTH, json={
        "id": "loyalty", "title": "Loyalty apps", "tags": ["loyalty", "retention"],
        "source": "https://example.com/loyalty",
        "text": "Loyalty apps reward repeat purchases with points that members redeem."})
    assert r.status_code == 201, r.text
    r = client.put("/api/articles/loyalty", headers=AUTH, json={
        "text": "Loyalty programmes now pay cashback on every purchase instead of points."})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kept"] == ["title", "source", "tags"]
    assert any("keeps the title, source and tags of the article" in w for w in body["warnings"])
    assert body["refusals"] == [] and body["notes"] == body["warnings"]
    art = client.get("/api/articles/loyalty").json()
    assert (art["title"], art["tags"]) == ("Loyalty apps", ["loyalty", "retention"])
    assert art["source"] == "https://example.com/loyalty" and "cashback" in art["text"]
    # Metadata that is given replaces the old; an empty tag list clears the tags.
    r = client.put("/api/articles/loyalty", headers=AUTH, json={
        "title": "Cashback", "tags": [],
        "text": "Loyalty programmes pay cashback monthly, and members like it more."})
    assert r.status_code == 200 and r.json()["kept"] == ["source"]
    art = client.get("/api/articles/loyalty").json()
    assert (art["title"], art["tags"]) == ("Cashback", [])
    assert r.json()["was_lang"] is None


def test_a_replacement_in_another_language_says_so(client):
    """QA: a PUT of German text over an English article said only that it kept the title
    and tags, not that the language changed (the kept title stays English)."""
    client.post("/api/articles", headers=AUTH, json={
        "id": "loyalty", "title": "Loyalty apps", "tags": ["loyalty"],
        "text": "Loyalty apps reward repeat purchases with points that members redeem."})
    r = client.put("/api/articles/loyalty", headers=AUTH, json={
        "text": "Treue-Apps belohnen wiederholte Käufe mit Punkten, die Mitglieder einlösen "
                "können, und Kunden kaufen dadurch öfter."})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["lang"], body["was_lang"], body["kept"]) == ("de", "en", ["title", "tags"])
    assert any("the language changes from English (en) to German (de): the kept title is "
               "in the old one" in n for n in body["notes"]), body["notes"]


@pytest.mark.parametrize("bad_id", ["Bad ID/../x", "...", "a\\b"])
def test_an_unusable_id_is_refused_not_rewritten(client, bad_id):
    r = client.post("/api/articles", headers=AUTH, json={
        "id": bad_id, "text": "Loyalty apps reward repeat purchases with points."})
    assert_error(r, 400)
    assert "is not usable" in r.json()["error"]
    assert client.get("/api/articles").json()["count"] == 5


def test_tags_differing_only_in_case_are_one_tag(client):
    r = client.post("/api/articles", headers=AUTH, json={
        "id": "loyalty", "tags": ["CRM", "crm", "Loyalty", "loyalty "],
        "text": "Loyalty apps reward repeat purchases with points that members redeem."})
    assert r.status_code == 201 and r.json()["tags"] == ["CRM", "Loyalty"]


def test_patch_changes_metadata_without_sending_the_text(client, lib):
    """Editing only the tags or the title needed the whole text again (PUT), and PATCH
    was a 405."""
    client.post("/api/articles", files={"file": UPLOADS["txt"]}, headers=AUTH)
    before = client.get("/api/articles/quokka").json()
    r = client.patch("/api/articles/quokka", headers=AUTH,
                     json={"title": "Quokka points", "tags": ["loyalty", "Loyalty", "apps"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["title"], body["tags"], body["exists"]) == ("Quokka points", ["loyalty", "apps"],
                                                             True)
    assert body["stats"]["chunks_embedded"] == 0  # the text's vectors are reused
    art = client.get("/api/articles/quokka").json()
    assert (art["title"], art["tags"], art["text"]) == (
        "Quokka points", ["loyalty", "apps"], before["text"])
    assert client.get("/library", params={"tag": "apps"}).text.count("Quokka points") == 1
    # The corpus file says the same, so a rebuild from the corpus keeps the edit.
    saved = (lib.settings.corpus_dir / "quokka.md").read_text(encoding="utf-8")
    assert "title: Quokka points" in saved and before["text"].strip() in saved
    cleared = client.patch("/api/articles/quokka", headers=AUTH, json={"tags": []})
    assert cleared.json()["tags"] == []


@pytest.mark.parametrize(("body", "headers", "status"), [
    ({"title": "x"}, {}, 401),
    ({"title": "x", "token": "wrong"}, {}, 401),
    ({}, AUTH, 400),                      # nothing to change
    ({"title": ""}, AUTH, 400),
    ({"title": "x" * 301}, AUTH, 400),
    ({"lang": "fr"}, AUTH, 400),
    ({"text": "new text"}, AUTH, 400),    # the text is PUT's job
    ({"tags": ["x" * 61]}, AUTH, 400),
    ({"tags": [f"t{i}" for i in range(21)]}, AUTH, 400),
])
def test_patch_refusals(client, body, headers, status):
    """PATCH answers like the other writes: 400 for a bad field (FastAPI's 422 before)."""
    client.post("/api/articles", files={"file": UPLOADS["txt"]}, headers=AUTH)
    assert_error(client.patch("/api/articles/quokka", headers=headers, json=body), status)
    assert_error(client.patch("/api/articles/nope", headers=AUTH, json={"title": "x"}), 404)
    assert client.get("/api/articles/quokka").json()["title"] != "x"


def test_patch_bodies_are_read_like_the_other_writes(client):
    client.post("/api/articles", files={"file": UPLOADS["txt"]}, headers=AUTH)
    url = "/api/articles/quokka"
    bad = assert_error(client.patch(url, headers={**AUTH, "Content-Type": "application/json"},
                                    content=b'{"title": '), 400)
    assert "not valid JSON" in bad["error"]
    assert_error(client.patch(url, headers={**AUTH, "Content-Type": "text/plain"},
                              content=b"title=x"), 415)
    assert "nothing to change" in assert_error(client.patch(url, headers=AUTH), 400)["error"]
    # Too big: refused from its Content-Length, and a wrong bearer before the body.
    big = b'{"title": "' + b"x" * 200_000 + b'"}'
    too_big = assert_error(client.patch(
        url, headers={**AUTH, "Content-Type": "application/json"}, content=big), 413)["error"]
    # QA: it said "the upload limit is … Split the article", which an edit cannot do.
    assert "an edit (title, source, tags or language) is at most 64 KB" in too_big
    assert "upload" not in too_big and "Split" not in too_big
    assert_error(client.patch(url, headers={"Authorization": "Bearer wrong",
                                            "Content-Type": "application/json"},
                              content=big), 401)
    # The token as a field, and tags as one comma-separated string, as POST takes them.
    r = client.patch(url, json={"tags": "crm, loyalty", "token": AUTH["Authorization"][7:]})
    assert r.status_code == 200 and r.json()["tags"] == ["crm", "loyalty"]


def test_the_add_page_can_open_an_article_for_editing(client):
    client.post("/api/articles", headers=AUTH, json={
        "id": "quokka", "title": "Quokka <b>points</b>", "tags": ["loyalty"],
        "text": "Quokka points </textarea><script>alert(1)</script> reward members."})
    page = client.get("/add", params={"edit": "quokka"})
    assert page.status_code == 200
    assert "<h1>Edit an article</h1>" in page.text and 'value="quokka"' in page.text
    assert "&lt;/textarea&gt;&lt;script&gt;" in page.text and "<script>alert" not in page.text
    assert 'id="replace" name="replace" type="checkbox" value="true" checked' in page.text
    assert 'href="/add?edit=quokka"' in client.get("/articles/quokka").text
    assert client.get("/add", params={"edit": "nope"}).status_code == 404
    # QA: changing the id while editing failed with "no article with id ... to
    # replace". The field is read-only, and a changed id gets a clear error.
    assert re.search(r'<input id="id" name="id"[^>]*value="quokka" readonly', page.text)
    r = client.post("/add", data={"edit": "quokka", "id": "quokka-renamed", "token": TOKEN,
                                  "text": "Quokka points reward members.", "replace": "true",
                                  "action": "save"})
    assert r.status_code == 400 and "keeps its id while it is edited" in r.text
    assert client.get("/api/articles/quokka").status_code == 200
    assert client.get("/api/articles/quokka-renamed").status_code == 404


def test_an_article_can_be_removed_from_its_edit_page(client, lib):
    """QA: there was no way to remove an article in the web UI (only `kb remove` and the
    API's DELETE). The Edit page has a removal form: token and a confirmation."""
    r = client.post("/api/articles", headers=AUTH, json={
        "id": "quokka", "lang": "en",
        "text": "Quokka points reward members who visit every week."})
    assert r.status_code == 201, r.text
    page = client.get("/add", params={"edit": "quokka"})
    assert 'action="/articles/quokka/remove"' in page.text
    r = client.post("/articles/quokka/remove", data={"token": "wrong", "confirm": "yes"})
    assert r.status_code == 401 and 'id="remove-error"' in r.text
    assert "<h1>Edit an article</h1>" in r.text and 'value="wrong"' not in r.text
    r = client.post("/articles/quokka/remove", data={"token": TOKEN})
    assert r.status_code == 400 and "tick the box" in r.text
    assert client.get("/api/articles/quokka").status_code == 200  # still there
    r = client.post("/articles/quokka/remove", data={"token": TOKEN, "confirm": "yes"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/library?removed=quokka"
    library = client.get(r.headers["location"])
    assert 'id="removed-notice"' in library.text and "<code>quokka</code>" in library.text
    assert client.get("/api/articles/quokka").status_code == 404
    assert "quokka" not in search_ids(client, "quokka points members")
    corpus = lib.settings.corpus_dir
    assert not (corpus / "quokka.md").exists() and list((corpus / ".removed").glob("quokka*"))
    assert client.post("/articles/quokka/remove",
                       data={"token": TOKEN, "confirm": "yes"}).status_code == 404
    # QA round 3: the address reloaded was a 405; a link claimed any removal.
    r = client.get("/articles/quokka/remove", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/add?edit=quokka"
    assert 'id="removed-notice"' not in client.get(
        "/library", params={"removed": EN_SEED}).text
    # QA10: nor an id that never existed. QA22 F9: reloaded, the notice and its Undo
    # stay while the article is removed (it was shown once).
    assert 'id="removed-notice"' not in client.get(
        "/library", params={"removed": "the-whole-knowledge-base"}).text
    assert 'action="/articles/quokka/restore"' in client.get("/library?removed=quokka").text


def test_a_replacement_can_clear_fields_and_retitle_from_its_heading(client):
    """From the review: a field sent empty must clear (the Edit page sends every field),
    a replacement's own "# heading" is its title, and a preview shows what a save keeps."""
    client.post("/api/articles", headers=AUTH, json={
        "id": "plan", "tags": ["q3"], "source": "wiki",
        "text": "# Old heading\n\nThe plan covers retail media, loyalty apps and pricing."})
    new = "# Brand new heading\n\nThe plan now covers retail media and loyalty apps only."
    preview = client.put("/api/articles/plan", headers=AUTH,
                         json={"text": new, "preview": True}).json()
    saved = client.put("/api/articles/plan", headers=AUTH, json={"text": new}).json()
    for body in (preview, saved):
        assert (body["title"], body["kept"], body["tags"]) == (
            "Brand new heading", ["source", "tags"], ["q3"])
    r = client.put("/api/articles/plan", headers=AUTH, data={
        "text": new, "source": "", "tags": "", "title": ""})  # a form, every field blank
    assert r.status_code == 200 and r.json()["kept"] == []
    art = client.get("/api/articles/plan").json()
    assert (art["title"], art["source"], art["tags"]) == ("Brand new heading", "", [])


def test_editing_an_article_whose_file_is_not_markdown_keeps_one_file(client, lib):
    """An edit of corpus/numbat.html wrote numbat.md beside it, and the next ingest
    refused the id clash or brought the old version back. The original is set aside."""
    corpus = lib.settings.corpus_dir
    (corpus / "numbat.html").write_text(
        "<html><head><title>Numbat loyalty</title></head><body><p>The numbat loyalty "
        "programme gives members points on every purchase at partner stores.</p></body></html>")
    assert not lib.ingest_paths([corpus / "numbat.html"]).errors
    r = client.patch("/api/articles/numbat", headers=AUTH, json={"title": "Numbat points"})
    assert r.status_code == 200, r.text
    assert sorted(p.name for p in corpus.glob("numbat*")) == ["numbat.md"]
    assert [p.suffix for p in (corpus / ".removed").glob("numbat.*")] == [".html"]
    report = lib.ingest_paths([corpus])
    assert not report.errors and "numbat" in report.unchanged
    assert client.get("/api/articles/numbat").json()["title"] == "Numbat points"
    # A seed's original .txt is set aside the same way, not deleted.
    seed = "en-upstream-vs-downstream-marketing"
    client.patch(f"/api/articles/{seed}", headers=AUTH, json={"tags": ["strategy"]})
    assert (corpus / f"{seed}.md").exists() and not (corpus / f"{seed}.txt").exists()
    assert list((corpus / ".removed").glob(f"{seed}.*.txt"))


def test_removing_an_html_article_moves_its_file(client, lib):
    corpus = lib.settings.corpus_dir
    sub = corpus / "pages"
    sub.mkdir()
    (sub / "numbat.html").write_text(
        "<html><body><p>The numbat loyalty programme gives members points on every "
        "purchase at partner stores.</p></body></html>")
    assert not lib.ingest_paths([corpus]).errors
    assert client.delete("/api/articles/numbat", headers=AUTH).status_code == 200
    assert not (sub / "numbat.html").exists()
    assert "numbat" not in {a["id"] for a in lib.articles()}
    lib.ingest_paths([corpus])
    assert "numbat" not in {a["id"] for a in lib.articles()}  # it does not come back


def test_a_page_kept_beside_its_article_is_not_a_second_article(lib):
    corpus = lib.settings.corpus_dir
    (corpus / "numbat.md").write_text("The numbat loyalty programme gives members points.")
    (corpus / "numbat.html").write_text("<html><body><p>Saved page</p></body></html>")
    report = lib.ingest_paths([corpus])
    assert not report.errors and "numbat" in report.added


def test_a_dotted_id_that_was_removed_says_so(client):
    client.post("/api/articles", headers=AUTH, json={
        "id": "v1.2-notes", "text": "Release notes: the loyalty app now pays cashback."})
    client.post("/api/articles", headers=AUTH, json={
        "id": "v1", "text": "Version one of the loyalty app gave members points only."})
    client.delete("/api/articles/v1.2-notes", headers=AUTH)
    assert "was removed" in client.get("/api/articles/v1.2-notes").json()["error"]
    assert client.get("/api/articles/v1").status_code == 200
    client.delete("/api/articles/v1", headers=AUTH)
    assert "was removed" in client.get("/api/articles/v1").json()["error"]
    assert "was removed" not in client.get("/api/articles/v1.2").json()["error"]


def test_patch_of_an_article_whose_text_another_has_is_allowed(client):
    text = "Loyalty apps reward repeat purchases with points that members redeem."
    client.post("/api/articles", headers=AUTH, json={"id": "a", "text": text})
    with_same_text = client.post("/api/articles", headers=AUTH, json={"id": "b", "text": text})
    assert with_same_text.status_code == 409  # an upload of the same text is refused ...
    client.app.state.kb.ingest([dataclasses.replace(
        client.app.state.kb.stored_article("a"), id="b", path="")])  # ... a file is not
    assert client.patch("/api/articles/b", headers=AUTH, json={"title": "B"}).status_code == 200


def test_no_edit_link_when_writes_are_disabled(closed_client):
    assert "Edit this article" not in closed_client.get(f"/articles/{EN_SEED}").text


@pytest.mark.parametrize("bad_id", ["_", "._", "__"])
def test_an_id_of_only_underscores_is_refused(client, bad_id):
    r = client.post("/api/articles", headers=AUTH, json={
        "id": bad_id, "text": "Loyalty apps reward repeat purchases with points."})
    assert_error(r, 400)


def test_write_bodies_are_what_the_openapi_document_says(client):
    from web import schemas

    text = {"text": "Quokka points reward members who shop at partner stores every week."}
    for body in (
        client.post("/api/articles", headers=AUTH, json={**text, "preview": True}).json(),
        client.post("/api/articles", headers=AUTH, json={**text, "id": "quokka"}).json(),
        client.put("/api/articles/quokka", headers=AUTH, json=text).json(),
        client.patch("/api/articles/quokka", headers=AUTH, json={"tags": ["x"]}).json(),
    ):
        schemas.WriteOut.model_validate(body)
    schemas.DeleteOut.model_validate(client.delete("/api/articles/quokka", headers=AUTH).json())


@pytest.mark.parametrize("tags", [[1], ["crm", None], 5, {"a": 1}])
def test_tags_of_the_wrong_type_say_what_tags_may_be(client, tags):
    """QA: "tags": [1] was told "the field 'tags' must be text", though a list is allowed."""
    r = client.post("/api/articles", headers=AUTH, json={
        "id": "quokka", "tags": tags, "text": "Quokka points reward loyal members twice."})
    body = assert_error(r, 400)
    assert body["error"].startswith("the field 'tags' must be a list of texts"), body


def test_a_tag_with_a_comma_in_a_json_list_is_refused_by_name(client):
    """QA22 F12: PATCH {"tags": ["a,b", "  ", "Rabatt"]} silently became ["a", "b",
    "Rabatt"]. A JSON list says where each tag ends, so a comma in one is refused, by
    POST, PUT and PATCH alike; a blank tag is dropped, as between commas in a form."""
    text = "Quokka points reward members who shop at partner stores every week."
    r = client.post("/api/articles", headers=AUTH, json={"id": "quokka", "text": text,
                                                          "tags": ["a,b", "Rabatt"]})
    assert assert_error(r, 400)["error"] == (
        "a tag cannot contain a comma: 'a,b'; send each tag as its own item, such as "
        '["pricing", "b2b"]')
    r = client.post("/api/articles", headers=AUTH, json={"id": "quokka", "text": text,
                                                          "tags": ["  ", "Rabatt"]})
    assert r.status_code == 201 and r.json()["tags"] == ["Rabatt"]
    before = client.get("/api/articles/quokka").json()
    for method in ("PUT", "PATCH"):
        body = {"tags": ["a,b", "  ", "Rabatt"]} | ({"text": text} if method == "PUT" else {})
        r = client.request(method, "/api/articles/quokka", headers=AUTH, json=body)
        assert "'a,b'" in assert_error(r, 400)["error"], method
    assert client.get("/api/articles/quokka").json() == before
    # One comma-separated text is still several tags (a form sends them so).
    r = client.patch("/api/articles/quokka", headers=AUTH, json={"tags": "a, b,  ,Rabatt"})
    assert r.status_code == 200 and r.json()["tags"] == ["a", "b", "Rabatt"]


def test_a_save_from_the_add_page_says_what_to_check_on_the_article_page(client, lib):
    """QA: the Add page's save showed only "Added: searchable now", where the API and
    `kb add` warn that the text looks German though English was given. The notes travel
    with the redirect in a short-lived cookie, shown once."""
    german = ("Kundenbindung beginnt nach dem Kauf. Treueprogramme belohnen wiederholte "
              "Einkäufe, und gute Betreuung senkt die Abwanderung der Kunden deutlich.")
    r = client.post("/add", data={"text": german, "lang": "en", "title": "Treue <b>",
                                  "token": TOKEN, "action": "save"}, follow_redirects=False)
    assert r.status_code == 303 and "kb_saved_notes" in r.headers["set-cookie"]
    page = client.get(r.headers["location"]).text
    notes = re.search(r'<div class="notice warn" role="status" id="saved-notes">(.*?)</div>',
                      page, re.S)
    assert notes and "The text looks German, but its language was given as English" in (
        html.unescape(notes.group(1)))
    again = client.get(r.headers["location"]).text  # shown once
    assert 'id="saved-notes"' not in again and 'id="saved-notice"' not in again
    client.cookies.set("kb_saved_notes", "not base64 at all", path="/articles/")
    assert 'id="saved-notes"' not in client.get(r.headers["location"]).text


def test_a_saved_link_tells_no_one_else_that_the_article_was_just_added(client, lib):
    """QA: "/articles/x?saved=added" told anyone who opened it "Added: the article is
    searchable now". The notice needs the save's own flash cookie, for that article."""
    r = client.post("/add", data={"text": "Quokka points reward loyal members twice a year.",
                                  "lang": "en", "title": "Quokka points", "token": TOKEN,
                                  "action": "save"}, follow_redirects=False)
    assert r.status_code == 303 and "?saved=added" in r.headers["location"]
    assert 'id="saved-notice"' in client.get(r.headers["location"]).text
    client.cookies.clear()
    assert 'id="saved-notice"' not in client.get(r.headers["location"]).text  # a shared link
    seed = "/articles/en-upstream-vs-downstream-marketing"
    r = client.post("/add", data={"text": "Wombat points reward loyal members twice a year.",
                                  "lang": "en", "title": "Wombat points", "token": TOKEN,
                                  "action": "save"}, follow_redirects=False)
    # The flash names its article: another article's page does not show it.
    assert 'id="saved-notice"' not in client.get(seed + "?saved=added").text


def test_a_save_much_like_another_article_links_to_it(client, lib):
    """QA: the "Check:" list named the similar article's id without a link to it."""
    seed = (CORPUS / "en-upstream-vs-downstream-marketing.txt").read_text(encoding="utf-8")
    words = seed.split("---", 2)[2].split()
    edited = " ".join(w if i % 40 else w.upper() + "s" for i, w in enumerate(words))
    r = client.post("/add", data={"text": edited, "lang": "en", "title": "Upstream <v2>",
                                  "token": TOKEN, "action": "save"}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    link = re.search(r'<a id="similar-link" href="([^"]+)"[^>]*>([^<]+)</a>', page)
    assert link, page
    assert link.group(1) == "/articles/en-upstream-vs-downstream-marketing"
    assert "Upstream" in html.unescape(link.group(2))


def test_the_library_lists_a_tag_once_whatever_its_case(client, lib):
    """QA: "B2B" and "b2b" were two entries of the tag filter, for the same articles."""
    r = client.post("/api/articles", headers=AUTH, json={
        "id": "koala", "lang": "en", "title": "Koala bundles", "tags": ["STRATEGY"],
        "text": "Koala bundles sell three products together at a lower price."})
    assert r.status_code == 201, r.text
    page = client.get("/library").text
    options = re.findall(r'<option value="([^"]*)"', page)
    assert [o for o in options if o.casefold() == "strategy"] == ["strategy"]
    filtered = client.get("/library", params={"tag": "strategy"}).text
    assert "/articles/koala" in filtered


def test_a_passage_link_marks_nothing_once_its_text_was_replaced(client, lib):
    """QA: "?hl=0-808" marked the pricing text before a replace, and whatever stood there
    after it. A link names its passage; a tag edit keeps it, a new text does not."""
    client.post("/api/articles", headers=AUTH, json={
        "id": "koala", "lang": "en", "title": "Koala bundles",
        "text": "Koala bundles sell three products together at a lower price."})
    [chunk] = lib.store.article_chunks("koala")
    from web.views import article_href

    href = article_href("koala", chunk_id=chunk.id, span=(0, 12))
    assert href == f"/articles/koala?hl=0-12&p={chunk.id}#c{chunk.id}"
    assert '<mark id="hl"' in client.get(href).text
    r = client.patch("/api/articles/koala", headers=AUTH, json={"tags": ["bundles"]})
    assert r.status_code == 200, r.text
    assert '<mark id="hl"' in client.get(href).text  # same text, same passage
    r = client.put("/api/articles/koala", headers=AUTH, json={
        "lang": "en", "text": "Event checklists list venues, speakers and budgets early."})
    assert r.status_code == 200, r.text
    page = client.get(href).text
    assert '<mark id="hl"' not in page and 'id="stale-link"' in page
    assert "a passage this article no longer has" in page
    assert '<mark id="hl"' in client.get("/articles/koala?hl=0-12").text  # no p: as before
    for junk in ("x", "9" * 30, "-1"):  # ignored, as a malformed hl is (QA: 422 page)
        assert client.get(f"/articles/koala?hl=0-12&p={junk}").status_code == 200


def _long_article(word: str, n: int = 160) -> str:
    """About 25,000 characters of plain paragraphs: over jobs.JOB_CHARS."""
    return "\n\n".join(
        f"The {word} programme, part {i}, rewards members who buy again within {i % 9 + 2} "
        f"weeks. Stores in region {i} report how often the {word} offer is redeemed, and the "
        f"team compares it with the month before part {i}."
        for i in range(n))


def _wait_done(client, href: str) -> Any:
    import time

    for _ in range(200):
        r = client.get(href, follow_redirects=False)
        if r.status_code != 200:
            return r
        time.sleep(0.05)
    raise AssertionError("the job did not finish")


def test_a_long_save_from_the_add_page_runs_as_a_job_with_a_progress_page(
        client, lib, monkeypatch):
    """QA: a 300 KB article took 27 s to save with nothing to show how far it had got.
    A long save runs on a thread; its page shows the stage and reloads itself, then goes
    on to the article, with the save's notice."""
    import threading

    from kb import adding
    from web import jobs

    text = _long_article("quokka")
    assert len(text) > jobs.JOB_CHARS
    gate, reached, add = threading.Event(), threading.Event(), adding.add

    def slow_add(*args, progress=None, **kwargs):
        progress("embedding", 3, 12)
        reached.set()
        assert gate.wait(10)
        return add(*args, progress=progress, **kwargs)

    monkeypatch.setattr(adding, "add", slow_add)
    r = client.post("/add", data={"text": text, "lang": "en", "title": "Quokka <points>",
                                  "token": TOKEN, "action": "save"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/jobs/")
    job = r.headers["location"]
    assert reached.wait(10)
    page = client.get(job)
    assert page.status_code == 200 and '<meta http-equiv="refresh" content="1">' in page.text
    progress = re.search(r'<div class="notice good" role="status" id="job-progress">(.*?)</div>',
                         page.text, re.S).group(1)
    assert "Embedding its passages and sentences</strong>: 3 of 12" in progress
    assert '<progress max="100" value="25"' in progress
    gate.set()
    r = _wait_done(client, job)
    assert r.status_code == 303 and r.headers["location"] == "/articles/quokka-points?saved=added"
    page = client.get(r.headers["location"]).text
    assert 'id="saved-notice"' in page and "Quokka &lt;points&gt;" in page
    assert search_ids(client, "quokka")[0] == "quokka-points"


def test_a_long_save_that_would_be_refused_is_refused_at_once_with_the_text_kept(client, lib):
    """A refusal (here: an id that exists) comes back to the Add page, not to a job."""
    text = _long_article("numbat")
    r = client.post("/add", data={"text": text, "lang": "en", "id": "en-upstream-vs-downstream"
                                  "-marketing", "token": TOKEN, "action": "save"},
                    follow_redirects=False)
    assert r.status_code == 409 and 'id="add-error"' in r.text
    assert "already exists" in html.unescape(r.text) and "The numbat programme, part 7" in r.text


def test_a_job_whose_save_failed_or_was_cut_short_comes_back_with_its_text(
        client, lib, monkeypatch):
    """A failed save's page is the Add page with the error and the text kept (QA9: two
    long saves of one text at once; the second was refused in its job and its text
    lost). A job whose server stopped is not shown as running forever, even when a new
    server got its process id (PID 1 in a container, QA9), and says what the
    knowledge base holds."""
    import json as json_
    import os
    import time

    from kb import adding
    from kb.errors import ConflictError
    from web import jobs

    def clash(*_a, **_k):
        raise ConflictError("already in the knowledge base as 'wombat-notes'")

    monkeypatch.setattr(adding, "add", clash)
    text = _long_article("wombat")
    r = client.post("/add", data={"text": text, "lang": "en", "title": "Wombat <notes>",
                                  "token": TOKEN, "action": "save"}, follow_redirects=False)
    r = _wait_done(client, r.headers["location"])
    assert r.status_code == 409 and 'id="add-error"' in r.text
    assert "already in the knowledge base as" in html.unescape(r.text)
    assert "The wombat programme, part 159" in r.text  # the text, back in the form
    assert 'value="Wombat &lt;notes&gt;"' in r.text
    # A job of a server that stopped: its process id is this one's, but not its run.
    folder = jobs.jobs_dir(lib.index_dir)
    state = {"id": "AAAAAAAAAAAA", "state": "running", "stage": "embedding", "done": 1,
             "total": 9, "saved": "added", "article_id": "numbat", "pid": os.getpid(),
             "process": "an-earlier-run", "started": time.time(), "updated": time.time()}
    (folder / "AAAAAAAAAAAA.json").write_text(json_.dumps(state))
    (folder / "AAAAAAAAAAAA.input.json").write_text(json_.dumps({"text": "Numbat text."}))
    r = client.get("/jobs/AAAAAAAAAAAA")
    # QA23a F9: a 500, which monitoring counted as a server error; the page is answered.
    assert r.status_code == 200 and 'http-equiv="refresh"' not in r.text
    assert "the server stopped before this save finished" in r.text
    assert "holds nothing of it" in r.text and "Numbat text." in r.text
    # Silent for over a minute: interrupted too, whatever process has its id.
    state |= {"process": jobs._PROCESS, "updated": time.time() - 2 * jobs.STALLED_S}
    (folder / "AAAAAAAAAAAA.json").write_text(json_.dumps(state))
    assert "the server stopped" in client.get("/jobs/AAAAAAAAAAAA").text
    assert client.get("/jobs/nope").status_code == 404
    assert client.get("/jobs/..%2F..%2Fmanifest").status_code == 404


def test_a_finished_job_page_shows_the_saved_notice_once(client, lib):
    """QA9: revisiting a finished job's page said "Added" again, to anyone with the link."""
    r = client.post("/add", data={"text": _long_article("bilby"), "lang": "en",
                                  "title": "Bilby", "token": TOKEN, "action": "save"},
                    follow_redirects=False)
    job = r.headers["location"]
    first = _wait_done(client, job)
    assert first.status_code == 303 and "kb_saved_notes" in first.headers["set-cookie"]
    client.cookies.clear()
    again = client.get(job, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/articles/bilby"
    assert "set-cookie" not in again.headers


def test_a_save_waiting_for_another_says_so(client, lib, monkeypatch):
    """QA9: a long save queued behind another showed "Reading the text" all along."""
    import threading

    from kb import adding

    gate, add, entered = threading.Event(), adding.add, threading.Event()

    def slow_add(*args, **kwargs):
        entered.set()
        assert gate.wait(10)
        return add(*args, **kwargs)

    monkeypatch.setattr(adding, "add", slow_add)
    first = client.post("/add", data={"text": _long_article("dunnart"), "lang": "en",
                                      "token": TOKEN, "action": "save"}, follow_redirects=False)
    assert entered.wait(10)
    second = client.post("/add", data={"text": _long_article("quoll"), "lang": "en",
                                       "token": TOKEN, "action": "save"}, follow_redirects=False)
    import time

    for _ in range(100):  # the second job's thread starts and waits for the lock
        page = client.get(second.headers["location"]).text
        if "Waiting for another save to finish" in page:
            break
        time.sleep(0.05)
    assert "Waiting for another save to finish" in page
    gate.set()
    assert _wait_done(client, first.headers["location"]).status_code == 303
    assert _wait_done(client, second.headers["location"]).status_code == 303


def test_a_stopping_server_lets_a_long_save_finish(lib, monkeypatch):
    """QA9: a graceful stop (Ctrl+C, SIGTERM) dropped a running long save silently."""
    import threading

    from kb import adding

    add, entered = adding.add, threading.Event()

    def slow_add(*args, **kwargs):
        entered.set()
        threading.Event().wait(0.5)
        return add(*args, **kwargs)

    monkeypatch.setattr(adding, "add", slow_add)
    with TestClient(create_app(lib.settings, kb=lib)) as client:
        r = client.post("/add", data={"text": _long_article("potoroo"), "lang": "en",
                                      "title": "Potoroo", "token": TOKEN, "action": "save"},
                        follow_redirects=False)
        assert r.status_code == 303 and entered.wait(10)
    assert lib.store.article("potoroo") is not None  # saved before the server stopped


def test_a_refused_save_links_to_the_article_it_clashes_with(client, lib):
    """QA9: the Add page's refusal named the stored article only with the CLI's and the
    API's ways to replace it; it links to the article and its Edit page."""
    seed = (CORPUS / "en-upstream-vs-downstream-marketing.txt").read_text(encoding="utf-8")
    body = seed.split("---", 2)[2]
    r = client.post("/add", data={"text": body, "lang": "en", "title": "Copy",
                                  "token": TOKEN, "action": "save"}, follow_redirects=False)
    assert r.status_code == 409
    links = re.search(r'<p id="clash-links">(.*?)</p>', r.text, re.S)
    assert links, r.text
    assert 'href="/articles/en-upstream-vs-downstream-marketing"' in links.group(1)
    assert 'href="/add?edit=en-upstream-vs-downstream-marketing"' in links.group(1)


def test_an_edit_in_another_language_is_saved_as_that_language(client, lib):
    """QA9: on the Edit page the language field holds the stored article's; a Korean
    text pasted over an English article was saved as English (with a note that it looks
    Korean). Left as it was, the field now lets the new text's language be detected;
    changed on purpose, it is kept."""
    client.post("/api/articles", headers=AUTH, json={
        "id": "koala", "lang": "en", "title": "Koala bundles",
        "text": "Koala bundles sell three products together at a lower price."})
    korean = ("코알라 번들은 세 가지 제품을 더 낮은 가격에 함께 판매합니다. "
              "회원은 추가 할인을 받습니다.")
    form = {"edit": "koala", "id": "koala", "title": "Koala bundles", "lang": "en",
            "tags": "", "source": "", "replace": "true", "token": TOKEN, "action": "save",
            "text": korean}
    r = client.post("/add", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert client.get("/api/articles/koala").json()["lang"] == "ko"
    page = client.get(r.headers["location"]).text
    assert "The language changes from English (en) to Korean (ko)" in html.unescape(page)
    # The same text with the field set to German on purpose: kept, with the note.
    r = client.post("/add", data={**form, "lang": "de", "text": korean + " 감사합니다."},
                    follow_redirects=False)
    assert r.status_code == 303 and client.get("/api/articles/koala").json()["lang"] == "de"


def test_an_edit_saved_with_nothing_changed_writes_nothing_and_says_so(client, lib):
    """QA10: Edit, then Save with nothing changed, re-indexed the article and said
    "Replaced"."""
    text = "Koala bundles sell three products together at a lower price."
    client.post("/api/articles", headers=AUTH, json={
        "id": "koala", "lang": "en", "title": "Koala bundles", "tags": ["pricing"],
        "text": text})
    version = lib.store.version
    form = {"edit": "koala", "id": "koala", "title": "Koala bundles", "lang": "en",
            "tags": "pricing", "source": "", "replace": "true", "token": TOKEN,
            "action": "save", "text": text}
    r = client.post("/add", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"]).text
    assert "Nothing changed" in page and "Replaced" not in page
    assert lib.store.version == version  # no write
    put = client.put("/api/articles/koala", headers=AUTH, json={"text": text})
    assert put.status_code == 200 and put.json()["unchanged"] is True
    # A new title is a change.
    r = client.post("/add", data={**form, "title": "Koala bundles 2"}, follow_redirects=False)
    assert "Replaced" in client.get(r.headers["location"]).text
    assert client.get("/api/articles/koala").json()["title"] == "Koala bundles 2"


def test_concepts_api_is_closed_without_a_token(closed_client):
    body = {"terms": {"en": ["churn"]}, "token": TOKEN}
    assert_error(closed_client.post("/api/concepts", json=body), 403)
    assert_error(closed_client.delete("/api/concepts/kpi"), 403)
    assert "kpi" in {c["id"] for c in closed_client.get("/api/concepts").json()["concepts"]}


def test_concepts_api_adds_replaces_and_removes_glossary_concepts(client, lib):
    """QA13: a new topic reached other languages only through glossary terms, which
    only a hand edit of the YAML and a restart could add."""
    listed = client.get("/api/concepts").json()
    assert "kpi" in {c["id"] for c in listed["concepts"]} and listed["problem"] is None
    body = {"terms": {"en": ["churn", "churn rate"], "de": "Abwanderung, Abwanderungsrate"}}
    assert_error(client.post("/api/concepts", json=body), 401)
    r = client.post("/api/concepts", json=body, headers=AUTH)
    assert r.status_code == 201, r.text
    created = r.json()
    assert len(created.pop("version")) == 16  # for If-Match (tests/test_no_lost_edits.py)
    assert created == {"ok": True, "id": "churn", "names": {"en": "Churn", "de": "Abwanderung"},
                       "terms": {"en": ["churn", "churn rate"],
                                 "de": ["Abwanderung", "Abwanderungsrate"]},
                       "href": "/concepts#c-churn"}
    assert [c.id for c in lib.glossary.match("Wie hoch ist die Abwanderungsrate?")] == ["churn"]
    assert "Abwanderungsrate" in (lib.settings.corpus_dir / "glossary.yaml").read_text()
    assert "409" in str(assert_error(client.post("/api/concepts", json=body, headers=AUTH),
                                     409)["status"])
    clash = {"id": "okr", "terms": {"en": ["OKR", "KPI"]}}
    assert "belongs to the concept 'kpi'" in assert_error(
        client.post("/api/concepts", json=clash, headers=AUTH), 409)["error"]
    for bad in ({"terms": {}}, {"terms": {"fr": ["churn"]}}, {"terms": {"en": [3]}},
                {"terms": ["churn"]}, {"id": "Churn Rate", "terms": {"en": ["x"]}}):
        assert_error(client.post("/api/concepts", json=bad, headers=AUTH), 400)
    # A form, with the token as a field and the terms comma-separated.
    r = client.post("/api/concepts", data={"token": TOKEN, "en": "win-back campaign",
                                           "ko": "윈백 캠페인"})
    assert r.status_code == 201 and r.json()["id"] == "win-back-campaign"
    # PUT keeps the id of its path; DELETE takes the concept out.
    r = client.put("/api/concepts/churn", json={"terms": {"en": ["churn"], "ko": ["이탈률"]}},
                   headers=AUTH)
    assert r.status_code == 200 and r.json()["terms"] == {"en": ["churn"], "ko": ["이탈률"]}
    assert lib.glossary.match("Abwanderungsrate") == []
    assert_error(client.put("/api/concepts/churn", json={"id": "other", "terms": {"en": ["x"]}},
                            headers=AUTH), 400)
    assert_error(client.put("/api/concepts/nope", json=body, headers=AUTH), 404)
    assert client.delete("/api/concepts/churn", headers=AUTH).json() == {
        "ok": True, "deleted": "churn"}
    assert_error(client.delete("/api/concepts/churn", headers=AUTH), 404)
    assert_error(client.delete("/api/concepts/win-back-campaign"), 401)
    assert "churn" not in {c["id"] for c in client.get("/api/concepts").json()["concepts"]}


def test_concepts_page_adds_edits_and_removes_a_concept(client, lib):
    page = client.get("/concepts").text
    assert 'id="concept-form"' in page and 'name="en"' in page and 'lang="ko"' in page
    r = client.post("/concepts", data={"en": "churn, churn rate", "de": "Abwanderung",
                                       "token": TOKEN, "action": "save"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/concepts?saved=churn#concept-saved"
    page = client.get(r.headers["location"]).text
    assert 'id="concept-saved"' in page and '<article class="concept" id="c-churn"' in page
    assert 'href="/concepts?edit=churn#add-concept"' in page
    # A clash comes back on the page with what was typed, not the token.
    r = client.post("/concepts", data={"en": "KPI, OKR", "token": TOKEN, "action": "save"})
    assert r.status_code == 409 and "has a concept &#39;kpi&#39; already" in r.text
    assert 'value="KPI, OKR"' in r.text and TOKEN not in r.text
    r = client.post("/concepts", data={"en": "retention", "token": "wrong", "action": "save"})
    assert r.status_code == 401 and "data-token-refused" in r.text
    # Editing: the form holds its terms; a save replaces it, keeping its id.
    page = client.get("/concepts?edit=churn").text
    assert 'value="churn, churn rate"' in page and 'value="remove"' in page
    r = client.post("/concepts", data={"id": "churn", "edit": "churn", "en": "churn",
                                       "ko": "이탈률", "token": TOKEN, "action": "save"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert [c.id for c in lib.glossary.match("이탈률은?")] == ["churn"]
    r = client.post("/concepts", data={"edit": "churn", "token": TOKEN, "action": "remove"})
    assert r.status_code == 400 and "tick the box to confirm" in r.text  # QA15: one click
    r = client.post("/concepts", data={"edit": "churn", "token": TOKEN, "action": "remove",
                                       "confirm": "yes"}, follow_redirects=False)
    assert r.headers["location"] == "/concepts?removed=churn"
    assert "“churn” was removed" in client.get(r.headers["location"]).text
    # A stale edit link says so; an unknown gap filter shows every card.
    stale = client.get("/concepts?edit=churn").text
    assert "no concept &#39;churn&#39; to edit" in stale
    assert client.get("/concepts?gap=DE").status_code == 200
    assert client.get("/concepts?gap=").status_code == 200
    assert r.status_code == 303 and "churn" not in {c.id for c in lib.glossary.cards}
    assert '<article class="concept" id="c-churn"' not in client.get("/concepts").text


def test_concepts_page_says_how_to_enable_editing(closed_client):
    page = closed_client.get("/concepts").text
    assert 'id="concepts-disabled"' in page and 'id="concept-form"' not in page
    assert "Edit its terms" not in page


def test_a_save_says_when_no_concept_names_the_article(client):
    """QA13: nothing in the Add flow said that a new topic needs glossary terms for a
    question in another language to reach it."""
    retail = client.post("/api/articles", json={"text": RETAIL}, headers=AUTH).json()
    assert retail["concepts"] == []
    assert any("no glossary concept names its topic" in n for n in retail["notes"])
    text = {"text": "Cross-selling quokka plush toys\n\nCross-selling offers a quokka plush "
                    "toy to every customer who buys a quokka book."}
    named = client.post("/api/articles", headers=AUTH, json=text).json()
    assert named["concepts"] == ["cross-selling"]
    assert not any("glossary" in n for n in named["notes"])
    # The note points at the fix: with a concept, the same text previews without it.
    client.post("/api/concepts", headers=AUTH, json={"terms": {"en": ["quokka"],
                                                              "ko": ["쿼카"]}})
    again = client.post("/api/articles", headers=AUTH, params={"preview": "true"},
                        files={"file": ("quokka2.txt", b"Quokka news\n\nThe quokka club "
                                        b"meets every month to plan new quokka rewards.")})
    assert again.json()["concepts"] == ["quokka"]
    page = client.post("/add", data={"token": TOKEN, "action": "preview",
                                     "text": "Wombat rewards\n\nWombat members collect "
                                             "wombat stamps for every visit."})
    assert 'id="no-concepts"' in page.text and 'href="/concepts#add-concept"' in page.text


def test_concepts_page_survives_what_qa15_broke_it_with(client, lib):
    """QA15: a concept id equal to one of the page's own element ids ("concept-error")
    made app.js scroll every visit to that card; the edit form showed an empty Id and
    refused a reordered English term as a change of id; a term the card's search cannot
    read made /concepts a 400."""
    r = client.post("/api/concepts", headers=AUTH, json={"id": "concept-error",
                                                         "terms": {"en": ["error marketing"]}})
    assert r.status_code == 201 and r.json()["href"] == "/concepts#c-concept-error"
    page = client.get("/concepts").text
    assert page.count('id="concept-error"') == 0 and 'id="c-concept-error"' in page
    edit = client.get("/concepts?edit=kpi").text
    assert re.search(r'<input id="concept-id" name="id"[^>]* value="kpi" readonly', edit)
    r = client.post("/concepts", data={"edit": "kpi", "id": "", "token": TOKEN,
                                       "action": "save", "en": "performance metrics, KPI",
                                       "ko": "KPI, 주요 성과 지표"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/concepts?saved=kpi#concept-saved"
    kpi = next(c for c in lib.glossary.cards if c.id == "kpi")
    assert kpi.terms["en"][0] == "performance metrics" and kpi.names["ko"] == "주요 성과 지표(KPI)"
    # A glossary edited by hand with a term search cannot read still shows its cards.
    path = lib.settings.corpus_dir / "glossary.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "concepts:\n", "concepts:\n  - id: odd\n    terms:\n      en: ['<br>']\n", 1),
        encoding="utf-8")
    page = client.get("/concepts")
    assert page.status_code == 200 and 'id="c-odd"' in page.text


def test_a_concept_named_in_passing_is_not_the_articles_topic(client):
    """QA15: an article on word-of-mouth marketing was said to name loyalty programs,
    market research and brand messaging (their words turned up across 20,000
    characters), so the note that no concept names its topic never showed."""
    text = ("Word-of-mouth marketing\n\nWord-of-mouth marketing gets customers to tell "
            "friends about a brand. Research on it shows that people trust friends.\n\n"
            "Referral programs that reward both sides help, and so do clear brand "
            "messages.\n\nStart with your happiest customers and ask them to share.")
    r = client.post("/api/articles", headers=AUTH, params={"preview": "true"},
                    json={"text": text})
    assert r.json()["concepts"] == []
    assert any("no glossary concept names its topic" in n for n in r.json()["notes"])
    # Named in its title, or in two paragraphs, it is the topic.
    r = client.post("/api/articles", headers=AUTH, params={"preview": "true"},
                    json={"text": "Loyalty programs for cafés\n\n" + text})
    assert r.json()["concepts"] == ["loyalty-program"]


def test_a_card_lists_only_the_languages_it_has_terms_in(client):
    """QA15: a concept with English terms only showed empty KO, DE and VI rows."""
    client.post("/api/concepts", headers=AUTH, json={"terms": {"en": ["error marketing"]}})
    card = re.search(r'<article class="concept" id="c-error-marketing".*?</dl>',
                     client.get("/concepts").text, re.S).group(0)
    assert re.findall(r'<span class="badge lang-(\w\w)"', card) == ["en"]


def test_a_wrong_token_says_the_uploaded_file_was_not_read(client):
    """QA15: a wrong token lost the uploaded file without a word; it is not read (no
    work for a request without the token), and the page now says to choose it again."""
    r = client.post("/add", data={"token": "wrong", "action": "save", "text": ""},
                    files={"file": UPLOADS["txt"]})
    assert r.status_code == 401
    assert "quokka.txt was not read: choose it again with the token" in r.text


# -- a write behind a long one ------------------------------------------------------------
@contextmanager
def _busy(monkeypatch, lock_in) -> Iterator[None]:
    """Another thread holds ``lock_in()`` (a context manager: a long save) while the
    block runs, and a write waits 0.2 s for it (web.deps.WRITE_WAIT)."""
    import threading

    from web import deps

    monkeypatch.setattr(deps, "WRITE_WAIT", 0.2)
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with lock_in():
            taken.set()
            release.wait(30)

    thread = threading.Thread(target=hold)
    thread.start()
    assert taken.wait(30)
    try:
        yield
    finally:
        release.set()
        thread.join()


def _server_save(client) -> Any:
    """This server's write lock, as a save from another request holds it."""
    @contextmanager
    def held() -> Iterator[None]:
        with client.app.state.write_lock:
            yield
    return held


@pytest.mark.parametrize("holder", ["server", "index"])
def test_a_write_behind_a_long_save_is_refused_with_503_and_not_applied(
        client, lib, monkeypatch, holder):
    """QA23a F1: behind a save of minutes, a DELETE waited with no limit; its client gave
    up after 5 s, and the article was still removed when the save finished. Now a write
    waits a bounded time for this server's saves and for another process's (the index's
    file lock), then answers 503 with Retry-After, having changed nothing."""
    with _busy(monkeypatch, _server_save(client) if holder == "server" else lib.writing):
        before = snapshot(lib)
        for r in (client.delete(f"/api/articles/{EN_SEED}", headers=AUTH),
                  client.post("/api/articles", headers=AUTH, data={"text": RETAIL}),
                  client.patch(f"/api/articles/{EN_SEED}", headers=AUTH, json={"tags": ["x"]})):
            body = assert_error(r, 503)
            assert "nothing was changed" in body["error"]
            assert int(r.headers["Retry-After"]) > 0
        assert snapshot(lib) == before
    assert client.delete(f"/api/articles/{EN_SEED}", headers=AUTH).status_code == 200


def test_a_page_save_behind_a_long_save_comes_back_with_its_text(client, lib, monkeypatch):
    """The Add, Edit and Concepts pages waited with no limit too, while a long save ran
    as a job: the browser gave up first, and the typed text was gone. A page write now
    waits as an API write does, then shows its form again with the text and says why."""
    with _busy(monkeypatch, _server_save(client)):
        before = snapshot(lib)
        r = client.post("/add", data={"text": RETAIL, "token": TOKEN, "action": "save"})
        assert r.status_code == 503 and "another save is running" in r.text
        assert html.escape(RETAIL.split("\n")[2][:60], quote=False) in r.text  # the text
        r = client.post(f"/articles/{EN_SEED}/remove",
                        data={"token": TOKEN, "confirm": "yes"})
        assert r.status_code == 503 and "another save is running" in r.text
        r = client.post("/concepts", data={"token": TOKEN, "action": "save",
                                           "en": "retail media", "de": "Handelsmedien"})
        assert r.status_code == 503 and 'value="retail media"' in r.text
        preview = client.post("/add", data={"text": RETAIL, "token": TOKEN})
        assert preview.status_code == 200  # a preview writes nothing and does not wait
        assert snapshot(lib) == before
