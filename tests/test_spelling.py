"""Misspelled query words searched as the close word the knowledge base uses (kb.spelling),
shown by the API, the CLI and the Ask page, and turned off by ``exact``."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from kb.articles import parse_article
from kb.settings import Settings
from web.app import create_app
from web.views import EXAMPLES

from .browser import EVIL

LOYALTY = "충성도 프로그램"  # the Korean seed article's section on loyalty programs


@pytest.fixture
def client(fake_kb):
    app = create_app(Settings(index_dir=fake_kb.index_dir, model="fake"), kb=fake_kb)
    with TestClient(app) as c:
        yield c


def lexical(hit) -> bool:
    return any(k.startswith("bm25") for k in hit.signals)


def test_a_misspelled_glossary_term_is_searched_as_the_term(fake_kb):
    """The reviewer's case: "Treuprogramm" matched no glossary concept and no BM25 term,
    so the lexical half of the ranking was empty and nothing was found."""
    res = fake_kb.search("Treuprogramm", k=5, explain=True)
    assert res.corrected == "Treueprogramm" and res.searched == "Treueprogramm"
    assert res.query == "Treuprogramm" and res.restored is None
    assert res.lang == "de"  # read again once corrected: the glossary's German term
    assert lexical(res.hits[0]) and LOYALTY in res.hits[0].text


def test_a_typo_in_a_question_finds_the_passage_the_right_spelling_finds(fake_kb):
    typed = fake_kb.search("Was ist ein Treuprogramm?", k=3, explain=True)
    right = fake_kb.search("Was ist ein Treueprogramm?", k=3, explain=True)
    assert typed.corrected == "Was ist ein Treueprogramm?"
    assert [h.chunk_id for h in typed.hits] == [h.chunk_id for h in right.hits]
    assert typed.found == right.found is True


@pytest.mark.parametrize(("typed", "meant"), [
    ("upstraem marketing", "upstream marketing"),  # two letters swapped
    ("cross-sellnig KPIs", "cross-selling KPIs"),
    ("Kundenbindungsprogram", "Kundenbindungsprogramm"),  # a letter dropped
    ("Bündelng", "Bündelung"),  # one edit in the word, two in its stem
    ("Welche Aktivitäten hat der Marketingleitr?", "Welche Aktivitäten hat der Marketingleiter?"),
    ("Werbekampange", "Werbekampagne"),  # a word of the German article, no glossary term
    ("chương trìnk khách hàng", "chương trình khách hàng"),  # Vietnamese
])
def test_typos_in_each_latin_language_are_corrected(fake_kb, typed, meant):
    assert fake_kb.correct_spelling(typed) == meant


def test_exact_searches_as_typed(fake_kb):
    res = fake_kb.search("Treuprogramm", k=5, explain=True, exact=True)
    assert res.corrected is None and res.searched == "Treuprogramm"
    assert not any(lexical(h) for h in res.hits) and res.found is False
    ans = fake_kb.ask("Treuprogramm", exact=True)
    assert ans.corrected is None
    # exact leaves Vietnamese without diacritics as typed too
    assert fake_kb.search("tiep thi ha nguon la gi", exact=True).restored is None
    assert fake_kb.search("tiep thi ha nguon la gi").restored == "tiếp thị hạ nguồn là gì"


def test_questions_spelled_right_are_never_changed(fake_kb, seed_questions):
    questions = [q["q"] for q in seed_questions] + [e["text"] for e in EXAMPLES] + [
        "Was ist ein Treueprogramm?", "What is upselling?", "Upselling là gì?",
        "Welche KPIs für Cross-Selling?", "업스트림과 다운스트림 마케팅의 차이는?",
    ]
    changed = {q: fake_kb.correct_spelling(q) for q in questions}
    assert {q: c for q, c in changed.items() if c is not None} == {}


@pytest.mark.parametrize("query", [
    # English and German words no article uses, one edit from one that does ("sample",
    # "fragen"): wordfreq counts them, a few articles are no dictionary
    "simple pricing",
    "Frauen im Vertrieb",
    "Gmarket",  # a name the glossary knows
    "Q4-2025 KPI 12345",  # numbers and codes
    "SEOXX campaign",  # all capitals: an acronym
    "Treu",  # too short to tell a typo
    "Marketingleiterin",  # a glossary term no article uses
    "Narketingleiter",  # a typo in the first letter is too likely another word
    # an inflected glossary term, matched as the term is: not "Treueprogramm", "upsell"
    "Treueprogramme belohnen Stammkunden",
    "bundles and upsells",
    # Vietnamese without diacritics: kb.accents restores whole queries, not one
    # syllable of them ("nguon" alone was given its marks)
    "tiep thi ha nguon la gi",
    "giam ty le khach hang roi bo",
])
def test_words_that_are_no_typos_are_left_alone(fake_kb, query):
    assert fake_kb.correct_spelling(query) is None


def test_two_edits_never_just_add_or_drop_an_ending_or_a_prefix():
    from kb import spelling

    assert spelling.plausible("treuprogram", "treueprogramm", 2)
    assert not spelling.plausible("unentwickelt", "entwickelt", 2)  # another word
    assert not spelling.plausible("geothermaler", "geothermal", 2)
    assert not spelling.plausible("landedaten", "kandidaten", 2)  # first letter
    assert not spelling.plausible("upstraem", "upstream", 2)  # 8 letters: one edit
    assert [spelling.max_edits(w) for w in ("Treu", "Treue", "Marketing", "Treuprogram")] == [
        0, 1, 1, 2]


def test_the_api_says_what_it_searched_for(client):
    body = client.get("/api/search", params={"q": "Treuprogramm"}).json()
    assert body["query"] == "Treuprogramm" and body["corrected"] == "Treueprogramm"
    assert body["restored"] is None and LOYALTY in body["hits"][0]["text"]
    body = client.get("/api/search", params={"q": "Treuprogramm", "exact": "true"}).json()
    assert body["corrected"] is None
    ask = client.get("/api/ask", params={"q": "Was ist ein Treuprogramm?"}).json()
    assert ask["corrected"] == "Was ist ein Treueprogramm?" and ask["found"] is True
    ask = client.get("/api/ask", params={"q": "Was ist ein Treuprogramm?", "exact": "1"}).json()
    assert ask["corrected"] is None
    assert client.get("/api/search", params={"q": "What is upselling?"}).json()[
        "corrected"] is None
    spec = client.get("/openapi.json").json()["components"]["schemas"]
    assert "corrected" in spec["SearchOut"]["properties"]
    assert "corrected" in spec["AskOut"]["properties"]


def test_the_ask_page_says_what_it_searched_for_and_links_to_the_typed_words(client):
    page = client.get("/", params={"q": "Was ist ein Treuprogramm?"}).text
    assert ('Searched for <q lang="de">Was ist ein <strong>Treueprogramm</strong>?</q>'
            in page)
    assert 'href="/?q=Was+ist+ein+Treuprogramm%3F&amp;exact=1"' in page
    exact = client.get("/", params={"q": "Was ist ein Treuprogramm?", "exact": "1"}).text
    assert "Searched for" not in exact and "<strong>Treueprogramm" not in exact
    assert "Searched for" not in client.get("/", params={"q": "What is upselling?"}).text
    # the language filter is kept by the link
    page = client.get("/", params={"q": "Treuprogramm", "lang": "ko"}).text
    assert 'href="/?q=Treuprogramm&amp;lang=ko&amp;exact=1"' in page


def test_a_corrected_question_and_the_articles_stay_escaped_on_the_page(fake_kb):
    """The query as typed and as searched, and the passages it finds, are text."""
    fake_kb.ingest([parse_article(EVIL, name="evil-zebra.txt", lang="en")])
    app = create_app(Settings(index_dir=fake_kb.index_dir, model="fake"), kb=fake_kb)
    with TestClient(app) as c:
        page = c.get("/", params={"q": 'zebra "campaign" & zebra campaing'}).text
    assert "Searched for" in page and "<strong>campaign</strong>" in page
    assert "&#34;campaign&#34; &amp; zebra" in page  # the typed text, escaped
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_cli_prints_what_it_searched_for_and_exact_turns_it_off(run):
    out = run("search", "Treuprogramm", "-k", "2").stdout
    assert "searched for: Treueprogramm  (spelling corrected; --exact searches as typed)" in out
    assert "searched for" not in run("search", "Treuprogramm", "-k", "2", "--exact").stdout
    body = json.loads(run("search", "Treuprogramm", "-k", "2", "--json").stdout)
    assert body["corrected"] == "Treueprogramm"
    out = run("ask", "Was ist ein Treuprogramm?").stdout
    assert "searched for: Was ist ein Treueprogramm?" in out
    body = json.loads(run("ask", "Was ist ein Treuprogramm?", "--exact", "--json").stdout)
    assert body["corrected"] is None


@pytest.mark.model
@pytest.mark.parametrize("typed", ["Treuprogramm", "Was ist ein Treuprogramm?"])
def test_with_the_model_a_typo_finds_what_the_right_spelling_finds(real_kb, typed):
    """The reviewer's case end to end: as typed, nothing clearly matched."""
    meant = typed.replace("Treu", "Treue")
    res, right = real_kb.search(typed, k=3, explain=True), real_kb.search(meant, k=3, explain=True)
    assert res.corrected == meant and res.found is True
    assert res.hits[0].chunk_id == right.hits[0].chunk_id and LOYALTY in res.hits[0].text
    assert real_kb.search(typed, k=3, explain=True, exact=True).found is False
    assert real_kb.ask(typed).found is True
