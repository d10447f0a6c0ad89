"""Adding articles one at a time: upload or paste, preview, duplicates, families.

The flow for one upload: size limit -> content sniffing and extraction -> parsing and
cleaning -> duplicate check -> the file is saved under the corpus directory (so that a
reindex rebuilds the same knowledge base) -> incremental ingest -> translation links.
A failure before the ingest commits removes the saved file again; a crash in between
leaves the file in the corpus, and the next ``kb ingest`` picks it up: nothing is lost.
"""

from __future__ import annotations

import dataclasses
import glob
import json
import logging
import re
import shutil
import threading
import time
import unicodedata
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kb import chunking, corpus_file, families, language
from kb.articles import (
    ARTICLE_SUFFIXES,
    EXTRACTED_SUFFIXES,
    Article,
    article_id_from_name,
    check_tags,
    one_line,
    opening_heading,
    parse_article,
    raw_sha256,
    read_article,
    same_id,
    tag_tuple,
    title_is_opening_words,
    unique_tags,
    version_of,
)
from kb.errors import (
    ArticleError,
    BadInputError,
    ConflictError,
    KBError,
    NotFoundError,
    RemovedError,
    StaleError,
    StorageError,
    TooLargeError,
)
from kb.extract import extract
from kb.language import LANG_NAMES
from kb.store import atomic_write_text

if TYPE_CHECKING:
    from kb.core import KnowledgeBase, ProgressFn

log = logging.getLogger(__name__)


@dataclass
class AddResult:
    article_id: str
    title: str
    lang: str
    kind: str
    chunks: int
    text: str
    saved: bool
    source: str = ""
    tags: tuple[str, ...] = ()
    duplicate_of: str | None = None
    similar_to: str | None = None  # an article this one is an edited or extended copy of
    similarity: float | None = None  # their 5-gram Jaccard similarity
    contained: float | None = None  # the share of the shorter one's 5-grams the other holds
    exists: bool = False  # an article with this id was there before (replaced, or a clash)
    identical: bool = False  # ... and it holds this exact text (a re-paste): nothing to add
    unchanged: bool = False  # a replacement with the stored text and details: not written
    kept: tuple[str, ...] = ()  # metadata a replacement took from the replaced article
    version: str | None = None  # the saved article's version (its ETag); None: a preview
    stale: bool = False  # a preview of a replace of a version no longer stored: refused
    # How this text is like the stored article whose id it would take (a clash): a new
    # version of it ("80% of their wording is shared"), or "" for another text.
    same_id_likeness: str | None = None
    # Where the corpus file this save replaced was kept, under the corpus directory
    # (".removed/<id>.<time>.replaced.md"): any overwrite can be undone.
    previous_file: str | None = None
    # That file held text or markup (links, emphasis, images) the index does not, and
    # the new file is written from the cleaned text: only the kept copy has it.
    markup_dropped: bool = False
    was_lang: str | None = None  # the replaced article's language, when this one's differs
    lang_source: str = "detected"  # "given", "header" or "detected": see Article
    lang_looks: str | None = None  # a given language the text does not look like: its name
    encoded_removed: int = 0  # characters of encoded data cleaning removed (Article)
    encoding_repaired: str = ""  # mojibake cleaning mended, an example (Article)
    lossy_words: tuple[str, ...] = ()  # words with a "?" for a lost letter (Article)
    # No title was given and the text opens with no heading: the title is its opening
    # words (kb.articles._guess_title), which the Library, cards and ranking use.
    title_guessed: bool = False
    # Its paragraphs' languages, when it mixes them: (language, share of letters).
    mixed: tuple[tuple[str, float], ...] = ()
    family: list[dict[str, object]] = field(default_factory=list)
    # Saved, but what a full disk (or another storage failure) kept from being written
    # after the database commit: its derived index files (kb.KnowledgeBase.unpublished),
    # its translation links (QA24a F2: such a save was reported as not made).
    unpublished: str | None = None
    unlinked: str | None = None
    # The translations the replaced article was linked to and this one is not (QA17: a
    # reordered original lost its Vietnamese translation, and nothing said so).
    lost_family: list[dict[str, object]] = field(default_factory=list)
    # The glossary concepts its title and text name (None: not looked at); none is
    # worth a note: its topic reaches other languages only through e5 (QA13).
    concepts: tuple[str, ...] | None = None
    seconds: float = 0.0
    # Where a save's time went: index_s (checks, corpus file, embedding, index write),
    # families_s (translation detection), and how many texts were embedded.
    stats: dict[str, float] = field(default_factory=dict)
    # A preview of a replace: an existing article of this id is what it replaces, not
    # a clash (not in to_dict; ``exists`` says it is there).
    replacing: bool = field(default=False, repr=False)

    @property
    def refusals(self) -> list[str]:
        """Why saving this (a preview's) would be refused, in words."""
        out = []
        if self.duplicate_of:
            out.append(f"already in the knowledge base as {self.duplicate_of!r}; "
                       "saving it would be refused")
        if self.stale and not self.saved:
            out.append(f"{self.article_id!r} was changed since you opened it; saving would "
                       "be refused: look at the current version first")
        if self.identical and not self.saved and not self.replacing:
            out.append(_identical(self.article_id))
        elif self.exists and not self.saved and not self.replacing:
            out.append(f"an article with id {self.article_id!r} already exists"
                       + _clash_likeness(self.same_id_likeness) + "; saving "
                       "replaces it only on request (kb add --replace, “Replace” on the Add page, "
                       "or PUT in the API)")
        return out

    @property
    def notes(self) -> list[str]:
        """What to check, though a save goes ahead: a given language the text does not
        look like, a similar article it may be a new version of, metadata kept."""
        out = []
        if self.lang_looks:
            out.append(f"the text looks {self.lang_looks}, but its language was given as "
                       f"{LANG_NAMES.get(self.lang, self.lang)} ({self.lang}): the library "
                       f"lists it as {self.lang}, while search (and its language filter) "
                       "takes each passage as the language it is written in; check it")
        if self.similar_to and self.similar_to != self.article_id and not self.duplicate_of:
            out.append(f"much like {self.similar_to!r} ({self.likeness}): if this is a new "
                       f"version of it, replace {self.similar_to!r} rather than keep both")
        if self.unpublished:
            out.append(f"saved and searchable, but the index files could not be written "
                       f"({self.unpublished}): searches use indexes built in memory from the "
                       "database until a later save or `kb reindex` writes them; free disk "
                       "space")
        if self.unlinked:
            out.append(f"its translations were not looked for ({self.unlinked}): save it "
                       "again once that is fixed to link them")
        if self.encoded_removed:
            out.append(f"{self.encoded_removed:,} characters of encoded data (a pasted image "
                       "or file) were removed; only the text is kept")
        if self.mixed:
            shares = ", ".join(f"{LANG_NAMES.get(x, x)} {round(100 * v)}%" for x, v in self.mixed)
            out.append(f"the text mixes languages ({shares} of its paragraphs' letters) and "
                       f"is listed as {LANG_NAMES.get(self.lang, self.lang)}: each passage is "
                       "searched as the language it is written in, but a passage holding "
                       "both is taken as one of them; give its language if "
                       f"{LANG_NAMES.get(self.lang, self.lang)} is wrong, or split it")
        if self.encoding_repaired:
            out.append(f"the text was mis-encoded (UTF-8 read as another encoding) and has "
                       f"been repaired, such as {self.encoding_repaired}: check that it reads "
                       "right")
        if self.lossy_words:
            shown = ", ".join(self.lossy_words[:3])
            out.append(f"{len(self.lossy_words)} words have a \"?\" where a letter should be "
                       f"(such as {shown}): letters were lost when the file was converted to "
                       "an encoding that lacks them, and cannot be restored; save the original "
                       "as UTF-8 and add that instead")
        if self.title_guessed:
            out.append(f"no heading: the title was taken from the text's first words "
                       f"(“{self.title}”); give a title, or start the text with a heading "
                       "line (“# …”)")
        if self.was_lang:
            out.append(f"the language changes from {LANG_NAMES.get(self.was_lang, self.was_lang)}"
                       f" ({self.was_lang}) to {LANG_NAMES.get(self.lang, self.lang)} "
                       f"({self.lang})" + (": the kept title is in the old one; give a new "
                                            "title to change it" if "title" in self.kept else ""))
        if self.markup_dropped and self.previous_file:
            out.append(f"the file it replaces held more than its cleaned text (such as links, "
                       f"emphasis, images, or lines the cleaner drops, which the index does "
                       f"not keep), and the new "
                       f"file is written from the cleaned text: the old one is kept as "
                       f"{self.previous_file} in the corpus directory; copy back what you "
                       "need from it")
        for lost in self.lost_family:
            out.append(f"it is no longer linked to its translation {lost['article_id']!r} "
                       f"({lost['lang']}): their passages no longer align in order (moved "
                       "or rewritten sections), so search and the article pages stop "
                       "showing them as translations; restore the order, or edit the "
                       "translation to match")
        if self.kept:
            names = ", ".join(self.kept[:-1]) + " and " * (len(self.kept) > 1) + self.kept[-1]
            out.append(f"keeps the {names} of the article it replaces; give "
                       "new ones (fields or a header) to change them")
        if self.chunks > LONG_PASSAGES and not self.saved:
            out.append(f"a long text: {self.chunks:,} passages, each with its sentences, to "
                       "embed before it is searchable, which takes minutes on a small server "
                       "(about 10 passages a second on two cores), and other saves wait "
                       "until it is done; split it into articles if it is several")
        if self.concepts == ():
            out.append("no glossary concept names its topic, so a question in another "
                       "language reaches it only by its meaning, and may get no answer: add "
                       "its key terms in the other languages as a concept (the Concepts "
                       "page, or kb concepts add)")
        return out

    @property
    def warnings(self) -> list[str]:
        """Refusals, then notes: everything to know before (or after) saving."""
        return self.refusals + self.notes

    @property
    def likeness(self) -> str:
        """How the similar article is like this one, in words: the figure that flagged it."""
        return _alike(self.similarity or 0.0, self.contained or 0.0)

    def to_dict(self, *, with_text: bool = False) -> dict[str, object]:
        d: dict[str, object] = {k: v for k, v in self.__dict__.items()
                                if k not in ("text", "replacing")}
        d["seconds"] = round(self.seconds, 3)
        d["tags"] = list(self.tags)
        d["kept"] = list(self.kept)
        d["lossy_words"] = list(self.lossy_words)
        d["mixed"] = [{"lang": x, "share": v} for x, v in self.mixed]
        d["concepts"] = list(self.concepts) if self.concepts is not None else None
        d["warnings"] = self.warnings  # refusals + notes, for older clients
        d["refusals"], d["notes"] = self.refusals, self.notes
        if with_text:
            d["text"] = self.text
        return d


