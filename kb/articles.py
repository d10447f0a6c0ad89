"""Reading articles: files with an optional metadata header, validated and cleaned.

A corpus file is UTF-8 ``.txt`` or ``.md``. It may start with a YAML header::

    ---
    title: Upstream vs. Downstream Marketing
    lang: en            # optional: detected when absent
    source: https://example.com/post
    tags: [upstream, downstream]
    ---
    raw article text...

Without a header, the title is the first Markdown heading, else the first line
(when short), else the file name; the language is detected.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from kb import cleaning, language
from kb.chunking import HEADING_MARK
from kb.errors import ArticleError, BadInputError
from kb.extract import UNSUPPORTED, binary_problem
from kb.sentences import sentence_spans

ARTICLE_SUFFIXES = (".txt", ".md", ".markdown")
# Read through kb.extract, as uploads are: their markup is not article text.
EXTRACTED_SUFFIXES = (".html", ".htm", ".pdf", ".docx")
MAX_ARTICLE_BYTES = 10 * 1024 * 1024
# The block may be empty ("---\n---\n").
_HEADER = re.compile(r"\A---[ \t]*\n((?:.*?\n)?)---[ \t]*(?:\n|\Z)", re.S)
_TOML_HEADER = re.compile(r"\A\+\+\+[ \t]*\n((?:.*?\n)?)\+\+\+[ \t]*(?:\n|\Z)", re.S)  # Hugo
# Header keys are lower case; "Title: an essay" after a "---" rule is text, not a header.
_OPENED = re.compile(r"\A(---|\+\+\+)[ \t]*\n\s*(title|lang|source|tags|id)\s*[:=]")
_KEY_LINE = re.compile(r"([A-Za-z_][\w-]*)[ \t]*:[ \t]*(.*)")
# Keys that make a "---" block front matter: kb's own, and those other tools write (a
# header of only these is read and their values ignored). A block without any is text.
FRONT_MATTER_KEYS = frozenset({
    "title", "lang", "source", "tags", "id", "language", "date", "author", "authors",
    "description", "summary", "categories", "category", "keywords", "slug", "draft",
    "layout", "url", "published", "updated", "lastmod", "subtitle", "type", "status"})
_RULE = re.compile(r"[-+=*_~\s]+")  # a line of only these is a rule, never a title


@dataclass(frozen=True)
class Article:
    """An article ready to index: cleaned text plus metadata."""

    id: str
    title: str
    lang: str
    text: str  # cleaned; chunk offsets point into this
    source: str = ""
    tags: tuple[str, ...] = ()
    path: str = ""
    raw_sha256: str = ""
    meta: dict[str, str] = field(default_factory=dict)
    lang_source: str = "detected"  # or "given" (an argument or form field), or "header"
    # Metadata that nothing gave ("title", "source", "tags"): a replacement keeps the
    # replaced article's values for these rather than wipe them.
    unset: frozenset[str] = frozenset()
    # The title is the text's opening "# heading" and nothing else gave one: a replace
    # whose heading is the replaced text's keeps a title set since (kb.adding, QA17).
    title_from_heading: bool = False
    # Characters of encoded data (a pasted image or file) that cleaning removed.
    encoded_removed: int = 0
    # Mojibake that cleaning repaired, as an example ("QualitÃ¤t → Qualität"); "" if none.
    encoding_repaired: str = ""
    # Words with a "?" inside, letters an encoding conversion lost ("Ti?p"): can't mend.
    lossy_words: tuple[str, ...] = ()

    @property
    def content_sha256(self) -> str:
        """Hash of everything that shapes the index entry for this article."""
        h = hashlib.sha256()
        for part in (self.title, self.lang, self.source, ",".join(self.tags), self.text):
            h.update(part.encode())
            h.update(b"\0")
        return h.hexdigest()


VERSION_CHARS = 16


def version_of(content_sha256: str) -> str:
    """An article's version stamp (its ETag): the start of the hash of its text, title,
    language, source and tags. Any change a reader sees gives a new one; a save that
    changes nothing keeps it, so it does not make other open Edit pages stale."""
    return content_sha256[:VERSION_CHARS]


MAX_ID_BYTES = 200
_SET_ASIDE = re.compile(r"\.\d{19}(?:\.failed|\.replaced)?$")  # kb.adding's time stamp in .removed/


def article_id_from_name(name: str) -> str:
    """A stable, readable id from a file name: ``xquad-de-012.txt`` -> ``xquad-de-012``."""
    stem = Path(name).name
    for suffix in ARTICLE_SUFFIXES + EXTRACTED_SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    # A file set aside in corpus/.removed/ ("crlf.1796554144479405581.md") comes back
    # under its own id when it is added again (QA: it came back as
    # "crlf.1796554144479405581", and links to "crlf" stayed broken).
    stem = _SET_ASIDE.sub("", stem)
    stem = unicodedata.normalize("NFKC", stem).strip().lower()
    slug = re.sub(r"[^\w.-]+", "-", stem, flags=re.UNICODE).strip("-._")[:120]
    # File names are at most 255 bytes, and the id's corpus file adds its suffix (and,
    # set aside in .removed/, a time stamp): 78 Hangul syllables were saved but could
    # never be removed ("File name too long").
    slug = slug.encode()[:MAX_ID_BYTES].decode("utf-8", "ignore").strip("-._") or "article"
    # A corpus directory's README.md is its documentation, skipped by find_articles: an
    # article saved under that name would vanish from the next reindex.
    return f"{slug}-article" if slug == "readme" else slug


def same_id(article_id: str) -> str:
    """An id as typed or sent (a URL may carry NFD, as macOS file names do) in the form
    ids are stored in: NFKC, like :func:`article_id_from_name` makes them."""
    return unicodedata.normalize("NFKC", article_id)


def decode_text(data: bytes, source: str) -> str:
    """Decode UTF-8 article bytes, or raise a clear error for empty/binary/other encodings."""
    if not data.strip():
        raise ArticleError(source, "the file is empty")
    if len(data) > MAX_ARTICLE_BYTES:
        raise ArticleError(source, f"the file is larger than {MAX_ARTICLE_BYTES // 2**20} MB")
    if b"\0" in data[:8192] or data[:8].startswith((b"\x89PNG", b"%PDF", b"PK\x03\x04", b"GIF8")):
        raise ArticleError(source, binary_problem(data, source))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArticleError(
            source,
            f"the file is not valid UTF-8 (bad byte at offset {exc.start}); "
            "save it as UTF-8 and try again, or add it with `kb add` (or the Add page), "
            "which reads legacy encodings such as cp949 and latin-1",
        ) from None
    controls = sum(1 for c in text[:8192] if unicodedata.category(c) == "Cc" and c not in "\n\r\t")
    if controls > 0.01 * min(len(text), 8192):
        raise ArticleError(source, UNSUPPORTED)
    return text


def parse_header(text: str, source: str) -> tuple[dict[str, object], str]:
    """A YAML (``---``) or TOML (``+++``) front-matter header and the text after it."""
    if m := _HEADER.match(text):
        meta = _yaml_header(m.group(1), source)
    elif m := _TOML_HEADER.match(text):
        import tomllib

        try:
            meta = tomllib.loads(m.group(1))
        except tomllib.TOMLDecodeError as exc:
            raise ArticleError(source, f"the +++ header is not valid TOML: {exc}") from None
    elif opened := _OPENED.match(text):
        raise ArticleError(source, f"the metadata header that opens with {opened.group(1)} is "
                           f"never closed: end it with a {opened.group(1)} line")
    else:
        return {}, text
    if not isinstance(meta, dict):
        if m.re is _HEADER and not _names_a_key(m.group(1)):
            return {}, text  # "---" rules around a paragraph, not a header
        raise ArticleError(source, "the metadata header must be key: value lines")
    if m.re is _HEADER and meta and not any(str(k) in FRONT_MATTER_KEYS for k in meta):
        # Text between two "---" rules that YAML happens to read as keys ("Note: this
        # paragraph must stay."), not front matter: it stays text. QA: it was dropped,
        # and an Edit page save of an article that opened so deleted its first paragraph.
        return {}, text
    return meta, text[m.end() :]


def _names_a_key(block: str) -> bool:
    return any(m and m.group(1) in FRONT_MATTER_KEYS for m in map(_KEY_LINE.match,
                                                                block.splitlines()))


def _yaml_header(block: str, source: str) -> object:
    import yaml

    try:
        return yaml.safe_load(block) or {}
    except ValueError as exc:  # YAML that parses to an impossible value: "2024-02-30"
        raise ArticleError(source, f"the --- header has a value YAML cannot read: {exc}; "
                           "quote it") from None
    except yaml.YAMLError as exc:
        # Titles often hold a colon ("title: Pricing: the basics"), which YAML refuses
        # unquoted. Plain key: value lines are read as such: the first colon splits.
        plain = _plain_header(block)
        if plain is not None:
            return plain
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ArticleError(source, f"the metadata header is not valid YAML{where}: {problem}; "
                           "put a value that contains a colon in quotes") from None


def _plain_header(block: str) -> dict[str, object] | None:
    """``key: value`` lines (and ``- item`` lines under an empty value), split at the
    first colon; None when the block is not that simple."""
    out: dict[str, object] = {}
    key = None
    for line in block.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if s.startswith("- ") and key is not None and isinstance(out.get(key), list):
            out[key].append(_plain_value(s[2:]))  # type: ignore[union-attr]
            continue
        m = _KEY_LINE.fullmatch(s)
        if m is None:
            return None
        key = m.group(1)
        out[key] = _plain_value(m.group(2)) if m.group(2).strip() else []
    return out or None


def _plain_value(value: str) -> object:
    v = value.strip()
    if not (v[:1] in "'\"" and v[-1:] == v[:1]):
        v = re.sub(r"\s+#.*$", "", v)  # a YAML comment
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
        return v[1:-1]
    if v.startswith("[") and v.endswith("]"):
        return [t.strip().strip("'\"") for t in v[1:-1].split(",") if t.strip()]
    return v


_TITLE_WORDS = 80  # characters of a title made from the text's first words


def _opens_with_heading(body: str) -> bool:
    first = next((s for s in (ln.strip() for ln in body.splitlines())
                  if s and not _RULE.fullmatch(s)), "")
    return first.startswith("#")


def opening_heading(text: str) -> str | None:
    """The title an opening ``# heading`` gives a text; None when it opens otherwise."""
    return _guess_title(text, "") if _opens_with_heading(text) else None


