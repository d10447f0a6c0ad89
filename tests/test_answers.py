"""Extractive answers: behaviour with the fake encoder, quality with the real model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kb import answers, chunking
from kb.answers import MAX_WITH_LIST, Answer, answer, best_citation
from kb.answers.candidates import _ANAPHOR, _CONTRAST, _Candidate, _candidates, _sentence_vectors
from kb.answers.compose import _antecedents
from kb.answers.lists import _list_at, _whole
from kb.answers.scoring import _leads_with, _translations, _turns_from_nothing
from kb.answers.state import _state
from kb.articles import read_article
from kb.errors import BadInputError

# Questions the fake-encoder index answers (same-language, lexically grounded).
FAKE_ANSWERABLE = [
    "What is upstream marketing?",
    "다운스트림 마케팅이란?",
    "충성도 프로그램의 역할은 무엇인가요?",
    "Was ist Upstream-Marketing?",
    "Tiếp thị hạ nguồn là gì?",
]

# Off-topic questions written for this test; none of them (nor anything close) was used
# to calibrate the evidence threshold, which used kb.answers.NULL_QUESTIONS and a
# separate development set (benchmarks/answer_quality.py).
OFF_TOPIC = [
    "What is the capital of France?",
    "Wie backe ich Brot?",
    "How do volcanoes form?",
    "Wer hat die Relativitätstheorie entwickelt?",
    "비행기는 어떻게 하늘을 나나요?",
    "감기에 걸렸을 때 무엇을 먹어야 하나요?",
    "Làm sao để trồng cây cà chua?",
    "Ai là tác giả của Truyện Kiều?",
    "What is the speed of light?",
    "Wie viele Einwohner hat Hamburg?",
]


# A KPI question the fake-encoder index answers: the fake encoder's dense margins are
# noise, so its own words must carry it.
KPI_QUESTION = "크로스셀링 KPI는?"


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


def _check_spans(kb, ans: Answer) -> None:
    """Every citation's sentence span slices its article's cleaned text exactly."""
    texts: dict[str, str] = {}
    for c in ans.citations:
        text = texts.setdefault(c.hit.article_id, kb.article(c.hit.article_id)["text"])
        assert text[c.hit.start : c.hit.end] == c.hit.text
        assert c.spans == tuple(sorted(c.spans))
        for (a, b), sentence in zip(c.spans, c.sentences, strict=True):
            assert c.hit.start <= a < b <= c.hit.end
            assert text[a:b] == sentence


@pytest.mark.parametrize("question", FAKE_ANSWERABLE)
def test_answer_quotes_two_to_five_sentences_with_exact_spans(fake_kb, question):
    ans = answer(fake_kb, question)
    assert ans.found, ans.message
    assert 2 <= len(ans.sentences) <= MAX_WITH_LIST
    if len(ans.sentences) > 5:  # only to quote a list whole
        assert sum(chunking.is_list_item(s.text) for s in ans.sentences) >= 2
    assert [c.n for c in ans.citations] == list(range(1, len(ans.citations) + 1))
    _check_spans(fake_kb, ans)
    for sentence in ans.sentences:
        assert sentence.citations, "every answer sentence is cited"
        for n in sentence.citations:
            cited = ans.citations[n - 1]
            assert (sentence.start, sentence.end) in cited.spans
            assert sentence.text in cited.sentences
    chunks = [c.hit.chunk_id for c in ans.citations]
    assert len(chunks) == len(set(chunks)), "each passage is cited once"
    quoted = [span for c in ans.citations for span in c.spans]
    assert len(quoted) == len(ans.sentences) == len(set(quoted)), "no sentence twice"
    assert len({_norm(s.text) for s in ans.sentences}) == len(ans.sentences), "no repeats"
    assert ans.best in {c.n for c in ans.citations}


def test_sentences_of_one_passage_share_its_citation(fake_kb):
    """Two quoted sentences from one passage make one source with two spans, not two
    cards showing the same passage."""
    ans = answer(fake_kb, KPI_QUESTION)
    assert ans.found
    multi = [c for c in ans.citations if len(c.spans) > 1]
    assert multi, [(c.n, c.spans) for c in ans.citations]
    for c in multi:
        citing = [s for s in ans.sentences if s.citations == (c.n,)]
        assert [(s.start, s.end) for s in citing] == list(c.spans)
    best = best_citation(fake_kb, KPI_QUESTION)
    assert best is not None and len(best.spans) == 1
    top = ans.sentences[ans.best_sentence]
    assert best.sentence == top.text and best.n == top.citations[0] == ans.best


@pytest.mark.parametrize("question", FAKE_ANSWERABLE)
def test_answer_leads_with_the_best_passage_and_reads_in_text_order(fake_kb, question):
    ans = answer(fake_kb, question)
    cited = {c.n: c.hit.chunk_id for c in ans.citations}
    chunks = [cited[s.citations[0]] for s in ans.sentences]
    assert chunks[0] == cited[ans.sentences[ans.best_sentence].citations[0]]
    # one run per passage, in text order within it
    runs = [c for i, c in enumerate(chunks) if i == 0 or c != chunks[i - 1]]
    assert len(runs) == len(set(runs)), chunks
    for chunk in set(chunks):
        starts = [s.start for s, c in zip(ans.sentences, chunks, strict=True) if c == chunk]
        assert starts == sorted(starts)
    rank = {h.chunk_id: i for i, h in enumerate(ans.passages)}
    assert [rank[c] for c in runs[1:]] == sorted(rank[c] for c in runs[1:])


def test_a_quoted_list_lead_in_brings_the_whole_list(fake_kb):
    """"Which KPIs?" quotes the lead-in ("... define a few KPIs") and every item, not one."""
    ans = answer(fake_kb, KPI_QUESTION)
    texts = [s.text for s in ans.sentences]
    kpis = ["판매 증가율", "구매 전환율", "고객 유지율", "평균 주문 금액"]
    assert all(any(t.startswith(f"- {k}:") for t in texts) for k in kpis), texts
    lead = next(i for i, t in enumerate(texts) if "주요 성과 지표(KPI)를 정의" in t)
    assert [t[2:8] for t in texts[lead + 1 : lead + 5]] == [k[:6] for k in kpis]


@pytest.mark.parametrize(("question", "lang", "asking", "kept"), [
    ("크로스셀링 성과는 어떻게 측정하나요?", "ko", {"어떻다", "하다"}, {"성과", "측정"}),
    ("왜 경쟁사 분석을 하나요?", "ko", {"왜", "하다"}, {"경쟁사", "분석"}),
    ("Làm thế nào để đo lường thành công?", "vi", {"làm"}, {"đo", "lường", "thành"}),
    ("Làm sao tăng doanh số?", "vi", {"làm"}, {"tăng", "doanh"}),
    ("Làm việc với đội bán hàng", "vi", set(), {"làm", "việc"}),
    # German question words survive its stopwords (English "why", "when" do not): QA10's
    # "Warum sollte ein Marketingleiter Blogs folgen?" was refused for "warum".
    ("Warum sollte ein Marketingleiter Blogs folgen?", "de", {"warum"}, {"blog"}),
    ("Wann wurde Amazon gegründet?", "de", {"wann"}, {"amazon"}),
    ("브랜드 메시지를 고객 세그먼트에 전달하는 방법", "ko", {"방법"}, {"브랜드", "전달"}),
])
def test_words_that_only_ask_are_not_what_the_question_is_about(question, lang, asking, kept):
    """Coverage weighs the question's words: "어떻게" or "làm" (in "làm thế nào", how)
    missing from every passage made an answerable question look off-topic; "làm" on
    its own (work, do) still counts."""
    terms = set(answers.query_terms(question, lang))
    assert not terms & asking and kept <= terms, terms


def test_to_dict_matches_the_api_shape(fake_kb):
    d = answer(fake_kb, "What is upstream marketing?").to_dict()
    assert {"query", "lang", "found", "message", "answer", "citations"} <= set(d)
    assert d["found"] is True and d["lang"] == "en"
    assert all(set(s) == {"text", "citations", "span", "in_item", "table"} for s in d["answer"])
    hit_fields = {"chunk_id", "article_id", "title", "lang", "section", "text", "start", "end",
                  "score", "signals"}
    for c in d["citations"]:
        assert hit_fields | {"n", "sentence_start", "sentence_end", "spans"} <= set(c)
        assert c["text"][c["sentence_start"] - c["start"] : c["sentence_end"] - c["start"]]
        first = c["spans"][0]
        assert (first["start"], first["end"]) == (c["sentence_start"], c["sentence_end"])
        assert first["section"] == c["section"]  # the heading its sentence sits under
    for s in d["answer"]:
        cited = d["citations"][s["citations"][0] - 1]
        local = slice(s["span"]["start"] - cited["start"], s["span"]["end"] - cited["start"])
        assert cited["text"][local] == s["text"]
    json.dumps(d, ensure_ascii=False)


@pytest.mark.parametrize("question", ["What is the capital of France?", "Wie backe ich Brot?"])
def test_off_topic_is_not_found_with_a_helpful_message(fake_kb, question):
    ans = answer(fake_kb, question)
    assert not ans.found
    assert ans.sentences == () and ans.citations == ()
    assert "No good answer" in ans.message and "rephras" in ans.message
    assert ans.evidence is not None and ans.evidence.score < ans.evidence.threshold
    # QA8: it named only the glossary's topics; it names the articles search found too.
    first = ans.passages[0]
    assert (f"The nearest articles, though none clearly answers it: “{first.title}” "
            f"({first.article_id})") in ans.message
    # QA10: the glossary's first six concepts, whatever the question; now those the
    # nearest passages name, in the asker's language where the glossary has it.
    named = {c.id for h in ans.passages[:5] for c in fake_kb.glossary.match(h.text) if c.card}
    assert named and "Concepts they name include" in ans.message
    assert "glossary knows" not in ans.message


def test_the_no_answer_message_fits_the_situation(fake_kb, tmp_path):
    """It told everyone to "remove the language filter", even with none set or with an
    empty knowledge base."""
    from kb.core import KnowledgeBase
    from kb.settings import Settings

    plain = answer(fake_kb, "What is the capital of France?").message
    assert "language filter" not in plain and "rephras" in plain
    filtered = answer(fake_kb, "What is the capital of France?", langs=["vi"]).message
    assert "language filter" in filtered
    empty = KnowledgeBase.open(tmp_path, settings=Settings(index_dir=tmp_path, model="fake"),
                               encoder=fake_kb.encoder)
    message = answer(empty, "What is upselling?").message
    empty.close()
    assert "is empty" in message and "Add article" in message
    assert "language filter" not in message


def test_language_filter_limits_the_citations(fake_kb):
    ans = answer(fake_kb, "다운스트림 마케팅이란?", langs=["ko"])
    assert ans.found
    assert {c.hit.lang for c in ans.citations} == {"ko"}


@pytest.mark.parametrize("kwargs", [{"question": "   "}, {"question": "x" * 501},
                                    {"question": "upstream", "langs": ["xx"]}])
def test_bad_input_is_a_domain_error(fake_kb, kwargs):
    with pytest.raises(BadInputError):
        answer(fake_kb, **kwargs)


def test_empty_knowledge_base_answers_not_found(tmp_path, fake_encoder):
    from kb.core import KnowledgeBase
    from kb.settings import Settings

    kb = KnowledgeBase.open(tmp_path, settings=Settings(index_dir=tmp_path, model="fake"),
                            encoder=fake_encoder)
    ans = kb.ask("What is upstream marketing?")
    assert not ans.found and ans.message
    kb.close()


def test_an_answer_after_a_write_does_not_read_every_chunk(fake_kb, monkeypatch):
    """Document frequencies and language means come from the search indexes: reading
    every chunk's terms and vectors made the first answer after each write take
    minutes at 1M chunks."""
    from kb.articles import parse_article

    before = answer(fake_kb, "What is upstream marketing?")
    fake_kb.ingest([parse_article("# Pricing\n\n" + "Value-based pricing starts from "
                                  "what the customer is willing to pay. " * 6,
                                  name="pricing.md")])

    def whole_language(*args, **kwargs):
        raise AssertionError("read a whole language from the database")

    monkeypatch.setattr(fake_kb.store, "lang_terms", whole_language)
    monkeypatch.setattr(fake_kb.store, "lang_vectors", whole_language)
    encoded: list[str] = []
    encode = fake_kb.encoder.encode
    monkeypatch.setattr(fake_kb.encoder, "encode",
                        lambda texts, **kw: (encoded.extend(texts), encode(texts, **kw))[1])
    after = answer(fake_kb, "What is upstream marketing?")
    # The null questions' vectors depend on the model only: not encoded again.
    assert not set(encoded) & set(answers.NULL_QUESTIONS)
    assert after.found and before.found
    assert _state(fake_kb).version == fake_kb.store.version


def test_facade_ask_delegates(fake_kb):
    assert fake_kb.ask("What is upstream marketing?") == answer(
        fake_kb, "What is upstream marketing?"
    )


def test_public_names():
    for name in answers.__all__:
        assert hasattr(answers, name), name


# -- real model ---------------------------------------------------------------------------
# Floors measured with the embedded multilingual-e5-small (docs/answers.md): a gold
# snippet is in a cited passage and in a quoted sentence for 15/16 seed questions (d12
# misses; d10 and d13 were found in stop 26); 0 of the 10 off-topic questions are found.
# Each floor leaves one question of slack.
GOLD_PASSAGE_FLOOR = 14
GOLD_SENTENCE_FLOOR = 14


def _gold_hits(kb, seed_questions) -> tuple[int, int, list[str]]:
    passage = sentence = 0
    missed = []
    for item in seed_questions:
        ans = kb.ask(item["q"])
        golds = [_norm(g) for g in item["gold"]]
        in_passage = any(g in _norm(c.hit.text) for c in ans.citations for g in golds)
        in_sentence = any(
            g in _norm(s.text) or _norm(s.text) in g for s in ans.sentences for g in golds
        )
        passage += in_passage
        sentence += in_sentence
        if not in_sentence:
            missed.append(item["id"])
    return passage, sentence, missed


@pytest.mark.model
def test_seed_questions_cite_a_gold_snippet(real_kb, seed_questions):
    passage, sentence, missed = _gold_hits(real_kb, seed_questions)
    assert passage >= GOLD_PASSAGE_FLOOR, (passage, missed)
    assert sentence >= GOLD_SENTENCE_FLOOR, (sentence, missed)


@pytest.mark.model
def test_seed_questions_are_all_found(real_kb, seed_questions):
    not_found = [it["q"] for it in seed_questions if not real_kb.ask(it["q"]).found]
    assert not_found == []


@pytest.mark.model
def test_the_askers_language_does_not_lead_when_search_ranks_it_low(real_kb):
    """The asker's language earned a bonus whatever search ranked: "Why is cross-selling
    cheaper ...?" in English quoted the English article on upstream and downstream
    marketing, while only the Korean cross-selling article says why."""
    ans = answer(real_kb, "Why is cross-selling to existing customers cheaper than winning "
                          "new customers?")
    assert ans.found
    said = " ".join(s.text for s in ans.sentences)
    assert "기존 고객을 대상으로 한 크로스셀링은 상대적으로 낮은 비용으로" in said, said


def test_off_topic_questions_are_not_found(real_kb):
    found = [q for q in OFF_TOPIC if real_kb.ask(q).found]
    assert found == []


@pytest.mark.model
def test_korean_question_cites_the_english_article(real_kb):
    ans = real_kb.ask("브랜드 메시지를 고객 세그먼트에 전달하는 방법")
    assert ans.found
    assert "en" in {c.hit.lang for c in ans.citations}
    _check_spans(real_kb, ans)


@pytest.mark.model
@pytest.mark.parametrize("question", ["Was ist Up-Selling?", "up-selling"])
def test_a_hyphenated_concept_name_is_answered(real_kb, question):
    """German writes "Up-Selling" as often as "Upselling"; the hyphenated form was not
    found (its words, "up" and "selling", are in no passage)."""
    ans = real_kb.ask(question)
    assert ans.found, ans.message
    assert "ko-cross-selling-existing-customers" in {c.hit.article_id for c in ans.citations}


BENEFITS = {
    "upstream": ["Long-Term Success", "Competitive Edge", "Improved Customer Satisfaction"],
    "downstream": ["Immediate Revenue Generation", "Customer Retention",
                   "Tactical Optimization"],
}


@pytest.mark.model
@pytest.mark.parametrize("kind", ["upstream", "downstream"])
def test_a_question_that_names_a_list_is_answered_by_the_whole_list(real_kb, kind):
    """"What are the benefits of X?" names the list under "Benefits of X Marketing:": the
    answer leads with its items, all of them. Before, it quoted one of the three
    (downstream) or none (upstream: terse items score low alone)."""
    ans = real_kb.ask(f"What are the benefits of {kind} marketing?")
    texts = [s.text for s in ans.sentences]
    assert [t[2:].split(":")[0] for t in texts[:3]] == BENEFITS[kind], texts
    assert len(texts) <= MAX_WITH_LIST
    _check_spans(real_kb, ans)
    # A question the title does not name ("benefits" is not asked for) is not answered
    # with the list.
    plain = [s.text for s in real_kb.ask(f"What is {kind} marketing?").sentences]
    assert not any(t[2:].split(":")[0] in BENEFITS[kind] for t in plain), plain


@pytest.mark.model
def test_a_list_too_long_to_quote_whole_is_quoted_by_its_items_first_sentences(real_kb):
    """QA: "What are examples of downstream marketing?" quoted none of the six examples:
    their items hold nine sentences, more than an answer quotes, so the list was
    dropped. Each item's first sentence names it and says what it is."""
    ans = real_kb.ask("What are examples of downstream marketing?")
    items = [s.text[2:].split(":")[0] for s in ans.sentences if s.text.startswith("- ")]
    assert items == ["Social Media Marketing", "Email Marketing", "Search Engine Marketing (SEM)",
                     "Content Marketing", "Influencer Marketing", "Affiliate Marketing"]
    assert not any(s.text.startswith("This could") for s in ans.sentences)
    assert len(ans.sentences) <= MAX_WITH_LIST
    _check_spans(real_kb, ans)


