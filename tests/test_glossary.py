"""Concept matching against the shipped glossary (corpus/glossary.yaml); no model."""

from __future__ import annotations

import json

import pytest

from kb.glossary import Concept, Glossary, joined_terms, load_glossary
from kb.lexical import analyze


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return load_glossary()


def ids(concepts: list[Concept]) -> list[str]:
    return [c.id for c in concepts]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("크로스셀링의 KPI는 무엇인가요?", ["cross-selling", "kpi"]),  # particles stripped
        ("Bündelung von Produkten", ["bundling"]),  # German stemming
        ("Upselling là gì?", ["upselling"]),  # a loanword in a Vietnamese query, literally
        ("Was ist Up-Selling?", ["upselling"]),  # hyphenated, as German often writes it
        ("crossselling", ["cross-selling"]),
        ("What is upstream marketing?", ["upstream-marketing"]),
        # Several concepts come in glossary order, not query order.
        ("Wie funktioniert Cross-Selling beim Upstream-Marketing?",
         ["upstream-marketing", "cross-selling"]),
        ("weather today", []),
        # QA: "khách hàng hiện tại" (existing customers) was a customer-retention term,
        # and sent this question to the English "Customer Retention" bullet.
        ("Vì sao nên bán chéo cho khách hàng hiện tại?", ["cross-selling", "existing-customers"]),
    ],
)
def test_match(glossary: Glossary, query: str, expected: list[str]) -> None:
    assert ids(glossary.match(query)) == expected


def test_question_words_match_but_are_no_concepts(glossary: Glossary) -> None:
    """The glossary's ``words`` ("Beispiel", "vai trò", "차이") match like concepts, so
    the evidence can find them across languages, but get no card."""
    assert ids(glossary.match("Welche Vorteile hat Bündelung?")) == ["bundling", "benefit"]
    assert ids(glossary.match("Vai trò của chương trình khách hàng thân thiết")) == [
        "loyalty-program", "role"]
    cards = ids(glossary.cards)
    assert "bundling" in cards and not {"benefit", "role", "example"} & set(cards)
    assert len(cards) == 26


@pytest.mark.parametrize(("query", "expected"), [
    ("LTV가 뭐예요?", ["customer-lifetime-value"]),
    ("Was ist Markenpositionierung?", ["brand-positioning"]),
    ("Wie funktioniert Retargeting?", ["retargeting"]),
    ("마케팅 퍼널이 뭐예요?", ["marketing-funnel"]),
    ("What is NPS?", ["net-promoter-score"]),
    ("Wie berechnet man die Kundenakquisitionskosten?",
     ["customer-acquisition-cost", "calculation"]),
    # No "CAC" term: Vietnamese typed without diacritics writes các as "cac".
    ("cac chien luoc tiep thi", []),
])
def test_the_onboarding_basics_are_concepts(glossary: Glossary, query: str,
                                            expected: list[str]) -> None:
    """QA25 F8: funnel, positioning, CLV/LTV, CAC, NPS and retargeting had no concept, so
    "LTV가 뭐예요?" and "Was ist Markenpositionierung?" found nothing in the article
    of another language that answers them, and the Concepts page never named them."""
    assert ids(glossary.match(query)) == expected


def test_brand_names_match_across_scripts_and_are_searched_but_no_concepts(
        glossary: Glossary) -> None:
    """``names``: "Amazon" and "아마존" share no letter; the glossary carries one to the
    other for search, with no card (a brand is no marketing concept)."""
    assert ids(glossary.match("How does Amazon use cross-selling?")) == [
        "cross-selling", "amazon"]
    assert ids(glossary.match("넷플릭스는 어떻게 추천하나요?")) == ["netflix"]
    amazon = next(c for c in glossary.concepts if c.id == "amazon")
    example = next(c for c in glossary.concepts if c.id == "example")
    assert amazon.kind == "name" and amazon.searched and not amazon.card
    assert example.kind == "word" and not example.searched and not example.card
    assert "amazon" not in ids(glossary.cards)


def test_a_topic_is_searched_and_carried_like_a_concept_but_has_no_card(
        glossary: Glossary) -> None:
    """QA22 F10: "sales team" was a term of "sales enablement", so that card counted
    German, Korean and Vietnamese as covered by sentences on sales teams. A ``topics``
    entry is carried across languages and counts as what a question is about, with no
    card of its own, and no longer names the concept."""
    team = next(c for c in glossary.concepts if c.id == "sales-team")
    assert team.kind == "topic" and team.searched and team.subject and not team.card
    assert "sales-team" not in ids(glossary.cards)
    assert ids(glossary.match("마케팅 책임자는 영업팀에 무엇을 물어봐야 하나요?")) == [
        "marketing-director", "sales-team"]
    assert "Verkaufsteam" in glossary.expand("What should we ask the sales team?")["de"]
    assert "sales-enablement" not in ids(glossary.match("Das Verkaufsteam weigert sich"))
    assert ids(glossary.match("Was ist Sales Enablement?")) == ["sales-enablement"]
    # "가치 제안" (value proposition) is no term of brand messaging either.
    assert ids(glossary.match("가치 제안: 고급스러운 제품의 혜택")) == ["value-proposition"]


