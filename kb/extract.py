"""Extraction: uploaded bytes to article text. The type is sniffed from the content,
never trusted from the file name or the declared content type.

- HTML: main-content extraction with trafilatura (navigation, scripts, styles dropped);
- PDF: pypdf text layer (a scan with no text layer is an error, not an empty article);
- DOCX: python-docx paragraphs and tables;
- text: UTF-8, else the encoding charset-normalizer finds (an upload from a Windows
  machine in cp1252 or EUC-KR still works; corpus files themselves must be UTF-8).
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import Any

from kb.errors import ArticleError

KINDS = ("text", "markdown", "html", "pdf", "docx")

# One message for a binary file, from `kb add` (and the Add page, the API) and from `kb
# ingest` alike (QA23a F9: ingest said "this is a binary file, not a text article").
UNSUPPORTED = "unsupported file type (a binary file, not text, Markdown, HTML, PDF or DOCX)"
# A file named as a type kb reads that does not open as one: "unsupported file type"
# told the owner of a damaged .docx that DOCX is not read (QA22 F12).
DAMAGED = {"docx": "the DOCX file is damaged or not a Word document",
           "pdf": "the PDF file is damaged or not a PDF"}
RESAVE = {"docx": "open it in Word and save it again (or save it as PDF), then upload that",
          "pdf": "save or print it as a PDF again, then upload that"}


def _damaged(name: str) -> str | None:
    """What a file that is no type kb reads is, when its name says DOCX or PDF."""
    suffix = name.lower().rsplit(".", 1)[-1] if "." in name else ""
    return (f"{DAMAGED[suffix]}: it does not open as one; {RESAVE[suffix]}"
            if suffix in DAMAGED else None)


@dataclass(frozen=True)
class Extracted:
    text: str
    kind: str
    title: str | None = None


def sniff(data: bytes) -> str:
    """The real type of ``data``: one of KINDS, or 'binary'."""
    head = data[:2048]
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                if "word/document.xml" in z.namelist():
                    return "docx"
        except zipfile.BadZipFile:
            pass
        return "binary"
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "binary"
    if _BINARY_MAGIC.match(head):
        return "binary"
    lowered = head.lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html")) or (
        re.search(rb"<(body|div|p|article|head)[\s>]", lowered) and lowered.startswith(b"<")
    ):
        return "html"
    return "text"


_BINARY_MAGIC = re.compile(
    rb"\A(\x89PNG|GIF8|\xff\xd8\xff|BM|II\*\x00|MM\x00\*|RIFF|\x1f\x8b|7z\xbc\xaf|Rar!|"
    rb"\x7fELF|MZ|OggS|ID3|fLaC|\x00\x00\x00[\x14-\x20]ftyp)"
)


# Legacy encodings of our four languages, tried when the text is not UTF-8.
_LEGACY = ("cp949", "cp1252", "cp1258", "latin-1")
_PLAUSIBLE = re.compile(r"[\sA-Za-z0-9.,;:!?()'\"%&/-]|[\u00c0-\u024f\u1ea0-\u1ef9\uac00-\ud7a3]")


def _plausibility(text: str) -> float:
    """Share of characters that belong to ko/en/de/vi text."""
    return len(_PLAUSIBLE.findall(text)) / max(len(text), 1)


# A well-formed multi-byte UTF-8 character; legacy encodings rarely make one by chance.
_UTF8_MULTI = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}"
                         rb"|[\xf0-\xf4][\x80-\xbf]{3}")
# Letters only Vietnamese uses: a legacy decoding that yields them read Vietnamese right
# (cp1258 writes tones as combining marks, which cp1252 reads as "ì", "ò", ...).
_VI_LETTERS = re.compile(r"[\u1ea0-\u1ef9ơưăđƠƯĂĐ]")


def decode_any(data: bytes, name: str) -> str:
    """UTF-8 if it is; else the candidate encoding (charset-normalizer's guess and the
    legacy encodings of our four languages) whose text looks most like ko/en/de/vi. A
    UTF-8 text with a few broken bytes is refused, not read as some legacy encoding:
    that turned a whole German article into "Gr체ndung" (cp949) without a word."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    good = len(_UTF8_MULTI.findall(data))
    bad = data.decode("utf-8", "replace").count("\ufffd") - data.decode(
        "utf-8", "ignore").count("\ufffd")
    if good >= 3 and good > bad:
        line = data[:first_bad].count(b"\n") + 1
        raise ArticleError(name, (
            f"the file is UTF-8 but for {bad} broken byte{'s' if bad != 1 else ''} (the first "
            f"at line {line}, byte offset {first_bad}); fix or re-save it as UTF-8"))
    from charset_normalizer import from_bytes

    candidates = []
    best = from_bytes(data).best()
    if best is not None:
        candidates.append(str(best))
    for enc in _LEGACY:
        try:
            candidates.append(data.decode(enc))
        except UnicodeDecodeError:
            continue
    if not candidates:
        raise ArticleError(name, "the text encoding could not be recognised; save it as UTF-8")
    candidates = [unicodedata.normalize("NFC", c) for c in candidates]
    # Stable: charset-normalizer wins ties.
    text = max(candidates, key=lambda t: (round(_plausibility(t), 2),
                                          len(_VI_LETTERS.findall(t))))
    if _plausibility(text) < 0.8:
        raise ArticleError(name, "the text encoding could not be recognised; save it as UTF-8")
    return text


