"""A passage keeps its id while its text stays the same: links to it (``#c<id>``,
``?p=<id>``) survive an edit elsewhere in its article, a re-ingest and a rebuild. QA17
(F2): every text save, and every `kb reindex`, broke every link into the article."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kb.articles import parse_article
from kb.core import KnowledgeBase
from kb.sentences import sentence_spans
from kb.settings import Settings
from kb.vectors import VectorConfig


def para(topic: str, word: str) -> str:
    """A paragraph long enough (with the fake encoder's token count) to be a passage of
    its own; ``word`` appears in it only."""
    return " ".join(f"{topic} sentence {i} explains how {topic} teams plan campaigns."
                    for i in range(12)) + f" The {word} example closes it."


SECTIONS = [("Onboarding", para("onboarding", "aardvark")),
            ("Smart retries", para("retries", "quokka")),
            ("Win-back", para("winback", "narwhal"))]


def playbook(sections=SECTIONS, top: str = "") -> str:
    body = "\n\n".join(f"## {h}\n\n{p}" for h, p in sections)
    return f"# Retention playbook\n\n{top}{body}\n"


TOP = f"## Welcome\n\n{para('welcome', 'ibis')}\n\n"  # a new first section
OTHERS = {"pricing": para("pricing", "ocelot"), "events": para("events", "pangolin")}
QUERIES = ["aardvark onboarding", "quokka retries", "zebrafish retries", "narwhal winback",
           "pricing ocelot", "events teams plan campaigns"]


def open_kb(d: Path, encoder, kind: str = "auto") -> KnowledgeBase:
    settings = Settings(index_dir=d, corpus_dir=d.parent / "corpus", model="fake",
                        vector_index=VectorConfig(kind=kind))
    return KnowledgeBase.open(d, settings=settings, encoder=encoder)


@pytest.fixture(params=["flat", "ivf"])
def kb(request, tmp_path, fake_encoder):
    """A small library: the three-passage playbook and two other articles, searched
    through an exact or an IVF index (IVF keeps a write's changes in a delta beside
    it, with deleted ids skipped: the case where a kept id must not be deleted)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "playbook.md").write_text(playbook())
    for name, text in OTHERS.items():
        (corpus / f"{name}.md").write_text(f"# {name.title()}\n\n{text}\n")
    kb = open_kb(tmp_path / "index", fake_encoder, request.param)
    assert not kb.ingest_paths([corpus]).errors
    kb.search("warm")  # load the indexes, so the next write updates them incrementally
    yield kb
    kb.close()


def ids(kb: KnowledgeBase, article_id: str = "playbook") -> list[int]:
    return [c.id for c in kb.store.article_chunks(article_id)]


def save(kb: KnowledgeBase, text: str) -> None:
    (kb.settings.corpus_dir / "playbook.md").write_text(text)
    report = kb.ingest_paths([kb.settings.corpus_dir])
    assert report.updated + report.added == ["playbook"], report


def results(kb: KnowledgeBase) -> list[list[tuple[int, float]]]:
    return [[(h.chunk_id, h.score) for h in kb.search(q, k=10).hits] for q in QUERIES]


def assert_consistent(kb: KnowledgeBase) -> None:
    """The indexes the writes updated in place answer as ones built afresh from the
    database, and every stored passage is an exact slice with its sentences."""
    got = results(kb)
    for d in kb.index_dir.glob("derived-*"):
        shutil.rmtree(d)
    (kb.index_dir / "derived.json").unlink()
    fresh = open_kb(kb.index_dir, kb.encoder, kb.settings.vector_index.kind)
    try:
        for q, hits, expected in zip(QUERIES, got, results(fresh), strict=True):
            assert [c for c, _ in hits] == [c for c, _ in expected], q
            assert [s for _, s in hits] == pytest.approx([s for _, s in expected], abs=1e-4)
    finally:
        fresh.close()
    for row in kb.store.articles(with_text=True):
        text = row["text"]
        for c in kb.store.article_chunks(row["id"]):
            assert text[c.start:c.end] == c.text
            stored = [(a, b) for a, b, _ in kb.store.chunk_sentences([c.id]).get(c.id, [])]
            assert stored == sentence_spans(text, c.start, c.end)


def texts(kb: KnowledgeBase, query: str) -> str:
    return " ".join(h.text for h in kb.search(query, k=10).hits)


def test_a_typo_in_one_passage_keeps_the_others_ids(kb):
    before = ids(kb)
    assert len(before) == 3
    edited = [SECTIONS[0], ("Smart retries", SECTIONS[1][1].replace("quokka", "zebrafish")),
              SECTIONS[2]]
    save(kb, playbook(edited))
    after = ids(kb)
    assert after[0] == before[0] and after[2] == before[2]
    assert after[1] not in before  # the changed passage is a new one
    # The index holds the new words and not the old ones.
    assert "zebrafish" in kb.search("zebrafish", k=1).hits[0].text
    assert "quokka" not in texts(kb, "quokka retries")
    assert_consistent(kb)