PASTED = "pasted text"  # the name of an article that came without a file
# A preview notes a text of more passages than this: QA23a F2, a 1.9 MB upload was 12,399
# passages and sentences to embed, half an hour that held every other write.
LONG_PASSAGES = 300


def _identical(article_id: str) -> str:
    # QA: a re-pasted article was told only that its id exists and how to replace it.
    return f"already saved as {article_id!r}, with this exact text: nothing to add"


def format_size(n: int) -> str:
    """``10485760`` -> ``"10 MB"``; small limits stay readable (``"195 KB"``)."""
    if n >= 2**20:
        return f"{n / 2**20:.1f}".removesuffix(".0") + " MB"
    if n >= 2**10:
        return f"{n / 2**10:.0f} KB"
    return f"{n} bytes"


def too_large(what: str, size: int | None, limit: int) -> TooLargeError:
    """The one 413 message, shared by this module and the web edge."""
    if size is None:  # a streamed body, stopped as soon as it passed the limit
        got, cap = "is too large", format_size(limit)
    elif format_size(size) == format_size(limit):  # not "10 MB; the limit is 10 MB"
        got, cap = f"is {size:,} bytes", f"{limit:,} bytes"
    else:
        got, cap = f"is {format_size(size)}", format_size(limit)
    return TooLargeError(
        f"{what} {got}; the upload limit is {cap} (KB_MAX_UPLOAD_BYTES). Split the "
        "article, or raise the limit"
    )


def prepare(
    kb: KnowledgeBase,
    data: bytes,
    *,
    filename: str | None,
    article_id: str | None = None,
    title: str | None = None,
    lang: str | None = None,
    source: str | None = None,
    tags: tuple[str, ...] | None = None,
) -> tuple[Article, str]:
    """Validate and parse an upload; raises a domain error that names the problem.

    Args:
        data: the file's bytes, or pasted text encoded as UTF-8.
        filename: the uploaded file's name (only its last part counts, so a path
            cannot escape the corpus); ``None`` for pasted text, whose id then comes
            from the title.
        article_id: an explicit id (slugified); default from the file name or title.
        title, lang, source, tags: override what the file says or what is detected.
    """
    limit = kb.settings.max_upload_bytes
    label = filename or PASTED
    if len(data) > limit:
        raise too_large(label, len(data), limit)
    if filename is None and not data.strip():
        raise ArticleError(PASTED, "the text is empty")
    if article_id is not None and (re.search(r"[/\\]", article_id)
                                   or not re.search(r"[^\W_]", article_id)):
        # Slugging "a/../x" to "x", or "..." to "article", would save under an id
        # nobody asked for.
        raise ArticleError(label, f"the id {article_id!r} is not usable: use letters, "
                                  "digits, '-', '_' or '.', and no '/' or '\\'",
                           fields=("id",))
    name = (Path(filename.replace("\\", "/")).name or "article.txt") if filename else PASTED
    extracted = extract(data, name)
    article = parse_article(
        extracted.text, name=name, article_id=article_id,
        title=title or extracted.title or title,  # "" (sent empty) stays given
        lang=lang, source=source, tags=tags, pasted=filename is None,
    )
    check_tags(article.tags, name)
    if (filename is not None and article_id is None and article.id == article_id_from_name(name)
            and kb.store.article(article.id) is None):
        # An id from a file name is plain ASCII for Latin letters, as one from a title is
        # (QA: "Tiếp thị MXH.txt" gave "tiếp-thị-mxh", "Tiếp thị MXH" as a title
        # "tiep-thi-mxh"); an article already stored under the accented id keeps it, so
        # that its file replaces it.
        folded = name_id(article.id, article.lang)
        if folded != article.id:
            article = replace(article, id=folded)
    if filename is None and article_id is None:
        # A title is not a path: "Upstream / Downstream" keeps both words in its id, and
        # its punctuation has no place in one ("channels.-a-consistent").
        article = replace(article, id=title_id(article.title, article.lang))
    return article, extracted.kind


MAX_TITLE_ID = 60  # characters of a pasted article's id, cut at a word