def title_is_opening_words(title: str, text: str) -> bool:
    """Whether ``title`` is the opening words of ``text``'s first paragraph, as
    :func:`_guess_title` makes one for pasted text with no heading, rather than a heading
    or a title of its own. QA22 F1: a three-sentence note's first sentence was its
    title, so it counted as the article about cross-selling and came first for "What
    is cross-selling?" in every language."""
    first = next((s for s in (ln.strip() for ln in text.splitlines())
                  if s and not _RULE.fullmatch(s)), "")
    if first.startswith("#"):
        return False
    first, words = " ".join(first.split()), " ".join(title.split())
    opening = words.removesuffix("…").rstrip(" ,;:")
    if not opening or first == words or not first.startswith(opening):
        return False
    # Cut with "…" at a space, or the whole first sentence: the text goes on after a
    # space ("Cross-Selling im B2B" is a title of its own for "Cross-Selling im
    # B2B-Vertrieb …").
    return words.endswith("…") or first[len(opening)].isspace()


def _guess_title(body: str, fallback: str | None) -> str:
    """The first heading, else a short first line, else ``fallback`` (the file name) or,
    when there is none (pasted text), the first line's opening words."""
    for line in body.splitlines():
        s = line.strip()
        if not s or _RULE.fullmatch(s):
            continue
        if s.startswith("#"):
            return s.lstrip("#").strip()[:200]
        spans = sentence_spans(s)
        sentence = s[spans[0][0] : spans[0][1]] if spans else s
        # A short line is a title, unless pasted text opens with a paragraph of several
        # sentences: "Brand messaging must be consistent. A consistent message builds
        # trust." made a two-sentence title and an id to match.
        if len(s) <= 120 and (fallback is not None or len(spans) < 2):
            return s
        if fallback is not None:
            return fallback
        if len(sentence) <= _TITLE_WORDS:
            return sentence
        cut = sentence[: _TITLE_WORDS + 1].rsplit(" ", 1)[0] if " " in sentence else ""
        return (cut or sentence[:_TITLE_WORDS]).rstrip(" ,;:") + "…"
    return fallback or "untitled"


