"""Concept cards that teach (QA19 F9, F12): each language's line is the sentence about
the concept, its link marks that sentence, the API and the CLI give the card, and the
cards ask what a concept is in good grammar, in each language."""

from __future__ import annotations

import html
import json
import re

import pytest

from kb import concepts, definitions
from kb.results import Hit

LANGS = ("ko", "en", "de", "vi")


def _concept(kb, concept_id):
    return next(c for c in kb.glossary.cards if c.id == concept_id)


def _hit(text: str, section: str, *, chunk_id: int = 1, sentence: str | None = None) -> Hit:
    """A passage whose snippet is ``sentence`` (default: all of it)."""
    a = text.index(sentence) if sentence else 0
    b = a + len(sentence) if sentence else len(text)
    return Hit(chunk_id=chunk_id, article_id=f"a{chunk_id}", title="T", lang="de",
               section=section, text=text, start=100, end=100 + len(text), score=1.0,
               snippet=(a, b))


# -- which passage a card shows ------------------------------------------------------------

def test_a_sentence_that_names_the_concept_beats_a_better_ranked_intro(fake_kb):
    """QA19 F9: the Marketing director card's German line was the article's intro, whose
    heading names the director and whose shown sentence does not."""
    director = _concept(fake_kb, "marketing-director")
    intro = _hit("Die Begriffe Upstream und Downstream beziehen sich auf zwei Aspekte.",
                 "Upstream- und Downstream-Aktivitäten für einen Marketingleiter")
    names = _hit("Vorher kann ein Marketingleiter Untersuchungen durchführen.",
                 "Stromaufwärts schwimmen", chunk_id=2)
    assert concepts.about(fake_kb, director, "de", [intro, names]) is names
    # With no sentence naming it, the passage under a heading that does is next best.
    assert concepts.about(fake_kb, director, "de", [intro]) is intro


def test_a_heading_that_names_the_concept_alone_beats_one_that_names_others_too(fake_kb):
    """QA19 F9: the Downstream card's German line was the intro on upstream and
    downstream, not the "Stromabwärts schweben" section."""
    downstream = _concept(fake_kb, "downstream-marketing")
    intro = _hit("Upstream zielt auf Strategie, während Downstream auf Taktik zielt.",
                 "Upstream- und Downstream-Aktivitäten für einen Marketingleiter")
    own = _hit("Alles, was dem Vertrieb hilft, ist eine nachgelagerte Aktivität.",
               "Stromabwärts schweben", chunk_id=2)
    assert concepts.about(fake_kb, downstream, "de", [intro, own]) is own


def test_a_list_item_labelled_with_something_else_is_not_about_the_concept(fake_kb):
    """QA19 F9: the Cross-selling card's Korean line was an item of the KPI list."""
    cross = _concept(fake_kb, "cross-selling")
    item = _hit("- 평균 주문 금액: 크로스셀링으로 인해 고객이 추가 구매한 금액을 봅니다.",
                "5.1. 주요 성과 지표 정의하기")
    prose = _hit("기존 고객을 대상으로 한 크로스셀링 전략은 큰 매출 효과를 가져옵니다.",
                 "1. 크로스셀링의 중요성", chunk_id=2)
    assert concepts.about(fake_kb, cross, "ko", [item, prose]) is prose


def test_a_passage_that_never_names_the_concept_is_never_its_source(fake_kb):
    """A gap stays a gap: a card lists no article that does not mention the concept."""
    upselling = _concept(fake_kb, "upselling")
    upstream = _hit("Upstream marketing focuses on the early stages.", "Upstream Marketing")
    assert concepts.about(fake_kb, upselling, "en", [upstream]) is None


def _rows(hit: Hit) -> list[tuple[int, int, None]]:
    """The passage's sentences as the store keeps them (offsets into the article)."""
    spans = [m.span() for m in re.finditer(r"[^.!?]+[.!?]", hit.text)]
    return [(hit.start + a + (len(hit.text[a:b]) - len(hit.text[a:b].lstrip())),
             hit.start + b, None) for a, b in spans]


def _line(hit: Hit) -> str:
    a, b = hit.snippet
    return hit.text[a:b]


