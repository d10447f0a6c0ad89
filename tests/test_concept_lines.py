"""QA25 F3: a card's line in each language is a sentence about the concept (it names a
whole term of it there, and does not lean on a sentence the card leaves out), its
definition says what the concept is, and a language with such a sentence is no gap."""

from __future__ import annotations

import pytest

from kb import concepts, definitions
from kb.results import Hit


def _concept(kb, concept_id):
    return next(c for c in kb.glossary.cards if c.id == concept_id)


def _hit(text: str, section: str, *, lang: str, sentence: str, chunk_id: int = 1) -> Hit:
    a = text.index(sentence)
    return Hit(chunk_id=chunk_id, article_id=f"a{chunk_id}", title="T", lang=lang,
               section=section, text=text, start=100, end=100 + len(text), score=1.0,
               snippet=(a, a + len(sentence)))


# -- a line names a whole term ---------------------------------------------------------------

@pytest.mark.parametrize(("concept_id", "lang", "sentence"), [
    # "Wettbewerb" (competition) is no Wettbewerber, nor the Wettbewerbsanalyse.
    ("competitive-analysis", "de", "Long-Tail-Keywords haben weniger Suchvolumen, aber "
                                   "meist eine klarere Absicht und weniger Wettbewerb."),
    # Marketing e-mails, the words apart, are no 이메일 마케팅.
    ("email-marketing", "ko", "지마켓은 고객의 구매 이력에 기반하여 개인화된 마케팅 이메일을 "
                              "발송합니다."),
])
def test_a_sentence_with_the_terms_words_but_not_the_term_does_not_name_it(
        fake_kb, concept_id, lang, sentence):
    assert concepts.sentence_rank(_concept(fake_kb, concept_id), sentence, lang) is None


def test_a_whole_term_names_it_inflected_or_as_a_german_compounds_head(fake_kb):
    competitive = _concept(fake_kb, "competitive-analysis")
    assert concepts.says(competitive, "Die Preise der Wettbewerber steigen.", "de")
    segmentation = _concept(fake_kb, "customer-segmentation")
    assert concepts.says(segmentation, "Die Marktsegmentierung teilt den Markt auf.", "de")
    retention = _concept(fake_kb, "customer-retention")  # a modifier names something else
    assert not concepts.says(retention, "Das Kundenbindungsprogramm belohnt Käufe.", "de")
    cross = _concept(fake_kb, "cross-selling")
    assert concepts.says(cross, "크로스셀링의 중요성", "ko")  # a particle follows it


def test_a_sentence_that_points_back_is_not_shown_alone(fake_kb):
    """The Thought leadership card's Korean line was "이는 사고 리더십의 중요성을
    보여주며, …": what "이는" (this) is, the card did not say."""
    thought = _concept(fake_kb, "thought-leadership")
    back = "이는 사고 리더십의 중요성을 보여주며, 더 많은 기업이 이 전략을 채택해야 합니다."
    assert concepts.sentence_rank(thought, back, "ko") is None
    alone = "사고 리더십을 적용하는 기업이 늘고 있습니다."
    assert concepts.sentence_rank(thought, alone, "ko") == 3


def test_a_passage_naming_the_concept_only_outside_its_sentence_is_no_line(fake_kb):
    """The Buyer persona card's German line was "Zwei 40-jährige Männer … einkaufen.",
    which names no term of it, for its passage said "Zielgruppe" elsewhere."""
    persona = _concept(fake_kb, "buyer-persona")
    text = ("Zwei 40-jährige Männer mit gleichem Einkommen können völlig unterschiedlich "
            "einkaufen. Jede Zielgruppe braucht eine eigene Ansprache.")
    hit = _hit(text, "Die klassischen Kriterien", lang="de",
               sentence="Zwei 40-jährige Männer mit gleichem Einkommen können völlig "
                        "unterschiedlich einkaufen.")
    assert concepts.about(fake_kb, persona, "de", [hit]) is None


