"""The web app in process: the JSON API's shapes, the one error shape, and escaping."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient

from kb.articles import parse_article
from kb.settings import Settings
from web.app import create_app

from .browser import EVIL  # the same hostile article the browser tests render
from .http import assert_error

HIT_KEYS = {"chunk_id", "article_id", "title", "lang", "section", "sections", "text", "start",
            "end", "score", "signals", "translations", "copies", "snippet", "marks",
            "snippet_section"}
EN_ARTICLE = "en-upstream-vs-downstream-marketing"


@pytest.fixture
def evil_client(fake_kb):
    """A private index with an article whose title, text, source and tags carry markup."""
    report = fake_kb.ingest([parse_article(EVIL, name="evil-zebra.txt", lang="en")])
    assert report.added == ["evil-zebra"]
    app = create_app(Settings(index_dir=fake_kb.index_dir, model="fake"), kb=fake_kb)
    with TestClient(app) as c:
        yield c




# -- shapes -------------------------------------------------------------------------------


def test_search_shape(client):
    r = client.get("/api/search", params={"q": "upstream marketing", "k": 3, "lang": "en,de"})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"query", "restored", "corrected", "lang", "hits", "offset", "more",
                         "found", "evidence", "took_ms"}
    assert body["restored"] is None
    assert body["query"] == "upstream marketing" and body["lang"] == "en"
    assert 1 <= len(body["hits"]) <= 3
    for hit in body["hits"]:
        assert set(hit) == HIT_KEYS
        assert hit["lang"] in {"en", "de"}


def test_search_pages_with_offset(client):
    """QA10: no paging; hit 101 could not be reached and a page had no next one."""
    ids = lambda body: [h["chunk_id"] for h in body["hits"]]  # noqa: E731
    whole = client.get("/api/search", params={"q": "marketing", "k": 10}).json()
    first = client.get("/api/search", params={"q": "marketing", "k": 5}).json()
    second = client.get("/api/search", params={"q": "marketing", "k": 5, "offset": 5}).json()
    assert ids(first) + ids(second) == ids(whole)
    assert first["offset"] == 0 and first["more"] is True and second["offset"] == 5
    assert whole["more"] is True  # the seeds have far more than 10 passages on marketing
    last = client.get("/api/search", params={"q": "marketing", "k": 100}).json()
    assert last["more"] is False or len(last["hits"]) == 100
    r = client.get("/api/search", params={"q": "marketing", "k": 10, "offset": 95})
    assert r.status_code == 400 and "offset + k must be at most 100" in r.json()["error"]


def test_lang_can_be_repeated(client):
    """?lang=ko&lang=en kept only the last value (en) before; now both count."""
    one = client.get("/api/search", params={"q": "upselling", "k": 20, "lang": "ko,en"}).json()
    both = client.get("/api/search", params=[("q", "upselling"), ("k", "20"), ("lang", "ko"),
                                             ("lang", "en")]).json()
    assert both["hits"] == one["hits"]
    assert {h["lang"] for h in both["hits"]} == {"ko", "en"}
    r = client.get("/api/ask", params=[("q", "upselling"), ("lang", "ko"), ("lang", "xx")])
    assert_error(r, 400)


def test_wrong_method_is_405_with_allow(client):
    r = client.post("/api/search", params={"q": "x"})
    assert_error(r, 405)
    assert r.headers["allow"] == "GET, HEAD"
    # Every method of the path, not just the first route's (it said GET alone).
    r = client.post("/api/articles/some-article")
    assert_error(r, 405)
    assert r.headers["allow"] == "DELETE, GET, HEAD, PATCH, PUT"
    assert client.request("OPTIONS", "/api/articles").headers["allow"] == "GET, HEAD, POST"
    page = client.post("/healthz")
    assert page.status_code == 405 and page.headers["allow"] == "GET, HEAD"


def test_ask_shape(client):
    r = client.get("/api/ask", params={"q": "What is upstream marketing?"})
    assert r.status_code == 200
    body = r.json()
    assert {"query", "lang", "found", "answer", "citations"} <= set(body)
    assert body["found"] is True
    assert 2 <= len(body["answer"]) <= 8  # 5, or up to 8 to quote a list whole
    numbers = {c["n"] for c in body["citations"]}
    for sentence in body["answer"]:
        assert set(sentence) == {"text", "citations", "span", "in_item", "table"}
        assert set(sentence["citations"]) <= numbers
    quoted = {s["text"] for s in body["answer"]}
    for c in body["citations"]:
        assert HIT_KEYS | {"n", "sentence_start", "sentence_end", "spans"} <= set(c)
        for span in c["spans"]:
            assert c["text"][span["start"] - c["start"] : span["end"] - c["start"]] in quoted


def test_ask_not_found_shape(client):
    body = client.get("/api/ask", params={"q": "Wie backe ich Brot?"}).json()
    assert body["found"] is False
    assert body["answer"] == [] and body["citations"] == []
    assert body["message"]


def test_articles_and_article(client, fake_kb):
    body = client.get("/api/articles").json()
    assert body["count"] == len(body["articles"]) == 5
    first = body["articles"][0]
    assert {"id", "title", "lang", "source", "tags", "chunks", "added_at",
            "updated_at"} <= set(first)
    art = client.get(f"/api/articles/{EN_ARTICLE}").json()
    assert {"id", "title", "lang", "source", "tags", "text", "added_at", "chunks"} <= set(art)
    with fake_kb.store.transaction() as conn:  # the fake encoder finds no translations
        fake_kb.store.set_links(conn, "de-upstream-downstream-marketingleiter",
                                [("vi-thuong-nguon-ha-nguon-tiep-thi", "translation", 0.9, [])])
    de = client.get("/api/articles/de-upstream-downstream-marketingleiter").json()
    assert [(f["article_id"], f["lang"]) for f in de["family"]] == [
        ("vi-thuong-nguon-ha-nguon-tiep-thi", "vi")]  # what the page shows as "also in"
    for ch in art["chunks"]:
        assert {"chunk_id", "start", "end", "section", "lang"} <= set(ch)
        assert 0 <= ch["start"] < ch["end"] <= len(art["text"])


@pytest.mark.parametrize(
    "path", ["/healthz", "/", "/library", "/api/articles", "/static/style.css"])
def test_head_is_get_without_the_body(client, path):
    """Uptime monitors send HEAD; it was a 405 on every route but /static."""
    get, head = client.get(path), client.head(path)
    assert head.status_code == get.status_code == 200
    assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == get.headers["content-length"]
    assert client.head("/api/articles/no-such-article").status_code == 404


def test_healthz(client):
    body = client.get("/healthz").json()
    assert body["ok"] is True and body["articles"] == 5 and body["model"] == "fake"


def test_openapi_and_offline_docs(client):
    spec = client.get("/openapi.json").json()
    assert {"/api/search", "/api/ask", "/api/articles", "/api/articles/{article_id}",
            "/healthz"} <= set(spec["paths"])
    # Errors are documented in the shape they are sent in, FastAPI's 422 included.
    search = spec["paths"]["/api/search"]["get"]["responses"]
    for code in ("400", "422"):
        ref = search[code]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("/ErrorBody"), (code, ref)
    assert set(spec["components"]["schemas"]["ErrorBody"]["properties"]) == {
        "ok", "error", "status", "fields"}
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    writes = spec["paths"]["/api/articles"]["post"]["responses"]
    assert {"401", "403", "409", "413", "503"} <= set(writes)
    # The admin token is a declared bearer scheme on every write (an Authorize button).
    assert spec["components"]["securitySchemes"]["adminToken"]["scheme"] == "bearer"
    one = spec["paths"]["/api/articles/{article_id}"]
    for op in (spec["paths"]["/api/articles"]["post"], one["put"], one["patch"], one["delete"]):
        assert op["security"] == [{"adminToken": []}]
    assert "security" not in one["get"] and "security" not in spec["paths"]["/api/ask"]["get"]
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "cdn." not in docs.text and "/docs-assets/swagger-ui-bundle.js" in docs.text
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200


# -- errors -------------------------------------------------------------------------------


def test_error_shape_is_pinned(client):
    assert_error(client.get("/api/articles/no-such-article"), 404)
    long = assert_error(client.get("/api/ask", params={"q": "upselling " * 60}), 400)
    assert long["error"].startswith("the query is 599 characters long; the limit is 500")
    # An empty query says what a blank one says (QA: a 422 about string lengths).
    for q in ("", "   "):
        for path in ("/api/search", "/api/ask"):
            body = assert_error(client.get(path, params={"q": q}), 400)
            assert body["error"].startswith("the query is empty"), body
    # Markup alone is left out, and the message says so (QA20: it said "empty").
    body = assert_error(client.get("/api/search", params={"q": "<script>alert(1)</script>"}), 400)
    assert body["error"].startswith("the query is only markup"), body
    assert_error(client.get("/api/search", params={"q": "x", "lang": "xx"}), 400)
    assert_error(client.get("/api/no-such-endpoint"), 404)


@pytest.mark.parametrize(
    "path, params",
    [
        ("/api/search", {"q": ""}),
        ("/api/search", {"q": "x" * 501}),
        ("/api/search", {"q": "   "}),
        ("/api/search", {"q": "upstream", "k": 0}),
        ("/api/search", {"q": "upstream", "k": 1000}),
        ("/api/search", {"q": "upstream", "k": "ten"}),
        ("/api/search", {"q": "upstream", "lang": "xx"}),
        ("/api/search", {"q": "upstream", "lang": "ko,xx"}),
        ("/api/search", {}),
        ("/api/ask", {"q": ""}),
        ("/api/ask", {"q": "x" * 501}),
        ("/api/ask", {"q": "upstream", "lang": "xx"}),
        ("/api/search", {"q": "\x00"}),  # control characters only
        ("/api/ask", {"q": "???"}),  # no words
    ],
)
def test_bad_parameters_are_4xx_never_500(client, path, params):
    r = client.get(path, params=params)
    assert 400 <= r.status_code < 500
    assert_error(r, r.status_code)


@pytest.mark.parametrize(("path", "params", "named"), [
    ("/api/search", {"q": "upselling", "langs": "de"}, " 'langs' (did you mean lang?)"),
    ("/api/search", {"q": "upselling", "limit": 3}, " 'limit'"),
    ("/api/search", {"q": "upselling", "tags": "x", "size": 3}, "s 'tags', 'size'"),
    ("/api/ask", {"q": "upselling", "language": "de"}, " 'language'"),
    ("/api/articles", {"sort": "title"}, " 'sort'"),
])
def test_an_unknown_query_parameter_is_a_400_that_names_it(client, path, params, named):
    """QA21 F7: /api/search?tag=…&article=…&langs=de answered 200 with the unfiltered
    ranking, and a script believed it had filtered."""
    body = assert_error(client.get(path, params=params), 400)
    assert body["error"].startswith("unknown query parameter" + named), body
    if path == "/api/search":  # what it does take, so that the caller can fix it
        assert body["error"].endswith(": /api/search takes q, k, lang, query_lang, "
                                      "translations, offset, exact, tag, article"), body


def test_search_and_ask_filter_by_tag_and_article(client):
    """QA21 F7: the Library filters by tag; search and ask could not."""
    sales = {"de-upstream-downstream-marketingleiter", "vi-thuong-nguon-ha-nguon-tiep-thi"}
    body = client.get("/api/search", params=[("q", "upselling"), ("k", "6"),
                                             ("tag", "sales alignment")]).json()
    assert len(body["hits"]) == 6 and {h["article_id"] for h in body["hits"]} == sales
    body = client.get("/api/search", params=[("q", "upselling"), ("k", "20"),
                                             ("article", EN_ARTICLE),
                                             ("article", "ko-upstream-downstream-marketing"),
                                             ("translations", "keep")]).json()
    assert {h["article_id"] for h in body["hits"]} == {EN_ARTICLE,
                                                       "ko-upstream-downstream-marketing"}
    assert body["more"] is False  # the two articles' passages, all of them
    one = client.get("/api/search", params={"q": "upselling", "k": 3, "article": EN_ARTICLE,
                                            "offset": 3}).json()
    assert one["offset"] == 3 and {h["article_id"] for h in one["hits"]} == {EN_ARTICLE}
    ask = client.get("/api/ask", params={"q": "What is upselling?", "tag": "upselling"}).json()
    assert ask["found"] and {c["article_id"] for c in ask["citations"]} == {
        "ko-cross-selling-existing-customers"}
    ask = client.get("/api/ask", params={"q": "What is upselling?",
                                         "article": EN_ARTICLE}).json()
    assert ask["found"] is False
    for path in ("/api/search", "/api/ask"):
        body = assert_error(client.get(path, params={"q": "upselling", "tag": "pricing"}), 400)
        assert body["error"].startswith("no article is tagged 'pricing'; the tags are: ")
        body = assert_error(client.get(path, params={"q": "upselling", "article": "nope"}), 400)
        assert body["error"].startswith("no article with id 'nope'")
    spec = client.get("/openapi.json").json()["paths"]["/api/search"]["get"]["parameters"]
    assert {"tag", "article"} <= {p["name"] for p in spec}


def test_the_ask_page_filters_by_tag(client):
    """A select beside the language chips (the tags the Library lists); a tag no
    article has is said beside it, the question kept."""
    page = client.get("/", params={"q": "What is upselling?", "tag": "upselling"})
    assert page.status_code == 200
    assert '<option value="upselling" selected>upselling</option>' in page.text
    cards = re.findall(r'class="card-title" href="/articles/([^"#?]+)', page.text)
    assert cards and set(cards) == {"ko-cross-selling-existing-customers"}
    # The examples and "search as typed" keep the filter, as they keep the chips.
    assert "tag=upselling" in page.text.split('id="ex-h"')[1]
    bad = client.get("/", params={"q": "What is upselling?", "tag": "pricing"})
    assert bad.status_code == 400
    assert "no article is tagged &#39;pricing&#39;" in bad.text
    assert 'aria-invalid="true" aria-describedby="q-problem">' in bad.text.split(
        'name="tag"')[1][:80]
    assert 'value="What is upselling?"' in bad.text and 'id="answer"' not in bad.text
    assert '<select name="tag"' in client.get("/").text


def test_every_api_endpoint_refuses_unknown_query_parameters(client):
    """Derived from each route's own parameters, not listed by hand: every endpoint
    under /api, a new one too, refuses a parameter it does not take, writes included
    (a mistyped ?preveiw=true would save). /healthz does not: monitors add ?_=<time>."""
    concept = client.get("/api/concepts").json()["concepts"][0]["id"]
    values = {"article_id": EN_ARTICLE, "concept_id": concept}
    paths = client.get("/openapi.json").json()["paths"]
    calls = [(method.upper(), path.format(**values)) for path, ops in paths.items()
             if path.startswith("/api/") for method in ops]
    assert len(calls) >= 12
    for method, path in calls:
        r = client.request(method, path, params={"q": "upselling", "bogus": "1"})
        body = assert_error(r, 400)
        takes = body["error"].split(" takes ")[1].split(", ")
        assert body["error"].startswith("unknown query parameter"), (method, path, body)
        assert "'bogus'" in body["error"]
        assert ("'q'" in body["error"]) == ("q" not in takes), (method, path, body)
    assert client.get("/healthz", params={"_": "1712345678"}).status_code == 200


@pytest.mark.parametrize("path", ["/", "/library", "/concepts",
                                  f"/articles/{EN_ARTICLE}"])
def test_pages_ignore_what_campaign_links_add(client, path):
    """The pages stay lenient by design: a link from a newsletter carries utm_source."""
    r = client.get(path, params={"q": "upselling", "utm_source": "newsletter",
                                 "fbclid": "x"})
    assert r.status_code == 200, r.text[:300]


@pytest.mark.parametrize(("q", "problem"), [
    ("??", "the query has no words"), ("😀", "the query has no words"),
    ("upselling " * 60, "the query is 599 characters long; the limit is 500"),
])
def test_a_question_that_cannot_be_asked_is_kept_with_what_is_wrong(client, q, problem):
    """The ask page gave an error page (or a 422 for a long question), and the question
    was lost; now the form stays, with the question in the box and the problem beside it."""
    r = client.get("/", params={"q": q, "lang": "de"})
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert f'id="q-problem" role="alert">{problem}' in page
    assert f'value="{html.escape(q.strip() if len(q) < 100 else q, quote=True)}"' in page
    assert 'aria-invalid="true"' in page and 'value="de" checked' in page
    assert 'id="answer"' not in page


@pytest.mark.parametrize(("q", "searched"), [
    ("ｕｐｓｔｒｅａｍ ｍａｒｋｅｔｉｎｇ", "upstream marketing"),  # full-width letters
    ("up\u200bstream marketing", "upstream marketing"),  # a zero-width space
    ("up\u00adstream", "upstream"),  # a soft hyphen
    ("\u202eupstream", "upstream"),  # a right-to-left override
    ("up\x00stream marketing", "upstream marketing"),  # a NUL inside a word (QA10)
    ("upstream\tmarketing", "upstream marketing"),  # a tab between words
    # Markup (QA10: "<script>alert(1)</script> upselling" counted its tag words).
    ("<script>alert(1)</script> upstream marketing", "upstream marketing"),
    ("<b>upstream</b> marketing", "upstream marketing"),
])
def test_invisible_and_full_width_characters_do_not_hide_the_words(client, q, searched):
    """QA: each of these lost the keyword and glossary signals (a score of 2.5 against
    7.4), and the override was echoed back."""
    body = client.get("/api/search", params={"q": q, "k": 1}).json()
    plain = client.get("/api/search", params={"q": searched, "k": 1}).json()
    assert body["query"] == searched
    assert body["hits"] == plain["hits"]


def test_query_lang_overrides_the_detected_language(client):
    """The CLI's --query-lang: "chien luoc" reads as English until told it is Vietnamese
    (QA: the API ignored query_lang=vi). ("ha nguon" is read as Vietnamese by itself
    since stop 32: restored, it names the glossary's "hạ nguồn".)"""
    plain = client.get("/api/search", params={"q": "chien luoc", "k": 3}).json()
    told = client.get("/api/search", params={"q": "chien luoc", "k": 3, "query_lang": "vi"}).json()
    assert plain["lang"] != "vi" and told["lang"] == "vi"
    ask = client.get("/api/ask", params={"q": "chien luoc", "query_lang": "vi"}).json()
    assert ask["lang"] == "vi"
    assert client.get("/api/search", params={"q": "ha nguon", "k": 3}).json()["lang"] == "vi"
    bad = client.get("/api/search", params={"q": "chien luoc", "query_lang": "xx"})
    assert bad.status_code == 400 and "unknown language" in bad.json()["error"]


def test_a_query_that_is_not_utf8_says_so(client):
    r = client.get("/api/search?q=%FF%FE")
    assert r.status_code == 400 and r.json()["error"].startswith("the query is not UTF-8")


def test_html_errors_are_pages(client):
    r = client.get("/articles/no-such-article")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "no article with id" in r.text
    r = client.get("/", params={"lang": "xx"})
    assert r.status_code == 400 and "unknown language" in r.text
    # A mangled highlight is ignored: the article still shows, without a mark.
    for hl in ("nonsense", " 10-20", "1e3-2e3", "-5-10"):
        r = client.get(f"/articles/{EN_ARTICLE}", params={"hl": hl})
        assert r.status_code == 200 and "<mark" not in r.text, hl
    r = client.get(f"/articles/{EN_ARTICLE}", params={"hl": "10-40"})
    assert r.status_code == 200 and '<mark id="hl"' in r.text


# -- pages --------------------------------------------------------------------------------


def test_ask_page_onboarding(client):
    r = client.get("/")
    assert r.status_code == 200
    for code in ("ko", "en", "de", "vi"):
        assert f'value="{code}"' in r.text  # the language chips
    assert "업스트림과 다운스트림 마케팅의 차이는?" in r.text  # an example question
    assert 'href="/static/style.css"' in r.text
    assert not re.search(r'(src|href)="(https?:)?//', r.text), "no external assets"


def test_ask_page_answer_links_to_the_passage(client):
    r = client.get("/", params={"q": "What is upstream marketing?"})
    assert r.status_code == 200
    assert 'class="cite"' in r.text and "<mark>" in r.text
    link = re.search(r'href="(/articles/[^"?#]+\?p=\d+&amp;hp=(\d+)-(\d+)#c(\d+))"', r.text)
    assert link, "citation cards link to the article at the passage"
    page = client.get(link.group(1).replace("&amp;", "&"))
    assert page.status_code == 200
    assert f'id="c{link.group(4)}"' in page.text
    assert '<mark id="hl"' in page.text


# Found with the fake encoder, whose dense margins are noise: its own words carry it.
KPI_QUESTION = "크로스셀링 KPI는?"


def test_a_passage_quoted_twice_is_one_card_with_both_sentences_marked(client):
    r = client.get("/", params={"q": KPI_QUESTION})
    cards = re.findall(r'<li class="card" id="cite-(\d+)">(.*?)</li>', r.text, re.S)
    numbers = [int(n) for n, _ in cards]
    assert numbers == list(range(1, len(cards) + 1))
    several = [body for _, body in cards if body.count("<mark>") >= 2]
    assert several, "a passage with several quoted sentences shows them marked in one card"
    n = several[0].count("<mark>")
    link = re.search(r'href="(/articles/[^"?#]+\?p=\d+&amp;hp=([\d%C-]+)#c\d+)"', several[0])
    assert link and link.group(2).count("%2C") == n - 1, "its link highlights each sentence"
    page = client.get(link.group(1).replace("&amp;", "&")).text
    marks = re.findall(r"<mark( id=\"hl\" tabindex=\"-1\")?>", page)
    assert len(marks) == n and marks[0] and not any(marks[1:]), "the first is the jump target"


def test_a_quoted_list_reads_as_a_list_and_prose_as_a_paragraph(client):
    """The four KPIs ran together in one paragraph, their bullets dropped."""
    r = client.get("/", params={"q": KPI_QUESTION})
    text = re.search(r'<div class="answer-text">(.*?)</div>', r.text, re.S).group(1)
    items = re.findall(r'<li><span class="answer-sentence" lang="ko">([^<]*)</span>', text)
    assert [i.split(":")[0] for i in items] == ["판매 증가율", "구매 전환율", "고객 유지율",
                                                "평균 주문 금액"], text
    assert text.count("<ul>") == 1 and "- " not in "".join(items)
    lead = re.search(r"<p>(.*?)</p>\s*<ul>", text, re.S)
    assert lead and "주요 성과 지표(KPI)를 정의" in lead.group(1)  # the lead-in, then its list
    plain = client.get("/", params={"q": "What is upstream marketing?"}).text
    answer = re.search(r'<div class="answer-text">(.*?)</div>', plain, re.S).group(1)
    assert "<ul>" not in answer and answer.count('class="answer-sentence"') >= 2


def test_a_mistyped_article_link_suggests_the_close_ones_and_offers_a_search(client):
    r = client.get("/articles/en-upstream-downstream-marketing")
    assert r.status_code == 404 and "Did you mean" in r.text
    links = re.findall(r'<ul class="suggestions">(.*?)</ul>', r.text, re.S)[0]
    assert f'href="/articles/{EN_ARTICLE}"' in links
    assert '<form class="error-search" action="/" method="get"' in r.text and 'name="q"' in r.text
    nothing_like = client.get("/articles/zzzz")
    assert nothing_like.status_code == 404 and "Did you mean" not in nothing_like.text
    assert 'name="q"' in client.get("/nowhere").text  # every 404 page can search
    body = assert_error(client.get("/api/articles/en-upstream-downstream-marketing"), 404)
    assert "en-upstream-downstream-marketing" in body["error"]  # the API's shape stays


def test_highlight_spans_parse_strictly():
    from web.marks import MAX_HIGHLIGHTS, parse_spans

    assert parse_spans("5-9,1-3", 100) == [(1, 3), (5, 9)]
    assert parse_spans("1-5,3-8", 100) == [(1, 8)]  # overlaps merge
    assert parse_spans("90-200", 100) == [(90, 100)]
    assert parse_spans("1-3,x", 100) == []  # one bad item: no highlight at all
    assert parse_spans(",".join(["1-2"] * (MAX_HIGHLIGHTS + 1)), 100) == []
    assert parse_spans("", 100) == [] and parse_spans(None, 100) == []
    assert parse_spans("1-3,", 100) == [(1, 3)]  # a trailing comma is harmless
    assert parse_spans("١-٣", 100) == []  # ASCII digits only


def test_ask_page_not_found_state(client):
    r = client.get("/", params={"q": "Wie backe ich Brot?"})
    assert r.status_code == 200
    assert 'data-found="false"' in r.text and "No good answer" in r.text
    # QA: the heading and the message both said "No good answer"; and the passages that
    # search found are listed, as it ranks them, for a reader to judge.
    assert r.text.count("No good answer") == 1
    assert "The closest passages, none of which clearly answers it" in r.text
    assert '<ol class="hits" start="1">' in r.text


@pytest.mark.parametrize("q", ["", "   "])
def test_ask_page_says_a_blank_question_is_empty(client, q):
    """QA: "/?q=%20%20" showed the start page again without a word."""
    r = client.get("/", params={"q": q})
    assert r.status_code == 400 and "the question is empty" in r.text
    assert client.get("/").status_code == 200 and "the question is empty" not in client.get(
        "/").text


def test_language_chips_filter(client):
    r = client.get("/", params=[("q", "다운스트림 마케팅이란?"), ("lang", "ko")])
    assert r.status_code == 200
    assert 'value="ko" checked' in r.text
    cards = re.search(r'<ol class="cards".*?</ol>', r.text, re.S)
    assert cards is not None
    assert set(re.findall(r'class="badge lang-(\w+)"', cards.group(0))) == {"ko"}


def test_article_page(client):
    art = client.get(f"/api/articles/{EN_ARTICLE}").json()
    ch = art["chunks"][1]
    r = client.get(f"/articles/{EN_ARTICLE}", params={"hl": f"{ch['start']}-{ch['start'] + 20}"})
    assert r.status_code == 200
    assert f'id="c{ch["chunk_id"]}"' in r.text and "chunk target" in r.text
    assert "seed 001_e9578c7883410bf3.txt" in r.text  # the source
    assert "upstream marketing" in r.text  # a tag


def _library_ids(html: str) -> list[str]:
    return re.findall(r'<span class="id">([^<]+)</span>', html)


def test_library_page(client):
    r = client.get("/library")
    assert r.status_code == 200
    assert r.text.count('<tr>') == 1 + 5  # header + one row per article
    assert f'href="/articles/{EN_ARTICLE}"' in r.text
    langs = [i.split("-")[0] for i in _library_ids(r.text)]
    assert langs == ["ko", "ko", "en", "de", "vi"], "ordered as the counts read: KO EN DE VI"
    assert re.search(r'<time datetime="[^"]+T[^"]+"[^>]*>\d{4}-\d\d-\d\d \d\d:\d\d UTC</time>',
                     r.text), "the time of day too, not only the date"


def test_library_filters_and_sorts(client):
    ids = _library_ids(client.get("/library", params=[("lang", "ko"), ("lang", "de")]).text)
    assert sorted(i.split("-")[0] for i in ids) == ["de", "ko", "ko"]
    page = client.get("/library", params={"tag": "Strategy"}).text  # case-insensitive
    assert set(_library_ids(page)) == {"en-upstream-vs-downstream-marketing",
                                       "ko-upstream-downstream-marketing"}
    assert "Showing 2 of 5 articles." in page
    assert '<a class="tag" href="/library?tag=upstream+marketing">' in page  # tags link
    by_size = _library_ids(client.get("/library", params={"sort": "passages"}).text)
    assert by_size[0] == "ko-cross-selling-existing-customers"
    nothing = client.get("/library", params={"tag": "nothing"}).text
    assert "No article has the tag “nothing”" in nothing
    assert "No article matches" in client.get("/library", params={"lang": "vi",
                                                                  "tag": "kpi"}).text
    assert '<option value="nothing" selected>' in nothing  # Apply keeps the filter
    by_lang_tag = client.get("/library", params={"lang": "ko"}).text  # tag links keep lang
    assert '<a class="tag" href="/library?lang=ko&amp;tag=strategy">' in by_lang_tag
    assert client.get("/library", params={"lang": "xx"}).status_code == 400
    assert client.get("/library", params={"sort": "bogus"}).status_code == 200  # ignored
    body = client.get("/api/articles", params={"lang": "ko", "tag": "kpi"}).json()
    assert [a["id"] for a in body["articles"]] == ["ko-cross-selling-existing-customers"]
    assert body["count"] == 1
    assert client.get("/api/articles", params={"lang": "fr"}).status_code == 400


def test_concepts_page(client, fake_kb):
    r = client.get("/concepts")
    assert r.status_code == 200
    assert r.text.count('class="concept"') == len(fake_kb.glossary.cards)
    assert "Cross-selling" in r.text and "크로스셀링" in r.text
    assert "source on" in r.text  # at least one coverage gap is marked
    quotes = re.findall(r'<blockquote class="definition"[^>]*>\s*([^<]*)', r.text)
    assert quotes and not any(re.match(r"[-*•·▪–]\s", q) for q in quotes), "no list bullets"
    # A jump list at the top leads to every card.
    index = re.search(r'<nav class="concept-index"[^>]*>(.*?)</nav>', r.text, re.S).group(1)
    targets = re.findall(r'href="#([^"]+)"', index)
    cards = re.findall(r'<article class="concept" id="([^"]+)"', r.text)
    assert targets == cards and len(cards) == len(fake_kb.glossary.cards)
    # QA: "Bán thêm (upselling) (upselling, bán thêm)" named the terms twice, and the
    # card asked "What is KPIs (key performance indicators)?"; QA19 F12: "What is loyalty
    # program?", in English for every reader.
    assert "(upselling, bán thêm)" not in r.text and "(cross-selling," not in r.text
    assert 'href="/?q=What+does+%E2%80%9CKPI%E2%80%9D+mean%3F"' in r.text
    assert 'href="/?q=What+is+loyalty+program%3F"' not in r.text
    assert "충성도 프로그램이란?" in r.text and "Was bedeutet „Treueprogramm“?" in r.text
    assert "Chương trình khách hàng thân thiết là gì?" in r.text


# -- escaping -----------------------------------------------------------------------------

PAYLOADS = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")


def _assert_inert(html: str) -> None:
    for payload in PAYLOADS:
        assert payload not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html or "&lt;img" in html
    assert 'href="javascript:' not in html


def test_markup_in_articles_renders_escaped(evil_client):
    ask = evil_client.get("/", params={"q": "What is the zebra campaign?"})
    assert ask.status_code == 200
    assert "evil-zebra" in ask.text, "the article is cited"
    _assert_inert(ask.text)
    article = evil_client.get("/articles/evil-zebra", params={"hl": "0-20"})
    _assert_inert(article.text)
    assert "&lt;img src=x onerror=alert(1)&gt;" in article.text
    assert "javascript:alert(1)" in article.text  # shown as text, never as a link
    _assert_inert(evil_client.get("/library").text)
    echoed = evil_client.get("/", params={"q": "<script>alert(1)</script> zebra"})
    assert "<script>alert(1)</script>" not in echoed.text


def test_cards_and_snippets_show_markdown_headings_without_their_marks():
    """A .md article's passages keep "## Pricing" (they are exact slices of its text);
    what the answer cards and passage lists show is the heading's words."""
    from kb.results import Hit
    from web.views import excerpt, hit_view

    text = "## Pricing tiers\nThree tiers keep the offer simple. # not a heading\n#1 choice."
    hit = Hit(1, "a", "A", "en", "Pricing tiers", text, 0, len(text), 1.0)
    start = text.index("Three")
    ex = excerpt(hit, [(start, text.index("#1") - 1)])
    before, mark, after = ex["parts"]
    assert before == {"text": "Pricing tiers\n", "mark": False}
    assert mark["mark"] and mark["text"].startswith("Three tiers")
    assert "# not a heading" in mark["text"]  # only a line's leading marker goes
    assert after["text"].endswith("#1 choice.")
    assert _shown(hit_view(hit)).startswith("Pricing tiers Three tiers")


def test_a_card_quoting_table_rows_shows_their_cells_not_the_markdown():
    """QA19 F10: the card under "upstream vs downstream" showed "Aspect | Upstream
    Marketing | Downstream Marketing |" and the "---|---|---" rule."""
    from kb.results import Hit
    from web.views import excerpt

    text = ("Comparing them:\n| Aspect | Upstream | Downstream |\n|---|---|---|\n"
            "| Focus | Long-term demand | Short-term sales |\n| Goal | Shape | Convert |")
    hit = Hit(1, "a", "A", "en", "Compare", text, 0, len(text), 1.0)
    focus = text.index("| Focus")
    ex = excerpt(hit, [(text.index("| Aspect"), text.index("\n|---")),
                       (focus, text.index("\n| Goal"))])
    shown = "".join(p["text"] for p in ex["parts"])
    assert "|" not in shown and "---" not in shown
    marked = [p["text"] for p in ex["parts"] if p["mark"]]
    assert marked == ["Aspect · Upstream · Downstream",
                      "Focus · Long-term demand · Short-term sales"]
    assert shown.endswith("Goal · Shape · Convert")


def test_article_page_shows_sections_as_headings(fake_kb):
    """Headings are h2-h4 (Markdown's "#" marks dropped), so readers and screen readers
    can move by section; a first line that repeats the title stays text."""
    md = ("# Referral playbook\n\nShort intro about referrals for new staff members.\n\n"
          "## Why <referrals> work\n\nReferred customers buy more and stay longer here.\n\n"
          "1.1. Rewards\n\nGive both sides a reward they value, not a discount alone.\n")
    fake_kb.ingest([parse_article(md, name="referral-playbook.md", lang="en")])
    app = create_app(Settings(index_dir=fake_kb.index_dir, model="fake"), kb=fake_kb)
    with TestClient(app) as c:
        page = c.get("/articles/referral-playbook").text
        body = page[page.index('class="doc-text"'):]
        heads = re.findall(r'<(h\d|p) class="doc-h">(.*?)</\1>', body)
        assert heads == [("p", "Referral playbook"), ("h2", "Why &lt;referrals&gt; work"),
                         ("h3", "1.1. Rewards")], "## is the top level here: h2, none skipped"
        assert "#" not in re.sub(r'href="[^"]*"|id="[^"]*"', "", body.split("</article>")[0])
        text = fake_kb.article("referral-playbook")["text"]
        start = text.index("Why")
        marked = c.get("/articles/referral-playbook", params={"hl": f"{start}-{start + 3}"}).text
        assert '<h2 class="doc-h"><mark id="hl" tabindex="-1">Why</mark>' in marked
        # A span that starts on what the page leaves out (the "## " mark) still has its
        # jump target; one that covers only that has no highlight and no jump link.
        line = text.index("## Why")
        marked = c.get("/articles/referral-playbook", params={"hl": f"{line}-{start + 3}"}).text
        assert '<mark id="hl" tabindex="-1">Why</mark>' in marked and 'href="#hl"' in marked
        bare = c.get("/articles/referral-playbook", params={"hl": f"{line}-{line + 2}"}).text
        assert "<mark" not in bare and 'href="#hl"' not in bare
    for aid in (EN_ARTICLE,):
        with TestClient(create_app(Settings(index_dir=fake_kb.index_dir, model="fake"),
                                   kb=fake_kb)) as c:
            page = c.get(f"/articles/{aid}").text
        assert '<h2 class="doc-h">What is Upstream Marketing?</h2>' in page


def test_article_page_shows_a_pipe_table_as_a_table(fake_kb):
    """QA: the English seed's comparison table showed as rows of "|" and "---|---|---|",
    unreadable on a phone. It is a table now, header row and all, and a highlight in a
    cell still marks and jumps."""
    app = create_app(Settings(index_dir=fake_kb.index_dir, model="fake"), kb=fake_kb)
    text = fake_kb.article(EN_ARTICLE)["text"]
    start = text.index("Conversion rates, engagement")
    with TestClient(app) as c:
        page = c.get(f"/articles/{EN_ARTICLE}", params={"hl": f"{start}-{start + 16}"}).text
    table = re.search(r'<div class="doc-table"[^>]*><table[^>]*>(.*?)</table></div>', page,
                      re.S).group(1)
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table)
    assert re.findall(r'<th scope="col"[^>]*>(.*?)</th>', rows[0]) == [
        "Aspect", "Upstream Marketing", "Downstream Marketing"]
    assert re.findall(r"<td[^>]*>(.*?)</td>", rows[1]) == [
        "Focus", "Long-term strategy and innovation", "Short-term tactics and execution"]
    assert len(rows) == 6 and "---" not in table and "|" not in table
    # QA round 3: a row's empty cells are cells ("| | 300 | |" has three).
    from web.views import _table

    row = "| A | B | C |\n|---|---|---|\n| | 300 | |"
    cells = _table(row, 0, len(row), [])["rows"][1]["cells"]
    assert [[p["text"] for p in c["parts"]] for c in cells] == [[], ["300"], []]
    # QA round 3: the later parts of a table split between passages had no header row.
    long = "| A | B |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |"
    part = _table(long, long.index("| 3"), len(long), [], header_from=0)["rows"]
    assert [(r["head"], [[p["text"] for p in c["parts"]] for c in r["cells"]]) for r in part] == [
        (True, [["A"], ["B"]]), (False, [["3"], ["4"]])]
    assert ('<td role="cell" data-label="Downstream Marketing"><mark id="hl" tabindex="-1">'
            'Conversion rates</mark>, engagement</td>') in table


