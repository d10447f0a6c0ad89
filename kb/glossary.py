"""The concept glossary: marketing concepts with their terms in ko/en/de/vi.

Search uses it to carry the concepts a query names into the other languages' lexical
indexes, because BM25 across languages is noise unless the query is translated. A
concept matches when every analyzed token of one of its terms occurs in the query,
analyzed with that term's language analyzer (so 크로스셀링의 matches 크로스셀링 and
"Bündelung von Produkten" matches Bündelung).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from kb.errors import KBError
from kb.language import SUPPORTED
from kb.lexical import analyze_cached, analyzer_fingerprint, phrase_runs, seed_analyses
from kb.store import atomic_write_text

log = logging.getLogger(__name__)

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "corpus" / "glossary.yaml"


@dataclass(frozen=True)
class Concept:
    id: str
    names: dict[str, str]
    terms: dict[str, list[str]]
    # "concept": a marketing concept, with a card. "word": the glossary's ``words``,
    # what questions ask for ("example", "Rolle", "차이", "lợi ích"), matched and carried
    # across languages like concepts but no topic of their own: no card, not searched
    # for. "name": a brand or product written in other scripts ("Amazon", "아마존"):
    # carried into the other script's keyword lists and scored in answer sentences like
    # a concept, but no card, no concept coverage in search, and no evidence that a
    # question is answered ("Who founded Starbucks?" names what the corpus has).
    # "topic": what articles talk about that is no marketing concept of its own ("sales
    # team"): searched for and scored like a concept, but no card (QA22 F10: as a term of
    # "sales enablement", every sentence on a sales team filled that card).
    kind: str = "concept"

    @property
    def card(self) -> bool:
        return self.kind == "concept"

    @property
    def subject(self) -> bool:
        """What a question can be about: a concept or a topic, not a question word or a
        brand."""
        return self.kind in SUBJECTS

    def to_dict(self) -> dict[str, object]:
        """Its id, kind, and the names and terms of the languages it has them in."""
        return {"id": self.id, "kind": self.kind,
                "names": {k: v for k, v in self.names.items() if v},
                "terms": {k: v for k, v in self.terms.items() if v}}

    @property
    def searched(self) -> bool:
        return self.kind != "word"

    @property
    def version(self) -> str:
        """A stamp of its id, kind, names and terms (its ETag): an edit made from an older
        one is refused rather than undo the edit made since (QA17)."""
        blob = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


SUBJECTS = frozenset({"concept", "topic"})

_LITERAL_MIN = 4  # shorter terms match only as analyzed tokens: as text they hide in other words


@dataclass(frozen=True)
class _TermIndex:
    # language -> first analyzed token -> (concept index, all the term's tokens)
    by_token: dict[str, dict[str, list[tuple[int, tuple[str, ...]]]]]
    # first _LITERAL_MIN folded characters -> (concept index, folded term)
    by_prefix: dict[str, list[tuple[int, str]]]
    # a three-syllable Hangul term -> concept indexes (see Glossary.match)
    hangul3: dict[str, list[int]]


@dataclass(frozen=True)
class Glossary:
    concepts: list[Concept]
    # Where the Korean terms' analyses are kept between processes (None: not kept).
    cache_dir: Path | None = None

    @property
    def cards(self) -> list[Concept]:
        """The marketing concepts, without the question words."""
        return [c for c in self.concepts if c.card]

    @cached_property
    def _index(self) -> _TermIndex:
        """Every term, indexed by its first analyzed token and its first characters:
        worked out once, on the first query."""
        if self.cache_dir is not None:
            _seed_korean_terms(self.concepts, self.cache_dir)
        by_token: dict[str, dict[str, list[tuple[int, tuple[str, ...]]]]] = {}
        by_prefix: dict[str, list[tuple[int, str]]] = {}
        hangul3: dict[str, list[int]] = {}
        for i, concept in enumerate(self.concepts):
            for lang, terms in concept.terms.items():
                for term in terms:
                    tokens = _term_tokens(term, lang)
                    if tokens:
                        by_token.setdefault(lang, {}).setdefault(tokens[0], []).append((i, tokens))
                    folded = unhyphen(fold(term))
                    if len(folded) >= _LITERAL_MIN:
                        by_prefix.setdefault(folded[:_LITERAL_MIN], []).append((i, folded))
                    elif len(folded) == 3 and all("가" <= ch <= "힣" for ch in folded):
                        hangul3.setdefault(folded, []).append(i)
        return _TermIndex(by_token, by_prefix, hangul3)

    def language_of(self, query: str) -> str | None:
        """The language of the glossary term ``query`` is, word for word, when it is a
        term of one language only; else None. QA16: "Treueprogramm" alone was read as
        English, since langdetect cannot tell one word's language; "Upselling" is a
        term in English, German and Vietnamese, and stays the detector's call."""
        langs = self._term_langs.get(_bare(query), ())
        return next(iter(langs)) if len(langs) == 1 else None

    def has_term(self, text: str, lang: str) -> bool:
        """Whether ``text`` holds one of the glossary's terms in ``lang``, whole words."""
        padded = f" {_bare(text)} "
        return any(f" {term} " in padded for term, langs in self._term_langs.items()
                   if lang in langs)

    @cached_property
    def words(self) -> frozenset[str]:
        """Every word of every term and name, folded: a query word the glossary knows is
        never taken for a misspelling (kb.spelling), and a close one can be its fix."""
        texts = [t for c in self.concepts for terms in c.terms.values() for t in terms]
        texts += [n for c in self.concepts for n in c.names.values()]
        return frozenset(w for t in texts for w in _WORDS.findall(fold(t)))

    def tokens(self, lang: str) -> frozenset[str]:
        """The analyzed tokens of the glossary's ``lang`` terms: a query word that
        analyzes to one is no misspelling either (kb.spelling: "Treueprogramme" is the
        term Treueprogramm, as the glossary matches it)."""
        found = self._tokens.get(lang)
        if found is None:
            found = self._tokens[lang] = frozenset(
                t for c in self.concepts for term in c.terms.get(lang, ())
                for t in analyze_cached(term, lang))
        return found

    @cached_property
    def _tokens(self) -> dict[str, frozenset[str]]:
        return {}

    def has_term_unmarked(self, text: str, lang: str) -> bool:
        """Whether ``text`` holds one of the glossary's terms in ``lang`` once both lose
        their diacritics ("he thong goi y" in "Hê thông gợi ý")."""
        from kb.accents import fold as unmark

        padded = f" {unmark(_bare(text))} "
        return any(f" {term} " in padded for term in self._unmarked_terms.get(lang, ()))

    @cached_property
    def _unmarked_terms(self) -> dict[str, frozenset[str]]:
        from kb.accents import fold as unmark

        out: dict[str, set[str]] = {}
        for term, langs in self._term_langs.items():
            for lang in langs:
                out.setdefault(lang, set()).add(unmark(term))
        return {lang: frozenset(ts) for lang, ts in out.items()}

    @cached_property
    def _term_langs(self) -> dict[str, frozenset[str]]:
        langs: dict[str, set[str]] = {}
        for concept in self.concepts:
            for lang, terms in concept.terms.items():
                for term in terms:
                    langs.setdefault(_bare(term), set()).add(lang)
        return {t: frozenset(ls) for t, ls in langs.items() if t}

    def match(self, query: str) -> list[Concept]:
        """Concepts whose terms (in any language) occur in ``query``, in glossary order
        (the last few queries' kept: search asks more than once).
        """
        found = self._matched.get(query)
        if found is None:
            found = self._match(query)
            if len(self._matched) > 64:
                self._matched.clear()
            self._matched[query] = found
        return list(found)

    @cached_property
    def _matched(self) -> dict[str, list[Concept]]:
        return {}

    @cached_property
    def _mentions(self) -> dict[tuple[str, str, str], bool]:
        return {}

    def _match(self, query: str) -> list[Concept]:
        """Concepts whose terms (in any language) occur in ``query``, in glossary order.

        Looked up from the query's side (its tokens, its 4-character windows) rather than
        testing every term: matching every term cost 0.35 ms a query with ~170 terms.
        """
        index = self._index
        folded = fold(query)
        found: set[int] = set()
        for lang, by_first in index.by_token.items():
            # A language's terms can only match a query written in its script:
            # this skips Kiwi (about 0.5 ms) for queries without Hangul.
            if not _has_script(folded, lang):
                continue
            analyzed = frozenset(analyze_cached(query, lang))
            for token in analyzed:
                for i, tokens in by_first.get(token, ()):
                    if i not in found and all(t in analyzed for t in tokens):
                        found.add(i)
        # Loanwords written in another script's query ("Upselling là gì?") match literally,
        # hyphens aside: "Up-Selling" is how German often writes "Upselling".
        literal = unhyphen(folded)
        for pos in range(len(literal) - _LITERAL_MIN + 1):
            for i, term in index.by_prefix.get(literal[pos : pos + _LITERAL_MIN], ()):
                if i not in found and literal.startswith(term, pos):
                    found.add(i)
        # Kiwi analyzes a Korean loanword by its context: "번들링" alone, but "번들" and
        # "링" in "번들링은 무엇입니까", which then named no concept (QA). Three Hangul
        # syllables are specific enough to match as text.
        if index.hangul3 and _has_script(folded, "ko"):
            for pos in range(len(literal) - 2):
                found.update(index.hangul3.get(literal[pos : pos + 3], ()))
        return [self.concepts[i] for i in sorted(found)]

    @staticmethod
    def naming(concept: Concept, query: str, lang: str, words: list[str]) -> set[str]:
        """The words of ``query`` (its analyzed ``lang`` ``words``) that name
        ``concept``: a term's analysis, or the words inside a term written literally in
        it (a loanword, a word Kiwi splits differently, or one hyphenated: "Up-Selling"
        for "Upselling")."""
        folded = unhyphen(fold(query))
        have = set(words)
        tokens: set[str] = set()
        for terms in concept.terms.values():
            for term in terms:
                in_q = set(analyze_cached(term, lang))
                if in_q and in_q <= have:
                    tokens |= in_q
                elif (literal := unhyphen(fold(term))) in folded:
                    tokens |= {w for w in words if w in literal}
        return tokens

    def share(self, query: str, words: list[str], lang: str, concepts: list[Concept],
              framing: list[Concept], idf: Callable[[list[str]], list[float]]) -> float:
        """How much of ``query`` (its content ``words``, analyzed in ``lang``, weighted by
        ``idf``) the ``concepts`` account for, with the ``framing`` words the glossary
        knows questions by ("example", "Rolle"): 1.0 for "Was ist Upselling?" and
        "Bundling Beispiel", about a half for "Churn prediction and loyalty program",
        where "churn prediction" is no concept."""
        if not words or not concepts:
            return 0.0
        inside = set().union(*(self.naming(c, query, lang, words) for c in [*concepts, *framing]))
        weights = idf(words)
        total = sum(weights)
        return sum(w for t, w in zip(words, weights, strict=True) if t in inside) / total \
            if total > 0 else 0.0

    def coverage(
        self, concepts: list[Concept], chunks: dict[int, tuple[str, str]]
    ) -> dict[int, float]:
        """How much of the query's ``concepts`` each chunk mentions, in [0, 1].

        A chunk mentions a concept when one of the concept's terms occurs in it as a
        contiguous run of analyzed tokens (in the chunk's language). Concepts are
        weighted by their rarity among ``chunks`` (idf), so a chunk naming the specific
        concept of a question ("recommendation system") outranks the many that only
        name the broad one ("cross-selling"). ``chunks`` maps id to (language, the
        chunk's terms as :func:`joined_terms` gives them).
        """
        if not concepts or not chunks:
            return {}
        # Whether a chunk mentions a concept, kept: the same passages come back query
        # after query, and testing each term's forms in their text was a quarter of a
        # search's own time (0.5 ms of 2; stop 37). The joined strings are the search's
        # cached ones, so their hashes are too.
        seen = self._mentions
        if len(seen) > 200_000:
            seen.clear()
        mentions: dict[int, list[bool]] = {}
        for cid, (lang, joined) in chunks.items():
            row = []
            for c in concepts:
                key = (c.id, lang, joined)
                hit = seen.get(key)
                if hit is None:
                    hit = seen[key] = any(p in joined for t in c.terms.get(lang, [])
                                          for p in _joined_term(t, lang))
                row.append(hit)
            mentions[cid] = row
        n = len(chunks)
        df = [sum(m[i] for m in mentions.values()) for i in range(len(concepts))]
        idf = [math.log(1 + n / d) if d else 0.0 for d in df]
        total = sum(idf) or 1.0
        out = {}
        for cid, m in mentions.items():
            score = sum(w for w, hit in zip(idf, m, strict=True) if hit) / total
            if score > 0:
                out[cid] = score
        return out

    def expand(
        self, query: str, concepts: list[Concept] | None = None
    ) -> dict[str, list[str]]:
        """Per language, the terms of every concept the query names (``concepts``, when
        the caller has matched them already)."""
        out: dict[str, list[str]] = {}
        hangul = _has_script(fold(query), "ko")
        for concept in self.match(query) if concepts is None else concepts:
            for lang, terms in concept.terms.items():
                # A brand name is carried only into another script ("Amazon" to 아마존):
                # "Amazon" from English to German adds nothing but every passage on the
                # Amazon rainforest in XQuAD (stop 26).
                if concept.kind == "name" and (lang == "ko") == hangul:
                    continue
                out.setdefault(lang, []).extend(terms)
        return out