def test_the_line_is_the_passage_sentence_that_says_what_the_concept_is(fake_kb):
    """QA21 F6: the German Downstream line was the passage's sentence holding most of
    the concept's words, "Alles, was der Marketingleiter tut, … ist eine nachgelagerte
    Aktivität", where the passage opens with what downstream activities are."""
    downstream = _concept(fake_kb, "downstream-marketing")
    text = ("Die nachgelagerten Aktivitäten konzentrieren sich auf den kurzfristigen Vertrieb. "
            "Alles, was der Marketingleiter tut, um dem Vertriebsteam zu helfen, ist eine "
            "nachgelagerte Aktivität. Daher sollten nachgelagerte Entscheidungen abgestimmt "
            "werden.")
    hit = _hit(text, "Stromabwärts schweben", sentence="Alles, was der Marketingleiter tut, "
               "um dem Vertriebsteam zu helfen, ist eine nachgelagerte Aktivität.")
    line = _line(concepts.best_sentence(downstream, "de", hit, _rows(hit)))
    assert line.startswith("Die nachgelagerten Aktivitäten konzentrieren sich")
    # Nothing in it names the concept: the search snippet stays.
    other = _hit("Der Vertrieb entscheidet. Das Team fragt.", "Vertrieb",
                 sentence="Das Team fragt.")
    assert concepts.best_sentence(downstream, "de", other, _rows(other)) is other


def test_a_simile_is_not_what_the_concept_is(fake_kb):
    """QA21 F6: the Upstream card's Korean line was a metaphor."""
    upstream = _concept(fake_kb, "upstream-marketing")
    hit = _hit("업스트림 마케팅은 마치 강물을 위에서 내려다보는 것과 같습니다. "
               "업스트림 마케팅은 탄탄한 기반을 다지는 것을 목표로 합니다.", "상류 마케팅",
               sentence="업스트림 마케팅은 마치 강물을 위에서 내려다보는 것과 같습니다.")
    line = _line(concepts.best_sentence(upstream, "ko", hit, _rows(hit)))
    assert line == "업스트림 마케팅은 탄탄한 기반을 다지는 것을 목표로 합니다."


def test_a_table_row_is_never_the_line_when_a_prose_sentence_names_the_concept(fake_kb):
    """QA21 F6: the Existing customers card's English line was a comparison table's row,
    though a list item in prose names current customers."""
    existing = _concept(fake_kb, "existing-customers")
    row = _hit("Target Audience | New markets and segments | Current customers |",
               "Comparing Upstream and Downstream Marketing")
    prose = _hit("- Customer Retention: Strengthens relationships with current customers.",
                 "Downstream Marketing Examples", chunk_id=2)
    assert concepts.about(fake_kb, existing, "en", [row, prose]) is prose
    assert concepts.sentence_rank(existing, _line(row), "en") == 5  # names it, says nothing
    # With nothing else naming it, the row is the line rather than a gap.
    assert concepts.about(fake_kb, existing, "en", [row]) is row


# -- the questions a card asks --------------------------------------------------------------

def test_each_language_asks_in_good_grammar_and_asks_for_the_definition(fake_kb):
    """QA19 F12: "What is loyalty program?" and "What is existing customers?", in English
    for every reader."""
    glossary = fake_kb.glossary
    for concept in glossary.cards:
        for lang in LANGS:
            q = concepts.question(concept, lang)
            if not concept.terms.get(lang):
                continue
            assert q, (concept.id, lang)
            asked = definitions.asked(q, glossary.match(q))
            assert asked is not None and asked.id == concept.id, q
            assert not re.match(r"What is [a-z]", q), q  # no article-less English
    loyalty = _concept(fake_kb, "loyalty-program")
    assert [concepts.question(loyalty, lang) for lang in LANGS] == [
        "충성도 프로그램이란?", "What does “loyalty program” mean?",
        "Was bedeutet „Treueprogramm“?", "Chương trình khách hàng thân thiết là gì?"]
    assert concepts.question(_concept(fake_kb, "kpi"), "ko") == "주요 성과 지표(KPI)란?"
    assert concepts.question(_concept(fake_kb, "bundling"), "ko") == "번들링이란?"


# -- the API, the page and the CLI ----------------------------------------------------------


