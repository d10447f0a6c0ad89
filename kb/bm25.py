"""BM25 (Lucene variant) over segments of postings, updated in place by writes.

bm25s, used before, stores each (term, chunk) score with the corpus-wide idf and mean
length baked in, so any write rebuilt the whole language: 3.3 s at 100k chunks and
50 s at 1M (benchmarks/write_scale.py, benchmarks/bm25_scale.py). Here a language is a
few immutable segments of term frequencies, and idf and length normalisation are
applied at query time from counts that every add and delete keeps exact. A write
costs what it changes, and the scores are those of a fresh build (bm25s's to float
rounding, checked in tests/test_bm25.py).

A segment holds its chunks' postings twice: by term (to score a query) and by chunk
(to take a deleted chunk's terms out of the document frequencies, and to merge).
Deleted chunks stay in their segment, marked dead, until it is merged. New chunks
arrive as a new segment; the newest segments are merged while the last is at least
half the size of the one before it, or while there are more than ``MAX_SEGMENTS``,
so there are few segments and each chunk is rewritten O(log n) times.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from kb.store import link_file

K1, B = 1.5, 0.75  # bm25s's defaults, which the retriever was tuned with
MAX_SEGMENTS = 8
DEAD_SHARE = 0.3  # a segment this dead is rewritten without its dead chunks
_HANGUL = re.compile("[\uac00-\ud7a3]+")  # precomposed syllables
_ARRAYS = ("ids", "lengths", "doc_ptr", "doc_terms", "doc_tf", "term_ptr", "term_rows",
           "term_tf")


@dataclass(frozen=True)
class Segment:
    name: str
    ids: np.ndarray  # chunk ids (int64), ascending
    lengths: np.ndarray  # tokens per chunk (float64)
    doc_ptr: np.ndarray  # by chunk: row i's postings are [doc_ptr[i], doc_ptr[i+1])
    doc_terms: np.ndarray  # term ids (int32)
    doc_tf: np.ndarray  # term frequencies (float32)
    term_ptr: np.ndarray  # by term: term t's postings are [term_ptr[t], term_ptr[t+1])
    term_rows: np.ndarray  # rows (int32)
    term_tf: np.ndarray
    alive: np.ndarray  # bool per row

    @property
    def size(self) -> int:
        return len(self.ids)


def _segment(ids: np.ndarray, lengths: np.ndarray, doc_rows: np.ndarray,
             doc_terms: np.ndarray, tf: np.ndarray, vocab_size: int) -> Segment:
    """A segment from its postings, one (row, term, tf) each, sorted by row and then
    term; rows index ``ids``."""
    n = len(ids)
    doc_ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(doc_rows, minlength=n), out=doc_ptr[1:])
    by_term = np.argsort(doc_terms, kind="stable")  # rows stay ascending within a term
    term_ptr = np.zeros(vocab_size + 1, np.int64)
    np.cumsum(np.bincount(doc_terms, minlength=vocab_size), out=term_ptr[1:])
    return Segment(
        name=uuid.uuid4().hex[:12],
        ids=np.asarray(ids, np.int64),
        lengths=np.asarray(lengths, np.float64),
        doc_ptr=doc_ptr,
        doc_terms=doc_terms.astype(np.int32),
        doc_tf=tf.astype(np.float32),
        term_ptr=term_ptr,
        term_rows=doc_rows[by_term].astype(np.int32),
        term_tf=tf[by_term].astype(np.float32),
        alive=np.ones(n, bool),
    )


def _postings(seg: Segment, rows: np.ndarray) -> np.ndarray:
    """Positions in ``seg.doc_terms`` of the postings of ``rows``, row by row."""
    counts = np.diff(seg.doc_ptr)[rows]
    first = np.repeat(seg.doc_ptr[rows] - np.cumsum(counts) + counts, counts)
    return first + np.arange(int(counts.sum()))


def _merge(segments: Sequence[Segment], vocab_size: int) -> Segment:
    """One segment with the live chunks of ``segments`` (given oldest first)."""
    ids, lengths, rows, terms, tfs = [], [], [], [], []
    offset = 0
    for seg in segments:
        keep = np.flatnonzero(seg.alive)
        pick = _postings(seg, keep)
        ids.append(seg.ids[keep])
        lengths.append(seg.lengths[keep])
        rows.append(np.repeat(np.arange(len(keep)) + offset, np.diff(seg.doc_ptr)[keep]))
        terms.append(seg.doc_terms[pick])
        tfs.append(seg.doc_tf[pick])
        offset += len(keep)
    return _segment(np.concatenate(ids), np.concatenate(lengths), np.concatenate(rows),
                    np.concatenate(terms), np.concatenate(tfs), vocab_size)


def _mapped(path: Path) -> np.ndarray:
    """A segment array, mapped read-only: segment files never change once written, so
    every process with the index open shares their pages instead of holding a copy.
    Returned as a plain array over the mapping: a query indexes these arrays some 100
    times, and ``np.memmap``'s Python-level ``__getitem__`` made BM25 scoring about a
    third slower (the seed questions' scoring 0.99 → 0.72 ms)."""
    return np.asarray(np.load(path, mmap_mode="r", allow_pickle=False))


class BM25:
    """One language's BM25 index over chunk ids."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self.segments: list[Segment] = []
        self.df = np.zeros(0, np.int64)  # live chunks per term
        self.live = 0
        self.total_length = 0.0
        self._view: tuple[np.ndarray, list[int], np.ndarray, list[np.ndarray]] | None = None
        self._by_shape: dict[tuple[str, int], list[str]] | None = None  # see terms_like
        self._saved: dict[str, Path] = {}  # segment name -> directory holding its files

    def copy(self) -> BM25:
        """A copy to change while readers keep this one (segments are shared)."""
        other = BM25()
        other.vocab, other.segments = dict(self.vocab), list(self.segments)
        other.df, other.live, other.total_length = self.df.copy(), self.live, self.total_length
        other._saved = dict(self._saved)
        return other

    @property
    def ids(self) -> np.ndarray:
        """Every chunk id, dead ones included, in scoring order."""
        return self._rows()[0]

    def live_ids(self) -> np.ndarray:
        ids, _, dead, _ = self._rows()
        return np.delete(ids, dead) if len(dead) else ids

    def add(self, ids: Iterable[int], docs: Iterable[Sequence[str]]) -> None:
        """Index new chunks (ids not in the index) from their analyzed terms."""
        self.add_pairs(zip(ids, docs, strict=True))

    def add_pairs(self, chunks: Iterable[tuple[int, Sequence[str]]]) -> None:
        """Index new chunks, given as (id, analyzed terms) pairs, read once.

        The postings collect in typed arrays, 8 bytes each: Python lists of ints took
        36, and a list of every chunk's terms another ~70 per posting, which made the
        BM25 build the peak of a full publish (17 GB at 1M chunks)."""
        vocab = self.vocab
        ids, lengths, terms = array("q"), array("q"), array("q")
        for cid, doc in chunks:
            ids.append(cid)
            lengths.append(len(doc))
            terms.extend([vocab.setdefault(t, len(vocab)) for t in doc])
        if not ids:
            return
        size = len(vocab)
        counts = np.frombuffer(lengths, np.int64)
        key = np.repeat(np.arange(len(counts), dtype=np.int64) * size, counts)
        key += np.frombuffer(terms, np.int64)
        del terms
        key, tf = np.unique(key, return_counts=True)
        doc_rows, doc_terms = np.divmod(key, size)
        del key
        seg = _segment(np.frombuffer(ids, np.int64).copy(), counts.astype(np.float64), doc_rows,
                       doc_terms, tf, size)
        self.df = np.concatenate([self.df, np.zeros(len(vocab) - len(self.df), np.int64)])
        self.df += np.bincount(seg.doc_terms, minlength=len(vocab))
        self.live += seg.size
        self.total_length += float(seg.lengths.sum())
        self.segments.append(seg)
        self._compact()

    def remove(self, ids: np.ndarray) -> None:
        """Forget chunks; unknown ids are ignored."""
        if not len(ids):
            return
        for i, seg in enumerate(self.segments):
            hit = np.isin(seg.ids, ids) & seg.alive
            if not hit.any():
                continue
            rows = np.flatnonzero(hit)
            self.df -= np.bincount(seg.doc_terms[_postings(seg, rows)], minlength=len(self.df))
            self.live -= len(rows)
            self.total_length -= float(seg.lengths[rows].sum())
            alive = seg.alive.copy()
            alive[rows] = False
            # Same name, same files: only the alive flags, saved apart, have changed.
            self.segments[i] = replace(seg, alive=alive)
        self._compact()

    def _compact(self) -> None:
        segs = [s for s in self.segments if s.alive.any()]
        while len(segs) > 1 and (segs[-1].size * 2 >= segs[-2].size or len(segs) > MAX_SEGMENTS):
            segs[-2:] = [_merge(segs[-2:], len(self.vocab))]
        segs = [_merge([s], len(self.vocab)) if (~s.alive).mean() > DEAD_SHARE else s
                for s in segs]
        self.segments = segs
        self._view = None
        self._by_shape = None
        self._rows()  # the writer pays for the new normalisation, not the first query

    def _rows(self) -> tuple[np.ndarray, list[int], np.ndarray, list[np.ndarray]]:
        """(ids, segment offsets, dead rows, each segment's per-posting length-normalised
        term frequency), all segments end to end; worked out once per change.

        The normalised frequencies depend on the mean chunk length, which every write
        moves, so a write recomputes them for every segment (one pass over the postings,
        0.14 s for 60M postings): a query then only multiplies by idf and adds, as fast as
        bm25s's precomputed scores.
        """
        if self._view is None:
            segs = self.segments
            ids = np.concatenate([s.ids for s in segs]) if segs else np.empty(0, np.int64)
            offsets = np.cumsum([0] + [s.size for s in segs]).tolist()
            dead = np.flatnonzero(np.concatenate([~s.alive for s in segs])) if segs else ids
            avg = (self.total_length / self.live if self.live else 1.0) or 1.0
            weights = []
            for seg in segs:
                # In float32 and in place: one array per segment. The float64 version
                # allocated four temporaries per posting (1.7 GB at 1M chunks), and its
                # cost per write swung from 0.35 to 1.4 s with the page faults.
                norm = (K1 * ((1 - B) + B * seg.lengths / avg)).astype(np.float32)
                weight = norm[seg.term_rows]
                weight += seg.term_tf
                np.divide(seg.term_tf, weight, out=weight)
                weights.append(weight)
            self._view = (ids, offsets, dead, weights)
        return self._view

    def scores(self, terms: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(ids, BM25 score of each for ``terms``); a term given twice counts twice,
        dead chunks score 0."""
        ids, offsets, dead, weights = self._rows()
        out = np.zeros(len(ids), np.float32)
        vocab = self.vocab
        tids = [vocab[t] for t in terms if t in vocab]
        tids = [t for t in tids if self.df[t] > 0]
        if not tids:
            return ids, out
        df = self.df[tids].astype(np.float64)
        idf = np.log1p((self.live - df + 0.5) / (df + 0.5)).astype(np.float32).tolist()
        for seg, off, weight in zip(self.segments, offsets, weights, strict=False):
            ptr = seg.term_ptr
            spans = [(int(ptr[t]), int(ptr[t + 1]), w) for t, w in zip(tids, idf, strict=True)
                     if t < len(ptr) - 1 and ptr[t + 1] > ptr[t]]
            if spans:  # one scatter-add for all terms: numpy's add.at beat a loop 2x here
                rows = np.concatenate([seg.term_rows[lo:hi] for lo, hi, _ in spans])
                vals = np.concatenate([np.float32(w) * weight[lo:hi] for lo, hi, w in spans])
                np.add.at(out, rows + off if off else rows, vals)
        if len(dead):
            out[dead] = 0.0
        return ids, out

    def terms_like(self, first: str, size: int) -> list[str]:
        """The terms of ``size`` letters starting with ``first`` that some live chunk
        holds, words only (no numbers, no Vietnamese syllable pairs): what a misspelled
        query word is compared with (kb.spelling, which keeps the first letter). A term
        of Hangul syllables is kept as its jamo (NFD: 마케팅 is ㅁㅏㅋㅔㅌㅣㅇ, 7
        letters), since a Korean typo changes one jamo of a syllable. Grouped once per
        change of the index, on first use (1.1 s for a million terms)."""
        groups = self._by_shape
        if groups is None:
            groups = {}
            df = self.df
            for term, i in self.vocab.items():
                if df[i] > 0 and term.isalpha():
                    if _HANGUL.fullmatch(term):
                        term = unicodedata.normalize("NFD", term)
                    groups.setdefault((term[0], len(term)), []).append(term)
            self._by_shape = groups
        return groups.get((first, size), [])

    def chunk_ids(self, term: str, limit: int) -> list[int]:
        """Up to ``limit`` live chunks holding ``term`` (the first in index order)."""
        t = self.vocab.get(term)
        out: list[int] = []
        if t is None:
            return out
        for seg in self.segments:
            ptr = seg.term_ptr
            if t >= len(ptr) - 1:
                continue
            rows = np.asarray(seg.term_rows[int(ptr[t]):int(ptr[t + 1])])
            rows = rows[seg.alive[rows]]
            out += seg.ids[rows[: limit - len(out)]].tolist()
            if len(out) >= limit:
                break
        return out

    def save(self, directory: Path) -> None:
        """Write to ``directory``; segments already on disk are hard-linked, not copied."""
        directory.mkdir(parents=True, exist_ok=True)
        for seg in self.segments:
            target = directory / seg.name
            target.mkdir(exist_ok=True)
            source = self._saved.get(seg.name)
            for name in _ARRAYS:
                file = f"{name}.npy"
                if source is None or not link_file(source / file, target / file):
                    np.save(target / file, getattr(seg, name), allow_pickle=False)
            np.save(directory / f"{seg.name}.alive.npy", seg.alive, allow_pickle=False)
        (directory / "vocab.json").write_text(json.dumps(list(self.vocab), ensure_ascii=False),
                                             encoding="utf-8")
        (directory / "segments.json").write_text(json.dumps([s.name for s in self.segments]))
        self._saved = {s.name: directory / s.name for s in self.segments}

    @classmethod
    def load(cls, directory: Path) -> BM25:
        index = cls()
        terms = json.loads((directory / "vocab.json").read_text(encoding="utf-8"))
        index.vocab = {t: i for i, t in enumerate(terms)}
        for name in json.loads((directory / "segments.json").read_text()):
            arrays = {a: _mapped(directory / name / f"{a}.npy") for a in _ARRAYS}
            alive = np.load(directory / f"{name}.alive.npy", allow_pickle=False)
            index.segments.append(Segment(name=name, alive=alive, **arrays))
            index._saved[name] = directory / name
        index.df = np.zeros(len(index.vocab), np.int64)
        for seg in index.segments:
            rows = np.repeat(seg.alive, np.diff(seg.doc_ptr))
            index.df += np.bincount(seg.doc_terms[rows], minlength=len(index.vocab))
            index.live += int(seg.alive.sum())
            index.total_length += float(seg.lengths[seg.alive].sum())
        return index
