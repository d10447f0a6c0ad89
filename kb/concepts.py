"""Concept cards for onboarding: each glossary concept with its definition and sources.

A card holds the concept's terms in ko/en/de/vi, a one-sentence extractive definition
(the best-supported sentence for "What is <English name>?"), and the best passage in
each language. A language whose best passage fails the same calibrated evidence test
that decides an answer's ``found`` is a coverage gap: "no Vietnamese source on
cross-selling yet".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kb import answers
from kb.glossary import Concept
from kb.language import LANG_NAMES, SUPPORTED
from kb.results import Hit

if TYPE_CHECKING:
    from kb.core import KnowledgeBase

__all__ = ["ConceptCard", "LangSource", "concept_card", "concept_cards"]


@dataclass(frozen=True)
class LangSource:
    """The best passage on a concept in one language, or a gap (``hit is None``)."""

    lang: str
    query: str
    hit: Hit | None
    evidence: answers.Evidence | None

    @property
    def gap(self) -> bool:
        return self.hit is None


@dataclass(frozen=True)
class ConceptCard:
    concept: Concept
    definition: answers.Citation | None
    sources: tuple[LangSource, ...]

    @property
    def gaps(self) -> list[str]:
        return [s.lang for s in self.sources if s.gap]

    def gap_message(self, lang: str) -> str:
        name = self.concept.names.get("en") or self.concept.id
        return f"no {LANG_NAMES[lang]} source on {name} yet"  # as written: KPI, not kpi


def _source(kb: KnowledgeBase, concept: Concept, lang: str) -> LangSource:
    query = concept.names.get(lang) or next(iter(concept.terms.get(lang) or []), "")
    if not query:
        return LangSource(lang, "", None, None)
    result = kb.search(query, k=1, langs=[lang], query_lang=lang)
    if not result.hits:
        return LangSource(lang, query, None, None)
    qvec = kb.encoder.encode([result.query], kind="query")[0]
    ev = answers.evidence(kb, result.query, qvec, lang, result.hits, langs=[lang])
    hit = result.hits[0] if ev.score >= ev.threshold else None
    return LangSource(lang, query, hit, ev)


def concept_card(kb: KnowledgeBase, concept: Concept) -> ConceptCard:
    """Build one card: the definition and each language's best passage or gap."""
    name = concept.names.get("en") or concept.id
    definition = answers.best_citation(kb, f"What is {name}?")
    sources = tuple(_source(kb, concept, lang) for lang in SUPPORTED)
    return ConceptCard(concept, definition, sources)


def concept_cards(kb: KnowledgeBase) -> list[ConceptCard]:
    """One card per concept of the knowledge base's glossary, in glossary order."""
    return [concept_card(kb, c) for c in kb.glossary.concepts]