@pytest.mark.model
def test_a_sentence_that_points_back_comes_with_the_one_it_points_to(real_kb, seed_questions):
    """"이러한 다양한 크로스셀링 기법을 ..." ("these various techniques ...") was quoted
    without the techniques; now the sentence right before it in its passage comes too,
    when it can be quoted (not a heading) and the answer has room. A line right after a
    list brings the whole list when the answer quotes part of it, else nothing ("이러한
    체계적인 성과 측정과 조정 과정" sums up a section of five lists, not the last one)."""
    questions = [it["q"] for it in seed_questions] + [
        "Was ist Upselling?", "업셀링과 크로스셀링의 차이는 무엇인가요?",
        "Wie misst man den Erfolg von Cross-Selling?", "크로스셀링 성과는 어떻게 측정하나요?"]
    checked = 0
    for q in questions:
        ans = real_kb.ask(q)
        quoted = {(s.start, s.end) for s in ans.sentences}
        cands = _candidates(ans.passages)
        for i, c in enumerate(cands):
            if (c.start, c.end) not in quoted or not _ANAPHOR.match(c.text):
                continue
            before = cands[i - 1] if i else None
            if before is None or before.hit.chunk_id != c.hit.chunk_id:
                continue
            gap = c.hit.text[before.end - c.hit.start : c.start - c.hit.start]
            if gap.strip() or _is_best(ans, c):
                continue
            lst = _list_at(before, cands) if "\n" in gap else None
            checked += 1
            if lst is None:  # quoted with its antecedent, or (no room) not at all
                assert (before.start, before.end) in quoted, (q, c.text, before.text)
            else:  # after a list: the whole list, or (it points at the section) none
                whole = {(x.start, x.end) for x in _whole(lst, cands)}
                assert whole <= quoted or not whole & quoted, (q, c.text)
    assert checked >= 3
    upselling = [s.text for s in real_kb.ask("Was ist Upselling?").sentences]
    lone = next(i for i, t in enumerate(upselling) if t.startswith("이러한 다양한"))
    assert lone > 0 and upselling[lone - 1].startswith("- 신뢰 구축"), upselling


# Stop 33: with the 7-bit int8 encoder (kb/onnx_export.py, the same vectors on every CPU)
# these answers lost their sentence to a near tie; open, see docs/answers.md.
_SEVEN_BIT = "stop 33: lost to a near tie with the 7-bit int8 encoder (docs/answers.md)"


@pytest.mark.model
@pytest.mark.parametrize(("question", "wanted"), [
    ("업스트림 마케팅의 핵심 활동은 무엇인가요?", "이 단계의 핵심 활동으로는"),
    ("다운스트림 마케팅에는 어떤 전략이 포함되나요?", "여기에는 인적 판매, 이메일 마케팅"),
    ("업스트림 마케팅의 성과는 어떤 지표로 측정하나요?", "소셜 미디어 통계나 브랜드 인지도와"),
])
def test_a_sentence_is_read_with_its_heading(real_kb, question, wanted):
    """"업스트림 마케팅의 핵심 활동은 무엇인가요?" (upstream marketing's key activities) was
    answered with two general sentences on upstream marketing. The answer is "이 단계의
    핵심 활동으로는 …" ("this stage's key activities are …") under the heading "상류
    마케팅": it names the activities and its heading names the stage, and neither says
    both, so its own vector is far from the question. QA12 found two more: "여기에는 …
    전략이 포함됩니다" under "다운스트림 마케팅", and metrics "상위 단계" (upper stage)
    measures, a word the glossary does not know for upstream."""
    texts = [s.text for s in real_kb.ask(question).sentences]
    assert any(t.startswith(wanted) for t in texts), texts


def _is_best(ans: Answer, c: _Candidate) -> bool:
    best = ans.sentences[ans.best_sentence]
    return (best.start, best.end) == (c.start, c.end)


KPIS = ["판매 증가율", "구매 전환율", "고객 유지율", "평균 주문 금액"]


@pytest.mark.model
@pytest.mark.parametrize("question", [
    "Wie misst man den Erfolg von Cross-Selling?",
    "How do you measure the success of cross-selling?",
    "Các chỉ số đo lường hiệu quả bán chéo",
    "Làm thế nào để đo lường thành công của bán chéo?",
])
def test_a_list_that_the_best_sentences_come_from_is_quoted_whole(real_kb, question):
    """Asked in another language, the Korean KPI list has no title in the asker's words;
    the answer quoted one to three of its four items, without the sentence saying they
    are KPIs. When the best sentence is an item and another item is among the three
    best, or two items are quoted, the list comes whole, after its lead-in."""
    ans = real_kb.ask(question)
    texts = [s.text for s in ans.sentences]
    lead = next(i for i, t in enumerate(texts) if "주요 성과 지표(KPI)를 정의" in t)
    assert [t[2:].split(":")[0] for t in texts[lead + 1 : lead + 5]] == KPIS, texts
    assert len(texts) <= MAX_WITH_LIST
    _check_spans(real_kb, ans)


