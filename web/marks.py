"""What a link into an article marks, after the article's text may have changed since.

A link names its passage (``p``, a chunk id) and the spans to mark: ``hp``, offsets
into the passage (links made now), or ``hl``, offsets into the article (older links).
A passage keeps its id while its text stays (kb.store.Store.put_article), so passage
offsets hold however the text around it changes; article offsets do not once a
paragraph is added above it. When the passage is gone, its quoted text is looked for
in the article as it is now (QA17: 9 of 10 broken citation links quoted sentences still
there word for word), and the page says that the article changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kb.sentences import BULLET, sentence_spans

if TYPE_CHECKING:
    from kb.core import KnowledgeBase

MAX_HIGHLIGHTS = 8

STALE = ("The link you followed marked a passage this article no longer has (its text has "
         "changed since the link was made), so nothing is marked.")
MOVED = ("This article has changed since the link was made; the sentences it marked are "
         "marked where they stand now.")


@dataclass(frozen=True)
class Marks:
    spans: list[tuple[int, int]]
    stale: str | None = None  # nothing marked: the passage and its text are gone
    moved: str | None = None  # marked where the quoted text now stands


def parse_spans(hl: str | None, length: int) -> list[tuple[int, int]]:
    """``"120-180"`` or ``"120-180,200-260"`` to spans clamped to ``length``, in order
    and without overlaps; anything malformed gives no highlight at all."""
    items = [x for x in (hl or "").split(",") if x]  # a trailing comma is harmless
    if len(items) > MAX_HIGHLIGHTS or len(hl or "") > 20 * MAX_HIGHLIGHTS:
        return []
    spans = []
    for item in items:
        m = re.fullmatch(r"([0-9]{1,9})-([0-9]{1,9})", item)
        if m is None:
            return []
        a, b = int(m.group(1)), int(m.group(2))
        a, b = max(0, min(a, length)), max(0, min(b, length))
        if a < b:
            spans.append((a, b))
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def link_marks(kb: KnowledgeBase, article_id: str, text: str, *, hl: str | None,
               hp: str | None, passage: int | None) -> Marks:
    """Where the marks of a link to ``article_id`` (its text now: ``text``) are."""
    if passage is None:  # no passage named: the offsets as they are
        return Marks(parse_spans(hl, len(text)))
    versions = kb.store.passage_versions(passage, article_id)
    row = kb.store.chunks([passage]).get(passage)
    alive = row is not None and row.article_id == article_id  # then versions[0] is it
    found = _quoted(versions, hl=hl, hp=hp)
    if alive:
        start = versions[0][0]
        if found is not None:  # the same text: its offsets from where it starts now
            return Marks([(start + a, start + b) for a, b in found[1]])
        return Marks(parse_spans(hl, len(text)))  # a link made by hand: as it says
    if found is None or not found[1]:
        return Marks([], stale=STALE)
    spans = _find(text, [found[0][a:b] for a, b in found[1]])
    return Marks(spans, moved=MOVED) if spans else Marks([], stale=STALE)


def _quoted(versions: list[tuple[int, str]], *, hl: str | None,
            hp: str | None) -> tuple[str, list[tuple[int, int]]] | None:
    """(passage text, marked spans within it) of the link, or None when its offsets
    fit no place the passage has been."""
    if hp is not None:
        return (versions[0][1], parse_spans(hp, len(versions[0][1]))) if versions else None
    for start, passage in versions:
        spans = [(a - start, b - start) for a, b in parse_spans(hl, 1 << 40)]
        if spans and all(0 <= a < b <= len(passage) for a, b in spans) and _aligned(
                passage, spans):
            return passage, spans
    return None


def _aligned(passage: str, spans: list[tuple[int, int]]) -> bool:
    """Whether each span runs from a sentence's start to a sentence's end (or is the
    whole passage), as every link the app makes does: offsets made when the passage
    stood elsewhere fall inside sentences."""
    sentences = sentence_spans(passage)
    starts = {0, *(a for a, _ in sentences)}
    starts |= {a + m.end() for a, b in sentences if (m := BULLET.match(passage[a:b]))}
    ends = {len(passage), *(b for _, b in sentences)}
    return all(a in starts and b in ends for a, b in spans)


def _find(text: str, quotes: list[str]) -> list[tuple[int, int]]:
    """Where each quote stands in ``text``, in order (the first after the one before,
    else anywhere); no spans unless every quote is found."""
    spans, pos = [], 0
    for quote in quotes:
        at = text.find(quote, pos)
        if at < 0:
            at = text.find(quote)
        if at < 0 or not quote.strip():
            return []
        spans.append((at, at + len(quote)))
        pos = at + len(quote)
    return sorted(spans)
