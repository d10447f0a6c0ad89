"""Chunking: split cleaned article text into structure-aware passages with exact offsets.

The text is first read as blocks (one per line group): headings, paragraphs, lists
(with the lead-in line that introduces them) and pipe tables (with their header row).
Headings start sections. Blocks are then packed into chunks of about
``target``-``max_tokens`` model tokens without crossing a heading, unless a chunk would
otherwise stay below ``min_tokens``. A block that alone exceeds the budget is split at
sentence boundaries (paragraphs), between items (lists) or between rows (tables), then
between words, and a word longer than a chunk (text pasted with no spaces) is cut.

Every chunk is an exact slice: ``text[chunk.start:chunk.end] == chunk.text``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from kb.sentences import sentence_spans

# 2: a short title ending in ":" over a paragraph is a heading; a heading never ends a
# chunk. 3: a word longer than a chunk is cut (it was one chunk, however long).
# 4: a two-column table without outer pipes ("Name | Value" over "---|---") is a table
# (its rows were headings). 5: a Markdown heading's number stays in its sentence ("## 3.
# Erfolg messen" was "## 3." and "Erfolg messen"; the stored sentence spans change).
# 6: a Markdown code fence is text: its lines are no headings, list items or table rows.
CHUNKER_VERSION = 6

TokenCounter = Callable[[str], int]


@dataclass(frozen=True)
class Block:
    kind: str  # "heading" | "para" | "list" | "table"
    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    start: int
    end: int
    text: str
    section: str


_LIST_ITEM = re.compile(r"^\s*(?:[-*•·▪–]\s+|\d{1,2}[.)]\s+(?=\S))")
_NUMBERED_HEADING = re.compile(r"^\s*\d{1,2}(?:\.\d{1,2})*\.?\s+\S")
_MD_HEADING = re.compile(r"^\s*#{1,6}\s+\S")
# A Markdown heading's marker at the start of a line ("## Pricing"): passages keep it
# (their text is an exact slice of the article); cards, snippets and the CLI show the
# words (unmark).
HEADING_MARK = re.compile(r"(?m)^([ \t]*)#{1,6}[ \t]+")


def unmark(text: str) -> str:
    """``text`` without its Markdown headings' "#" markers."""
    return HEADING_MARK.sub(r"\1", text)
_SENTENCE_END = re.compile(r"[.!,;:…。]\s*$")


def heading_text(line: str) -> str:
    """A heading line's words, without Markdown's "#" marks (a chunk's ``section``)."""
    return line.strip().lstrip("#").strip().removesuffix(":").rstrip()


def section_at(text: str, first: str, local: int) -> str:
    """The heading the text at ``local`` (an offset into a passage's ``text``) sits
    under; ``first``: the one the passage starts in (its chunk's ``section``)."""
    section = first
    for b in blocks(text):
        if b.start >= local:
            break
        if b.kind == "heading":
            section = heading_text(text[b.start : b.end])
    return section


def sections(text: str, first: str) -> list[str]:
    """The sections a passage runs through, in order: ``first`` (the one it starts
    in, a chunk's ``section``), then each heading inside it. A passage that starts under
    "상류 마케팅" and is mostly about "다운스트림 마케팅" is in both (QA)."""
    names = [first] if first else []
    for b in blocks(text):
        if b.kind == "heading":
            name = heading_text(text[b.start : b.end])
            if name and (not names or name != names[-1]):
                names.append(name)
    return names


def is_list_item(line: str) -> bool:
    """A bulleted or numbered list line ("- a", "• a", "2) a")."""
    return bool(_LIST_ITEM.match(line))


def _is_table_row(line: str) -> bool:
    return line.count("|") >= 2 or _is_rule(line)


def _is_rule(line: str) -> bool:
    return bool(re.fullmatch(r"\s*\|?\s*:?-{3,}.*", line))