@pytest.mark.model
@pytest.mark.parametrize(("question", "wanted"), [
    ("What is purchase conversion rate?", "- 구매 전환율:"),
    ("크로스셀링에서 추천 시스템은 어떤 역할을 하나요?", "추천 시스템은 고객의"),
])
def test_a_question_about_one_item_is_not_answered_with_its_list(real_kb, question, wanted):
    """An item that leads the answer alone (no other item of its list scores near it)
    stays one item: the recommendation-system question kept its definition instead of
    a loyalty programme's three rewards, "포인트 기반 추천" among them."""
    texts = [s.text for s in real_kb.ask(question).sentences]
    assert any(t.startswith(wanted) for t in texts), texts
    assert sum(t[2:].split(":")[0] in KPIS for t in texts) <= 1, texts


@pytest.mark.model
@pytest.mark.parametrize(("question", "articles"), [
    ("What does a marketing director do?",
     {"de-upstream-downstream-marketingleiter", "vi-thuong-nguon-ha-nguon-tiep-thi"}),
    ("Wie segmentiert man Kunden?", {"ko-cross-selling-existing-customers"}),
    ("Làm thế nào để đo lường thành công của bán chéo?", {"ko-cross-selling-existing-customers"}),
])
def test_a_question_whose_answer_is_only_in_another_language_is_found(real_kb, question,
                                                                      articles):
    """Each was "no good answer": its key words ("director", "segmentiert", "đo lường
    thành công") appear in no passage of its own language, so lexical coverage stayed
    under the threshold until the glossary carried them across."""
    ans = real_kb.ask(question)
    assert ans.found, ans.message
    assert {c.hit.article_id for c in ans.citations} & articles


@pytest.mark.model
@pytest.mark.parametrize(("question", "lang", "article"), [
    ("업스트림과 다운스트림 마케팅의 차이는?", "de", "de-upstream-downstream-marketingleiter"),
    ("업스트림과 다운스트림 마케팅의 차이는?", "vi", "vi-thuong-nguon-ha-nguon-tiep-thi"),
    ("Sự khác biệt giữa tiếp thị ngược dòng và hạ nguồn là gì?", "ko",
     "ko-upstream-downstream-marketing"),
])
def test_a_question_limited_to_other_languages_is_answered_from_them(real_kb, question, lang,
                                                                    article):
    """A Korean question limited to the German articles got "no good answer" although
    search ranked the German passage first: its own words ("차이") cannot occur in German
    passages, and the dense margin was measured against questions searching all
    languages. Off-topic questions limited the same way stay unanswered."""
    ans = real_kb.ask(question, langs=[lang])
    assert ans.found, ans.message
    assert {c.hit.lang for c in ans.citations} == {lang}
    assert article in {c.hit.article_id for c in ans.citations}
    for off in OFF_TOPIC[:4]:
        assert not real_kb.ask(off, langs=[lang]).found, off


@pytest.mark.model
@pytest.mark.parametrize("question", [
    "Wie kann ein Marketingleiter Marketing und Vertrieb zusammenbringen?",
    "What does a marketing director do?",
    "What example involves video games for boys and girls?",
    "Upstream marketing innovation",  # QA round 3, with de and vi checked: short ones
])
def test_a_sentence_and_its_translation_are_not_both_quoted(real_kb, question):
    """QA: answers quoted the German sentence and its Vietnamese translation (the vi
    article translates the de one) as two facts. A sentence translating a quoted one, in
    passages the translation links align, is now a repeat."""
    ans = real_kb.ask(question, langs=["de", "vi"] if "innovation" in question else None)
    cands = _candidates(ans.passages)
    vecs = _sentence_vectors(real_kb, _state(real_kb), cands)
    twins = _translations(real_kb, cands, vecs @ vecs.T)
    assert twins  # the passages hold translations, so the test means something
    quoted = {(s.start, s.end) for s in ans.sentences}
    both = [(cands[i].text, cands[j].text) for i, j in twins
            if (cands[i].start, cands[i].end) in quoted
            and (cands[j].start, cands[j].end) in quoted]
    assert both == []
    texts = [s.text for s in ans.sentences]
    assert not ("Upstream-Marketing konzentriert sich auf Innovation." in texts
                and "Tiếp thị ngược dòng tập trung vào sự đổi mới." in texts), texts


@pytest.mark.model
@pytest.mark.parametrize(("question", "quoted", "not_quoted"), [
    ("Wie kann ein Marketingleiter Marketing und Vertrieb zusammenbringen?",
     "Die Unterscheidung dieser Arten von Aktivitäten kann dazu beitragen",
     "Phân biệt các loại hoạt động này"),
    ("Nghiên cứu thị trường hạ nguồn dùng để làm gì?",
     "Nghiên cứu thị trường hạ nguồn cũng có thể được sử dụng để kiểm tra quảng cáo",
     "Nachgelagerte Marktforschung kann auch verwendet werden"),
])
def test_of_two_translations_the_askers_language_is_quoted(real_kb, question, quoted,
                                                            not_quoted):
    """QA: the German question quoted the Vietnamese of a sentence whose German original
    sits in a passage it cites; e5 finds the Vietnamese far from the German sentences
    already quoted, so MMR took it for the newer one. Twins are now as new as each
    other, and the better scored (the asker's language) is quoted."""
    texts = [s.text for s in real_kb.ask(question).sentences]
    assert any(t.startswith(quoted) for t in texts), texts
    assert not any(t.startswith(not_quoted) for t in texts), texts


def _generic_article() -> str:
    """QA round 3's article: a long table and a long list, close to every question."""
    rows = "\n".join(f"| Campaign {i} | Channel {('search', 'social', 'email')[i % 3]} | "
                     f"Budget {i * 100} euros for the quarter |" for i in range(1, 61))
    steps = "\n".join(f"{i}. Step number {i} of the retention playbook is to call the "
                      "customer and ask about renewal plans." for i in range(1, 41))
    return ("# Long Structures\n\nThe following table lists all campaigns for the year:\n\n"
            f"| Campaign | Channel | Budget |\n|---|---|---|\n{rows}\n\n"
            f"The retention playbook has these steps:\n{steps}\n")


def _copy_of(real_kb_dir, real_encoder, tmp_path):
    """A writable copy of the real-model index, with a copy of the corpus (and its
    glossary) to save new articles to."""
    import shutil

    from kb.core import KnowledgeBase
    from kb.settings import Settings

    from .conftest import CORPUS

    d = shutil.copytree(real_kb_dir, tmp_path / "index")
    corpus = shutil.copytree(CORPUS, tmp_path / "corpus")
    return KnowledgeBase.open(d, settings=Settings(index_dir=d, corpus_dir=corpus),
                              encoder=real_encoder)


def _add(kb, text: str, filename: str) -> None:
    from kb import adding

    art, kind = adding.prepare(kb, text.encode(), filename=filename)
    adding.add(kb, art, kind=kind)


@pytest.mark.model
def test_a_question_by_a_basic_concept_abbreviation_finds_its_article_in_another_language(
    real_kb_dir, real_encoder, tmp_path
):
    """QA25 F2/F8: "LTV가 뭐예요?" was "No good answer" beside a Korean article on 고객 생애
    가치 (CLV): no word of the question was in it (coverage 0). With customer lifetime
    value in the glossary, an English question by the other abbreviation reaches it."""
    kb = _copy_of(real_kb_dir, real_encoder, tmp_path)
    _add(kb, "고객 생애 가치 활용하기\n\n고객 생애 가치는 한 고객이 기업과 거래하는 전체 기간 "
         "동안 가져다주는 총이익을 뜻합니다. 평균 구매 금액에 구매 빈도와 거래 기간을 곱해 "
         "계산합니다. 이 값을 알면 신규 고객 한 명에게 얼마까지 투자할 수 있는지 정할 수 "
         "있습니다.", "ko-clv-short.txt")
    ans = kb.ask("What is LTV?")
    assert ans.found, ans.evidence
    assert ans.sentences[0].text.startswith("고객 생애 가치는"), [s.text for s in ans.sentences]
    kb.close()


@pytest.mark.model
def test_adding_a_generic_article_leaves_other_answers_found(real_kb_dir, real_encoder,
                                                             tmp_path):
    """QA: one article close to every question (a 60-row table) took "Wie misst man den
    Erfolg von Cross-Selling?" from found to "no good answer": the dense margin was
    measured against the null questions' best scores, which that article raised for
    every question. Corrected by each passage's hubness, the margins stay where they
    were."""
    kb = _copy_of(real_kb_dir, real_encoder, tmp_path)
    questions = ["Wie misst man den Erfolg von Cross-Selling?", "Was macht ein Marketingleiter?"]
    before = {q: kb.ask(q).evidence for q in questions}
    _add(kb, _generic_article(), "long.md")
    for q in questions:
        ev = kb.ask(q).evidence
        assert ev is not None and ev.score >= ev.threshold, (q, ev)
        assert ev.dense_margin >= before[q].dense_margin - 1.0, (q, before[q], ev)
    assert [q for q in OFF_TOPIC if kb.ask(q).found] == []
    kb.close()


@pytest.mark.model
def test_an_answer_is_not_filled_up_with_a_sentence_about_something_else(
    real_kb_dir, real_encoder, tmp_path
):
    """QA: after a short German note on subscription prices was added, "Was ist
    Upselling?" quoted the Korean definition and then "Das Upstream-Marketing
    konzentriert sich auf die Strategie …": the best sentence stood far above all others,
    and the second was the most diverse of them, whose only tie to the question was its
    vector and its language. A sentence with a word of the question in it or in its
    heading now goes first."""
    kb = _copy_of(real_kb_dir, real_encoder, tmp_path)
    _add(kb, "Preisgestaltung für Abonnements: Die Kunden schätzen klare Preise. Ein großer "
         "Teil der Abonnenten kündigt, wenn die Preise steigen. Deshalb sollten "
         "Preiserhöhungen frühzeitig angekündigt und mit zusätzlichem Nutzen begründet "
         "werden. Rabatte für Jahresabos stärken die Kundenbindung.", "abo.txt")
    ans = kb.ask("Was ist Upselling?")
    assert ans.found and len(ans.sentences) >= 2
    assert all(c.hit.section.endswith("업셀링") for c in ans.citations), [
        (c.hit.article_id, c.hit.section) for c in ans.citations]
    kb.close()


