"""A tag no article has, asked of the library: the API and the CLI name it (a 400, as
search does), the Library page says so and stays a page (audit F7: /api/articles
answered 200 and [], where /api/search named the unknown tag)."""

from __future__ import annotations


def test_the_articles_api_refuses_a_tag_no_article_has(client):
    r = client.get("/api/articles", params={"tag": "pricing"})
    assert r.status_code == 400
    body = r.json()
    assert body["ok"] is False and body["status"] == 400
    assert body["error"].startswith("no article is tagged 'pricing'; the tags are: ")
    assert "strategy" in body["error"]
    # As /api/search says it, word for word.
    search = client.get("/api/search", params={"q": "upselling", "tag": "pricing"}).json()
    assert search["error"] == body["error"]
    # A known tag is matched whatever its case, as before.
    for tag in ("Strategy", "STRATEGY", " strategy "):
        r = client.get("/api/articles", params={"tag": tag})
        assert r.status_code == 200, r.text
        assert {a["id"] for a in r.json()["articles"]} == {
            "en-upstream-vs-downstream-marketing", "ko-upstream-downstream-marketing"}
    # A known tag with no article in the chosen language is an empty list, not an error.
    r = client.get("/api/articles", params={"tag": "kpi", "lang": "vi"})
    assert r.status_code == 200 and r.json() == {"count": 0, "articles": []}
    assert client.get("/api/articles", params={"tag": ""}).json()["count"] == 5


def test_the_library_page_says_no_article_has_the_tag(client):
    r = client.get("/library", params={"tag": "Pricing"})
    assert r.status_code == 200 and "<h1>Library</h1>" in r.text  # the page, not an error
    assert "No article has the tag “Pricing”" in r.text
    assert '<option value="Pricing" selected>' in r.text  # Apply keeps the filter
    assert 'href="/library">show all articles</a>' in r.text
    assert "<tbody>" not in r.text


def test_the_library_page_escapes_the_unknown_tag(client):
    r = client.get("/library", params={"tag": "<b>x</b>"})
    assert r.status_code == 200
    assert "<b>x</b>" not in r.text
    assert "No article has the tag “&lt;b&gt;x&lt;/b&gt;”" in r.text