def test_every_term_matches_its_own_concept(glossary: Glossary) -> None:
    for concept in glossary.concepts:
        for lang, terms in concept.terms.items():
            for term in terms:
                assert concept.id in ids(glossary.match(term)), (lang, term)


def test_a_term_needs_all_its_tokens(glossary: Glossary) -> None:
    assert "market-research" in ids(glossary.match("Wir machen Marktforschung"))
    assert "market-research" not in ids(glossary.match("market"))  # "market research"


def _coverage(glossary: Glossary, concept_id: str, lang: str, text: str) -> dict[int, float]:
    concept = [c for c in glossary.concepts if c.id == concept_id]
    return glossary.coverage(concept, {1: (lang, joined_terms(analyze(text, lang)))})


@pytest.mark.parametrize(
    ("lang", "text", "concept_id"),
    [
        ("en", "Upstream marketing focuses on strategy.", "upstream-marketing"),
        ("de", "Das Upstream-Marketing konzentriert sich auf die Strategie.",
         "upstream-marketing"),
        # Vietnamese terms are several syllables; the analysis lists syllables, then
        # bigrams, so the term must be matched as its run of bigrams.
        ("vi", "Bơi ngược dòng. Tiếp thị ngược dòng tập trung vào sự đổi mới.",
         "upstream-marketing"),
        ("vi", "Các hoạt động hạ nguồn tập trung vào bán hàng ngắn hạn.",
         "downstream-marketing"),
        # Kiwi splits 크로스셀링 standing alone but keeps it whole in a sentence.
        ("ko", "이 섹션에서는 크로스셀링이 기존 고객에게 미치는 영향을 다룹니다.", "cross-selling"),
        ("ko", "추천 시스템, 번들링, 업셀링 등 여러 전략이 있습니다.", "upselling"),
    ],
)
def test_coverage_finds_a_term_in_running_text(
    glossary: Glossary, lang: str, text: str, concept_id: str
) -> None:
    assert _coverage(glossary, concept_id, lang, text) == {1: 1.0}


def test_coverage_needs_a_vietnamese_terms_syllables_together(glossary: Glossary) -> None:
    # Both syllables of "ngược dòng", but not as the phrase.
    text = "Họ bơi ngược chiều với dòng chảy của thị trường."
    assert _coverage(glossary, "upstream-marketing", "vi", text) == {}


def _fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget every analysis and Kiwi itself, as a new process would."""
    from kb import lexical

    monkeypatch.setattr(lexical, "_SEEDED", {})
    lexical._analyze_lru.cache_clear()
    lexical._kiwi.cache_clear()


QUERIES = ["What is cross-selling?", "Was ist Bündelung?", "Upselling là gì?",
           "크로스셀링의 KPI는 무엇인가요?", "weather today"]


def test_korean_terms_are_analyzed_once_then_kept_for_the_next_process(tmp_path, monkeypatch):
    """A query that is not Korean used to load Kiwi (1 s) just to analyze the glossary's
    Korean terms. Their analyses are kept in the cache directory, keyed by the terms and
    the analyzer's versions, so the next process matches without Kiwi."""
    from kb import lexical

    expected = {q: ids(load_glossary().match(q)) for q in QUERIES}
    sentence = analyze("크로스셀링이 기존 고객에게 효과적이다", "ko")
    coverage_chunks = {1: ("ko", joined_terms(sentence))}

    _fresh_process(monkeypatch)
    first = load_glossary(cache_dir=tmp_path)
    assert [ids(first.match(q)) for q in QUERIES] == list(expected.values())
    [kept] = (tmp_path / "glossary").glob("ko-*.json")
    for term, tokens in json.loads(kept.read_text(encoding="utf-8"))["terms"].items():
        assert tokens == analyze(term, "ko")

    _fresh_process(monkeypatch)
    second = load_glossary(cache_dir=tmp_path)
    for q in QUERIES[:3]:
        assert ids(second.match(q)) == expected[q]
    concepts = second.match("What is cross-selling?")
    assert second.coverage(concepts, coverage_chunks) == {1: 1.0}
    assert lexical._kiwi.cache_info().currsize == 0  # no Kiwi for any of that
    assert ids(second.match(QUERIES[3])) == expected[QUERIES[3]]  # a Korean query needs it
    assert lexical._kiwi.cache_info().currsize == 1


