"""``kb backup``: a consistent copy of an index's database, safe while a server runs.

The database runs in WAL mode: while a process (a running server) holds it open, the
last writes live in ``kb.sqlite-wal`` until SQLite folds them into ``kb.sqlite`` (about
every 4 MB of WAL). A copy of ``kb.sqlite`` alone silently lost every write since
(QA24a F7: hours of them). SQLite's online backup API reads the database as one
snapshot, WAL included, and writes it out as a single self-contained file.

Only ``kb.sqlite`` (and ``manifest.json``, when it describes the same version) is copied:
the derived indexes (``derived-*/``: FAISS and BM25) are built from the database, and the
first kb command on the copy rebuilds them from it, without re-embedding.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from kb.errors import BadInputError, NotFoundError, StorageError
from kb.store import damaged

DATABASE = "kb.sqlite"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class BackupReport:
    database: Path  # the copy
    version: int  # the index version it holds
    articles: int
    size: int  # bytes
    manifest: bool  # manifest.json copied too
    seconds: float


def backup(index_dir: Path, dest: Path) -> BackupReport:
    """Copy the database of ``index_dir`` into the directory ``dest`` (created; it must
    not hold a kb.sqlite already), and its manifest when it is of the same version."""
    source = index_dir / DATABASE
    if not source.is_file():
        raise NotFoundError(f"no index at {index_dir}; nothing to back up (check --index / "
                            "KB_INDEX_DIR)")
    target = dest / DATABASE
    if target.exists():
        raise BadInputError(f"{target} exists already: back up into a new or empty "
                            "directory, so that no backup is overwritten")
    if dest.resolve() == index_dir.resolve():
        raise BadInputError("the backup must go to another directory than the index")
    started = time.perf_counter()
    partial = dest / f".{DATABASE}.partial"
    try:
        dest.mkdir(parents=True, exist_ok=True)
        partial.unlink(missing_ok=True)
        # A connection of its own, read-only, so that it neither creates nor changes
        # anything in the index directory; busy_timeout as kb's own connections.
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            src.execute("PRAGMA busy_timeout = 10000")
            out = sqlite3.connect(partial)
            try:
                # pages=-1: every page in one step, from one read snapshot. In steps, a
                # write by another process (the server) restarts the copy from the first
                # page, which under steady writes might never finish.
                src.backup(out, pages=-1)
                # A file that stands alone: no -wal beside it to lose in a copy.
                out.execute("PRAGMA journal_mode = DELETE")
                version = _version(out)
                articles = out.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
            finally:
                out.close()
        finally:
            src.close()
        os.replace(partial, target)
        manifest = _copy_manifest(index_dir / MANIFEST, dest / MANIFEST, version)
    except sqlite3.DatabaseError as exc:
        partial.unlink(missing_ok=True)
        if (error := damaged(exc, source)) is not None:
            raise error from exc
        raise StorageError(f"could not back up {source} to {dest}: {exc}") from exc
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise StorageError(f"could not back up {source} to {dest}: "
                           f"{exc.strerror or exc}") from exc
    return BackupReport(database=target, version=version, articles=articles,
                        size=target.stat().st_size, manifest=manifest,
                        seconds=time.perf_counter() - started)


def _version(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
    return int(row[0]) if row else 0


def _copy_manifest(source: Path, target: Path, version: int) -> bool:
    """Copy manifest.json when it describes ``version``; a write since the snapshot
    makes it newer, and kb writes the right one on the copy's first use anyway."""
    import json

    try:
        if json.loads(source.read_text(encoding="utf-8")).get("version") != version:
            return False
    except (OSError, ValueError, AttributeError):
        return False
    shutil.copyfile(source, target)
    return True