def title_id(title: str, lang: str) -> str:
    """A pasted article's id from its title: plain ASCII for Latin letters ("Bündelung
    im Überblick" -> "buendelung-im-ueberblick", "Tiếp thị ở Đức" -> "tiep-thi-o-duc"),
    other scripts kept ("번들링 전략"), at most about 60 characters, whole words. QA: a
    Vietnamese title gave "retail-media-nguồn-gốc-và-chiến-lược-tiếp-thị-ở-đức", which
    links and shells carry percent-encoded."""
    if lang == "de":
        title = title.translate(_GERMAN)
    plain = "".join(_ascii_latin(ch) for ch in unicodedata.normalize("NFC", title))
    slug = article_id_from_name(re.sub(r"[^\w\s-]+", " ", plain))
    if len(slug) > MAX_TITLE_ID:
        cut = slug[: MAX_TITLE_ID + 1].rsplit("-", 1)[0]
        slug = cut if len(cut) >= MAX_TITLE_ID // 2 else slug[:MAX_TITLE_ID]
    return article_id_from_name(slug)


def name_id(article_id: str, lang: str) -> str:
    """An id as :func:`title_id` spells it: Latin letters without their marks ("ü" as
    "ue" in German), other scripts kept, any length."""
    if lang == "de":
        article_id = article_id.translate(_GERMAN)
    plain = "".join(_ascii_latin(ch) for ch in unicodedata.normalize("NFC", article_id))
    return article_id_from_name(plain)


_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue",
                         "ß": "ss"})


def _ascii_latin(ch: str) -> str:
    """A Latin letter without its marks (đ has none to strip); anything else as it is:
    Hangul must not be decomposed into its jamo."""
    if ch.isascii() or "LATIN" not in unicodedata.name(ch, ""):
        return ch
    if ch in "đĐ":
        return "d" if ch == "đ" else "D"
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    return base if base.isascii() else ch


@dataclass(frozen=True)
class Match:
    """The stored article whose text is closest to an upload's (word 5-gram sets)."""

    article_id: str
    jaccard: float
    contained: float  # the share of the shorter text's 5-grams the other holds

    @property
    def duplicate(self) -> bool:
        return self.jaccard >= families.DUPLICATE_THRESHOLD

    @property
    def similar(self) -> bool:
        return (self.jaccard >= families.SIMILAR_THRESHOLD
                or self.contained >= families.SIMILAR_CONTAINED)


def closest(kb: KnowledgeBase, article: Article) -> Match | None:
    """The stored article (other than ``article.id``) most like ``article``, when it is
    at least similar: a duplicate, or an edited or extended copy.

    Stored articles are shortlisted by their MinHash signatures; only the shortlist's
    texts are read and compared exactly (kb.families)."""
    same = kb.store.conn.execute(
        "SELECT id FROM articles WHERE content_sha256 = ? AND id != ? ORDER BY id",
        (article.content_sha256, article.id)).fetchone()
    if same is not None:
        return Match(str(same[0]), 1.0, 1.0)
    _sign_old_articles(kb)
    mine = families.shingles(article.text)
    ids, signatures = kb.store.signatures()
    if not ids:
        return None
    estimate = (signatures == families.minhash(mine)).mean(axis=1)
    best: Match | None = None
    for i in np.flatnonzero(estimate >= families.MINHASH_CANDIDATE):
        row = kb.store.article(ids[i]) if ids[i] != article.id else None
        if row is None:
            continue
        m = _compared(mine, row)
        if m.similar and (best is None or m.jaccard > best.jaccard):
            best = m
    return best


def likeness(article: Article, stored: Any) -> str:
    """How ``article`` is like ``stored`` (the article whose id it would take), in
    words, when it looks like a version of it; "" when it is another text. QA24b F13:
    an update whose title made the original's id was told only "already exists"."""
    m = _compared(families.shingles(article.text), stored)
    return _alike(m.jaccard, m.contained) if m.similar else ""


def _compared(mine: set[int], stored: Any) -> Match:
    """A text (its 5-gram set) compared with a stored article."""
    theirs = families.shingles(str(stored["text"]))
    return Match(str(stored["id"]), families.jaccard(mine, theirs),
                 families.contained(mine, theirs))


def _alike(jaccard: float, contained: float) -> str:
    """Two texts' likeness in words: the figure that flags them as similar."""
    if jaccard >= families.SIMILAR_THRESHOLD:
        return f"{round(100 * jaccard)}% of their wording is shared"
    return f"{round(100 * contained)}% of the shorter one's wording is in the other"


def _clash_likeness(said: str | None) -> str:
    if said is None:
        return ""
    if said:
        return f", and this text is much like it ({said}): a new version of it?"
    return " and holds another text: choose another id, unless this replaces it"


def lang_looks(article: Article) -> str | None:
    """When the article's language was given (a field, or its header) and its text
    clearly looks like another language: that language's name ("English"). Uploads
    only: detection costs a few milliseconds an article, too much for a bulk ingest."""
    if article.lang_source == "detected":
        return None
    sample = article.text[:5000]
    detected = language.detect(sample)
    if detected is not None:
        return LANG_NAMES[detected] if detected != article.lang else None
    return language.unsupported(sample)


MIXED_SHARE = 0.2  # a second language this share of the letters makes a text mixed
MIXED_PARAGRAPHS = 40  # paragraphs looked at: a few ms each (langdetect)


def mixed_languages(article: Article) -> tuple[tuple[str, float], ...]:
    """When the article's paragraphs are in more than one language, each taking at
    least ``MIXED_SHARE`` of their letters: (language, share of letters), most first.
    QA20 F2: a German article quoting an English paragraph of the same length was
    saved as English without a word, and its answers were labelled English. Uploads
    only, like :func:`lang_looks`."""
    letters: dict[str, int] = {}
    paragraphs = [p for p in re.split(r"\n\s*\n", article.text) if p.strip()]
    for para in paragraphs[:MIXED_PARAGRAPHS]:
        n = sum(ch.isalpha() for ch in para)
        lang = language.detect(para) if n >= 40 else None  # too short to tell
        if lang is not None:
            letters[lang] = letters.get(lang, 0) + n
    total = sum(letters.values())
    shares = sorted(((x, n / total) for x, n in letters.items()), key=lambda kv: -kv[1])
    return tuple((x, round(v, 2)) for x, v in shares) if (
        len(shares) > 1 and shares[1][1] >= MIXED_SHARE) else ()


def _dim(kb: KnowledgeBase) -> int:
    """The stored vectors' dimension, without loading the encoder."""
    return int(kb.store.meta().get("dim", "0") or 0) or kb.encoder.dim


def _sign_old_articles(kb: KnowledgeBase) -> None:
    """Give signatures to articles indexed before they were kept (once)."""
    missing = kb.store.unsigned_articles()
    if missing:
        with kb.store.transaction(bump=False) as conn:
            for article_id in missing:
                row = kb.store.article(article_id)
                chunks = kb.store.conn.execute(
                    "SELECT lang, vector FROM chunks WHERE article_id = ?", (article_id,)
                ).fetchall()
                if row is not None:
                    vectors = np.array([np.frombuffer(c["vector"], np.float32) for c in chunks],
                                       np.float32).reshape(len(chunks), _dim(kb))
                    kb.store.put_signature(conn, article_id, row["text"], vectors,
                                           [c["lang"] for c in chunks])


# Of a long article, the start says what it is about (and Kiwi need not read 1 MB).
CONCEPT_CHARS = 20_000


def named_concepts(kb: KnowledgeBase, article: Article) -> tuple[str, ...]:
    """The ids of the glossary's concepts that the article is about: named in its title,
    or in two of its paragraphs. Matched over the whole text, as a question is, a
    concept's words turned up somewhere in any article ("reward" … "program"), and the
    note that none names its topic never showed (QA15)."""
    glossary = kb.glossary
    named = {c.id for c in glossary.match(article.title) if c.card}
    seen: dict[str, int] = {}
    for para in re.split(r"\n\s*\n", article.text[:CONCEPT_CHARS]):
        for c in glossary.match(para):
            if c.card:
                seen[c.id] = seen.get(c.id, 0) + 1
    named |= {cid for cid, n in seen.items() if n >= 2}
    return tuple(c.id for c in glossary.cards if c.id in named)


