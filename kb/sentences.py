"""Sentence boundaries for ko/en/de/vi, as character spans.

A boundary is a line break, or sentence-final punctuation (. ! ? … 。) followed by
whitespace, unless the word before the period is a known abbreviation (German
"z.B.", "bzw.", English "e.g.", "vs.", Vietnamese "v.v."), a single letter (initials),
or a number ("2.3. Heading" and "3.5" stay whole). Korean needs no special case: its
sentences end in "…니다." / "…요." followed by a space, like the others.
"""

from __future__ import annotations

import re

# A list item's marker at the start of a line ("- ", "• ").
BULLET = re.compile(r"^[-*•·▪–]\s+")

_ABBREVIATIONS = {
    # English
    "e.g",
    "i.e",
    "etc",
    "vs",
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "inc",
    "ltd",
    "co",
    "corp",
    "jr",
    "sr",
    "st",
    "no",
    "fig",
    "approx",
    "dept",
    "est",
    "u.s",
    "u.k",
    "a.m",
    "p.m",
    # German
    "z.b",
    "bzw",
    "usw",
    "ca",
    "vgl",
    "d.h",
    "u.a",
    "s.o",
    "s.u",
    "sog",
    "ggf",
    "evtl",
    "inkl",
    "bspw",
    "nr",
    "abs",
    "str",
    "jh",
    "mio",
    "mrd",
    "zzgl",
    "u.ä",
    "o.ä",
    "dgl",
    "z.t",
    "i.d.r",
    "allg",
    "bzgl",
    "gem",
    "max",
    "min",
    # Vietnamese
    "v.v",
    "tp",
    "th.s",
    "ts",
    "pgs",
    "gs",
}

# What may stand before a heading's or list's number on its line: nothing, or "#" marks.
_LINE_HEAD = re.compile(r"[ \t]*(?:#{1,6}[ \t]+)?")

_END = re.compile(r"[.!?…。！？]+[\"'”’)\]]*(?=\s)")


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the period at ``dot`` ends an abbreviation or a number, not a sentence."""
    if text[dot] != ".":
        return False
    start = dot
    while start > 0 and not text[start - 1].isspace() and text[start - 1] not in "([\"'“‘":
        start -= 1
    word = text[start:dot].casefold()
    if not word:
        return False
    if word in _ABBREVIATIONS or word.rstrip(".") in _ABBREVIATIONS:
        return True
    if len(word) == 1 and word.isalpha():
        return True
    # "2.3." or "1." at the start of a line are heading/list numbers, not sentence ends;
    # so after a Markdown heading's marks ("## 3. Erfolg messen": QA20 got "## 3." and
    # "Erfolg messen" as two sentences, and showed them as search hits' best sentence).
    line = text[text.rfind("\n", 0, start) + 1 : start]
    return bool(re.fullmatch(r"\d+(\.\d+)*", word)) and bool(_LINE_HEAD.fullmatch(line))


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Return (start, end) spans of the sentences in ``text[start:end]``, trimmed of spaces."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text[start:end]):
        lo, hi = start + line.start(), start + line.end()
        cut = lo
        for m in _END.finditer(text, lo, hi):
            if _is_abbreviation(text, m.start()):
                continue
            spans.append((cut, m.end()))
            cut = m.end()
        spans.append((cut, hi))
    out = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a < b:
            out.append((a, b))
    return out


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` as strings."""
    return [text[a:b] for a, b in sentence_spans(text)]
