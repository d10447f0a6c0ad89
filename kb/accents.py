"""Query stage: Vietnamese typed without its diacritics, given them back.

On a phone or a keyboard without a Vietnamese layout, people type "tiep thi thuong
nguon la gi" for "tiếp thị thượng nguồn là gì". Neither e5 nor BM25 matches the two
spellings: such questions found nothing at all. So before anything else reads a
Vietnamese query with no diacritics, it is rewritten into the accented spelling that
the knowledge base's own Vietnamese makes most likely:

- each syllable's candidates are its accented spellings (every vowel quality and tone
  Vietnamese allows, đ for d) that occur as a term of the Vietnamese lexical index, or
  in a small lexicon of common words and the glossary's Vietnamese terms;
- a Viterbi pass picks one per syllable, scoring how often each occurs and, far more,
  how often each neighbouring pair occurs (the index keeps syllable bigrams): "thi"
  after "tiep" is "thị", as in "tiếp thị".

A syllable with no candidate is left as typed ("KPI", "marketing" if the corpus
spells it so). Nothing is guessed from outside the knowledge base, so the rewrite can
only steer towards words its articles use.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from itertools import product

# Vowels and the qualities Vietnamese gives them (breve, circumflex, horn).
_BASES = {
    "a": ("a", "ă", "â"), "e": ("e", "ê"), "o": ("o", "ô", "ơ"), "u": ("u", "ư"),
    "i": ("i",), "y": ("y",),
}
_TONES = ("\u0300", "\u0301", "\u0309", "\u0303", "\u0323")  # huyền sắc hỏi ngã nặng
_SYLLABLE = re.compile(r"[a-z]{1,7}")
_WORD = re.compile(r"[^\W_]+")
MAX_VOWELS = 3  # Vietnamese syllables have at most three ("khuyên", "người")
# How much a pair seen together outweighs how common each syllable is: chosen on half of
# XQuAD's Vietnamese questions (benchmarks/accents.py; 2: 91.5% of syllables, 8: 94.4%).
PAIR_WEIGHT = 8.0
# A syllable typed bare among accented ones is meant so when it is a word the index or
# the lexicon knows ("khi", "cho", "thua"); a bare one nothing attests ("diem") lost its
# marks. Chosen on XQuAD's Vietnamese questions (benchmarks/accents.py): 8 changes 3 of
# 1,190 questions as written and restores 86.5% of those with one or two syllables bare;
# 4 changes 14 and restores 89.3%, 12 changes 2 and restores 80.0%.
TYPED_BONUS = 8.0

# Common words and phrases of questions and of marketing, which a small corpus may not
# use often enough to decide ("là gì", "như thế nào", "vai trò"); each phrase counts
# :data:`COMMON_COUNT` for its syllables and their pairs.
COMMON = (
    "là gì", "là sao", "như thế nào", "làm thế nào", "làm sao", "tại sao", "vì sao",
    "làm thế nào để", "để làm gì", "bao nhiêu", "khi nào", "ở đâu", "ai", "cái gì",
    "có thể", "có phải", "có vai trò gì",
    "nên làm gì", "cần gì", "khác nhau", "khác biệt", "giữa", "so sánh", "ví dụ",
    "cách", "các bước", "lợi ích", "ưu điểm", "nhược điểm", "thách thức", "rủi ro",
    "của", "và", "các", "những", "có", "được", "cho", "một", "trong", "với", "này",
    "đó", "không", "để", "khi", "thì", "mà", "về", "từ", "cũng", "đã", "sẽ", "nào",
    "hay", "hoặc", "bởi", "tại", "nên", "cần", "phải", "người", "công ty",
    "doanh nghiệp", "khách hàng", "khách hàng hiện tại", "khách hàng thân thiết",
    "người tiêu dùng", "sản phẩm", "dịch vụ", "thị trường", "nghiên cứu thị trường",
    "tiếp thị", "chiến lược", "chiến dịch", "quảng cáo", "khuyến mãi", "thương hiệu",
    "doanh thu", "doanh số", "bán hàng", "bán chéo", "bán thêm", "giá", "giá cả",
    "lợi nhuận", "chỉ số", "đo lường", "hiệu quả", "mục tiêu", "phân khúc",
    "kênh", "giám đốc", "nhân viên", "đội ngũ", "quản lý", "phát triển", "tăng trưởng",
    "thượng nguồn", "hạ nguồn", "vai trò", "trách nhiệm", "hoạt động", "kế hoạch",
    "dữ liệu", "phân tích", "công nghệ", "khởi nghiệp", "ưu tiên", "trải nghiệm",
    "giá trị", "nhu cầu", "đề xuất",
    "gói sản phẩm", "chương trình", "ứng dụng", "mạng xã hội", "nội dung",
)
COMMON_COUNT = 3


def has_marks(text: str) -> bool:
    """Whether ``text`` has any diacritic (or đ): then it was typed with them, and its
    unaccented syllables are meant as they are."""
    return any(unicodedata.combining(ch) for ch in unicodedata.normalize("NFD", text)) or (
        "đ" in text.casefold()
    )


def fold(text: str) -> str:
    """``text`` without diacritics, đ as d: "Tiếp thị" -> "Tiep thi"."""
    bare = "".join(
        ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch)
    )
    return unicodedata.normalize("NFC", bare.replace("đ", "d").replace("Đ", "D"))


@lru_cache(maxsize=4096)
def spellings(syllable: str) -> tuple[str, ...]:
    """Every accented spelling of a lowercase unaccented ``syllable``, itself first;
    just itself when it cannot be Vietnamese (too long, too many vowels, not a-z)."""
    if not _SYLLABLE.fullmatch(syllable):
        return (syllable,)
    vowels = [i for i, ch in enumerate(syllable) if ch in _BASES]
    if not vowels or len(vowels) > MAX_VOWELS:
        return (syllable,)
    choices = [
        _BASES[ch] if ch in _BASES else (("d", "đ") if ch == "d" and i == 0 else (ch,))
        for i, ch in enumerate(syllable)
    ]
    out = {}
    for letters in product(*choices):
        out["".join(letters)] = None
        for v in vowels:
            for tone in _TONES:
                toned = list(letters)
                toned[v] = unicodedata.normalize("NFC", letters[v] + tone)
                out["".join(toned)] = None
    return (syllable, *(s for s in out if s != syllable))


Counts = Callable[[Sequence[str]], list[int]]


def restore(query: str, counts: Counts, lexicon: dict[str, int] | None = None) -> str | None:
    """``query`` with its syllables' diacritics restored, or None when nothing changes
    (every syllable has its diacritics already). Syllables typed with diacritics stay as
    they are, and bare ones beside them are meant bare unless nothing attests them
    (:data:`TYPED_BONUS`). ``counts(terms)``: how many passages of the
    Vietnamese index hold each term (syllables, and bigrams as ``"a_b"``);
    ``lexicon``: more known terms and their counts."""
    words = [(m.start(), m.end(), m.group().casefold()) for m in _WORD.finditer(query)]
    marked = [has_marks(w) for _, _, w in words]
    if not words or all(marked):
        return None
    lexicon = lexicon or {}
    cands = [(w,) if m else spellings(w) for (_, _, w), m in zip(words, marked, strict=True)]
    if all(len(cs) == 1 for cs in cands):  # "Upselling là gì": nothing could change
        return None
    flat = sorted({c for cs in cands for c in cs})
    uni = {t: n + lexicon.get(t, 0) for t, n in zip(flat, counts(flat), strict=True)}
    # Keep what occurs; the syllable as typed always stays as the fallback.
    cands = [[c for c in cs if c == cs[0] or uni[c] > 0] for cs in cands]
    pairs = sorted({f"{a}_{b}" for left, right in zip(cands, cands[1:], strict=False)
                    for a in left for b in right})
    pair = {t: n + lexicon.get(t, 0) for t, n in zip(pairs, counts(pairs), strict=True)}
    # Typed with diacritics elsewhere, a bare syllable is more likely meant bare ("khi",
    # "cho": function words the index does not count alone) than forgotten.
    bonus = TYPED_BONUS if any(marked) else 0.0
    base = [{c: math.log1p(uni[c]) + (bonus if c == cs[0] and uni[c] else 0.0) for c in cs}
            for cs in cands]
    best = _viterbi(cands, base, pair)
    if best == [w for _, _, w in words]:
        return None
    out, last = [], 0
    for (start, end, typed), chosen in zip(words, best, strict=True):
        original = query[start:end]
        out.append(query[last:start])
        out.append(original if chosen == typed else _same_case(original, chosen))
        last = end
    out.append(query[last:])
    return "".join(out)


def _viterbi(cands: list[list[str]], base: list[dict[str, float]],
             pair: dict[str, int]) -> list[str]:
    score = dict(base[0])
    back: list[dict[str, str]] = []
    for i in range(1, len(cands)):
        left, right = cands[i - 1], cands[i]
        step, came = {}, {}
        for b in right:
            prev = max(left, key=lambda a: score[a] + PAIR_WEIGHT * math.log1p(pair[f"{a}_{b}"]))
            step[b] = (score[prev] + PAIR_WEIGHT * math.log1p(pair[f"{prev}_{b}"])
                       + base[i][b])
            came[b] = prev
        score, back = step, [*back, came]
    path = [max(score, key=lambda c: score[c])]
    for came in reversed(back):
        path.append(came[path[-1]])
    return path[::-1]


def _same_case(original: str, chosen: str) -> str:
    if original.isupper() and len(original) > 1:
        return chosen.upper()
    return chosen[0].upper() + chosen[1:] if original[:1].isupper() else chosen


def lexicon(phrases: Iterable[str]) -> dict[str, int]:
    """Counts of the syllables and syllable pairs of ``phrases`` (one per phrase they
    occur in) and of :data:`COMMON`."""
    out: dict[str, int] = {}
    for phrase in [*COMMON * COMMON_COUNT, *phrases]:
        syllables = [w.casefold() for w in _WORD.findall(unicodedata.normalize("NFC", phrase))]
        terms = set(syllables) | {f"{a}_{b}" for a, b in zip(syllables, syllables[1:],
                                                              strict=False)}
        for t in terms:
            out[t] = out.get(t, 0) + 1
    return out
