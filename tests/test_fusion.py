"""Ranking helpers of kb.search on hand-made lists; no model."""

from __future__ import annotations

import numpy as np

from kb.search import SearchConfig, _top_positive, fuse


def test_top_positive_keeps_the_best_matches_in_order_and_ties_in_index_order() -> None:
    ids = np.array([10, 11, 12, 13, 14, 15], dtype=np.int64)
    scores = np.array([0.0, 2.0, 5.0, 2.0, 0.0, 1.0], dtype=np.float32)
    assert _top_positive(ids, scores, 10) == [(12, 5.0), (11, 2.0), (13, 2.0), (15, 1.0)]
    assert _top_positive(ids, scores, 2) == [(12, 5.0), (11, 2.0)]
    assert _top_positive(ids, np.zeros(6, dtype=np.float32), 3) == []


def test_fuse_limit_returns_the_head_of_the_full_ranking_with_its_signals() -> None:
    dense = [(1, 0.9), (2, 0.8), (3, 0.5), (4, 0.1)]
    lexical = {"en": [(3, 7.0), (5, 6.0)], "de": [(2, 1.0)]}
    full = fuse(dense, lexical, "en", SearchConfig(), {5: 1.0})
    head = fuse(dense, lexical, "en", SearchConfig(), {5: 1.0}, limit=2)
    assert head == full[:2]
    by_id = {s.chunk_id: s.signals for s in full}
    assert by_id[3] == {"dense": 3, "bm25_en": 1}
    assert by_id[2] == {"dense": 2, "bm25_de": 1}
    assert by_id[5] == {"bm25_en": 2, "concepts": 100}
