"""Real model: a library where each topic is in one language and every language has
articles of its own, the product's promise ("a Korean question must find the German
passage") when the question's own language competes for it (QA8).

The 20 articles and 101 questions are benchmarks/data/library* (benchmarks/library.py
measures all of it); this checks that a question in another language finds the one
article that answers it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import CORPUS

pytestmark = pytest.mark.model

DATA = Path(__file__).resolve().parent.parent / "benchmarks" / "data"


@pytest.fixture(scope="module")
def library(tmp_path_factory, real_encoder):
    from kb.articles import find_articles, read_article
    from kb.core import KnowledgeBase
    from kb.settings import Settings

    d = tmp_path_factory.mktemp("library-index")
    kb = KnowledgeBase.open(d, settings=Settings(index_dir=d), encoder=real_encoder)
    files, errors = find_articles([CORPUS, DATA / "library"])
    assert not errors
    kb.ingest([read_article(f) for f in files])
    yield kb
    kb.close()


def _rank(kb, question: str, article: str) -> int | None:
    hits = kb.search(question, k=10, translations="fold").hits
    return next((i for i, h in enumerate(hits, 1) if h.article_id == article), None)


@pytest.mark.parametrize(("question", "article"), [
    ("다른 브랜드와 공동 마케팅을 시작하기 전에 무엇을 합의해야 하나요?",
     "en-partnership-marketing"),
    ("Nên làm gì với những người đăng ký nhận thư không mở email trong thời gian dài?",
     "de-email-marketing"),
    ("이메일 뉴스레터 제목은 몇 자 이내로 써야 하나요?", "de-email-marketing"),
])
def test_a_question_finds_the_article_in_another_language_among_its_own(
        library, question, article):
    """Each of these had its answer at rank 4-6, under passages in the question's own
    language on other topics: centring left 25% of e5's same-language bonus."""
    rank = _rank(library, question, article)
    assert rank is not None and rank <= 3, (question, rank)


def test_most_questions_find_their_article_in_another_language_in_the_top_3(library):
    """60 questions, each answered by one article in another language: 44 find it in
    the top 3 (benchmarks/library.py; 38 with the adapted centring alone, 33 before it
    and the adapted own-language BM25 weight); the floor leaves room for two."""
    questions = [json.loads(x) for x in
                 (DATA / "library_questions.jsonl").read_text(encoding="utf-8").splitlines()
                 if x.strip()]
    cross = [q for q in questions if q["type"] == "cross"]
    assert len(cross) == 60
    found = [q["q"] for q in cross if (_rank(library, q["q"], q["gold_article"]) or 99) <= 3]
    assert len(found) >= 42, len(found)


def test_the_seed_library_is_centred_as_before(real_kb):
    """One article in most languages: centring stays where the seeds measured it best
    (full centring erased an article's topic when it was its language's only one)."""
    assert real_kb.centring(["de", "en", "ko", "vi"], 0.75) == pytest.approx(0.75)