def preview(kb: KnowledgeBase, article: Article) -> int:
    """How many chunks the article would become (no write)."""
    return len(chunking.chunk_text(article.text, kb._count_tokens()))


def dry_run(kb: KnowledgeBase, article: Article, *, kind: str = "text",
            replace: bool = False, expect: str | None = None) -> AddResult:
    """What :func:`add` (with ``replace`` and ``expect``) would store, and what would
    stop it; writes nothing."""
    stored = kb.store.article(article.id)
    kept: tuple[str, ...] = ()
    if stored is not None and replace:
        article, kept = _keep_metadata(article, stored)
    return AddResult(
        article_id=article.id, title=article.title, lang=article.lang, kind=kind,
        lang_source=article.lang_source, lang_looks=lang_looks(article),
        encoded_removed=article.encoded_removed,
        encoding_repaired=article.encoding_repaired, lossy_words=article.lossy_words,
        mixed=mixed_languages(article), title_guessed=title_guessed(article, kept),
        chunks=preview(kb, article),
        text=article.text, saved=False, source=article.source,
        tags=article.tags, exists=stored is not None, kept=kept, replacing=replace,
        identical=stored is not None and stored["content_sha256"] == article.content_sha256,
        was_lang=_was_lang(article, stored if replace else None),
        concepts=named_concepts(kb, article),
        stale=stored is not None and expect is not None and _stale(stored, expect),
        same_id_likeness=(likeness(article, stored) if stored is not None and not replace
                          else None),
        **_match_fields(closest(kb, article)),
    )


def title_guessed(article: Article, kept: tuple[str, ...] = ()) -> bool:
    """Whether the article's title is its text's opening words, guessed because nothing
    gave one (no title field, header or ``# heading``), rather than a short first line
    or a title kept from the article it replaces (QA22 F11: a pasted note's first
    sentence, cut with "…", became its title without a word)."""
    return ("title" in article.unset and "title" not in kept
            and title_is_opening_words(article.title, article.text))


def _match_fields(m: Match | None) -> dict[str, Any]:
    if m is None:
        return {}
    if m.duplicate:
        return {"duplicate_of": m.article_id}
    return {"similar_to": m.article_id, "similarity": round(m.jaccard, 3),
            "contained": round(m.contained, 3)}


def corpus_path(kb: KnowledgeBase, article_id: str) -> Path:
    """Where an article's file lives; ids are slugs, and this double-checks the folder."""
    root = kb.settings.corpus_dir.resolve()
    path = (root / f"{article_id_from_name(article_id)}.md").resolve()
    if path.parent != root:
        raise BadInputError(f"invalid article id {article_id!r}")
    return path


def existing_file(kb: KnowledgeBase, article_id: str) -> Path | None:
    """The article's file in the corpus: the one it was indexed from when that lies in
    the corpus (a subfolder, an .html or .pdf), else ``<id>`` with an article suffix."""
    root = kb.settings.corpus_dir.resolve()
    row = kb.store.article(article_id)
    if row is not None and row["path"]:
        held = Path(row["path"]).resolve()
        if held.is_file() and held.is_relative_to(root) and PENDING not in held.parts:
            return held
    for suffix in ARTICLE_SUFFIXES + EXTRACTED_SUFFIXES:
        p = root / f"{article_id}{suffix}"
        if p.is_file():
            return p
    return None


def add(
    kb: KnowledgeBase,
    article: Article,
    *,
    kind: str = "text",
    replace: bool = False,
    detect_family: bool = True,
    refuse_duplicate: bool = True,
    progress: ProgressFn | None = None,
    expect: str | None = None,
) -> AddResult:
    """Save the article to the corpus and index it incrementally; ``progress`` is
    told of each stage (KnowledgeBase.ingest). ``expect``: the version of the article
    the writer read (an ETag, the Edit page's hidden field); a replace of any other
    version is refused (StaleError), so that it cannot undo a change made since."""
    started = time.perf_counter()
    # One unit under the index's write lock, across processes: another writer's
    # recover_pending() must not take this save's staged file for an abandoned one.
    with kb.writing():
        recover_pending(kb)
        stored = kb.store.article(article.id)
        exists = stored is not None
        kept: tuple[str, ...] = ()
        if stored is not None and replace:
            article, kept = _keep_metadata(article, stored)
        identical = exists and stored["content_sha256"] == article.content_sha256
        if identical and not replace:
            raise ConflictError(_identical(article.id), article_id=article.id)
        if exists and not replace:
            raise ConflictError(
                f"an article with id {article.id!r} already exists"
                + _clash_likeness(likeness(article, stored)) + "; replace it (kb add "
                "--replace, “Replace” on the Add page, or PUT in the API) or choose another id",
                article_id=article.id, reason="exists", fields=("id",))
        if not exists and replace:
            raise NotFoundError(f"no article with id {article.id!r} to replace")
        if expect is not None:
            check_version(stored, expect)
        if identical and _same_details(article, stored):
            # QA10: the Edit page saved with nothing changed re-indexed and said "Replaced".
            return AddResult(
                article_id=article.id, title=article.title, lang=article.lang, kind=kind,
                chunks=len(kb.store.article_chunks(article.id)), text=article.text,
                saved=True, source=article.source, tags=article.tags, exists=True,
                identical=True, unchanged=True, kept=kept, lang_source=article.lang_source,
                version=version_of(article.content_sha256), seconds=time.perf_counter() - started)
        match = closest(kb, article)
        if match is not None and match.duplicate and refuse_duplicate:
            raise ConflictError(
                f"already in the knowledge base as {match.article_id!r}; not indexed twice. "
                f"If it is a new version of it, replace {match.article_id!r}: `kb add "
                f"--replace --id {match.article_id}`, “Edit this article” on its page, or "
                f"PUT /api/articles/{match.article_id}", article_id=match.article_id,
                reason="duplicate")
        # The file is staged, the index written, and only then the file published: a crash
        # before the index commit leaves the corpus as it was (the staged file is set aside
        # as failed), one after it leaves a staged file that recover_pending() publishes.
        # Indexed as the corpus file it becomes, not as the upload's name.
        previous = existing_file(kb, article.id)  # before the index records the new path
        before = family_of(kb, article.id) if stored is not None else []
        if stored is not None and previous is not None:
            corpus_file.check_on_disk(stored, previous, kb.settings.corpus_dir)
        text, markup_dropped = corpus_file.file_text(article, stored, previous)
        # The index records the file it will read, so that the next save can tell a
        # change made on disk since (corpus_file.check_on_disk).
        article = dataclasses.replace(article, path=str(corpus_path(kb, article.id)),
                                      raw_sha256=raw_sha256(text))
        staged = _stage(kb, article.id, text)
        try:
            report = kb.ingest([article], progress=progress)
            unpublished = kb.unpublished  # read under the lock: the next write resets it
        except BaseException:
            staged.unlink(missing_ok=True)
            _tidy(staged.parent)
            raise
        kept_as = _publish(kb, staged, article.id, previous)
        _tidy(staged.parent)
    indexed = time.perf_counter()
    unlinked = None
    try:
        fam = detect_translations(kb, article.id) if detect_family else []
    except StorageError as exc:  # the article is saved: say what is missing, not "failed"
        fam, unlinked = [], exc.message
    linked = {str(f["article_id"]) for f in family_of(kb, article.id)}
    lost = ([f for f in before if f["article_id"] not in linked]
            if detect_family and unlinked is None else [])
    n_chunks = len(kb.store.article_chunks(article.id))
    done = time.perf_counter()
    return AddResult(
        article_id=article.id, title=article.title, lang=article.lang, kind=kind,
        lang_source=article.lang_source, lang_looks=lang_looks(article),
        encoded_removed=article.encoded_removed,
        encoding_repaired=article.encoding_repaired, lossy_words=article.lossy_words,
        mixed=mixed_languages(article), title_guessed=title_guessed(article, kept),
        chunks=n_chunks, text=article.text,
        saved=True, source=article.source,
        tags=article.tags, exists=exists, identical=identical, kept=kept, family=fam,
        lost_family=lost, version=version_of(article.content_sha256),
        unpublished=unpublished, unlinked=unlinked,
        previous_file=(str(kept_as.relative_to(kb.settings.corpus_dir))
                       if kept_as is not None else None),
        markup_dropped=markup_dropped and kept_as is not None,
        seconds=done - started, concepts=named_concepts(kb, article),
        was_lang=_was_lang(article, stored if replace else None),
        **_match_fields(match),
        stats={"index_s": round(indexed - started, 3), "families_s": round(done - indexed, 3),
               "chunks_embedded": report.chunks_embedded,
               "sentences_embedded": report.sentences_embedded},
    )


