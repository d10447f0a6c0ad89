"""Questions that ask what a concept is, and the passages that say it.

"What is cross-selling?" asks for a definition, and a passage that gives one ("Bán chéo
là việc giới thiệu …", "업셀링은 … 전략입니다") answers it better than twenty that only
use the word. e5-small ranks a short definition in another language far down: in QA a
Vietnamese definition of cross-selling came 19th to 23rd for the English, Korean and
German question, behind Korean passages that merely name it. Search therefore lifts
a passage in which a sentence opens with a term of the asked concept followed by a
copula ("X is", "X ist", "X là", "X은/는").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from kb.glossary import fold
from kb.sentences import BULLET

if TYPE_CHECKING:
    from kb.glossary import Concept

# How each language asks "what is X?", around the concept term (``{t}``). In English
# and German the term must end what is asked ({end}): "What are cross-selling KPIs?"
# asks for the KPIs (QA).
_END = r"(?=\s*([?.!,;:]|$)|\s+(and|or|in|for|of|und|oder|im|in|bei|beim|für|von)\b)"
# {p}: the term glossed in brackets, "Bán chéo (cross-selling) là gì?" (QA12).
# {q}: the term in quotation marks, as a concept card asks it ("What does “existing
# customers” mean?": QA19 F12, "What is existing customers?" was no English).
_ASKS = {
    "en": r"\b((what\s+(is|are)|what's|define|definition\s+of|meaning\s+of)\s+(an?\s+|the\s+)?"
          r"{q}{t}(e?s)?{q}{p}{end}|what\s+(does|do)\s+(an?\s+|the\s+)?{q}{t}(e?s)?{q}{p}\s+mean\b)",
    "de": r"\b(was\s+(ist|sind|bedeutet|bedeuten|heißt|versteht\s+man\s+unter)|definition\s+"
          r"(von|der|des)|definiere)\s+((der|die|das|ein|eine)\s+)?{q}{t}{q}{p}{end}",
    # At the start: "Lợi ích của tiếp thị thượng nguồn là gì?" asks for the benefits.
    # The particle may be left out when speaking ("크로스셀링 뭐야?"), but "무엇을"
    # asks what to do with it.
    "ko": r"^\s*{t}{p}\s*(이란|란|((은|는|이|가)\s*)?(무엇|뭐)(?![을를])|의\s*(정의|뜻|의미))",
    "vi": r"^\s*({t}{p}\s+(là\s+gì|nghĩa\s+là\s+gì)|thế\s+nào\s+là\s+{t}{p}"
          r"|định\s+nghĩa\s+(về\s+)?{t}{p})",
}
# How a sentence that defines X opens, in the passage's language: "X is a ...", not "X
# is important". Korean marks any topic with 은/는 ("업스트림 마케팅은 마치 강물을 …
# 같습니다" is a simile), so there the sentence must also end as a definition does:
# with a noun and the copula ("… 전략입니다") or "means" ("… 말합니다"). Matched anywhere
# in a passage, then kept only at a sentence's start: splitting every candidate passage
# into sentences first cost 1.3 ms a question.
# {a}: another name for the term between commas, "A perceptual map, also called a
# positioning map, is …", "Bản đồ định vị, còn gọi là bản đồ nhận thức (perceptual map),
# là một công cụ …" (QA24b F7: that card said no sentence defines it).
_ALSO = {
    "en": r"(,\s+(also\s+(called|known\s+as)|or)\s+[^,.!?\n]{1,80},)?",
    "de": r"(,\s+(auch|oft|kurz)\s+[^,.!?\n]{1,80}?\s+genannt,)?",
    "vi": r"(,\s+(hay\s+)?còn\s+(được\s+)?gọi\s+là\s+[^,.!?\n]{1,80},)?",
    "ko": "",
}
_SAYS = {
    "en": r"\b(the\s+)?{t}(\s*\([^)]*\))?{a}\s+((is|are)\s+(a|an|the)\s|refers\s+to\s|means\s"
          r"|is\s+defined\s+as\s|describes\s)",
    "de": r"\b((der|die|das)\s+)?{h}{t}(\s*\([^)]*\))?{a}\s+"
          r"((ist|sind)\s+(ein|eine|einer|der|die|das)\s|bezeichnet\s|bedeutet\s|meint\s)",
    "ko": r"{t}(\s*\([^)]*\))?(은|는|이란|란|이라\s*함은)\s[^.?!\n]*"
          r"(입니다|이다|말합니다|말한다|의미합니다|의미한다|뜻합니다|뜻한다|가리킵니다|가리킨다)[.!]?(?=\s|$)",
    "vi": r"\b{t}(\s*\([^)]*\))?{a}\s+(là|được\s+hiểu\s+là|có\s+nghĩa\s+là)\s(?!gì)",
}
# {h}: German writes a kind of X as one word ending in X: "Die Marktsegmentierung teilt
# einen … Gesamtmarkt in Gruppen auf" is about a Segmentierung (QA25 F3: the Customer
# segmentation card said no sentence defines it). Only at the word's end: a word that
# opens with X ("Kundenbindungsprogramm") is about something else.
_HEAD = {"de": r"\w*?"}
_SAYS = {lang: template.replace("{a}", _ALSO[lang]).replace("{h}", _HEAD.get(lang, ""))
         for lang, template in _SAYS.items()}
_SENTENCE_END = re.compile(r"[.?!\n]")


def _terms(concept: Concept, lang: str) -> list[str]:
    names = [concept.names[lang]] if lang in concept.names else []
    # Longest first, so that "cross-selling strategy" is tried before "cross-selling".
    return sorted({*concept.terms.get(lang, ()), *names}, key=len, reverse=True)


def _pattern(template: str, terms: Iterable[str]) -> re.Pattern[str] | None:
    return _compiled(template, tuple(terms))


@functools.lru_cache(maxsize=1024)
def _compiled(template: str, terms: tuple[str, ...]) -> re.Pattern[str] | None:
    alternatives = "|".join(re.escape(t).replace(r"\-", r"[-\s]?").replace(r"\ ", r"\s+")
                            for t in terms)
    if not alternatives:
        return None
    pattern = (template.replace("{t}", f"({alternatives})").replace("{end}", _END)
               .replace("{p}", r"(\s*\([^)]*\))?").replace("{q}", "[\"'“”„‘’‚]?"))
    return re.compile(pattern, re.IGNORECASE)


def asked(query: str, concepts: list[Concept]) -> Concept | None:
    """The concept ``query`` asks the definition of ("Was ist Upselling?"), if any."""
    for concept in concepts:
        if not concept.card:  # "What is an example?" asks for no concept
            continue
        terms = sorted({t for lang in concept.terms for t in _terms(concept, lang)},
                       key=lambda t: (-len(t), t))
        for template in _ASKS.values():
            pattern = _pattern(template, terms)
            if pattern is not None and pattern.search(query):
                return concept
    return None


def defines(text: str, lang: str, concept: Concept) -> bool:
    """Whether a sentence of ``text`` (a passage in ``lang``) opens by saying what the
    concept is; a question ("Bán chéo là gì?") does not."""
    template = _SAYS.get(lang)
    pattern = _pattern(template, _terms(concept, lang)) if template else None
    if pattern is None:
        return False
    for m in pattern.finditer(text):
        before = text[: m.start()].rstrip(" \t-*•")
        end = _SENTENCE_END.search(text, m.end())
        if (not before or before[-1] in ".!?\n") and not (end and end.group() == "?"):
            return True
    return False


# The concept as a sentence's subject: the term opens it (after a bullet or an
# article) and a verb follows, not "and" (two subjects) or a modal ("can", "kann", "có
# thể", "수 있"): what a concept can do does not say what it is. German declines an
# adjectival term before its noun ("Die nachgelagerten Aktivitäten konzentrieren sich
# auf …"), and Vietnamese puts the head noun first ("Các hoạt động hạ nguồn tập trung
# vào …"): the seed de/vi pair opens its downstream section so (QA21 F6), as the
# English does with "Downstream marketing focuses on …". Nor a preposition: "Cross-Selling
# im B2B-Vertrieb funktioniert am besten, wenn …" is about cross-selling somewhere, and was
# the Cross-selling card's definition once a note saying it was added (QA22 F1).
_SUBJECT = {
    "en": r"^((the|an?)\s+)?{t}(e?s)?(\s*\([^)]*\))?\s+"
          r"(?!(and|or|can|could|may|might|should|must|will|would"
          r"|in|at|for|with|on|of|by|to|from|within|across)\b)\w",
    "de": r"^((der|die|das|ein|eine)\s+)?\w*?{t}((e|en|er|es|em)\s+\w+)?(\s*\([^)]*\))?\s+"
          r"(?!(und|oder|kann|können|könnte|sollte|sollten|muss|müssen|wird|werden"
          r"|im|in|bei|beim|für|von|vom|mit|auf|an|am|zu|zum|zur|aus|über|nach)\b)\w",
    "vi": r"^((việc|các|những)\s+)?((hoạt\s+động|chiến\s+lược|phương\s+pháp)\s+)?{t}"
          r"(\s*\([^)]*\))?\s+(?!(và|hoặc|có\s+thể|nên|phải|sẽ|trong|với|cho|ở|tại|theo)\b)\w",
    "ko": r"^{t}(\s*\([^)]*\))?(은|는|이란|란|이|가|이라\s*함은)\s(?![^.?!]*수\s*있)",
}


# A simile says what a concept is like, not what it is: "업스트림 마케팅은 마치 강물을
# 위에서 내려다보는 것과 같습니다" was the Upstream card's Korean line (QA21 F6). Not
# German "gleichen": "die gleichen Kunden" is "the same customers".
_LIKE = re.compile(r"마치\s|것과\s*같(습니다|다)|\b(is|are)\s+like\b|\b(ist|sind)\s+wie\b"
                   r"|\bgleicht\b|\b(giống\s+như|như\s+thể)\b", re.IGNORECASE)


# A sentence that says why the concept suits something rates it, not says what it is:
# "기존 고객은 제품과 서비스에 대한 신뢰를 가지고 있기 때문에 크로스셀링을 통해 … 매우
# 적합한 대상입니다" was the Existing customers card's definition (QA25 F3): Korean's
# "X은 … 입니다" takes any predicate, and this one is a reason (때문에) and a rating.
_RATES = {"ko": re.compile(r"때문에")}

# A list item whose text opens with a finite verb says what its label does, not what
# it is: "- Customer Retention: Strengthens relationships with current customers." is
# a benefit in "Benefits of Downstream Marketing:" (QA25 F3), where "- Sales
# Enablement: Providing the sales team with …" names the activity itself. Not a word
# ending in -ss, -is or -us ("Process", "Analysis", "Bonus").
_DOES = {"en": re.compile(r"[A-Z][a-z]+(?<![siu])s\b")}


def kind(concept: Concept, sentence: str, lang: str) -> int | None:
    """How well ``sentence`` (in ``lang``) says what ``concept`` is: 0 it defines it,
    1 it is a list item labelled with its own name that says what it is ("- Sales
    Enablement: Providing …"), 2 it has it as its subject ("Upstream marketing focuses
    on …"); None when it does none of these (it only mentions the concept, says what it
    can do, what it is like, or why it suits something)."""
    if _LIKE.search(sentence) or ((rates := _RATES.get(lang)) and rates.search(sentence)):
        return None
    if defines(sentence, lang, concept):
        return 0
    text = BULLET.sub("", sentence).strip()
    terms = _terms(concept, lang)
    if text != sentence.strip() and ":" in text:
        label, said = text.split(":", 1)
        does = _DOES.get(lang)
        return 1 if (_own_label(concept, lang, label, terms)
                     and not (does and does.match(said.strip()))) else None
    template = _SUBJECT.get(lang)
    pattern = _pattern(template, terms) if template else None
    if pattern is None or not pattern.search(text):
        return None
    return None if _LISTS.search(text) else 2


# A sentence with the concept as its subject that lists what it includes gives examples,
# not what it is: "Các chỉ số cần theo dõi gồm CPM …, CTR …" (the metrics to track
# include …) was the KPI card's definition once 20 articles were added (QA25 F3).
_LISTS = re.compile(r"\b(include|includes|gồm|bao\s+gồm|umfasst|umfassen)\b"
                    r"|포함(됩니다|한다|합니다|된다)", re.IGNORECASE)


def _own_label(concept: Concept, lang: str, label: str, terms: list[str]) -> bool:
    """Whether a list item's label is one of the concept's terms that is its own name
    (its name in ``lang``, without or within brackets, or its first term there), or a
    kind of it ("구매 전환율", purchase conversion rate, a 전환율). A looser term is no
    label to define it by: "- Performance Metrics: Tracking key metrics …" is an
    activity of downstream marketing, and was the KPI card's definition (QA25 F3), for
    "performance metrics" is a KPI term that search needs."""
    squashed = _squash(label)
    if not any(_squash(t) == squashed for t in terms):
        return False
    name = concept.names.get(lang, "")
    own = [re.sub(r"\([^)]*\)", "", name), *re.findall(r"\(([^)]*)\)", name),
           *concept.terms.get(lang, ())[:1]]
    return any(o and squashed.endswith(o) for o in map(_squash, own))


def _squash(text: str) -> str:
    return re.sub(r"[-\s]+", "", fold(text))