@pytest.mark.model
def test_a_miss_in_the_chosen_languages_says_which_languages_answer(real_kb):
    """QA: "크로스셀링 KPI는?" limited to German said "No good answer … It covers topics
    such as … 크로스셀링", though the Korean article answers it."""
    ans = real_kb.ask("크로스셀링 KPI는?", langs=["de"])
    assert not ans.found
    assert ans.message.startswith("No good answer in the chosen languages (German), but the "
                                  "Korean articles answer it"), ans.message
    # Named from what the unfiltered answer cites, not from search's first three: QA got
    # "the Korean and English articles" here, though English alone does not answer it.
    upselling = real_kb.ask("What is upselling?", langs=["de"])
    assert "but the Korean articles answer it" in upselling.message, upselling.message
    # QA11: limited to English, where no passage says upselling, it was answered with
    # five sentences on upstream marketing (evidence 1.109: the dense margin alone).
    english = real_kb.ask("What is upselling?", langs=["en"])
    assert not english.found and english.evidence.coverage == 0, english.sentences
    assert "but the Korean articles answer it" in english.message, english.message
    off = real_kb.ask(OFF_TOPIC[0], langs=["de"])
    assert not off.found and "answer it" not in off.message


VI_DEFINITION = (
    "Bán chéo là gì\n\nBán chéo là việc giới thiệu cho khách hàng những sản phẩm bổ sung "
    "liên quan đến sản phẩm họ đang mua hoặc đã mua. Ví dụ, khi khách hàng mua điện thoại, "
    "cửa hàng gợi ý thêm ốp lưng và tai nghe. Mục tiêu của bán chéo là tăng giá trị mỗi đơn "
    "hàng và đáp ứng tốt hơn nhu cầu của khách hàng.\n")


@pytest.mark.model
@pytest.mark.parametrize("question", ["What is cross-selling?", "Was ist Cross-Selling?",
                                      "크로스셀링이란?"])
def test_a_definition_in_another_language_answers_what_a_concept_is(
    real_kb_dir, real_encoder, tmp_path, question
):
    """QA: a Vietnamese article defining cross-selling ranked 19th-23rd for the English,
    German and Korean question, behind Korean passages that only use the word, and the
    answers quoted loyalty-programme sentences. A passage that says what the asked
    concept is now ranks among the first few (the Korean question's 4th with the 7-bit
    int8 encoder of stop 33, 0.09 under the 3rd; 3rd before), and its definition leads
    the answer."""
    kb = _copy_of(real_kb_dir, real_encoder, tmp_path)
    _add(kb, VI_DEFINITION, "ban-cheo.txt")
    hits = kb.search(question, k=5).hits
    assert any(h.lang == "vi" and h.signals.get("defines") for h in hits), [
        (h.article_id, h.signals) for h in hits]
    ans = kb.ask(question)
    assert ans.found and ans.sentences[0].text.startswith("Bán chéo là việc giới thiệu")
    kb.close()


@pytest.mark.model
def test_a_larger_corpus_on_other_topics_does_not_answer_marketing_questions(
    real_encoder, tmp_path
):
    """The dense margin compares best with best. Measured per passage against the null
    questions' scores on that same passage (tried 2026-12-06), it passed most questions
    on any larger corpus: a question's best passage, picked from hundreds, always
    stands out from what other questions score on it. On an XQuAD index, 23 of 32
    marketing questions were "found"."""
    from kb.core import KnowledgeBase
    from kb.settings import Settings

    from .conftest import SHARED

    xquad = SHARED / "bench" / "xquad" / "xquad.en.json"
    if not xquad.exists():
        pytest.skip("../shared/bench is not beside this checkout")
    data = json.loads(xquad.read_text())["data"]
    paras = [p for a in data for p in a["paragraphs"]][::2]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, p in enumerate(paras):
        (corpus / f"xquad-{i:03d}.txt").write_text(p["context"], encoding="utf-8")
    d = tmp_path / "index"
    kb = KnowledgeBase.open(d, settings=Settings(index_dir=d, corpus_dir=corpus),
                            encoder=real_encoder)
    kb.ingest_paths([corpus])
    marketing = [q for q in (
        "What is upstream marketing?", "Which KPIs for cross-selling?", "What is upselling?",
        "How do loyalty programs support cross-selling?", "What does a marketing director do?",
        "Why analyse competitors in upstream marketing?", "What is bundling?",
        "How do you measure the success of cross-selling?")]
    found = [q for q in marketing if kb.ask(q).found]
    assert len(found) <= 1, found
    questions = [qa["question"] for p in paras[:40:4] for qa in p["qas"][:1]]
    assert sum(kb.ask(q).found for q in questions) >= 8, questions
    kb.close()


@pytest.mark.model
@pytest.mark.parametrize("question", ["Vì sao nên bán chéo cho khách hàng hiện tại?",
                                      "Warum Cross-Selling bei Bestandskunden?"])
def test_existing_customers_reach_the_korean_article_in_every_language(real_kb, question):
    """QA: the Vietnamese question was answered with the English "Customer Retention"
    bullet ("khách hàng hiện tại" was filed under retention); the Korean article's
    "기존 고객은 … 적합한 대상입니다" answers it."""
    ans = real_kb.ask(question)
    assert ans.found, ans.evidence
    texts = [s.text for s in ans.sentences]
    assert any(t.startswith("기존 고객은 제품과 서비스에 대한 신뢰를") for t in texts), texts


@pytest.mark.model
def test_an_answer_opens_with_a_sentence_that_names_the_asked_concept(real_kb):
    """QA: "ví dụ bán theo gói" (bundling examples) opened with a Vietnamese sentence on
    sales teams ("… giúp đội ngũ bán hàng …"), near it in vector space only, above the
    Korean definition of bundling that scored 0.1 lower."""
    ans = real_kb.ask("ví dụ bán theo gói")
    assert ans.found
    assert ans.sentences[0].text.startswith("번들링은"), [s.text for s in ans.sentences]
    # The sentence itself, not its heading: "마케팅 책임자의 역할은?" opened with an
    # upstream sentence whose heading (the Vietnamese article's title) names the director.
    first = real_kb.ask("마케팅 책임자의 역할은?").sentences[0].text
    assert not first.startswith("Tiếp thị ngược dòng tập trung"), first


def test_a_found_question_word_never_lowers_the_coverage():
    """QA: "Lợi ích của cà phê là gì?" fell from 0.36 to 0.24 with the glossary's words:
    "lợi ích" became one unit weighing the larger of its syllables' IDF, not both."""
    from kb.answers.coverage import _coverage

    qterms = ["lợi", "ích", "cà", "phê"]
    idf = {"lợi": 2.0, "ích": 1.5, "cà": 3.0, "phê": 3.0}
    found = {"vi": {"lợi", "ích"}}
    benefit = [({"lợi", "ích"}, {"vi": ["lợi ích"], "en": ["benefit"]})]
    plain = _coverage(qterms, idf, "vi", [], found)
    assert _coverage(qterms, idf, "vi", [], found, words=benefit) == pytest.approx(plain)
    # Found only in another language's passages, it is covered there.
    elsewhere = {"vi": set(), "en": {"benefit"}}
    assert _coverage(qterms, idf, "vi", [], elsewhere, words=benefit) == pytest.approx(3.5 / 9.5)
    assert _coverage(qterms, idf, "vi", [], elsewhere) == 0.0


def test_a_loanword_another_languages_passages_use_counts_half():
    """QA21 F4: "Affiliate Marketing là gì?" had coverage 0: its English words were
    looked for in the Vietnamese passages only, while the English one defines it."""
    from kb.answers.coverage import LOANWORD_CREDIT, _coverage

    qterms = ["affiliate", "marketing"]
    idf = {"affiliate": 3.0, "marketing": 1.0}
    found = {"vi": set(), "en": {"affili", "market"}}
    question = "Affiliate Marketing là gì?"
    assert _coverage(qterms, idf, "vi", [], found) == 0.0
    assert _coverage(qterms, idf, "vi", [], found,
                     loanwords=(question, {"affiliate", "marketing"})) == pytest.approx(
        LOANWORD_CREDIT)
    # Only the words no Vietnamese passage uses can be loanwords.
    assert _coverage(qterms, idf, "vi", [], found,
                     loanwords=(question, {"affiliate"})) == pytest.approx(
        LOANWORD_CREDIT * 3 / 4)
    # German analyzes "Affiliate" as "affiliat", English as "affili".
    assert _coverage(["affiliat"], {"affiliat": 1.0}, "de", [], found,
                     loanwords=("Was ist Affiliate-Marketing?", {"affiliat"})) > 0


def test_a_latin_word_or_acronym_a_korean_passage_writes_is_a_loanword_too():
    """QA24b F10: "What is ROAS?" had coverage 0 beside the Korean passage that writes
    "ROAS" nine times: loanwords were looked for in Latin-script languages only, and
    words of at least four letters ("CAC" in "What is CAC?" was never one)."""
    from kb.answers.coverage import LOANWORD_CREDIT, _analyzed, _coverage

    for question, word in (("What is ROAS?", "roas"), ("What is CAC?", "cac"),
                           ("Wie berechnet man den CAC?", "cac")):
        qlang = "de" if question.startswith("Wie") else "en"
        (term,) = _analyzed(word.upper(), qlang)
        found = {qlang: set(), "ko": set(_analyzed(f"{word.upper()}는 광고비 대비 매출", "ko"))}
        assert _coverage([term], {term: 2.0}, qlang, [], found) == 0.0
        assert _coverage([term], {term: 2.0}, qlang, [], found,
                         loanwords=(question, {term})) == pytest.approx(LOANWORD_CREDIT)
    # Short words in lower case are no acronyms: "app" in "Was ist eine App?" is not.
    found = {"de": set(), "ko": {"app"}}
    (term,) = _analyzed("App", "de")
    assert _coverage([term], {term: 2.0}, "de", [], found,
                     loanwords=("Was ist eine app?", {term})) == 0.0


@pytest.mark.model
@pytest.mark.parametrize("question", ["Affiliate Marketing là gì?",
                                      "Was ist Affiliate-Marketing?"])
def test_a_loanword_question_is_found_where_the_english_one_is(real_kb, question):
    """QA21 F4: these were "No good answer" with the English definition first."""
    assert real_kb.ask("What is affiliate marketing?").found
    ans = real_kb.ask(question)
    assert ans.found, ans.evidence
    assert any("Affiliate Marketing" in s.text for s in ans.sentences), ans.sentences


@pytest.mark.model
def test_a_long_list_quoted_by_first_sentences_leaves_the_rest_out(real_kb):
    """QA: after a list quoted by its items' first sentences came the items' later
    sentences MMR had chosen, out of their place ("For example, a survey could ask …"
    cut off from its Surveys item)."""
    for q in ("What are examples of upstream marketing?",
              "What are the key activities in upstream marketing?"):
        texts = [s.text for s in real_kb.ask(q).sentences]
        assert not any(t.startswith(("For example", "Then creating")) for t in texts), texts
        items = [i for i, t in enumerate(texts) if t.startswith("- ")]
        assert len(items) >= 4 and items == list(range(items[0], items[0] + len(items))), texts


KO_CROSS = "ko-cross-selling-existing-customers"


@pytest.mark.model
@pytest.mark.parametrize(("question", "article"), [
    ("Vai trò của chương trình khách hàng thân thiết là gì?", KO_CROSS),
    ("Bundling Beispiel", KO_CROSS),
])
def test_question_words_are_found_in_another_languages_passages(real_kb, question, article):
    """QA: "no good answer", though the Korean article answers both: "vai trò" (role)
    and "Beispiel" counted as words a Korean passage cannot hold (coverage 0.40 and
    0.50). The glossary's question words carry them across languages (역할, 사례)."""
    ans = real_kb.ask(question)
    assert ans.found, ans.evidence
    assert ans.citations[0].hit.article_id == article