def test_article_page_shows_lists_as_lists(fake_kb):
    """QA: list items were plain "- " lines; now they are a list under their lead-in,
    a numbered one keeping its numbers (without bullets), and a highlight in an item
    still marks."""
    md = ("# Loyalty playbook\n\nLoyalty programmes reward repeat customers in three ways:\n"
          "- Points for every purchase made in the store or online.\n"
          "  - Double points on the first purchase of each month.\n"
          "- Members-only offers that arrive before the public sale starts.\n"
          "- A birthday gift that reminds members the brand knows them.\n\n"
          "Roll them out in this order for new stores and new staff members:\n"
          "1. Points first, because every customer understands them quickly.\n"
          "2. Offers second, once the member list has grown large enough.\n")
    fake_kb.ingest([parse_article(md, name="loyalty-playbook.md", lang="en")])
    text = fake_kb.article("loyalty-playbook")["text"]
    start = text.index("Members-only")
    app = create_app(Settings(index_dir=fake_kb.index_dir, model="fake"), kb=fake_kb)
    with TestClient(app) as c:
        page = c.get("/articles/loyalty-playbook", params={"hl": f"{start}-{start + 12}"}).text
    lists = re.findall(r'<(ul|ol) class="doc-list(?: numbered)?">(.*?)</\1>', page, re.S)
    assert [n for n, _ in lists] == ["ul", "ol"]  # the numbered one is ordered
    # QA round 3: an indented item is nested under the one before it.
    assert lists[0][1].startswith("<li>Points for every purchase made in the store or online."
                                  "<ul><li>Double points on the first purchase")
    assert '</ul></li><li><mark id="hl" tabindex="-1">Members-only</mark> offers' in page
    assert re.findall(r"<li>(\d)\. ", lists[1][1]) == ["1", "2"]
    body = page[page.index('class="doc-text"'):]
    assert "in three ways:" in body and "\n- " not in body
    # QA: passages were announced by their index-wide id ("passage 71").
    assert re.findall(r'aria-label="passage (\d+) of (\d+)', page)[0] == ("1", "1")


