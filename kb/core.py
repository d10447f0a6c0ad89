"""The KnowledgeBase facade: the one object the CLI, the web app and the tests use."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import shutil
import sqlite3
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kb import chunking, cleaning, definitions, language, lexical, snippets
from kb.answers import PASSAGES as ANSWER_PASSAGES
from kb.answers import evidence, query_terms
from kb.articles import (
    Article,
    find_articles,
    read_article,
    same_id,
    title_is_opening_words,
    version_of,
)
from kb.encoder import Encoder, load_encoder
from kb.errors import (
    ArticleError,
    BadInputError,
    IndexMismatchError,
    KBError,
    NotFoundError,
    RemovedError,
    StorageError,
)
from kb.glossary import Concept, Glossary, joined_terms, load_glossary
from kb.results import Hit, SearchResult, Translation
from kb.rows import Rows
from kb.search import (
    Scored,
    SearchConfig,
    dense_ranking,
    fuse,
    holds_phrases,
    lexical_rankings,
    phrase_first,
    quoted_phrases,
)
from kb.sentences import sentence_spans
from kb.settings import Settings
from kb.store import (
    FORMAT_VERSION,
    ChunkRow,
    NewChunk,
    Store,
    atomic_write_text,
    directory_size,
    remove_stale_derived,
)
from kb.vectors import VectorIndex

if TYPE_CHECKING:
    from kb.answers import Answer

log = logging.getLogger(__name__)

# The layout of a derived-*/ directory: 3 since BM25 is kb.bm25 segments and sentence
# vectors a raw append-only file (kb/rows.py); 1 was bm25s and .npy sentence vectors.
DERIVED_FORMAT = 3

# progress(stage, done, total), stage by stage: "preparing" (articles chunked and tagged),
# "analyzing" (articles' index terms), "embedding" (texts), "indexing" (steps of building
# the derived indexes); the CLI draws a bar for each.
ProgressFn = Callable[[str, int, int], None]

# Articles analyzed per batch while preparing: large enough for Kiwi's threads, small
# enough for the progress bar to move.
_ANALYZE_BATCH = 64

# HTML in a query: a script or style element whole, and any other tag.
_SCRIPT = re.compile(r"<(script|style)\b[^<>]*>.*?</\1\s*>", re.I | re.S)
_TAG = re.compile(
    r"</?(?:a|abbr|article|b|blockquote|body|br|button|code|div|em|footer|form|h[1-6]|head"
    r"|header|html|i|iframe|img|input|li|link|mark|meta|nav|ol|p|pre|s|section|small"
    r"|span|strong|sub|sup|svg|table|td|th|title|tr|u|ul)\b(?:\s[^<>]*)?/?>", re.I)

# A query's signals: the dense ranking, the BM25 rankings per language, the glossary
# concept coverage of the candidates, the candidates that define the asked concept, the
# share of the query its concepts are (scaling the glossary's lists in fusion), and the
# candidates under a heading about what the query names, and those of them that stand in
# for a definition (the query asks what a concept is and no candidate says it).
Signals = tuple[list[tuple[int, float]], dict[str, list[tuple[int, float]]], dict[int, float],
                set[int], float, set[int], set[int]]
# A heading is about what a query names when this share of its words are the terms of
# the glossary concepts (and question words) the query names.
HEADING_SHARE = 0.5
# Candidates read for a definition: this many of each BM25 list, a quarter as many of the
# dense ranking.
DEFINITION_CANDIDATES = 12


def _concept_words(concepts: Sequence[Concept], lang: str) -> frozenset[str]:
    """The analysed words of ``concepts``' terms in ``lang``, however Kiwi splits them
    (and Vietnamese as syllables)."""
    return frozenset(t for c in concepts for term in c.terms.get(lang, ())
                     for t in (*_word_terms(term, lang),
                               *(t for run in lexical.phrase_runs(term, lang) for t in run)))


def _term_words(concept: Concept, lang: str) -> list[frozenset[str]]:
    """Each of ``concept``'s terms in ``lang`` as its analysed words (none empty)."""
    return [w for t in concept.terms.get(lang, ()) if (w := _word_terms(t, lang))]


def _word_terms(text: str, lang: str) -> frozenset[str]:
    """``text``'s analysed terms, without numbers and Vietnamese syllable pairs."""
    return frozenset(t for t in lexical.analyze_cached(text, lang)
                     if not t.isdigit() and "_" not in t)


def _read_query(query: str) -> tuple[str, str]:
    """``query`` as typed, then as searched: (its characters, markup kept; its words)."""
    # Control characters (a NUL from a URL's %00) are not part of any question;
    # invisible format characters (a zero-width space or soft hyphen inside a word,
    # a right-to-left override) only hide its words; full-width letters
    # ("ｕｐｓｔｒｅａｍ") are the letters (NFKC). QA: each lost the keyword signals.
    query = unicodedata.normalize("NFKC", "".join(
        ch for ch in query if unicodedata.category(ch) != "Cf"))
    # Line breaks and tabs separate words; other control characters sit inside one
    # ("upsell%00ing" was searched as "upsell ing", QA10).
    query = "".join(" " if ch.isspace() else ch for ch in query
                    if ch.isspace() or not (ch < " " or ch == "\x7f"))
    # Markup is not part of a question either: "<script>alert(1)</script> upselling"
    # counted "script" and "alert" and was not answered (QA10).
    typed = query.strip()
    return typed, " ".join(_TAG.sub(" ", _SCRIPT.sub(" ", query)).split())


def clean_query(query: str) -> str:
    """``query`` as search reads it, without checking it (no error when it is empty or
    too long): what a page shows of a question it was given, as the answer's heading
    does (QA21 F11: the tab's title kept "<i>bei</i>", the heading had "bei")."""
    return _read_query(query)[1]


def _names(items: Sequence[str]) -> str:
    """'a', 'b' or 'c': the tags or ids an error names."""
    quoted = [repr(x) for x in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _stamp(path: str) -> tuple[int, ...] | None:
    """What tells a changed file from the one read before, None when there is none: an
    atomic replace gives a new inode, an edit in place a new size or mtime. (A string
    path: a search checks it a few times, and pathlib cost 8 µs a check.)"""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _held_elsewhere(held: list[Path], path: Path) -> bool:
    """Whether an indexed article's file (one of ``held`` that still exists) is another
    file than ``path``; a file that has gone or moved may hand its id on."""
    try:
        return any(h.is_file() and not h.samefile(path) for h in held)
    except OSError:
        return False


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[ArticleError] = field(default_factory=list)
    # reindex only: articles not in its sources, rebuilt from the stored text (kept) or,
    # when pruning, dropped (removed)
    kept: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    chunks_embedded: int = 0
    sentences_embedded: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": [str(e) for e in self.errors],
            "kept": self.kept,
            "removed": self.removed,
            "chunks_embedded": self.chunks_embedded,
            "sentences_embedded": self.sentences_embedded,
            "seconds": round(self.seconds, 2),
        }


