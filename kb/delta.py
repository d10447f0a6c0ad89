"""Writes to an IVF language, kept beside its index until folded in.

At 1M chunks, applying a write to the IVF index itself meant cloning it (readers keep
the old one: 0.5 s) and saving all of it (1.5 GB: 1.4 s), for a few dozen vectors
(benchmarks/write_scale.py). Instead a write leaves the IVF index as it is: added
vectors go to a small exact index searched beside it, and deleted ids are skipped in
its results by a FAISS ID selector. When the two hold more than ``FOLD_SHARE`` of the
language, they are folded into a clone of the IVF index, which is saved once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kb.faiss_read import ivf_lists, stored, write_index

FOLD_SHARE = 1 / 200  # at 1M: 5,000 pending vectors, ~0.3 ms of exact search a query
FOLD_MIN = 1000


@dataclass(frozen=True)
class Pending:
    delta: Any  # IndexIDMap2(IndexFlatIP): vectors added since the last fold
    dead: np.ndarray  # sorted ids deleted since, still stored in the IVF index
    dead_sum: np.ndarray  # float64 sum of their vectors (for the language mean)
    params: Any  # SearchParametersIVF that skips ``dead``, or None
    refs: tuple[Any, ...]  # the selectors ``params`` points to (SWIG keeps no reference)

    @property
    def size(self) -> int:
        return int(self.delta.ntotal) + len(self.dead)

    def due(self, n: int) -> bool:
        """True when a language of ``n`` vectors should fold these writes in."""
        return self.size > max(FOLD_MIN, n * FOLD_SHARE)


def empty(dim: int) -> Pending:
    import faiss

    return _pending(faiss.IndexIDMap2(faiss.IndexFlatIP(dim)), np.empty(0, np.int64),
                    np.zeros(dim), None)


def _pending(delta: Any, dead: np.ndarray, dead_sum: np.ndarray, nprobe: int | None) -> Pending:
    import faiss

    if not len(dead):
        return Pending(delta, dead, dead_sum, None, ())
    batch = faiss.IDSelectorBatch(len(dead), faiss.swig_ptr(dead))
    skip = faiss.IDSelectorNot(batch)
    params = faiss.SearchParametersIVF()
    params.sel = skip
    if nprobe is not None:
        params.nprobe = nprobe
    return Pending(delta, dead, dead_sum, params, (batch, skip, dead))


def after(pending: Pending, main: Any, gone: np.ndarray, new_ids: np.ndarray,
          new_vecs: np.ndarray) -> Pending:
    """``pending`` plus one write: ``gone`` ids deleted, new vectors added."""
    import faiss

    delta = pending.delta
    in_delta = np.isin(gone, faiss.vector_to_array(delta.id_map)) if delta.ntotal else (
        np.zeros(len(gone), bool))
    if in_delta.any() or len(new_ids):
        delta = faiss.clone_index(delta)
        if in_delta.any():
            delta.remove_ids(np.ascontiguousarray(gone[in_delta]))
        if len(new_ids):
            delta.add_with_ids(np.ascontiguousarray(new_vecs), np.ascontiguousarray(new_ids))
    dead, dead_sum = pending.dead, pending.dead_sum
    from_main = gone[~in_delta]
    if len(from_main):
        dead = np.union1d(dead, from_main)
        dead_sum = dead_sum.copy()
        for ids, vecs in ivf_lists(main):  # their vectors, for the mean: one pass of ids
            hit = np.isin(ids, from_main)
            if hit.any():
                dead_sum += vecs[hit].sum(axis=0, dtype=np.float64)
    return _pending(delta, dead, dead_sum, int(main.nprobe))


def fold(main: Any, pending: Pending) -> Any:
    """A clone of ``main`` with the pending writes applied."""
    import faiss

    index = faiss.clone_index(main)
    if len(pending.dead):
        index.remove_ids(pending.dead)
    if pending.delta.ntotal:
        ids, vecs = stored(pending.delta)
        index.add_with_ids(vecs, ids)
    return index


def contents(main: Any, pending: Pending) -> tuple[np.ndarray, np.ndarray]:
    """Every live (id, vector), sorted by id."""
    ids, vecs = stored(main)
    keep = ~np.isin(ids, pending.dead)
    extra_ids, extra = stored(pending.delta)
    all_ids = np.concatenate([ids[keep], extra_ids])
    order = np.argsort(all_ids)
    return all_ids[order], np.concatenate([vecs[keep], extra])[order]


def search(main: Any, pending: Pending, query: Any, k: int, scores: np.ndarray,
           ids: np.ndarray, *, keep: Any = None, share: float = 1.0) -> None:
    """Fill ``scores``/``ids`` (length >= k, prefilled with -inf/-1) with the top ``k``
    of ``main`` without the dead ids, merged with the delta's (``query``: a swig
    pointer to one vector). ``keep``: a FAISS ID selector, ``share`` of the language;
    only the ids it selects count (a search filtered by tag or article)."""
    import faiss

    from kb.vectors import selecting

    params, delta_params = pending.params, None
    if keep is not None:
        params = selecting(main, keep, share)
        both = faiss.IDSelectorAnd(keep, pending.refs[1]) if pending.refs else None
        if both is not None:
            params.sel = both
        delta_params = faiss.SearchParameters()
        delta_params.sel = keep
    n = min(k, int(main.ntotal))
    if n > 0:
        main.search_c(1, query, n, faiss.swig_ptr(scores), faiss.swig_ptr(ids), params)
    m = min(k, int(pending.delta.ntotal))
    if m <= 0:
        return
    extra_scores = np.full(m, -np.inf, np.float32)
    extra_ids = np.full(m, -1, np.int64)
    pending.delta.search_c(1, query, m, faiss.swig_ptr(extra_scores), faiss.swig_ptr(extra_ids),
                           delta_params)
    all_scores = np.concatenate([np.where(ids[:k] >= 0, scores[:k], -np.inf),
                                 np.where(extra_ids >= 0, extra_scores, -np.inf)])
    all_ids = np.concatenate([ids[:k], extra_ids])
    top = np.argsort(-all_scores, kind="stable")[:k]
    scores[:k], ids[:k] = all_scores[top], np.where(np.isfinite(all_scores[top]),
                                                    all_ids[top], -1)


def save(pending: Pending, directory: Path, lang: str) -> None:
    write_index(pending.delta, directory / f"{lang}.delta.faiss")
    np.save(directory / f"{lang}.dead.npy", pending.dead, allow_pickle=False)


def load(directory: Path, lang: str, main: Any) -> Pending | None:
    """The pending writes saved beside ``main``, or None when there are none."""
    import faiss

    if not (directory / f"{lang}.delta.faiss").exists():
        return None
    delta = faiss.read_index(str(directory / f"{lang}.delta.faiss"))
    dead = np.load(directory / f"{lang}.dead.npy", allow_pickle=False)
    return after(_pending(delta, np.empty(0, np.int64), np.zeros(main.d), None), main, dead,
                 np.empty(0, np.int64), np.empty((0, main.d), np.float32))