def test_answer_items_of_different_passages_are_separate_lists():
    """QA round 3: "1. Collect baseline metrics." from another article joined the four
    Korean KPIs in one list, reading as a fifth KPI."""
    from kb.answers import Answer, AnswerSentence, Citation
    from kb.results import Hit
    from web.views import answer_view

    a = Hit(1, "ko-x", "KO", "ko", "", "- 판매 증가율: 매출.\n- 구매 전환율: 비율.", 0, 30, 1.0)
    b = Hit(2, "en-y", "EN", "en", "", "1. Collect baseline metrics.", 0, 28, 0.5)
    sentences = (AnswerSentence("- 판매 증가율: 매출.", (1,)),
                 AnswerSentence("- 구매 전환율: 비율.", (1,)),
                 AnswerSentence("1. Collect baseline metrics.", (2,)))
    ans = Answer("q", "en", True, "", sentences,
                 (Citation(1, a, ((0, 14),)), Citation(2, b, ((0, 28),))))
    blocks = answer_view(ans)["blocks"]
    assert [(blk["list"], len(blk["sentences"])) for blk in blocks] == [(True, 2), (True, 1)]


def test_answer_items_of_one_article_are_one_list_and_an_items_later_sentence_stays_in_it():
    """QA: five steps the chunker split between two passages read as two lists, and a
    step's second sentence as a paragraph between them."""
    from kb.answers import Answer, AnswerSentence, Citation
    from kb.results import Hit
    from web.views import answer_view

    a = Hit(1, "ko-x", "KO", "ko", "", "- 정렬: 목표. 둘째 문장.\n- 식별: 고객.", 0, 30, 1.0)
    b = Hit(2, "ko-x", "KO", "ko", "", "- 검토: 수정.", 31, 40, 0.5)
    sentences = (AnswerSentence("- 정렬: 목표.", (1,)),
                 AnswerSentence("둘째 문장.", (1,), in_item=True),
                 AnswerSentence("- 식별: 고객.", (1,)),
                 AnswerSentence("- 검토: 수정.", (2,)))
    ans = Answer("q", "ko", True, "", sentences,
                 (Citation(1, a, ((0, 9),)), Citation(2, b, ((31, 40),))))
    [block] = answer_view(ans)["blocks"]
    assert block["list"] and [[s["text"] for s in item] for item in block["entries"]] == [
        ["정렬: 목표.", "둘째 문장."], ["식별: 고객."], ["검토: 수정."]]