KEPT_ANALYSES = 4  # glossary versions whose Korean analyses stay in the cache


def _seed_korean_terms(concepts: list[Concept], cache_dir: Path) -> None:
    """Reuse the Korean terms' analyses an earlier process worked out, or work them out
    and keep them. Analyzing them is what made every process load Kiwi (1.0 s of a
    2.8 s `kb search`), even for a query in another language that names no concept."""
    terms = sorted({t for c in concepts for t in c.terms.get("ko", [])})
    if not terms:
        return
    key = json.dumps([analyzer_fingerprint("ko"), terms], ensure_ascii=False)
    path = cache_dir / "glossary" / f"ko-{hashlib.sha256(key.encode()).hexdigest()[:20]}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("key") == key and set(data["terms"]) == set(terms):
            seed_analyses("ko", {t: tuple(v) for t, v in data["terms"].items()})
            return
    except (OSError, ValueError, KeyError, AttributeError, TypeError):
        pass  # absent or unreadable: work them out again
    analyses = {t: list(analyze_cached(t, "ko")) for t in terms}
    try:  # atomic: a concurrent reader sees all of it or none
        atomic_write_text(path, json.dumps({"key": key, "terms": analyses}, ensure_ascii=False))
        # One file a glossary version: an edited glossary (kb concepts, the Concepts
        # page) would leave one behind at every edit. The newest few stay, for other
        # processes still on an older version.
        for old in sorted(path.parent.glob("ko-*.json"), key=lambda p: p.stat().st_mtime,
                          reverse=True)[KEPT_ANALYSES:]:
            old.unlink(missing_ok=True)
    except OSError as exc:  # a read-only cache only costs the next process the time
        log.debug("could not keep the glossary's analyses in %s: %s", path, exc)


