"""What an answer says of its languages, for a reader who may not read them all.

An answer quotes the articles' own sentences, in whatever language they are written:
an English "what is bundling" gets five Korean lines. QA19 F8: the only hint was grey
text under the answer, "in Korean (none in English)", which also read as "the
knowledge base has nothing in English", wrong where the asker's language has an article
on it that search ranked lower (a Vietnamese question in English words).

:func:`describe_languages` says which languages the answer quotes, and how many of its sentences
are in the asker's language; when fewer than half are and the question names glossary
concepts, each one's *bridge*: its names in the four languages, whether any article in
the asker's language names it, and the question that asks it there. The Ask page shows
it above the answer; /api/ask and ``kb ask`` give the same (``Answer.languages``).
"""

from __future__ import annotations

import threading
import weakref
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from kb import language
from kb.language import LANG_NAMES, SUPPORTED

if TYPE_CHECKING:
    from kb.core import KnowledgeBase
    from kb.glossary import Concept

# How many passages in the asker's language are looked through for one that names a
# concept the answer only quotes in other languages.
OWN_PASSAGES = 5
T = TypeVar("T")


@dataclass(frozen=True)
class Bridge:
    """A concept the question names, in the four languages."""

    concept_id: str
    names: tuple[tuple[str, str], ...]  # (language, name), in SUPPORTED order
    # Whether an article in the asker's language names it (then ``ask`` asks it there).
    own: bool
    ask: str | None  # "Tiếp thị ngược dòng là gì?": the question in the asker's language
    # Whether the question asked is that question already (then nothing is offered).
    asked_it: bool = False

    def to_dict(self) -> dict[str, object]:
        return {"concept_id": self.concept_id,
                "names": [{"lang": x, "name": n} for x, n in self.names],
                "own": self.own, "ask": self.ask}


@dataclass(frozen=True)
class Languages:
    """The languages an answer quotes, said for the asker (``lang``)."""

    lang: str
    quoted: tuple[tuple[str, int], ...]  # (language, sentences), most first
    summary: str  # "In Korean: no English sentence in this answer."
    text: str  # the summary, and what the bridges add ("Vietnamese articles do name …")
    bridges: tuple[Bridge, ...] = ()

    @property
    def own(self) -> int:
        """How many of the answer's sentences are in the asker's language."""
        return dict(self.quoted).get(self.lang, 0)

    @property
    def foreign(self) -> bool:
        """Whether fewer than half of the sentences are in the asker's language."""
        return 2 * self.own < sum(n for _, n in self.quoted)

    def to_dict(self) -> dict[str, object]:
        return {"lang": self.lang, "own": self.own, "foreign": self.foreign,
                "quoted": [{"lang": x, "sentences": n} for x, n in self.quoted],
                "summary": self.summary, "text": self.text,
                "bridges": [b.to_dict() for b in self.bridges]}




def _order(lang: str) -> int:
    return SUPPORTED.index(lang) if lang in SUPPORTED else len(SUPPORTED)


def describe_languages(kb: KnowledgeBase, question: str, lang: str,
                       sentence_langs: Sequence[str]) -> Languages:
    """The languages of an answer to ``question`` (as searched, in ``lang``) whose
    sentences are in ``sentence_langs``, one a sentence."""
    counts = Counter(sentence_langs)
    quoted = tuple(sorted(counts.items(), key=lambda kv: (-kv[1], _order(kv[0]))))
    out = Languages(lang, quoted, "", "")
    bridges = _bridges(kb, question, lang) if out.foreign else ()
    # QA25 F11: "What is a KPI?" was offered "What does ‘KPI’ mean?", whose answer led
    # with the same Korean sentence and quoted one English sentence more. An offer
    # stands only when its answer opens in the asker's language and quotes more of it.
    bridges = tuple(b if b.ask is None or _leads_in(kb, b.ask, lang, out.own)
                    else replace(b, ask=None) for b in bridges)
    mine = LANG_NAMES.get(lang, lang)
    total = sum(counts.values())
    summary = f"In {language.names([x for x, _ in quoted])}"
    if out.own == total:
        summary += "."
    elif out.own:
        summary += f": {out.own} of {total} sentences in {mine}."
    else:  # not "none in English": that read as "the knowledge base has none" (QA19 F8)
        summary += f": no {mine} sentence in this answer."
    text = summary
    for b in bridges:
        name = dict(b.names).get(lang) or dict(b.names).get("en") or b.concept_id
        if b.own and b.ask:  # "What does “bundling” mean?": quotes within quotes
            asked = b.ask.translate(str.maketrans("“”„", "‘’‚"))
            text += f" {mine} articles do name {name}: ask “{asked}”."
        elif b.own and not b.asked_it:
            text += f" {mine} articles do name {name}."
        elif not b.own and out.own == 0:
            text += f" No {mine} article names {name} yet."
    return Languages(lang, quoted, summary, text, bridges)