@pytest.mark.model
@pytest.mark.parametrize("question", ["Welche Rolle spielen Dinosaurier im Marketing?",
                                      "Vorteile von Elektroautos", "Teslas Marketing Fallstudie"])
def test_question_words_alone_do_not_find_an_answer(real_kb, question):
    """QA: with no concept beside them, the question words found these (coverage 0.34 ->
    0.67 for the dinosaurs): they count only beside a glossary concept."""
    assert not real_kb.ask(question).found


@pytest.mark.model
@pytest.mark.parametrize("question", ["Was ist Bündelung?", "What does bundling mean?",
                                      "Was versteht man unter Bündelung?", "Was heißt Bündelung?"])
def test_a_question_for_a_definition_is_answered_with_it(real_kb, question):
    """QA: "What does bundling mean?" and "Was versteht man unter Bündelung?" got "no good
    answer": "mean" and "versteht" counted as words to find, halving the coverage. And a
    short German question gets a weak dense margin against the Korean definition
    ("Was ist Bündelung?": -0.02); a passage that says what the asked concept is now
    counts as evidence."""
    ans = real_kb.ask(question)
    assert ans.found, ans.evidence
    assert ans.sentences[0].text.startswith("번들링은"), [s.text for s in ans.sentences]


@pytest.mark.model
def test_a_best_sentence_that_leads_into_a_list_brings_the_list(
    real_kb_dir, real_encoder, tmp_path
):
    """QA: after a short German note defining cross-selling was added, "Which KPIs
    should I use for cross-selling?" quoted the KPI lead-in and then the German
    definition, none of the four KPIs."""
    kb = _copy_of(real_kb_dir, real_encoder, tmp_path)
    _add(kb, "Cross-Selling kurz erklärt\n\nCross-Selling ist eine Verkaufstechnik, bei der "
         "Kunden ergänzende Produkte angeboten werden. Anders als beim Upselling geht es "
         "nicht um eine teurere Variante, sondern um ein zusätzliches Produkt. Ein Beispiel "
         "ist die Handyhülle zum neuen Smartphone.", "cross-selling-kurz.txt")
    ans = kb.ask("Which KPIs should I use for cross-selling?")
    texts = [s.text for s in ans.sentences]
    assert ans.found and all(any(t.startswith(f"- {k}:") for t in texts) for k in KPIS), texts
    kb.close()


@pytest.mark.model
def test_an_answer_says_when_no_passage_defines_the_asked_concept(real_kb):
    """No seed article says what cross-selling is: "What is cross-selling?" is answered
    from sentences that only use the word, and the answer says so (JSON ``note``). A
    concept that a passage defines (upselling) gets no note."""
    ans = real_kb.ask("What is cross-selling?")
    assert ans.found
    assert ans.undefined == ("cross-selling", "Cross-selling")
    assert "No passage in the knowledge base defines “Cross-selling”" in ans.to_dict()["note"]
    ko = real_kb.ask("크로스셀링이란?")
    assert ko.undefined == ("cross-selling", "크로스셀링")
    for question in ("What is upselling?", "Was ist Upstream-Marketing?",
                     "How does Amazon use cross-selling?"):  # the last asks no definition
        ans = real_kb.ask(question)
        assert ans.found and ans.undefined is None and ans.to_dict()["note"] is None, question


@pytest.mark.model
def test_a_comparison_says_when_no_passage_defines_one_side(real_kb):
    """QA25 F6: "크로스셀링과 업셀링의 차이는 무엇인가요?" quoted what upselling is and its
    tactics; no article says what cross-selling is, and a new marketer took upselling
    for the whole answer. The answer keeps its sentences and says so in its note. Where
    both sides are defined somewhere, though not in the comparison's own passages
    ("Downstream marketing is more tactical …"), there is no note."""
    for question, name in (("크로스셀링과 업셀링의 차이는 무엇인가요?", "크로스셀링"),
                           ("What is the difference between cross-selling and upselling?",
                            "Cross-selling")):
        ans = real_kb.ask(question)
        assert ans.found and ans.undefined == ("cross-selling", name), question
        assert any("업셀링은" in s.text for s in ans.sentences)  # the upselling side stays
    for question in ("What is the difference between upstream and downstream marketing?",
                     "업스트림과 다운스트림 마케팅의 차이는?"):
        ans = real_kb.ask(question)
        assert ans.found and ans.undefined is None and ans.note is None, question


@pytest.mark.model
def test_asked_what_a_concept_the_passages_name_is_answered_though_none_defines_it(real_kb):
    """QA25 F2: "Lãnh đạo tư tưởng là gì?" (what is thought leadership?) was "No good
    answer": the Korean passages name 사고 리더십 (coverage 1.0), but e5 put the
    Vietnamese question far from them (dense margin 0.09), while the Korean, English and
    German questions were answered. It is answered now, with the note that no passage
    defines it; a concept the passages do not name is still not found."""
    ans = real_kb.ask("Lãnh đạo tư tưởng là gì?")
    assert ans.found and ans.undefined == ("thought-leadership", "Lãnh đạo tư tưởng")
    assert any("사고 리더십" in s.text for s in ans.sentences)
    # Not from the middle of the simile before "이 단계의 핵심 활동으로는 …" (QA25 F4).
    assert ans.sentences[0].text.startswith("업스트림 마케팅은 마치"), ans.sentences[0].text
    assert not real_kb.ask("Lãnh đạo tư tưởng là gì?", langs=["de"]).found


@pytest.mark.model
@pytest.mark.parametrize(("question", "first"), [
    pytest.param("Was ist Markenbotschaft?", "- Brand Messaging:",
                 marks=pytest.mark.xfail(reason=_SEVEN_BIT)),
    ("경쟁사 분석의 정의는?", "- Competitive Analysis:"),
    # QA25 F4: it opened with the upstream/downstream table's "Metrics" row.
    ("What does “conversion rate” mean?", "- 구매 전환율:"),
])
def test_a_definition_question_opens_with_a_sentence_that_says_what_it_is(
        real_kb, question, first):
    """When a sentence close to the best says what the asked concept is (here a list
    item labelled with it), it leads: "Was ist Markenbotschaft?" had opened with a
    German sentence on advertising campaigns that contain messages."""
    ans = real_kb.ask(question)
    assert ans.sentences[0].text.startswith(first), [s.text for s in ans.sentences]


@pytest.mark.model
@pytest.mark.parametrize(("question", "first"), [
    ("Welche Vorteile hat Upstream-Marketing?",
     ["Long-Term Success", "Competitive Edge", "Improved Customer Satisfaction"]),
    ("Lợi ích của tiếp thị thượng nguồn là gì?",
     ["Long-Term Success", "Competitive Edge", "Improved Customer Satisfaction"]),
    ("Welche Beispiele für Downstream-Marketing gibt es?",
     ["Social Media Marketing", "Email Marketing", "Search Engine Marketing (SEM)"]),
    ("Chương trình khách hàng thân thiết có vai trò gì?", None),
])
def test_a_list_titled_in_another_language_answers_the_question_it_names(
        real_kb, question, first):
    """A list's title in another language names the question when both name the same
    glossary concepts and question words: "Benefits of Upstream Marketing" answers
    "Welche Vorteile hat Upstream-Marketing?", which quoted the German article's opening
    sentences before; "충성도 프로그램의 역할" (the role of loyalty programmes) answers the
    Vietnamese question about it."""
    ans = real_kb.ask(question)
    texts = [s.text for s in ans.sentences]
    if first is None:
        assert texts[0].startswith("충성도 프로그램은 고객이 브랜드와의 거래를"), texts
        items = [t[2:].split(":")[0] for t in texts if t.startswith("- ")]
        assert items == ["리워드 제공", "고객 유지", "구매 빈도 증가"], texts
    else:
        assert [t[2:].split(":")[0] for t in texts[:3]] == first, texts
    assert len(texts) <= MAX_WITH_LIST
    _check_spans(real_kb, ans)
    # Asked what the concept is, the question names no list ("benefit" is not asked).
    plain = [s.text for s in real_kb.ask("Was ist Upstream-Marketing?").sentences]
    assert not any(t.startswith("- Long-Term Success") for t in plain), plain


@pytest.mark.model
def test_a_definition_in_the_passages_is_quoted_however_far_below_the_best(real_kb):
    """"Tiếp thị hạ nguồn là gì?" quoted Vietnamese sentences that compare or use the
    term, and not the English sentence that says what downstream marketing is, though
    its passage was among the answer's."""
    ans = real_kb.ask("Tiếp thị hạ nguồn là gì?")
    texts = [s.text for s in ans.sentences]
    assert "Downstream marketing is more tactical and focuses on short-term results." in texts
    assert ans.undefined is None
    _check_spans(real_kb, ans)


@pytest.mark.parametrize(("sentence", "contrast"), [
    ("반면, 다운스트림 마케팅은 전술적인 접근 방식을 채택합니다.", True),
    ("However, downstream marketing is tactical.", True),
    ("Dagegen ist Downstream-Marketing taktisch.", True),
    ("Ngược lại, tiếp thị hạ nguồn mang tính chiến thuật.", True),
    ("그리고 다운스트림 마케팅은 즉각적인 판매를 위한 전략을 수립할 수 있도록 해줍니다.", False),
    ("한편, 다운스트림 마케팅 방식은 직접 광고와 같은 전략을 통해 도움을 줄 수 있습니다.", False),
    ("반면교사로 삼을 만한 사례입니다.", False),  # a word, not the connective
])
def test_a_sentence_that_opens_with_a_contrast_leans_on_the_one_before(sentence, contrast):
    assert bool(_CONTRAST.match(sentence)) is contrast


@pytest.mark.model
def test_a_contrast_comes_with_what_it_answers(real_kb):
    """"반면, 다운스트림 마케팅은 이러한 기반을 바탕으로 …" ("on the other hand,
    downstream marketing builds on this foundation") was quoted without the sentence
    about upstream marketing's foundation that it answers."""
    question = "업스트림 마케팅과 다운스트림 마케팅의 차이는 무엇인가요?"
    texts = [s.text for s in real_kb.ask(question).sentences]
    i = next(i for i, t in enumerate(texts) if t.startswith("반면, 다운스트림 마케팅은 이러한"))
    foundation = "업스트림 마케팅은 탄탄한 기반을 다지는 것을 목표로 합니다."
    assert i > 0 and texts[i - 1] == foundation, texts
    # One that answers a sentence which points back in turn ("이러한 활동에는 …") is
    # not quoted: stop 35's "What is downstream marketing?" in Korean ended with "반면,
    # 다운스트림 마케팅은 전술적인 접근 방식을 채택합니다.", turning from nothing it had said.
    texts = [s.text for s in real_kb.ask("다운스트림 마케팅이란 무엇인가요?").sentences]
    assert texts and not any(t.startswith("반면, 다운스트림 마케팅은 전술적인") for t in texts)


@pytest.mark.model
@pytest.mark.parametrize(("question", "first"), [
    ("How does Amazon use cross-selling?", "온라인 소매업의 거인 아마존은"),
    ("How does Netflix use cross-selling?", "넷플릭스는 고객의 시청 패턴을"),
])
def test_a_brand_in_another_script_is_answered_from_the_passage_that_names_it(
        real_kb, question, first):
    """The glossary's names carry "Amazon" to "아마존": the Amazon question had opened
    with a sentence on existing customers and quoted loyalty-programme items, the
    Netflix one found the Netflix passage 9th and quoted the loyalty section (QA)."""
    ans = real_kb.ask(question)
    assert ans.found, ans.message
    assert ans.sentences[0].text.startswith(first), [s.text for s in ans.sentences]
    # A brand the corpus names is no sign that a question about it is answered.
    assert not real_kb.ask("Who founded Starbucks?").found