def _table_rows(lines: list[str]) -> list[bool]:
    """Which lines are table rows: two pipes or a "---|---" rule, and also a line with
    one pipe in a run of such lines that holds a rule (a two-column table written
    without outer pipes: "Name | Value")."""
    table = [_is_table_row(line) for line in lines]
    i = 0
    while i < len(lines):
        if "|" not in lines[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(lines) and "|" in lines[j + 1]:
            j += 1
        if any(_is_rule(line) and "|" in line for line in lines[i : j + 1]):
            table[i : j + 1] = [True] * (j + 1 - i)
        i = j + 1
    return table


def table_rows(text: str, block: Block) -> tuple[tuple[int, int] | None, list[tuple[int, int]]]:
    """A table block's header row and its data rows, as spans of ``text``. The header is
    the line before the "---|---" rule; in a table written without a rule ("지표 | 의미 |
    계산 방법" over its rows, as pasted from a spreadsheet), its first line, when the
    table does not open ``text``. A table that opens ``text`` without a rule has no
    header here: ``text`` may be a passage that starts partway down it (QA24b F1: such a
    table's rows were never quoted)."""
    lines = [(block.start + m.start(), block.start + m.end())
             for m in re.finditer(r"[^\n]+", text[block.start : block.end])]
    lines = [(a, b) for a, b in lines if text[a:b].strip()]
    if len(lines) >= 2 and _is_rule(text[lines[1][0] : lines[1][1]]):
        return lines[0], [x for x in lines[2:] if not _is_rule(text[x[0] : x[1]])]
    data = [x for x in lines if not _is_rule(text[x[0] : x[1]])]
    if len(data) >= 2 and text[: block.start].strip() and not any(
            _is_rule(text[a:b]) for a, b in lines):
        return data[0], data[1:]
    return None, data


def _is_heading(line: str, next_line: str | None) -> bool:
    """A heading is short, is not a list item or table row, and is followed by content.

    Numbered lines ("2.3. Title", "1. Title") are headings unless the next line is
    numbered too, which makes them a numbered list.
    """
    stripped = line.strip()
    if _MD_HEADING.match(stripped):
        return True
    if next_line is None or len(stripped) > 100 or _is_table_row(stripped):
        return False
    if _NUMBERED_HEADING.match(stripped):
        if _SENTENCE_END.search(stripped):
            return False
        return not re.match(r"^\s*\d{1,2}[.)]\s", next_line) or bool(
            re.match(r"^\s*\d{1,2}\.\d", stripped)
        )
    if _LIST_ITEM.match(stripped) or len(stripped.split()) > 14:
        return False
    if stripped.endswith("?"):
        return len(next_line.strip()) > len(stripped)
    if stripped.endswith(":") and _is_label(stripped[:-1]) and not (
            _LIST_ITEM.match(next_line) or _is_table_row(next_line)
            or _FENCE.match(next_line)):  # "Ein vollständiger Link sieht so aus:" + code
        # "Downstream Marketing Examples:" over a paragraph titles what follows; read as
        # text it closed the chunk before, and its examples were not found by name.
        # Over a list it stays the list's lead-in.
        return True
    return not _SENTENCE_END.search(stripped)


def _is_label(words: str) -> bool:
    """A few words without sentence punctuation, the first capitalised (or not a cased
    script): a title, not a sentence that ends in a colon."""
    return (len(words.split()) <= 8 and not re.search(r"[.!?,;:。]", words)
            and (words[:1].isupper() or not words[:1].islower()))


_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")


def _fenced(lines: list[str]) -> list[int]:
    """For each line, the number of the Markdown code fence it is part of (its opening
    and closing lines included), or 0. QA20: the fence lines, the URL and the
    ``<script …>`` line inside one were read as headings, and became hits' sections.
    A fence never closed is no fence."""
    out = [0] * len(lines)
    n = 0
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        close = next((j for j in range(i + 1, len(lines)) if m and lines[j].strip()
                      .startswith(m.group(1)[0] * len(m.group(1)))
                      and not lines[j].strip().strip(m.group(1)[0])), None)
        if m is None or close is None:
            i += 1
            continue
        n += 1
        for j in range(i, close + 1):
            out[j] = n
        i = close + 1
    return out


# A passage's blocks are read again and again: for the sections it runs through, the
# heading over its snippet, an answer's candidate sentences, on every search that
# returns it. Memoised for texts of passage size (an article's text is read once a page).
_CACHED_BLOCKS_CHARS = 20_000


def blocks(text: str) -> list[Block]:
    """Read ``text`` into structural blocks with character offsets."""
    if len(text) <= _CACHED_BLOCKS_CHARS:
        return list(_cached_blocks(text))
    return _blocks(text)


@lru_cache(maxsize=2048)
def _cached_blocks(text: str) -> tuple[Block, ...]:
    return tuple(_blocks(text))


def _blocks(text: str) -> list[Block]:
    spans = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text)]
    spans = [(a, b) for a, b in spans if text[a:b].strip()]
    lines = [text[a:b] for a, b in spans]
    table = _table_rows(lines)
    fenced = _fenced(lines)
    heading = [
        not table[i] and not fenced[i]
        and _is_heading(line, lines[i + 1] if i + 1 < len(lines) else None)
        for i, line in enumerate(lines)
    ]
    item = [bool(_LIST_ITEM.match(line)) and not heading[i] and not fenced[i]
            for i, line in enumerate(lines)]
    out: list[Block] = []
    i = 0
    while i < len(lines):
        j = i
        if fenced[i]:  # one block, read as text: no heading, list or table inside
            kind = "para"
            while j + 1 < len(lines) and fenced[j + 1] and fenced[j + 1] == fenced[i]:
                j += 1
        elif table[i] and i + 1 < len(lines) and table[i + 1]:
            kind = "table"
            while j + 1 < len(lines) and table[j + 1]:
                j += 1
        elif heading[i]:
            kind = "heading"
        elif item[i] or (i + 1 < len(lines) and item[i + 1]):
            # A list, with the line that introduces it as its lead-in.
            kind = "list"
            j = i if item[i] else i + 1
            while j + 1 < len(lines) and item[j + 1]:
                j += 1
        else:
            kind = "para"
        out.append(Block(kind, spans[i][0], spans[j][1]))
        i = j + 1
    return out


