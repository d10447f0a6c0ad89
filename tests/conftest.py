"""Shared fixtures: seed data from ../shared (test time only) and fake-encoder indexes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPUS = ROOT / "corpus"


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.glob("*.txt"))


@pytest.fixture(scope="session")
def seed_questions() -> list[dict]:
    path = SHARED / "eval" / "seed_questions.jsonl"
    if not path.exists():
        pytest.skip("../shared/eval is not beside this checkout")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def fake_encoder():
    from kb.encoder import FakeEncoder

    return FakeEncoder()


@pytest.fixture(scope="session")
def fake_kb_dir(tmp_path_factory, fake_encoder) -> Path:
    """An index of the corpus built once with the fake encoder."""
    from kb.core import KnowledgeBase
    from kb.settings import Settings

    d = tmp_path_factory.mktemp("fake-index")
    kb = KnowledgeBase.open(d, settings=Settings(index_dir=d, model="fake"), encoder=fake_encoder)
    report = kb.ingest_paths([CORPUS])
    assert not report.errors, report.errors
    kb.close()
    return d


@pytest.fixture
def fake_kb(fake_kb_dir, tmp_path, fake_encoder):
    """A private copy of the fake index, safe to modify."""
    from kb.core import KnowledgeBase
    from kb.settings import Settings

    d = tmp_path / "index"
    shutil.copytree(fake_kb_dir, d)
    kb = KnowledgeBase.open(d, settings=Settings(index_dir=d, model="fake"), encoder=fake_encoder)
    yield kb
    kb.close()


@pytest.fixture
def client(fake_kb):
    """The web app on the fake index (modules with a writable library define their own)."""
    from fastapi.testclient import TestClient

    from kb.settings import Settings
    from web.app import create_app

    app = create_app(Settings(index_dir=fake_kb.index_dir, model="fake"), kb=fake_kb)
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="session")
def real_encoder():
    """The embedded e5 model (built into the cache on first use)."""
    from kb.encoder import load_encoder

    return load_encoder("embedded")


@pytest.fixture(scope="session")
def real_kb_dir(tmp_path_factory, real_encoder) -> Path:
    """The corpus indexed once with the real model."""
    from kb.core import KnowledgeBase
    from kb.settings import Settings

    d = tmp_path_factory.mktemp("real-index")
    from kb import adding

    kb = KnowledgeBase.open(d, settings=Settings(index_dir=d), encoder=real_encoder)
    report = kb.ingest_paths([CORPUS])
    assert not report.errors, report.errors
    adding.link_new(kb, report.added)  # as `kb ingest` does: the de/vi translation link
    kb.close()
    return d


@pytest.fixture(scope="session")
def real_kb(real_kb_dir, real_encoder):
    from kb.core import KnowledgeBase
    from kb.settings import Settings

    kb = KnowledgeBase.open(real_kb_dir, settings=Settings(index_dir=real_kb_dir),
                            encoder=real_encoder)
    yield kb
    kb.close()


@pytest.fixture
def run(tmp_path, monkeypatch, fake_kb_dir):
    """The CLI on a private copy of the fake index: ``run("search", "q", stdin=...)``."""
    import shutil

    from click.testing import CliRunner

    from kb.cli import cli

    index = tmp_path / "cli-index"  # beside fake_kb's own copy, when a test has both
    shutil.copytree(fake_kb_dir, index)
    monkeypatch.setenv("KB_MODEL", "fake")
    monkeypatch.setenv("KB_INDEX_DIR", str(index))

    def invoke(*args: str, stdin: str | None = None):
        return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)

    return invoke


# A passage that starts under the article's title and runs into "How the score is
# calculated" (the NPS article of benchmarks/data/library, QA25 F10).
NPS_PASSAGE = ("# Running NPS Surveys\n\nThe Net Promoter Score asks one question. Its "
               "simplicity is its strength.\n\n## How the score is calculated\n\nAnswers of "
               "9 or 10 are promoters. The score is the percentage of promoters minus the "
               "percentage of detractors.\n")


@pytest.fixture
def nps_answer():
    """An answer built by hand: three sentences quoted from ``NPS_PASSAGE`` (one under
    its first heading, two under the next), then one from another passage."""
    from kb.answers import Answer, AnswerSentence, Citation
    from kb.results import Hit

    text = NPS_PASSAGE
    nps = Hit(chunk_id=1, article_id="en-nps", title="Running NPS Surveys", lang="en",
              section="Running NPS Surveys", text=text, start=0, end=len(text), score=2.0)
    other_text = "Customers who get a reply after a bad score often become more loyal."
    other = Hit(chunk_id=2, article_id="en-loop", title="Close the loop", lang="en",
                section="Close the loop", text=other_text, start=100, end=100 + len(other_text),
                score=1.0)
    quoted = ["The Net Promoter Score asks one question.", "Answers of 9 or 10 are promoters.",
              "The score is the percentage of promoters minus the percentage of detractors."]
    spans = tuple((text.index(q), text.index(q) + len(q)) for q in quoted)
    sentences = tuple(AnswerSentence(q, (1,), a, b)
                      for q, (a, b) in zip(quoted, spans, strict=True))
    sentences += (AnswerSentence(other_text, (2,), 100, 100 + len(other_text)),)
    return Answer("How is NPS calculated?", "en", True, "4 sentences quoted from 2 articles.",
                  sentences, (Citation(1, nps, spans),
                              Citation(2, other, ((100, 100 + len(other_text)),))),
                  passages=(nps, other))