def edit(
    kb: KnowledgeBase,
    article_id: str,
    *,
    title: str | None = None,
    source: str | None = None,
    tags: Sequence[str] | None = None,
    lang: str | None = None,
    expect: str | None = None,
) -> AddResult:
    """Change an article's title, source, tags or language, and nothing else: its text
    is the one stored, so no upload is needed (the vectors are reused; a new language
    re-analyzes it). ``None`` leaves a field as it is; ``tags=[]`` clears the tags.
    ``expect``: as for :func:`add`."""
    if title is None and source is None and tags is None and lang is None:
        raise BadInputError("nothing to change: give a title, source, tags or lang")
    changes: dict[str, Any] = {}
    if title is not None:
        changes["title"] = one_line(title)
        if not changes["title"]:
            raise BadInputError("the title is empty")
    if source is not None:
        changes["source"] = one_line(source)
    if tags is not None:
        changes["tags"] = check_tags(unique_tags(tag_tuple(list(tags))), article_id)
    if lang is not None:
        changes.update(lang=language.check_lang(lang), lang_source="given")
    article_id = same_id(article_id)
    with kb.writing():
        if kb.store.article(article_id) is None:
            raise NotFoundError(f"no article with id {article_id!r}",
                                suggestions=kb.close_articles(article_id))
        article = replace(kb.stored_article(article_id), **changes)
        # Its text is not new: an identical text elsewhere was allowed in before. A new
        # title, source or tags keeps its passages and their ids (kb.core); a new
        # language analyzes them again under new ids, and the translation links (pairs
        # of passage ids) are found again.
        return add(kb, article, replace=True, refuse_duplicate=False, expect=expect)


def _stale(stored: Any, expect: str) -> bool:
    """Whether ``expect`` (an If-Match, ``*``: any) is not the stored article's version."""
    return expect not in ("*", version_of(stored["content_sha256"]))


def check_version(stored: Any, expect: str, *, removing: bool = False) -> None:
    """Refuse a write made from another version than the one stored (``*``: any)."""
    current = version_of(stored["content_sha256"])
    if _stale(stored, expect):
        then = ("nothing was removed. Read it again, and remove it if you still mean to"
                if removing else "nothing was saved, so that change is not undone. Read it "
                "again, merge your change into it, and save that")
        raise StaleError(
            f"the article {stored['id']!r} was changed since you read it (your version "
            f"{expect}, now {current}); {then} (If-Match: \"{current}\")",
            current=current, article_id=stored["id"])


def _same_details(article: Article, stored: Any) -> bool:
    """Whether ``article`` has the stored article's title, source, tags and language."""
    return (article.title == stored["title"] and article.source == (stored["source"] or "")
            and tuple(article.tags) == tuple(json.loads(stored["tags"]))
            and article.lang == stored["lang"])


def _was_lang(article: Article, stored: Any) -> str | None:
    """The replaced article's language, when the replacement's is another (QA: a PUT
    of German text over an English article said only that it kept the title)."""
    return stored["lang"] if stored is not None and stored["lang"] != article.lang else None


def _keep_metadata(article: Article, stored: Any) -> tuple[Article, tuple[str, ...]]:
    """A replacement with no title, source or tags of its own (``Article.unset``: none
    sent, none in a header, no ``# heading``) keeps the replaced article's: re-uploading a
    revised text must not wipe them.

    A title from the text's ``# heading`` counts as its own only when the heading is new:
    the one the replaced text opened with too says nothing about a title set since by
    PATCH or ``kb edit`` (QA17: a one-word fix of the text undid such a title)."""
    old = {"title": stored["title"], "source": stored["source"],
           "tags": tuple(json.loads(stored["tags"]))}
    same_heading = (article.title_from_heading and article.title != old["title"]
                    and opening_heading(stored["text"]) == article.title)
    kept = tuple(k for k in ("title", "source", "tags")
                 if (k in article.unset or (k == "title" and same_heading)) and old[k])
    return replace(article, **{k: old[k] for k in kept}), kept


PENDING = ".pending"  # staged corpus files, under the corpus directory (hidden: not read)
REMOVING = ".removing"  # in PENDING: a removal in progress, named by the article id


def _stage(kb: KnowledgeBase, article_id: str, text: str) -> Path:
    """Write the article's corpus file under corpus/.pending/; a failure is one
    StorageError and changes nothing."""
    return _write_pending(kb, corpus_path(kb, article_id).name, text,
                          "could not save the article in", "nothing was changed")


def _write_pending(kb: KnowledgeBase, name: str, text: str, failed: str, so: str) -> Path:
    """Write ``name`` under corpus/.pending/ atomically; an OS failure is one
    StorageError ("{failed} the corpus directory ...: reason; {so}")."""
    path = kb.settings.corpus_dir / PENDING / name
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
    except OSError as exc:
        _tidy(path.parent)
        raise StorageError(
            f"{failed} the corpus directory {kb.settings.corpus_dir}: "
            f"{exc.strerror or exc}; {so}"
        ) from exc
    return path


def _publish(kb: KnowledgeBase, staged: Path, article_id: str,
             previous: Path | None) -> Path | None:
    """Move a staged file into place (an atomic rename over the one it replaces), and
    keep the article's previous file in ``.removed/`` as ``<id>.<time>.replaced.<ext>``:
    moved there when it was another one (an original ``.txt``, ``.html`` or ``.pdf``),
    copied when the staged file takes its place (QA17: a replace kept no copy of the
    old file, so an overwrite could not be undone). Returns where it was kept."""
    target = corpus_path(kb, article_id)
    kept = None
    try:
        # The old file goes first: cut short between the two moves, the staged file is
        # still pending and the next write publishes it. The other order left two files
        # with one id (``x.txt`` and ``x.md``), which every later ingest refused.
        if previous is not None and previous.exists():
            kept = _set_aside(kb, previous, REPLACED, copy=previous.resolve() == target)
        staged.replace(target)
    except OSError as exc:
        raise StorageError(
            f"the article {article_id!r} is indexed and searchable, but its file could not "
            f"be moved into {kb.settings.corpus_dir}: {exc.strerror or exc}; it stays in "
            f"{staged.parent} and is moved at the next write"
        ) from exc
    return kept


REMOVED = ".removed"  # removed articles' and replaced files, under the corpus
REPLACED = ".replaced"  # the tag of a file a save replaced, in REMOVED