@pytest.mark.model
def test_a_list_the_chunker_split_between_passages_is_quoted_whole(real_kb):
    """QA: the five steps under "두 가지 접근 방식을 함께 사용하는 방법은 무엇일까요?" are
    three items in one passage and two in the next; the answer quoted one later sentence
    from each. Its lead-in's last sentence, the one that introduces the steps, leads."""
    ans = real_kb.ask("업스트림과 다운스트림 마케팅을 함께 사용하는 방법은?")
    texts = [s.text for s in ans.sentences]
    steps = [t[2:].split(":")[0] for t in texts if t.startswith("- ")]
    assert steps == ["전략 정렬", "타겟 고객 식별", "성능 모니터링", "지속적인 업그레이드",
                     "검토 및 수정"]
    assert texts[0] == "두 가지 접근 방식을 혼합할 때 따라야 할 단계는 다음과 같습니다."
    assert len(texts) <= MAX_WITH_LIST and len(set(texts)) == len(texts)
    assert len({c.hit.chunk_id for c in ans.citations}) == 2  # each step cites its passage
    # Step 2's second sentence belongs to it: one list of five items on the Ask page, and
    # indented under it by `kb ask` (QA: two lists, that sentence a paragraph between).
    assert [s.text[:5] for s in ans.sentences if s.in_item] == ["업스트림 "]
    from web.views import answer_view

    [_, steps] = answer_view(ans)["blocks"]
    assert steps["list"] and len(steps["entries"]) == 5 and len(steps["entries"][1]) == 2
    _check_spans(real_kb, ans)
    # Two later sentences of two steps that name the concept do not make a definition
    # question ask for the steps.
    defined = [s.text for s in real_kb.ask("업스트림 마케팅의 정의는?").sentences]
    assert not any(t.startswith("- ") for t in defined), defined


@pytest.mark.model
def test_an_answer_in_other_languages_says_so(real_kb):
    """QA11: English, German and Vietnamese questions on bundling got all-Korean answers
    with no word that nothing in their language answers them."""
    other = real_kb.ask("What is bundling?")
    assert other.found and {c.hit.lang for c in other.citations} == {"ko"}
    # QA19 F8: said above the answer (Answer.languages), and not as "none in English",
    # which read as "the knowledge base has nothing in English".
    assert other.languages.summary == "In Korean: no English sentence in this answer."
    assert other.message.endswith(" quoted from 1 article."), other.message
    own = real_kb.ask("What is upstream marketing?")
    assert own.found and own.languages.own and not own.languages.foreign
    assert "no English sentence" not in own.languages.text


@pytest.mark.model
def test_two_loosely_related_items_do_not_bring_their_whole_list(real_kb):
    """QA10: "Why is there tension between marketing and sales teams?" quoted two items
    of a list of marketing activities, and so all four: eight sentences, four of them
    padding. Two items bring their list only when both score near the best sentence."""
    texts = [s.text for s in real_kb.ask(
        "Why is there tension between marketing and sales teams?").sentences]
    assert any("Spannung zwischen Marketing- und Verkaufsteams" in t for t in texts), texts
    assert not any(t.startswith(("- Performance Metrics", "- Brand Messaging")) for t in texts)


TABLE_HEADER = "Aspect | Upstream Marketing | Downstream Marketing |"


@pytest.mark.model
def test_a_table_row_that_answers_is_quoted_under_its_header(real_kb):
    """"Which metrics are used for upstream marketing?" quoted sentences on conversion
    metrics (downstream's) and general ones: the answer is the comparison table's row
    "Metrics | Customer insights, market potential | …", which table rows never were.
    A row is quoted with the header row that names its columns, right before it."""
    ans = real_kb.ask("Which metrics are used for upstream marketing?")
    lines = [(s.table, s.text) for s in ans.sentences]
    row = next(i for i, (_, t) in enumerate(lines) if t.startswith("Metrics | Customer insights"))
    assert lines[row][0] == "row" and lines[row - 1] == ("header", TABLE_HEADER), lines
    assert [t for t, _ in lines].count("header") == 1


@pytest.mark.model
@pytest.mark.parametrize("question", [
    "What is the difference between upstream and downstream marketing?",
    "upstream vs downstream",
    "업스트림과 다운스트림 마케팅의 차이는?",
    # QA12: the table is 11th in search here, after the Korean passages.
    "업스트림 마케팅과 다운스트림 마케팅의 차이점은 무엇인가요?",
])
def test_a_comparing_question_quotes_the_table_that_compares_its_concepts_whole(
        real_kb, question):
    """No sentence of the comparison table says "difference", so its rows were never
    quoted for the question they answer best. A question that compares two concepts
    quotes the table whose header names both, every row of it, beside the best
    sentences: a Korean asker still reads Korean first."""
    ans = real_kb.ask(question)
    tables = [s.text for s in ans.sentences if s.table]
    assert tables[0] == TABLE_HEADER and len(tables) == 6, tables
    assert len(ans.sentences) <= len(tables) + 4
    n = len(ans.sentences) - 6
    assert ans.message.startswith(f"{n} sentence{'s' if n > 1 else ''} and 5 table rows "
                                  "quoted from "), ans.message
    if ans.lang == "ko":
        assert ans.citations[ans.sentences[0].citations[0] - 1].hit.lang == "ko"


@pytest.mark.model
def test_a_question_that_does_not_compare_quotes_no_whole_table(real_kb):
    for question in ("What is upstream marketing?", "How do upstream and downstream "
                     "marketing work together?"):
        rows = [s.text for s in real_kb.ask(question).sentences if s.table == "row"]
        assert len(rows) <= 1, (question, rows)


@pytest.mark.model
def test_a_heading_that_adds_little_does_not_lift_a_sentence_above_the_answer(real_kb):
    """QA12b: "why do sales and marketing teams clash?" was led by a list item ("Sales
    Enablement", covering .38 of the question) for its heading's "marketing" (.11), and
    the sentence on the tension fell from 2nd to 6th. A sentence and its heading earn
    their joint coverage only when it is at least half the question."""
    texts = [s.text for s in real_kb.ask("why do sales and marketing teams clash?").sentences]
    tension = next(i for i, t in enumerate(texts) if "Spannung zwischen Marketing" in t)
    assert tension <= 1, texts


@pytest.mark.model
def test_a_why_question_is_not_padded_with_a_list_two_items_match(real_kb):
    """QA12: "why do sales and marketing teams clash?" quoted two items of the English
    list of downstream activities (they say "sales" and "marketing"), and so the whole
    list: seven sentences, four of them activities that explain nothing. A reason is an
    explanation; two matching items no longer bring their list to a why-question."""
    texts = [s.text for s in real_kb.ask("why do sales and marketing teams clash?").sentences]
    assert any("Spannung zwischen Marketing" in t for t in texts), texts
    activities = ("Marketing Campaigns", "Sales Enablement", "Performance Metrics",
                  "Brand Messaging")
    assert sum(any(a in t for a in activities) for t in texts) <= 2, texts


@pytest.mark.parametrize(("question", "lang"), [
    ("Beispiele?", "de"), ("examples?", "en"), ("Ví dụ?", "vi"), ("예시", "ko"),
    ("사례는?", "ko"), ("What are the benefits?", "en"), ("역할", "ko")])
def test_a_question_word_alone_asks_what_it_is_about(fake_kb, question, lang):
    """QA19 F3: "Beispiele?" was answered with four sentences from four articles in three
    languages (its dense margin alone), "Ví dụ?" and "예시" were not. Examples of nothing
    named are no question: it is refused the same way in every language, and the
    message asks for the topic and lists concepts in the asker's language."""
    ans = answer(fake_kb, question)
    assert not ans.found and not ans.sentences
    assert "names no topic" in ans.message
    card = fake_kb.glossary.cards[0]
    assert card.names[lang] in ans.message
    assert fake_kb.search(question, explain=True).found is False


def test_a_question_word_beside_anything_else_is_a_question(fake_kb):
    def topicless(q: str, lang: str) -> bool:
        return answers.topicless(fake_kb, q, lang, answers.query_terms(q, lang))

    assert topicless("Beispiele?", "de") and topicless("benefits", "en")
    for q, lang in [("Beispiele für Upselling", "de"), ("examples of companies", "en"),
                    ("업셀링 사례", "ko"), ("why?", "en"), ("Vorteile von Elektroautos", "de")]:
        assert not topicless(q, lang), q


@pytest.mark.model
def test_a_one_word_question_naming_no_concept_is_not_answered_from_that_word(real_kb):
    """QA13: "어디서부터 시작해야 하나요?" (where should I start?) is 시작 alone, which
    the Korean articles use: it got six sentences out of context, while the question in
    English, German and Vietnamese got "no good answer"."""
    for question in ("어디서부터 시작해야 하나요?", "where do I start?", "Womit soll ich anfangen?",
                     "Tôi nên bắt đầu từ đâu?"):
        assert not real_kb.ask(question).found, question
    assert real_kb.ask("번들링이란 무엇인가요?").found  # one word, but a concept


@pytest.mark.parametrize(("question", "lang", "terms"), [
    ("브랜드 포지셔닝은 얼마나 자주 재검토해야 하나요?", "ko", ["브랜드", "포지셔닝", "검토"]),
    ("소비자의 지불 의향을 측정하는 방법에는 무엇이 있나요?", "ko",
     ["소비자", "지불", "의향", "측정"]),
    ("Ab welcher Punktzahl wird ein Interessent übergeben?", "de",
     ["punktzahl", "interessent", "ubergeb"]),
    ("How many times a day should a retargeting ad be shown?", "en",
     ["time", "day", "retarget", "ad", "shown"]),
    ("Nên gửi khảo sát bao lâu một lần?", "vi", ["gửi", "khảo", "sát", "lâu"]),
])
def test_a_questions_frame_is_not_its_content(question, lang, terms):
    """Words that frame a question (how often, how many, should, what there is) can
    never be found in a passage in another language; counted, they kept
    cross-language questions of QA8's library under the bar (stop 31)."""
    assert answers.query_terms(question, lang) == terms


# The first sentence of each subsection of "6. 성공 사례 분석: 크로스셀링으로 매출을
# 극대화한 기업들" in the Korean cross-selling article: one company each.
_COMPANIES = ("아마존은", "스타벅스는", "넷플릭스는", "지마켓은")


def _quotes_the_companies(ans: Answer) -> None:
    texts = [s.text for s in ans.sentences]
    assert ans.found, ans.message
    assert "여러 성공 사례를 분석하는 것이 중요합니다" in texts[0]
    for name, text in zip(_COMPANIES, texts[1:], strict=True):
        assert name in text, texts
    cited = {c.n: c.hit for c in ans.citations}
    for s in ans.sentences:  # each cited to the passage that holds it
        hit = cited[s.citations[0]]
        assert hit.text[s.start - hit.start:s.end - hit.start] == s.text


