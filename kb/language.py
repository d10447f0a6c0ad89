"""Language tagging: deterministic langdetect, with script shortcuts and fallbacks."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence

from kb.accents import fold
from kb.errors import BadInputError

SUPPORTED = ("ko", "en", "de", "vi")
LANG_NAMES = {"ko": "Korean", "en": "English", "de": "German", "vi": "Vietnamese"}

# Below this many letters a detection is a guess; callers fall back to the article's language.
MIN_LETTERS = 40

# A Hangul syllable is one character for two or three letters, so Korean prose that
# names English titles or terms ("2006년 E3에서 바이오쇼크는 ... "Trailer of the Year"
# 상을") can have under a quarter of its letters in Hangul. At one half, 7 KorQuAD
# paragraphs (23-47% Hangul) went to langdetect and were tagged English.
HANGUL_SHARE = 0.2
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_LETTER = re.compile(r"[^\W\d_]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_lock = threading.Lock()
_factory_loaded = False


def _detect_langs(text: str) -> list[tuple[str, float]]:
    """langdetect with a fixed seed, so the same text always gets the same answer."""
    global _factory_loaded
    from langdetect import DetectorFactory, detector_factory
    from langdetect.lang_detect_exception import LangDetectException

    with _lock:
        if not _factory_loaded:
            DetectorFactory.seed = 0
            detector_factory.init_factory()
            _factory_loaded = True
        try:
            detector = detector_factory._factory.create()  # type: ignore[union-attr]
            detector.append(text)
            return [(lang.lang, lang.prob) for lang in detector.get_probabilities()]
        except LangDetectException:
            return []


# Language names a header or a field may give instead of the code ("lang: english"),
# in English, in the language itself, and in the other three (QA13: "unknown language
# 'english'").
NAMES = {
    "ko": ("korean", "한국어", "한국말", "koreanisch", "tiếng hàn", "tiếng hàn quốc"),
    "en": ("english", "영어", "englisch", "tiếng anh"),
    "de": ("german", "deutsch", "독일어", "tiếng đức"),
    "vi": ("vietnamese", "tiếng việt", "베트남어", "vietnamesisch"),
}
_BY_NAME = {name: code for code, names in NAMES.items() for name in names}


def names(langs: Sequence[str]) -> str:
    """The languages' names as a phrase: "Korean, English and German"."""
    named = [LANG_NAMES.get(x, x) for x in langs]
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]


def check_lang(lang: str, field: str = "lang") -> str:
    """Validate a user-given language: its code, or its name (:data:`NAMES`). ``field``:
    the input it came from, which the error names."""
    code = unicodedata.normalize("NFC", " ".join(lang.split())).casefold()
    code = _BY_NAME.get(code, code)
    if code not in SUPPORTED:
        raise BadInputError(
            f"unknown language {lang!r}: supported languages are {', '.join(SUPPORTED)}",
            fields=(field,))
    return code


def detect(text: str, *, fallback: str | None = None) -> str | None:
    """Return one of SUPPORTED for ``text``, or ``fallback`` when unsure.

    Hangul is unique to Korean, so text with a fair share of Hangul is Korean, even with
    stray Hanja (``分析``) that would push langdetect towards Chinese or Japanese.
    """
    letters = _LETTER.findall(text)
    if not letters:
        return fallback
    hangul = len(_HANGUL.findall(text))
    non_han = len(letters) - len(_HAN.findall(text))
    if hangul and hangul >= HANGUL_SHARE * max(non_han, 1):
        return "ko"
    if len(letters) < MIN_LETTERS and fallback is not None:
        return fallback
    probs = _detect_langs(text)
    for lang, prob in probs:
        if lang in SUPPORTED and prob >= 0.5:
            return lang
    return fallback


# Names for langdetect's codes of languages kb does not support, to say what a text is.
OTHER_NAMES = {
    "fr": "French", "es": "Spanish", "it": "Italian", "pt": "Portuguese", "nl": "Dutch",
    "ja": "Japanese", "zh-cn": "Chinese", "zh-tw": "Chinese", "ru": "Russian", "pl": "Polish",
    "sv": "Swedish", "da": "Danish", "no": "Norwegian", "fi": "Finnish", "tr": "Turkish",
    "id": "Indonesian", "th": "Thai", "ar": "Arabic", "cs": "Czech", "uk": "Ukrainian",
}


def unsupported(text: str) -> str | None:
    """The name of the unsupported language ``text`` is clearly in ("French (fr)"), or
    None when it is not clearly one of :data:`OTHER_NAMES`."""
    if len(_LETTER.findall(text)) < MIN_LETTERS:
        return None
    probs = _detect_langs(text)
    # Only well-known languages, and only when sure: langdetect calls Lorem ipsum Catalan.
    if not probs or probs[0][1] < 0.9 or probs[0][0] not in OTHER_NAMES:
        return None
    return f"{OTHER_NAMES[probs[0][0]]} ({probs[0][0]})"


