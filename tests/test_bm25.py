"""kb.bm25: scores equal bm25s's (the library it replaced, kept as the oracle), writes
change the index in place with the scores of a fresh build, and saving shares files."""

from __future__ import annotations

import numpy as np
import pytest

from kb.bm25 import BM25, MAX_SEGMENTS
from kb.lexical import LexicalIndex


def corpus(n: int, seed: int = 0) -> list[list[str]]:
    """Documents of Zipf-distributed terms, with repeats and a few empty documents."""
    rng = np.random.default_rng(seed)
    vocab = [f"t{i}" for i in range(300)]
    p = 1 / np.arange(1, 301)
    p /= p.sum()
    docs = [[vocab[j] for j in rng.choice(300, size=rng.integers(0, 40), p=p)] for _ in range(n)]
    docs[3] = []
    return docs


QUERIES = [["t0"], ["t1", "t7", "t42"], ["t5", "t5", "t99"], ["t250", "absent"], ["absent"],
           ["t3", "t11", "t30", "t120", "t299"]]


def oracle(docs: list[list[str]], query: list[str]) -> np.ndarray:
    import bm25s

    ref = bm25s.BM25()
    ref.index(docs, show_progress=False)
    known = [t for t in query if t in ref.vocab_dict]
    return ref.get_scores(known) if known else np.zeros(len(docs), np.float32)


def by_id(index: BM25, query: list[str]) -> dict[int, float]:
    ids, scores = index.scores(query)
    return dict(zip(ids.tolist(), scores.tolist(), strict=True))


@pytest.mark.parametrize("query", QUERIES)
def test_scores_equal_bm25s(query):
    docs = corpus(300)
    index = BM25()
    index.add(list(range(10, 310)), docs)
    ids, scores = index.scores(query)
    assert ids.tolist() == list(range(10, 310))
    np.testing.assert_allclose(scores, oracle(docs, query), rtol=1e-5, atol=1e-6)


def test_adds_and_deletes_give_the_scores_of_a_fresh_build():
    docs = corpus(400, seed=1)
    ids = list(range(1, 401))
    index = BM25()
    index.add(ids[:200], docs[:200])
    for start in range(200, 400, 7):  # one small write after another
        index.add(ids[start:start + 7], docs[start:start + 7])
        assert len(index.segments) <= MAX_SEGMENTS
    gone = np.array(ids[::3])
    index.remove(gone)
    index.remove(np.array([999_999]))  # unknown ids are ignored
    kept = [(i, d) for i, d in zip(ids, docs, strict=True) if i % 3 != 1]
    assert index.live == len(kept)
    assert index.live_ids().tolist() == [i for i, _ in kept]
    for query in QUERIES:
        got = by_id(index, query)
        assert all(got.get(g, 0.0) == 0 for g in gone.tolist())  # deleted chunks never score
        expected = oracle([d for _, d in kept], query)
        np.testing.assert_allclose([got[i] for i, _ in kept], expected, rtol=1e-5, atol=1e-6)


def test_heavily_deleted_segments_are_rewritten_without_their_dead():
    index = BM25()
    index.add(list(range(100)), corpus(100))
    index.remove(np.arange(50))
    assert sum(s.size for s in index.segments) == 50  # over DEAD_SHARE: compacted
    index.remove(np.arange(50, 100))
    assert index.segments == [] and index.live == 0
    assert index.scores(["t0"])[0].size == 0


def test_copy_leaves_the_original_untouched():
    docs = corpus(50)
    index = BM25()
    index.add(list(range(50)), docs)
    before = by_id(index, ["t1", "t2"])
    other = index.copy()
    other.remove(np.array([1, 2, 3]))
    other.add([60, 61], [["t1"], ["t2"]])
    assert by_id(index, ["t1", "t2"]) == before
    assert by_id(other, ["t1", "t2"]) != before


def test_save_load_round_trip_and_unchanged_segments_are_linked(tmp_path):
    docs = corpus(120)
    index = BM25()
    index.add(list(range(100)), docs[:100])
    index.save(tmp_path / "v1")
    loaded = BM25.load(tmp_path / "v1")
    # Segments are read from their (never rewritten) files, not copied into memory.
    assert not loaded.segments[0].term_tf.flags.writeable
    for query in QUERIES:
        assert by_id(loaded, query) == pytest.approx(by_id(index, query))
    loaded.add(list(range(100, 110)), docs[100:110])  # a small new segment
    loaded.remove(np.array([5]))  # a dead flag: the big segment's files stay as they are
    loaded.save(tmp_path / "v2")
    big = loaded.segments[0].name
    first = (tmp_path / "v1" / big / "term_rows.npy").stat()
    second = (tmp_path / "v2" / big / "term_rows.npy").stat()
    assert (first.st_ino, first.st_dev) == (second.st_ino, second.st_dev)
    again = BM25.load(tmp_path / "v2")
    assert by_id(again, ["t0", "t9"]) == pytest.approx(by_id(loaded, ["t0", "t9"]))
    assert 5 not in again.live_ids().tolist() and again.live == 109
    assert 5 in BM25.load(tmp_path / "v1").live_ids().tolist()  # the old version intact


def test_loaded_segments_are_plain_arrays_over_their_files(tmp_path):
    """Mapped, so processes share the pages; plain ndarrays, not np.memmap, whose
    Python-level indexing slowed every query's scoring."""
    import mmap

    index = BM25()
    index.add(list(range(50)), corpus(50))
    index.save(tmp_path / "v1")
    seg = BM25.load(tmp_path / "v1").segments[0]
    for name in ("ids", "term_ptr", "term_rows", "term_tf", "doc_terms"):
        array = getattr(seg, name)
        assert type(array) is np.ndarray and not array.flags.writeable
        base = array.base
        while base is not None and not isinstance(base, mmap.mmap):
            base = getattr(base, "base", None) or getattr(base, "_mmap", None)
        assert isinstance(base, mmap.mmap), name


def test_lexical_index_update_matches_build():
    docs = corpus(200, seed=3)
    built, changed = LexicalIndex(), LexicalIndex()
    built.build("en", zip(range(1, 151), docs[:150], strict=True))
    changed.build("en", zip(range(1, 101), docs[:100], strict=True))
    changed.update("en", np.arange(1, 11), zip(range(101, 151), docs[100:150], strict=True))
    built.build("en", zip(range(11, 151), docs[10:150], strict=True))
    assert changed.ids("en").tolist() == list(range(11, 151))
    for query in QUERIES:
        a_ids, a = built.scores("en", query)
        b_ids, b = changed.scores("en", query)
        got = dict(zip(b_ids.tolist(), b.tolist(), strict=True))
        np.testing.assert_allclose([got[i] for i in a_ids.tolist()], a, rtol=1e-5, atol=1e-6)
    changed.update("en", changed.ids("en"), [])
    assert changed.langs == []