def test_a_bad_or_outdated_kept_analysis_is_worked_out_again(tmp_path, monkeypatch):
    from kb import lexical

    load_glossary(cache_dir=tmp_path).match("upselling")
    [kept] = (tmp_path / "glossary").glob("ko-*.json")
    data = json.loads(kept.read_text(encoding="utf-8"))

    # Written by another analyzer version: not trusted, even under the same name.
    stale = {"key": data["key"].replace('["', '["0:', 1),
             "terms": {t: ["stale"] for t in data["terms"]}}
    for content in ("{not json", json.dumps(stale), json.dumps({"key": data["key"]})):
        kept.write_text(content, encoding="utf-8")
        _fresh_process(monkeypatch)
        assert ids(load_glossary(cache_dir=tmp_path).match("크로스셀링 KPI")) == [
            "cross-selling", "kpi"]
        assert lexical.analyze_cached("크로스셀링", "ko") != ("stale",)
        assert json.loads(kept.read_text(encoding="utf-8")) == data  # rewritten

    # A changed glossary is another key, so another file.
    other = Glossary([Concept("x", {"ko": "새 용어"}, {"ko": ["새 용어"]})], tmp_path)
    assert ids(other.match("새 용어는?")) == ["x"]
    assert len(list((tmp_path / "glossary").glob("ko-*.json"))) == 2


@pytest.mark.parametrize(("query", "concept"), [
    ("번들링은 무엇입니까", "bundling"),  # Kiwi: 번들 + 링 here, 번들링 alone
    ("번들링이란 무엇입니까", "bundling"),
    ("경쟁사들의 가격 전략", "competitive-analysis"),
])
def test_a_three_syllable_korean_term_is_found_however_kiwi_splits_it(query, concept):
    assert concept in [c.id for c in load_glossary().match(query)]



def test_a_brand_name_is_carried_only_into_another_script(glossary: Glossary) -> None:
    """"Amazon" from English to German or Vietnamese adds nothing but the Amazon
    rainforest's passages (XQuAD); to Korean it is 아마존."""
    out = glossary.expand("How does Amazon use cross-selling?")
    assert "아마존" in out["ko"] and "Amazon" not in out.get("de", [])
    assert "Cross-Selling" in out["de"]  # concepts still go everywhere
    back = glossary.expand("아마존은 크로스셀링을 어떻게 하나요?")
    assert "Amazon" in back["en"] and "아마존" not in back["ko"]


def _share(glossary: Glossary, query: str, lang: str) -> float:
    from kb.answers import query_terms

    matched = glossary.match(query)
    return glossary.share(query, query_terms(query, lang), lang,
                          [c for c in matched if c.card],
                          [c for c in matched if c.kind == "word"],
                          lambda words: [1.0] * len(words))


@pytest.mark.parametrize(("query", "lang"), [
    ("Was ist Upselling?", "de"),
    ("크로스셀링의 KPI는 무엇인가요?", "ko"),
    ("Bundling Beispiel", "de"),  # a question word only frames the question
    ("Upselling là gì?", "vi"),  # a loanword, matched literally
])
def test_a_query_that_is_all_concept_has_a_share_of_one(glossary: Glossary, query, lang):
    assert _share(glossary, query, lang) == pytest.approx(1.0)


def test_a_query_about_more_than_its_concept_has_a_smaller_share(glossary: Glossary):
    # "churn prediction" is no concept: the loyalty programme is half of this query.
    assert _share(glossary, "Churn prediction and loyalty program", "en") == \
        pytest.approx(0.5)
    assert _share(glossary, "Preisanker und Kundenbindung", "de") == pytest.approx(0.5)
    assert _share(glossary, "Churn prediction", "en") == 0.0  # names no concept


def test_a_query_that_is_one_languages_term_is_read_as_that_language(fake_kb):
    """QA16: "Treueprogramm" alone was read as English (langdetect cannot tell one
    word's language); a term several languages share stays the detector's call."""
    glossary = fake_kb.glossary
    assert glossary.language_of("Treueprogramm") == "de"
    assert glossary.language_of("treueprogramm?") == "de"
    assert glossary.language_of("Upselling") is None  # en, de and vi
    assert glossary.language_of("Treueprogramm Preise") is None  # not a term, whole
    assert fake_kb.search("Treueprogramm", k=1).lang == "de"
    assert glossary.has_term("gói sản phẩm giá rẻ", "vi")
    assert not glossary.has_term("gói sản phẩm", "en")
