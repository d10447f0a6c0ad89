"""An article's outline: its numbered and Markdown headings, with their depth.

Answers use it to follow a section to its subsections: the passage titled "6. 성공
사례 분석: 크로스셀링으로 매출을 극대화한 기업들" holds only a lead-in, and the
companies are the subsections "6.1. 아마존: …" to "6.4. 지마켓: …" after it.
Headings without a number or "#" marks have no depth, so no subsections.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from kb import chunking

_NUMBER = re.compile(r"\s*(\d{1,2}(?:\.\d{1,2})*)\.?\s")
_HASHES = re.compile(r"\s*(#{1,6})\s")


@dataclass(frozen=True)
class Heading:
    """A heading line, in absolute offsets into its article's text."""

    start: int
    end: int
    text: str  # the words (chunking.heading_text)
    number: tuple[int, ...]  # (6, 1) for "6.1. …"; () when not numbered
    depth: int  # 1 for "6." or "#", 2 for "6.1." or "##"; 0 when it has none


def _depth(line: str) -> tuple[tuple[int, ...], int]:
    m = _NUMBER.match(line)
    if m:
        number = tuple(int(x) for x in m.group(1).split("."))
        return number, len(number)
    m = _HASHES.match(line)
    return (), len(m.group(1)) if m else 0


def headings(passages: Iterable[tuple[int, str]]) -> list[Heading]:
    """The headings of an article's passages, given as (start offset, text) pairs, in
    text order."""
    out: dict[int, Heading] = {}
    for offset, text in passages:
        for b in chunking.blocks(text):
            if b.kind != "heading":
                continue
            line = text[b.start : b.end]
            number, depth = _depth(line)
            out[offset + b.start] = Heading(offset + b.start, offset + b.end,
                                            chunking.heading_text(line), number, depth)
    return [out[k] for k in sorted(out)]


def subsections(outline: list[Heading], parent: Heading) -> list[Heading]:
    """The headings right under ``parent``: one level deeper, up to the next heading at
    its level or above; numbered ones must continue its number ("6.1." under "6.")."""
    if not parent.depth:
        return []
    out = []
    for h in outline:
        if h.start <= parent.start:
            continue
        if h.depth and h.depth <= parent.depth:
            break
        if h.depth != parent.depth + 1:
            continue
        if parent.number and h.number[: len(parent.number)] != parent.number:
            break
        out.append(h)
    return out
