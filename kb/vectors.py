"""Vector stage: one FAISS index per language, with deletable int64 chunk ids.

e5 gives every same-language pair a bonus: a Korean query ranks unrelated Korean
passages above the German passage that answers it. Keeping one index per language
lets search correct that per language (see kb.search) and lets a language filter skip
whole indexes. Vectors are L2-normalised, so inner product is cosine.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

# Exact search is fast and needs no training below this many vectors per language;
# above it an HNSW graph keeps queries in the low milliseconds.
HNSW_THRESHOLD = 200_000


def _new_index(dim: int, n: int):  # type: ignore[no-untyped-def]
    import faiss

    if n >= HNSW_THRESHOLD:
        base = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        base.hnsw.efSearch = 128
        base.hnsw.efConstruction = 80
    else:
        base = faiss.IndexFlatIP(dim)
    return faiss.IndexIDMap2(base)


class VectorIndex:
    """Per-language FAISS indexes plus each language's mean passage vector."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._indexes: dict[str, object] = {}
        self.means: dict[str, np.ndarray] = {}
        # Sentence vectors per language, sorted by chunk id, for best-sentence scoring.
        self.sent_chunk: dict[str, np.ndarray] = {}
        self.sent_vecs: dict[str, np.ndarray] = {}
        self.sent_means: dict[str, np.ndarray] = {}

    @property
    def langs(self) -> list[str]:
        return sorted(self._indexes)

    def copy(self) -> VectorIndex:
        """A shallow copy: rebuilding a language in it leaves this one untouched."""
        other = VectorIndex(self.dim)
        for name in ("_indexes", "means", "sent_chunk", "sent_vecs", "sent_means"):
            setattr(other, name, dict(getattr(self, name)))
        return other

    def size(self, lang: str | None = None) -> int:
        if lang is not None:
            idx = self._indexes.get(lang)
            return int(idx.ntotal) if idx is not None else 0  # type: ignore[attr-defined]
        return sum(self.size(lang) for lang in self._indexes)

    def build(
        self,
        lang: str,
        ids: np.ndarray,
        vectors: np.ndarray,
        sent_chunk: np.ndarray | None = None,
        sent_vecs: np.ndarray | None = None,
    ) -> None:
        """(Re)build one language's index from raw normalised vectors (and, optionally,
        its sentence vectors with the chunk id of each, sorted by chunk id)."""
        for table in (self._indexes, self.means, self.sent_chunk, self.sent_vecs,
                      self.sent_means):
            table.pop(lang, None)
        if len(ids) == 0:
            return
        if sent_chunk is not None and sent_vecs is not None and len(sent_chunk):
            self.sent_chunk[lang] = np.ascontiguousarray(sent_chunk, dtype=np.int64)
            self.sent_vecs[lang] = np.ascontiguousarray(sent_vecs, dtype=np.float32)
            self.sent_means[lang] = self.sent_vecs[lang].mean(axis=0)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.means[lang] = vectors.mean(axis=0).astype(np.float32)
        index = _new_index(self.dim, len(ids))
        index.add_with_ids(vectors, np.ascontiguousarray(ids, dtype=np.int64))
        self._indexes[lang] = index

    def search(self, lang: str, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (ids, inner products) for one query vector in one language."""
        index = self._indexes.get(lang)
        if index is None:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        k = min(k, index.ntotal)  # type: ignore[attr-defined]
        scores, ids = index.search(query.reshape(1, -1).astype(np.float32), k)  # type: ignore[attr-defined]
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def best_sentence(self, lang: str, query: np.ndarray, chunk_ids: np.ndarray) -> np.ndarray:
        """For each chunk, the query's cosine with its best-matching sentence (NaN when
        the chunk has no sentence vectors)."""
        out = np.full(len(chunk_ids), np.nan, dtype=np.float32)
        owners = self.sent_chunk.get(lang)
        if owners is None or len(chunk_ids) == 0:
            return out
        lo = np.searchsorted(owners, chunk_ids, side="left")
        hi = np.searchsorted(owners, chunk_ids, side="right")
        have = hi > lo
        if not have.any():
            return out
        rows = np.concatenate([np.arange(a, b) for a, b in zip(lo[have], hi[have], strict=True)])
        sims = self.sent_vecs[lang][rows] @ query.astype(np.float32)
        starts = np.concatenate([[0], np.cumsum((hi - lo)[have])[:-1]])
        out[have] = np.maximum.reduceat(sims, starts)
        return out

    def save(self, directory: Path) -> None:
        import faiss

        directory.mkdir(parents=True, exist_ok=True)
        for lang, index in self._indexes.items():
            faiss.write_index(index, str(directory / f"{lang}.faiss"))
            np.save(directory / f"{lang}.mean.npy", self.means[lang], allow_pickle=False)
            if lang in self.sent_vecs:
                np.save(directory / f"{lang}.sent_chunk.npy", self.sent_chunk[lang],
                        allow_pickle=False)
                np.save(directory / f"{lang}.sent_vecs.npy", self.sent_vecs[lang],
                        allow_pickle=False)
        (directory / "langs.json").write_text(json.dumps({"dim": self.dim, "langs": self.langs}))

    @classmethod
    def load(cls, directory: Path) -> VectorIndex:
        import faiss

        info = json.loads((directory / "langs.json").read_text())
        vi = cls(int(info["dim"]))
        for lang in info["langs"]:
            vi._indexes[lang] = faiss.read_index(str(directory / f"{lang}.faiss"))
            vi.means[lang] = np.load(directory / f"{lang}.mean.npy", allow_pickle=False)
            if (directory / f"{lang}.sent_vecs.npy").exists():
                vi.sent_chunk[lang] = np.load(directory / f"{lang}.sent_chunk.npy",
                                              allow_pickle=False)
                vi.sent_vecs[lang] = np.load(directory / f"{lang}.sent_vecs.npy",
                                             allow_pickle=False)
                vi.sent_means[lang] = vi.sent_vecs[lang].mean(axis=0)
        return vi
