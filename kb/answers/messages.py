"""Why there is no answer, in words: what the knowledge base holds, and which
languages or articles left out by a filter do answer."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from kb import language
from kb.answers.model import AnswerConfig
from kb.results import Hit

if TYPE_CHECKING:
    from kb.core import KnowledgeBase
    from kb.glossary import Concept


def _not_found_message(
    kb: KnowledgeBase, qlang: str, reason: str, *, filtered: bool | str, empty: bool = False,
    closest: Sequence[Hit] = (), chosen_tags: Sequence[str] = (),
) -> str:
    """Why there is no answer, what the knowledge base does hold, and what to try.
    ``filtered``: the filter to try without (True: the language filter); ``chosen_tags``:
    the tags it was limited to, not offered as the library's other tags (QA22 F7:
    "Pricing" was, to a question asked of the articles tagged "pricing").
    ``closest``: the passages search found, whose articles are named (QA8: in a
    library of 25 articles, "no good answer" named only the glossary's seed topics,
    while search had the article that answers it first, in another language)."""
    if empty:  # nothing to rephrase for: say how to fill it
        return (f"No good answer: {reason}. Add articles (the Add article page, `kb add` or "
                "`kb ingest`), then ask again.")
    glossary = getattr(kb, "glossary", None)
    store = getattr(kb, "store", None)
    near = list(dict.fromkeys((h.article_id, h.title) for h in closest))[:3]
    if near:
        hint = (" The nearest articles, though none clearly answers it: "
                + "; ".join(f"“{title}” ({article_id})" for article_id, title in near) + ".")
        # With the concepts their passages name, to rephrase with: the glossary's first
        # six were unrelated to the question (QA10: "가격 앵커란 …" was offered
        # upstream marketing, cross-selling, ...).
        named: dict[str, Concept] = {}
        for h in closest[:5] if glossary is not None else ():
            for c in glossary.match(h.text):
                if c.card:
                    named.setdefault(c.id, c)
        topics = [c.names.get(qlang) or c.names.get("en") or c.id
                  for c in list(named.values())[:6]]
        if topics:
            hint += f" Concepts they name include {', '.join(topics)}."
    else:
        topics = ([c.names.get(qlang) or c.names.get("en") or c.id for c in glossary.cards[:6]]
                  if glossary is not None else [])
        # Named as what they are: in a grown library "It covers topics such as" + the
        # glossary's seed concepts read as all it holds (QA9).
        hint = f" Concepts its glossary knows include {', '.join(topics)}." if topics else ""
    # And what the library's own tags say it holds: QA added articles on pricing, email
    # and retention, and the message still named only the glossary's seed concepts.
    known = {t.casefold() for t in (*topics, *chosen_tags)} | {
        n.casefold() for c in (glossary.cards if glossary is not None else ())
        for n in c.names.values()}
    tags = [t for t in (store.top_tags(12) if store is not None else [])
            if t.casefold() not in known and len(t) >= 3][:2]
    if tags:
        hint += f" The library's articles are also tagged {', '.join(tags)}."
    if filtered:
        which = filtered if isinstance(filtered, str) else "the language filter"
        tries = f"rephrasing with the key terms, removing {which}, or browsing the library"
    else:
        tries = "rephrasing with the key terms, or browsing the library"
    return f"No good answer: {reason}.{hint} Try {tries}."


def _filters(langs: Sequence[str] | None, scoped: bool) -> str:
    """The filters a question was asked with, to try without ("" for none)."""
    if langs and scoped:
        return "the filters"
    return "the language filter" if langs else "the tag or article filter" if scoped else ""


def _elsewhere(kb: KnowledgeBase, query: str, qlang: str, langs: Sequence[str], k: int,
               cfg: AnswerConfig) -> str | None:
    """When a question limited to ``langs`` finds nothing, which languages left out
    answer it, in words (QA: "크로스셀링 KPI는?" limited to German said only "No good
    answer", though the Korean article answers it). Named from what the answer without
    the filter cites, not from what search ranks first (QA: that named English for
    "What is upselling?", which English alone does not answer)."""
    from kb.answers.answerer import answer  # it calls this module: imported on use

    full = answer(kb, query, query_lang=qlang, k_passages=k, config=cfg)
    other = list(dict.fromkeys(c.hit.lang for c in full.citations if c.hit.lang not in langs))
    if not full.found or not other:
        return None
    return (f"No good answer in the chosen languages ({language.names(langs)}), but the "
            f"{language.names(other)} articles answer it: ask again with all languages.")


def _outside(kb: KnowledgeBase, query: str, qlang: str, langs: Sequence[str] | None,
             tags: Sequence[str] | None, articles: Sequence[str] | None, k: int,
             cfg: AnswerConfig) -> str | None:
    """When a question limited to ``tags`` or ``articles`` finds nothing, which articles
    left out answer it, in words, as :func:`_elsewhere` says it of languages (QA22 F7:
    "Was ist Cross-Selling?" asked of the articles tagged pricing said "No good answer
    in the knowledge base", which answers it, and named none of the tags that do)."""
    from kb.answers.answerer import answer  # it calls this module: imported on use

    full = answer(kb, query, query_lang=qlang, langs=langs, k_passages=k, config=cfg)
    cited = list(dict.fromkeys(c.hit.article_id for c in full.citations))
    if not full.found or not cited:
        return None
    if tags:
        chosen = {t.casefold() for t in tags}
        theirs: dict[str, str] = {}
        for article_id in cited:
            row = kb.store.article(article_id)
            for tag in json.loads(row["tags"]) if row is not None else ():
                if tag.casefold() not in chosen:
                    theirs.setdefault(tag.casefold(), tag)
        which = ", ".join(tags)
        if not theirs:
            return (f"No good answer in the chosen articles (tagged {which}), but untagged "
                    "articles answer it: ask again without the tag filter.")
        return (f"No good answer in the chosen articles (tagged {which}), but the articles "
                f"tagged {', '.join(list(theirs.values())[:3])} answer it: ask again "
                "without the tag filter.")
    titles = list(dict.fromkeys(f"“{c.hit.title}” ({c.hit.article_id})"
                                for c in full.citations
                                if c.hit.article_id not in (articles or ())))
    if not titles:
        return None
    return (f"No good answer in the chosen articles ({', '.join(articles or ())}), but "
            f"{'; '.join(titles)} answer{'s' if len(titles) == 1 else ''} it: ask again "
            "without the article filter.")


def _count(n: int, noun: str) -> str:
    """"1 sentence", "3 sentences"; "" for none."""
    return f"{n} {noun}{'s' if n != 1 else ''}" if n else ""
