"""An article's corpus file as a save writes it, and whether the file on disk is still
the one the index read.

QA17 (F3) found saves rewriting the corpus file from the index's cleaned text: a
paragraph added on disk but not yet ingested was erased by a later tag change, and a
hand-written Markdown file lost its link URLs, emphasis and image to a one-word edit.
So a save first checks that the file is what the index last read (:func:`check_on_disk`),
and a change of the metadata alone rewrites only the file's header, keeping its body
byte for byte (:func:`file_text`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from kb.articles import (
    ARTICLE_SUFFIXES,
    Article,
    decode_text,
    parse_article,
    parse_header,
    raw_sha256,
    read_article,
)
from kb.errors import ConflictError, KBError

# A front-matter block as kb.articles reads it, but on the raw text (CRLF or LF), so
# that the body after it can be kept exactly as it is.
_YAML_BLOCK = re.compile(r"\A---[ \t]*\r?\n(?:.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.S)
_TOML_BLOCK = re.compile(r"\A\+\+\+[ \t]*\r?\n(?:.*?\r?\n)?\+\+\+[ \t]*(?:\r?\n|\Z)", re.S)


def full_text(article: Article) -> str:
    """The file of an article from its cleaned text: a YAML header, then the text."""
    header: dict[str, Any] = {"title": article.title, "lang": article.lang}
    if article.source:
        header["source"] = article.source
    if article.tags:
        header["tags"] = list(article.tags)
    return _with_header(header, article.text + "\n")


def _with_header(header: dict[str, Any], body: str) -> str:
    return "---\n" + yaml.safe_dump(header, allow_unicode=True, sort_keys=False) + "---\n" + body


def check_on_disk(stored: Any, path: Path, corpus_dir: Path) -> None:
    """Refuse to overwrite an article's corpus file that changed on disk since the index
    read it: its raw text is not the one the index recorded, and it does not read as the
    article the index holds (an older index recorded an upload's hash, not the file's).

    Raises:
        ConflictError: the file changed (or no longer reads as an article); nothing to
            write until ``kb ingest`` took it in, or the change is undone.
    """
    why = ""
    try:
        data = path.read_bytes()
        if (path.suffix.lower() in ARTICLE_SUFFIXES
                and raw_sha256(decode_text(data, path.name)) == stored["raw_sha256"]):
            return
        if read_article(path).content_sha256 == stored["content_sha256"]:
            return
    except KBError as exc:  # a header broken by hand: what ingest would say
        why = f" (it does not read as an article now: {exc.message})"
    except OSError as exc:
        why = f" (it cannot be read: {exc.strerror or exc})"
    name = path.relative_to(corpus_dir) if path.is_relative_to(corpus_dir) else path
    raise ConflictError(
        f"the file {name} was changed on disk since it was indexed{why}; saving would "
        "overwrite those changes, so nothing was saved. Run `kb ingest` to index them "
        "first (or undo them), then save again", article_id=stored["id"], reason="disk")


def file_text(article: Article, stored: Any, previous: Path | None) -> tuple[str, bool]:
    """What to write as ``article``'s corpus file, replacing ``previous`` (the article's
    file now, checked by :func:`check_on_disk`), and whether it drops text or markup
    that the previous file held and the index does not (its links, emphasis, images:
    the previous file is kept in .removed/, and the save's notes say so).

    When only the metadata changes and the previous file is text or Markdown, only its
    header is written anew: the body stays byte for byte, markup and all."""
    if (stored is None or previous is None
            or previous.suffix.lower() not in ARTICLE_SUFFIXES):
        return full_text(article), False
    try:
        split = _split(decode_text(previous.read_bytes(), previous.name), previous.name)
    except (KBError, OSError):
        return full_text(article), False
    if split is None:
        return full_text(article), False
    meta, body = split
    if stored["text"] == article.text:
        kept = _header_only(article, meta, body, previous.name)
        if kept is not None:
            return kept, False
    return full_text(article), " ".join(body.split()) != " ".join(stored["text"].split())


def _split(raw: str, name: str) -> tuple[dict[str, Any], str] | None:
    """The raw text's front-matter header and the raw text after it (all of it without
    one); None when the header does not read, or is not where this module looks."""
    try:
        meta, _ = parse_header(raw.replace("\r\n", "\n").replace("\r", "\n"), name)
    except KBError:
        return None
    if not meta:
        return {}, raw
    block = _YAML_BLOCK.match(raw) or _TOML_BLOCK.match(raw)
    return (dict(meta), raw[block.end():]) if block is not None else None


def _header_only(article: Article, meta: dict[str, Any], body: str, name: str) -> str | None:
    """The file with a new header over the old body, the header's other keys (date,
    author …) kept; None when the result would not read back as ``article`` exactly."""
    header = {**meta, "title": article.title, "lang": article.lang}
    header.pop("language", None)  # "lang" says it now
    for key, value in (("source", article.source), ("tags", list(article.tags))):
        if value:
            header[key] = value
        else:
            header.pop(key, None)
    try:
        text = _with_header(header, body)
        again = parse_article(text, name=name)
    except (KBError, yaml.YAMLError):
        return None
    same = again.content_sha256 == article.content_sha256 and again.id == article.id
    return text if same else None
