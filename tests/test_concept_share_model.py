"""Real model: a query that names a glossary concept and a topic the glossary lacks
("price anchor upselling") finds the article on that topic, not only the passages that
mention the concept. QA10 added 15 short notes on topics outside the glossary
(tests/data/qa10-notes); every passage naming the query's concept had the concept's full
coverage and glossary lists, and the note that both retrievers ranked first came 3rd to
10th, or not at all. Now the concept counts for the share of the query it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import CORPUS

pytestmark = pytest.mark.model

NOTES = Path(__file__).resolve().parent / "data" / "qa10-notes"


@pytest.fixture(scope="module")
def kb(tmp_path_factory, real_encoder):
    from kb.articles import find_articles, read_article
    from kb.core import KnowledgeBase
    from kb.settings import Settings

    d = tmp_path_factory.mktemp("share-index")
    kb = KnowledgeBase.open(d, settings=Settings(index_dir=d), encoder=real_encoder)
    files, errors = find_articles([CORPUS, NOTES])
    assert not errors
    kb.ingest([read_article(f) for f in files])
    yield kb
    kb.close()


@pytest.mark.parametrize(("query", "article"), [
    ("Tiếp thị truyền miệng và giữ chân khách hàng", "vi_cp1258"),  # was 4th
    ("price anchor upselling", "de_latin1"),  # was 3rd
    ("Churn prediction and loyalty program", "churn"),
    ("Preisanker und Kundenbindung", "de_latin1"),
])
def test_the_topic_beside_a_concept_comes_first(kb, query, article):
    hits = kb.search(query, k=5).hits
    assert hits[0].article_id == article, [(h.article_id, h.signals) for h in hits]


def test_a_query_that_is_all_concept_keeps_its_full_weight(kb):
    # "Was ist Upselling?" is about the concept alone: the Korean definition leads.
    hits = kb.search("Was ist Upselling?", k=3).hits
    assert hits[0].article_id.startswith("ko-cross-selling"), [h.article_id for h in hits]
    assert hits[0].signals.get("concepts") == 100


def test_a_question_whose_language_is_outranked_is_judged_by_its_concepts(kb):
    """QA11: with the notes added, no Vietnamese passage was among the hits for "Hệ
    thống đề xuất hoạt động như thế nào?", and its word "hoạt động" (work), which only a
    Vietnamese passage could hold, made the Korean answer on recommendation systems
    "no good answer" (coverage 0.57)."""
    ans = kb.ask("Hệ thống đề xuất hoạt động như thế nào?")
    assert "vi" not in {h.lang for h in ans.passages}, [h.article_id for h in ans.passages]
    assert ans.found and ans.evidence.coverage == 1.0, ans.evidence
    assert any("추천 시스템" in s.text for s in ans.sentences), [s.text for s in ans.sentences]


def test_the_list_a_question_names_is_not_taken_over_by_another_list(kb):
    """QA11: with the notes added, "What are the benefits of downstream marketing?"
    quoted one benefit, then the list of downstream examples whole (its lead-in
    sentence scored best), eight sentences and no other benefit. That happened in QA11's
    index, built by uploads one at a time; a fresh build of the same texts scores the
    lead-in lower and answers well with or without the fix, so this guards the answer
    rather than reproducing the case."""
    texts = [s.text for s in kb.ask("What are the benefits of downstream marketing?").sentences]
    benefits = ["- Immediate Revenue Generation", "- Customer Retention", "- Tactical Optimization"]
    assert all(any(t.startswith(b) for t in texts) for b in benefits), texts


def test_a_loyal_following_is_no_loyalty_programme(kb):
    """QA11: the Loyalty program card's German passage was the influencer note, which
    names no programme: "treuer Gefolgschaft" (a loyal following) matched the glossary's
    German term "Treue". The term is "Kundentreue" now; no German passage names the
    concept, so the card shows a gap."""
    from kb.concepts import concept_card

    concept = next(c for c in kb.glossary.cards if c.id == "loyalty-program")
    german = next(s for s in concept_card(kb, concept).sources if s.lang == "de")
    assert german.hit is None or german.hit.article_id != "de_influencer", german.hit