def _term_tokens(term: str, lang: str) -> tuple[str, ...]:
    return analyze_cached(term, lang)


def joined_terms(terms: list[str] | tuple[str, ...]) -> str:
    """A chunk's (or term's) analyzed tokens as one string, so a run of tokens is a
    substring test: the unit separator cannot occur inside a token."""
    return "\x1f" + "\x1f".join(terms) + "\x1f"


@lru_cache(maxsize=4096)
def _joined_term(term: str, lang: str) -> tuple[str, ...]:
    """The term's forms as :func:`joined_terms` strings; a chunk mentions the term when
    one of them occurs in the chunk's joined terms."""
    return tuple(joined_terms(run) for run in phrase_runs(term, lang))


def _has_script(text: str, lang: str) -> bool:
    if lang == "ko":
        return any("\uac00" <= ch <= "\ud7a3" or "\u3131" <= ch <= "\u318e" for ch in text)
    return any("a" <= ch <= "z" or "\u00c0" <= ch <= "\u024f" or "\u1e00" <= ch <= "\u1eff"
               for ch in text)


def fold(text: str) -> str:
    """Text as compared: NFC, case-folded."""
    return unicodedata.normalize("NFC", text).casefold()


def _bare(text: str) -> str:
    """Text as a glossary term is compared whole: folded, its words alone."""
    return " ".join(_WORDS.findall(unhyphen(fold(text))))


