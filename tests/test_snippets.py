"""What a search hit marks (kb.snippets, QA21 F8): the words the searcher typed, and in
another language their translations through the concept they name; not the concept's
other terms, nor a word most passages hold unless the query has nothing else."""

from __future__ import annotations

import pytest

from kb import snippets


def _marked(text: str, lang: str, query: str, glossary, common=None) -> list[str]:
    named = [c for c in glossary.match(query) if c.kind != "word"]
    runs = snippets.query_runs(query, lang, named, common)
    return [text[a:b] for a, b in snippets.mark_spans(text, lang, runs)]


def test_a_query_marks_its_own_terms_not_the_concepts_other_terms(fake_kb):
    """"focus groups" marked every "Market Research" and "Surveys" of the passage: the
    market-research concept's other English terms, which the searcher did not type."""
    text = "Market Research: Surveys and Focus Groups help. Surveys are cheap."
    assert _marked(text, "en", "focus groups", fake_kb.glossary) == ["Focus Groups"]
    # In another language the concept's terms there are the query's translations.
    de = "Die Marktforschung nutzt Umfragen."
    assert _marked(de, "de", "focus groups", fake_kb.glossary) == ["Marktforschung", "Umfragen"]
    vi = "Nghiên cứu thị trường dùng khảo sát."
    assert _marked(vi, "vi", "focus groups", fake_kb.glossary) == [
        "Nghiên cứu thị trường", "khảo sát"]
    # A term the query has in the passage's language is marked as typed, so is its
    # inflection ("customer segments" marks "customer segment").
    text = "Each customer segment gets its own offer, unlike segmentation by age."
    assert "customer segment" in _marked(text, "en", "customer segments", fake_kb.glossary)


def test_a_run_is_marked_wherever_all_its_words_stand_together():
    """Runs are looked up where their first word stands (kb.snippets._tokens): a
    run's first word alone is no match, a run may end the text, and each place counts."""
    text = "Market share grew. Market research helps; so does market research."
    runs = frozenset({("market", "research"), ("share",)})
    assert [text[a:b] for a, b in snippets.mark_spans(text, "en", runs)] == [
        "share", "Market research", "market research"]
    # Asked twice (the tokens are memoised), the answer is the same.
    assert snippets.mark_spans(text, "en", runs) == snippets.mark_spans(text, "en", runs)
    assert snippets.mark_spans("Market", "en", frozenset({("market", "research")})) == []
    assert snippets.mark_spans(text, "en", frozenset({()})) == []  # a run of no word


class _Lex:
    """A lexical index's document counts: ``lang``'s passages and those holding each."""

    def __init__(self, total: int, counts: dict[str, int]) -> None:
        self.total, self.counts = total, counts

    def doc_freq(self, lang, terms):
        return [self.counts.get(t, 0) for t in terms], self.total


def test_a_word_is_common_from_45_percent_of_a_languages_passages():
    """마케팅 stands in 16 of the seed index's 34 Korean passages (.47; all of the
    upstream/downstream article's) and, under the "more than half" cut, was marked 6
    to 8 times in each of them. Half a passage of smoothing keeps one of a handful of
    passages from being "most": 2 of 5 German passages are not."""
    lex = _Lex(34, {"마케팅": 16, "유도": 15})
    assert snippets._common(lex, "ko", ["마케팅", "유도", "영업팀"]) == {"마케팅"}
    small = _Lex(5, {"vertriebsteam": 2, "marketingleit": 3})
    assert snippets._common(small, "de", ["vertriebsteam", "marketingleit"]) == {"marketingleit"}


def test_a_common_word_is_marked_only_when_the_query_has_nothing_else(fake_kb):
    common = lambda terms: {"market"} & set(terms)  # noqa: E731 - one line
    text = "Upstream marketing focuses on the market."
    # A concept's term holding the common word is marked whole, the word alone not.
    assert _marked(text, "en", "upstream marketing", fake_kb.glossary, common) == [
        "Upstream marketing"]
    assert _marked(text, "en", "market focus", fake_kb.glossary, common) == ["focuses"]
    assert _marked(text, "en", "marketing", fake_kb.glossary, common) == ["marketing", "market"]


@pytest.mark.model
def test_a_korean_question_does_not_mark_every_marketing(real_kb):
    """QA21 F8: "마케팅 책임자는 영업팀에 무엇을 물어봐야 하나요?" marked 마케팅 6 to 8
    times in each Korean passage."""
    question = "마케팅 책임자는 영업팀에 무엇을 물어봐야 하나요?"
    hits = real_kb.search(question, k=10, langs=["ko"], explain=True).hits
    assert hits
    for hit in hits:
        marked = [hit.text[a:b] for a, b in hit.marks]
        assert "마케팅" not in marked, (hit.chunk_id, marked)
    hits = real_kb.search("마케팅", k=3, langs=["ko"], explain=True).hits
    assert any(hit.text[a:b] == "마케팅" for hit in hits for a, b in hit.marks)
    # "focus groups": the English passage marks focus groups, not Market Research.
    hit = real_kb.search("focus groups", k=1, langs=["en"], explain=True).hits[0]
    marked = {hit.text[a:b].casefold() for a, b in hit.marks}
    assert "focus groups" in marked and not marked & {"market research", "surveys"}, marked