# trafilatura's Markdown escapes punctuation so that a renderer shows it literally
# ("\<script>", "a\_b", "\*"). kb keeps plain text (only headings, lists and tables
# carry meaning), so the backslashes would be shown and searched as they are.
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|~])")


def _html(data: bytes, name: str) -> Extracted:
    import trafilatura

    html = decode_any(data, name)
    text = trafilatura.extract(
        html, include_comments=False, include_tables=True, favor_recall=True,
        output_format="markdown",
    )
    text = _MD_ESCAPE.sub(r"\1", text) if text else text
    meta = trafilatura.extract_metadata(html)
    title = meta.title if meta is not None and meta.title else None
    if not text or not text.strip():
        raise ArticleError(name, "no article text found in this HTML page")
    return Extracted(text, "html", title)


# Korean as pypdf's plain mode reads Chromium's (and other) PDFs: every space doubled
# ("가격  앵커링  전략"), a space before each full stop and comma ("전략입니다 ."), a
# space where a run of digits or Latin letters meets Hangul ("999 달러로" for
# "999달러로"). The glyphs sit in separate runs and plain mode adds a space between
# runs; its layout mode places them by their widths and read QA20's three Korean PDFs
# with one wrong space in about 340 (see _page_text).
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_DOUBLED = re.compile(r"(?<=\S)  (?=\S)")
_GAP = re.compile(r"(?<=\S) +(?=\S)")


def _korean_mangled(plain: str) -> bool:
    gaps = len(_GAP.findall(plain))
    return (len(_HANGUL.findall(plain)) >= 20 and gaps > 0
            and len(_DOUBLED.findall(plain)) >= 0.3 * gaps)


def _page_text(page: Any) -> str:
    """A PDF page's text. pypdf's plain mode splits a word wherever the PDF places its
    glyphs in several runs, as Chromium does for Vietnamese ("Chi ế n l ượ c đ ị nh
    giá", QA: the article was not found by its own words) and mangles Korean spacing
    (above); its layout mode places glyphs by their positions. Layout mode is taken only
    then: on a page in two columns it would run the columns' lines together, where plain
    mode keeps them apart (hence, for split words, only when plain mode found far more
    words)."""
    plain = page.extract_text() or ""
    words = plain.split()
    if not words:
        return plain
    split = sum(len(w) <= 2 for w in words) >= 0.3 * len(words)
    korean = _korean_mangled(plain)
    if not split and not korean:
        return plain
    try:
        laid = page.extract_text(extraction_mode="layout") or ""
    except Exception:  # noqa: BLE001 - a second opinion only; plain mode already worked
        return plain
    laid = "\n".join(" ".join(line.split()) for line in laid.splitlines())
    n = len(laid.split())
    # Korean: layout mode only drops the spurious spaces, so it finds no more words.
    if (split and n * 1.3 < len(words)) or (korean and 0.7 * len(words) <= n <= len(words)):
        return laid
    return plain


