"""The web UI's addresses, for everything that points into it: the pages, the JSON API
and the CLI's ``--json`` give the same links (``kb concepts show --json`` prints what
``GET /api/concepts/{id}/card`` returns). Kept here, below ``web``, so that the CLI
needs no web package to build them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

if TYPE_CHECKING:
    from kb.concepts import ConceptCard


def article_href(article_id: str, *, chunk_id: int | None = None, start: int | None = None,
                 span: tuple[int, int] | None = None,
                 spans: Sequence[tuple[int, int]] = ()) -> str:
    """Link to an article, optionally jumping to a chunk and marking ``span`` (or several
    ``spans``), offsets into the article. A mark names its passage too (``p``): with the
    passage's ``start``, the marks are offsets into it (``hp``), which hold wherever a
    later edit moves it (it keeps its id while its text stays); otherwise offsets into
    the article (``hl``, as links made before had). See web/marks.py."""
    href = f"/articles/{quote(article_id, safe='')}"
    marks = [span] if span is not None else list(spans)
    if marks:
        if chunk_id is not None and start is not None:
            query: dict[str, Any] = {
                "p": chunk_id, "hp": ",".join(f"{a - start}-{b - start}" for a, b in marks)}
        else:
            query = {"hl": ",".join(f"{a}-{b}" for a, b in marks)}
            if chunk_id is not None:
                query["p"] = chunk_id
        href += "?" + urlencode(query)
    if chunk_id is not None:
        href += f"#c{chunk_id}"
    return href


def ask_href(question: str, langs: Sequence[str] | None = None, *, exact: bool = False,
             tags: Sequence[str] | None = None, offset: int = 0) -> str:
    """A link that asks ``question``; ``langs`` keeps a language filter (QA: the example
    links dropped the chips the reader had chosen), ``tags`` a tag filter; ``exact``
    asks it as typed, with no misspelling corrected and no diacritics restored;
    ``offset``: the page of results that starts after that many passages."""
    return "/?" + urlencode([("q", question)] + [("lang", c) for c in langs or ()]
                            + [("tag", t) for t in tags or ()]
                            + ([("exact", "1")] if exact else [])
                            + ([("offset", str(offset))] if offset else []))


def concept_anchor(concept_id: str) -> str:
    """A card's element id: prefixed, so that no concept id ("main", "add-concept",
    "concept-error") is also one of the page's own (QA15: a concept "concept-error"
    made app.js scroll every visit to it)."""
    return f"c-{concept_id}"


def concept_href(concept_id: str) -> str:
    return f"/concepts#{concept_anchor(concept_id)}"


def card_json(card: ConceptCard) -> dict[str, Any]:
    """A card as ``GET /api/concepts/{id}/card`` and ``kb concepts show --json`` give it:
    its data (kb.concepts) with the page's links: the definition's and each sentence's
    marking that sentence, each question's asking it."""
    out = card.to_dict()
    out["href"] = concept_href(card.concept.id)
    d = out["definition"]
    if d is not None:
        d["href"] = article_href(d["article_id"], chunk_id=d["chunk_id"],
                                 start=card.definition.hit.start if card.definition else None,
                                 span=(d["start"], d["end"]))
    for source, s in zip(out["sources"], card.sources, strict=True):
        source["href"] = None
        if s.hit is not None and s.sentence is not None:
            source["href"] = article_href(s.hit.article_id, chunk_id=s.hit.chunk_id,
                                          start=s.hit.start, span=s.sentence)
    for q in out["questions"]:
        q["href"] = ask_href(q["text"])
    return out
