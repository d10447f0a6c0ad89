"""Reading vectors back out of FAISS indexes: a rebuild, a fold of pending writes and
the language means need them, and FAISS keeps no other copy. And writing an index as
the rest of kb writes files: an OSError when the disk refuses."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np


def write_index(index: Any, path: Path) -> None:
    """``faiss.write_index``, whose failure to write (a full disk) is a RuntimeError
    carrying the OS's words: as an OSError, kb reports it as every other storage
    failure (QA24a F1: a save on a full disk was a 500 with FAISS's C++ assertion)."""
    import faiss

    try:
        faiss.write_index(index, str(path))
    except RuntimeError as exc:
        text = str(exc)
        code = next((c for c in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES,
                                 errno.ENOENT, errno.EIO) if os.strerror(c) in text), None)
        if code is None and "write error" not in text and "could not open" not in text:
            raise
        code = code or errno.EIO
        raise OSError(code, os.strerror(code), str(path)) from exc


def ivf_lists(index: Any) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(ids, vectors) of each non-empty list of an IVF-Flat index, as views."""
    import faiss

    lists, d = index.invlists, index.d
    for i in range(index.nlist):
        n = lists.list_size(i)
        if n:
            ids = faiss.rev_swig_ptr(lists.get_ids(i), n)
            codes = faiss.rev_swig_ptr(lists.get_codes(i), n * d * 4)
            yield ids, np.frombuffer(codes, dtype=np.float32).reshape(n, d)


def stored(index: Any) -> tuple[np.ndarray, np.ndarray]:
    """Every (id, vector) an index holds, sorted by id."""
    import faiss

    if isinstance(index, faiss.IndexIDMap):
        ids = faiss.vector_to_array(index.id_map).astype(np.int64)
        vecs = index.index.reconstruct_n(0, index.ntotal)
    else:
        parts = list(ivf_lists(index))
        ids = np.concatenate([np.empty(0, np.int64)] + [p[0] for p in parts]).astype(np.int64)
        vecs = np.concatenate([np.empty((0, index.d), np.float32)] + [p[1] for p in parts])
    order = np.argsort(ids)
    return ids[order], np.ascontiguousarray(vecs[order], dtype=np.float32)


def vector_sum(index: Any) -> np.ndarray:
    """The sum of an index's vectors in float64, list by list for IVF (no full copy)."""
    import faiss

    if isinstance(index, faiss.IndexIDMap):
        return stored(index)[1].sum(axis=0, dtype=np.float64)
    total = np.zeros(index.d, np.float64)
    for _, vecs in ivf_lists(index):
        total += vecs.sum(axis=0, dtype=np.float64)
    return total