class KnowledgeBase:
    """A knowledge base over one index directory.

    Open it with :meth:`open`; the encoder is loaded lazily on first use unless one is
    passed in (tests pass ``FakeEncoder``).
    """

    def __init__(
        self,
        index_dir: Path,
        *,
        settings: Settings,
        encoder: Encoder | None = None,
        search_config: SearchConfig | None = None,
        check: bool = True,
    ) -> None:
        self.index_dir = Path(index_dir)
        self._check = check
        self.settings = settings
        self._encoder = encoder
        self.search_config = search_config or SearchConfig()
        self.store = Store(self.index_dir)
        self._vectors: VectorIndex | None = None
        self._lexical: lexical.LexicalIndex | None = None
        self._loaded_version = -1
        # Articles per language (centring, own_lexical_scale), with the vectors loaded.
        self._lang_articles: tuple[VectorIndex | None, dict[str, int]] | None = None
        self._titles: dict[str, str] = {}
        # (store version, articles by case-folded tag, each tag's first spelling).
        self._tags: tuple[int, dict[str, set[str]], list[str]] | None = None
        self._manifest: tuple[int, dict[str, dict[str, object]]] | None = None
        # Analyzed terms of chunks scored for concept coverage, kept per data version:
        # reading and parsing them from SQLite cost more than the rest of a search.
        self._terms: dict[int, tuple[str, str]] = {}
        # Whether a chunk says what a concept is (kb.definitions), likewise: reading the
        # candidates' texts cost a third of a definitional question's search.
        self._defines: dict[tuple[int, str], bool] = {}
        # chunk id -> (language, title's and headings' analysed words): _heading_words
        self._headings: dict[int, tuple[str, frozenset[str], list[list[frozenset[str]]],
                                        bool]] = {}
        self._glossary: Glossary | None = None
        self._glossary_stamp: tuple[int, ...] | None = None
        self._glossary_lock = threading.Lock()
        # Why the glossary file's last change was not taken up (it does not parse).
        self.glossary_problem: str | None = None
        self._query_cache: dict[str, np.ndarray] = {}
        self._vi_lexicon: dict[str, int] | None = None  # kb.accents, from the glossary
        # kb.spelling's known words: the glossary's (which one) and common Vietnamese ones
        self._known_words: tuple[Glossary, frozenset[str]] | None = None
        self._query_lock = threading.Lock()
        self._held = threading.local()  # how deep this thread is in the write lock
        # Why the last write's derived index files could not be written (a full disk),
        # after its database commit: the write is done, and searched from memory.
        self.unpublished: str | None = None
        # A data version whose derived files could not be written, and why.
        self._unwritable: tuple[int, str] = (-1, "")
        try:
            self._check_compatible()
            self._repair()
        except BaseException:
            self.store.close()
            raise

    @classmethod
    def open(
        cls,
        index_dir: Path | str | None = None,
        *,
        settings: Settings | None = None,
        encoder: Encoder | None = None,
        search_config: SearchConfig | None = None,
        check: bool = True,
    ) -> KnowledgeBase:
        """Open (or create) the index at ``index_dir`` (default: ``settings.index_dir``).

        ``check=False`` skips the model/chunker compatibility check; only ``reindex``,
        which rebuilds everything, should open an index that way.
        """
        settings = settings or Settings.from_env()
        if encoder is not None and settings.model != encoder.model_id:
            from dataclasses import replace

            settings = replace(settings, model=encoder.model_id)
        return cls(
            Path(index_dir or settings.index_dir),
            settings=settings,
            encoder=encoder,
            search_config=search_config,
            check=check,
        )

    def warm_up(self) -> None:
        """Load now what the first query would otherwise wait for: the derived indexes,
        the glossary's analyzed terms (which loads Kiwi; its first analyses are slow: the
        first search after start took 2.0 s, then 30 ms), langdetect's profiles
        (0.25 s, under the GIL, which stalled every concurrent request) and the word lists
        that keep a rare word from being taken for a typo (kb.spelling)."""
        self._ensure_fresh()
        self.glossary.match("warm-up")
        lexical.analyze("형태소 분석기를 미리 준비합니다", "ko")  # uncached: Kiwi runs here
        language.detect("warm-up text for the language detector, long enough to run it")
        from kb import spelling

        for lang in spelling.LANGS:  # what tells a rare word from a typo (0.7 s with import)
            spelling.common_words(lang)
        spelling.korean_words()

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- model ------------------------------------------------------------------------
    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = load_encoder(
                self.settings.model,
                backend=self.settings.encoder_backend,
                cache_dir=self.settings.cache_dir,
            )
            self._check_compatible()
        return self._encoder

    def _check_compatible(self) -> None:
        """Refuse to mix models, dimensions or chunkers in one index."""
        meta = self.store.meta()
        if "model_id" not in meta or not self._check:
            return
        rebuild = f"run `kb --index {self.index_dir} reindex` to rebuild it"
        if meta["model_id"] != self.settings.model:
            raise IndexMismatchError(
                f"the index at {self.index_dir} was built with model {meta['model_id']!r} "
                f"but the configured model is {self.settings.model!r} (KB_MODEL); "
                f"use that model, or {rebuild} with the new one"
            )
        if self._encoder is not None and meta.get("model_fingerprint") != self._encoder.fingerprint:
            raise IndexMismatchError(
                f"the index at {self.index_dir} was built with different weights of "
                f"{meta['model_id']!r} ({meta.get('model_fingerprint')} != "
                f"{self._encoder.fingerprint}; int8 vectors carry '+onnx-int8.N'); use the "
                f"encoder backend it was built with (KB_ENCODER_BACKEND), or {rebuild}"
            )
        versions = {
            "chunker_version": chunking.CHUNKER_VERSION,
            "analyzer_version": lexical.ANALYZER_VERSION,
            "cleaner_version": cleaning.CLEANER_VERSION,
            "format_version": FORMAT_VERSION,
        }
        for key, current in versions.items():
            if meta.get(key) not in (None, str(current)):
                raise IndexMismatchError(
                    f"the index at {self.index_dir} has {key} {meta[key]} but this kb has "
                    f"{current}; {rebuild}"
                )

    def _count_tokens(self) -> Callable[[str], int]:
        encoder = self.encoder

        @lru_cache(maxsize=65536)
        def count(text: str) -> int:
            return encoder.count_tokens([text])[0]

        return count

    @property
    def glossary_path(self) -> Path:
        return self.settings.corpus_dir / "glossary.yaml"

    @cached_property
    def _glossary_file(self) -> str:
        return str(self.glossary_path)

    @property
    def glossary(self) -> Glossary:
        """The concept glossary (corpus/glossary.yaml), loaded on first use and again
        when the file changes: a concept added by hand, by `kb concepts add` or over
        HTTP counts from the next query, in every process, with no restart (QA13: a
        server read it once). A change that does not parse keeps the glossary in use and
        says why in :attr:`glossary_problem`; the first load raises instead."""
        stamp = _stamp(self._glossary_file)
        if self._glossary is None or stamp != self._glossary_stamp:
            with self._glossary_lock:
                if self._glossary is None or stamp != self._glossary_stamp:
                    self._reload_glossary(stamp)
        assert self._glossary is not None
        return self._glossary

    @property
    def glossary_version(self) -> tuple[int, ...] | None:
        """Changes whenever the glossary in use does (what caches of it are keyed by)."""
        _ = self.glossary
        return self._glossary_stamp if self.glossary_problem is None else (
            *(self._glossary_stamp or ()), id(self._glossary))

    def _reload_glossary(self, stamp: tuple[int, ...] | None) -> None:
        try:
            glossary = load_glossary(self.glossary_path, cache_dir=self.settings.cache_dir)
        except KBError as exc:
            if self._glossary is None:
                raise
            log.warning("%s; the glossary read before stays in use", exc.message)
            self.glossary_problem = exc.message
        else:
            # What was worked out from the old terms goes with them.
            self._glossary, self.glossary_problem = glossary, None
            self._vi_lexicon, self._defines = None, {}
        self._glossary_stamp = stamp

    # -- writing ----------------------------------------------------------------------
    def writing(self, timeout: float = 600) -> AbstractContextManager[None]:
        """Hold the index's write lock across several steps (a save stages its corpus
        file, ingests and publishes the file as one unit). Writes inside take it again
        without waiting: the lock is reentrant within a thread."""
        return self._lock(timeout)

    @contextmanager
    def _lock(self, timeout: float = 600) -> Iterator[None]:
        """The index's write lock, across processes (filelock.Timeout after
        ``timeout`` s), reentrant within a thread. An OS error in the write (an
        unwritable index directory, a full disk) becomes one StorageError: the write is
        atomic, so the previous index is still there and searchable."""
        from filelock import FileLock, Timeout

        if getattr(self._held, "depth", 0):  # this thread holds it already
            self._held.depth += 1
            try:
                yield
            finally:
                self._held.depth -= 1
            return
        if not self.index_dir.is_dir():
            # Gone: FileLock would create it, empty but for the lock, and the real one
            # could then not be moved back into place.
            self.store.check_in_place()
        try:
            with FileLock(str(self.index_dir / ".lock"), timeout=timeout):
                self._held.depth = 1
                try:
                    yield
                finally:
                    self._held.depth = 0
        except Timeout:  # an OSError too, but not a storage problem
            raise
        except OSError as exc:
            raise StorageError(
                f"could not write the index at {self.index_dir}: {exc.strerror or exc}; "
                "the previous index is unchanged"
            ) from exc

    def _prepare(
        self, articles: Sequence[Article], count: Callable[[str], int],
        progress: ProgressFn | None = None,
    ) -> list[tuple[list[chunking.Chunk], list[str], list[list[str]]]]:
        """Chunks, their languages and their index terms, per article. Articles are
        chunked and tagged ("preparing"), then analyzed in batches of ``_ANALYZE_BATCH``
        ("analyzing"; Kiwi spreads a batch over all cores)."""
        total, split = len(articles), []
        if progress:  # each stage reports 0 first, so its bar starts with its work
            progress("preparing", 0, total)
        for i, art in enumerate(articles, 1):
            pieces = chunking.chunk_text(art.text, count)
            langs = [language.detect(p.text, fallback=art.lang) or art.lang for p in pieces]
            split.append((pieces, langs))
            if progress:
                progress("preparing", i, total)
        out = []
        if progress:
            progress("analyzing", 0, total)
        for start in range(0, len(split), _ANALYZE_BATCH):
            part = split[start : start + _ANALYZE_BATCH]
            terms = iter(lexical.analyze_many(
                [p.text for pieces, _ in part for p in pieces],
                [lang for _, langs in part for lang in langs],
            ))
            out += [(pieces, langs, [next(terms) for _ in pieces]) for pieces, langs in part]
            if progress:
                progress("analyzing", len(out), total)
        return out

    def ingest(
        self, articles: Sequence[Article], *, progress: ProgressFn | None = None
    ) -> IngestReport:
        """Add or update articles; unchanged ones are skipped and nothing is re-embedded
        that already has a vector. One atomic write for the whole batch."""
        return self._write(articles, progress=progress, replace_all=False)

    def reindex(
        self,
        paths: Sequence[Path] | None = None,
        *,
        prune: bool = False,
        progress: ProgressFn | None = None,
    ) -> IngestReport:
        """Rebuild the whole index from the corpus (default: ``settings.corpus_dir``).

        Works across model, chunker or analyzer changes. Vectors of unchanged chunk texts
        are reused when the model is the same. The switch is one atomic transaction, and
        a crash leaves the old index.

        An article the index holds but ``paths`` do not (one ingested from elsewhere, or
        whose file is gone or no longer reads) is rebuilt from the text and metadata the
        index stored, and listed in ``report.kept``: a rebuild after an upgrade must not
        lose it. With ``prune``, such articles are dropped instead (``report.removed``).
        """
        files, errors = find_articles([Path(p) for p in (paths or [self.settings.corpus_dir])])
        articles = []
        for f in files:
            try:
                articles.append(read_article(f))
            except ArticleError as exc:
                errors.append(exc)
        found = {a.id for a in articles}
        held = [r["id"] for r in self.store.articles() if r["id"] not in found]
        if not prune:
            articles.extend(self.stored_article(i) for i in held)
        report = self._write(articles, progress=progress, replace_all=True)
        report.errors[:0] = errors
        if prune:
            report.removed = held
        else:
            report.kept = held
        return report

    def stored_article(self, article_id: str) -> Article:
        """An indexed article as the index stored it (its text is already cleaned)."""
        row = self.store.article(article_id)
        assert row is not None
        return Article(
            id=row["id"],
            title=row["title"],
            lang=row["lang"],
            text=row["text"],
            source=row["source"],
            tags=tuple(json.loads(row["tags"])),
            path=row["path"],
            raw_sha256=row["raw_sha256"],
        )

    def _write(
        self, articles: Sequence[Article], *, progress: ProgressFn | None, replace_all: bool
    ) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        with self._lock():
            meta = self.store.meta()
            same_model = meta.get("model_fingerprint") in (None, self.encoder.fingerprint)
            known = self.store.article_hashes() if not replace_all else {}
            seen: dict[str, str] = {}
            todo: list[Article] = []
            for art in articles:
                if art.id in seen:
                    report.errors.append(
                        ArticleError(
                            art.path, f"article id {art.id!r} is also used by {seen[art.id]}"
                        )
                    )
                    continue
                seen[art.id] = art.path
                if known.get(art.id) == art.content_sha256:
                    report.unchanged.append(art.id)
                else:
                    todo.append(art)
            # A new title, source or tags leaves the passages as they are: their ids are
            # what links to a passage (?hl=) and translation links name (QA: a tag edit
            # broke both, as the article was indexed again under new ids).
            relabel = [a for a in todo if known.get(a.id) and same_model and self._same_text(a)]
            relabelled = {a.id for a in relabel}
            todo = [a for a in todo if a.id not in relabelled]
            if not todo and not relabel and not replace_all:
                report.seconds = time.perf_counter() - started
                return report
            encoder = self.encoder
            count = self._count_tokens()
            old_ids = set(known) if not replace_all else set(self.store.article_hashes())
            prepared = []
            to_embed: list[str] = []
            sent_embed: list[str] = []
            prepared_parts = self._prepare(todo, count, progress)
            for art, (pieces, langs, terms) in zip(todo, prepared_parts, strict=True):
                reuse = self.store.chunk_vectors_by_text(art.id) if same_model else {}
                sreuse = self.store.sentence_vectors_by_text(art.id) if same_model else {}
                spans = [sentence_spans(art.text, p.start, p.end) for p in pieces]
                prepared.append((art, pieces, langs, terms, reuse, sreuse, spans))
                to_embed.extend(dict.fromkeys(p.text for p in pieces if p.text not in reuse))
                sent_embed.extend(
                    art.text[a:b] for sp in spans for a, b in sp if art.text[a:b] not in sreuse
                )
            # A one-sentence chunk is its own sentence: same text, same vector.
            chunk_texts = set(to_embed)
            sent_embed = [t for t in dict.fromkeys(sent_embed) if t not in chunk_texts]
            vectors, sent_vectors = self._embed(to_embed, sent_embed, progress)
            by_text = dict(zip(to_embed, vectors, strict=True))
            by_sentence = by_text | dict(zip(sent_embed, sent_vectors, strict=True))
            report.chunks_embedded = len(to_embed)
            report.sentences_embedded = len(sent_embed)
            touched: set[str] = set(self.store.langs()) if replace_all else set()
            gone: list[int] = []  # chunk ids this write deletes
            with self.store.transaction() as conn:
                if replace_all:
                    # Only the articles that go (and their chunks): put_article keeps a
                    # rebuilt one's added_at, and the ids of its unchanged passages.
                    self.store.delete_articles_except(conn, seen)
                self._write_meta(conn, encoder)
                for art in relabel:
                    self.store.relabel_article(conn, art)
                    report.updated.append(art.id)
                for art, pieces, langs, terms, reuse, sreuse, spans in prepared:
                    if art.id in old_ids and not replace_all:
                        touched.update(c.lang for c in self.store.article_chunks(art.id))
                    chunks = [
                        NewChunk(
                            lang=lang,
                            section=p.section,
                            start=p.start,
                            end=p.end,
                            text=p.text,
                            n_tokens=count(p.text),
                            terms=t,
                            vector=reuse[p.text] if p.text in reuse else by_text[p.text],
                            sentences=[
                                (a, b, sreuse.get(art.text[a:b], by_sentence.get(art.text[a:b])))
                                for a, b in sp
                            ],
                        )
                        for p, lang, t, sp in zip(pieces, langs, terms, spans, strict=True)
                    ]
                    touched.update(langs)
                    gone += self.store.put_article(conn, art, chunks, refresh=replace_all)
                    (report.updated if art.id in old_ids else report.added).append(art.id)
            self._publish_committed(touched, full=replace_all, gone=gone,
                                    changed=[a.id for a in todo + relabel], progress=progress)
        report.seconds = time.perf_counter() - started
        return report

    def _same_text(self, article: Article) -> bool:
        """True when the index holds ``article`` with this very text and language."""
        row = self.store.article(article.id)
        return row is not None and row["text"] == article.text and row["lang"] == article.lang

    def _embed(
        self, chunks: list[str], sentences: list[str], progress: ProgressFn | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Embed chunk texts, then their sentences (used to score passages by their best
        sentence and to build answers); one progress count over both."""
        total = len(chunks) + len(sentences)
        done = 0

        def step(n: int) -> None:
            nonlocal done
            done += n
            if progress:
                progress("embedding", done, total)

        if progress and total:
            progress("embedding", 0, total)
        dim = self.encoder.dim
        empty = np.empty((0, dim), np.float32)
        vecs = self.encoder.encode(chunks, kind="passage", progress=step) if chunks else empty
        svecs = (
            self.encoder.encode(sentences, kind="passage", batch_size=64, progress=step)
            if sentences else empty
        )
        return vecs, svecs

    def _write_meta(self, conn: sqlite3.Connection, encoder: Encoder) -> None:
        for key, value in {
            "model_id": encoder.model_id,
            "model_fingerprint": encoder.fingerprint,
            "dim": str(encoder.dim),
            "chunker_version": str(chunking.CHUNKER_VERSION),
            "analyzer_version": str(lexical.ANALYZER_VERSION),
            "cleaner_version": str(cleaning.CLEANER_VERSION),
            "format_version": str(FORMAT_VERSION),
        }.items():
            self.store.set_meta(key, value, conn)

    def ingest_paths(
        self, paths: Sequence[Path], *, progress: ProgressFn | None = None
    ) -> IngestReport:
        """Read files and directories of articles, then :meth:`ingest` the good ones."""
        files, errors = find_articles([Path(p) for p in paths])
        # The owners are looked up under the write lock that the ingest then takes again
        # (it is reentrant): a save of the same id in between would otherwise go unseen.
        with self._lock():
            return self._ingest_files(files, errors, progress)

    def _ingest_files(
        self, files: list[Path], errors: list[ArticleError], progress: ProgressFn | None
    ) -> IngestReport:
        from kb import adding

        articles = []
        held = self.store.article_paths()
        corpus = self.settings.corpus_dir.resolve()
        for f in files:
            try:
                art = read_article(f)
            except ArticleError as exc:
                errors.append(exc)
                continue
            # Only a file from outside the corpus can be refused (the corpus's own files
            # always win), so a corpus ingest looks nothing up here. The owners: the
            # article's indexed file, and its corpus file (an upload indexed before
            # uploads were stored under their corpus path has only its upload name).
            outside = art.id in held and not f.resolve().is_relative_to(corpus)
            owners = ([Path(p) for p in (held[art.id], adding.existing_file(self, art.id)) if p]
                      if outside else [])
            if owners and _held_elsewhere(owners, f):
                # Ids come from file names: an outside "loyalty-apps.txt" would overwrite
                # the corpus article of that name, and the next corpus ingest undo it.
                errors.append(ArticleError(str(f), (
                    f"the article id {art.id!r} belongs to {owners[-1]}; rename this "
                    "file or give it an 'id:' header, or replace the article with "
                    f"`kb add --replace` (or `kb remove {art.id}` first)")))
                continue
            articles.append(art)
        report = self.ingest(articles, progress=progress) if articles else IngestReport()
        report.errors[:0] = errors
        return report

    def remove(self, article_id: str) -> None:
        """Delete an article's vectors, lexical entries and metadata."""
        article_id = same_id(article_id)
        with self._lock():
            chunks = self.store.article_chunks(article_id)
            with self.store.transaction() as conn:
                if not self.store.delete_article(conn, article_id):
                    raise NotFoundError(f"no article with id {article_id!r}")
            self._publish_committed({c.lang for c in chunks}, gone=[c.id for c in chunks],
                                    changed=[article_id])

    # -- derived indexes --------------------------------------------------------------
    def _build_derived(
        self, langs: set[str] | None, base: tuple[VectorIndex, lexical.LexicalIndex] | None,
        gone: Sequence[int] | None = None, staging: Path | None = None,
        progress: ProgressFn | None = None,
    ) -> tuple[VectorIndex, lexical.LexicalIndex]:
        """The derived indexes of the database as it is: ``base`` brought up to date
        for ``langs``, or all of them built afresh. ``staging``: a directory for the
        sentence vectors of rebuilt languages, which then stream there from SQLite
        and are mapped instead of read into memory; it must outlive the next save.
        ``progress`` counts three steps per language and one for the save after."""
        dim = int(self.store.meta().get("dim", "0") or 0)
        if base is not None and base[0].dim != dim:
            # Indexes loaded from an empty knowledge base (dim 0, no model has written
            # yet) cannot take the first vectors: build them afresh.
            base = None
        # Build into copies: searches in other threads keep using the old objects until
        # the new ones are swapped in whole.
        vectors, lex = (base[0].copy(), base[1].copy()) if base else (
            VectorIndex(dim, self.settings.vector_index), lexical.LexicalIndex())
        all_langs = set(self.store.langs())
        targets = (langs or set()) | (all_langs if base is None else set())
        todo = sorted(targets | (set(vectors.langs) - all_langs))
        total, done = 3 * len(todo) + 1, 0

        def step(n: int = 1) -> None:
            nonlocal done
            done += n
            if progress:
                progress("indexing", done, total)

        step(0)

        for lang in todo:
            if base is not None and self._apply_changes(vectors, lex, lang, dim, gone):
                step(3)
                continue
            # BM25 first: its sort of every posting then runs before the vectors are in
            # memory, not on top of them (the peak of a full publish).
            lex.build(lang, self.store.lang_terms(lang))
            step()
            if staging is None:
                ids, vecs = self.store.lang_vectors(lang, dim)
                vectors.build(lang, ids, vecs, *self.store.lang_sentences(lang, dim))
                step(2)
            else:
                self._build_streamed(vectors, lang, dim, staging, step)
        return vectors, lex

    def _build_streamed(
        self, vectors: VectorIndex, lang: str, dim: int, staging: Path, step: Callable[[], None]
    ) -> None:
        # The chunk vectors are let go once FAISS holds its copy, and the sentence
        # vectors go to a file and are mapped: a full publish at 1M chunks held both
        # in memory next to the index (docs/scale.md).
        ids, vecs = self.store.lang_vectors(lang, dim)
        vectors.build(lang, ids, vecs)
        del ids, vecs
        step()
        path = staging / f"{lang}.sent_vecs.f32"
        owners, total = self.store.write_lang_sentences(lang, dim, path)
        vectors.set_sentences(lang, owners, Rows.load(path, len(owners), dim), total)
        step()

    def _apply_changes(
        self, vectors: VectorIndex, lex: lexical.LexicalIndex, lang: str, dim: int,
        deleted: Sequence[int] | None = None,
    ) -> bool:
        """Bring one language of indexes built from an earlier state of the database up
        to date by reading only its new chunks. Chunk ids are never reused and grow, so
        the chunks to add are those above the highest indexed id, and the ones to delete
        are the indexed ids no longer stored. A passage a write kept (same text: same
        vector, terms and sentences, Store.put_article) is neither. False (rebuild the
        language) when the two indexes do not hold the same chunks.

        ``deleted``, the chunk ids the write deleted, spares reading the language's ids
        (0.34 s at 1M chunks) when a count shows they are all the deletions there are.
        """
        have = vectors.ids(lang)
        if not np.array_equal(have, lex.ids(lang)):
            return False
        after = int(have[-1]) if len(have) else 0
        ids, vecs = self.store.lang_vectors(lang, dim, after=after)
        gone = have[np.isin(have, np.asarray(deleted, np.int64))] if deleted else have[:0]
        if deleted is None or self.store.lang_count(lang) != len(have) - len(gone) + len(ids):
            now = self.store.lang_ids(lang)
            if not np.array_equal(ids, np.setdiff1d(now, have, assume_unique=True)):
                return False
            gone = np.setdiff1d(have, now, assume_unique=True)
        vectors.update(lang, gone, ids, vecs, *self.store.lang_sentences(lang, dim, after=after))
        lex.update(lang, gone, self.store.lang_terms(lang, after=after))
        return True

    def _publish_committed(self, langs: set[str], **kwargs: Any) -> None:
        """:meth:`_publish` after a write's database commit. The database is the truth
        and the write is in it: when its derived files cannot be written (a full disk),
        the write is not undone or reported as failed, but searched from indexes built
        in memory from the database until a later write or ``kb reindex`` can write them
        (``self.unpublished`` says why). QA24a F2: the save was reported as "the previous
        index is unchanged" while it was committed, and its corpus file was deleted."""
        self.unpublished = None
        try:
            self._publish(langs, **kwargs)
        except OSError as exc:
            self.unpublished = exc.strerror or str(exc)
            self._unwritable = (self.store.version, self.unpublished)
            self._loaded_version = -1  # the indexes in memory are the version before it
            log.warning("index %s: the write is saved, but its derived index files could "
                        "not be written (%s); searching from memory until a later write "
                        "or `kb reindex` writes them", self.index_dir, self.unpublished)

    def _publish(
        self, langs: set[str], *, full: bool = False, gone: Sequence[int] | None = None,
        changed: Collection[str] | None = None, progress: ProgressFn | None = None,
    ) -> None:
        """Rebuild the derived indexes of ``langs`` and switch to them atomically.
        ``gone``: the chunk ids the write deleted, if known; ``changed``: the article
        ids it added, updated or removed, if known (for the manifest)."""
        base = None
        if full:
            self._loaded_version = -1
        else:
            self._ensure_fresh_for_write()
        if self._loaded_version >= 0 and self._vectors is not None and self._lexical is not None:
            base = (self._vectors, self._lexical)
        # Rebuilt languages' sentence vectors are written here first and hard-linked
        # into the new directory by the save (a crash leaves a .tmp directory, removed
        # by the next publish).
        staging = Path(tempfile.mkdtemp(prefix=".derived-", suffix=".tmp", dir=self.index_dir))
        steps = 0

        def building(stage: str, done: int, total: int) -> None:
            nonlocal steps
            steps = total
            if progress:
                progress(stage, done, total)

        try:
            vectors, lex = self._build_derived(langs, base, gone, staging, building)
            version = self.store.version
            name = f"derived-{version:08d}"
            target = self.index_dir / name
            # Written in place under its final name: derived.json, switched last, is what
            # makes it current (a crash leaves a directory nothing points to, removed by
            # the next publish). The final name matters because the indexes remember
            # where their files are, so that the next write hard-links the unchanged ones.
            shutil.rmtree(target, ignore_errors=True)
            try:
                vectors.save(target / "vectors")
                lex.save(target / "lexical")
            except BaseException:
                # Nothing points to it: on a full disk, a half-written copy only took
                # the space the next publish needs.
                shutil.rmtree(target, ignore_errors=True)
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if progress and steps:
            progress("indexing", steps, steps)  # the last step: the save
        atomic_write_text(
            self.index_dir / "derived.json",
            json.dumps({"version": version, "dir": name, "format": DERIVED_FORMAT}),
        )
        self._vectors, self._lexical, self._loaded_version = vectors, lex, version
        self._titles, self._terms, self._defines, self._headings = {}, {}, {}, {}
        self._write_manifest(changed=None if full else changed)
        remove_stale_derived(self.index_dir, keep=name)

    def _repair(self) -> str | None:
        """Finish what a crashed writer left: the database is the truth, so derived
        indexes or a manifest older than it are rebuilt from it (no re-embedding).
        Why they could not be written (a full disk, a read-only directory), if so."""
        version = self.store.version
        if version == 0 or self._encoder is None and "dim" not in self.store.meta():
            return None
        if not self.index_dir.is_dir():
            return None  # moved away under a running server: nothing there to repair
        if self._published_version() == version and self._manifest_version() == version:
            return None
        from filelock import Timeout

        try:
            with self._lock(timeout=0):
                if self.store.version == version and self._published_version() != version:
                    log.warning("index %s: %s", self.index_dir,
                                _behind(version, self._published_version()))
                    self._publish(set(), full=True)
                elif self._manifest_version() != version:
                    self._write_manifest()
        except Timeout:
            pass  # a writer is active; it will publish when it finishes
        except StorageError as exc:
            cause = exc.__cause__
            why = (cause.strerror if isinstance(cause, OSError) and cause.strerror
                   else exc.message)
            log.warning("index %s: its derived indexes lag the database and cannot be "
                        "written (%s); searching from indexes built in memory until they "
                        "can (free space, then any write or `kb reindex`)", self.index_dir, why)
            return why
        return None

    def _published_version(self) -> int:
        try:
            info = json.loads((self.index_dir / "derived.json").read_text())
            # Derived files in an older layout count as unpublished: _repair rebuilds them.
            return int(info["version"]) if info.get("format", 1) == DERIVED_FORMAT else -1
        except (OSError, ValueError, KeyError):
            return -1

    def _manifest_version(self) -> int:
        try:
            return int(json.loads((self.index_dir / "manifest.json").read_text())["version"])
        except (OSError, ValueError, KeyError):
            return -1

    def _ensure_fresh_for_write(self) -> None:
        """Before an incremental publish, make sure the in-memory indexes match the data
        as it was before this write. When another process wrote meanwhile, its published
        indexes are that state: loading them costs a second at 1M chunks, where
        rebuilding every language from the database cost 100 s."""
        before = self.store.version - 1
        if self._loaded_version == before:
            return
        loaded = self._load_published(before)
        if loaded is None:
            self._loaded_version = -1
        else:
            self._vectors, self._lexical = loaded
            self._loaded_version = before

    def _write_manifest(self, changed: Collection[str] | None = None) -> None:
        """Write manifest.json for the current data version.

        ``changed``: the article ids the write that made this version added, updated or
        removed. Their entries are patched into the previous version's article list,
        instead of listing every article again: that counted every chunk, 0.18 s of a
        write's 0.32 s manifest at 1M chunks (benchmarks/write_scale.py, profiled).
        """
        meta = self.store.meta()
        version = self.store.version
        articles = None
        if changed is not None and len(changed) <= 500:
            articles = self._manifest_articles(version - 1)
        if articles is not None:
            articles = dict(articles)
            for article_id in changed or ():
                articles.pop(article_id, None)
            articles.update(_manifest_entries(self.store.articles(ids=changed)))
            articles = dict(sorted(articles.items()))  # in id order, as a full listing is
        else:
            articles = _manifest_entries(self.store.articles())
        manifest = {
            "format_version": FORMAT_VERSION,
            "model": {
                "id": meta.get("model_id"),
                "fingerprint": meta.get("model_fingerprint"),
                "dim": int(meta.get("dim", "0") or 0),
                # How this process runs the model; vectors are only interchangeable
                # across backends whose fingerprints match (kb.encoder).
                "encoder_backend": getattr(self._encoder, "backend", None)
                if self._encoder is not None
                else self.settings.encoder_backend,
            },
            "chunker_version": chunking.CHUNKER_VERSION,
            "analyzer_version": lexical.ANALYZER_VERSION,
            "cleaner_version": cleaning.CLEANER_VERSION,
            "version": version,
            "articles": articles,
        }
        # Which vector index each language uses, with its parameters (kb.vectors).
        if self._vectors is not None and self._loaded_version == version:
            manifest["vector_index"] = self._vectors.describe()
        else:
            try:
                info = json.loads((self.index_dir / "derived.json").read_text())
                saved = VectorIndex.describe_saved(self.index_dir / info["dir"] / "vectors")
            except (OSError, ValueError, KeyError, TypeError):
                saved = None
            if saved is not None:
                manifest["vector_index"] = saved
        atomic_write_text(
            self.index_dir / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2)
        )
        self._manifest = (version, articles)

    def _manifest_articles(self, version: int) -> dict[str, dict[str, object]] | None:
        """The article list of the manifest of ``version``: the one this process wrote
        last, or the one on disk; None when neither is of that version."""
        if self._manifest is not None and self._manifest[0] == version:
            return self._manifest[1]
        try:
            saved = json.loads((self.index_dir / "manifest.json").read_text())
        except (OSError, ValueError):
            return None
        if saved.get("version") != version or not isinstance(saved.get("articles"), dict):
            return None
        return saved["articles"]

    def _ensure_fresh(self) -> tuple[VectorIndex, lexical.LexicalIndex]:
        """Load the derived indexes, or reload them when another writer changed the data.

        Between a writer's commit and its publish the database is a version ahead of
        the published indexes. Searches meanwhile use the last published ones (a write
        becomes searchable when it is published) instead of rebuilding every language
        from the database, which took 100 s at 1M chunks. Only when no writer holds the
        lock (one crashed) are the indexes repaired.
        """
        version = self.store.version
        current = self._current(version)
        if current is not None:
            return current
        published = self._published_version()
        if published != version and self._unwritable[0] != version:
            why = self._repair()  # a no-op while a writer is publishing
            if why is not None:
                self._unwritable = (version, why)
            published = self._published_version()
        if published != version and self._unwritable[0] == version:
            # The database is ahead of derived files that cannot be written now (a full
            # disk): every search failed with the write's error until space was freed
            # (QA24a F1). Built in memory once per version, not tried again each query.
            published = -1
        current = self._current(published) if published >= 0 else None
        if current is not None:
            return current
        loaded = self._load_published(published) if published >= 0 else None
        if loaded is None:
            loaded, published = self._build_derived(None, None), version
        self._vectors, self._lexical = loaded
        self._loaded_version = published
        self._titles, self._terms, self._defines, self._headings = {}, {}, {}, {}
        return loaded

    def _current(self, version: int) -> tuple[VectorIndex, lexical.LexicalIndex] | None:
        """The indexes in memory, if they are loaded and of ``version``."""
        vectors, lex = self._vectors, self._lexical  # one read each: writers swap them
        if version == self._loaded_version and vectors is not None and lex is not None:
            return vectors, lex
        return None

    def _load_published(self, version: int) -> tuple[VectorIndex, lexical.LexicalIndex] | None:
        """The published derived indexes, if they are of ``version`` and readable."""
        try:
            info = json.loads((self.index_dir / "derived.json").read_text())
        except (OSError, ValueError):
            return None
        if info.get("version") != version or info.get("format", 1) != DERIVED_FORMAT:
            return None
        d = self.index_dir / info["dir"]
        try:
            return (VectorIndex.load(d / "vectors", self.settings.vector_index),
                    lexical.LexicalIndex.load(d / "lexical"))
        except (OSError, ValueError, RuntimeError, KeyError) as exc:
            # Said with its repair (QA24a F8): every process rebuilt it in memory on every
            # start, which costs minutes at a million passages, and nothing said so.
            log.warning("derived index %s unreadable (%s); rebuilding it in memory, in this "
                        "process only: `kb ingest --reindex-if-stale` (what `make run` "
                        "runs) or `kb reindex` repairs it on disk", d, exc)
            return None

    def unwritten(self) -> str | None:
        """Why the current data's derived index files are not on disk, when a write
        or a repair could not write them (a full disk): searches then use indexes
        built in memory, which every process pays for at its start. For /healthz
        (QA24a F1: it said "ready" while no write could be published)."""
        version, why = self._unwritable
        if version != self.store.version or self._published_version() == version:
            return None
        return why

    def repair_derived(self) -> bool:
        """Publish the derived indexes again when the published ones are unreadable (a
        deleted or damaged ``derived-*/``); True when it did. ``kb ingest
        --reindex-if-stale`` runs it, so that `make run` repairs them on disk rather
        than every process rebuilding them in memory at every start (QA24a F8). The
        rebuild is _repair's: from the database, no re-embedding, published
        atomically."""
        version = self.store.version
        if version == 0 or self._published_version() != version:
            return False  # nothing published yet, or behind: _repair rebuilds that
        if self._current(version) is not None:
            return False  # loaded, so readable
        loaded = self._load_published(version)
        if loaded is not None:  # readable: keep it, the ingest uses it next
            self._vectors, self._lexical = loaded
            self._loaded_version = version
            self._titles, self._terms, self._defines, self._headings = {}, {}, {}, {}
            return False
        with self._lock():
            if self.store.version != version or self._published_version() != version:
                return False  # another writer published meanwhile
            self._publish(set(), full=True)
        log.info("index %s: published the rebuilt derived indexes", self.index_dir)
        return True

    # -- reading ----------------------------------------------------------------------
    def _validate_query(self, query: str) -> str:
        if any("\ud800" <= ch <= "\udfff" for ch in query) or "\ufffd" in query:
            # Python hands on bytes that are not UTF-8 (argv, stdin) as lone surrogates,
            # and a URL's %FF arrives as U+FFFD.
            raise BadInputError("the query is not UTF-8 text; check the terminal's or the "
                                "file's encoding", fields=("q",))
        typed, q = _read_query(query)
        if not q and typed:  # QA20: "<script>alert(1)</script>" was said to be empty
            raise BadInputError("the query is only markup (such as <script>…</script>), "
                                "which search leaves out; type a question or some keywords",
                                fields=("q",))
        if not q:
            raise BadInputError("the query is empty; type a question or some keywords",
                                fields=("q",))
        if not any(ch.isalnum() for ch in q):
            raise BadInputError("the query has no words; type a question or some keywords",
                                fields=("q",))
        if len(q) > self.settings.max_query_chars:
            raise BadInputError(
                f"the query is {len(q)} characters long; the limit is "
                f"{self.settings.max_query_chars}", fields=("q",))
        return q

    def _langs(self, langs: Sequence[str] | None) -> list[str] | None:
        if not langs:
            return None
        return sorted({language.check_lang(x) for x in langs})

    def within(self, tags: Sequence[str] | None = None,
               articles: Sequence[str] | None = None) -> np.ndarray | None:
        """The chunk ids (sorted) of the articles that ``tags`` (any of them,
        case-insensitive, as the Library filters) and ``articles`` (ids) keep, both when
        both are given; None when neither is. A tag no article carries or an id no
        article has is a BadInputError that names it: a search filtered by a typo came
        back with nothing, or (the API ignored the parameter) with everything (QA21 F7)."""
        if isinstance(tags, str):  # one tag, not its letters
            tags = [tags]
        if isinstance(articles, str):
            articles = [articles]
        tags = [t.strip() for t in tags or () if t.strip()]
        ids = list(dict.fromkeys(same_id(a.strip()) for a in articles or () if a.strip()))
        if not tags and not ids:
            return None
        keep = self._tagged_articles(tags) if tags else None
        if ids:
            titles = self.store.titles()
            unknown = [i for i in ids if i not in titles]
            if unknown:
                close = [i for u in unknown for i, _ in self.close_articles(u)]
                raise BadInputError(
                    f"no article with id {_names(unknown)}"
                    + (f"; did you mean {_names(list(dict.fromkeys(close)))}?" if close
                       else " (`kb list` or GET /api/articles lists them)"),
                    fields=("article",))
            keep = set(ids) if keep is None else keep & set(ids)
            if not keep:
                raise BadInputError(f"none of the articles {_names(ids)} is tagged "
                                    f"{_names(tags)}", fields=("tag", "article"))
        return self.store.article_chunk_ids(sorted(keep or ()))

    def _tagged_articles(self, tags: Sequence[str]) -> set[str]:
        """The ids of the articles with any of ``tags`` (stripped, case-insensitive); a
        tag no article carries is a BadInputError that names it and lists the tags."""
        by_tag = self._tagged()[1]
        unknown = [t for t in tags if t.casefold() not in by_tag]
        if unknown:
            known = self.store.top_tags(20, at_least=1)
            raise BadInputError(
                f"no article is tagged {_names(unknown)}"
                + (f"; the tags are: {', '.join(known)}" if known else "; no article has tags")
                + (" …" if len(known) == 20 else ""), fields=("tag",))
        return set().union(*(by_tag[t.casefold()] for t in tags))

    def tags(self) -> list[str]:
        """Every tag of the library, one spelling each whatever its case (the first
        met), sorted: what the Ask page's tag filter offers."""
        return self._tagged()[2]

    def _tagged(self) -> tuple[int, dict[str, set[str]], list[str]]:
        """The articles of each tag, kept until the next write: the Ask page lists the
        tags on every visit, and reading them is a pass over every article."""
        version = self.store.version
        cached = self._tags
        if cached is None or cached[0] != version:
            by_tag: dict[str, set[str]] = {}
            spelled: dict[str, str] = {}
            for article_id, tag in self.store.article_tags():
                by_tag.setdefault(tag.casefold(), set()).add(article_id)
                spelled.setdefault(tag.casefold(), tag)
            cached = self._tags = (version, by_tag,
                                   sorted(spelled.values(), key=str.casefold))
        return cached

    def search(
        self,
        query: str,
        *,
        k: int = 10,
        langs: Sequence[str] | None = None,
        query_lang: str | None = None,
        translations: str | None = None,
        offset: int = 0,
        explain: bool = False,
        exact: bool = False,
        tags: Sequence[str] | None = None,
        articles: Sequence[str] | None = None,
    ) -> SearchResult:
        """Hybrid search. ``langs`` limits the passages' languages, ``tags`` (any of
        them) and ``articles`` (ids) the articles, each inside the candidate lists, so
        that ``k`` hits still come back when enough passages pass (an unknown tag or id
        is a BadInputError: :meth:`within`); ``query_lang``
        overrides the detected language of the query. ``translations``: None leaves
        them alone; "keep" lists each hit's translations (``Hit.translations``);
        "fold" does too, and drops a hit that translates one ranked above it, so that
        a German article and its Vietnamese translation do not fill the list twice, or
        that repeats its text word for word (listed in its ``copies``). ``offset``
        skips that many hits (a next page); the result says whether ``more`` follow.
        ``explain`` adds what a reader needs beside the ranking (the API, the CLI and the
        pages ask for it): whether the best hits clearly address the query, by the test
        an answer passes (``SearchResult.found``), and each hit's best sentence and the
        query's words in it (kb.snippets). ``exact`` searches the query as typed: no
        diacritics restored (kb.accents), no misspelling corrected (kb.spelling)."""
        started = time.perf_counter()
        q = self._validate_query(query)
        if not 1 <= k <= 100:
            raise BadInputError("k must be between 1 and 100", fields=("k",))
        if offset < 0 or offset + k > 100:
            raise BadInputError(f"offset + k must be at most 100 (offset {offset}, k {k}): "
                                "search returns its best 100 passages",
                                fields=("offset", "k"))
        if translations not in (None, "keep", "fold"):
            raise BadInputError(f"translations must be keep or fold, not {translations!r}",
                                fields=("translations",))
        last = offset + k
        # One more than the page, to tell whether more follow; room for the folded ones.
        wanted_k = 2 * (last + 1) if translations == "fold" else last + 1
        wanted = self._langs(langs)
        within = self.within(tags, articles)
        vectors, lex = self._ensure_fresh()
        qlang = (language.check_lang(query_lang, "query_lang") if query_lang
                 else self._query_language(q, lex))
        if vectors.size() == 0:  # an empty knowledge base answers with no hits
            return SearchResult(q, qlang, [], (time.perf_counter() - started) * 1000,
                                found=False if explain else None)
        search_langs = [x for x in vectors.langs if wanted is None or x in wanted]
        restored = None if exact else self._restore_accents(q, qlang, lex)
        if restored is None and not exact and query_lang is None and qlang != "vi" and (
                language.maybe_unaccented_vi(q)):
            # QA16: "ban them", "goi san pham" were read as English: with no function
            # word ("là gì") nothing says Vietnamese. Restored, they name a glossary
            # term in Vietnamese (bán thêm); English words seldom do ("bundle pricing"
            # is no Vietnamese syllable path; "do it" names no term).
            guess = self._restore_accents(q, "vi", lex)
            if guess is not None and self.glossary.has_term(guess, "vi"):
                qlang, restored = "vi", guess
        corrected = None if exact or restored else self._correct_spelling(q, lex)
        if corrected is not None and query_lang is None:
            # Read again: "Treuprogramm" alone was read as English; corrected, it is the
            # glossary's German term.
            qlang = self.glossary.language_of(corrected) or language.detect_query(corrected)
        searched = restored or corrected or q
        qvec = self.encode_query(searched)
        dense, lex_lists, coverage, defining, share, headed, stands_in = self._signals(
            (vectors, lex), searched, qvec, qlang, search_langs, within)
        judged = ANSWER_PASSAGES + 1 if explain else 0  # as many as an answer reads
        names_only = self.names_only(searched, qlang, lex)
        phrases = quoted_phrases(q)
        fused = fuse(dense, lex_lists, qlang, self.search_config, coverage, defining=defining,
                     headed=headed, stands_in=stands_in,
                     cross_norm="zscore" if names_only else None,
                     limit=None if phrases else self._fetch(max(wanted_k, judged)),
                     own_scale=self.own_lexical_scale(qlang, search_langs), cross_scale=share)
        if phrases:  # every candidate is read: one holding the phrase may rank low
            fused = phrase_first(fused, {
                cid for cid, _, text in self.store.chunk_texts([s.chunk_id for s in fused])
                if holds_phrases(text, phrases)})
        hits = self._hits(fused, wanted_k)
        judgement = None
        if explain:
            # The page's hits begin with the judged ones (the same ranking, read further),
            # unless the page is shorter: then read as far as an answer does.
            best = hits[:judged] if wanted_k >= judged else self._hits(fused, judged)
            judgement = evidence(self, searched, qvec, qlang, best[:ANSWER_PASSAGES],
                                 langs=sorted(wanted) if wanted else None,
                                 within=within) if best else None
        if translations is not None:
            hits = self.with_translations(hits, fold=translations == "fold", prefer=qlang)
        page = hits[offset:last]
        if explain:
            page = snippets.with_snippets(self, lex, searched, qvec, page)
        return SearchResult(q, qlang, page, (time.perf_counter() - started) * 1000,
                            restored, corrected=corrected, offset=offset,
                            more=len(hits) > last,
                            found=judgement.found if judgement else (False if explain else None),
                            evidence=judgement)

    def query_language(self, query: str) -> str:
        """The language search reads ``query`` in (unless told): a glossary term's, what
        the query itself shows (kb.language.guess_query), or, when that shows nothing,
        the one language whose passages hold more of its words."""
        return self._query_language(query, self._ensure_fresh()[1])

    def _query_language(self, query: str, lex: lexical.LexicalIndex) -> str:
        named = self.glossary.language_of(query)
        if named:
            return named
        guess, sure = language.guess_query(query)
        if sure:
            return guess
        # QA21 F1: "Marktsituation", "Provisionen", "Werbekampagne" were read as English
        # (langdetect: Finnish, Italian, Indonesian), so BM25 looked for them in the
        # English passages only and the German passage holding the word came 6th-7th.
        # Hangul would have made the guess sure, so Korean passages do not vote (they
        # hold English words: "ROI", "KPI").
        known = {}
        for lang in lex.langs:
            if lang == "ko":
                continue
            terms = query_terms(query, lang)
            if terms:
                known[lang] = sum(1 for c in lex.doc_freq(lang, terms)[0] if c) / len(terms)
        best = max(known.values(), default=0.0)
        leaders = [lang for lang, share in known.items() if share == best]
        if best and guess not in leaders and len(leaders) == 1:
            return leaders[0]
        return guess

    def _restore_accents(self, query: str, qlang: str, lex: lexical.LexicalIndex) -> str | None:
        """A Vietnamese query typed without diacritics, with them (kb.accents), or None."""
        from kb import accents

        if qlang != "vi":
            return None
        if self._vi_lexicon is None:
            self._vi_lexicon = accents.lexicon(
                t for c in self.glossary.concepts for t in c.terms.get("vi", ()))

        def counts(terms: list[str]) -> list[int]:
            return lex.doc_freq("vi", terms)[0]

        restored = accents.restore(query, counts, self._vi_lexicon)
        glossary = self.glossary
        if (accents.has_marks(query) and glossary.has_term_unmarked(query, "vi")
                and not glossary.has_term(restored or query, "vi")):
            # QA21 F10: a wrong tone mark ("Hê thông gợi ý" for "Hệ thống gợi ý", the
            # commonest slip of Telex and VNI typing) was kept, as marks are taken as
            # meant, and the search missed. When the query names a glossary term but
            # for its marks, it is read again without any and restored from the
            # knowledge base's Vietnamese; that reading is taken when it names the
            # term. (Tried for every query, it cost 1.5 ms a Vietnamese XQuAD question.)
            again = accents.restore(accents.fold(query), counts, self._vi_lexicon)
            if again is not None and self.glossary.has_term(again, "vi"):
                return again
        return restored

    def correct_spelling(self, query: str) -> str | None:
        """``query`` with the words no indexed language knows replaced by a close word
        the knowledge base uses (kb.spelling), or None when none is: what search does
        unless asked to be exact."""
        return self._correct_spelling(query, self._ensure_fresh()[1])

    def _correct_spelling(self, query: str, lex: lexical.LexicalIndex) -> str | None:
        from kb import accents, spelling

        # The glossary this query read already (search asks for it first): one more
        # look at its file's stamp cost a quarter of the time a query's words take.
        glossary = self._glossary or self.glossary
        if self._known_words is None or self._known_words[0] is not glossary:
            common = frozenset(w for phrase in accents.COMMON for w in phrase.split())
            self._known_words = (glossary, glossary.words | common)
        return spelling.Speller(lex, self._known_words[1], self._texts,
                                glossary.tokens).correct(query)

    def _texts(self, ids: Sequence[int]) -> list[str]:
        return [text for _, _, text in self.store.chunk_texts(list(ids))]

    def snippets(self, query: str, hits: Sequence[Hit]) -> list[Hit]:
        """``hits`` with the sentence of each to show and where ``query``'s words stand
        in it (kb.snippets; what ``search(explain=True)`` gives its hits)."""
        _, lex = self._ensure_fresh()
        return snippets.with_snippets(self, lex, query, self.encode_query(query), hits)

    def encode_query(self, query: str) -> np.ndarray:
        """The query's vector; the last few are cached, since asking searches and then
        scores sentences with the same vector."""
        with self._query_lock:
            vec = self._query_cache.get(query)
        if vec is None:
            vec = self.encoder.encode([query], kind="query")[0]
            with self._query_lock:
                self._query_cache[query] = vec
                while len(self._query_cache) > 64:
                    self._query_cache.pop(next(iter(self._query_cache)))
        return vec

    def signals(self, query: str, query_vec: np.ndarray, query_lang: str,
                langs: list[str]) -> Signals:
        """The dense ranking, the per-language BM25 rankings, the glossary concept
        coverage of the candidates and the passages that define the concept the query
        asks about, for one query."""
        return self._signals(self._ensure_fresh(), query, query_vec, query_lang, langs)

    def _signals(
        self,
        loaded: tuple[VectorIndex, lexical.LexicalIndex],
        query: str,
        query_vec: np.ndarray,
        query_lang: str,
        langs: list[str],
        within: np.ndarray | None = None,
    ) -> Signals:
        # One snapshot of the indexes for the whole query (and one freshness check).
        vectors, lex = loaded
        cfg = self.search_config
        dense = self._dense(vectors, query_vec, langs, self.centring(langs, cfg.center),
                            within)
        # Marketing concepts only: carrying the glossary's question words ("Beispiel" to
        # "example") into every language ranked any "Examples" section first. Brand
        # names ("Amazon", "아마존") are carried into the keyword lists of languages
        # written in another script (Glossary.expand), and earn no concept coverage: as
        # a concept, "Amazon" lifted every passage on the Amazon rainforest in XQuAD.
        named = self.glossary.match(query)
        matched = [c for c in named if c.searched]
        concepts = [c for c in matched if c.subject]
        expansions = (
            self.glossary.expand(query, matched) if cfg.cross_lexical_weight > 0 else None
        )
        lex_lists = lexical_rankings(
            lex, query, query_lang, langs, expansions=expansions, candidates=cfg.candidates,
            within=within,
        )
        if not lex_lists:
            log.info("query %r gave no lexical terms; dense search only", query)
        # A query that names a concept and something the glossary lacks ("Preisanker und
        # Kundenbindung") is about both: every passage naming the concept had its full
        # coverage and glossary lists, and buried the passage both retrievers ranked
        # first (QA10).
        share = 1.0
        if concepts and cfg.concept_share:
            # The glossary's question words ("Beispiel", "역할") only frame the question.
            framing = [c for c in named if c.kind == "word"]
            share = self.glossary.share(query, query_terms(query, query_lang), query_lang,
                                        concepts, framing, lambda ws: lex.idf(query_lang, ws))
        coverage: dict[int, float] = {}
        if concepts and cfg.concept_weight:
            candidates = {cid for cid, _ in dense} | {c for r in lex_lists.values() for c, _ in r}
            coverage = self.glossary.coverage(concepts, self._chunk_terms(candidates))
            coverage = {cid: c * share for cid, c in coverage.items()}
        defining: set[int] = set()
        asked = definitions.asked(query, concepts) if cfg.definition_weight else None
        if asked is not None:
            defining = self._defining(asked, dense, lex_lists)
        headed: set[int] = set()
        if concepts and share >= 1.0 and not defining and cfg.heading_weight:
            headed = self._headed(named, concepts, dense, lex_lists)
        # Asked what a concept is, with nothing that says it and no section headed with
        # it, the opening of the article titled with it is the next best thing (QA22 F1:
        # "What is cross-selling?" had a three-sentence B2B note above the cross-selling
        # article's introduction, and the answer opened with it). A section headed with
        # it comes first where there is one: "다운스트림 마케팅이란?" is answered under
        # "다운스트림 마케팅", not by the opening of "업스트림 마케팅과 다운스트림 마케팅".
        stands_in: set[int] = set()
        if asked is not None and not defining and headed:
            openings = {cid for cid, (*_, opening) in self._heading_words(headed).items()
                        if opening}
            stands_in = openings if openings == headed else set()
        return dense, lex_lists, coverage, defining, share, headed, stands_in

    def names_only(self, query: str, qlang: str,
                   lex: lexical.LexicalIndex | None = None) -> bool:
        """Whether ``query`` is nothing but names the glossary knows ("Gmarket", "Nike
        Flyknit"): QA16 F3, a brand e5 does not know reached its Korean passage (지마켓)
        only through the glossary's list, which fusion scales to its best score, 1 at
        most, and was 9th under English passages e5 put near it."""
        named = self.glossary.match(query)
        names = [c for c in named if c.kind == "name"]
        if not names or any(c.subject for c in named):
            return False
        framing = [c for c in named if c.kind == "word"]
        index = lex if lex is not None else self._ensure_fresh()[1]
        return self.glossary.share(query, query_terms(query, qlang), qlang, names, framing,
                                   lambda ws: index.idf(qlang, ws)) >= 1.0

    def _headed(self, named: list[Concept], concepts: list[Concept],
                dense: list[tuple[int, float]],
                lex_lists: dict[str, list[tuple[int, float]]]) -> set[int]:
        """The best-ranked candidates under a heading that is about what the query names:
        it names one of the query's ``concepts`` by a whole term, with its article's
        title it names all it names (question words too: "Benefits of Downstream
        Marketing", not "What is Downstream Marketing?", for "What are the benefits of
        downstream marketing?"), and more than HEADING_SHARE of its words are terms of
        those ("What is Upstream Marketing?", "3.2. 번들링"; "5.1. 주요
        성과 지표 정의하기" in the cross-selling article for "cross-selling KPIs", not for
        "How do you measure the success of upstream marketing?"; not "6. 성공 사례 분석:
        크로스셀링으로 매출을 극대화한 기업들")."""
        ids = {c for c, _ in dense[:DEFINITION_CANDIDATES]} | {
            c for ranked in lex_lists.values() for c, _ in ranked[:DEFINITION_CANDIDATES]}
        out = set()
        by_lang: dict[str, tuple[frozenset[str], list[frozenset[str]],
                                 list[list[frozenset[str]]]]] = {}
        for cid, (lang, title, headings, opening) in self._heading_words(ids).items():
            if lang not in by_lang:
                by_lang[lang] = (
                    _concept_words(named, lang),
                    [t for c in concepts for t in _term_words(c, lang)],
                    [_term_words(c, lang) for c in named])
            words, own, every = by_lang[lang]
            if opening and any(t <= title for t in own) and all(
                    any(t <= title for t in ts) for ts in every):
                # The opening of an article whose title names what the query names
                # (QA21 F2: "What is cross-selling?" had a KPI list and a loyalty-point
                # bullet first, and the cross-selling article's introduction, which the
                # answer quotes, 9th-12th: no heading is mostly cross-selling).
                out.add(cid)
                continue
            for analysed in headings:
                held = frozenset().union(*analysed)
                if (any(t <= held for t in own)  # a whole term, not "marketing"
                        and all(any(t <= held | title for t in ts) for ts in every)
                        and sum(words.issuperset(t) for t in analysed) > HEADING_SHARE
                        * len(analysed)):
                    out.add(cid)
                    break
        return out

    def _heading_words(
        self, ids: set[int]
    ) -> dict[int, tuple[str, frozenset[str], list[list[frozenset[str]]], bool]]:
        """Each chunk's language, its article title's analysed terms, the headings it
        runs through, each as its words' analysed terms, and whether it opens its
        article (counted by the heading's own
        words: Kiwi splits 크로스셀링 in three, which made "4.2. 크로스셀링과의 통합 전략"
        three fifths cross-selling). Kept until the next publish: worked out on every
        query, they cost the seed questions 2 ms a search (make bench)."""
        known = self._headings  # another thread may swap in a new dict meanwhile
        missing = sorted(i for i in ids if i not in known)
        if missing:
            if len(known) > 50_000:  # bounded: one entry per chunk seen
                known = self._headings = {}
            if not self._titles:
                self._titles = self.store.titles()
            rows = self.store.chunks(missing)
            titles = self._headed_titles({row.article_id for row in rows.values()})
            for cid, row in rows.items():
                known[cid] = (
                    row.lang, _word_terms(titles.get(row.article_id, ""), row.lang),
                    [[t for t in (_word_terms(w, row.lang) for w in heading.split()) if t]
                     for heading in chunking.sections(row.text, row.section)],
                    row.ord == 0)
        return {i: known[i] for i in ids if i in known}

    def _headed_titles(self, article_ids: set[str]) -> dict[str, str]:
        """These articles' titles, but none for an article whose title is only its
        text's opening words (pasted with no heading: articles.title_is_opening_words),
        which say nothing about what the whole article is about."""
        titles = {a: self._titles.get(a, "") for a in article_ids}
        openings = self.store.openings(sorted(a for a, t in titles.items() if t))
        return {a: "" if title_is_opening_words(t, openings.get(a, "")) else t
                for a, t in titles.items()}

    def _defining(self, concept: Concept, dense: list[tuple[int, float]],
                  lex_lists: dict[str, list[tuple[int, float]]]) -> set[int]:
        """The best-ranked candidates that say what ``concept`` is. A short definition
        is near the top of its language's BM25 list for the concept's term (the QA
        case: first in Vietnamese BM25, 28th to 42nd in the dense ranking)."""
        ids = {c for c, _ in dense[:DEFINITION_CANDIDATES // 4]} | {
            c for ranked in lex_lists.values() for c, _ in ranked[:DEFINITION_CANDIDATES]}
        known = self._defines  # another thread may swap in a new dict meanwhile
        missing = sorted(c for c in ids if (c, concept.id) not in known)
        if missing:
            if len(known) > 50_000:  # bounded: one entry per chunk and concept asked
                known = self._defines = {}
            for cid, lang, text in self.store.chunk_texts(missing):
                known[(cid, concept.id)] = definitions.defines(text, lang, concept)
        return {c for c in ids if known.get((c, concept.id))}

    def dense(self, query_vec: np.ndarray, langs: list[str],
              within: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The dense ranking alone, (chunk id, language-centred score), best first: what
        an answer's evidence needs, without the lexical half of :meth:`signals`;
        ``within``: only these chunk ids (:meth:`within`).

        Centred by ``search_config.center`` as it is, not as search adapts it to the
        library (:meth:`centring`): the evidence test's threshold was calibrated on those
        scores. Adapted, it refused more: on 200 XQuAD questions whose own-language
        paragraph is indexed beside its translations, 0.970 -> 0.930 answered."""
        vectors, _ = self._ensure_fresh()
        return self._dense(vectors, query_vec, langs, self.search_config.center, within)

    def _dense(
        self, vectors: VectorIndex, query_vec: np.ndarray, langs: list[str], center: float,
        within: np.ndarray | None = None,
    ) -> list[tuple[int, float]]:
        cfg = self.search_config
        return dense_ranking(vectors, query_vec, langs, center=center,
                             candidates=cfg.candidates, sentence_weight=cfg.sentence_weight,
                             within=within)

    def centring(self, langs: Sequence[str], center: float) -> float:
        """How much of each language's mean passage vector dense scores remove:
        ``1 - (1 - center) / n``, n the fewest articles written in any of ``langs``.

        The mean holds the language's direction (e5's same-language bonus), which should
        go entirely, and each of its articles' topics at about 1/n, which should stay:
        with one article a language (the seeds), full centring erased the topic, and
        ``center`` .75 was measured best; with many, the bonus that .75 leaves let a
        question's own language win (QA8: on xquad-split, a question finding the
        paragraph in another language among 80 of its own). One value for all languages:
        centred less, a small language's scores stood above every other language's (a
        stray English passage in the German index came first for every question)."""
        if center <= 0:  # raw cosine (the plain dense baseline of kb eval)
            return 0.0
        counts = self._article_counts()
        fewest = min((counts.get(lang, 0) for lang in langs), default=0)
        return 1 - (1 - center) / max(1, fewest)

    def own_lexical_scale(self, query_lang: str, langs: Sequence[str]) -> float:
        """How much of the BM25 weight in the question's own language counts:
        ``1 - (1 - share) * (1 - 1 / n)``, share the question language's part of the
        articles written in ``langs`` and n the fewest any of them has.

        BM25 reaches only the question's language (the others get only the glossary's
        translations of its concepts), so in a library where every language has articles
        of its own, its matches on generic words ("하나요", "Vertrieb") lifted passages
        in the question's language over the answer in another (QA8), as the
        same-language dense bonus did (see centring). With one article a language (the
        seeds) it counts in full, as measured best there. In one language it counts in
        full (KorQuAD, where BM25 beats e5)."""
        counts = self._article_counts()
        total = sum(counts.get(lang, 0) for lang in langs)
        fewest = min((counts.get(lang, 0) for lang in langs), default=0)
        if total == 0 or fewest <= 1:
            return 1.0
        share = counts.get(query_lang, 0) / total
        return 1 - (1 - share) * (1 - 1 / fewest)

    def _article_counts(self) -> dict[str, int]:
        """Articles per language (by the article's own language), kept with the loaded
        indexes. The articles table is one row an article: counting passages took a scan
        of every one (1M at scale) on the first search after each write. A language
        found only in passages of articles in another counts as none."""
        vectors = self._vectors
        cached = self._lang_articles
        if cached is None or cached[0] is not vectors:
            counts = dict(self.store.conn.execute(
                "SELECT lang, COUNT(*) FROM articles GROUP BY lang"))
            cached = self._lang_articles = (vectors, counts)
        return cached[1]

    def _chunk_terms(self, ids: set[int]) -> dict[int, tuple[str, str]]:
        """(language, joined analyzed terms) of chunks, for concept coverage."""
        terms = self._terms  # another thread may swap in a new dict meanwhile
        missing = sorted(i for i in ids if i not in terms)
        if missing:
            fetched = {
                cid: (lang, joined_terms(t))
                for cid, (lang, t) in self.store.chunk_terms(missing).items()
            }
            if len(terms) > 50_000:  # bounded: one entry per chunk seen
                terms = self._terms = {}
            terms.update(fetched)
        return {i: terms[i] for i in ids if i in terms}

    def _fetch(self, k: int) -> int:
        # With a per-article cap some candidates are skipped, so fetch a few spare ones.
        return k * 3 if self.search_config.per_article_cap else k

    def _hits(self, fused: list[Scored], k: int) -> list[Hit]:
        top = fused[: self._fetch(k)]
        if not self._titles:
            self._titles = self.store.titles()
        hits: list[Hit] = []
        per_article: dict[str, int] = {}
        cap = self.search_config.per_article_cap
        rows: dict[int, ChunkRow] = {}
        read = 0  # rows are read as far as the hits need them, k at a time
        for i, s in enumerate(top):
            if i == read:
                rows = self.store.chunks([x.chunk_id for x in top[read : read + k]])
                read += k
            row = rows.get(s.chunk_id)
            if row is None:
                continue
            if cap and per_article.get(row.article_id, 0) >= cap:
                continue
            per_article[row.article_id] = per_article.get(row.article_id, 0) + 1
            hits.append(
                Hit(
                    chunk_id=row.id,
                    article_id=row.article_id,
                    title=self._titles.get(row.article_id, row.article_id),
                    lang=row.lang,
                    section=row.section,
                    text=row.text,
                    start=row.start,
                    end=row.end,
                    score=round(float(s.score), 6),
                    signals=s.signals,
                )
            )
            if len(hits) == k:
                break
        return hits

    def with_translations(self, hits: list[Hit], *, fold: bool = False,
                          prefer: str | None = None) -> list[Hit]:
        """``hits`` with their translations listed; with ``fold``, without the hits that
        translate one ranked above them (QA: for "marketing director" the German seed
        and its Vietnamese translation took 8 of 10 places). With ``prefer`` (the
        query's language), a passage's translation in it, found lower, takes its place
        and score, and the passage folds into it (QA20 F4: "Wie misst man den Erfolg
        eines Empfehlungsprogramms?" listed the English passage, its German original
        hidden as "a translation")."""
        from kb import adding

        aligned = adding.aligned_map(self, [h.chunk_id for h in hits])
        if fold and prefer:
            hits = _own_language_first(hits, aligned, prefer)
        rows = self.store.chunks(sorted({c for twins in aligned.values() for c in twins}))
        out: list[Hit] = []
        seen: set[int] = set()  # listed or folded: what translates it folds in turn
        same: dict[str, int] = {}  # a listed passage's text -> its place in ``out``
        for hit in hits:
            twins = [rows[c] for c in sorted(aligned.get(hit.chunk_id, ())) if c in rows]
            folded = fold and any(t.id in seen for t in twins)
            seen.add(hit.chunk_id)
            if folded:
                continue
            # The same text in another article (a copy kept beside its original) folds
            # into the first, listed as a copy (QA: ranks 1 and 2, word for word).
            # The same text again in one article (a disclaimer at the top and the end)
            # folds too, but is no copy to name: "same text in" named the article it is
            # in (QA18).
            text = hit.text_key
            if fold and text in same:
                first = out[same[text]]
                if hit.article_id != first.article_id:
                    out[same[text]] = dataclasses.replace(first, copies=(
                        *first.copies, Translation(hit.chunk_id, hit.article_id, hit.title,
                                                   hit.lang)))
                continue
            same.setdefault(text, len(out))
            listed = tuple(Translation(t.id, t.article_id, self._titles.get(t.article_id,
                                       t.article_id), t.lang)
                           for t in sorted(twins, key=lambda t: (t.lang, t.start)))
            out.append(dataclasses.replace(hit, translations=listed))
        return out

    def close_articles(self, wanted: str, n: int = 3) -> tuple[tuple[str, str], ...]:
        """Up to ``n`` (id, title) whose id or title is like ``wanted``: a mistyped or
        shortened link ("en-upstream-downstream") still leads somewhere. Skipped in a
        very large library, where comparing with every id would hold up the 404."""
        import difflib

        titles = self.store.titles()
        if not wanted or len(titles) > 20_000:
            return ()
        key = wanted.casefold()
        by_title = {t.casefold(): i for i, t in titles.items()}
        close = difflib.get_close_matches(key, list(titles), n=n, cutoff=0.6)
        close += [by_title[t] for t in difflib.get_close_matches(key, list(by_title), n=n,
                                                                  cutoff=0.6)]
        return tuple((i, titles[i]) for i in dict.fromkeys(close))[:n]

    def article(self, article_id: str) -> dict[str, object]:
        article_id = same_id(article_id)
        row = self.store.article(article_id)
        if row is None:
            from kb import adding

            if adding.was_removed(self, article_id):  # an old citation link: say so
                raise RemovedError(f"the article {article_id!r} was removed from the "
                                   "knowledge base (its file is kept in corpus/.removed/; "
                                   f"`kb restore {article_id}` puts it back)",
                                   article_id=article_id)
            raise NotFoundError(f"no article with id {article_id!r}",
                                suggestions=self.close_articles(article_id))
        chunks = self.store.article_chunks(article_id)
        return {
            "id": row["id"],
            "title": row["title"],
            "lang": row["lang"],
            "source": row["source"],
            "tags": json.loads(row["tags"]),
            "text": row["text"],
            "added_at": row["added_at"],
            "updated_at": row["updated_at"],
            # What a write sends back (If-Match, the Edit page's hidden field) to be
            # refused when another write changed the article since.
            "version": version_of(row["content_sha256"]),
            "chunks": [
                {
                    "chunk_id": c.id,
                    "start": c.start,
                    "end": c.end,
                    "section": c.section,
                    "lang": c.lang,
                }
                for c in chunks
            ],
        }

    def articles(
        self, *, langs: Sequence[str] | None = None, tag: str | None = None
    ) -> list[dict[str, object]]:
        """Every article's metadata, by id; ``langs`` and ``tag`` (case-insensitive)
        keep only those in these languages, or with this tag. A tag no article carries
        is a BadInputError, as in :meth:`within`: the list came back empty, where search
        named the unknown tag, and a typo read as "no such articles"."""
        wanted = {language.check_lang(x) for x in langs} if langs else None
        tagged = self._tagged_articles([tag.strip()]) if tag and tag.strip() else None
        out = []
        for r in self.store.articles():
            tags = json.loads(r["tags"])
            if wanted is not None and r["lang"] not in wanted:
                continue
            if tagged is not None and r["id"] not in tagged:
                continue
            out.append({
                "id": r["id"],
                "title": r["title"],
                "lang": r["lang"],
                "source": r["source"],
                "tags": tags,
                "chunks": r["n_chunks"],
                "added_at": r["added_at"],
                "updated_at": r["updated_at"],
                "version": version_of(r["content_sha256"]),
            })
        return out

    def stats(self) -> dict[str, object]:
        meta = self.store.meta()
        stats = self.store.stats()
        stats.update(
            model=meta.get("model_id", self.settings.model),
            model_fingerprint=meta.get("model_fingerprint"),
            dim=int(meta.get("dim", "0") or 0),
            index_dir=str(self.index_dir),
            index_bytes=directory_size(self.index_dir) if self.index_dir.exists() else 0,
            version=self.store.version,
        )
        return stats

    def ask(
        self, question: str, *, langs: Sequence[str] | None = None,
        query_lang: str | None = None, exact: bool = False,
        tags: Sequence[str] | None = None, articles: Sequence[str] | None = None,
    ) -> Answer:
        """An extractive answer: 2-5 of the articles' own sentences (up to 8 to quote a
        list whole), each cited to its passage, or ``found=False`` when the evidence is
        weak (see :mod:`kb.answers`). ``exact``, ``tags`` and ``articles``: as
        :meth:`search`'s."""
        from kb.answers import answer

        return answer(self, question, langs=langs, query_lang=query_lang, exact=exact,
                      tags=tags, articles=articles)


def _behind(database: int, published: int) -> str:
    """Why the derived indexes are rebuilt from a database of another version. A
    database *older* than the published indexes is not a crashed write: it was restored
    from a backup, or copied without its kb.sqlite-wal file, and the writes after it
    are lost from it (QA24a F7: that too was "derived indexes lag the database")."""
    if published > database:
        return (f"the database (version {database}) is older than its derived indexes "
                f"(version {published}): was it restored from a backup, or copied without "
                "its kb.sqlite-wal file? The writes after it are not in it; rebuilding the "
                "derived indexes from the database")
    return "derived indexes lag the database; rebuilding"


def _manifest_entries(rows: Sequence[sqlite3.Row]) -> dict[str, dict[str, object]]:
    return {
        r["id"]: {
            "title": r["title"],
            "lang": r["lang"],
            "content_sha256": r["content_sha256"],
            "chunks": r["n_chunks"],
        }
        for r in rows
    }


__all__ = ["KnowledgeBase", "IngestReport", "KBError"]


def _own_language_first(hits: list[Hit], aligned: dict[int, set[int]],
                        lang: str) -> list[Hit]:
    """``hits`` with each passage in another language than ``lang`` that has a
    translation in ``lang`` among the later hits moved below that translation, which
    takes its place and its score: folding then keeps the asker's language."""
    out = list(hits)
    i = 0
    while i < len(out):
        hit = out[i]
        if hit.lang != lang:
            twins = aligned.get(hit.chunk_id, set())
            j = next((j for j in range(i + 1, len(out))
                      if out[j].lang == lang and out[j].chunk_id in twins), None)
            if j is not None:
                own = out.pop(j)
                out.insert(i, dataclasses.replace(own, score=max(own.score, hit.score)))
        i += 1
    return out
