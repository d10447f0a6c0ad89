"""Query stage: a misspelled word, searched as the close word the knowledge base uses.

"Treuprogramm" (for Treueprogramm, the glossary's German loyalty program) was no BM25
term and no glossary term: the lexical half of the ranking was empty, and search said
no passage clearly matched. So before the search reads a query, each of its words that
no indexed language knows is replaced by the closest word the knowledge base does use,
when one is close enough:

- words of Latin letters (en, de, vi), at least :data:`MIN_LETTERS` long, with no
  digit and not all capitals (codes, acronyms, numbers are meant as typed). Korean
  has its own rules (below);
- a word is known when its analysis in some indexed language (its Snowball stem in en
  and de, the syllable in vi, the word itself in the Korean index, where Kiwi keeps
  Latin words whole) occurs in a passage, when it is a stop word, or when a glossary
  term (as written or as analyzed: "Treueprogramme") or a common Vietnamese word has
  it. Nearly every word of a query is known, and that costs one cached analysis and
  one dictionary lookup per language: nothing else runs then;
- and a word English, German or Vietnamese use is no typo either, even when no article
  does: wordfreq's lists, taken from :data:`COMMON_ZIPF` on. A knowledge base of a few
  articles is no dictionary: against XQuAD's paragraphs alone, "percentage" became
  "parentage", "genre" "gene" and "mercy" "percy" (202 of 3,570 questions rewritten;
  benchmarks/spelling.py);
- the fix is within one edit (a letter inserted, dropped or changed, or two neighbours
  swapped), two from :data:`LONG_LETTERS` letters on, keeps the first letter, and gives
  no diacritics to a word typed without (:func:`plausible`). Fewest edits win, then the
  word more passages hold. Candidates are the index's own terms (rapidfuzz compares the
  word's stem and the word as typed with them) and the glossary's words; what is shown
  and searched is a word as a passage writes it, the form nearest the typed one
  ("Treueprogramms" for "Treuprogramms").

Korean (QA19: 마켓팅, a very common misspelling of 마케팅, found nothing) is compared jamo
by jamo, not syllable by syllable: 마켓팅 is one jamo (a final ㅅ) from 마케팅, though
two of its syllables differ. Only a noun Kiwi does not know is looked at (its ``oov``
guesses: never a particle, an ending or a verb, nor a word of Kiwi's dictionary, which
is Korean whatever the articles say), of :data:`KO_MIN_SYLLABLES` syllables or more,
that no passage, glossary term or wordfreq's Korean list has (wordfreq has 컨텐츠:
it is left as people write it). Its fix is a word of the Korean index or the glossary
within one jamo edit (two from :data:`KO_LONG_SYLLABLES` syllables), the first jamo
kept; a particle Kiwi read into the unknown word (방시혁이) is kept as typed. A
correct Korean query costs one look at the analysis search makes anyway: Kiwi runs
again only when some term of it is unknown.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from kb.accents import fold, has_marks
from kb.lexical import LexicalIndex, analyze_cached, is_stopword, ko_unknown_nouns

MIN_LETTERS = 5  # shorter words are too often another word one letter away
LONG_LETTERS = 10  # from here two edits are allowed
LANGS = ("en", "de", "vi")  # the languages written in Latin letters
# wordfreq's Zipf scale: 2.0 is once in 100 million words. Above it sit rare real words
# ("pertain" 2.9, "septicemia" 2.0, "Lindisfarne" 2.2); below, typos frequent enough to
# be counted ("parliment" 1.7, "marketting" 1.1), which are fixed.
COMMON_ZIPF = 2.0
CANDIDATES = 3  # closest index terms per language whose written form is looked up
SAMPLE_CHUNKS = 3  # passages read for a term's written form
# Korean nouns shorter than this are left alone: a two-syllable typo is one jamo from
# too many other words (KorQuAD, one jamo edit planted in a noun: 7.1% of two-syllable
# ones became another word, 0.8% of three-syllable ones; docs/retrieval.md).
KO_MIN_SYLLABLES = 3
KO_LONG_SYLLABLES = 5  # from here two jamo edits are allowed
# Particles (and a few endings) Kiwi reads into an unknown noun before them (방시혁이,
# 헤잂그가, 조문한), longest first.
PARTICLES = ("에서", "에게", "으로", "까지", "부터", "이", "가", "은", "는", "을", "를", "의",
             "에", "와", "과", "도", "로", "만", "한", "할", "된")

_WORD = re.compile(r"[^\W_]+")
_HANGUL = re.compile("[\uac00-\ud7a3]+")  # precomposed syllables
# Latin letters: Basic, Latin-1, Extended-A/B, and Extended Additional (Vietnamese).
_LATIN = re.compile(r"[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff]+")

# chunk ids -> their texts (the store's)
Texts = Callable[[Sequence[int]], Iterable[str]]


def korean_eligible(word: str) -> bool:
    """Whether ``word`` is Hangul syllables only and long enough to be corrected."""
    return len(word) >= KO_MIN_SYLLABLES and _HANGUL.fullmatch(word) is not None


def korean_max_edits(word: str) -> int:
    """How many jamo a fix of the Korean ``word`` may change: 1, or 2 when long."""
    return 1 if len(word) < KO_LONG_SYLLABLES else 2


def korean_plausible(typed: str, form: str, edits: int) -> bool:
    """Whether the Korean ``form`` can be what ``typed`` meant, ``edits`` jamo apart: a
    word long enough, the first jamo kept (as :func:`plausible` keeps the first letter),
    and two edits never just add or drop a syllable, which makes another word or the
    same one with a particle (KorQuAD: 뉘르부르크링 is no typo of 뉘르부르크링이,
    후지와라느 none of 후지와라)."""
    return (0 < edits <= korean_max_edits(typed) and korean_eligible(form)
            and jamo(form)[0] == jamo(typed)[0]
            and (edits < 2 or (form not in typed and typed not in form)))


@lru_cache(maxsize=4096)
def jamo(word: str) -> str:
    """``word`` with each Hangul syllable split into its jamo (NFD; others unchanged)."""
    return unicodedata.normalize("NFD", word)


def max_edits(word: str) -> int:
    """How many edits a fix of ``word`` may make: 0 (never fixed), 1 or 2."""
    n = len(word)
    return 0 if n < MIN_LETTERS else 1 if n < LONG_LETTERS else 2


def eligible(word: str) -> bool:
    """Whether ``word`` may be corrected at all: Latin letters only, long enough, not all
    capitals."""
    return max_edits(word) > 0 and not word.isupper() and _LATIN.fullmatch(word) is not None


def distance(a: str, b: str) -> int:
    """Edits between two words: optimal string alignment, as the candidates are found."""
    from rapidfuzz.distance import OSA

    return int(OSA.distance(a, b))


def plausible(typed: str, form: str, edits: int) -> bool:
    """Whether ``form`` (casefolded) can be what ``typed`` (casefolded) meant, ``edits``
    apart: within :func:`max_edits`, the first letter kept (people seldom mistype it:
    "Landedaten" is no "Kandidaten"), two edits never just add or drop letters at an
    end, which makes another word ("unentwickelt", "dekomprimiert" are not typos of
    "entwickelt", "komprimiert"; benchmarks/spelling.py found both in XQuAD), and a word
    typed without diacritics is not given some: that is kb.accents' work, for a whole
    Vietnamese query ("tiep thi ha nguon" had "nguồn" alone restored)."""
    return (0 < edits <= max_edits(typed) and form[:1] == typed[:1]
            and (edits < 2 or (form not in typed and typed not in form))
            and not (fold(form) == typed and not has_marks(typed)))


@dataclass(frozen=True)
class Speller:
    """The corrections one index and glossary allow.

    ``lex``: the lexical index; ``known``: folded words known besides its terms (the
    glossary's, common Vietnamese words); ``texts``: reads passages, for the written
    form of a term; ``tokens``: a language's glossary terms as analyzed (an inflected
    term is known too)."""

    lex: LexicalIndex
    known: frozenset[str]
    texts: Texts
    tokens: Callable[[str], frozenset[str]] = lambda lang: frozenset()

    def correct(self, query: str) -> str | None:
        """``query`` with its misspelled words fixed, or None when none is."""
        fixes = sorted([*self._latin_fixes(query), *self._korean_fixes(query)])
        if not fixes:
            return None
        out, last = [], 0
        for start, end, fixed in fixes:
            out += [query[last:start], fixed]
            last = end
        return "".join([*out, query[last:]])

    def _latin_fixes(self, query: str) -> list[tuple[int, int, str]]:
        """(start, end, fix) of each misspelled word of Latin letters in ``query``."""
        fixes = []
        for m in _WORD.finditer(query):
            word = m.group()
            fixed = self.fix(word) if eligible(word) and not self.knows(word) else None
            if fixed is not None:
                fixes.append((m.start(), m.end(), fixed))
        return fixes

    def _korean_fixes(self, query: str) -> list[tuple[int, int, str]]:
        """(start, end, fix) of each misspelled Korean noun in ``query``: only its noun,
        so a particle stays as typed (마켓팅이 -> 마케팅이)."""
        if "ko" not in self.lex.langs or not _HANGUL.search(query):
            return []
        if unicodedata.normalize("NFC", query) != query:
            return []  # Kiwi's offsets would not be the query's
        # Search analyzes the query in Korean anyway (cached): when each of its terms is
        # known (mostly to the index: one lookup for all), Kiwi is not asked again for
        # the nouns and their offsets. Short terms too: Kiwi cuts a typo into pieces
        # (태평꺙 is 태평 + 꺙), and an unknown piece is what gives it away.
        terms = [t for t in analyze_cached(query, "ko") if _HANGUL.fullmatch(t)]
        passages = self.lex.doc_freq("ko", terms)[0]
        if all(n or self.knows_korean(t) for t, n in zip(terms, passages, strict=True)):
            return []
        fixes = []
        for spans in ko_unknown_nouns(query):
            for start, end in spans:
                fixed = self._korean_fix(query[start:end])
                if fixed is not None:
                    fixes.append((start, end, fixed))
                    break
        return fixes

    def _korean_fix(self, word: str) -> str | None:
        """``word`` (an unknown noun as Kiwi cut it) fixed, or None. Kiwi often reads a
        particle into an unknown name (방시혁이, 헤잂그가): the word without it is
        looked at first, and the particle is kept."""
        for particle in [p for p in PARTICLES if word.endswith(p)]:
            stem = word[:-len(particle)]
            if korean_eligible(stem):
                if self.knows_korean(stem):
                    return None  # a known word and its particle: no typo
                fixed = self.fix_korean(stem)
                if fixed is not None:
                    return fixed + particle
        if not korean_eligible(word) or self.knows_korean(word):
            return None
        fixed = self.fix_korean(word)
        if fixed is not None and fixed[:-1] == word[:-1] and word[-1] in PARTICLES:
            return None  # another particle, not a fix (뉘르부르크링의 -> 뉘르부르크링이)
        return fixed

    def knows_korean(self, word: str) -> bool:
        """Whether a passage, the glossary or wordfreq's Korean list has ``word``."""
        return (self.lex.doc_freq("ko", [word])[0][0] > 0 or word in self.known
                or word in self.tokens("ko") or word in korean_words())

    def fix_korean(self, word: str) -> str | None:
        """The closest Korean word the knowledge base uses for ``word``, compared jamo by
        jamo (마켓팅 is one final ㅅ from 마케팅, 브렌딩 one vowel from 브랜딩), or None."""
        typed = jamo(word)
        limit = korean_max_edits(word)
        best: tuple[int, int, str] | None = None  # (edits, -passages, word)
        for term, edits, passages in self.lex.near("ko", typed, limit):
            if korean_plausible(word, term, edits) and (
                    best is None or (edits, -passages, term) < best):
                best = (edits, -passages, term)
        for form in self.known:
            if korean_eligible(form) and abs(len(jamo(form)) - len(typed)) <= limit:
                edits = distance(typed, jamo(form))
                if (korean_plausible(word, form, edits)
                        and (best is None or (edits, 0, form) < best)):
                    best = (edits, 0, form)
        return None if best is None else best[2]

    def knows(self, word: str) -> bool:
        """Whether some indexed language, the glossary or the stop word lists know it."""
        folded = unicodedata.normalize("NFC", word).casefold()
        if folded in self.known or any(is_stopword(folded, lang) for lang in LANGS):
            return True
        for lang in self.lex.langs:
            terms = (folded,) if lang == "ko" else analyze_cached(word, lang)
            if not terms or all(self.lex.doc_freq(lang, terms)[0]):
                return True
        for lang in LANGS:
            terms = analyze_cached(word, lang)
            if len(terms) == 1 and terms[0] in self.tokens(lang):
                return True
        return any(folded in common_words(lang) for lang in LANGS)

    def fix(self, word: str) -> str | None:
        """The closest word the knowledge base uses for ``word``, in ``word``'s case, or
        None when none is close enough."""
        typed = unicodedata.normalize("NFC", word).casefold()
        limit = max_edits(typed)
        best: tuple[int, int, str] | None = None  # (edits, -passages, written form)
        for lang in LANGS:
            terms = analyze_cached(word, lang) if lang in self.lex.langs else ()
            if len(terms) != 1:
                continue
            # Edits in the stem and in the word can differ by one ("Bündelng" is two
            # from "bundel", one from "Bündelung"): the written form decides. And a typo
            # can make an ending the stemmer strips ("campaing" stems to "campa"), so the
            # word as typed is compared with the terms too.
            near: dict[str, tuple[int, int]] = {}
            for probe in {terms[0], typed}:
                for t, edits, n in self.lex.near(lang, probe, limit + 1):
                    near[t] = min(near.get(t, (edits, n)), (edits, n))
            ranked = sorted(near, key=lambda t: (near[t][0], -near[t][1], t))
            for term in ranked[:CANDIDATES]:
                passages = near[term][1]
                form = term if lang == "vi" else self._written(lang, term, typed, limit)
                if form is None:
                    continue
                key = (distance(typed, form), -passages, form)
                if plausible(typed, form, key[0]) and (best is None or key < best):
                    best = key
        for form in self.known:
            if abs(len(form) - len(typed)) <= limit and form.isalpha():
                edits = distance(typed, form)
                if plausible(typed, form, edits) and (best is None or (edits, 0, form) < best):
                    best = (edits, 0, form)
        return None if best is None else _same_case(word, best[2])

    def _written(self, lang: str, term: str, typed: str, limit: int) -> str | None:
        """How passages write ``term`` (a stem): of their words that analyze to it, the
        one fewest edits from ``typed``."""
        forms = set()
        for text in self.texts(self.lex.chunks_with(lang, term, SAMPLE_CHUNKS)):
            for w in _WORD.findall(unicodedata.normalize("NFC", text)):
                if abs(len(w) - len(typed)) <= limit and analyze_cached(w, lang) == (term,):
                    forms.add(w.casefold())
        return min(forms, key=lambda f: (distance(typed, f), f), default=None)