_WORDS = re.compile(r"[^\W_]+")
_WORD_HYPHEN = re.compile(r"(?<=\w)[-\u2010\u2011](?=\w)")


def unhyphen(text: str) -> str:
    return _WORD_HYPHEN.sub("", text)


def load_glossary(path: Path | None = None, *, cache_dir: Path | None = None) -> Glossary:
    """Read the glossary YAML; an absent file gives an empty glossary. ``cache_dir``:
    where its Korean terms' analyses are kept for the next process."""
    import yaml

    path = path or DEFAULT_PATH
    if not path.exists():
        return Glossary([])
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise GlossaryError(f"{path}: the glossary is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise GlossaryError(f"{path}: the glossary is not a mapping of concepts, topics, "
                            "words and names")
    concepts = []
    seen: set[str] = set()
    for section, kind in (("concepts", "concept"), ("topics", "topic"), ("words", "word"),
                          ("names", "name")):
        items = data.get(section, None) or []
        if not isinstance(items, list):
            raise GlossaryError(f"{path}: `{section}` is not a list of entries")
        for n, item in enumerate(items, 1):
            where = f"{path}: entry {n} of `{section}`"
            if not isinstance(item, dict) or item.get("id") in (None, ""):
                raise GlossaryError(f"{where} has no id (each entry is `- id: …` with its "
                                    "`terms`)")
            concept_id = str(item["id"])
            if concept_id in seen:
                raise GlossaryError(f"{where}: the id {concept_id!r} is taken by another "
                                    "entry")
            seen.add(concept_id)
            terms_by_lang, names_by_lang = item.get("terms") or {}, item.get("names") or {}
            if not isinstance(terms_by_lang, dict) or not isinstance(names_by_lang, dict):
                raise GlossaryError(f"{where} ({concept_id!r}): `terms` and `names` are "
                                    "mappings by language (en: [churn, churn rate])")
            terms = {lang: split_terms(terms_by_lang.get(lang)) for lang in SUPPORTED}
            names = {
                lang: str(names_by_lang.get(lang) or (terms[lang] or [""])[0])
                for lang in SUPPORTED
            }
            concepts.append(Concept(id=concept_id, names=names, terms=terms, kind=kind))
    return Glossary(concepts, cache_dir)


class GlossaryError(KBError):
    """The glossary file cannot be read as a glossary (a hand edit to fix): a search
    goes on with the glossary read before, and an edit is refused until it is fixed."""

    status = 409


def split_terms(value: object) -> list[str]:
    """A language's terms: a list, or one comma-separated string ("churn, churn rate";
    QA15: `en: hello world`, written without brackets, became eleven one-letter terms),
    each with its spaces collapsed."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        items = [items]
    return [" ".join(str(t).split()) for t in items if str(t).strip()]
