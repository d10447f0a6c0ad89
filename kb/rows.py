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

Once saved or loaded, a version maps its file read-only instead of holding the rows
in memory (3M sentence vectors are 4.6 GB per process otherwise): the pages are the
operating system's file cache, shared by every process that has the index open and
reclaimable under pressure. Appending to such a version writes the new rows straight
to the end of the file, when the file still ends at this version's rows, and maps it
again; that is the same extension :meth:`Rows.save` would make, only earlier.

Deleting is the caller's business: it stops referencing rows, and compacts (copies
the live rows into a new matrix) when enough are dead.
"""

from __future__ import annotations

import mmap
import os
from pathlib import Path

import numpy as np

from kb.store import link_file


def _empty(n: int, dim: int) -> np.ndarray:
    """Room for ``n`` rows and as many again: large arrays are mapped lazily, so the
    unwritten half costs address space, not memory."""
    return np.empty((max(2 * n, 64), dim), np.float32)


# Linux 5.14+: fill in the mapping's page tables now. A fresh mapping otherwise faults
# on each page it first touches: best-sentence scoring over 3M rows took 20 ms on its
# first query and 0.5 ms a query for a while after, against 0.2 ms with this (0.01 s for
# 4.6 GB already in the page cache). Python 3.11's mmap module does not name it.
_MADV_POPULATE_READ = 22


def _mapped(path: Path, n: int, dim: int) -> _Buffer:
    """The first ``n`` rows of a raw float32 file, mapped read-only."""
    with open(path, "rb") as f:
        stat = os.fstat(f.fileno())
        if n == 0:
            data = np.empty((0, dim), np.float32)
        else:
            view = mmap.mmap(f.fileno(), n * dim * 4, access=mmap.ACCESS_READ)
            try:
                view.madvise(_MADV_POPULATE_READ)
            except (OSError, AttributeError):  # an older kernel, or not Linux: pages
                pass  # are mapped as they are first read
            data = np.frombuffer(view, np.float32).reshape(n, dim)
    return _Buffer(data, n, path, (stat.st_dev, stat.st_ino))


class _Buffer:
    def __init__(self, data: np.ndarray, used: int, file: Path | None = None,
                 inode: tuple[int, int] | None = None) -> None:
        # In memory: capacity x dim, rows past ``used`` unwritten. Mapped: exactly
        # ``used`` rows of the file ``inode``, whose newest name is ``file`` (older
        # names go away with the index versions that held them).
        self.data = data
        self.used = used
        self.file = file
        self.inode = inode


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

    @classmethod
    def adopt(cls, array: np.ndarray) -> Rows:
        """A first version over ``array`` itself, not a copy, for an array made for it
        (a full build, saved and mapped right after: the copy was another 4.6 GB at 1M
        chunks). It has no spare room, so it is never written to: appending copies."""
        data = np.ascontiguousarray(array, dtype=np.float32)
        return cls(_Buffer(data, len(data)), len(data))

    @property
    def mapped(self) -> bool:
        """Whether the rows are read from their file rather than held in memory."""
        return self._buffer.inode is not None

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
        if buffer.used == n and buffer.inode is not None:
            appended = self._append_to_file(np.asarray(new, np.float32))
            if appended is not None:
                return appended
        elif buffer.used == n and n + k <= len(buffer.data):
            buffer.data[n : n + k] = new
            buffer.used = n + k
            return Rows(buffer, n + k, self._saved)
        data = _empty(n + k, buffer.data.shape[1])
        data[:n] = buffer.data[:n]
        data[n : n + k] = new
        return Rows(_Buffer(data, n + k), n + k, self._saved)

    def _append_to_file(self, new: np.ndarray) -> Rows | None:
        """This version plus ``new``, written to the end of its mapped file; None when the
        file no longer ends at this version's rows (another lineage, or an unfinished
        write, extended it), is gone, or cannot be written."""
        buffer, n, dim = self._buffer, self.n, new.shape[1]
        assert buffer.file is not None
        try:
            with open(buffer.file, "r+b") as f:
                stat = os.fstat(f.fileno())
                if (stat.st_dev, stat.st_ino) != buffer.inode or stat.st_size != n * dim * 4:
                    return None
                f.seek(n * dim * 4)
                f.write(memoryview(np.ascontiguousarray(new)).cast("B"))
        except OSError:
            return None
        buffer.used = n + len(new)  # appending to this version again must copy
        total = n + len(new)
        return Rows(_mapped(buffer.file, total, dim), total, (buffer.file, total))

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
        buffer = self._buffer
        if buffer.used != self.n:
            return  # not the newest version of its buffer: leave the buffer to that one
        stat = path.stat()
        if buffer.inode == (stat.st_dev, stat.st_ino):
            buffer.file = path  # the same file under its newest name: append there
        else:
            # From now on the rows are read from the file's pages, not held in memory;
            # versions sharing the old buffer keep it.
            self._buffer = _mapped(path, self.n, self.array.shape[1])

    @classmethod
    def load(cls, path: Path, n: int, dim: int) -> Rows:
        """The first ``n`` rows of a file written by :meth:`save`, mapped."""
        size = path.stat().st_size
        if size < n * dim * 4:
            raise ValueError(f"{path}: {size} bytes, expected at least {n * dim * 4}")
        return cls(_mapped(path, n, dim), n, (path, n))