@cache
def common_words(lang: str) -> frozenset[str]:
    """The words of ``lang`` (casefolded, as wordfreq keeps them) that wordfreq counts at
    least :data:`COMMON_ZIPF`, of :data:`MIN_LETTERS` letters or more: read once from its
    data file (0.2 s for en, de and vi; 242,000 words, about 34 MB kept), never through
    its lookup functions, which keep every word's frequency (over 100 MB)."""
    import wordfreq

    path = wordfreq.available_languages("best").get(lang)
    if path is None:
        return frozenset()
    buckets = wordfreq.read_cBpack(path)  # bucket i: words of frequency 10 ** (-i / 100)
    last = round((9 - COMMON_ZIPF) * 100)
    return frozenset(w for bucket in buckets[:last + 1] for w in bucket
                     if len(w) >= MIN_LETTERS)


@cache
def korean_words() -> frozenset[str]:
    """Every Korean word wordfreq lists (about 27,000, each counted at least Zipf 3.0):
    read from its data file like :func:`common_words`; its lookup functions need MeCab
    to split Korean, which kb does not install."""
    import wordfreq

    path = wordfreq.available_languages("best").get("ko")
    if path is None:
        return frozenset()
    return frozenset(w for bucket in wordfreq.read_cBpack(path) for w in bucket
                     if _HANGUL.fullmatch(w))


def _same_case(typed: str, form: str) -> str:
    """``form`` cased as ``typed`` is: all lower, or a capital first."""
    if typed.islower():
        return form.lower()
    return form[:1].upper() + form[1:]