def _check_card(card: dict, kb) -> None:
    """Every source line is a sentence of its article that names the concept (or sits
    under a heading that does), and its link marks exactly that sentence."""
    concept = _concept(kb, card["id"])
    assert [s["lang"] for s in card["sources"]] == list(LANGS)
    assert card["gaps"] == [s["lang"] for s in card["sources"] if s["gap"]]
    for s in card["sources"]:
        if s["gap"]:
            assert s["message"] and s["passage"] is None and s["href"] is None
            continue
        hit, sentence = s["passage"], s["sentence"]
        assert hit["text"][hit["snippet"]["start"]:hit["snippet"]["end"]] == sentence["text"]
        assert sentence["start"] == hit["start"] + hit["snippet"]["start"]
        assert (concepts._names(concept, sentence["text"], s["lang"], own=True)
                or concepts._names(concept, sentence["section"], s["lang"], own=True)
                or concepts._names(concept, hit["text"], s["lang"], own=True)), s
        a, b = sentence["start"] - hit["start"], sentence["end"] - hit["start"]
        assert f"p={hit['chunk_id']}&hp={a}-{b}#" in s["href"]


def test_the_api_gives_a_concept_card(client, fake_kb):
    from web import schemas

    r = client.get("/api/concepts/kpi/card")
    assert r.status_code == 200
    card = r.json()
    schemas.ConceptCardOut.model_validate(card)
    assert card["id"] == "kpi" and card["href"] == "/concepts#c-kpi"
    assert any(not s["gap"] for s in card["sources"])
    _check_card(card, fake_kb)
    assert {q["lang"]: q["text"] for q in card["questions"]}["en"] == "What does “KPI” mean?"
    assert client.get("/api/concepts/kpi/card").json() == card  # cached, as the page is
    missing = client.get("/api/concepts/no-such-concept/card")
    assert missing.status_code == 404 and missing.json()["ok"] is False


def test_the_page_shows_each_source_as_its_sentence_linked_with_it_marked(client, fake_kb):
    page = client.get("/concepts").text
    for concept in fake_kb.glossary.cards:
        card = client.get(f"/api/concepts/{concept.id}/card").json()
        _check_card(card, fake_kb)
        block = re.search(rf'<article class="concept" id="c-{re.escape(concept.id)}".*?</article>',
                          page, re.S).group(0)
        lines = re.findall(r'<li>(.*?)</li>', block, re.S)
        shown = [s for s in card["sources"] if not s["gap"]]
        assert len(lines) == len(shown)
        for line, s in zip(lines, shown, strict=True):
            assert f'href="{html.escape(s["href"])}"' in line
            # The words shown are the sentence's (a table row's cells joined by "·").
            said = re.findall(r"\w+", html.unescape(re.sub(r"<[^>]+>", "", line.split("</a>")[1])))
            assert said[:12] == re.findall(r"\w+", s["sentence"]["text"])[:12], (said, s)
        # The link opens the article with the sentence marked.
        for s in shown[:1]:
            article = client.get(s["href"])
            assert article.status_code == 200
            marks = re.findall(r"<mark[^>]*>(.*?)</mark>", article.text, re.S)
            words = re.findall(r"\w+", s["sentence"]["text"])[:6]
            marked = html.unescape(re.sub(r"<[^>]+>", "", " ".join(marks)))  # a row: by cells
            assert words == re.findall(r"\w+", marked)[:6]
        # Whole passages are never marked: the mark is the sentence (QA19: hp=0-1054).
        for s in shown:
            assert s["sentence"]["end"] - s["sentence"]["start"] < len(s["passage"]["text"]) or (
                len(s["passage"]["text"]) < 200)


def test_the_cli_shows_a_concept_card(run, fake_kb):
    res = run("concepts", "show", "kpi", "--json")
    assert res.exit_code == 0, res.output
    card = json.loads(res.stdout)
    _check_card(card, fake_kb)
    text = run("concepts", "show", "kpi").stdout
    assert text.startswith("KPIs (key performance indicators)  (kpi)")
    for s in card["sources"]:
        assert (s["message"] if s["gap"] else s["href"]) in text
    assert "What does “KPI” mean?" in text
    missing = run("concepts", "show", "no-such-concept")
    assert missing.exit_code == 1 and "no concept 'no-such-concept'" in missing.stderr


# -- the seed corpus, with the real model ----------------------------------------------------

