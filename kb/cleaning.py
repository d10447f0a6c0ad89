"""Cleaning: turn raw web text into article text, with general, documented rules.

Rules, applied in order (none of them is specific to one file):

1. Normalise: Unicode NFC (decomposed Hangul or Vietnamese is recomposed), CRLF to LF,
   no-break and zero-width spaces, bidirectional controls, trailing spaces, and runs
   of blank lines.
2. Template placeholders: unrendered CMS/ad-slot tokens such as
   ``$config[zx-auto] not found`` are removed; a line left empty is dropped.
3. Table-of-contents blocks: a line naming a TOC ("Table of Contents", "Contents",
   "Inhaltsverzeichnis", "차례", "목차", "Mục lục", ...) is dropped together with the
   lines right after it that merely repeat a line that appears again later on its own
   (the headings the TOC lists).
4. Trailing widgets: at the end of the text, lines that are widget titles ("Popular
   posts", "Bài viết phổ biến", "Related articles", "Share this", ...) are dropped.
5. Promotional sign-off: the last paragraph is dropped when it is a call to action,
   i.e. it has at least two call-to-action cues (visit/contact/subscribe/consultation in
   any of the four languages) and ends with an exclamation or an invitation.
6. Encoded data: a run of 400 or more characters of the base64 or hex alphabet with no
   space, with its ``data:…;base64,`` prefix and Markdown image syntax if it has them,
   is removed. It is a pasted image or file, not prose (no word of the four languages
   comes near that length); kept, it was one unreadable "word" of a whole chunk, cut
   off by the model after 512 tokens. :func:`clean_counting` also says how much it
   removed, for the upload notes.
7. Inline Markdown: emphasis (``**bold**``, ``__bold__``, ``*italic*``, ``_italic_``)
   loses its markers, a link ``[text](url)`` keeps its text, and an image
   ``![alt](url)`` goes. Backticks stay: Korean text uses them as quotation marks
   (KorQuAD: "`관사`"), and stripping them moved KorQuAD's R@1 (.918 → .914). kb
   shows and searches plain text: only headings, list items and tables carry
   structure. HTML reaches here as trafilatura's Markdown
   (``<strong>`` is ``**``), and the Article page and answers showed the asterisks
   (QA13: "- **Rückgewinnungskampagnen**: …"). A marker must hug its text, so "5 * 3",
   a bullet "* item" and snake_case stay as they are.

Before these, :func:`repair_encoding` mends mojibake (UTF-8 read as latin-1 or cp1252
and saved again: "QualitÃ¤t" for "Qualität", QA20) with ftfy, and :func:`lossy_words`
finds words with a "?" inside ("Ti?p th?"), which a conversion to an encoding that
lacks their letters leaves and nothing can mend: the upload notes say both.
"""

from __future__ import annotations

import re
import unicodedata

# 2: rule 6, encoded data; 3: rule 7, inline Markdown; 4: mojibake repaired; 5: an
# image whose URL has parentheses goes whole, and bidirectional controls
CLEANER_VERSION = 5

# A Markdown image around the data goes with it: "![logo](data:image/png;base64,...)".
# The run starts a word (a long URL's path is not encoded data; cut, it read "https://a.").
_ENCODED = re.compile(
    r"(?<![^\s(\"'\[<,;:])(!\[[^\]\n]*\]\()?"
    r"(?:data:[\w.+-]+/[\w.+-]+;base64,)?[A-Za-z0-9+/=_-]{400,}(?(1)\))"
)
# Rule 7. Bold before italic, so that "**a**" is not read as "*" + "*a*" + "*".
_INLINE = (
    # An image's URL as a link's: one level of parentheses ("logo_(2020).png"); QA23a F3.
    (re.compile(r"!\[[^\]\n]*\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"\n]*\")?\)"), ""),
    (re.compile(r"\[([^\]\n]+)\]\((?:[^()\s]|\([^()\s]*\))+(?:\s+\"[^\"\n]*\")?\)"), r"\1"),
    (re.compile(r"(?<![*\w])\*\*(?=[^\s*])([^\n]*?[^\s*])\*\*(?![*\w])"), r"\1"),
    (re.compile(r"(?<![\w/])__(?=[^\s_])([^\n]*?[^\s_])__(?![\w/])"), r"\1"),
    (re.compile(r"(?<![*\w])\*(?=[^\s*])([^*\n]*?[^\s*])\*(?![*\w])"), r"\1"),
    (re.compile(r"(?<![\w/])_(?=[^\s_])([^_\n]*?[^\s_])_(?![\w/])"), r"\1"),
)
_PLACEHOLDER = re.compile(r"\$[A-Za-z_][\w-]*\[[^\]\n]*\]\s*not found|\{\{[^{}\n]*\}\}")

_TOC_TITLES = {
    "table of contents",
    "contents",
    "inhaltsverzeichnis",
    "inhalt",
    "차례",
    "목차",
    "mục lục",
    "nội dung",
    "nội dung chính",
}