def _set_aside(kb: KnowledgeBase, path: Path, tag: str = "", *, copy: bool = False,
               stem: str | None = None) -> Path:
    """Move (``copy``: copy) a corpus file to ``.removed/<stem>.<time><tag><suffix>`` (a
    name never reused; ``stem``: the file's own by default), where nothing reads it but
    a person can get it back. A copy, not a hard link: an editor saving the corpus file
    in place would change it too."""
    moved = _removed_path(kb, stem or path.stem, tag + path.suffix)
    if copy:
        shutil.copy2(path, moved)
    else:
        path.replace(moved)
    return moved


def _removed_path(kb: KnowledgeBase, stem: str, ending: str) -> Path:
    """``.removed/<stem>.<time><ending>`` in the corpus directory: a name never reused."""
    trash = kb.settings.corpus_dir / REMOVED
    trash.mkdir(exist_ok=True)
    return trash / f"{stem}.{time.time_ns()}{ending}"


def _keep_stored(kb: KnowledgeBase, article_id: str) -> Path:
    """Write the article the index holds, as a corpus file would hold it, to
    ``.removed/<id>.<time>.md``."""
    kept = _removed_path(kb, article_id, ".md")
    atomic_write_text(kept, corpus_file.full_text(kb.stored_article(article_id)))
    return kept


def was_removed(kb: KnowledgeBase, article_id: str) -> bool:
    """Whether a removal set an article of this id aside: ``.removed/<id>.<time><suffix>``
    (a failed save's ``.failed.md`` does not count)."""
    moved = re.compile(re.escape(article_id) + r"\.\d+\.[^.]+")
    try:
        return any(moved.fullmatch(p.name) for p in
                   (kb.settings.corpus_dir / REMOVED).glob(f"{glob.escape(article_id)}.*"))
    except OSError:
        return False


def restorable(kb: KnowledgeBase, article_id: str) -> bool:
    """Whether :func:`restore` would put ``article_id`` back: it is not in the knowledge
    base, and a removal kept its file."""
    article_id = same_id(article_id)
    return kb.store.article(article_id) is None and _last_removed(kb, article_id) is not None


def _tidy(folder: Path) -> None:
    """Remove the staging folder when it is empty (another writer may be using it)."""
    try:
        folder.rmdir()
    except OSError:
        pass


def recover_pending(kb: KnowledgeBase, *, wait: bool = True) -> list[str]:
    """Finish writes that a crash interrupted: a staged file whose article the index
    holds with the same content is published (the index committed); any other is moved
    to corpus/.removed/ as ``<id>.<time>.failed.md`` (the index did not); a removal's
    note whose article the index still holds is carried out. Returns the ids published.

    It runs under the index's write lock, so a save still in progress in another
    process (which holds that lock) is never mistaken for an interrupted one. With
    ``wait=False`` (a server's start) it gives up at once when another writer is busy.
    """
    folder = kb.settings.corpus_dir / PENDING
    if not folder.is_dir():
        return []
    from filelock import Timeout

    try:
        with kb.writing(timeout=600 if wait else 0):
            return _recover(kb, folder)
    except Timeout:
        return []  # that writer recovers what is left when it starts its own save


def _recover(kb: KnowledgeBase, folder: Path) -> list[str]:
    for note in sorted(folder.glob(f"*{REMOVING}")):
        try:
            article_id = note.read_text(encoding="utf-8")
            if kb.store.article(article_id) is not None:
                _remove(kb, article_id)  # writes and then drops its own note
                log.warning("removed %s: its removal was interrupted", article_id)
            note.unlink(missing_ok=True)
        except (OSError, KBError) as exc:
            log.warning("could not finish the removal in %s: %s", note, exc)
    published = []
    for staged in sorted(folder.glob("*.md")):
        try:
            article = read_article(staged)
        except KBError:
            article = None
        row = kb.store.article(article.id) if article is not None else None
        try:
            if (article is not None and row is not None
                    and row["content_sha256"] == article.content_sha256):
                _publish(kb, staged, article.id, existing_file(kb, article.id))
                published.append(article.id)
                log.warning("published %s: its write was interrupted after indexing", staged.name)
            else:
                moved = _set_aside(kb, staged, ".failed")
                log.warning("moved %s to %s: its write was interrupted before indexing",
                            staged.name, moved.parent)
        except (OSError, StorageError) as exc:
            log.warning("could not recover %s: %s", staged, exc)
    _tidy(folder)
    return published


def remove(kb: KnowledgeBase, article_id: str, *, expect: str | None = None) -> None:
    """Remove from the index; the corpus file moves to corpus/.removed/ (recoverable).
    ``expect``: the version the remover read; another one is refused (StaleError).

    The file moves first: had the index gone first and the move failed, the article
    would have been out of the index but still in the corpus, back at the next ingest.
    If the index then refuses, the file is put back."""
    article_id = same_id(article_id)
    with kb.writing():
        recover_pending(kb)
        stored = kb.store.article(article_id)
        if expect is not None and stored is not None:
            check_version(stored, expect, removing=True)
        _remove(kb, article_id)


def _remove(kb: KnowledgeBase, article_id: str) -> None:
    if kb.store.article(article_id) is None:
        if was_removed(kb, article_id):  # a second DELETE: say what reading it says
            raise RemovedError(f"the article {article_id!r} was removed already (its file "
                               "is kept in corpus/.removed/)", article_id=article_id)
        # The ids like it, as `kb show` gives them (QA23b F16).
        raise NotFoundError(f"no article with id {article_id!r}",
                            suggestions=kb.close_articles(article_id))
    # A note of the removal in progress: killed between the file's move and the index
    # commit, the article would stay searchable with its file gone; the next write's
    # recover_pending() finishes what the note names.
    note = _write_pending(kb, f"{article_id}{REMOVING}", article_id, "could not write in",
                          "nothing was removed")
    path = existing_file(kb, article_id)
    moved = written = None
    try:
        try:
            if path is not None:
                # Kept under the article's id, which restore() looks for: a file's name
                # need not be its id (an "id:" header, "Tiếp thị MXH.txt"; QA18).
                moved = _set_aside(kb, path, stem=article_id)
            else:
                # Ingested from outside the corpus and gone there, or kept by a reindex:
                # the index holds its only copy, which a removal would destroy (QA18).
                written = _keep_stored(kb, article_id)
        except OSError as exc:
            what = f"move {path.name} to" if path is not None else f"keep {article_id} in"
            raise StorageError(
                f"could not {what} {kb.settings.corpus_dir / REMOVED}: "
                f"{exc.strerror or exc}; nothing was removed"
            ) from exc
        try:
            kb.remove(article_id)
        except BaseException:
            if moved is not None:
                moved.replace(path)  # type: ignore[arg-type]
            if written is not None:
                written.unlink(missing_ok=True)
            raise
    finally:
        note.unlink(missing_ok=True)
        _tidy(note.parent)


@dataclass(frozen=True)
class Restored:
    """A removed article put back: its id, the corpus file it is read from again, the
    file in .removed/ it came from, its passages and translations."""

    article_id: str
    file: str  # under the corpus directory
    removed_file: str  # under the corpus directory, as it was
    chunks: int
    family: list[dict[str, object]]

    def to_dict(self) -> dict[str, object]:
        return {"ok": True, "restored": self.article_id, "file": self.file,
                "removed_file": self.removed_file, "chunks": self.chunks,
                "family": self.family}