def test_a_listed_passage_shows_a_table_as_cells_not_pipes():
    """QA: "More passages" showed "Aspect | Upstream Marketing | … ---|---|---"."""
    from kb.results import Hit
    from web.views import hit_view

    text = ("## Comparing\nAspect | Upstream | Downstream\n---|---|---\n"
            "Focus | Long-term | Short-term")
    hit = Hit(1, "a", "A", "en", "", text, 0, len(text), 1.0)
    assert _shown(hit_view(hit)) == (
        "Comparing Aspect · Upstream · Downstream Focus · Long-term · Short-term")


def _shown(view: dict) -> str:
    return "".join(p["text"] for p in view["parts"])


def test_a_listed_passage_shows_its_best_sentence_with_the_query_words_marked():
    """QA16: the lists showed a passage's first 480 characters, unmarked, and their link
    marked the whole passage; a hit search explained shows its best sentence, the
    query's words marked, and the link marks that sentence."""
    from kb.results import Hit
    from web.views import SNIPPET_BEFORE, hit_view

    text = "Budgets come first in every plan. " * 20 + "Zalando tested a loyalty tier. The end."
    a = text.index("Zalando")
    hit = Hit(7, "retail", "Retail", "en", "", text, 100, 100 + len(text), 1.0,
              snippet=(a, a + len("Zalando tested a loyalty tier.")), marks=((a, a + 7),))
    view = hit_view(hit)
    marked = [p["text"] for p in view["parts"] if p["mark"]]
    assert marked == ["Zalando"] and view["cut_before"] and not view["cut"]
    assert _shown(view).endswith("Zalando tested a loyalty tier. The end.")
    assert len(_shown(view)) < SNIPPET_BEFORE + 60
    assert f"hp={a}-{a + 30}" in view["href"] and "p=7" in view["href"]
    # A table row stays cells when a mark falls inside it.
    text = ("Aspect | Upstream | Downstream\n---|---|---\n"
            "Audience | New segments | Current customers")
    a = text.index("Audience")
    b = text.index("segments")
    row = Hit(8, "t", "T", "en", "", text, 0, len(text), 1.0, snippet=(a, len(text)),
              marks=((b, b + 8),))
    assert _shown(hit_view(row)) == (
        "Aspect · Upstream · Downstream Audience · New segments · Current customers")


