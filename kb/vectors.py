"""Vector stage: one FAISS index per language, with deletable int64 chunk ids.

e5 gives every same-language pair a bonus: a Korean query ranks unrelated Korean
passages above the German passage that answers it. Keeping one index per language
lets search correct that per language (see kb.search) and lets a language filter skip
whole indexes. Vectors are L2-normalised, so inner product is cosine.

Which index a language gets is a measured policy (benchmarks/vector_scale.py,
docs/scale.md): exact search (``flat``) below :attr:`VectorConfig.threshold` vectors,
IVF-Flat above it. IVF keeps true deletes and incremental adds (``remove_ids`` /
``add_with_ids``), so a write to a large language changes its index in place of
retraining it; HNSW is available on request but FAISS cannot delete from it, so every
delete rebuilds it. Configure with ``KB_VECTOR_*`` variables (:meth:`VectorConfig.from_env`).
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kb import delta
from kb.errors import ConfigError
from kb.faiss_read import ivf_lists, stored, vector_sum, write_index
from kb.rows import Rows
from kb.store import link_file

KINDS = ("auto", "flat", "ivf", "hnsw")

# Chosen from benchmarks/vector_scale.py (one thread, e5-small-derived vectors; the
# numbers are in docs/scale.md). Exact search grows linearly, ~0.07 ms per 1,000
# vectors (~65 ms at 1M), and a query searches every language, so a language leaves it
# at 50k vectors (a few ms each); IVF-Flat with sqrt(N) lists and 32 probes kept
# recall@10 at ~0.99 from 50k to 1M for at most a few ms per query. 4*sqrt(N) lists
# search faster but their k-means took 200 s instead of 10 s at 1M.
DEFAULT_THRESHOLD = 50_000
DEFAULT_NPROBE = 32
# Lists per index: NLIST_PER_SQRT * sqrt(n), with at least MIN_PER_LIST vectors per list
# (k-means wants ~39 training points per centroid).
NLIST_PER_SQRT = 1.0
MIN_PER_LIST = 39
# An IVF index is retrained when its list count drifts this far from the one its size
# asks for; between, writes add and remove vectors in place.
NLIST_DRIFT = 2.0
# Sentence rows of deleted chunks are copied out once they are this share of all rows.
DEAD_SENTENCES = 0.3


_thread_state = threading.local()


def _dot_rows(matrix: np.ndarray, rows: np.ndarray, query: np.ndarray, out: np.ndarray) -> None:
    """``out[:] = matrix[rows] @ query`` without gathering the rows into a copy first
    (all float32 and C-contiguous, rows int64).

    Right after the encoder has run the sentence rows are out of cache, and the copy
    doubled the memory traffic of best-sentence scoring.
    """
    import faiss

    faiss.fvec_inner_products_by_idx(
        faiss.swig_ptr(out), faiss.swig_ptr(query), faiss.swig_ptr(matrix),
        faiss.swig_ptr(rows), matrix.shape[1], 1, len(rows),
    )


def _one_search_thread() -> None:
    """Search one query on the calling thread only.

    FAISS parallelises even a single query with OpenMP. With passive OpenMP waiting
    (kb.encoder sets OMP_WAIT_POLICY=PASSIVE) or a busy machine, waking the other
    thread cost 0.06-7 ms per search here, against 0.01 ms on one thread for a small
    flat index, and every query searches each language. The setting is per calling
    thread in libgomp, so index builds on a writer's thread keep every core.
    """
    if not getattr(_thread_state, "single", False):
        import faiss

        faiss.omp_set_num_threads(1)
        _thread_state.single = True


@dataclass(frozen=True)
class VectorConfig:
    """How each language's vectors are indexed.

    kind: ``auto`` (flat below ``threshold`` vectors, IVF at or above it), or force
        ``flat`` (exact), ``ivf`` (IVF-Flat) or ``hnsw`` (graph; deletes rebuild it).
    threshold: per-language size at which ``auto`` leaves exact search.
    nlist: IVF lists; 0 picks ``sqrt(n)`` (at least 39 vectors per list).
    nprobe: IVF lists visited per query (a search setting: re-applied on load).
    hnsw_m, ef_construction: HNSW graph degree and build beam (fixed at build).
    ef_search: HNSW search beam (a search setting: re-applied on load).
    train_per_list, niter: IVF k-means sample size per list and iterations.
    """

    kind: str = "auto"
    threshold: int = DEFAULT_THRESHOLD
    nlist: int = 0
    nprobe: int = DEFAULT_NPROBE
    hnsw_m: int = 32
    ef_construction: int = 40
    ef_search: int = 128
    train_per_list: int = 64
    niter: int = 20

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(
                f"unknown vector index kind {self.kind!r} (KB_VECTOR_INDEX): use one of "
                + ", ".join(KINDS)
            )
        for name in ("threshold", "nprobe", "hnsw_m", "ef_construction", "ef_search",
                     "train_per_list", "niter"):
            if getattr(self, name) < 1:
                raise ConfigError(f"vector index {name} must be at least 1")
        if self.nlist < 0:
            raise ConfigError("vector index nlist must be 0 (automatic) or positive")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> VectorConfig:
        """``KB_VECTOR_INDEX`` (auto|flat|ivf|hnsw), ``KB_VECTOR_THRESHOLD``,
        ``KB_VECTOR_NLIST``, ``KB_VECTOR_NPROBE``, ``KB_VECTOR_EF_SEARCH``; explicit
        overrides win."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        if env.get("KB_VECTOR_INDEX"):
            values["kind"] = env["KB_VECTOR_INDEX"].strip().lower()
        for field, var in (("threshold", "KB_VECTOR_THRESHOLD"), ("nlist", "KB_VECTOR_NLIST"),
                           ("nprobe", "KB_VECTOR_NPROBE"), ("ef_search", "KB_VECTOR_EF_SEARCH")):
            if env.get(var):
                try:
                    values[field] = int(env[var].replace("_", ""))
                except ValueError:
                    raise ConfigError(f"{var} must be an integer, not {env[var]!r}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def kind_for(self, n: int) -> str:
        if self.kind != "auto":
            return self.kind
        return "ivf" if n >= self.threshold else "flat"

    def nlist_for(self, n: int) -> int:
        cap = max(1, n // MIN_PER_LIST)
        if self.nlist:
            return min(self.nlist, max(1, n))
        return max(1, min(round(NLIST_PER_SQRT * math.sqrt(n)), cap))


def _kind_of(index: Any) -> str:
    import faiss

    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap) else index
    if isinstance(inner, faiss.IndexIVF):
        return "ivf"
    if isinstance(inner, faiss.IndexHNSW):
        return "hnsw"
    return "flat"


def _ids_of(index: Any) -> np.ndarray:
    """The sorted ids stored in an index (for indexes saved without an ids file)."""
    import faiss

    if isinstance(index, faiss.IndexIDMap):
        ids = faiss.vector_to_array(index.id_map)
    else:
        ids = np.concatenate([np.empty(0, np.int64)] + [i for i, _ in ivf_lists(index)])
    return np.sort(ids.astype(np.int64))


def selecting(index: Any, keep: Any, share: float) -> Any:
    """Search parameters that keep only the ids the FAISS selector ``keep`` selects,
    ``share`` of the index. An approximate index looks that much further (IVF probes
    ``nprobe / share`` lists, HNSW keeps ``efSearch / share`` candidates, at most all):
    with its own nprobe, a filter to a few articles found 7 of the 10 passages asked
    for, those that happened to sit in the lists probed."""
    import faiss

    widen = 1 / max(share, 1e-9)
    kind = _kind_of(index)
    if kind == "ivf":
        params = faiss.SearchParametersIVF()
        params.nprobe = min(int(index.nlist), math.ceil(int(index.nprobe) * widen))
    elif kind == "hnsw":
        params = faiss.SearchParametersHNSW()
        params.efSearch = min(max(1, int(index.ntotal)),
                              math.ceil(int(_hnsw_of(index).hnsw.efSearch) * widen))
    else:
        params = faiss.SearchParameters()
    params.sel = keep  # an IndexIDMap2 translates it to its own positions
    return params


def _hnsw_of(index: Any) -> Any:
    import faiss

    return faiss.downcast_index(index.index)


def _present(ids: np.ndarray, sorted_ids: np.ndarray) -> np.ndarray:
    """The ``ids`` found in ``sorted_ids``, by binary search (intersect1d sorted all 1M
    indexed ids on every write: 0.7 s)."""
    at = np.searchsorted(sorted_ids, ids)
    found = at < len(sorted_ids)
    found[found] = sorted_ids[at[found]] == ids[found]
    return np.unique(ids[found])


def _extend_table(
    table: tuple[np.ndarray, np.ndarray], owners: np.ndarray, first: int
) -> tuple[np.ndarray, np.ndarray]:
    """A copy of a chunk id -> (first sentence row, count) table with the chunks of
    ``owners``, rows appended from position ``first`` of their language's matrix."""
    start, count = table
    if not len(owners):
        return table
    chunk, at, n = np.unique(owners, return_index=True, return_counts=True)
    top = max(len(start), int(chunk[-1]) + 1)
    start, count = np.resize(start, top), np.resize(count, top)
    start[len(table[0]):] = 0
    count[len(table[1]):] = 0
    start[chunk], count[chunk] = first + at, n
    return start, count


class VectorIndex:
    """Per-language FAISS indexes plus each language's mean passage vector."""

    def __init__(self, dim: int, config: VectorConfig | None = None) -> None:
        self.dim = dim
        self.config = config or VectorConfig.from_env()
        self._indexes: dict[str, Any] = {}
        # Sorted chunk ids per language, to turn a rebuild into adds and removes.
        self._ids: dict[str, np.ndarray] = {}
        self.means: dict[str, np.ndarray] = {}
        # Sentence vectors per language, for best-sentence scoring: rows ordered by
        # chunk id, each row's chunk in sent_chunk. Rows of deleted chunks stay (unused)
        # until a compaction, so that a write appends instead of copying (kb/rows.py).
        self.sent_chunk: dict[str, np.ndarray] = {}
        self.sent_vecs: dict[str, np.ndarray] = {}  # views of _sent_rows
        self.sent_means: dict[str, np.ndarray] = {}  # over live rows
        self._sent_rows: dict[str, Rows] = {}
        self._sent_sum: dict[str, tuple[np.ndarray, int]] = {}  # live rows' sum and count
        # Worked out on first use after a change: see _sentence_table and mean_rows.
        self._sent_table: tuple[np.ndarray, np.ndarray] | None = None
        self._mean_rows: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray]] = {}
        # Language -> the directory its files were last saved to or loaded from, while
        # unchanged: a save hard-links them from there.
        self._saved: dict[str, Path] = {}
        # IVF languages: writes not folded into the index yet (kb/delta.py), the sum of
        # the index's own vectors, and the file each index object was saved to.
        self._pending: dict[str, delta.Pending] = {}
        self._main_sum: dict[str, np.ndarray] = {}
        self._main_files: dict[str, tuple[Any, Path]] = {}

    @property
    def langs(self) -> list[str]:
        return sorted(self._indexes)

    def copy(self) -> VectorIndex:
        """A shallow copy: rebuilding a language in it leaves this one untouched (an
        index changed in place is cloned first)."""
        other = VectorIndex(self.dim, self.config)
        for name in ("_indexes", "_ids", "means", "sent_chunk", "sent_vecs", "sent_means",
                     "_sent_rows", "_sent_sum", "_saved", "_pending", "_main_sum",
                     "_main_files"):
            setattr(other, name, dict(getattr(self, name)))
        return other

    def ids(self, lang: str) -> np.ndarray:
        """The chunk ids indexed for ``lang``, ascending."""
        return self._ids.get(lang, np.empty(0, np.int64))

    def size(self, lang: str | None = None) -> int:
        if lang is not None:
            idx = self._indexes.get(lang)
            if idx is None:
                return 0
            pending = self._pending.get(lang)
            extra = int(pending.delta.ntotal) - len(pending.dead) if pending else 0
            return int(idx.ntotal) + extra
        return sum(self.size(lang) for lang in self._indexes)

    def kind(self, lang: str) -> str | None:
        index = self._indexes.get(lang)
        return None if index is None else _kind_of(index)

    def build(
        self,
        lang: str,
        ids: np.ndarray,
        vectors: np.ndarray,
        sent_chunk: np.ndarray | None = None,
        sent_vecs: np.ndarray | None = None,
    ) -> None:
        """(Re)build one language's index from all its raw normalised vectors (and,
        optionally, its sentence vectors with the chunk id of each, sorted by chunk id).

        When the language already has an IVF (or, without deletions, HNSW) index of the
        kind and size class the policy wants, only the difference is applied: removed ids
        are deleted and new ids added, on a clone. That relies on a chunk id always
        naming the same vector (SQLite AUTOINCREMENT never reuses one).
        """
        old_index, old_ids = self._indexes.get(lang), self._ids.get(lang)
        if lang in self._pending:  # its index is not the language's whole: build afresh
            old_index = None
        self._forget(lang)
        if len(ids) == 0:
            return
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        sorted_ids = np.sort(ids)
        index = None
        if old_index is not None and old_ids is not None:
            gone = np.setdiff1d(old_ids, sorted_ids, assume_unique=True)
            new = ~np.isin(ids, old_ids, assume_unique=True)
            index = self._apply(old_index, len(ids), gone, ids[new], vectors[new])
        if index is None:
            index = self._new_index(len(ids), vectors)
            index.add_with_ids(vectors, ids)
        self._set(lang, index, sorted_ids, vectors.mean(axis=0, dtype=np.float64))
        if sent_chunk is not None and sent_vecs is not None and len(sent_chunk):
            rows = Rows.adopt(sent_vecs)
            self._set_sentences(lang, rows, np.asarray(sent_chunk, np.int64),
                                rows.array.sum(axis=0, dtype=np.float64), len(rows))

    def set_sentences(self, lang: str, owners: np.ndarray, rows: Rows, total: np.ndarray) -> None:
        """Give a language just built without them its sentence vectors: ``rows`` (for
        instance mapped from a file that :meth:`kb.store.Store.write_lang_sentences`
        wrote), the chunk id of each, sorted, and their float64 sum."""
        self._sent_table, self._mean_rows = None, {}
        if len(owners):
            self._set_sentences(lang, rows, np.asarray(owners, np.int64), total, len(rows))

    def update(
        self,
        lang: str,
        gone: np.ndarray,
        ids: np.ndarray,
        vectors: np.ndarray,
        sent_chunk: np.ndarray | None = None,
        sent_vecs: np.ndarray | None = None,
    ) -> None:
        """Apply a write to one language without the rest of its vectors: delete the
        chunks ``gone`` (with their sentences) and add new chunks, whose ids must be
        larger than every indexed one (SQLite AUTOINCREMENT hands them out so).

        The result equals :meth:`build` from all the language's vectors. When the policy
        wants a fresh index (another kind, a list count far off), it is built from the
        vectors the old index holds.
        """
        old_index, old_ids = self._indexes.get(lang), self._ids.get(lang)
        if old_index is None or old_ids is None:
            self.build(lang, ids, vectors, sent_chunk, sent_vecs)
            return
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        if len(ids) and len(old_ids) and ids.min() <= old_ids[-1]:
            raise ValueError("new chunk ids must be larger than the indexed ones")
        gone = _present(np.asarray(gone, np.int64), old_ids)
        order = np.argsort(ids, kind="stable")
        ids, vectors = ids[order], vectors[order]
        kept_ids = np.setdiff1d(old_ids, gone, assume_unique=True)
        sorted_ids = np.concatenate([kept_ids, ids])
        sentences, first_new = self._sentences_after(lang, gone, sorted_ids, sent_chunk,
                                                     sent_vecs)
        table = self._sent_table
        pending, main_sum = self._pending.get(lang), self._main_sum.get(lang)
        self._forget(lang)
        if not len(sorted_ids):
            return
        n = len(sorted_ids)
        if _kind_of(old_index) == "ivf" and self._keeps(old_index, n):
            pending = delta.after(pending or delta.empty(self.dim), old_index, gone, ids, vectors)
            index = old_index
            if main_sum is None:
                main_sum = vector_sum(old_index)
            if pending.due(n):
                index, pending = delta.fold(old_index, pending), None
                self._apply_search_params(index)
                main_sum = vector_sum(index)
            total = main_sum.copy()
            if pending is not None and pending.size:
                total += vector_sum(pending.delta) - pending.dead_sum
                self._pending[lang] = pending
            self._main_sum[lang] = main_sum
            self._set(lang, index, sorted_ids, total / n)
        else:
            index = None if pending else self._apply(old_index, n, gone, ids, vectors)
            if index is None:
                held_ids, held = (delta.contents(old_index, pending) if pending
                                  else stored(old_index))
                keep = ~np.isin(held_ids, gone)
                all_ids = np.concatenate([held_ids[keep], ids])
                all_vecs = np.concatenate([held[keep], vectors])
                index = self._new_index(len(all_ids), all_vecs)
                index.add_with_ids(all_vecs, all_ids)
            self._set(lang, index, sorted_ids, vector_sum(index) / index.ntotal)
        if sentences is not None:
            self._set_sentences(lang, *sentences)
            if table is not None and first_new is not None:
                # Extend the table by the appended rows instead of redoing it from all
                # 3M owners on the next query (0.3 s at 1M chunks).
                self._sent_table = _extend_table(table, sentences[1][first_new:], first_new)

    def _forget(self, lang: str) -> None:
        for table in (self._indexes, self._ids, self.means, self.sent_chunk, self.sent_vecs,
                      self.sent_means, self._sent_rows, self._sent_sum, self._saved,
                      self._pending, self._main_sum):
            table.pop(lang, None)
        self._sent_table, self._mean_rows = None, {}

    def _set(self, lang: str, index: Any, sorted_ids: np.ndarray, mean: np.ndarray) -> None:
        self._indexes[lang] = index
        self._ids[lang] = sorted_ids
        self.means[lang] = np.asarray(mean, dtype=np.float32)

    def _set_sentences(self, lang: str, rows: Rows, owners: np.ndarray, total: np.ndarray,
                       live: int) -> None:
        self._sent_rows[lang], self.sent_chunk[lang] = rows, owners
        self.sent_vecs[lang] = rows.array
        self._sent_sum[lang] = (total, live)
        self.sent_means[lang] = (total / live).astype(np.float32)

    def _sentences_after(
        self, lang: str, gone: np.ndarray, live_ids: np.ndarray,
        new_owners: np.ndarray | None, new_vecs: np.ndarray | None,
    ) -> tuple[tuple[Rows, np.ndarray, np.ndarray, int] | None, int | None]:
        """The language's sentence rows after a write, and the position of the first
        appended row (None after a compaction): rows of ``gone`` chunks leave the live
        sum (the rows stay until a compaction), new ones are appended."""
        rows, owners = self._sent_rows.get(lang), self.sent_chunk.get(lang)
        total, live = self._sent_sum.get(lang, (np.zeros(self.dim), 0))
        first: int | None = len(owners) if owners is not None else 0
        if rows is not None and owners is not None and len(gone):
            dead = np.isin(owners, gone)
            if dead.any():
                total = total - rows.array[dead].sum(axis=0, dtype=np.float64)
                live -= int(dead.sum())
        if new_owners is not None and new_vecs is not None and len(new_owners):
            order = np.argsort(new_owners, kind="stable")
            add_owners = np.asarray(new_owners, np.int64)[order]
            add = np.asarray(new_vecs, np.float32)[order]
            rows = Rows.of(add) if rows is None else rows.append(add)
            owners = add_owners if owners is None else np.concatenate([owners, add_owners])
            total = total + add.sum(axis=0, dtype=np.float64)
            live += len(add)
        if rows is None or owners is None or live <= 0:
            return None, None
        if len(rows) - live > DEAD_SENTENCES * len(rows):
            keep = np.isin(owners, live_ids)
            rows, owners = Rows.adopt(rows.array[keep]), owners[keep]
            total = rows.array.sum(axis=0, dtype=np.float64)
            first = None
        return (rows, owners, total, live), first

    def _apply(self, old: Any, n_after: int, gone: np.ndarray, new_ids: np.ndarray,
               new_vecs: np.ndarray) -> Any | None:
        """``old`` changed by deleting ``gone`` and adding the new vectors, on a clone, or
        None when a fresh build is due (another kind, a list count far off, or deletes
        from HNSW). A flat index is rebuilt: that is a copy, and below the threshold."""
        import faiss

        kind = _kind_of(old)
        if kind == "flat" or not self._keeps(old, n_after):
            return None
        if kind == "hnsw" and len(gone):  # FAISS cannot remove from an HNSW graph
            return None
        if not len(gone) and not len(new_ids):
            return old
        index = faiss.clone_index(old)
        if len(gone):
            index.remove_ids(np.ascontiguousarray(gone, dtype=np.int64))
        if len(new_ids):
            index.add_with_ids(np.ascontiguousarray(new_vecs), np.ascontiguousarray(new_ids))
        self._apply_search_params(index)
        return index

    def _keeps(self, old: Any, n_after: int) -> bool:
        """Whether the policy keeps ``old``'s structure for ``n_after`` vectors: the same
        kind (an IVF language stays IVF down to half the threshold, so one hovering at
        it is not retrained on every write) and, for IVF, a list count within
        ``NLIST_DRIFT`` of what the size asks for."""
        kind = _kind_of(old)
        want = self.config.kind_for(n_after)
        if (self.config.kind == "auto" and kind == "ivf"
                and n_after >= self.config.threshold // 2):
            want = "ivf"
        if kind != want or old.d != self.dim:
            return False
        if kind == "ivf":
            nlist = self.config.nlist_for(n_after)
            return nlist / NLIST_DRIFT <= old.nlist <= nlist * NLIST_DRIFT
        return True

    def _new_index(self, n: int, vectors: np.ndarray) -> Any:
        import faiss

        cfg = self.config
        kind = cfg.kind_for(n)
        if kind == "ivf":
            nlist = cfg.nlist_for(n)
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(self.dim), self.dim, nlist,
                                       faiss.METRIC_INNER_PRODUCT)
            index.cp.niter = cfg.niter
            index.cp.max_points_per_centroid = cfg.train_per_list
            index.cp.min_points_per_centroid = 1  # small indexes (tests) train quietly
            n_train = min(n, cfg.train_per_list * nlist)
            rows = np.random.default_rng(0).choice(n, n_train, replace=False)
            index.train(np.ascontiguousarray(vectors[np.sort(rows)]))
        elif kind == "hnsw":
            base = faiss.IndexHNSWFlat(self.dim, cfg.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            base.hnsw.efConstruction = cfg.ef_construction
            index = faiss.IndexIDMap2(base)
        else:
            index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        self._apply_search_params(index)
        return index

    def _apply_search_params(self, index: Any) -> None:
        kind = _kind_of(index)
        if kind == "ivf":
            index.nprobe = min(self.config.nprobe, index.nlist)
        elif kind == "hnsw":
            _hnsw_of(index).hnsw.efSearch = self.config.ef_search

    def describe(self) -> dict[str, Any]:
        """The configured policy and, per language, the index kind, size and parameters
        in use (for the manifest)."""
        langs: dict[str, dict[str, Any]] = {}
        for lang in self.langs:
            index = self._indexes[lang]
            kind = _kind_of(index)
            info: dict[str, Any] = {"kind": kind, "vectors": int(index.ntotal)}
            if kind == "ivf":
                info.update(nlist=int(index.nlist), nprobe=int(index.nprobe))
                pending = self._pending.get(lang)
                if pending is not None:
                    info.update(vectors=self.size(lang), pending_added=int(pending.delta.ntotal),
                                pending_deleted=len(pending.dead))
            elif kind == "hnsw":
                h = _hnsw_of(index).hnsw
                info.update(M=int(h.nb_neighbors(1)), efConstruction=int(h.efConstruction),
                            efSearch=int(h.efSearch))
            langs[lang] = info
        return {"metric": "inner_product", "dim": self.dim, "config": asdict(self.config),
                "langs": langs}

    def search(self, lang: str, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (ids, inner products) for one query vector in one language."""
        ids, scores, _ = self.search_langs([lang], query, k)
        return ids, scores

    def search_langs(
        self, langs: Sequence[str], query: np.ndarray, k: int,
        within: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The top ``k`` of each of ``langs`` for one query vector, laid end to end in
        the order of ``langs``: (ids, inner products, each result's position in ``langs``).
        ``within``: only these chunk ids (int64) count, chosen inside FAISS, so that a
        filter to a few articles still gets its top ``k`` rather than what is left of
        everyone's (a search's tag and article filters).

        One call for every language, writing into one buffer: on a small corpus the
        Python and NumPy steps around each FAISS call, not FAISS, were most of the time.
        """
        import faiss

        _one_search_thread()
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        scores = np.full((len(langs), max(k, 0)), -np.inf, dtype=np.float32)
        ids = np.full(scores.shape, -1, dtype=np.int64)
        for row, lang in enumerate(langs):
            index = self._indexes.get(lang)
            pending = self._pending.get(lang)
            keep, share, mine = None, 1.0, None
            if within is not None:
                mine = np.ascontiguousarray(_present(within, self.ids(lang)), dtype=np.int64)
                if not len(mine):
                    continue
                keep = faiss.IDSelectorBatch(len(mine), faiss.swig_ptr(mine))
                share = len(mine) / max(1, self.size(lang))
            if pending is not None:
                delta.search(index, pending, faiss.swig_ptr(q), k, scores[row], ids[row],
                             keep=keep, share=share)
                continue
            n = min(k, int(index.ntotal)) if index is not None else 0
            if n > 0:  # a short result fills the front of its row
                index.search_c(1, faiss.swig_ptr(q), n, faiss.swig_ptr(scores[row]),
                               faiss.swig_ptr(ids[row]),
                               None if keep is None else selecting(index, keep, share))
        found = ids.ravel() >= 0
        pos = np.repeat(np.arange(len(langs)), scores.shape[1])
        return ids.ravel()[found], scores.ravel()[found], pos[found]

    def best_sentence(
        self, langs: Sequence[str], query: np.ndarray, chunk_ids: np.ndarray, pos: np.ndarray
    ) -> np.ndarray:
        """For each chunk, the query's cosine with its best-matching sentence (NaN when
        the chunk has no sentence vectors). ``pos`` gives each chunk's language as a
        position in ``langs`` and must not decrease, as :meth:`search_langs` returns it."""
        out = np.full(len(chunk_ids), np.nan, dtype=np.float32)
        start, count = self._sentence_table()
        n = np.zeros(len(chunk_ids), dtype=np.int64)
        known = chunk_ids < len(count)
        n[known] = count[chunk_ids[known]]
        have = n > 0
        if not have.any():
            return out
        n = n[have]
        starts = np.cumsum(n) - n
        # Each chunk's sentence rows, laid end to end, without a Python loop; they index
        # the sentence matrix of the chunk's language, and languages come in runs.
        rows = np.arange(int(n.sum())) + np.repeat(start[chunk_ids[have]] - starts, n)
        bounds = np.searchsorted(np.repeat(pos[have], n), np.arange(len(langs) + 1)).tolist()
        dots = np.empty(len(rows), dtype=np.float32)
        q = np.ascontiguousarray(query, dtype=np.float32)
        for i, lang in enumerate(langs):
            lo, hi = bounds[i], bounds[i + 1]
            if hi > lo:
                _dot_rows(self.sent_vecs[lang], rows[lo:hi], q, dots[lo:hi])
        out[have] = np.maximum.reduceat(dots, starts)
        return out

    def mean_rows(self, langs: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The mean passage and mean sentence vector of each of ``langs``, one row per
        language (zeros where a language has none), for centring scores."""
        key = tuple(langs)
        rows = self._mean_rows.get(key)
        if rows is None:
            zero = np.zeros(self.dim, dtype=np.float32)
            means = np.stack([self.means.get(lang, zero) for lang in langs])
            sent_means = np.stack([self.sent_means.get(lang, zero) for lang in langs])
            rows = self._mean_rows[key] = (means.astype(np.float32),
                                           sent_means.astype(np.float32))
        return rows

    def _sentence_table(self) -> tuple[np.ndarray, np.ndarray]:
        """Chunk id -> (first row in its language's sentence matrix, sentence count);
        worked out on first use after a change."""
        table = self._sent_table
        if table is None:
            top = max((int(o[-1]) + 1 for o in self.sent_chunk.values() if len(o)), default=0)
            start, count = np.zeros(top, dtype=np.int64), np.zeros(top, dtype=np.int64)
            for owners in self.sent_chunk.values():
                chunk, first, n = np.unique(owners, return_index=True, return_counts=True)
                start[chunk], count[chunk] = first, n
            table = self._sent_table = (start, count)
        return table

    def save(self, directory: Path) -> None:
        """Write every language's files under ``directory``; a language unchanged since
        it was last saved or loaded is hard-linked from there instead."""

        directory.mkdir(parents=True, exist_ok=True)
        for lang, index in self._indexes.items():
            arrays = {f"{lang}.ids.npy": self._ids[lang], f"{lang}.mean.npy": self.means[lang]}
            if lang in self._sent_rows:
                arrays[f"{lang}.sent_chunk.npy"] = self.sent_chunk[lang]
                total, live = self._sent_sum[lang]
                arrays[f"{lang}.sent_sum.npy"] = np.append(total, float(live))
                self._sent_rows[lang].save(directory / f"{lang}.sent_vecs.f32")
                self.sent_vecs[lang] = self._sent_rows[lang].array  # now mapped (kb.rows)
            source = self._saved.get(lang)
            saved = self._main_files.get(lang)
            if saved is None or saved[0] is not index or not link_file(
                    saved[1], directory / f"{lang}.faiss"):
                write_index(index, directory / f"{lang}.faiss")
            self._main_files[lang] = (index, directory / f"{lang}.faiss")
            if lang in self._pending:
                delta.save(self._pending[lang], directory, lang)
            for name, array in arrays.items():
                if source is None or not link_file(source / name, directory / name):
                    np.save(directory / name, array, allow_pickle=False)
            self._saved[lang] = directory
        (directory / "langs.json").write_text(json.dumps({"dim": self.dim, "langs": self.langs}))
        (directory / "describe.json").write_text(json.dumps(self.describe(), indent=1))

    @staticmethod
    def describe_saved(directory: Path) -> dict[str, Any] | None:
        """What :meth:`describe` said when ``directory`` was saved (None if unknown)."""
        try:
            return json.loads((directory / "describe.json").read_text())  # type: ignore[no-any-return]
        except (OSError, ValueError):
            return None

    @classmethod
    def load(cls, directory: Path, config: VectorConfig | None = None) -> VectorIndex:
        """Load saved indexes. Their structure (kind, lists, graph) is what was saved;
        search settings (nprobe, efSearch) come from ``config``."""
        import faiss

        info = json.loads((directory / "langs.json").read_text())
        vi = cls(int(info["dim"]), config)
        for lang in info["langs"]:
            index = faiss.read_index(str(directory / f"{lang}.faiss"))
            vi._apply_search_params(index)
            vi._indexes[lang] = index
            vi._main_files[lang] = (index, directory / f"{lang}.faiss")
            pending = delta.load(directory, lang, index) if _kind_of(index) == "ivf" else None
            if pending is not None:
                vi._pending[lang] = pending
            ids_file = directory / f"{lang}.ids.npy"
            vi._ids[lang] = (np.load(ids_file, allow_pickle=False) if ids_file.exists()
                             else _ids_of(index))
            vi.means[lang] = np.load(directory / f"{lang}.mean.npy", allow_pickle=False)
            if (directory / f"{lang}.sent_vecs.f32").exists():
                owners = np.load(directory / f"{lang}.sent_chunk.npy", allow_pickle=False)
                rows = Rows.load(directory / f"{lang}.sent_vecs.f32", len(owners), vi.dim)
                vi._set_sentences(lang, rows, owners, *_live_sum(directory, lang, rows, owners,
                                                                 vi._ids[lang]))
            vi._saved[lang] = directory
        return vi


def _live_sum(directory: Path, lang: str, rows: Rows, owners: np.ndarray,
              ids: np.ndarray) -> tuple[np.ndarray, int]:
    """The sum and count of a language's live sentence rows: saved beside them, or (for
    an index saved before that file existed) worked out, which reads every row (4.6 GB
    at 1M chunks)."""
    try:
        saved = np.load(directory / f"{lang}.sent_sum.npy", allow_pickle=False)
        if saved.shape == (rows.array.shape[1] + 1,):
            return saved[:-1].astype(np.float64), int(saved[-1])
    except (OSError, ValueError):
        pass
    total = rows.array.sum(axis=0, dtype=np.float64)
    dead = ~np.isin(owners, ids)
    if dead.any():
        total -= rows.array[dead].sum(axis=0, dtype=np.float64)
    return total, len(owners) - int(dead.sum())


__all__ = ["KINDS", "VectorConfig", "VectorIndex"]
