"""Store stage: the index directory, with SQLite as the source of truth.

Layout of an index directory::

    manifest.json        human-readable self-description (model, dim, versions, hashes)
    kb.sqlite            articles, chunks (text, offsets, analyzed terms, vectors), meta
    kb.sqlite-wal, -shm  SQLite's WAL while a process has it open: the latest writes can
                         be there only, so back up with ``kb backup`` (kb.backup)
    derived.json         which derived-<version>/ directory is current
    derived-<version>/   FAISS indexes and BM25 indexes built from kb.sqlite (files a
                         write did not change are hard links to the previous version's)
    .lock                serialises writers

Every write is one SQLite transaction (atomic by design), then the derived indexes
are written to a fresh directory and switched to with ``os.replace`` on derived.json,
then manifest.json is replaced. A crash at any point leaves the previous state
readable: if derived.json lags behind the database, readers rebuild the derived
indexes from the database in memory (no re-embedding). Nothing is ever unpickled.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from kb.articles import Article
from kb.errors import IndexCorruptError, IndexMovedError, StorageError

FORMAT_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    lang TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]',
    path TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL,
    raw_sha256 TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    added_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    ord INTEGER NOT NULL,
    lang TEXT NOT NULL,
    section TEXT NOT NULL DEFAULT '',
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text TEXT NOT NULL,
    n_tokens INTEGER NOT NULL,
    terms TEXT NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
CREATE TABLE IF NOT EXISTS sentences (
    chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS sentences_chunk ON sentences(chunk_id);
CREATE TABLE IF NOT EXISTS links (
    a TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    b TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    score REAL NOT NULL,
    pairs TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (a, b, kind)
);
CREATE INDEX IF NOT EXISTS chunks_lang ON chunks(lang);
-- Where passages were before a write moved or deleted them (their id, the article they
-- were in, their offsets and text then): a link made before the write names the passage
-- and absolute offsets, and the web app finds its quoted text from here.
CREATE TABLE IF NOT EXISTS passage_log (
    chunk_id INTEGER NOT NULL,
    article_id TEXT NOT NULL,
    start INTEGER NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS passage_log_chunk ON passage_log(chunk_id);
CREATE TABLE IF NOT EXISTS signatures (
    article_id TEXT PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
    minhash BLOB NOT NULL,     -- of the text's word 5-grams (kb.families.minhash)
    chunk_mean BLOB NOT NULL,  -- mean chunk vector (float32)
    chunk_langs TEXT NOT NULL  -- {language: chunks}
);
"""


@dataclass(frozen=True)
class ChunkRow:
    """A chunk as stored: the text is an exact slice of its article's cleaned text."""

    id: int
    article_id: str
    ord: int
    lang: str
    section: str
    start: int
    end: int
    text: str
    n_tokens: int


@dataclass(frozen=True)
class NewChunk:
    """A chunk ready to write, with its analyzed terms and embedding."""

    lang: str
    section: str
    start: int
    end: int
    text: str
    n_tokens: int
    terms: list[str]
    vector: np.ndarray
    # (start, end, vector) of each sentence, offsets into the article text.
    sentences: list[tuple[int, int, np.ndarray]]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


_ARTICLE_COLUMNS = ("id", "title", "lang", "source", "tags", "path", "raw_sha256",
                    "content_sha256", "added_at", "updated_at")


def link_file(source: Path, target: Path) -> bool:
    """Hard-link ``source`` as ``target``: a derived index's files are never changed once
    written, so a new version shares the unchanged ones. False when that is not possible
    (then the caller writes the file)."""
    if source == target:
        return target.exists()
    try:
        target.unlink(missing_ok=True)
        os.link(source, target)
    except OSError:
        return False
    return True


