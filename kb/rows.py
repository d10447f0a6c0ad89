"""An append-only float32 matrix that successive versions of an index share.

Sentence vectors are most of a large index (4.6 GB for 3M sentences), and a write
adds a few dozen. Copying the matrix to append to it, and saving it whole, made a
write at 1M chunks cost seconds (benchmarks/write_scale.py). Here a version is the
first ``n`` rows of a buffer with spare capacity:

- appending to the newest version writes into the spare rows in place. Older versions
  (readers still searching them) never look past their own ``n``, so they are
  undisturbed. Appending to any other version copies;
- on disk a version is the first ``n`` rows of a raw file. A save that extends the file
  this lineage was last saved to, when that file still ends at those rows, hard-links
  it into the new directory and writes only the new rows. Versions saved earlier keep
  reading their own first ``n`` rows, and a crash mid-write leaves them intact.

Deleting is the caller's business: it stops referencing rows, and compacts (copies
the live rows into a new matrix) when enough are dead.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kb.store import link_file


def _empty(n: int, dim: int) -> np.ndarray:
    """Room for ``n`` rows and as many again: large arrays are mapped lazily, so the
    unwritten half costs address space, not memory."""
    return np.empty((max(2 * n, 64), dim), np.float32)


class _Buffer:
    def __init__(self, data: np.ndarray, used: int) -> None:
        self.data = data  # capacity x dim; rows past ``used`` are unwritten
        self.used = used


class Rows:
    """One version of a shared float32 matrix (``array`` is a view of its rows)."""

    def __init__(self, buffer: _Buffer, n: int, saved: tuple[Path, int] | None = None) -> None:
        self._buffer = buffer
        self.n = n
        self._saved = saved  # (file, rows) last written for this lineage

    @classmethod
    def of(cls, array: np.ndarray) -> Rows:
        """A first version holding a copy of ``array``, with room to grow."""
        n = len(array)
        data = _empty(n, array.shape[1])
        data[:n] = array
        return cls(_Buffer(data, n), n)

    @property
    def array(self) -> np.ndarray:
        return self._buffer.data[: self.n]

    def __len__(self) -> int:
        return self.n

    def append(self, new: np.ndarray) -> Rows:
        """This version plus ``new`` rows, as a new version; this one is unchanged."""
        k, n, buffer = len(new), self.n, self._buffer
        if not k:
            return self
        if buffer.used == n and n + k <= len(buffer.data):
            buffer.data[n : n + k] = new
            buffer.used = n + k
            return Rows(buffer, n + k, self._saved)
        data = _empty(n + k, buffer.data.shape[1])
        data[:n] = buffer.data[:n]
        data[n : n + k] = new
        return Rows(_Buffer(data, n + k), n + k, self._saved)

    def save(self, path: Path) -> None:
        """Write the rows to ``path`` as raw float32, sharing the lineage's last file
        when it can (see the module docstring)."""
        row_bytes = self.array.shape[1] * 4
        start = 0
        if self._saved is not None:
            source, rows = self._saved
            try:
                extends = rows <= self.n and source.stat().st_size == rows * row_bytes
            except OSError:
                extends = False
            if extends and link_file(source, path):
                start = rows
        if not start:
            path.unlink(missing_ok=True)  # never truncate a file other versions link to
        with open(path, "r+b" if start else "wb") as f:
            f.seek(start * row_bytes)
            if self.n > start:
                f.write(memoryview(np.ascontiguousarray(self.array[start:])).cast("B"))
        self._saved = (path, self.n)

    @classmethod
    def load(cls, path: Path, n: int, dim: int) -> Rows:
        """The first ``n`` rows of a file written by :meth:`save`."""
        data = _empty(n, dim)
        with open(path, "rb") as f:
            got = f.readinto(memoryview(data[:n]).cast("B")) if n else 0
        if got != n * dim * 4:
            raise ValueError(f"{path}: {got} bytes, expected {n * dim * 4}")
        return cls(_Buffer(data, n), n, (path, n))