def restore(kb: KnowledgeBase, article_id: str) -> Restored:
    """Put the last removed file of ``article_id`` back into the corpus, as it was (its
    bytes: a hand-written Markdown file keeps its markup), and index it again. QA17: a
    removal could be undone only on the server's disk, with ``kb add`` on that file.

    Raises:
        ConflictError: the article is in the knowledge base, or a file of its name is
            in the corpus (``kb ingest`` reads that one).
        NotFoundError: no removed file of this id in ``.removed/``.
        BadInputError: the file does not read as an article (what ingest says).
    """
    article_id = same_id(article_id)
    root = kb.settings.corpus_dir
    with kb.writing():
        recover_pending(kb)
        if kb.store.article(article_id) is not None:
            raise ConflictError(f"the article {article_id!r} is in the knowledge base; "
                                "nothing to restore", article_id=article_id, reason="exists")
        removed = _last_removed(kb, article_id)
        if removed is None:
            raise NotFoundError(f"no removed article {article_id!r} in "
                                f"{root / REMOVED}: nothing to restore")
        target = root / f"{article_id}{removed.suffix}"
        if target.exists():
            raise ConflictError(f"{target.name} is in the corpus directory already; run "
                                "`kb ingest` to index it", article_id=article_id,
                                reason="exists")
        shutil.copy2(removed, target)  # removed from .removed/ once indexed
        try:
            report = kb.ingest_paths([target])
            if report.errors:
                raise BadInputError(f"{removed.name} cannot be restored: "
                                    f"{report.errors[0].message}")
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        removed.unlink(missing_ok=True)
    detect_translations(kb, article_id)  # its links went with it
    family = family_of(kb, article_id)
    return Restored(article_id, target.name, f"{REMOVED}/{removed.name}",
                    len(kb.store.article_chunks(article_id)), family)


def _last_removed(kb: KnowledgeBase, article_id: str) -> Path | None:
    """The newest file a removal set aside for ``article_id`` (not a replaced or failed
    save's copy)."""
    moved = re.compile(re.escape(article_id) + r"\.(\d+)(\.[^.]+)")
    found = []
    try:
        for path in (kb.settings.corpus_dir / REMOVED).glob(f"{glob.escape(article_id)}.*"):
            m = moved.fullmatch(path.name)
            if m and m.group(2) in ARTICLE_SUFFIXES + EXTRACTED_SUFFIXES:
                found.append((int(m.group(1)), path))
    except OSError:
        return None
    return max(found)[1] if found else None


def same_text_notes(kb: KnowledgeBase, article_ids: Sequence[str]) -> list[str]:
    """A note for each of ``article_ids`` whose text another article has word for word:
    a corpus file renamed and ingested again is a second article (QA17 F7: "1 new, 0
    errors", and both searched), and the first one's file is gone."""
    notes = []
    for aid in article_ids:
        row = kb.store.article(aid)
        if row is None:
            continue
        for other in kb.store.conn.execute(
                "SELECT id, path FROM articles WHERE text = ? AND id != ? ORDER BY id",
                (row["text"], aid)):
            gone = not other["path"] or not Path(other["path"]).is_file()
            notes.append(
                f"{aid} has the very text of {other['id']}, whose file "
                + (f"{other['path'] or '(none)'} is gone: a renamed file? `kb remove "
                   f"{other['id']}` leaves one" if gone else
                   f"{other['path']} is still there: two copies; search lists the second "
                   "under the first, `kb remove` one of them to keep one"))
    return notes


# -- translation families -------------------------------------------------------------
SentenceCache = dict[str, tuple[list[tuple[int, int]], np.ndarray]]
Centroids = tuple[list[str], list[str], np.ndarray]  # article ids, languages, unit vectors


def _sentence_vectors(
    kb: KnowledgeBase, article_id: str, cache: SentenceCache
) -> tuple[list[tuple[int, int]], np.ndarray]:
    """The article's sentence spans and vectors, as stored at ingest (no encoding)."""
    if article_id not in cache:
        chunks = kb.store.article_chunks(article_id)
        by_chunk = kb.store.chunk_sentences([c.id for c in chunks])
        rows = [s for c in chunks for s in by_chunk.get(c.id, [])]
        spans = [(a, b) for a, b, _ in rows]
        vecs = np.vstack([v for _, _, v in rows]) if rows else np.empty((0, kb.encoder.dim))
        cache[article_id] = (spans, vecs)
    return cache[article_id]


def _centroids(kb: KnowledgeBase) -> Centroids:
    """(article ids, languages, unit centroids): each article's mean chunk vector with
    its chunks' language means removed, from the stored per-article means (one read,
    not one query per article)."""
    _sign_old_articles(kb)
    vectors, _ = kb._ensure_fresh()
    dim = _dim(kb)
    ids, langs, means, counts = kb.store.chunk_means(dim)
    names = sorted({lang for c in counts for lang in c})
    zero = np.zeros(dim, np.float32)
    lang_means = np.array([vectors.means.get(lang, zero) for lang in names], np.float64)
    share = np.array([[c.get(lang, 0) for lang in names] for c in counts], np.float64)
    share /= np.maximum(share.sum(axis=1, keepdims=True), 1)
    centred = means - share @ lang_means.reshape(len(names), -1)
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    return ids, langs, centred / np.where(norms > 0, norms, 1.0)


def detect_translations(
    kb: KnowledgeBase, article_id: str, *, shortlist: int = 3,
    cache: SentenceCache | None = None, centroids: Centroids | None = None,
) -> list[dict[str, object]]:
    """Link ``article_id`` to the articles it translates (or that translate it).

    Candidates are the ``shortlist`` articles per other language whose language-centred
    centroids are closest; each is then aligned sentence by sentence. A caller linking
    many articles passes :func:`_centroids` once (links do not change them).
    """
    me = kb.store.article(article_id)
    if me is None:
        raise NotFoundError(f"no article with id {article_id!r}")
    ids, langs, vectors = centroids or _centroids(kb)
    mine = vectors[ids.index(article_id)]
    scores = (vectors @ mine).tolist()
    by_lang: dict[str, list[tuple[float, str]]] = {}
    for other, lang, score in zip(ids, langs, scores, strict=True):
        if lang != me["lang"] and other != article_id:
            by_lang.setdefault(lang, []).append((score, other))
    candidates = [aid for lst in by_lang.values()
                  for _, aid in sorted(lst, reverse=True)[:shortlist]]
    cache = {} if cache is None else cache
    spans_a, vec_a = _sentence_vectors(kb, article_id, cache)
    links = []
    found = []
    for other in candidates:
        spans_b, vec_b = _sentence_vectors(kb, other, cache)
        result = families.align(vec_a, vec_b)
        log.info("alignment %s ~ %s: %.2f (similarity %.3f)", article_id, other, result.score,
                 result.similarity)
        if result.is_translation or result.is_partial_translation:
            # A partial translation (QA20: three of five sections) joins the family:
            # its passages link to those they translate; the rest of the longer
            # article has no twin in it.
            pairs = _chunk_pairs(kb, article_id, other, spans_a, spans_b, result.pairs)
            links.append((other, "translation", round(result.score, 4), pairs))
            found.append({"article_id": other, "score": round(result.score, 4),
                          "partial": not result.is_translation})
    if _stored_links(kb, article_id) != _normalised(links):
        # Links are not part of the search indexes, so the write leaves the data version
        # alone: a bump would send every reader (and the next open) into a full rebuild.
        with kb.store.transaction(bump=False) as conn:
            kb.store.set_links(conn, article_id, links)
    return found


Link = tuple[str, str, float, frozenset[tuple[int, int]]]


def _normalised(links: list[tuple[str, str, float, list[list[int]]]]) -> set[Link]:
    return {(other, kind, round(score, 4), frozenset((int(a), int(b)) for a, b in pairs))
            for other, kind, score, pairs in links}


def _stored_links(kb: KnowledgeBase, article_id: str) -> set[Link]:
    """The article's links as :func:`detect_translations` would write them."""
    out = set()
    for row in kb.store.links(article_id):
        mine = row["a"] == article_id
        pairs = [(a, b) if mine else (b, a) for a, b in json.loads(row["pairs"] or "[]")]
        out.update(_normalised([(row["b"] if mine else row["a"], row["kind"], row["score"],
                                 pairs)]))
    return out


