"""The Ask page's results list: the search ranking as /api/search gives it, ten
passages a page, with paging links that keep the filters (audit F7: the page showed
the answer's cards and at most five more passages, in the answer's order, with no
count and no paging)."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from kb.articles import parse_article

from .browser import EVIL

QUESTION = "What is upselling?"


def _results(page: str) -> str:
    """The results section of an Ask page."""
    return page.split('<section class="results" id="results"', 1)[1].split("</section>")[0]


def _listed(page: str) -> list[tuple[int, int]]:
    """(rank, chunk id) of each listed passage."""
    return [(int(rank), int(chunk)) for rank, chunk in re.findall(
        r'<span class="rank"[^>]*>(\d+)</span> <a class="hit-title" href="/articles/[^"#]+#c(\d+)"',
        _results(page))]


def _link(page: str, rel: str) -> str | None:
    m = re.search(rf'rel="{rel}" href="([^"]+)"', _results(page))
    return html.unescape(m.group(1)) if m else None


def test_the_list_is_the_search_ranking_ten_a_page(client):
    first = client.get("/", params={"q": QUESTION})
    assert first.status_code == 200
    api = client.get("/api/search", params={"q": QUESTION, "k": 10}).json()
    assert _listed(first.text) == [(i, h["chunk_id"]) for i, h in enumerate(api["hits"], 1)]
    assert "Passages 1–10 of the search ranking, best first; more follow." in first.text
    # Each passage as the API labels and shows it: its snippet's section, its marks, a
    # link that opens the article at the passage with the snippet sentence marked.
    items = _results(first.text).split('<li class="hit')[1:]
    for hit, item in zip(api["hits"], items, strict=True):
        if hit["snippet_section"]:  # else the sections the passage runs through
            assert f"§ {html.escape(hit['snippet_section'], quote=False)}</p>" in item
        marked = {hit["text"][m["start"]:m["end"]] for m in hit["marks"]}
        assert {html.unescape(m) for m in re.findall(r"<mark>([^<]*)</mark>", item)} <= marked
        start = hit["snippet"]["start"]
        assert f"?p={hit['chunk_id']}&amp;hp={start}-" in item
        assert f'<span class="badge lang-{hit["lang"]}"' in item
    # The next page: passages 11-20, as the API's offset=10 gives them.
    nxt = _link(first.text, "next")
    assert nxt is not None and nxt.endswith("#results")
    second = client.get(nxt.split("#")[0])
    api = client.get("/api/search", params={"q": QUESTION, "k": 10, "offset": 10}).json()
    assert _listed(second.text) == [(i, h["chunk_id"]) for i, h in enumerate(api["hits"], 11)]
    assert "Passages 11–20 of the search ranking, best first; more follow." in second.text
    assert '<ol class="hits" start="11">' in second.text
    assert "<title>What is upselling? · passages 11–20 · " in second.text
    assert not set(_listed(first.text)) & set(_listed(second.text))
    prev = _link(second.text, "prev")
    assert prev is not None and "offset" not in prev  # back to the first page


def test_the_answer_heads_the_first_page_only_and_its_citations_are_marked(client):
    first = client.get("/", params={"q": QUESTION}).text
    cards = re.findall(r'<li class="card" id="cite-(\d+)">.*?href="/articles/[^"#]+#c(\d+)"',
                       first, re.S)
    assert cards and 'id="answer"' in first
    listed = dict((chunk, rank) for rank, chunk in _listed(first))
    cited_listed = [(n, int(chunk)) for n, chunk in cards if int(chunk) in listed]
    assert cited_listed  # the best passage is quoted, and stays in its place in the ranking
    items = _results(first).split('<li class="hit')[1:]
    for n, chunk in cited_listed:
        item = items[listed[chunk] - 1]
        assert f'<a class="hit-cited" href="#cite-{n}">cited [{n}]</a>' in item
    assert first.count('class="hit-cited"') == len(cited_listed)
    assert '<details class="others">' not in first  # the list replaces "More passages"
    second = client.get("/", params={"q": QUESTION, "offset": 10}).text
    assert 'id="answer"' not in second and 'class="card"' not in second
    assert 'href="/?q=What+is+upselling%3F"><span aria-hidden="true">←</span> The answer' in (
        second)


def test_the_paging_links_keep_the_languages_the_tag_and_exact(client, fake_kb):
    params = [("q", "marketing"), ("lang", "en"), ("lang", "ko"), ("tag", "Strategy"),
              ("exact", "true")]
    first = client.get("/", params=params)
    assert first.status_code == 200
    nxt = _link(first.text, "next")
    assert nxt is not None
    query = parse_qs(urlsplit(nxt).query)
    assert query == {"q": ["marketing"], "lang": ["en", "ko"], "tag": ["Strategy"],
                     "exact": ["1"], "offset": ["10"]}
    second = client.get(nxt.split("#")[0])
    assert second.status_code == 200
    tagged = {a["id"] for a in fake_kb.articles(tag="strategy")}
    ranks = _listed(second.text)
    assert [r for r, _ in ranks] == list(range(11, 11 + len(ranks))) and ranks
    chunks = fake_kb.store.chunks([c for _, c in ranks])
    assert {chunks[c].article_id for _, c in ranks} <= tagged
    assert {chunks[c].lang for _, c in ranks} <= {"en", "ko"}
    prev = parse_qs(urlsplit(_link(second.text, "prev")).query)
    assert prev == {"q": ["marketing"], "lang": ["en", "ko"], "tag": ["Strategy"],
                    "exact": ["1"]}
    # The last page: no Next link, and the total, now that the ranking has ended.
    total = len(fake_kb.search("marketing", k=100, langs=["en", "ko"], tags=["strategy"],
                               translations="fold", exact=True).hits)
    assert 11 < total < 20 and len(ranks) == total - 10
    assert _link(second.text, "next") is None
    assert f"Passages 11–{total} of {total}: the last ones search found." in second.text


@pytest.mark.parametrize(("offset", "said"), [
    ("50", "There is no passage 51: search found fewer passages for this question."),
    ("100", "There is no passage 101: search ranks its best 100 passages only."),
    ("99999999999999999999", "search ranks its best 100 passages only."),
])
def test_a_page_past_the_end_says_so(client, offset, said):
    r = client.get("/", params={"q": QUESTION, "offset": offset})
    assert r.status_code == 404  # the page, with the question kept, not an error page
    assert said in r.text
    assert 'value="What is upselling?"' in r.text
    assert '<a href="/?q=What+is+upselling%3F#results">See passages 1–10</a>' in r.text
    assert 'class="hit"' not in r.text


def test_a_filtered_page_past_the_end_names_the_filters(client):
    r = client.get("/", params={"q": QUESTION, "lang": "de", "offset": 30})
    assert r.status_code == 404
    assert "search found fewer passages for this question with these filters." in r.text


@pytest.mark.parametrize("offset", ["abc", "-10", "１０", ""])
def test_an_offset_that_is_no_number_is_the_first_page(client, offset):
    r = client.get("/", params={"q": QUESTION, "offset": offset})
    assert r.status_code == 200 and 'id="answer"' in r.text
    assert _listed(r.text)[0][0] == 1


def test_markup_in_a_listed_passage_is_shown_as_text(client, fake_kb):
    assert fake_kb.ingest([parse_article(EVIL, name="evil-zebra.txt", lang="en")]).added
    r = client.get("/", params={"q": "zebra campaign budget", "lang": "en"})
    listed = _results(r.text)
    assert "Zebra &lt;script&gt;alert(1)&lt;/script&gt; campaign<span" in listed  # the title
    snippet = listed.split('class="snippet"', 1)[1].split("</p>")[0]
    assert "&lt;img src=x onerror=alert(1)&gt;" in snippet  # the article's text
    assert "<script>alert" not in r.text and "<img src=x" not in r.text


def test_the_summary_never_claims_a_total_it_has_not_seen():
    from web.ranking import _summary

    assert _summary(0, 10, True) == "Passages 1–10 of the search ranking, best first; more follow."
    assert _summary(0, 7, False) == "All 7 passages search found, best first."
    assert _summary(0, 1, False) == "The one passage search found."
    assert _summary(30, 31, False) == "Passage 31 of 31: the last one search found."
    assert _summary(90, 100, True).startswith(
        "Passages 91–100 of the search ranking. Search ranks its best 100 passages only")
    assert _summary(90, 100, False) == "Passages 91–100 of 100: the last ones search found."


def test_the_last_page_of_a_hundred_has_no_next_link(client, monkeypatch):
    """Search ranks 100 passages at most: passages 91-100 are the last page even when
    more would follow, and it says why."""
    from kb.core import KnowledgeBase

    search = KnowledgeBase.search
    seen = []

    def more_always(self, *args, **kwargs):
        seen.append((kwargs.get("offset"), kwargs.get("k")))
        out = search(self, *args, **{**kwargs, "offset": 0})
        from dataclasses import replace

        return replace(out, offset=kwargs.get("offset", 0), more=True)

    monkeypatch.setattr(KnowledgeBase, "search", more_always)
    r = client.get("/", params={"q": QUESTION, "offset": 95})
    assert r.status_code == 200 and (95, 5) in seen  # offset + k stays within 100
    assert "Passages 96–100 of the search ranking. Search ranks its best 100" in r.text
    assert _link(r.text, "next") is None
    assert parse_qs(urlsplit(_link(r.text, "prev")).query)["offset"] == ["85"]