# Joining a PDF's wrapped lines. A PDF holds lines, not paragraphs: every wrap came out
# as a newline, and kb/sentences.py ends a sentence at each one (QA20: "…lists an
# enterprise⏎plan at 999 dollars…" was quoted from "plan", and a definition split at its
# wrap was never quoted). A line is taken to wrap into the next when it fills the page's
# text width (within _FULL of its longest line) and does not end a sentence, or when it
# does not end a sentence and the next line goes on in lower case. A line that ends a
# sentence is left alone even when full: a paragraph's last line is often nearly full
# and the next line may be a list item whose marker the PDF does not hold (Chromium
# draws bullets as shapes), so joining there would merge paragraphs and items.
# Headings (short, larger type), list items, table rows and blank lines stay lines.
# A colon ends a line before a list; a semicolon does not end a sentence (kb/sentences.py
# goes on past it), so a line that ends in one wraps like any other.
_FULL = 0.8
_MIN_COLUMN = 30  # a page of short lines only (a list, a form) has no wraps to join
_ENDS_SENTENCE = re.compile(r"[.!?。…:][\"'”’»)\]]*$")
_ITEM = re.compile(r"([-–—•◦▪‣*·●■□►✓]|\d{1,3}(\.\d{1,3})*[.)]|[a-zA-Z][.)]|\(\w{1,3}\))\s")