# Function words decide short queries, where langdetect's n-gram statistics are thin
# ("Was ist Upstream-Marketing?" is mostly an English loanword).
_FUNCTION_WORDS = {
    "en": {
        "what",
        "is",
        "are",
        "the",
        "which",
        "how",
        "why",
        "should",
        "for",
        "and",
        "of",
        "do",
        "does",
        "a",
        "an",
        "to",
        "in",
        "with",
        "between",
        "vs",
        "difference",
        # "When was …" was read as German ("was" is German for "what"; stop 35).
        "when",
        "where",
        "who",
        "was",
        "were",
        "did",
    },
    "de": {
        "was",
        "ist",
        "sind",
        "der",
        "die",
        "das",
        "welche",
        "welcher",
        "wie",
        "warum",
        "sollte",
        "für",
        "und",
        "von",
        "gibt",
        "es",
        "mit",
        "dem",
        "den",
        "ein",
        "eine",
        "zwischen",
        "beim",
        "im",
        "unterschied",
        # "In welchem Jahr starb Tesla?" was read as English ("in"; stop 35).
        "welchem",
        "welchen",
        "welches",
        "wann",
        "wer",
        "wo",
        "wurde",
        "wurden",
        "war",
        "hat",
        "wird",
        "werden",
        "einer",
        "einem",
    },
    # With the unaccented spellings of the words that give Vietnamese away, as typed
    # without a Vietnamese keyboard ("ban them la gi" was taken for English).
    "vi": {"là", "gì", "của", "và", "các", "những", "như", "thế", "nào", "tại", "sao",
           "la", "gi", "cua", "cac", "nhung", "nhu", "nao", "khong", "duoc", "lam"},
}
_WORD = re.compile(r"[^\W\d_]+")


# An unaccented Vietnamese syllable: initial consonants, one to three vowels, and one
# of the finals Vietnamese allows.
_VI_SYLLABLE = re.compile(
    r"^(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?[aeiouy]{1,3}"
    r"(?:ng|nh|ch|[cmnpt])?$", re.I)


_ACRONYM = re.compile(r"^[A-Z][A-Z0-9&/-]{1,7}s?[?!.,]?$")


def maybe_unaccented_vi(text: str) -> bool:
    """Whether ``text`` could be Vietnamese typed without its diacritics: two or more
    words, each of them a Vietnamese syllable's shape ("ban them", "goi san pham")."""
    if not text.isascii():
        return False
    words = _WORD.findall(text)
    return len(words) >= 2 and all(_VI_SYLLABLE.match(w) for w in words)


def detect_query(text: str) -> str:
    """Language of a query: short queries are common, so always return a best guess."""
    return guess_query(text)[0]


# langdetect's own guess among the supported languages counts as sure from this
# probability on: for one word it is either near 1 ("Kundenstamm" de .99999) or a share
# of a few unsupported guesses ("Marktsituation": fi .86, en .14).
_SURE = 0.5


def guess_query(text: str) -> tuple[str, bool]:
    """Language of a query and whether anything in it says so: its script, its function
    words, or a confident langdetect. A guess that is not sure (a lone word langdetect
    takes for Finnish, Italian or Danish, and "en" by default) is worth checking
    against the words the knowledge base holds (KnowledgeBase.query_language)."""
    letters = _LETTER.findall(text)
    if _HANGUL.search(text) and len(_HANGUL.findall(text)) >= 0.3 * max(len(letters), 1):
        return "ko", True
    if re.search(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", text, re.I):
        return "vi", True
    words = [w.casefold() for w in _WORD.findall(text)]
    votes = {lang: sum(w in fw for w in words) for lang, fw in _FUNCTION_WORDS.items()}
    best = max(votes.values())
    if best and list(votes.values()).count(best) == 1:
        return max(votes, key=lambda lang: votes[lang]), True
    if _HANGUL.search(text) and not best:
        # Any Hangul is a Korean asker unless the sentence around it is another
        # language's: "upselling이 뭐야", "Instagram Reels 알고리즘" (but "What is
        # 크로스셀링?" is English). Hangul syllables are few letters for what they say,
        # so the share above misses such mixes.
        return "ko", True
    if words and all(_ACRONYM.match(w) for w in re.findall(r"\S+", text)):
        # "SEO", "ROI", "B2B": langdetect guesses (German, QA9); marketing's acronyms
        # are English ones.
        return "en", True
    probs = _detect_langs(text)
    ranked = [(p, lang) for lang, p in probs if lang in SUPPORTED]
    if 2 * sum(bool(_VI_SYLLABLE.match(fold(w))) for w in words) < len(words):
        # Vietnamese without its diacritics is still Vietnamese syllables ("tiep thi
        # nguoc dong"), but for names ("Jacksonville cách Miami bao xa?"); mostly words
        # that cannot be one are not Vietnamese: langdetect read "NPS" and "churn" as
        # Vietnamese (QA9), so BM25 searched the Vietnamese index.
        ranked = [(p, lang) for p, lang in ranked if lang != "vi"]
    if ranked:
        p, lang = max(ranked)
        return lang, p >= _SURE
    if re.search(r"[äöüß]", text, re.I):
        return "de", True
    return "en", False