def test_a_paragraph_inserted_at_the_top_moves_the_passages_and_keeps_their_ids(kb):
    before = kb.store.article_chunks("playbook")
    save(kb, playbook(top=TOP))
    after = kb.store.article_chunks("playbook")
    # The first passage held the title, which now heads the new section instead.
    assert len(after) == 4 and after[0].id not in [c.id for c in before]
    assert [c.id for c in after[2:]] == [c.id for c in before[1:]]
    assert [c.text for c in after[2:]] == [c.text for c in before[1:]]
    assert all(a.start > b.start for a, b in zip(after[2:], before[1:], strict=True))
    assert "ibis" in kb.search("ibis welcome", k=1).hits[0].text
    assert_consistent(kb)


def test_the_same_text_again_keeps_every_id(kb):
    """Replacing a text with an edited one and then with the first again: the
    unchanged passages never lost their ids, and the restored one gets a new id."""
    before = ids(kb)
    save(kb, playbook([SECTIONS[0], SECTIONS[2]]))  # a section removed
    assert ids(kb) == [before[0], before[2]]
    save(kb, playbook())
    assert ids(kb)[0] == before[0] and ids(kb)[2] == before[2]
    assert_consistent(kb)


@pytest.mark.parametrize("prune", [False, True])
def test_a_rebuild_keeps_every_id(kb, prune):
    """`kb reindex` (which `make run` runs after an upgrade) renumbered every passage."""
    outside = parse_article("# Outside\n\n" + para("outside", "wombat"), name="outside.md",
                            lang="en")
    kb.ingest([outside])  # not in the corpus: kept from its stored text, or pruned
    before = {a["id"]: ids(kb, a["id"]) for a in kb.articles()}
    report = kb.reindex(prune=prune)
    after = {a["id"]: ids(kb, a["id"]) for a in kb.articles()}
    expected = {k: v for k, v in before.items() if not (prune and k == "outside")}
    assert after == expected
    assert report.removed == (["outside"] if prune else [])
    assert_consistent(kb)


# -- links into the article -----------------------------------------------------------
@pytest.fixture
def client(kb):
    from fastapi.testclient import TestClient

    from web.app import create_app

    with TestClient(create_app(kb.settings, kb=kb)) as c:
        yield c


def cite(kb: KnowledgeBase, n: int, word: str = "sentence 3 ") -> tuple[str, str, str]:
    """(link as the app makes it, link as it made it before, quoted sentence) to the
    sentence with ``word`` in the ``n``-th passage of the playbook."""
    from web.views import article_href

    c = kb.store.article_chunks("playbook")[n]
    text = kb.store.article("playbook")["text"]
    a, b = next((a, b) for a, b in sentence_spans(text, c.start, c.end) if word in text[a:b])
    old = f"/articles/playbook?hl={a}-{b}&p={c.id}#c{c.id}"
    return article_href("playbook", chunk_id=c.id, start=c.start, span=(a, b)), old, text[a:b]


def marked(client, href: str) -> tuple[str, str]:
    """(the marked text, the notice about the link) of the page a link opens."""
    import html
    import re

    page = client.get(href).text
    marks = re.findall(r"<mark[^>]*>(.*?)</mark>", page, re.S)
    notice = re.search(r'id="(stale|moved)-link">', page)
    return html.unescape(" ".join(marks)), notice.group(1) if notice else ""


def test_links_to_unchanged_passages_mark_the_same_sentences_after_a_typo(kb, client):
    links = [cite(kb, n) for n in range(3)]
    edited = [SECTIONS[0], ("Smart retries", SECTIONS[1][1].replace("quokka", "zebrafish")),
              SECTIONS[2]]
    save(kb, playbook(edited))
    for new, old, sentence in (links[0], links[2]):
        assert "hp=" in new
        assert marked(client, new) == (sentence, "") == marked(client, old)
    # The edited passage is gone; the sentence the link quoted is still there word for
    # word, so it is marked, and the page says the article changed.
    for href in links[1][:2]:
        assert marked(client, href) == (links[1][2], "moved")


def test_links_mark_the_same_sentences_after_a_paragraph_is_inserted_above(kb, client):
    links = [cite(kb, n, "sentence 5 ") for n in (1, 2)]
    save(kb, playbook(top=TOP))
    for new, old, sentence in links:
        assert marked(client, new) == (sentence, "") == marked(client, old)


def test_a_link_whose_sentence_is_gone_marks_nothing_and_says_so(kb, client):
    new, old, sentence = cite(kb, 1, "quokka")  # "The quokka example closes it."
    save(kb, playbook([SECTIONS[0], ("Smart retries", SECTIONS[1][1].replace("quokka", "ibis")),
                       SECTIONS[2]]))
    assert marked(client, new) == ("", "stale") == marked(client, old)


def test_a_link_into_a_removed_and_restored_article_finds_its_sentence(kb, client):
    """The restored article's passages have new ids; the link's quoted sentence is
    found in it from where the removed passage was."""
    links = [cite(kb, n) for n in range(3)]
    kb.remove("playbook")
    save(kb, playbook())
    for new, old, sentence in links:
        assert marked(client, new) == (sentence, "moved") == marked(client, old)