def test_a_search_hit_says_which_section_its_snippet_sits_under(client):
    """QA21 F9: the CLI and the page label a hit with its snippet's section, and the
    JSON had only `section`, where the passage starts: an API client that showed it
    beside `snippet` put the sentence under the wrong heading."""
    from kb.chunking import section_at

    body = client.get("/api/search", params={"q": "upselling", "k": 10}).json()
    for h in body["hits"]:
        assert h["snippet"] is not None
        assert h["snippet_section"] == (section_at(h["text"], h["section"] or "",
                                                   h["snippet"]["start"]) or h["section"])
    moved = [h for h in body["hits"] if h["snippet_section"] != h["section"]]
    assert ("3.2. 번들링", "3.3. 업셀링") in {(h["section"], h["snippet_section"])
                                         for h in moved}
    # An answer's citations have no snippet, and so no snippet section.
    ask = client.get("/api/ask", params={"q": "What is upselling?"}).json()
    assert ask["citations"] and all(c["snippet_section"] is None for c in ask["citations"])


def test_a_card_names_the_section_its_sentence_sits_under():
    """A passage can run past a heading; the card's section is the cited sentence's."""
    from kb.answers import section_at
    from kb.results import Hit

    text = ("Referrals grow trust among buyers over time.\n\n## How to design a program\n\n"
            "Give both sides a reward they value.")
    hit = Hit(1, "a", "A", "en", "Referral basics", text, 0, len(text), 1.0)
    assert section_at(hit, 0) == "Referral basics"
    assert section_at(hit, text.index("Give")) == "How to design a program"
    # A passage listed on its own (More passages, Concepts) names every section it runs
    # through (QA: the Korean passage on downstream marketing read "§ 상류 마케팅").
    from web.views import hit_view

    assert hit_view(hit)["section"] == "Referral basics → How to design a program"
    # With a sentence shown, the heading it sits under, as the CLI and the JSON's
    # snippet_section say (QA21 F9).
    from dataclasses import replace

    start = text.index("Give")
    shown = replace(hit, snippet=(start, len(text)))
    assert hit_view(shown)["section"] == "How to design a program" == shown.snippet_section