def test_a_question_for_cases_gets_the_subsections_of_the_section_it_names(fake_kb):
    """QA19 F1: the companies are subsections 6.1-6.4, under a heading that names
    success stories (사례), companies (기업들) and cross-selling; each subsection names
    one company, so no search for the question ranks them high."""
    # The fake encoder's vectors say little: the evidence bar is the real model's.
    low = answers.AnswerConfig(threshold=0.0)
    _quotes_the_companies(answer(fake_kb, "크로스셀링 성공 사례 기업", config=low))


@pytest.mark.parametrize("question", [
    "What is cross-selling?", "크로스셀링 성공 비결",
    "Warum sind Beispiele für Cross-Selling wichtig?",
])
def test_no_section_is_followed_unless_the_question_asks_for_cases(fake_kb, question):
    """Not for a question without a word for cases, nor for one that asks why."""
    low = answers.AnswerConfig(threshold=0.0)
    texts = " ".join(s.text for s in answer(fake_kb, question, config=low).sentences)
    assert sum(name in texts for name in _COMPANIES) <= 1, texts


@pytest.mark.model
@pytest.mark.parametrize("question", [
    "Which companies do cross-selling well?", "companies that do cross-selling well",
    "크로스셀링 성공 사례 기업", "Beispiele für Cross-Selling Unternehmen",
    "ví dụ công ty bán chéo", "cross-selling success stories",
])
def test_which_companies_do_cross_selling_well_names_them_in_every_language(real_kb, question):
    """QA19 F1: every language got the section's lead-in and loosely related
    sentences ("성공적인 크로스셀링 전략은 철저한 고객 분석에서 시작됩니다."), never
    Amazon, Starbucks, Netflix or Gmarket."""
    _quotes_the_companies(real_kb.ask(question))


_INTRODUCES = "이미 존재하는 고객을 대상으로 한 크로스셀링 전략은"  # §1 of the Korean article


def test_an_undefined_concept_is_introduced_by_the_article_titled_with_it(fake_kb):
    """QA19 F2: no passage defines cross-selling, and "What is cross-selling?" quoted
    the loyalty-programme tactics under "4.2. 크로스셀링과의 통합 전략". The article
    whose title names it introduces it in its opening passage."""
    ans = answer(fake_kb, "크로스셀링이란?", config=answers.AnswerConfig(threshold=0.0))
    assert _INTRODUCES in ans.sentences[0].text
    assert ans.undefined is not None  # still told that none of it is a definition
    assert not any(s.in_item or s.text.startswith("- ") for s in ans.sentences)


@pytest.mark.model
@pytest.mark.parametrize("question", [
    "What is cross-selling?", "Was ist Cross-Selling?", "크로스셀링이란?", "Bán chéo là gì?",
    "크로스셀링 뭐야?",
])
def test_what_is_cross_selling_opens_with_the_articles_introduction(real_kb, question):
    ans = real_kb.ask(question)
    assert ans.found and _INTRODUCES in ans.sentences[0].text, [s.text for s in ans.sentences]
    assert not any("충성도 프로그램과 크로스셀링 전략의 통합은" in s.text for s in ans.sentences)


@pytest.mark.model
def test_a_pasted_note_does_not_take_over_the_concept_its_first_words_name(
        real_kb_dir, real_encoder, tmp_path):
    """QA22 F1: a three-sentence German note on B2B cross-selling, pasted with no heading,
    had its first sentence as its title, so it counted as the article about
    cross-selling: first for "What is cross-selling?" in every language, the answer
    opened with it, and the Cross-selling card quoted it as the definition."""
    import shutil

    from kb import concepts
    from kb.articles import parse_article
    from kb.core import KnowledgeBase
    from kb.settings import Settings

    index = tmp_path / "index"
    shutil.copytree(real_kb_dir, index)
    with KnowledgeBase.open(index, settings=Settings(index_dir=index),
                            encoder=real_encoder) as kb:
        note = ("Cross-Selling im B2B-Vertrieb funktioniert am besten, wenn der Vertrieb die "
                "Nutzungsdaten des Kunden kennt. Ein Softwarehaus kann Kunden, die das "
                "Basismodul intensiv nutzen, gezielt das Analysemodul anbieten. So steigt "
                "der Umsatz pro Kunde, ohne dass neue Akquisekosten entstehen.")
        kb.ingest([parse_article(note, name="pasted", pasted=True)])
        for question in ("What is cross-selling?", "크로스셀링이란?", "Bán chéo là gì?"):
            hits = kb.search(question, k=3).hits
            assert not any("heading" in h.signals for h in hits
                           if h.text.startswith("Cross-Selling im B2B")), question
            ans = kb.ask(question)
            assert _INTRODUCES in ans.sentences[0].text, [s.text for s in ans.sentences]
        concept = next(c for c in kb.glossary.match("cross-selling") if c.id == "cross-selling")
        card_definition = concepts.definition(kb, concept)
        assert card_definition is None or "B2B" not in card_definition.hit.text


@pytest.mark.model
@pytest.mark.parametrize(("question", "paragraph"), [
    ("What is upstream marketing?", [
        "Upstream marketing focuses on the early stages of the marketing process.",
        "It involves identifying customer needs", "The goal is to build a solid foundation"]),
    ("What is downstream marketing?", [
        "Downstream marketing is more tactical", "It involves promoting existing products",
        "This approach is crucial"]),
    ("Tiếp thị ngược dòng là gì?", [
        "Tiếp thị ngược dòng tập trung vào sự đổi mới.", "Nó cố gắng trả lời hai câu hỏi"]),
])
def test_a_definition_is_quoted_with_what_its_paragraph_goes_on_to_say(
        real_kb, question, paragraph):
    """QA19 F7: the definition alone, then one-liners in other languages; the sentences
    after it ("It involves …") name nothing of the question and scored low."""
    texts = [s.text for s in real_kb.ask(question).sentences]
    for want, got in zip(paragraph, texts, strict=False):
        assert got.startswith(want), texts


@pytest.mark.model
def test_a_definitions_paragraph_stops_where_it_turns_to_something_else(real_kb):
    """"업스트림 마케팅은 탄탄한 기반을 다지는 것을 목표로 합니다." goes on "반면, 다운스트림
    마케팅은 …" (whereas downstream marketing …): not about the concept asked."""
    texts = [s.text for s in real_kb.ask("업스트림 마케팅이란?").sentences]
    assert texts[0].startswith("업스트림 마케팅은 탄탄한 기반을")
    assert not any(t.startswith("반면") for t in texts), texts


@pytest.mark.model
@pytest.mark.parametrize("question", [
    "khác biệt giữa bán thêm và bán chéo", "cross-sell vs upsell",
    "upselling vs cross-selling", "Unterschied zwischen Upselling und Cross-Selling",
])
def test_a_comparing_question_quotes_each_concept_it_compares(real_kb, question):
    """QA19 F5: the Vietnamese question got cross-selling sentences and Vietnamese ones
    on sales ("bán hàng", which shares "bán" with both terms), never what upselling is;
    the same question in English, German and Korean opened with it."""
    texts = [s.text for s in real_kb.ask(question).sentences]
    assert any(t.startswith("업셀링은 고객에게 더 고급 제품이나") for t in texts), texts
    assert any("크로스셀링" in t for t in texts), texts
    assert not any("bán hàng" in t for t in texts), texts


PRICING = Path(__file__).parent / "data" / "qa22-pricing"  # QA22's articles on pricing

PRICING_TABLE = """---
title: Choosing a Pricing Model for SaaS
---
# Choosing a Pricing Model for SaaS

A pricing model decides how a software company charges its customers. The right model
grows revenue with the value each customer gets.

## Common models

| Model | How it charges | Best for |
|---|---|---|
| Flat rate | One price for everything | Simple products |
| Per seat | A price per user | Team collaboration tools |
| Freemium | A free tier plus paid upgrades | Products that spread by word of mouth |
"""


def test_a_table_row_that_holds_the_whole_question_is_quoted_without_a_concept(fake_kb):
    """QA22 F2: a row was quoted only when a glossary concept named its topic, so "What
    is freemium?" got five sentences from four articles, not the row search ranked
    first."""
    from kb.articles import parse_article

    fake_kb.ingest([parse_article(PRICING_TABLE, name="en-pricing-table.md")])
    ans = answer(fake_kb, "What is freemium?", config=answers.AnswerConfig(threshold=0.0))
    texts = [s.text for s in ans.sentences]
    assert any(t.startswith("| Freemium | A free tier") for t in texts), texts
    # A row that lacks a word of the question is still left out.
    assert not any(t.startswith(("| Flat rate", "| Per seat")) for t in texts), texts


@pytest.mark.model
@pytest.mark.parametrize("question", ["Phân tích đối thủ cạnh tranh là gì?",
                                      "경쟁사 분석은 왜 하나요?"])
def test_a_quoted_list_item_brings_its_later_sentences(real_kb, question):
    """QA24b F5: "- 구독 해지율: 메일 한 번 발송당 … 비율." was quoted without the same
    item's "0.5%를 넘으면 빈도나 내용을 점검해야 합니다.", which answered the question.
    Here the seed item "- Competitive Analysis: Studying competitors' …" came without
    "This helps businesses understand the competitive landscape …"."""
    texts = [s.text for s in real_kb.ask(question).sentences]
    at = next(i for i, t in enumerate(texts) if t.startswith("- Competitive Analysis:"))
    assert texts[at + 1].startswith("This helps businesses understand"), texts


KPI_TABLE = """---
title: 마케팅 KPI
lang: ko
---
마케팅 KPI

1. 주요 KPI와 계산 방법
마케팅 성과는 몇 가지 지표로 측정합니다.
지표 | 의미 | 계산 방법
CAC(고객 획득 비용) | 신규 고객 한 명을 얻는 데 드는 비용 | 마케팅·영업 비용 ÷ 신규 고객 수
ROAS(광고 수익률) | 광고비 1원당 발생한 매출 | 광고로 발생한 매출 ÷ 광고비
"""


@pytest.mark.model
def test_a_row_of_a_table_written_without_a_rule_is_quoted_under_its_first_line(
        real_kb_dir, real_encoder, tmp_path):
    """QA24b F1: a table pasted from a spreadsheet has no "---|---" rule under its
    header, so none of its rows was quoted: "고객 획득 비용은 어떻게 계산하나요?" got
    sentences from three other articles, not the row with the formula."""
    from kb.articles import parse_article

    with _copy_of(real_kb_dir, real_encoder, tmp_path) as kb:
        kb.ingest([parse_article(KPI_TABLE, name="ko-kpi-table.txt")])
        for question in ("CAC 계산 방법", "고객 획득 비용은 어떻게 계산하나요?"):
            quoted = [(s.table, s.text) for s in kb.ask(question).sentences]
            assert ("header", "지표 | 의미 | 계산 방법") in quoted, quoted
            assert any(t == "row" and x.startswith("CAC(고객 획득 비용)")
                       for t, x in quoted), quoted
            assert not any(x.startswith("ROAS") for _, x in quoted), quoted  # not asked