# Quotation marks of any kind, and the end of a question: "Was bedeutet
# ‚Downstream-Marketing‘?" is the question "Was bedeutet „Downstream-Marketing“?".
_QUOTES_AND_END = str.maketrans("", "", "\"'“”„‚‘’«»「」?!.。？！ ")


def same_question(a: str, b: str | None) -> bool:
    """Whether ``a`` and ``b`` are one question, case, spacing, quotation marks and its
    end aside."""
    return b is not None and (" ".join(a.casefold().split()).translate(_QUOTES_AND_END)
                              == " ".join(b.casefold().split()).translate(_QUOTES_AND_END))


def _offered(question: str, concept: Concept, card_asks: str | None) -> str | None:
    """The question to offer the asker for ``concept``, which an article in their
    language names: what its card asks there (``card_asks``), when ``question`` asks
    what the concept is too and is not that question already. QA22 F3: "Tiếp thị hạ
    nguồn là gì?" was offered itself, and "Welche Beispiele gibt es für
    Downstream-Marketing?" a definition question."""
    from kb import definitions

    if card_asks is None or same_question(question, card_asks):
        return None
    return card_asks if definitions.asked(question, [concept]) is concept else None


def _bridges(kb: KnowledgeBase, question: str, lang: str) -> tuple[Bridge, ...]:
    glossary = getattr(kb, "glossary", None)
    if glossary is None:
        return ()
    out = []
    for concept in glossary.match(question):
        if not concept.card:
            continue
        names = tuple((x, concept.names[x]) for x in SUPPORTED if concept.names.get(x))
        own = _named_in(kb, concept, lang)
        card_asks = _question(concept, lang) if own else None
        out.append(Bridge(concept.id, names, own, _offered(question, concept, card_asks),
                          same_question(question, card_asks)))
    return tuple(out)


def _leads_in(kb: KnowledgeBase, question: str, lang: str, own: int) -> bool:
    """Whether the answer to ``question`` opens with a sentence in ``lang`` and quotes
    more than ``own`` sentences in it; remembered per index and glossary version."""
    key = (kb.store.version, str(kb.glossary_version), question, lang)
    asking: set[object] = _ASKING.__dict__.setdefault("keys", set())
    if key in asking:  # the offered question's own answer offers this one back
        return False

    def count() -> int:
        asking.add(key)
        try:
            ans = kb.ask(question)  # as the offer's link asks it
        finally:
            asking.discard(key)
        langs = {c.n: c.hit.lang for c in ans.citations}
        mine = [bool(s.citations) and langs.get(s.citations[0]) == lang
                for s in ans.sentences]
        return sum(mine) if mine and mine[0] else 0

    return _remembered(_LEADS, kb, key, count) > own


def _question(concept: Concept, lang: str) -> str | None:
    from kb import concepts

    return concepts.question(concept, lang)


# Per knowledge base, what _named_in found, by (index version, concept version,
# language): a search for the concept's name cost a foreign answer 8-20 ms (a loaded
# 2-core VM); and how many sentences in the asker's language an offered question's answer
# opens with and quotes (0 when it opens in another), by (index version, glossary
# version, question, language).
_NAMED: weakref.WeakKeyDictionary[KnowledgeBase, dict[Any, Any]] = weakref.WeakKeyDictionary()
_LEADS: weakref.WeakKeyDictionary[KnowledgeBase, dict[Any, Any]] = weakref.WeakKeyDictionary()
_NAMED_LOCK = threading.Lock()
_NAMED_MAX = 1024
_ASKING = threading.local()  # the offered questions being asked, in this thread


def _remembered(table: weakref.WeakKeyDictionary[KnowledgeBase, dict[Any, Any]],
                kb: KnowledgeBase, key: Any, compute: Callable[[], T]) -> T:
    """``compute()``, kept in ``table`` for ``kb`` under ``key`` (at most _NAMED_MAX)."""
    with _NAMED_LOCK:
        known = table.setdefault(kb, {})
        if key in known:
            return known[key]  # type: ignore[no-any-return]
    value = compute()
    with _NAMED_LOCK:
        if len(known) >= _NAMED_MAX:
            known.clear()
        known[key] = value
    return value


def _named_in(kb: KnowledgeBase, concept: Concept, lang: str) -> bool:
    """Whether a passage in ``lang`` names ``concept`` (by a term of ``lang``), among
    the best few that search finds for its name there."""
    return _remembered(_NAMED, kb, (kb.store.version, concept.version, lang),
                       lambda: _search_names(kb, concept, lang))


def _search_names(kb: KnowledgeBase, concept: Concept, lang: str) -> bool:
    from kb import concepts
    from kb.errors import BadInputError

    query = concept.names.get(lang) or next(iter(concept.terms.get(lang) or []), "")
    if not query:
        return False
    try:
        result = kb.search(query, k=OWN_PASSAGES, langs=[lang], query_lang=lang,
                           explain=True)
    except BadInputError:  # a term search cannot read costs the bridge its link only
        return False
    return concepts.mentions(concept, lang, result.hits)