def test_success_bodies_are_what_the_openapi_document_says(client):
    """The document's response models (web/schemas.py) describe the dicts the handlers
    return; validating real bodies with unknown keys forbidden keeps them in step."""
    from web import schemas

    spec = client.get("/openapi.json").json()
    for path, model in [("/api/search", "SearchOut"), ("/api/ask", "AskOut"),
                        ("/api/articles", "ArticlesOut"),
                        ("/api/articles/{article_id}", "ArticleOut")]:
        ref = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        assert ref["schema"]["$ref"].endswith(f"/{model}"), path
    schemas.SearchOut.model_validate(client.get("/api/search", params={"q": "upselling"}).json())
    for q in ("What is upselling?", "weather in Paris", "ban cheo la gi"):  # found, not
        # found, and rewritten (restored diacritics)
        schemas.AskOut.model_validate(client.get("/api/ask", params={"q": q}).json())
    schemas.ArticlesOut.model_validate(client.get("/api/articles").json())
    schemas.ArticleOut.model_validate(client.get(f"/api/articles/{EN_ARTICLE}").json())
    schemas.HealthOut.model_validate(client.get("/healthz").json())
    health = spec["paths"]["/healthz"]["get"]["responses"]
    assert set(health) == {"200", "503"} and health["503"]["content"]["application/json"][
        "schema"]["$ref"].endswith("/HealthOut")
    delete = spec["paths"]["/api/articles/{article_id}"]["delete"]["responses"]
    assert {"400", "413"} <= set(delete)
    assert "application/x-www-form-urlencoded" in spec["paths"]["/api/articles"]["post"][
        "requestBody"]["content"]


def test_a_question_rewritten_before_the_search_says_how(client):
    body = client.get("/api/ask", params={"q": "tiep thi ha nguon la gi"}).json()
    assert body["query"] == "tiep thi ha nguon la gi"
    assert body["restored"] == "tiếp thị hạ nguồn là gì"
    html = client.get("/", params={"q": "tiep thi ha nguon la gi"}).text
    assert "Searched as <q lang=\"vi\">tiếp thị hạ nguồn là gì</q>" in html
    assert 'class="restored"' not in client.get("/", params={"q": "What is upselling?"}).text


# -- security headers ----------------------------------------------------------------------


def _assert_secured(r) -> str:
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "same-origin"
    policy = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    return policy


@pytest.mark.parametrize("method,path", [
    ("GET", "/"), ("GET", "/?q=upstream"), ("GET", "/library"), ("GET", "/add"),
    ("GET", f"/articles/{EN_ARTICLE}"), ("GET", "/api/search?q=upstream"),
    ("GET", "/static/app.js"), ("GET", "/nowhere"), ("GET", "/api/nowhere"),
    ("HEAD", "/healthz"), ("DELETE", "/library"),
])
def test_every_response_carries_the_security_headers(client, method, path):
    r = client.request(method, path)
    policy = _assert_secured(r)
    # Pages run only same-origin scripts and styles: no inline code, no other host.
    assert policy.startswith("default-src 'self';") and "unsafe-inline" not in policy
    assert r.headers.get_list("content-security-policy") == [policy]  # never two


def test_an_unexpected_500_carries_the_security_headers_too(fake_kb, monkeypatch):
    """Starlette answers a 500 outside the middleware stack; the error handler adds them."""
    app = create_app(Settings(index_dir=fake_kb.index_dir, model="fake"), kb=fake_kb)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(fake_kb, "search", broken)
    with TestClient(app, raise_server_exceptions=False) as c:
        for path in ("/api/search?q=upstream", "/?q=upstream"):
            r = c.get(path)
            assert r.status_code == 500 and "boom" not in r.text
            _assert_secured(r)