def _read_umask() -> int:
    mask = os.umask(0o022)  # the only way to read it; set back at once, at import time
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def atomic_write_text(path: Path, text: str) -> None:
    """Write a file so that readers see the old or the new content, never a mix.

    The file gets the mode a plain ``open(path, "w")`` would give (mkstemp's is 0600,
    which hid saved articles and the manifest from a server running as another user),
    or keeps the mode of the file it replaces."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        try:
            mode = path.stat().st_mode & 0o7777
        except OSError:
            mode = 0o666 & ~_UMASK
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# One language's sentences of chunks above an id, and their (chunk id, vector) rows in
# the order the derived indexes keep them: by chunk, then by position.
_LANG_SENTENCES = (
    "FROM sentences s JOIN chunks c ON c.id = s.chunk_id WHERE c.lang = ? AND c.id > ?"
)
_SENTENCE_ROWS = f"SELECT s.chunk_id, s.vector {_LANG_SENTENCES} ORDER BY s.chunk_id, s.start"


def _file_id(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


# SQLite's words for a write the file system refused, and what they mean to whoever
# runs kb (the database's own errors, malformed files aside, are not storage problems).
_STORAGE_PROBLEMS = {
    "database or disk is full": "No space left on device (the database or disk is full)",
    "disk i/o error": "a disk I/O error",
    "attempt to write a readonly database": "Read-only file system (the database is "
                                            "read-only)",
    "unable to open database file": "the database file cannot be opened for writing",
}


def _storage_problem(exc: sqlite3.OperationalError) -> str | None:
    text = str(exc).casefold()
    return next((said for key, said in _STORAGE_PROBLEMS.items() if key in text), None)


def damaged(exc: BaseException, path: Path) -> IndexCorruptError | None:
    """The IndexCorruptError for SQLite's "the file is damaged" (``exc``, raised on the
    database at ``path``), None for any other error. Damage inside the file shows up
    only when a query reads the damaged pages, long after the database opened fine: the
    edges translate it here, so that a search says what opening says (QA24a F4: a
    traceback in the CLI, a 500 in the API, while /healthz said "ready")."""
    if not isinstance(exc, sqlite3.DatabaseError) or isinstance(exc, sqlite3.OperationalError):
        return None  # locked, a full disk, an unreadable file: not damage
    code = getattr(exc, "sqlite_errorname", "") or ""
    if not code.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return None  # an IntegrityError, a ProgrammingError: a bug, not damage
    # The corpus holds every article (writes save it there first), so the way back is
    # a new index; kb never deletes the damaged one itself.
    directory = path.parent
    return IndexCorruptError(
        f"the index database {path} is damaged ({exc}). Move {directory} aside (for "
        f"example to {directory.name}.damaged) and run `kb ingest` to rebuild it from the "
        "corpus"
    )


class Store:
    """The SQLite database of an index directory."""

    def __init__(self, directory: Path, *, readonly: bool = False) -> None:
        self.directory = directory
        self.path = directory / "kb.sqlite"
        if readonly and not self.path.exists():
            raise IndexCorruptError(f"{directory} has no kb.sqlite")
        directory.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = self._connect()
            if not readonly:
                self.conn.execute("PRAGMA journal_mode = WAL")
                self.conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            if (error := damaged(exc, self.path)) is None:  # locked, unreadable: not damage
                raise
            raise error from exc
        self._file = _file_id(self.path)
        # Writes get their own connection, so that readers on ``conn`` (other threads of
        # a server) keep seeing the last committed state during a write (WAL).
        self._writer: sqlite3.Connection | None = None
        self._write_lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA busy_timeout = 10000")
        return conn

    def close(self) -> None:
        self.conn.close()
        if self._writer is not None:
            self._writer.close()

    @contextmanager
    def transaction(self, *, bump: bool = True) -> Iterator[sqlite3.Connection]:
        """One atomic write; bumps the data version that readers watch, unless ``bump``
        is False: for data no derived index is built from (translation links), which
        readers query directly. A bump without a new derived index would make every
        reader rebuild all its search indexes from the database."""
        with self._write_lock:
            self.check_in_place()
            if self._writer is None:
                self._writer = self._connect()
            conn = self._writer
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                    if bump:
                        row = conn.execute(
                            "SELECT value FROM meta WHERE key = 'version'").fetchone()
                        self.set_meta("version", str((int(row["value"]) if row else 0) + 1),
                                      conn)
                    conn.execute("COMMIT")
                except BaseException:
                    # SQLite has rolled back already after some errors (a full disk at
                    # COMMIT): a second ROLLBACK then raised "no transaction is active",
                    # which hid the real error (QA24a F3).
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.OperationalError as exc:
                problem = _storage_problem(exc)
                if problem is None:
                    raise
                raise StorageError(f"could not write the index at {self.path.parent}: "
                                   f"{problem}; the previous index is unchanged") from exc

    def check_in_place(self) -> None:
        """Raise IndexMovedError unless ``self.path`` is still the database file this
        Store opened. An index directory deleted or moved while a server runs left the
        open connections on the orphaned file: writes "succeeded" into it and were lost
        at the next start."""
        try:
            now = _file_id(self.path)
        except FileNotFoundError:
            now = None
        if now != self._file:
            raise IndexMovedError(
                f"the index at {self.directory} was deleted, moved or replaced while kb had "
                "it open; restart kb (writes are refused so that none is lost)"
            )

    # -- meta -------------------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        return {r["key"]: r["value"] for r in self.conn.execute("SELECT key, value FROM meta")}

    def set_meta(self, key: str, value: str, conn: sqlite3.Connection | None = None) -> None:
        (conn or self.conn).execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    @property
    def version(self) -> int:
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        return int(row["value"]) if row else 0

    def data_version(self) -> int:
        """SQLite's count for the reader connection: it changes whenever another
        connection (this store's writer, another process) commits anything, also a
        write that does not bump ``version`` (translation links)."""
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    # -- articles ---------------------------------------------------------------------
    def article_hashes(self) -> dict[str, str]:
        rows = self.conn.execute("SELECT id, content_sha256 FROM articles")
        return {r["id"]: r["content_sha256"] for r in rows}

    def article_paths(self) -> dict[str, str]:
        """Each article's source file, as it was given when the article was indexed."""
        return {r[0]: r[1] for r in self.conn.execute("SELECT id, path FROM articles")}

    def article(self, article_id: str) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()

    def articles(
        self, *, with_text: bool = False, ids: Iterable[str] | None = None
    ) -> list[sqlite3.Row]:
        """Every article's metadata and chunk count, by id (and its text, when asked:
        reading every text made each write's manifest cost 0.6-1.2 s at 1M chunks).
        ``ids``: only these articles."""
        columns = ", ".join(f"a.{c}" for c in _ARTICLE_COLUMNS + (("text",) if with_text else ()))
        where, params = "", []
        if ids is not None:
            params = list(ids)
            if not params:
                return []
            where = f"WHERE a.id IN ({','.join('?' * len(params))}) "
        return list(
            self.conn.execute(
                f"SELECT {columns}, COUNT(c.id) AS n_chunks FROM articles a "
                f"LEFT JOIN chunks c ON c.article_id = a.id {where}GROUP BY a.id ORDER BY a.id",
                params,
            )
        )

    def titles(self) -> dict[str, str]:
        """Every article's title, by id: without :meth:`articles`' chunk count, which
        costs 0.2-0.3 s at 1M chunks."""
        return {r["id"]: r["title"] for r in self.conn.execute("SELECT id, title FROM articles")}

    def chunk_articles(self, ids: Sequence[int]) -> dict[int, str]:
        """The article of each of these chunks, by chunk id."""
        out: dict[int, str] = {}
        for i in range(0, len(ids), 10_000):  # under SQLite's limit on bound values
            part = [int(x) for x in ids[i : i + 10_000]]
            marks = ",".join("?" * len(part))
            out.update(self.conn.execute(
                f"SELECT id, article_id FROM chunks WHERE id IN ({marks})", part).fetchall())
        return out

    def openings(self, ids: Sequence[str], chars: int = 400) -> dict[str, str]:
        """The first ``chars`` characters of these articles' texts, by id."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        return {r[0]: r[1] for r in self.conn.execute(
            f"SELECT id, substr(text, 1, ?) FROM articles WHERE id IN ({marks})",
            (chars, *ids))}

    def article_tags(self) -> list[tuple[str, str]]:
        """(article id, tag) for every tag of every article."""
        return [(r[0], r[1]) for r in self.conn.execute(
            "SELECT a.id, j.value FROM articles a, json_each(a.tags) j")]

    def top_tags(self, n: int, *, at_least: int = 2) -> list[str]:
        """The ``n`` tags most articles carry, and at least ``at_least`` of them, case
        folded together, most common first."""
        rows = self.conn.execute(
            "SELECT MIN(j.value) AS tag, COUNT(*) AS n FROM articles a, json_each(a.tags) j "
            "GROUP BY lower(j.value) HAVING n >= ? ORDER BY n DESC, tag LIMIT ?",
            (at_least, n))
        return [r["tag"] for r in rows]

    def sentence_vectors_by_text(self, article_id: str) -> dict[str, np.ndarray]:
        """Existing sentence vectors of an article, keyed by sentence text."""
        row = self.conn.execute("SELECT text FROM articles WHERE id = ?", (article_id,)).fetchone()
        if row is None:
            return {}
        text = row["text"]
        rows = self.conn.execute(
            "SELECT s.start, s.end, s.vector FROM sentences s JOIN chunks c ON c.id = s.chunk_id "
            "WHERE c.article_id = ?",
            (article_id,),
        )
        return {text[r["start"] : r["end"]]: np.frombuffer(r["vector"], np.float32) for r in rows}

    def lang_sentences(
        self, lang: str, dim: int, after: int = 0
    ) -> tuple[np.ndarray, np.ndarray]:
        """(chunk id per sentence, sentence vectors) of one language's chunks with an id
        above ``after``, by chunk id."""
        return self._id_vectors(_SENTENCE_ROWS, (lang, after), dim,
                                count=f"SELECT COUNT(*) {_LANG_SENTENCES}")

    def write_lang_sentences(
        self, lang: str, dim: int, path: Path
    ) -> tuple[np.ndarray, np.ndarray]:
        """Write one language's sentence vectors to ``path`` as raw float32 rows, batch
        by batch, in :meth:`lang_sentences` order; (chunk id per row, float64 sum of the
        rows). Read into memory instead, 3M sentence vectors held 4.6 GB during a full
        publish at 1M chunks, the largest part of its peak."""
        size = int(self._tuples(f"SELECT COUNT(*) {_LANG_SENTENCES}", (lang, 0)).fetchone()[0])
        owners, total, n = np.empty(size, np.int64), np.zeros(dim, np.float64), 0
        cursor = self._tuples(_SENTENCE_ROWS, (lang, 0))
        with open(path, "wb") as f:
            while batch := cursor.fetchmany(4096):
                raw = b"".join(r[1] for r in batch)
                total += np.frombuffer(raw, np.float32).reshape(len(batch), dim).sum(
                    axis=0, dtype=np.float64)
                if n + len(batch) > len(owners):
                    owners = np.resize(owners, max(2 * len(owners), n + len(batch)))
                owners[n : n + len(batch)] = [r[0] for r in batch]
                f.write(raw)
                n += len(batch)
        return owners[:n], total

    def _id_vectors(self, sql: str, params: tuple[object, ...], dim: int,
                    count: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) of a query's (id, vector) rows, read in batches into arrays.

        A list of one array per row, then stacked, held 3M sentence vectors twice over
        (peak RSS 18.5 GB when indexing 1M chunks). The arrays are sized by ``count`` (a
        query for the number of rows) when given, otherwise grown by doubling: growing
        from 2M to 4M rows briefly held 3 GB twice."""
        size = int(self._tuples(count, params).fetchone()[0]) if count else 0
        ids, vecs, n = np.empty(size, np.int64), np.empty((size, dim), np.float32), 0
        cursor = self._tuples(sql, params)
        while batch := cursor.fetchmany(4096):
            if n + len(batch) > len(ids):
                size = max(2 * len(ids), n + len(batch))
                ids = np.resize(ids, size)
                grown = np.empty((size, dim), np.float32)  # pages are touched as rows land
                grown[:n] = vecs[:n]
                vecs = grown
            ids[n : n + len(batch)] = [r[0] for r in batch]
            vecs[n : n + len(batch)] = np.frombuffer(
                b"".join(r[1] for r in batch), np.float32).reshape(len(batch), dim)
            n += len(batch)
        return ids[:n], vecs[:n]

    def chunk_sentences(self, chunk_ids: list[int]) -> dict[int, list[tuple[int, int, np.ndarray]]]:
        """Sentence spans and vectors of the given chunks."""
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        rows = self._tuples(  # plain tuples: sqlite3.Row's lookups by name cost more
            f"SELECT chunk_id, start, end, vector FROM sentences WHERE chunk_id IN ({marks}) "
            "ORDER BY chunk_id, start",
            tuple(int(i) for i in chunk_ids),
        )
        out: dict[int, list[tuple[int, int, np.ndarray]]] = {}
        for chunk_id, start, end, vector in rows:
            out.setdefault(chunk_id, []).append((start, end, np.frombuffer(vector, np.float32)))
        return out

    def chunk_vectors_by_text(self, article_id: str) -> dict[str, np.ndarray]:
        """Existing vectors of an article's chunks, keyed by text, to avoid re-embedding."""
        rows = self.conn.execute(
            "SELECT text, vector FROM chunks WHERE article_id = ?", (article_id,)
        )
        return {r["text"]: np.frombuffer(r["vector"], dtype=np.float32) for r in rows}

    def put_article(
        self, conn: sqlite3.Connection, article: Article, chunks: list[NewChunk], *,
        refresh: bool = False,
    ) -> list[int]:
        """Insert or replace an article and its chunks (inside a transaction); the ids of
        the stored chunks it deleted.

        A stored chunk of the article with a new one's text, language and sentence split
        keeps its id, moved to the new one's place (offsets, order, section): links to a
        passage (``#c<id>``, ``?p=<id>``) name it, and a one-word edit elsewhere, or a
        rebuild, broke every link into the article (QA17). Its vector, terms and
        sentence vectors are left as they are, which the derived indexes hold: the text
        is the same, so they are too (an incremental update neither deletes nor adds
        it). ``refresh`` (a rebuild, where model or analyzer may be new and every
        derived index is built again) writes them from ``chunks`` instead.
        """
        old = conn.execute("SELECT added_at FROM articles WHERE id = ?", (article.id,)).fetchone()
        stamp = now()
        values = (article.title, article.lang, article.source,
                  json.dumps(list(article.tags), ensure_ascii=False), article.path,
                  article.text, article.raw_sha256, article.content_sha256)
        if old is None:
            conn.execute(
                "INSERT INTO articles (id, title, lang, source, tags, path, text, raw_sha256, "
                "content_sha256, added_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (article.id, *values, stamp, stamp))
        else:
            # Updated in place: deleting the row would cascade to the kept chunks. The
            # translation links go, as they did: their passage pairs are found again.
            conn.execute(
                "UPDATE articles SET title = ?, lang = ?, source = ?, tags = ?, path = ?, "
                "text = ?, raw_sha256 = ?, content_sha256 = ?, updated_at = ? WHERE id = ?",
                (*values, stamp, article.id))
            conn.execute("DELETE FROM links WHERE a = ? OR b = ?", (article.id, article.id))
        dim = len(chunks[0].vector) if chunks else int(self.meta().get("dim", "0") or 0)
        vectors = np.array([c.vector for c in chunks], np.float32).reshape(len(chunks), dim)
        self.put_signature(conn, article.id, article.text, vectors, [c.lang for c in chunks])
        kept = self._kept_chunks(conn, article.id, chunks)
        gone = sorted(set(self._chunk_ids(conn, article.id)) - {i for i in kept if i})
        self._log_passages(conn, gone)
        conn.executemany("DELETE FROM chunks WHERE id = ?", [(i,) for i in gone])
        ids: list[int] = []
        for i, (c, cid) in enumerate(zip(chunks, kept, strict=True)):
            if cid is not None:
                self._move_chunk(conn, cid, i, c, refresh=refresh)
                ids.append(cid)
                continue
            ids.append(conn.execute(
                "INSERT INTO chunks (article_id, ord, lang, section, start, end, text, "
                "n_tokens, terms, vector) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (article.id, i, c.lang, c.section, c.start, c.end, c.text, c.n_tokens,
                 json.dumps(c.terms, ensure_ascii=False),
                 np.asarray(c.vector, dtype=np.float32).tobytes())).lastrowid)
        conn.executemany(
            "INSERT INTO sentences (chunk_id, start, end, vector) VALUES (?,?,?,?)",
            [(cid, a, b, np.asarray(v, dtype=np.float32).tobytes())
             for cid, c, keep in zip(ids, chunks, kept, strict=True)
             if keep is None or refresh for a, b, v in c.sentences])
        return gone

    @staticmethod
    def _chunk_ids(conn: sqlite3.Connection, article_id: str) -> list[int]:
        return [r[0] for r in conn.execute(
            "SELECT id FROM chunks WHERE article_id = ? ORDER BY ord", (article_id,))]

    def _kept_chunks(self, conn: sqlite3.Connection, article_id: str,
                     chunks: list[NewChunk]) -> list[int | None]:
        """For each new chunk, the stored chunk of the article it keeps the id of, or
        None: one with the same text, language and sentences (as offsets from the
        chunk's start), matched in order, each used once."""
        rows = conn.execute(
            "SELECT id, lang, start, text FROM chunks WHERE article_id = ? ORDER BY ord",
            (article_id,)).fetchall()
        spans: dict[int, list[tuple[int, int]]] = {}
        starts = {r["id"]: r["start"] for r in rows}
        for cid, a, b in conn.execute(
                "SELECT s.chunk_id, s.start, s.end FROM sentences s JOIN chunks c "
                "ON c.id = s.chunk_id WHERE c.article_id = ? ORDER BY s.chunk_id, s.start",
                (article_id,)):
            spans.setdefault(cid, []).append((a - starts[cid], b - starts[cid]))
        free: dict[tuple[object, ...], list[int]] = {}
        for r in rows:
            key = (r["text"], r["lang"], tuple(spans.get(r["id"], ())))
            free.setdefault(key, []).append(r["id"])
        out: list[int | None] = []
        for c in chunks:
            rel = tuple(sorted((a - c.start, b - c.start) for a, b, _ in c.sentences))
            ids = free.get((c.text, c.lang, rel))
            out.append(ids.pop(0) if ids else None)
        return out

    @staticmethod
    def _move_chunk(conn: sqlite3.Connection, chunk_id: int, ord_: int, c: NewChunk, *,
                    refresh: bool) -> None:
        """Give a kept chunk its new place; with ``refresh``, its new derived data too
        (its sentence rows are then written again by the caller)."""
        (old_start,) = conn.execute("SELECT start FROM chunks WHERE id = ?",
                                    (chunk_id,)).fetchone()
        if old_start != c.start:
            Store._log_passages(conn, [chunk_id])
        conn.execute("UPDATE chunks SET ord = ?, section = ?, start = ?, end = ? WHERE id = ?",
                     (ord_, c.section, c.start, c.end, chunk_id))
        if refresh:
            conn.execute("UPDATE chunks SET n_tokens = ?, terms = ?, vector = ? WHERE id = ?",
                         (c.n_tokens, json.dumps(c.terms, ensure_ascii=False),
                          np.asarray(c.vector, dtype=np.float32).tobytes(), chunk_id))
            conn.execute("DELETE FROM sentences WHERE chunk_id = ?", (chunk_id,))
        else:
            shift = c.start - old_start
            conn.execute("UPDATE sentences SET start = start + ?, end = end + ? "
                         "WHERE chunk_id = ?", (shift, shift, chunk_id))

    def relabel_article(self, conn: sqlite3.Connection, article: Article) -> None:
        """Change an article's title, source, tags and file, keeping its passages (and
        their ids, which links to a passage and translation links name)."""
        conn.execute(
            "UPDATE articles SET title = ?, source = ?, tags = ?, path = ?, raw_sha256 = ?, "
            "content_sha256 = ?, updated_at = ? WHERE id = ?",
            (article.title, article.source, json.dumps(list(article.tags), ensure_ascii=False),
             article.path, article.raw_sha256, article.content_sha256, now(), article.id),
        )

    def put_signature(self, conn: sqlite3.Connection, article_id: str, text: str,
                      vectors: np.ndarray, langs: list[str]) -> None:
        """Store what comparing an article with all others needs, so that an upload
        does not read every article: its text's MinHash signature (kb.families), and the
        mean and languages of its chunk vectors."""
        from collections import Counter

        from kb import families

        mean = vectors.mean(axis=0) if len(vectors) else np.zeros(vectors.shape[1])
        conn.execute(
            "INSERT OR REPLACE INTO signatures (article_id, minhash, chunk_mean, chunk_langs) "
            "VALUES (?, ?, ?, ?)",
            (article_id, families.minhash(families.shingles(text)).tobytes(),
             np.asarray(mean, np.float32).tobytes(), json.dumps(Counter(langs))))

    def signatures(self) -> tuple[list[str], np.ndarray]:
        """(article ids, their MinHash signatures as rows)."""
        rows = self._tuples("SELECT article_id, minhash FROM signatures ORDER BY article_id", ())
        ids, blobs = [], []
        for article_id, blob in rows:
            ids.append(article_id)
            blobs.append(blob)
        if not ids:  # an empty index: reshape(0, -1) would raise
            return ids, np.empty((0, 0), np.uint32)
        return ids, np.frombuffer(b"".join(blobs), np.uint32).reshape(len(ids), -1)

    def chunk_means(
        self, dim: int
    ) -> tuple[list[str], list[str], np.ndarray, list[dict[str, int]]]:
        """(article ids, article languages, mean chunk vectors, chunks per language)."""
        rows = self._tuples(
            "SELECT s.article_id, a.lang, s.chunk_mean, s.chunk_langs FROM signatures s "
            "JOIN articles a ON a.id = s.article_id ORDER BY s.article_id", ())
        ids, langs, blobs, counts = [], [], [], []
        for article_id, lang, blob, per_lang in rows:
            ids.append(article_id)
            langs.append(lang)
            blobs.append(blob if len(blob) == 4 * dim else bytes(4 * dim))  # no chunks
            counts.append(json.loads(per_lang))
        return ids, langs, np.frombuffer(b"".join(blobs), np.float32).reshape(-1, dim), counts

    def unsigned_articles(self) -> list[str]:
        """Articles stored before signatures were kept."""
        return [r[0] for r in self.conn.execute(
            "SELECT id FROM articles WHERE id NOT IN (SELECT article_id FROM signatures)")]

    def delete_article(self, conn: sqlite3.Connection, article_id: str) -> bool:
        self._log_passages(conn, self._chunk_ids(conn, article_id))
        cur = conn.execute("DELETE FROM articles WHERE id = ?", (article_id,))
        return cur.rowcount > 0

    def delete_articles_except(self, conn: sqlite3.Connection, keep: Iterable[str]) -> None:
        """Delete every article but ``keep`` (a rebuild's sources)."""
        others = "SELECT id FROM articles WHERE id NOT IN (SELECT value FROM json_each(?))"
        wanted = (json.dumps(list(keep)),)
        for (article_id,) in conn.execute(others, wanted).fetchall():
            self.delete_article(conn, article_id)

    @staticmethod
    def _log_passages(conn: sqlite3.Connection, chunk_ids: Sequence[int]) -> None:
        """Note where these passages are, before a write moves or deletes them."""
        conn.executemany(
            "INSERT INTO passage_log (chunk_id, article_id, start, text) "
            "SELECT id, article_id, start, text FROM chunks WHERE id = ?",
            [(int(i),) for i in chunk_ids])

    def passage_versions(self, chunk_id: int, article_id: str) -> list[tuple[int, str]]:
        """(start, text) of a passage of ``article_id``, where it is now first, if it
        still is, then where writes found it before, the latest first."""
        now = self.conn.execute("SELECT start, text FROM chunks WHERE id = ? AND "
                                "article_id = ?", (chunk_id, article_id)).fetchall()
        try:
            before = self.conn.execute(
                "SELECT start, text FROM passage_log WHERE chunk_id = ? AND article_id = ? "
                "ORDER BY rowid DESC", (chunk_id, article_id)).fetchall()
        except sqlite3.OperationalError:  # an index opened read-only, from before the log
            before = []
        return [(r[0], r[1]) for r in [*now, *before]]

    # -- links between articles (translation families) --------------------------------
    def set_links(self, conn: sqlite3.Connection, article_id: str,
                  links: list[tuple[str, str, float, list[tuple[int, int]]]]) -> None:
        """Replace the links of one article: (other id, kind, score, chunk pairs)."""
        conn.execute("DELETE FROM links WHERE a = ? OR b = ?", (article_id, article_id))
        conn.executemany(
            "INSERT INTO links (a, b, kind, score, pairs) VALUES (?,?,?,?,?)",
            [(article_id, other, kind, score, json.dumps(pairs))
             for other, kind, score, pairs in links],
        )

    def links(self, article_id: str | None = None) -> list[sqlite3.Row]:
        if article_id is None:
            return list(self.conn.execute("SELECT * FROM links ORDER BY a, b"))
        return list(self.conn.execute(
            "SELECT * FROM links WHERE a = ? OR b = ? ORDER BY score DESC",
            (article_id, article_id)))

    # -- chunks -----------------------------------------------------------------------
    def chunks(self, ids: list[int]) -> dict[int, ChunkRow]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        # Plain tuples in ChunkRow's field order: building each row from a dict of a
        # sqlite3.Row cost more than the read (33 rows: 0.40 ms against 0.15 ms).
        rows = self._tuples(
            "SELECT id, article_id, ord, lang, section, start, end, text, n_tokens "
            f"FROM chunks WHERE id IN ({marks})",
            tuple(int(i) for i in ids),
        )
        return {r[0]: ChunkRow(*r) for r in rows}

    def article_chunks(self, article_id: str) -> list[ChunkRow]:
        rows = self.conn.execute(
            "SELECT id, article_id, ord, lang, section, start, end, text, n_tokens "
            "FROM chunks WHERE article_id = ? ORDER BY ord",
            (article_id,),
        )
        return [ChunkRow(**dict(r)) for r in rows]

    def article_chunk_ids(self, article_ids: Sequence[str]) -> np.ndarray:
        """The chunk ids of these articles, sorted (int64)."""
        parts = [np.empty(0, np.int64)]
        for at in range(0, len(article_ids), 900):  # SQLite's limit on ? per statement
            batch = tuple(article_ids[at : at + 900])
            rows = self.conn.execute(
                f"SELECT id FROM chunks WHERE article_id IN ({','.join('?' * len(batch))})",
                batch)
            parts.append(np.fromiter((r[0] for r in rows), dtype=np.int64))
        return np.sort(np.concatenate(parts))

    def chunk_counts(self, article_ids: list[str]) -> dict[str, int]:
        """How many passages each of ``article_ids`` has (absent: none)."""
        marks = ",".join("?" * len(article_ids))
        rows = self.conn.execute(
            f"SELECT article_id, COUNT(*) FROM chunks WHERE article_id IN ({marks}) "
            "GROUP BY article_id", tuple(article_ids))
        return {a: n for a, n in rows}

    def chunk_texts(self, ids: list[int]) -> list[tuple[int, str, str]]:
        """(id, language, text) of the given chunks, without the rest of their rows."""
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        return self.conn.execute(
            f"SELECT id, lang, text FROM chunks WHERE id IN ({marks})", [int(i) for i in ids]
        ).fetchall()

    def chunk_terms(self, ids: list[int]) -> dict[int, tuple[str, list[str]]]:
        """Language and analyzed terms of the given chunks."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.conn.execute(
            f"SELECT id, lang, terms FROM chunks WHERE id IN ({marks})", [int(i) for i in ids]
        )
        return {r["id"]: (r["lang"], json.loads(r["terms"])) for r in rows}

    def langs(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT lang FROM chunks ORDER BY lang")]

    def lang_count(self, lang: str) -> int:
        """How many chunks ``lang`` has (counted on the language index, in SQLite)."""
        return int(self.conn.execute("SELECT COUNT(*) FROM chunks WHERE lang = ?",
                                     (lang,)).fetchone()[0])

    def lang_ids(self, lang: str) -> np.ndarray:
        """The ids of one language's chunks, ascending."""
        rows = self._tuples("SELECT id FROM chunks WHERE lang = ? ORDER BY id", (lang,))
        return np.fromiter((r[0] for r in rows), dtype=np.int64)

    def _tuples(self, sql: str, params: tuple[object, ...]) -> sqlite3.Cursor:
        """A query whose rows are plain tuples: sqlite3.Row objects cost more than the
        read itself when there are millions of rows."""
        cursor = self.conn.cursor()
        cursor.row_factory = None
        return cursor.execute(sql, params)

    def lang_vectors(self, lang: str, dim: int, after: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) of one language's chunks with an id above ``after``, by id."""
        return self._id_vectors(
            "SELECT id, vector FROM chunks WHERE lang = ? AND id > ? ORDER BY id", (lang, after),
            dim, count="SELECT COUNT(*) FROM chunks WHERE lang = ? AND id > ?")

    def lang_terms(self, lang: str, after: int = 0) -> Iterator[tuple[int, list[str]]]:
        """(id, analyzed terms) of one language's chunks with an id above ``after``, by
        id, read as they are consumed: at 1M chunks the lists of every chunk's terms
        took ~4 GB."""
        rows = self._tuples(
            "SELECT id, terms FROM chunks WHERE lang = ? AND id > ? ORDER BY id", (lang, after)
        )
        loads = json.loads
        for cid, terms in rows:
            yield cid, loads(terms)

    def stats(self) -> dict[str, object]:
        per_lang = {
            r["lang"]: r["n"]
            for r in self.conn.execute("SELECT lang, COUNT(*) AS n FROM chunks GROUP BY lang")
        }
        articles_per_lang = {
            r["lang"]: r["n"]
            for r in self.conn.execute("SELECT lang, COUNT(*) AS n FROM articles GROUP BY lang")
        }
        return {
            "articles": sum(articles_per_lang.values()),
            "articles_per_lang": articles_per_lang,
            "chunks": sum(per_lang.values()),
            "chunks_per_lang": per_lang,
        }


def directory_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def remove_stale_derived(directory: Path, keep: str) -> None:
    """Delete derived-* directories other than the current one (best effort)."""
    for d in [*directory.glob("derived-*"), *directory.glob(".derived-*.tmp")]:
        if d.name != keep and d.is_dir():
            shutil.rmtree(d, ignore_errors=True)