MAX_TAGS = 20  # per uploaded article (web, API, kb add), at most MAX_TAG_CHARS each;
MAX_TAG_CHARS = 60  # files already in a corpus are read as they are


# Embeddings, overrides, isolates and direction marks (U+202A-202E, U+2066-2069,
# U+200E, U+200F); kb.cleaning drops them from the text too.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f]")


def check_tags(tags: tuple[str, ...], name: str) -> tuple[str, ...]:
    if len(tags) > MAX_TAGS or any(len(t) > MAX_TAG_CHARS for t in tags):
        raise ArticleError(
            name, f"at most {MAX_TAGS} tags of at most {MAX_TAG_CHARS} characters each")
    return tags


def one_line(value: str) -> str:
    """A title, source or tag as one line: control characters dropped (QA saved a bell
    and a newline in a title, which the API then returned), whitespace collapsed, and
    no bidirectional controls (QA23a F8: "Invoice \u202egpj.exe\u202c pricing" showed
    as "Invoice exe.jpg pricing"; none of the four languages needs them)."""
    return " ".join("".join(" " if unicodedata.category(c) == "Cc" else c
                            for c in BIDI_CONTROLS.sub("", value)).split())


def tag_tuple(value: object) -> tuple[str, ...]:
    """Tags from a header value, a list or a comma-separated string, trimmed. A tag
    never holds a comma, whichever way it came: the Edit page and `--tags` write tags
    comma-separated, and "SaaS, B2B" sent as one tag in a JSON list became two on the
    next save from the Edit page (QA)."""
    if value is None:
        return ()
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, list):
        items = [part for v in value for part in str(v).split(",")]
    else:
        items = [str(value)]
    return tuple(t for t in map(one_line, items) if t)