def test_the_api_docs_page_allows_only_its_own_inline_script(client):
    r = client.get("/docs")
    policy = _assert_secured(r)
    script_src = next(d for d in policy.split("; ") if d.startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and script_src.count("'sha256-") == 1


def test_a_miss_in_the_chosen_languages_links_to_asking_in_all(client):
    """QA: the Ask page headed this miss "No good answer in the knowledge base", and
    offered no way to ask again without the language filter."""
    r = client.get("/", params={"q": KPI_QUESTION, "lang": "de"})
    box = re.search(r'<div class="no-answer" role="status">(.*?)</div>', r.text, re.S).group(1)
    assert "<h3>No good answer in the chosen languages</h3>" in box
    assert "The Korean articles answer it" in box
    link = re.search(r'<a href="([^"]+)">Ask in all languages</a>', box)
    assert link and "lang" not in link.group(1)
    again = client.get(link.group(1).replace("&amp;", "&"))
    assert '<div class="no-answer"' not in again.text


def _examples(page: str) -> list[str]:
    box = re.search(r'<section class="examples".*?</section>', page, re.S).group(0)
    return [html.unescape(h) for h in re.findall(r'<a href="([^"]+)"', box)]


def test_example_questions_keep_the_language_filter(client):
    """QA: "Other questions to try" linked to /?q=... without the chosen languages, so
    following one dropped the filter."""
    r = client.get("/", params=[("q", "What is upstream marketing?"), ("lang", "de"),
                                ("lang", "vi")])
    links = _examples(r.text)
    # Not the question asked (QA22 F3), though it is an example.
    assert len(links) == 7 and all(h.endswith("&lang=de&lang=vi") for h in links), links
    assert not any("upstream+marketing%3F" in h for h in links), links
    again = client.get(links[0])
    assert 'value="de" checked' in again.text and 'value="vi" checked' in again.text
    assert all("lang=" not in h for h in _examples(client.get("/").text))


@pytest.mark.parametrize("params", [
    [("q", "test"), ("lang", "xx")], [("q", "test"), ("lang", "de,xx")], [("lang", "xx")]])
def test_an_unknown_language_is_said_on_the_ask_page(client, params):
    """QA: /?q=test&lang=xx was the generic error page: the question and the chips were
    gone. It is said beside the chips, as an empty question is, the form kept."""
    r = client.get("/", params=params)
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")
    assert re.search(r'id="q-problem" role="alert">unknown language &#39;xx&#39;', r.text)
    assert 'role="search"' in r.text and 'id="answer"' not in r.text
    assert "That request did not work" not in r.text  # not the error page
    assert '<fieldset class="chips" aria-describedby="q-problem">' in r.text
    assert 'aria-invalid="true"' not in r.text  # the question is not what is wrong
    if dict(params).get("q"):
        assert 'name="q" type="search" value="test"' in r.text
    assert ('value="de" checked' in r.text) == ("de,xx" in dict(params).get("lang", ""))


def test_the_ask_page_does_not_take_focus_on_load(client):
    """QA: the Ask box's autofocus skipped the skip link and the introduction for
    keyboard and screen reader users. "/" moves to it (app.js); after a question the
    answer takes focus (app.js), as before."""
    for params in ({}, {"q": "What is upstream marketing?"}, {"q": " "}):
        page = client.get("/", params=params).text
        assert "autofocus" not in page, params
        assert 'aria-keyshortcuts="/"' in page


@pytest.mark.parametrize(("q", "title"), [
    ("  ", "Error · Ask"), ("", "Error · Ask"),
    ("What is  upstream\nmarketing?", "What is upstream marketing?"),
    ("upselling " * 200, "Error · " + ("upselling " * 8).strip() + "…"),
])
def test_the_page_title_is_the_question_shortened(client, q, title):
    """QA: /?q=%20%20 was titled "· kb marketing knowledge base", and a 2,000-character
    question gave a 2,000-character title. The box keeps the whole question. A
    question that cannot be asked says "Error" first (QA23b F11)."""
    page = client.get("/", params={"q": q}).text
    assert re.search(r"<title>(.*?)</title>", page, re.S).group(1) == html.escape(
        f"{title} · kb marketing knowledge base", quote=False)
    if len(q) > 500:  # too long to ask: kept in the box, with what is wrong
        assert f'value="{q}"' in page and "the limit is 500" in page


def test_the_title_and_the_heading_show_the_question_alike(client):
    """QA21 F11: the tab's title kept the markup typed in a question as text, while the
    answer's heading showed the question without it. Both are the question as searched,
    escaped; the box keeps it as typed, to edit."""
    typed = 'Was ist ein "Treuprogramm" <i>bei</i> Cross-Selling?'
    page = client.get("/", params={"q": typed}).text
    shown = 'Was ist ein "Treuprogramm" bei Cross-Selling?'
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert html.unescape(title) == f"{shown} · kb marketing knowledge base"
    heading = re.search(r'<h2 id="answer-h">Answer <span class="q"[^>]*>“(.*?)”</span>',
                        page, re.S).group(1)
    assert html.unescape(heading) == shown and heading == title.split(" · ")[0]
    assert "&lt;i&gt;" not in page.split('id="q"')[0] + page.split('id="answer"')[1]
    box = re.search(r'<input id="q" name="q" type="search" value="([^"]*)"', page).group(1)
    assert html.unescape(box) == typed and "<i>" not in box  # the box: as typed, escaped
    # Markup alone is no question: the title says "Ask", beside what is wrong.
    page = client.get("/", params={"q": "<script>alert(1)</script>"}).text
    assert "<title>Error · Ask · kb" in page and "only markup" in page  # QA23b F11


def test_a_wide_table_scrolls_in_a_named_region_a_keyboard_reaches(client):
    """QA: a table wider than a phone was cut with no hint, and its scroll box could not
    be reached from the keyboard (the scroll shadow is CSS: tests/test_browser.py)."""
    page = client.get(f"/articles/{EN_ARTICLE}").text
    assert '<div class="doc-table" tabindex="0" role="region" aria-label="Table"><table' in page


@pytest.mark.model
def test_the_ask_page_shows_quoted_table_rows_as_a_table(real_kb):
    """The comparison table's rows are quoted under its header; the page shows them as
    a table with the header's cells as column heads, and a source number per row."""
    app = create_app(Settings(index_dir=real_kb.index_dir), kb=real_kb)
    with TestClient(app) as c:
        page = c.get("/", params={"q": "upstream vs downstream"}).text
    table = re.search(r'<div class="doc-table answer-table"[^>]*><table[^>]*>(.*?)</table>',
                      page, re.S)
    assert table, page
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1), re.S)
    assert re.findall(r'<th scope="col"[^>]*>([^<]*)</th>', rows[0]) == [
        "Aspect", "Upstream Marketing", "Downstream Marketing"]
    assert re.findall(r'<td role="cell" data-label="[^"]*">([^<]*)</td>', rows[-1]) == [
        "Metrics", "Customer insights, market potential", "Conversion rates, engagement"]
    assert all('class="cite"' in r for r in rows[1:]) and 'class="cite"' not in rows[0]


def _ask_page(answer) -> str:
    """The Ask page rendered around a hand-made answer."""
    from web import views
    from web.app import templates

    ctx = {"answer": views.answer_view(answer), "query": answer.query, "chips": [],
           "page": "ask", "max_chars": 500}
    return templates().env.get_template("ask.html").render(ctx)


def test_a_card_names_every_heading_its_quoted_sentences_sit_under(nps_answer):
    """QA25 F10: a card quoting an NPS passage's opening sentence and the formula, which
    sits under "How the score is calculated", was labelled with the first heading only.
    It names both, in text order; the API gives each quoted sentence's heading
    (``spans[].section``) and keeps ``section``, the first's."""
    page = _ask_page(nps_answer)
    sections = re.findall(r'<p class="section" lang="en">§ ([^<]*)</p>', page)
    assert sections == ["Running NPS Surveys → How the score is calculated", "Close the loop"]
    cited = nps_answer.to_dict()["citations"]
    assert cited[0]["section"] == "Running NPS Surveys"
    assert [s["section"] for s in cited[0]["spans"]] == [
        "Running NPS Surveys", "How the score is calculated", "How the score is calculated"]
    assert [s["section"] for s in cited[1]["spans"]] == ["Close the loop"]