def _width(line: str) -> int:
    """A line's width in narrow characters: Hangul and other wide glyphs count two."""
    return sum(0 if unicodedata.combining(c) else
               2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def _table_like(line: str) -> bool:
    return "|" in line or "\t" in line or "   " in line


def _wraps(a: str, b: str, column: int) -> bool:
    if not a or not b or _ITEM.match(b) or _table_like(a) or _table_like(b):
        return False
    if _ENDS_SENTENCE.search(a):
        return False
    full = column >= _MIN_COLUMN and _width(a) >= _FULL * column
    return full or (b[0].islower() and _width(a) >= 0.5 * column)


def _glue(a: str, b: str, vocab: set[str]) -> str:
    """What goes between a wrapped line and its continuation."""
    if a[-1] == "-" and len(a) > 1 and a[-2].isalpha() and b[0].islower():
        return ""  # "e-⏎mail": the hyphen is kept (a PDF cannot tell a soft one)
    if _HANGUL.match(a[-1]) and _HANGUL.match(b[0]):
        # Korean wraps between syllables as well as at spaces ("전략입⏎니다"), and the
        # PDF keeps no trace of which: Chromium's lines end at the same place either way
        # (measured on its glyph positions), and no space glyph ends a line. The words
        # decide (see _korean_glue).
        return _korean_glue(_bare(a.rsplit(None, 1)[-1]), _bare(b.split(None, 1)[0]), vocab)
    return " "


# A Korean line's first piece that is only an ending or a particle continues the word
# above ("고객⏎에게", "있습니⏎다"); a line's last piece ending in a particle ends a word
# ("공간을⏎주었고"). 이 and 가 end words but also sit inside many ("마찬가⏎지"), so they
# count only as a whole piece. Single syllables that are words on their own ("수", "것").
_ENDINGS = {"다", "니다", "습니다", "에", "에게", "에서", "은", "는", "이", "가", "을", "를",
            "의", "로", "으로", "와", "과", "도", "만", "인", "적인", "요", "게", "고", "며",
            # the endings of 하다 verbs, whose noun stem stands before them ("비교⏎해야")
            "하다", "한다", "하는", "하고", "하지", "해야", "했다", "하여", "해서", "할", "한",
            "된다", "되는", "되고", "됩니다", "합니다", "했습니다"}
_PARTICLES = set("을를은는에의로와과도며고서할")
_ONE_SYLLABLE_WORDS = set("수것더잘배그및또꼭못안왜각새큰두세네한본될할할줄")


def _korean_glue(left: str, right: str, vocab: set[str]) -> str:
    """" " if a Korean line that ends in ``left`` broke at a space before ``right``, ""
    if it cut one word."""
    if not left or not right or left + right in vocab or right in _ENDINGS:
        return ""
    if left in vocab or right in vocab or left[-1] in _PARTICLES:
        return " "
    if len(left) == 1:
        return " " if left in _ONE_SYLLABLE_WORDS else ""
    # Else a space. Measured on the in-paragraph wraps of Chromium PDFs of known
    # Korean text: this rule joined 61 of 64 right on the texts it was written
    # against and 47 of 58 on a text it was not; with "" here, 56 and 44.
    return " "


def _bare(word: str) -> str:
    return word.strip(".,!?;:()[]{}\"'“”‘’«»…")


def _vocabulary(text: str) -> set[str]:
    """The words that stand alone in ``text`` (Korean wraps are judged against them):
    a line's first and last words count only where no wrap can have cut them, after and
    before the end of a sentence."""
    words: set[str] = set()
    ended = True  # whether the previous line ended a sentence (or there was none)
    for line in text.splitlines():
        tokens = line.split()
        if not tokens:
            ended = True
            continue
        closes = bool(_ENDS_SENTENCE.search(line))
        words.update(_bare(w) for w in tokens[0 if ended else 1:None if closes else -1])
        ended = closes
    return words


def _join_wrapped(text: str, vocab: set[str]) -> str:
    lines = [line.strip() for line in text.splitlines()]
    column = max((_width(line) for line in lines if not _table_like(line)), default=0)
    lines = [line for i, line in enumerate(lines) if line or (i and lines[i - 1])]
    out: list[str] = []
    last = ""  # the previous line as printed: whether it wraps is judged on it alone
    for line in lines:
        if out and _wraps(last, line, column):
            out[-1] += _glue(last, line, vocab) + line
        else:
            out.append(line)
        last = line
    return "\n".join(out)


def _pdf(data: bytes, name: str) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [_page_text(page) for page in reader.pages]
    except DependencyError:  # AES encryption; even "restrictions only" PDFs use it
        raise ArticleError(name, "the PDF is encrypted (AES); save or print it as a PDF "
                           "without a password and upload that") from None
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise ArticleError(name, f"{DAMAGED['pdf']} (the PDF reader says: {exc}); "
                                 f"{RESAVE['pdf']}") from None
    vocab = _vocabulary("\n".join(pages))
    text = "\n\n".join(_join_wrapped(p, vocab).strip() for p in pages if p.strip())
    if len(re.findall(r"\w", text)) < 20:
        raise ArticleError(name, "the PDF has no text layer (a scan?); OCR it first")
    meta = reader.metadata.title if reader.metadata is not None else None
    return Extracted(text, "pdf", _pdf_title(str(meta) if meta else None, text))


# Titles that programs write into a PDF's metadata, not people: a browser's print of a
# page without a <title>, Office's "Microsoft Word - draft.docx", a design tool's
# "Untitled-1", a new document's default name in our four languages, a file name.
_NO_TITLE = re.compile(
    r"\s*(about:blank|https?://\S+|file:/\S+|microsoft (word|powerpoint|excel) - .*"
    r"|(untitled|unbenannt|ohne titel|제목 없음|không có tiêu đề)([\s_-]*\d*| document)"
    r"|(document|dokument|presentation|präsentation|book|mappe)\d+"
    r"|\S+\.(docx?|pdf|pptx?|xlsx?|odt|rtf|txt|html?|md|indd|ai|psd|pages|key)"
    r"|[\w-]*_[\w-]*)\s*$", re.I)


def _pdf_title(meta: str | None, text: str) -> str | None:
    """A PDF's title: its metadata title unless a program made it up (QA20: "Microsoft
    Word - anchoring_draft_v3_FINAL.docx" and "Untitled-1" beat the visible heading),
    and its first line when that line is the metadata title written out in full (a
    browser prints a page's short <title> over its heading: "Price anchoring" over
    "Price Anchoring in Marketing", and in Korean, where the short form ends the
    heading, "이메일 마케팅" over "온라인 쇼핑몰을 위한 이메일 마케팅", QA22 F11). None lets
    the first line or the file name decide, as for a text file (kb.articles)."""
    if not meta or not meta.strip() or _NO_TITLE.match(meta):
        return None
    meta = " ".join(meta.split())
    first = " ".join(next((line for line in text.splitlines() if line.strip()), "").split())
    if (len(first) <= 120 and len(first) > len(meta) and _spells_out(first, meta)
            and not _ENDS_SENTENCE.search(first)):
        return first
    return meta


def _spells_out(heading: str, short: str) -> bool:
    """Whether ``heading`` begins or ends with ``short`` as whole words ("Price
    anchoring" in "Price Anchoring in Marketing", "이메일 마케팅" in "… 위한 이메일 마케팅";
    not "Price" in "Pricey anchors", nor "마케팅" in "이메일마케팅")."""
    h, s = heading.casefold(), short.casefold()
    if len(h) <= len(s):
        return False
    return ((h.startswith(s) and not (h[len(s)].isalnum() and s[-1].isalnum()))
            or (h.endswith(s) and not (h[-len(s) - 1].isalnum() and s[0].isalnum())))


# A DOCX's text is zipped XML. A 568 KB upload that expanded to 183 MB of XML (3 million
# empty paragraphs) held 2 GB and 12 minutes of CPU; real documents stay far below both.
MAX_DOCX_XML = 50 * 2**20
MAX_DOCX_RATIO = 100  # expansion of word/document.xml past 5 MB


def _check_docx_size(data: bytes, name: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            info = z.getinfo("word/document.xml")
    except (zipfile.BadZipFile, KeyError):
        return  # python-docx says what is wrong with it
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > MAX_DOCX_XML or (info.file_size > 5 * 2**20 and ratio > MAX_DOCX_RATIO):
        raise ArticleError(name, (
            f"the DOCX expands to {info.file_size / 2**20:.0f} MB of text markup "
            f"({ratio:.0f}× its packed size), more than a document of "
            "this kind holds; it is refused"))


def _docx(data: bytes, name: str) -> Extracted:
    import docx

    _check_docx_size(data, name)
    try:
        doc = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several unrelated types
        raise ArticleError(name, f"{DAMAGED['docx']} (the DOCX reader says: {exc}); "
                                 f"{RESAVE['docx']}") from None
    from docx.table import Table

    blocks = list(doc.iter_inner_content())
    # Headings keep their levels under the title: "Title" is "#", "Heading 1" "##" when
    # the document has a title (QA13: both were "#", so its sections sat at the title's
    # level), and lists their markers ("List Bullet" paragraphs came out as plain lines).
    titled = any(_style(b) == "title" for b in blocks if not isinstance(b, Table))
    lines: list[str] = []
    number = 0  # the next number of a numbered list
    # Paragraphs and tables in document order (a table belongs next to the text that
    # introduces it); a table becomes pipe rows under a "---" rule after its first row,
    # its header, which the chunker keeps together.
    for block in blocks:
        if isinstance(block, Table):
            rows = [[" ".join(c.text.split()) for c in row.cells] for row in block.rows]
            rows = [r for r in rows if any(r)]
            lines.append("")
            for i, cells in enumerate(rows):
                lines.append("| " + " | ".join(cells) + " |")
                if i == 0 and len(rows) > 1:
                    lines.append("|" + "---|" * len(cells))
            lines.append("")
            number = 0
            continue
        t = block.text.strip()
        if not t:
            continue
        style = _style(block)
        level = _heading_level(style)
        if style == "title":
            lines.append(f"# {t}")
        elif level:
            lines.append("#" * min(6, level + titled) + f" {t}")
        elif "list number" in style:
            number += 1
            lines.append(f"{number}. {t}")
            continue
        elif "list" in style or _numbered(block):
            lines.append(f"- {t}")
            continue
        else:
            lines.append(t)
        number = 0
    title = doc.core_properties.title or None
    return Extracted("\n".join(lines), "docx", title)


def _style(paragraph: Any) -> str:
    style = getattr(paragraph, "style", None)
    return (style.name or "").lower() if style is not None else ""


def _heading_level(style: str) -> int:
    """1 for "Heading 1" (any heading without a number: 1), 0 for no heading."""
    if not style.startswith("heading"):
        return 0
    digits = "".join(ch for ch in style if ch.isdigit())
    return int(digits) if digits else 1


def _numbered(paragraph: Any) -> bool:
    """A paragraph Word numbers or bullets by its own properties, whatever its style."""
    ppr = paragraph._p.pPr
    return ppr is not None and ppr.numPr is not None


def binary_problem(data: bytes, name: str) -> str:
    """What is wrong with bytes that are no text kb reads, in words."""
    return _nul_text(data) or _damaged(name) or UNSUPPORTED


def _nul_text(data: bytes) -> str | None:
    """What is wrong with UTF-8 text that holds a few NUL bytes (which sniff() takes for
    binary), in words; None for anything else. QA: it was "unsupported file type"."""
    n = data.count(b"\x00")
    if not n or n > len(data) // 100 or _BINARY_MAGIC.match(data[:2048]):
        return None
    try:
        data.replace(b"\x00", b"").decode("utf-8")
    except UnicodeDecodeError:
        return None
    return (f"the file is UTF-8 text but holds {n:,} NUL byte{'s' if n != 1 else ''}, which "
            "text never has: remove them (or paste the text) and upload it again")


def _utf16_text(data: bytes) -> str | None:
    """Text saved as UTF-16 without a byte-order mark (sniff() takes its NUL bytes for
    binary): NULs at one byte parity only, the high bytes of ASCII and Latin letters,
    and text that reads as ko/en/de/vi once decoded. QA10: it was "unsupported file
    type" while UTF-16 with a BOM was read."""
    head = data[:8192]
    if len(head) < 8 or len(data) % 2:
        return None
    even, odd = head[0::2].count(0) / (len(head) // 2), head[1::2].count(0) / (len(head) // 2)
    # (Some Hangul syllables have a NUL low byte too: 가 is U+AC00.)
    if max(even, odd) < 0.1 or min(even, odd) > max(even, odd) / 4:
        return None
    try:
        text = data.decode("utf-16-le" if odd > even else "utf-16-be")
    except UnicodeDecodeError:
        return None
    return text if _plausibility(text) >= 0.8 else None


def extract(data: bytes, name: str) -> Extracted:
    """Article text from uploaded bytes, or an ArticleError that says what is wrong."""
    if not data or not data.strip():
        raise ArticleError(name, "the file is empty")
    kind = sniff(data)
    if kind == "html" and not data[:2048].lstrip().lower().startswith(
            (b"<!doctype html", b"<html")):
        # Not a whole page: Markdown or text may open with HTML (<p align="center">,
        # <div>), and was refused as "no article text found in this HTML page".
        if name.lower().endswith((".md", ".markdown", ".txt")):
            kind = "text"
        else:
            try:
                return _html(data, name)
            except ArticleError:
                kind = "text"
    if kind == "binary" and (text := _utf16_text(data)) is not None:
        text = unicodedata.normalize("NFC", text)
        return Extracted(text, "markdown" if name.lower().endswith(".md") else "text")
    if kind == "binary":
        raise ArticleError(name, binary_problem(data, name))
    if kind == "pdf":
        return _pdf(data, name)
    if kind == "docx":
        return _docx(data, name)
    if kind == "html":
        return _html(data, name)
    text = decode_any(data, name)
    return Extracted(text, "markdown" if name.lower().endswith(".md") else "text")