def _pieces(text: str, block: Block, count: TokenCounter, max_tokens: int) -> list[tuple[int, int]]:
    """Split one block into spans that each fit ``max_tokens``."""
    if count(text[block.start : block.end]) <= max_tokens:
        return [(block.start, block.end)]
    if block.kind in ("list", "table"):
        units = [
            (block.start + m.start(), block.start + m.end())
            for m in re.finditer(r"[^\n]+", text[block.start : block.end])
        ]
    else:
        units = sentence_spans(text, block.start, block.end)
    # A single over-long sentence or line is cut at word boundaries.
    return _pack(text, units, count, max_tokens, _hard_split)


Splitter = Callable[[str, tuple[int, int], TokenCounter, int], list[tuple[int, int]]]


def _pack(
    text: str, units: list[tuple[int, int]], count: TokenCounter, max_tokens: int,
    split_long: Splitter,
) -> list[tuple[int, int]]:
    """Join consecutive units into spans of at most ``max_tokens``; a unit that alone
    is over the budget is cut by ``split_long``."""
    spans: list[tuple[int, int]] = []
    cur: tuple[int, int] | None = None
    for u in units:
        if count(text[u[0] : u[1]]) > max_tokens:
            if cur:
                spans.append(cur)
                cur = None
            spans.extend(split_long(text, u, count, max_tokens))
            continue
        if cur and count(text[cur[0] : u[1]]) <= max_tokens:
            cur = (cur[0], u[1])
        else:
            if cur:
                spans.append(cur)
            cur = u
    if cur:
        spans.append(cur)
    return spans


def _hard_split(
    text: str, span: tuple[int, int], count: TokenCounter, max_tokens: int
) -> list[tuple[int, int]]:
    words = [
        (m.start() + span[0], m.end() + span[0])
        for m in re.finditer(r"\S+", text[span[0] : span[1]])
    ]
    # One "word" longer than a chunk (a paste of text with no spaces) is cut too.
    return _pack(text, words, count, max_tokens, _split_word)


def _split_word(
    text: str, span: tuple[int, int], count: TokenCounter, max_tokens: int
) -> list[tuple[int, int]]:
    """Cut a span with no spaces into pieces of at most ``max_tokens`` tokens. Only a
    window is counted each time, so a megabyte-long word costs linear time."""
    window = 16 * max_tokens  # characters; a token of these models is far shorter
    out = []
    a, b = span
    while a < b:
        end = min(b, a + window)
        n = count(text[a:end])
        if n > max_tokens:
            end = a + max(1, (end - a) * max_tokens // n)
            while end - a > 1 and count(text[a:end]) > max_tokens:
                end = a + max(1, (end - a) * 9 // 10)
        out.append((a, end))
        a = end
    return out


def chunk_text(
    text: str,
    count: TokenCounter,
    *,
    min_tokens: int = 100,
    target: int = 200,
    max_tokens: int = 250,
) -> list[Chunk]:
    """Split cleaned ``text`` into chunks (see the module docstring)."""
    units: list[tuple[int, int, str, bool]] = []  # start, end, section, starts_section
    section = ""
    for block in blocks(text):
        if block.kind == "heading":
            section = heading_text(text[block.start : block.end])
            units.append((block.start, block.end, section, True))
            continue
        for a, b in _pieces(text, block, count, max_tokens):
            units.append((a, b, section, False))

    chunks: list[Chunk] = []
    cur: list[tuple[int, int, str, bool]] = []

    def flush() -> None:
        if cur:
            a, b = cur[0][0], cur[-1][1]
            chunks.append(Chunk(a, b, text[a:b], cur[0][2] if not cur[0][3] else cur[0][2]))
            cur.clear()

    for unit in units:
        if not cur:
            cur.append(unit)
            continue
        size = count(text[cur[0][0] : cur[-1][1]])
        joined = count(text[cur[0][0] : unit[1]])
        new_section = unit[3]
        if (
            joined > max_tokens
            or (new_section and size >= min_tokens)
            or (size >= target and not new_section)
        ):
            # A heading taken into a short chunk goes on with its section instead of
            # ending the chunk before it ("... Upstream Marketing Examples" closed the
            # benefits chunk, and the examples under it had no title).
            carried = [cur.pop()] if len(cur) > 1 and cur[-1][3] else []
            flush()
            cur.extend(carried)
        cur.append(unit)
    flush()
    return _merge_small_tail(text, chunks, count, min_tokens, max_tokens)


def _merge_small_tail(
    text: str, chunks: list[Chunk], count: TokenCounter, min_tokens: int, max_tokens: int
) -> list[Chunk]:
    """Fold a too-small chunk into its predecessor within the same section when it fits."""
    out: list[Chunk] = []
    for c in chunks:
        if out and count(c.text) < min_tokens // 2 and out[-1].section == c.section:
            prev = out[-1]
            if count(text[prev.start : c.end]) <= max_tokens:
                out[-1] = Chunk(prev.start, c.end, text[prev.start : c.end], prev.section)
                continue
        out.append(c)
    return out