def test_on_a_phone_a_tables_cells_carry_their_columns_names(client):
    """QA25 F9: a phone shows a table stacked, each cell after its column's name
    (data-label; the CSS is tested in tests/test_browser_a11y.py): in the article, in a
    later part of a table that passages split, and in an answer, sources included."""
    page = client.get(f"/articles/{EN_ARTICLE}").text
    table = re.search(r'<div class="doc-table".*?</table>', page, re.S).group(0)
    cells = re.findall(r'<td role="cell" data-label="([^"]*)">([^<]*)</td>', table)
    assert cells[:3] == [("Aspect", "Focus"),
                         ("Upstream Marketing", "Long-term strategy and innovation"),
                         ("Downstream Marketing", "Short-term tactics and execution")]
    assert len(cells) == 15 and "<td>" not in table
    from web.views import _table

    long = "| A | B |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |"
    part = _table(long, long.index("| 3"), len(long), [], header_from=0)["rows"]
    assert [c.get("label") for r in part for c in r["cells"]] == [None, None, "A", "B"]
    page = client.get("/", params={"q": "upstream vs downstream"}).text
    table = re.search(r'<div class="doc-table answer-table".*?</table>', page, re.S).group(0)
    labels = re.findall(r'<td role="cell"(?: class="cites")? data-label="([^"]*)"', table)
    assert labels[:4] == ["Aspect", "Upstream Marketing", "Downstream Marketing", "Sources"]
    assert "<td>" not in table


def test_a_quoted_table_rows_markup_is_shown_as_text():
    """A table row's cells are article text too: escaped like every sentence."""
    from kb.answers import Answer, AnswerSentence, Citation
    from kb.results import Hit
    from web import views
    from web.app import templates

    text = ("Aspect | <b>Upstream</b> | Downstream |\n---|---|---|\n"
            "Goal | <script>alert(1)</script> | sales & more |")
    head, row = text.split("\n")[0], text.split("\n")[2]
    hit = Hit(chunk_id=1, article_id="evil", title="<i>Evil</i>", lang="en", section="",
              text=text, start=0, end=len(text), score=1.0)
    at = text.index(row)
    ans = Answer("q", "en", True, "2 sentences quoted from 1 article.", (
        AnswerSentence(head, (1,), 0, len(head), table="header"),
        AnswerSentence(row, (1,), at, at + len(row), table="row"),
    ), (Citation(1, hit, ((0, len(head)), (at, at + len(row)))),), passages=(hit,))
    ctx = {"answer": views.answer_view(ans), "query": "q", "chips": [],
           "page": "ask", "max_chars": 500}
    page = templates().env.get_template("ask.html").render(ctx)
    assert "<script>alert" not in page and "<b>Upstream" not in page
    assert ('<td role="cell" data-label="&lt;b&gt;Upstream&lt;/b&gt;">'
            "&lt;script&gt;alert(1)&lt;/script&gt;</td>") in page  # its column's name too
    assert '<th scope="col" role="columnheader">&lt;b&gt;Upstream&lt;/b&gt;</th>' in page
    assert '<td role="cell" data-label="Downstream">sales &amp; more</td>' in page


def test_a_miss_links_the_nearest_articles_it_names(client):
    """QA13: the no-answer box named the nearest articles as plain text."""
    r = client.get("/", params={"q": "What is the capital of France?"})
    box = re.search(r'<div class="no-answer" role="status">(.*?)</div>', r.text, re.S).group(1)
    assert "The nearest articles, though none clearly answers it: “<a href=" in box
    links = re.findall(r'“<a href="(/articles/[^"]+)" lang="\w\w">([^<]+)</a>”', box)
    assert 1 <= len(links) <= 3, box
    for href, title in links:
        page = client.get(href)
        assert page.status_code == 200 and html.escape(html.unescape(title)) in page.text


def test_library_and_ask_chips_name_languages_alike(client):
    """QA13: the Ask page's chips said 한국어 and Deutsch, the Library's Korean and German."""
    chip = r'<span class="code">ko</span> <span lang="ko">한국어</span>'
    assert chip in client.get("/").text and chip in client.get("/library").text


def test_answer_prose_in_another_language_is_a_paragraph_of_its_own():
    """QA13: Korean sentences sat inside an English paragraph of an answer."""
    from kb.answers import Answer, AnswerSentence, Citation
    from kb.results import Hit
    from web.views import answer_view

    def hit(n: int, lang: str, text: str) -> Hit:
        return Hit(chunk_id=n, article_id=f"a{n}", title=f"T{n}", lang=lang, section="",
                   text=text, start=0, end=len(text), score=1.0, signals={})

    texts = [("en", "Downstream marketing is tactical."), ("en", "It sells now."),
             ("ko", "다운스트림 마케팅은 전술적입니다."), ("en", "Insights flow back.")]
    hits = [hit(i + 1, lang, t) for i, (lang, t) in enumerate(texts)]
    cites = tuple(Citation(n=i + 1, hit=h, spans=((0, len(h.text)),)) for i, h in enumerate(hits))
    sents = tuple(AnswerSentence(text=h.text, citations=(i + 1,), start=0, end=len(h.text))
                  for i, h in enumerate(hits))
    ans = Answer("q", "en", True, "4 sentences", sents, cites)
    blocks = answer_view(ans)["blocks"]
    assert [[s["lang"] for s in b["sentences"]] for b in blocks] == [["en", "en"], ["ko"], ["en"]]


def test_coverage_gap_counts_link_to_the_concepts_missing_that_language(client):
    """QA13: "Coverage gaps: KO 1 · EN 5 · DE 9 · VI 10" led nowhere."""
    page = client.get("/concepts").text
    counts = dict(re.findall(r'<a href="/concepts\?gap=(\w\w)#h-gaps"[^>]*>'
                             r'<span class="badge.*?</span></span> (\d+)</a>', page))
    assert set(counts) == {"ko", "en", "de", "vi"}, page
    lang = max(counts, key=lambda k: int(counts[k]))
    filtered = client.get(f"/concepts?gap={lang}").text
    cards = re.findall(r'<article class="concept" id="([^"]+)"', filtered)
    assert len(cards) == int(counts[lang]) and "show all</a>" in filtered
    assert client.get("/concepts?gap=fr").status_code == 200  # unknown: all cards


def test_a_run_on_sentence_is_cut_in_a_listed_passage():
    """QA18: a 1,200-character paragraph with no full stop was shown whole."""
    from kb.results import Hit
    from web.views import hit_view

    text = " ".join(f"word{i}" for i in range(260))
    hit = Hit(9, "r", "R", "en", "", text, 0, len(text), 1.0, snippet=(0, len(text)))
    view = hit_view(hit, limit=480)
    assert view["cut"] and len(_shown(view)) <= 2 * 480


def test_a_miss_among_the_chosen_tags_names_the_tags_that_answer(client):
    """QA22 F7: asked of the articles tagged "pricing", "Was ist Cross-Selling?" was told
    "No good answer in the knowledge base", which answers it, and offered "Pricing",
    its own filter in another case, as the library's other tags."""
    r = client.get("/", params={"q": KPI_QUESTION, "tag": "Sales Alignment"})
    box = re.search(r'<div class="no-answer" role="status">(.*?)</div>', r.text, re.S).group(1)
    assert "<h3>No good answer in the chosen articles</h3>" in box
    assert "The articles tagged cross-selling" in box
    assert "also tagged" not in box or "sales alignment" not in box.split("also tagged")[1]
    link = re.search(r'<a href="([^"]+)">Ask without the tag filter</a>', box)
    assert link and "tag=" not in link.group(1)
    again = client.get(link.group(1).replace("&amp;", "&"))
    assert '<div class="no-answer"' not in again.text
    api = client.get("/api/ask", params={"q": KPI_QUESTION, "tag": "sales alignment"}).json()
    assert api["message"].startswith("No good answer in the chosen articles (tagged sales "
                                     "alignment), but the articles tagged cross-selling")


def test_a_miss_among_the_chosen_tags_offers_other_tags_only(client):
    # QA22 F7: the hint offered the filter's own tag in another letter case.
    msg = client.get("/api/ask", params={"q": "Wie hoch ist der Eiffelturm in Paris?",
                                         "tag": "Strategy"}).json()["message"]
    assert "also tagged" in msg
    assert "strategy" not in msg.split("also tagged", 1)[1].split(".")[0].casefold()