@pytest.mark.model
def test_a_german_question_is_answered_from_a_vietnamese_article_on_email(
        real_kb_dir, real_encoder, tmp_path):
    """QA22 F6: with a Vietnamese article on email marketing added, "Wie baue ich eine
    E-Mail-Liste auf?" had it as search's first two hits and got "No good answer": its
    words were "e", "mail" and "list", and "email", which the Vietnamese writes, was not
    one of them."""
    import shutil
    from pathlib import Path

    from kb.articles import read_article
    from kb.core import KnowledgeBase
    from kb.settings import Settings

    index = tmp_path / "index"
    shutil.copytree(real_kb_dir, index)
    with KnowledgeBase.open(index, settings=Settings(index_dir=index),
                            encoder=real_encoder) as kb:
        data = Path(__file__).parent / "data"
        # A German article among the passages read (on pricing) holds none of its words.
        kb.ingest([read_article(data / "qa22-email" / "vi-email.txt"),
                   read_article(data / "qa22-pricing" / "de-preisgestaltung.txt")])
        ans = kb.ask("Wie baue ich eine E-Mail-Liste auf?")
        assert any(h.lang == "de" for h in ans.passages), ans.passages
        assert ans.found, ans.message
        assert any(c.hit.lang == "vi" and "danh sách" in c.hit.text for c in ans.citations)


@pytest.mark.model
def test_an_answer_in_another_language_is_not_padded_with_the_askers(
        real_kb_dir, real_encoder, tmp_path):
    """QA22 F5: "What is value-based pricing?", answered only by a German article, quoted
    three English sentences on value propositions and buyer personas too (an English
    passage third by BM25 alone, for "value", made every English sentence the asker's
    language's), and said "3 of 5 sentences in English"."""
    with _copy_of(real_kb_dir, real_encoder, tmp_path) as kb:
        kb.ingest([read_article(PRICING / "de-preisgestaltung.txt")])
        ans = kb.ask("What is value-based pricing?")
        texts = [s.text for s in ans.sentences]
        assert ans.found and any(t.startswith("Die wertorientierte Preisgestaltung")
                                 for t in texts), texts
        quoted = dict(ans.languages.quoted)
        assert quoted["de"] > quoted.get("en", 0), texts


@pytest.mark.model
def test_a_passages_best_section_is_quoted_before_its_other_sections(
        real_kb_dir, real_encoder, tmp_path):
    """QA22 F8: "What are psychological prices?" opened with "Value-based pricing sets the
    price …": the passage holds both sections, and its sentences were quoted in text
    order. A section whose heading is the question now comes first."""
    with _copy_of(real_kb_dir, real_encoder, tmp_path) as kb:
        kb.ingest([read_article(PRICING / "en-pricing-shops.md")])
        ans = kb.ask("What are psychological prices?")
        texts = [s.text for s in ans.sentences]
        assert ans.found and texts[0].startswith("Prices such as 9.99 euros"), texts


@pytest.mark.parametrize(("text", "question", "lang", "leads"), [
    # "여기에는" (in it) and "이는" (this) point back at the sentence that opens with the
    # question's concept.
    ("다운스트림 마케팅은 계획의 후반부에 위치합니다. 이는 반응형 접근 방식입니다. "
     "여기에는 인적 판매와 이메일 마케팅 같은 전략이 포함됩니다.",
     "다운스트림 마케팅에는 어떤 전략이 포함되나요?", "ko", [True, True, True]),
    # Pointing back at a sentence about something else, it is not about the question's.
    ("브랜드는 오래 갑니다. 여기에는 인적 판매 같은 전략이 포함됩니다.",
     "다운스트림 마케팅에는 어떤 전략이 포함되나요?", "ko", [False, False]),
    # A contrast turns away from what it follows.
    ("Upstream marketing builds demand early on. However, sales emails convert the "
     "demand later. These emails need a clear offer.",
     "What does upstream marketing do?", "en", [True, False, False]),
    # Opening with a plain word of the question is weaker: not handed on.
    ("Marketing covers many tasks. It involves selling existing products.",
     "How does marketing meet sales?", "en", [True, False]),
], ids=["ko-points-back", "ko-points-elsewhere", "en-contrast", "en-plain-word"])
def test_a_sentence_that_points_back_leads_with_what_it_points_at(text, question, lang,
                                                                  leads):
    """Stop 33's xfail: "다운스트림 마케팅에는 어떤 전략이 포함되나요?" quoted general
    sentences naming downstream marketing, not "여기에는 인적 판매, 이메일 마케팅 …
    전략이 포함됩니다": it named no word of the question first, and lost the lead bonus
    that every sentence opening with "다운스트림 마케팅은" had."""
    from kb.results import Hit

    hit = Hit(1, "a", "A", lang, "", text, 0, len(text), 1.0)
    cands = _candidates([hit])
    assert len(cands) == len(leads)
    qterms = answers.query_terms(question, lang)
    concept = {"ko": ["다운스트림 마케팅"], "en": ["upstream marketing"]}
    assert _leads_with(cands, qterms, lang, [(set(), concept)]) == leads


def test_a_chain_of_sentences_pointing_back_is_quoted_only_from_its_start():
    """"여기에는 … 포함됩니다" points at "이는 … 방식입니다", which points at "다운스트림
    마케팅은 …": quoted with the middle one alone it still says nothing of what it is
    about. With the start quoted, the middle one comes too; without it, the sentence is
    left out (a question on double opt-in got three sentences on downstream marketing)."""
    from kb.results import Hit

    text = ("다운스트림 마케팅은 계획의 후반부에 위치합니다. 이는 반응형 접근 방식입니다. "
            "여기에는 인적 판매와 이메일 마케팅 같은 전략이 포함됩니다.")
    cands = _candidates([Hit(1, "a", "A", "ko", "", text, 0, len(text), 1.0)])
    start, middle, last = cands
    assert _antecedents([start, last], cands, 5) == ([middle], [])
    assert _antecedents([last], cands, 5) == ([], [last])
    assert _antecedents([start, last], cands, 0) == ([], [last])  # no room


def test_a_sentence_that_turns_from_one_no_answer_can_quote_does_not_lead():
    """QA25 F5: "업스트림과 다운스트림 마케팅의 차이는?" opened with "반면, 다운스트림
    마케팅은 전술적인 접근 방식을 채택합니다." ("On the other hand, …") after a sentence
    that points back in turn, so neither could be quoted before it. A contrast after a
    plain sentence can lead: that sentence comes with it."""
    from kb.results import Hit

    text = ("업스트림 마케팅은 장기 전략입니다. 이러한 활동에는 시장 조사가 포함됩니다. "
            "반면, 다운스트림 마케팅은 전술적인 접근 방식을 채택합니다. "
            "업스트림 마케팅은 탄탄한 기반을 다집니다. "
            "반면, 다운스트림 마케팅은 이 기반으로 매출을 늘립니다.")
    cands = _candidates([Hit(1, "a", "A", "ko", "", text, 0, len(text), 1.0)])
    assert [_turns_from_nothing(i, cands) for i in range(len(cands))] == [
        False, False, True, False, False]
    other = "Dagegen ist Downstream-Marketing taktisch."  # no sentence before it at all
    alone = _candidates([Hit(2, "b", "B", "de", "", other, 0, len(other), 1.0)])
    assert _turns_from_nothing(0, alone)


def test_a_sentence_that_adds_to_the_one_before_comes_with_it():
    """"또한, … 'Just Do It' 캠페인을 진행하며 하류 마케팅을 도입했습니다." ("Also, …")
    was quoted without the sentence on Nike it adds to, and did not say whose campaign
    it was (QA25 F5: "또한 CAC 회수 기간이 …" likewise)."""
    from kb.results import Hit

    text = ("나이키는 혁신적인 제품을 출시했습니다. 또한, 'Just Do It' 캠페인을 진행하며 "
            "하류 마케팅을 도입했습니다.")
    cands = _candidates([Hit(1, "a", "A", "ko", "", text, 0, len(text), 1.0)])
    first, also = cands
    assert _antecedents([also], cands, 5) == ([first], [])


@pytest.mark.model
@pytest.mark.parametrize("question", ["업스트림과 다운스트림 마케팅의 차이는?",
                                      "업스트림과 다운스트림 마케팅의 차이점은?"])
def test_the_comparison_does_not_open_with_on_the_other_hand(real_kb, question):
    """QA25 F5: the team's flagship question opened with "반면, 다운스트림 마케팅은 전술적인
    접근 방식을 채택합니다." ("On the other hand, …"), its other hand never quoted."""
    texts = [s.text for s in real_kb.ask(question).sentences]
    assert not texts[0].startswith("반면"), texts
    for i, text in enumerate(texts):  # each contrast follows what it turns from
        if text.startswith("반면"):
            assert i > 0 and not texts[i - 1].startswith("반면"), texts


def test_asked_what_a_concept_is_the_answer_does_not_open_with_a_table_row():
    """QA25 F4: "What does “conversion rate” mean?" opened with a comparison table's
    "Metrics | … | Conversion rates, engagement |" row, which e5 put nearest. A row says
    how things differ in one respect: the sentence that says what the concept is leads,
    and the row may follow. Asked anything else, the best row may still lead."""
    from kb.answers.scoring import _pick
    from kb.results import Hit

    header = "Aspect | Upstream | Downstream |"
    row_text = "Metrics | Customer insights | Conversion rates, engagement |"
    item_text = "- Conversion rate: the share of visitors who go on to buy."
    other_text = "Conversion rates rise when offers are relevant."
    text = f"{header}\n|---|---|---|\n{row_text}\n\n{item_text}\n{other_text}"
    hit = Hit(1, "a", "A", "en", "", text, 0, len(text), 1.0)

    def cand(sentence: str, dense: float, **kw) -> _Candidate:
        start = text.index(sentence)
        c = _Candidate(0, hit, start, start + len(sentence), sentence, "", **kw)
        c.features = {"dense": dense, "coverage": 1.0, "rank": 1.0, "asker_lang": 1.0,
                      "lead": 0.0, "defines": 0.0, "says": 0.0, "concept": 1.0,
                      "concept_near": 1.0, "heading": 0.0, "completed": 0.0,
                      "its_section": 0.0}
        return c

    row = cand(row_text, 3.0, table="row", header=(0, len(header)))
    item = cand(item_text, 0.5)
    item.features["says"] = 2.0  # a list item labelled with the concept
    other = cand(other_text, 1.0)
    cands = [row, item, other]
    sim_z = np.zeros((3, 3))
    cfg = answers.AnswerConfig()
    assert _pick(cands, sim_z, cfg, what=True)[0] is item
    assert _pick(cands, sim_z, cfg, what=False)[0] is row
    item.features["says"] = 0.0  # none says it: the best sentence that is no row
    assert _pick(cands, sim_z, cfg, what=True)[0] is other


def test_a_sentence_that_says_the_one_before_again_comes_with_it():
    """QA25 F4: every answer on thought leadership opened with "곧 다가올 물고기를 잡기
    위해 꼭대기에 서 있는 것이죠." ("it is standing at the top …"), the second half of a
    simile, brought in as what "이 단계의 …" points back at. A sentence ending "…
    것이죠" says the one before it again: the two come together, and a sentence pointing
    back at them brings both."""
    from kb.results import Hit

    text = ("업스트림 마케팅은 마치 강물을 위에서 내려다보는 것과 같습니다. 곧 다가올 물고기를 "
            "잡기 위해 꼭대기에 서 있는 것이죠. 이 단계의 핵심 활동으로는 사고 리더십 구축이 "
            "있습니다.")
    cands = _candidates([Hit(1, "a", "A", "ko", "", text, 0, len(text), 1.0)])
    simile, again, stage = cands
    assert _antecedents([stage], cands, 5) == ([simile, again], [])
    assert _antecedents([again], cands, 5) == ([simile], [])
    assert _antecedents([stage], cands, 1) == ([], [stage])  # no room for both