# Widget titles seen at the end of blog pages; compared case- and accent-insensitively.
_WIDGET_TITLES = {
    "popular posts",
    "related posts",
    "related articles",
    "recent posts",
    "share this",
    "you may also like",
    "read more",
    "beliebte beiträge",
    "beliebte artikel",
    "ähnliche beiträge",
    "neueste beiträge",
    "bài viết phổ biến",
    "bài viết liên quan",
    "bài viết mới",
    "có thể bạn quan tâm",
    "인기 글",
    "인기글",
    "인기 게시물",
    "관련 글",
    "관련 게시물",
    "최근 글",
    "함께 보면 좋은 글",
}

_CTA_CUES = re.compile(
    r"문의|상담|방문하|구독|댓글|연락|신청|클릭"
    r"|contact us|get in touch|subscribe|sign up|visit our|book a|request a|call us"
    r"|kontaktieren|abonnieren|besuchen sie|melden sie sich"
    r"|liên hệ|đăng ký|truy cập|tư vấn",
    re.IGNORECASE,
)


def _fold(text: str) -> str:
    """Lowercase and strip accents, for comparing short labels."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip(" :.-")


_FOLDED_WIDGETS = {_fold(t) for t in _WIDGET_TITLES}
_FOLDED_TOC = {_fold(t) for t in _TOC_TITLES}


def normalise(text: str) -> str:
    """Rule 1: NFC, newlines, odd spaces, trailing spaces, blank-line runs."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u00a0", " ").replace("\u202f", " ").replace("\ufeff", "")
    text = re.sub(r"[\u200b\u200c\u200d\u2060]", "", text)
    # Bidirectional controls: they can make a line display reversed (QA23a F8), and
    # Korean, English, German and Vietnamese need none.
    text = re.sub("[\u202a-\u202e\u2066-\u2069\u200e\u200f]", "", text)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def _drop_placeholders(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        if _PLACEHOLDER.search(line):
            line = _PLACEHOLDER.sub("", line).rstrip()
            if not line.strip():
                continue
        out.append(line)
    return out


def _drop_toc(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        if _fold(lines[i]) in _FOLDED_TOC:
            j = i + 1
            while j < len(lines):
                item = lines[j].strip()
                if not item:
                    j += 1
                    continue
                later = {ln.strip() for ln in lines[j + 1 :]}
                if item not in later:
                    break
                j += 1
            i = j
            continue
        out.append(lines[i])
        i += 1
    return out


def _drop_trailing_widgets(lines: list[str]) -> list[str]:
    while lines and (not lines[-1].strip() or _fold(lines[-1]) in _FOLDED_WIDGETS):
        lines = lines[:-1]
    return lines


def _drop_signoff(lines: list[str]) -> list[str]:
    if not lines:
        return lines
    last = lines[-1].strip()
    cues = len(_CTA_CUES.findall(last))
    if cues >= 2 and re.search(r"[!！]\s*$|주세요[.!]?\s*$|(?i:today|now)[.!]?\s*$", last):
        return _drop_trailing_widgets(lines[:-1])
    return lines


def encoded_chars(raw: str) -> int:
    """How many characters of encoded data (rule 6) ``raw`` holds."""
    return sum(len(m.group()) for m in _ENCODED.finditer(raw))


def _plain_inline(text: str) -> str:
    """Rule 7: inline Markdown as the plain text it stands for."""
    if not any(ch in text for ch in "*_["):
        return text
    for pattern, repl in _INLINE:
        text = pattern.sub(repl, text)
    return text


def clean(raw: str) -> str:
    """Return the cleaned article text for raw web text (rules in the module docstring)."""
    return clean_counting(raw)[0]


def clean_counting(raw: str) -> tuple[str, int]:
    """:func:`clean`, and how many characters of encoded data it removed, in one pass
    over ``raw`` (an upload may be megabytes)."""
    removed = 0

    def drop(m: re.Match[str]) -> str:
        nonlocal removed
        removed += len(m.group())
        return ""

    text = normalise(_plain_inline(_ENCODED.sub(drop, raw)))
    lines = text.split("\n")
    lines = _drop_placeholders(lines)
    lines = _drop_toc(lines)
    lines = _drop_trailing_widgets(lines)
    lines = _drop_signoff(lines)
    return normalise("\n".join(lines)), removed


# A letter, "?", a letter: what a letter the encoding lacked became ("Ti?p th? n?i dung").
_LOSSY = re.compile(r"[^\W\d_]+\?[^\W\d_?]+(?:\?[^\W\d_?]+)*")
LOSSY_MIN = 3  # such words before an upload is told: one could be a typo ("what?why")


def repair_encoding(raw: str) -> tuple[str, str]:
    """``raw`` with mojibake repaired by ftfy (``fix_encoding`` only: quotes, dashes and
    the like stay as written), and an example of what changed ("QualitÃ¤t → Qualität"),
    or "" when nothing did."""
    if raw.isascii():
        return raw, ""
    import ftfy  # lazily: kb's import stays light

    fixed = ftfy.fix_encoding(raw)
    if fixed == raw:
        return raw, ""
    before, after = raw.split(), fixed.split()
    pair = next(((a, b) for a, b in zip(before, after, strict=False) if a != b), None)
    return fixed, f"{pair[0]} → {pair[1]}" if pair else "…"


def lossy_words(text: str) -> list[str]:
    """The words of ``text`` with a "?" between letters, when there are at least
    ``LOSSY_MIN``: letters an encoding conversion lost."""
    found = _LOSSY.findall(text)
    return found if len(found) >= LOSSY_MIN else []
