"""The Ask page's results list: one page of the search ranking, as ``GET /api/search``
ranks it (translations folded), with its paging links and what it says of them.

Search ranks its best ``RANKED`` passages only (offset + k is at most 100, as the API
says), and does not count the rest: the page says "more follow" until the ranking ends,
and gives a total only when it has seen the end (audit F7: the page showed the answer's
cards and at most five more passages, in the answer's order, with no count or paging).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kb.links import ask_href

if TYPE_CHECKING:
    from kb.core import KnowledgeBase
    from kb.results import Hit

PAGE_SIZE = 10
RANKED = 100  # search's own limit (KnowledgeBase.search: offset + k <= 100)


def results_context(kb: KnowledgeBase, question: str, langs: Sequence[str] | None, *,
                    tags: Sequence[str] = (), exact: bool = False, offset: int = 0,
                    cited: Mapping[int, int] | None = None,
                    found: bool | None = None) -> dict[str, Any]:
    """Passages ``offset + 1`` to ``offset + PAGE_SIZE`` of the ranking for ``question``
    with the page's filters (``langs``, ``tags``, ``exact``), each as its ``rank``, the
    ``hit`` (with its snippet) and whether the answer cites it (web.views shows them).
    ``cited``: the answer's citation number of each chunk it quotes, marked on the hit
    that is that passage, a copy of it or its translation; ``found``: whether the answer
    found one (its miss heads the list as the closest passages). A question search
    refuses raises its BadInputError."""

    def href(at: int) -> str:  # the same question and filters, another page
        return ask_href(question, langs, exact=exact, tags=tags, offset=at) + "#results"

    out: dict[str, Any] = {
        "heading": ("The closest passages, none of which clearly answers it"
                    if found is False and offset == 0 else "Search results"),
        "query": question if offset else None,
        # Later pages show no answer: a way back to it.
        "back_href": ask_href(question, langs, exact=exact, tags=tags) if offset else None,
        "hits": [], "first": offset + 1, "last": offset, "summary": "", "beyond": None,
        "first_href": href(0), "prev_href": None, "next_href": None, "searched": None,
        "lang": None,  # the question's language, as search read it
    }
    if offset >= RANKED:
        out["beyond"] = (f"There is no passage {offset + 1}: search ranks its best {RANKED} "
                         "passages only.")
        return out
    result = kb.search(question, k=min(PAGE_SIZE, RANKED - offset), offset=offset,
                       langs=langs, translations="fold", exact=exact, tags=tags)
    hits = kb.snippets(result.searched, result.hits)
    if offset and not hits:
        out["beyond"] = (f"There is no passage {offset + 1}: search found fewer passages "
                         "for this question" + (" with these filters." if langs or tags
                                               else "."))
        return out
    last = offset + len(hits)
    out.update(
        hits=[{"rank": offset + i, "hit": h, "cited": _cited(h, cited or {})}
              for i, h in enumerate(hits, 1)],
        last=last, summary=_summary(offset, last, result.more), lang=result.lang,
        prev_href=href(max(0, offset - PAGE_SIZE)) if offset else None,
        next_href=href(last) if result.more and last < RANKED else None)
    rewritten = result.restored or result.corrected
    if offset and rewritten:  # page 1 says it above the answer
        out["searched"] = {"text": rewritten, "lang": result.lang,
                           "exact_href": ask_href(question, langs, exact=True, tags=tags,
                                                  offset=offset) + "#results"}
    return out


def _summary(offset: int, last: int, more: bool) -> str:
    """Which passages these are, and whether more follow: a total only once the
    ranking has ended (search does not count what it leaves out)."""
    first = offset + 1
    which = f"Passage {first}" if first == last else f"Passages {first}–{last}"
    if more and last >= RANKED:
        return (f"{which} of the search ranking. Search ranks its best {RANKED} passages "
                "only: ask more precisely, or filter by language or tag, to reach others.")
    if more:
        return f"{which} of the search ranking, best first; more follow."
    if offset == 0:
        return ("The one passage search found." if last == 1
                else f"All {last} passages search found, best first.")
    return f"{which} of {last}: the last {'one' if first == last else 'ones'} search found."


def _cited(hit: Hit, cited: Mapping[int, int]) -> dict[str, Any] | None:
    """The answer's citation of this passage (or of a copy of it, folded into it), else
    of its translation (a quoted passage folds into its translation ranked above it)."""
    for chunk_ids, label in (([hit.chunk_id, *(c.chunk_id for c in hit.copies)], "cited"),
                             ([t.chunk_id for t in hit.translations], "translation cited")):
        numbers = sorted({cited[c] for c in chunk_ids if c in cited})
        if numbers:
            return {"n": numbers[0], "href": f"#cite-{numbers[0]}",
                    "label": f"{label} [{numbers[0]}]"}
    return None