# The coverage gaps of the seed corpus before QA19: choosing a better passage changes none.
SEED_GAPS = {
    "upstream-marketing": [], "downstream-marketing": [], "cross-selling": ["en", "de", "vi"],
    "upselling": ["en", "de", "vi"], "bundling": ["en", "de", "vi"],
    "loyalty-program": ["en", "de", "vi"], "marketing-director": ["ko", "en"],
    "kpi": ["de", "vi"], "conversion-rate": ["de", "vi"],
    # Sales enablement: only the English list item names it. "Sales team" counted de, ko
    # and vi as covered while it was one of its terms (QA22 F10).
    "sales-enablement": ["ko", "de", "vi"],
    "buyer-persona": ["de", "vi"], "market-research": [], "competitive-analysis": ["de", "vi"],
    # Recommendation system, en: its line was "This could involve sending out newsletters,
    # …, or personalized product recommendations.", which points back and names no whole
    # term (QA25 F3).
    "recommendation-system": ["en", "de", "vi"], "customer-segmentation": ["de", "vi"],
    # Brand messaging, ko: "가치 제안" (value proposition) was one of its terms, and its
    # Korean line an upselling tactic (QA22 F10).
    "brand-messaging": ["ko", "vi"], "customer-retention": ["de", "vi"], "existing-customers": [],
    # Email marketing, ko: its line was a G마켓 sentence on "마케팅 이메일", the words apart;
    # the one Korean sentence with the term, "여기에는 … 이메일 마케팅 … 포함됩니다", points
    # back (QA25 F3).
    "email-marketing": ["ko", "de", "vi"], "thought-leadership": ["en", "de", "vi"],
    # Stop 41's onboarding basics: the seeds name CLV once (a metric in an English list)
    # and 고객 획득 비용 once; the other four not at all.
    "marketing-funnel": ["ko", "en", "de", "vi"], "brand-positioning": ["ko", "en", "de", "vi"],
    "customer-lifetime-value": ["ko", "de", "vi"],
    "customer-acquisition-cost": ["en", "de", "vi"],
    "net-promoter-score": ["ko", "en", "de", "vi"], "retargeting": ["ko", "en", "de", "vi"],
}


@pytest.mark.model
def test_seed_cards_show_the_sentence_about_the_concept(real_kb):
    from web.views import card_json

    cards = {c.concept.id: card_json(c) for c in concepts.concept_cards(real_kb)}
    assert {i: c["gaps"] for i, c in cards.items()} == SEED_GAPS
    for card in cards.values():
        _check_card(card, real_kb)

    def line(concept_id, lang):
        return next(s for s in cards[concept_id]["sources"] if s["lang"] == lang)["sentence"]

    # KPIs, en: the "Performance Metrics" item, not "What is Downstream Marketing? …".
    assert line("kpi", "en")["text"].startswith("- Performance Metrics:")
    # Marketing director, de and vi: a sentence with the director in it, not the intro.
    assert "Marketingleiter" in line("marketing-director", "de")["text"]
    assert "giám đốc tiếp thị" in line("marketing-director", "vi")["text"].casefold()
    # Downstream marketing, de and vi: the downstream sections, not the intro.
    assert line("downstream-marketing", "de")["section"] == "Stromabwärts schweben"
    assert line("downstream-marketing", "vi")["section"] == "Hạ lưu"
    assert line("sales-enablement", "en")["text"].startswith("- Sales Enablement:")
    # Cross-selling, ko: a sentence about cross-selling, not an item of the KPI list.
    cross = line("cross-selling", "ko")
    assert "크로스셀링" in cross["text"] and not cross["section"].startswith("5.1")
    assert not cross["text"].startswith("-")


@pytest.mark.model
def test_the_cards_questions_are_answered_as_what_is_questions(real_kb):
    """The grammatical forms are read as asking for a definition, and answered: all but
    one of the seeds' 80 with stop 33's 7-bit int8 encoder ("Lãnh đạo tư tưởng là gì?",
    evidence 1.02 against 1.1), all 80 with the 8-bit one. A concept no seed article
    names (stop 41's funnel, positioning, NPS, retargeting) is "No good answer" in every
    language."""
    unanswered, uncovered, asked = [], [], 0
    for concept in real_kb.glossary.cards:
        for lang in LANGS:
            q = concepts.question(concept, lang)
            if q is None:
                continue
            asked += 1
            found = real_kb.ask(q).found
            if len(SEED_GAPS[concept.id]) == len(LANGS):
                uncovered += [q] if found else []
            elif not found:
                unanswered.append(q)
    assert asked >= 100 and len(unanswered) <= 1, unanswered
    assert not uncovered, uncovered


