"""Concept matching against the shipped glossary (corpus/glossary.yaml); no model."""

from __future__ import annotations

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
        ("What is upstream marketing?", ["upstream-marketing"]),
        # Several concepts come in glossary order, not query order.
        ("Wie funktioniert Cross-Selling beim Upstream-Marketing?",
         ["upstream-marketing", "cross-selling"]),
        ("weather today", []),
    ],
)
def test_match(glossary: Glossary, query: str, expected: list[str]) -> None:
    assert ids(glossary.match(query)) == expected


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