def test_a_heading_stands_for_its_sentences_only_when_it_names_the_concept_by_name(fake_kb):
    """The German e-mail article names E-Mail-Marketing in its title only: its first
    sentence is about it. A title with a looser term ("Zielgruppen", for the Buyer
    persona) made "Kein Produkt passt zu allen Kunden." that card's German line."""
    email = _concept(fake_kb, "email-marketing")
    opening = "E-Mail ist trotz sozialer Netzwerke einer der rentabelsten Kanäle im Marketing."
    hit = _hit(opening, "E-Mail-Marketing: Newsletter, die gelesen werden", lang="de",
               sentence=opening)
    assert concepts.about(fake_kb, email, "de", [hit]) is hit
    persona = _concept(fake_kb, "buyer-persona")
    opening = "Kein Produkt passt zu allen Kunden."
    hit = _hit(opening, "Marktsegmentierung: Zielgruppen sinnvoll einteilen", lang="de",
               sentence=opening)
    assert concepts.about(fake_kb, persona, "de", [hit]) is None


def test_a_sentence_about_the_concept_alone_beats_one_about_it_with_another(fake_kb):
    """The Cross-selling card's Korean line was "충성도 프로그램과 크로스셀링 전략의
    통합은 …", on combining it with loyalty programmes, under a heading naming
    cross-selling alone."""
    cross = _concept(fake_kb, "cross-selling")
    combined = "충성도 프로그램과 크로스셀링 전략의 통합은 고객의 구매 여정을 풍부하게 합니다."
    both = _hit(combined, "4.2. 크로스셀링과의 통합 전략", lang="ko", sentence=combined)
    alone = _hit("성공적인 크로스셀링 전략은 철저한 고객 분석에서 시작됩니다.",
                 "2. 고객 분석: 타겟 맞춤형 전략 수립하기", lang="ko", chunk_id=2,
                 sentence="성공적인 크로스셀링 전략은 철저한 고객 분석에서 시작됩니다.")
    assert concepts.about(fake_kb, cross, "ko", [both, alone]) is alone


# -- what counts as a definition -------------------------------------------------------------

@pytest.mark.parametrize(("concept_id", "lang", "sentence", "expected"), [
    # A looser term as the label: an activity of downstream marketing, not what a KPI is.
    ("kpi", "en", "- Performance Metrics: Tracking key metrics of a customer journey, such as "
                  "website traffic, to measure the effectiveness (ROI) of marketing campaigns.",
     None),
    # Its own name, but a benefit: what it does, not what it is.
    ("customer-retention", "en",
     "- Customer Retention: Strengthens relationships with current customers.", None),
    # Why existing customers suit cross-selling rates them; it does not define them.
    ("existing-customers", "ko", "기존 고객은 제품과 서비스에 대한 신뢰를 가지고 있기 "
                                 "때문에 크로스셀링을 통해 추가 매출을 생성하는 데 매우 "
                                 "적합한 대상입니다.",
     None),
    # What the metrics to track include are examples.
    ("kpi", "vi", "Các chỉ số cần theo dõi gồm CPM, CTR và ROAS.", None),
    # A kind of segmentation, written as one German word, as the subject.
    ("customer-segmentation", "de", "Die Marktsegmentierung teilt einen heterogenen "
                                    "Gesamtmarkt in Gruppen auf.", 2),
])
def test_what_a_definition_is(fake_kb, concept_id, lang, sentence, expected):
    assert definitions.kind(_concept(fake_kb, concept_id), sentence, lang) == expected


@pytest.mark.parametrize(("concept_id", "lang", "sentence", "expected"), [
    # The concept's own name as the label, or a kind of it (구매 전환율).
    ("sales-enablement", "en", "- Sales Enablement: Providing the sales team with relevant "
                               "campaign assets they need to close deals.", 1),
    ("conversion-rate", "ko", "- 구매 전환율: 크로스셀링 제품을 제안받은 고객 중 실제로 구매로 "
                              "이어진 비율을 분석하여, 제안의 효과성을 평가합니다.", 1),
    ("bundling", "ko", "번들링은 여러 제품이나 서비스를 하나의 패키지로 묶어 할인된 가격으로 "
                       "판매하는 기법입니다.", 0),
])
def test_what_stays_a_definition(fake_kb, concept_id, lang, sentence, expected):
    """A guard, not a fix: these were definitions before QA25 and still are."""
    assert definitions.kind(_concept(fake_kb, concept_id), sentence, lang) == expected