@pytest.mark.model
def test_seed_concepts_page_lines_name_the_concept(real_kb):
    """The page itself, as QA19 read it: the KPI card's English line is about
    performance metrics, the director card's German line names the Marketingleiter, and
    a line's link marks a sentence, not the whole passage (hp=0-1054)."""
    from fastapi.testclient import TestClient

    from kb.settings import Settings
    from web.app import create_app

    app = create_app(Settings(index_dir=real_kb.index_dir), kb=real_kb)
    with TestClient(app) as c:
        page = c.get("/concepts").text

    def line(concept_id, lang):
        block = re.search(rf'<article class="concept" id="c-{concept_id}".*?</article>',
                          page, re.S).group(0)
        li = re.search(rf'<li><span class="badge lang-{lang}".*?</li>', block, re.S).group(0)
        href = html.unescape(re.search(r'href="([^"]+)"', li).group(1))
        text = html.unescape(re.sub(r"<[^>]+>", "", li.split("</a>")[1]))
        return " ".join(text.split()), href

    kpi, kpi_href = line("kpi", "en")
    assert kpi.startswith("Performance Metrics:"), kpi
    director, director_href = line("marketing-director", "de")
    assert "Marketingleiter" in director, director
    cross, _ = line("cross-selling", "ko")
    assert "크로스셀링" in cross and "평균 주문 금액" not in cross, cross
    for href in (kpi_href, director_href):
        assert not re.search(r"hp=0-", href), href


@pytest.mark.model
def test_seed_card_lines_say_what_the_concept_is(real_kb):
    """QA21 F6: the Downstream card's German and Vietnamese lines are the seed eval's
    gold (d05), twins of each other; the Upstream card's Korean line is no simile; no
    card's line is a table row."""
    from kb import twins

    cards = {c.concept.id: c for c in concepts.concept_cards(real_kb)}

    def line(concept_id, lang):
        s = next(s for s in cards[concept_id].sources if s.lang == lang)
        a, b = s.sentence
        return s, s.hit.text[a - s.hit.start : b - s.hit.start]

    de, de_text = line("downstream-marketing", "de")
    vi, vi_text = line("downstream-marketing", "vi")
    assert de_text.startswith("Die nachgelagerten Aktivitäten konzentrieren sich auf den "
                              "kurzfristigen Vertrieb"), de_text
    assert vi_text.startswith("Các hoạt động hạ nguồn tập trung vào bán hàng ngắn hạn"), vi_text
    # The line marks the concept's words, all its terms, not only the name searched for.
    marked = [de.hit.text[a:b] for a, b in de.hit.marks]
    assert "nachgelagerten" in marked, marked
    assert (vi.hit.chunk_id, *vi.sentence) in twins.sentence_twins(
        real_kb, de.hit.chunk_id, [de.sentence], [vi.hit.chunk_id])
    _, ko_text = line("upstream-marketing", "ko")
    assert "마치" not in ko_text and ko_text.startswith("업스트림 마케팅은"), ko_text
    rows = [(c, s.lang) for c, card in cards.items() for s in card.sources
            if s.sentence and s.hit.text[s.sentence[0] - s.hit.start
                                         : s.sentence[1] - s.hit.start].count("|") >= 2]
    assert rows == []


@pytest.mark.model
def test_a_cards_definition_is_also_its_languages_line(real_kb_dir, real_encoder, tmp_path):
    """QA22 F10: with articles on pricing and email added, the Downstream card's
    definition was "Downstream marketing focuses on promoting existing products …" and
    its English line "Downstream marketing is more tactical …": two definitions."""
    import shutil
    from pathlib import Path

    from kb.articles import read_article
    from kb.core import KnowledgeBase
    from kb.settings import Settings

    index = tmp_path / "index"
    shutil.copytree(real_kb_dir, index)
    data = Path(__file__).parent / "data"
    with KnowledgeBase.open(index, settings=Settings(index_dir=index),
                            encoder=real_encoder) as kb:
        kb.ingest([read_article(data / "qa22-pricing" / name) for name in (
            "de-preisgestaltung.txt", "en-pricing-shops.md", "en-pricing-table.md")]
            + [read_article(data / "qa22-email" / "vi-email.txt")])
        cards = concepts.concept_cards(kb)
        assert any(c.definition is not None for c in cards)
        # And the definition stays the one the seeds alone give: of two sentences on
        # downstream marketing as its subject, the first in reading order, not whichever
        # the added articles' word counts put ahead.
        downstream = next(c for c in cards if c.concept.id == "downstream-marketing")
        assert downstream.definition is not None
        assert downstream.definition.sentence.startswith("Downstream marketing is more tactical")
        for card in cards:
            d = card.definition
            if d is None:
                continue
            [line] = [s for s in card.sources if s.lang == d.hit.lang]
            assert line.hit is not None and line.hit.chunk_id == d.hit.chunk_id, card.name
            assert line.sentence == (d.sentence_start, d.sentence_end), card.name