def unique_tags(tags: tuple[str, ...]) -> tuple[str, ...]:
    """Tags once each, first spelling kept: the tag filter ignores case, so "CRM" and
    "crm" are one tag."""
    seen: dict[str, str] = {}
    for t in tags:
        seen.setdefault(t.casefold(), t)
    return tuple(seen.values())


MIN_LETTERS = 20  # an article's least text, in Latin letters


def _letters(text: str) -> int:
    """How much text ``text`` holds, in Latin letters: a Hangul syllable (a block of two
    or three letters) counts as 2. Counted one each, a full Korean sentence was "almost
    no text" where a four-word English note passed (QA13: "업셀링은 첫 성공 직후가 가장
    좋다.", 14 syllables)."""
    return sum(2 if "\uac00" <= c <= "\ud7a3" else 1 for c in text if c.isalpha())


def raw_sha256(raw: str) -> str:
    """The hash of a file's decoded text that the index records (``Article.raw_sha256``):
    a save compares the file on disk with it (kb.corpus_file)."""
    return hashlib.sha256(raw.encode()).hexdigest()


def parse_article(
    data: bytes | str,
    *,
    name: str,
    article_id: str | None = None,
    title: str | None = None,
    lang: str | None = None,
    source: str | None = None,
    tags: tuple[str, ...] | None = None,
    pasted: bool = False,
) -> Article:
    """Turn raw file content into a cleaned, language-tagged Article.

    ``name`` is the file name (used for the id and in error messages); explicit
    arguments override the header. ``pasted``: there is no real file name, so an
    untitled article is titled by its first words rather than by ``name``.
    """
    raw = data if isinstance(data, str) else decode_text(data, name)
    raw_sha = raw_sha256(raw)
    raw, repaired = cleaning.repair_encoding(raw)  # the header's title is mended too
    # Windows files and browser form fields end lines with CRLF, old Mac files with CR
    # alone; the header has to match (a CR-only header was taken for text).
    meta, body = parse_header(raw.replace("\r\n", "\n").replace("\r", "\n"), name)
    text, encoded = cleaning.clean_counting(body)
    if not text.strip():
        raise ArticleError(name, "no article text is left after cleaning" + (
            f" (it held {encoded:,} characters of encoded data, such as a pasted image)"
            if encoded else ""))
    if _letters(text) < MIN_LETTERS:
        raise ArticleError(name, f"the article has almost no text (at least {MIN_LETTERS} "
                           "letters are needed; a Hangul syllable counts as 2)")
    # Headings alone are an outline, not an article (QA: "# Brand Positioning", "##
    # Intro", "## Next steps" was saved and indexed as one passage).
    if _letters("\n".join(line for line in text.splitlines()
                          if not HEADING_MARK.match(line))) < MIN_LETTERS:
        raise ArticleError(name, "the article has headings but almost no text under them")
    given_lang = lang or (str(meta["lang"]) if meta.get("lang") else None)
    lang_source = "given" if lang else "header" if given_lang else "detected"
    if given_lang and not lang:
        try:
            lang_code = language.check_lang(given_lang)
        except BadInputError as exc:  # say where it came from (QA: "lang: german")
            raise ArticleError(name, f"its header's lang: {exc.message}") from None
    elif given_lang:
        lang_code = language.check_lang(given_lang)
    else:
        detected = language.detect(text)
        if detected is None:
            other = language.unsupported(text)
            if other is not None:
                raise ArticleError(
                    name,
                    f"the text is in {other}, not a supported language: kb searches "
                    "Korean, English, German and Vietnamese articles (if it is mostly one "
                    "of these, give its language: 'lang:' in the header, --lang, or the "
                    "lang field)",
                )
            raise ArticleError(
                name,
                "could not detect a supported language (ko, en, de, vi); "
                "set 'lang:' in the header, or give the language (--lang, or the lang field)",
            )
        lang_code = detected
    for key in ("title", "source", "id"):
        if isinstance(meta.get(key), (list, dict)):
            # A YAML list or mapping ("source: [a, b]", an anchor to one) was saved as its
            # Python text, "['a', 'b']" (QA10).
            raise ArticleError(name, f"the header's {key} must be one line of text, not a "
                                     f"{'list' if isinstance(meta[key], list) else 'mapping'}")
    if not article_id and meta.get("id") and re.search(r"[/\\]", str(meta["id"])):
        # Cut down to its last part ("../../etc/passwd" to "passwd"), a header's id
        # would save under one nobody asked for (QA); an id given as a field is refused.
        raise ArticleError(name, f"the header's id {str(meta['id'])!r} is not usable: use "
                                 "letters, digits, '-', '_' or '.', and no '/' or '\\'")
    aid = article_id or (str(meta["id"]) if meta.get("id") else article_id_from_name(name))
    # Given: an argument (even empty: sent to clear it), a header key, or for the title
    # the text's own "# heading"; a title guessed from the first line or the file name
    # is not (a replacement keeps the replaced article's instead, see kb.adding).
    given = {"title": title is not None or meta.get("title") or _opens_with_heading(text),
             "source": source is not None or "source" in meta,
             "tags": tags is not None or "tags" in meta}
    return Article(
        id=article_id_from_name(aid),
        title=one_line(title or str(meta.get("title") or "")
                       or _guess_title(text, None if pasted else article_id_from_name(aid))),
        lang=lang_code,
        text=text,
        source=one_line(source or str(meta.get("source") or "")),
        tags=unique_tags(tag_tuple(list(tags) if tags is not None else meta.get("tags"))),
        path=name,
        raw_sha256=raw_sha,
        lang_source=lang_source,
        unset=frozenset(k for k, v in given.items() if not v),
        title_from_heading=title is None and not meta.get("title") and _opens_with_heading(text),
        encoded_removed=encoded,
        encoding_repaired=repaired,
        lossy_words=tuple(cleaning.lossy_words(text)),
    )


