"""Concept matching against the shipped glossary (corpus/glossary.yaml); no model."""

from __future__ import annotations

import pytest

from kb.glossary import Concept, Glossary, load_glossary


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