def _chunk_pairs(kb: KnowledgeBase, a: str, b: str, spans_a, spans_b, pairs) -> list[list[int]]:
    """Chunk-level alignment from sentence pairs: each chunk of A to every chunk of B that
    holds one of its aligned sentences. QA22 F4: a translation cut into passages
    elsewhere ("intro + cost" and "value + psychological prices" against "intro + cost +
    value" and "psychological prices") linked each passage only to the one holding most
    of its sentences, so the German passage on psychological prices had no translation
    and showed beside its English twin."""
    chunks_a = kb.store.article_chunks(a)
    chunks_b = kb.store.article_chunks(b)

    def chunk_of(chunks, pos):  # type: ignore[no-untyped-def]
        return next((c.id for c in chunks if c.start <= pos < c.end), None)

    votes: dict[int, dict[int, int]] = {}
    for i, j in pairs:
        ca, cb = chunk_of(chunks_a, spans_a[i][0]), chunk_of(chunks_b, spans_b[j][0])
        if ca is not None and cb is not None:
            votes.setdefault(ca, {}).setdefault(cb, 0)
            votes[ca][cb] += 1
    return [[ca, cb] for ca, v in votes.items() for cb in sorted(v)]


def family_of(kb: KnowledgeBase, article_id: str) -> list[dict[str, object]]:
    """The other articles in this article's translation family (connected links), in
    other languages than its own: an article of its language that a shared translation
    connects it to is another version of it, not a translation (QA24b F11: a 2027
    update and the article it updates each showed "also in: EN")."""
    seen = {article_id}
    frontier = [article_id]
    while frontier:
        cur = frontier.pop()
        for row in kb.store.links(cur):
            other = row["b"] if row["a"] == cur else row["a"]
            if other not in seen and row["kind"] == "translation":
                seen.add(other)
                frontier.append(other)
    mine = kb.store.article(article_id)
    own_lang = mine["lang"] if mine is not None else None
    out = []
    for aid in sorted(seen - {article_id}):
        row = kb.store.article(aid)
        if row is not None and row["lang"] != own_lang:
            out.append({"article_id": aid, "lang": row["lang"], "title": row["title"]})
    return out


def _reached(start: int, linked: dict[int, set[int]], article: dict[int, str],
             lang: dict[str, str]) -> frozenset[int]:
    """The passages ``start``'s translation links reach, directly or through another
    translation (en~de and de~ko make the Korean passage the English one's translation
    too), nearest first: never one of its own article's or language's (QA24b F11: a
    2027 version of an English article, linked to its Vietnamese translation, listed
    the old English version as its translation), and none of an article already
    reached nearer. A passage linked to two of another article's (cut into passages
    differently) reaches both, but not, through one of them, a third: "intro + cost"
    reached "value + psychological prices" of its own article through the German passage
    holding all three (QA22 F4), and would have reached the German passage on
    psychological prices through that."""
    own = article.get(start)
    own_lang = lang.get(own or "")
    nearer: set[str | None] = {own}
    out: set[int] = set()
    ring = {start}
    while ring:
        nxt = {o for c in ring for o in linked.get(c, ())
               if o not in out and o != start and article.get(o) not in nearer
               and lang.get(article.get(o) or "") != own_lang}
        nearer |= {article.get(o) for o in nxt}
        out |= nxt
        ring = nxt
    return frozenset(out)


def aligned_chunks(kb: KnowledgeBase, chunk_id: int) -> list[int]:
    """Chunks in other languages aligned with ``chunk_id`` through translation links."""
    return sorted(aligned_map(kb, [chunk_id]).get(chunk_id, ()))


def aligned_map(kb: KnowledgeBase, chunk_ids: Sequence[int]) -> dict[int, set[int]]:
    """For each of ``chunk_ids`` that has any, the chunks aligned with it through
    translation links: directly, or through another translation (QA20 F3: of a family
    in four languages linked en~de, de~ko and de~vi, the English passage listed only
    its German twin, so search showed it, its Korean and its Vietnamese translations
    as three hits)."""
    aligned = _alignment(kb)
    return {c: set(aligned[c]) for c in set(chunk_ids) if c in aligned}


# Per knowledge base, every passage's translations, built again after any commit (links
# are written without a version bump): one read of the links table instead of a query
# per search (0.3 ms for 30 candidates).
_ALIGNED: weakref.WeakKeyDictionary[KnowledgeBase, tuple[int, dict[int, frozenset[int]]]] = \
    weakref.WeakKeyDictionary()
_ALIGNED_LOCK = threading.Lock()


def _alignment(kb: KnowledgeBase) -> dict[int, frozenset[int]]:
    version = kb.store.data_version()
    with _ALIGNED_LOCK:
        known = _ALIGNED.get(kb)
    if known is not None and known[0] == version:
        return known[1]
    linked: dict[int, set[int]] = {}
    rows = kb.store.conn.execute("SELECT pairs FROM links WHERE kind = 'translation'")
    for r in rows:
        for ca, cb in json.loads(r["pairs"]) or []:  # JSON (Store.set_links), not YAML:
            # yaml.safe_load of the pairs cost a folded search 2.5 ms (stop 33, profiled)
            linked.setdefault(int(ca), set()).add(int(cb))
            linked.setdefault(int(cb), set()).add(int(ca))
    article = kb.store.chunk_articles(sorted(linked))
    lang = dict(kb.store.conn.execute("SELECT id, lang FROM articles").fetchall())
    closure = {start: _reached(start, linked, article, lang) for start in linked}
    with _ALIGNED_LOCK:
        _ALIGNED[kb] = (version, closure)
    return closure


def article_alignments(kb: KnowledgeBase, article_id: str) -> dict[int, list[int]]:
    """For each chunk of ``article_id``, the aligned chunks of its translations (one query
    for the whole article; see :func:`aligned_chunks` for a single chunk)."""
    own = {c.id for c in kb.store.article_chunks(article_id)}
    out: dict[int, set[int]] = {}
    for row in kb.store.links(article_id):
        if row["kind"] != "translation":
            continue
        for ca, cb in json.loads(row["pairs"]) or []:
            mine, other = (ca, cb) if ca in own else (cb, ca)
            if mine in own:
                out.setdefault(int(mine), set()).add(int(other))
    return {k: sorted(v) for k, v in out.items()}


def link_new(kb: KnowledgeBase, article_ids: list[str]) -> list[tuple[str, str, float]]:
    """Family detection for freshly ingested articles; returns the links found."""
    cache: SentenceCache = {}
    centroids = _centroids(kb)
    found: dict[frozenset[str], tuple[str, str, float]] = {}
    for aid in article_ids:
        for link in detect_translations(kb, aid, cache=cache, centroids=centroids):
            other = str(link["article_id"])
            found.setdefault(frozenset((aid, other)), (aid, other, float(link["score"])))  # type: ignore[arg-type]
    return list(found.values())


def detect_all(kb: KnowledgeBase) -> list[tuple[str, str, float]]:
    """Run family detection for every article (used after a bulk ingest)."""
    if not kb.store.articles():
        return []  # nothing to link (and no vectors to average: an empty KB crashed here)
    cache: SentenceCache = {}
    centroids = _centroids(kb)
    for row in kb.store.articles():
        detect_translations(kb, row["id"], cache=cache, centroids=centroids)
    pairs = set()
    for row in kb.store.links():
        a, b = sorted((row["a"], row["b"]))
        pairs.add((a, b, float(row["score"])))
    return sorted(pairs)