def read_article(path: Path) -> Article:
    """Read and parse one article file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ArticleError(str(path), f"cannot read the file: {exc.strerror}") from None
    if path.suffix.lower() in EXTRACTED_SUFFIXES:
        from kb.extract import extract

        got = extract(data, str(path))
        return parse_article(got.text, name=str(path), title=got.title or None)
    return parse_article(data, name=str(path))


def find_articles(paths: list[Path]) -> tuple[list[Path], list[ArticleError]]:
    """Expand files and directories into article files; report paths with none."""
    files: list[Path] = []
    errors: list[ArticleError] = []
    for p in paths:
        if p.is_dir():
            found = sorted(
                f
                for f in p.rglob("*")
                if f.is_file()
                and f.suffix.lower() in ARTICLE_SUFFIXES + EXTRACTED_SUFFIXES
                and not any(part.startswith(".") for part in f.relative_to(p).parts)
                and f.name.lower() != "readme.md"
            )
            # A page kept beside its article ("x.html" next to "x.md") is its source,
            # not a second article of the same id: the text file wins.
            texts = {(f.parent, article_id_from_name(f.name)) for f in found
                     if f.suffix.lower() in ARTICLE_SUFFIXES}
            found = [f for f in found if f.suffix.lower() in ARTICLE_SUFFIXES
                     or (f.parent, article_id_from_name(f.name)) not in texts]
            if not found:
                errors.append(ArticleError(
                    str(p), "the directory has no articles (.txt, .md, .html, .pdf, .docx)"))
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            errors.append(ArticleError(str(p), "no such file or directory"))
    return files, errors