def test_an_item_of_another_things_benefits_defines_no_concept(fake_kb):
    """"- 고객 유지: 충성도 프로그램이 있는 고객은 …" lists a role of the loyalty
    programme; it is labelled with retention's own name, and became the Customer
    retention card's definition once the English benefit was refused."""
    retention = _concept(fake_kb, "customer-retention")
    text = ("충성도 프로그램의 역할은 다음과 같습니다:\n- 고객 유지: 충성도 프로그램이 있는 "
            "고객은 브랜드에 대한 이탈 속도가 낮아집니다.")
    item = "- 고객 유지: 충성도 프로그램이 있는 고객은 브랜드에 대한 이탈 속도가 낮아집니다."
    hit = _hit(text, "4.1. 충성도 프로그램의 역할", lang="ko", sentence=item)
    start = hit.start + text.index(item)
    assert definitions.kind(retention, item, "ko") == 1  # by its label alone, it would be
    assert concepts._lists_what_another_does(retention, hit, start)
    sales = _concept(fake_kb, "sales-enablement")
    activities = ("Key Activities in Downstream Marketing:\n- Sales Enablement: Providing the "
                  "sales team with campaign assets.")
    item = "- Sales Enablement: Providing the sales team with campaign assets."
    hit = _hit(activities, "What is Downstream Marketing?", lang="en", sentence=item)
    assert not concepts._lists_what_another_does(sales, hit, hit.start + activities.index(item))


# -- the seed corpus, with the real model ----------------------------------------------------

@pytest.mark.model
def test_seed_cards_qa25_found_wrong(real_kb):
    cards = {c.concept.id: c for c in concepts.concept_cards(real_kb)}

    def line(concept_id, lang):
        s = next(s for s in cards[concept_id].sources if s.lang == lang)
        if s.sentence is None:
            return None
        a, b = s.sentence
        return s.hit.text[a - s.hit.start : b - s.hit.start]

    def definition(concept_id):
        d = cards[concept_id].definition
        return None if d is None else d.sentence

    # No seed sentence says what a KPI or customer retention is; the card says so.
    assert definition("kpi") is None
    assert definition("customer-retention") is None
    assert "때문에" not in (definition("existing-customers") or "")
    assert definition("existing-customers").startswith("기존 고객은")
    # The lines: about the concept, standing alone.
    assert not line("thought-leadership", "ko").startswith("이는")
    assert "사고 리더십" in line("thought-leadership", "ko")
    cross = line("cross-selling", "ko")
    assert "크로스셀링" in cross and "충성도 프로그램" not in cross, cross
    # What was right stays right.
    assert definition("bundling").startswith("번들링은")
    assert definition("sales-enablement").startswith("- Sales Enablement:")
    assert line("kpi", "en").startswith("- Performance Metrics:")


@pytest.mark.model
def test_a_korean_line_is_no_gap_when_search_ranks_another_passage_first(
        real_kb_dir, real_encoder, tmp_path):
    """With a launch checklist added, "구매자 페르소나" ranks its "첫 구매자" first
    (coverage 0), and the Buyer persona card said it had no Korean source, though its
    Korean line, "- 타겟 고객 식별: …", was still there (QA25 F3, on 20 articles)."""
    import shutil
    from pathlib import Path

    from kb.articles import read_article
    from kb.core import KnowledgeBase
    from kb.settings import Settings

    index = tmp_path / "index"
    shutil.copytree(real_kb_dir, index)
    library = Path(__file__).resolve().parent.parent / "benchmarks" / "data" / "library"
    with KnowledgeBase.open(index, settings=Settings(index_dir=index),
                            encoder=real_encoder) as kb:
        kb.ingest([read_article(library / "ko-product-launch.md")])
        card = concepts.card_of(kb, "buyer-persona")
        assert "ko" not in card.gaps
        [ko] = [s for s in card.sources if s.lang == "ko"]
        a, b = ko.sentence
        assert "타겟 고객" in ko.hit.text[a - ko.hit.start : b - ko.hit.start]
