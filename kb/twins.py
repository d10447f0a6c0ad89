"""The translations of quoted sentences in a passage's aligned translations.

An answer's card (and a listed passage) links to the same passage in the article's
translations: "also in: VI". The link marked the whole aligned passage (QA19 F11), though
its sentences translate the passage's one for one. Here each quoted sentence finds its
translation by the in-order alignment the answer already uses to tell twins apart
(:func:`kb.answers.scoring._in_order` over the stored sentence vectors): a translation keeps
the order of its sentences, and a pair must pass :data:`kb.answers.scoring.TWIN_SIMILARITY`.
A sentence with no such translation (the aligned passage says it otherwise, or the
index stores no sentence vectors) gets none, and the link marks the passage as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from kb.answers import Citation
    from kb.core import KnowledgeBase

Span = tuple[int, int]
Row = tuple[int, int, np.ndarray]  # a stored sentence: absolute start, end, vector


def paired(source: Sequence[Row], target: Sequence[Row], quoted: Iterable[Span],
           threshold: float | None = None) -> list[Span]:
    """The spans of ``target`` that translate the ``quoted`` spans of ``source`` (both
    a passage's stored sentences, in reading order), in order; quoted spans that are no
    sentence of ``source`` or have no translation give none."""
    from kb.answers.scoring import TWIN_SIMILARITY, _in_order

    if not source or not target:
        return []
    limit = TWIN_SIMILARITY if threshold is None else threshold
    a = np.stack([np.asarray(v, np.float32) for _, _, v in source])
    b = np.stack([np.asarray(v, np.float32) for _, _, v in target])
    wanted = set(quoted)
    out = [(target[j][0], target[j][1]) for i, j in _in_order(a @ b.T - limit)
           if (source[i][0], source[i][1]) in wanted]
    return sorted(out)


def sentence_twins(kb: KnowledgeBase, chunk_id: int, spans: Iterable[Span],
                   aligned: Iterable[int]) -> tuple[tuple[int, int, int], ...]:
    """(chunk id, start, end) of the translations of ``spans`` (sentences of chunk
    ``chunk_id``, absolute offsets) in the ``aligned`` chunks (its translations)."""
    aligned = sorted(set(aligned) - {chunk_id})
    spans = list(spans)
    if not aligned or not spans:
        return ()
    rows = kb.store.chunk_sentences([chunk_id, *aligned])
    source = rows.get(chunk_id, [])
    return tuple((c, a, b) for c in aligned for a, b in paired(source, rows.get(c, []), spans))


def with_twins(kb: KnowledgeBase, citations: Sequence[Citation]) -> tuple[Citation, ...]:
    """``citations`` (their hits' translations listed) with ``twins``: the
    translations of their quoted sentences in those passages, besides any the answer
    found among its own passages; each listed translation carries its ``spans``."""
    out = []
    for c in citations:
        found = sentence_twins(kb, c.hit.chunk_id, c.spans,
                               [t.chunk_id for t in c.hit.translations])
        twins = tuple(sorted({*c.twins, *found}))
        listed = tuple(replace(t, spans=tuple((a, b) for x, a, b in twins if x == t.chunk_id))
                       for t in c.hit.translations)
        out.append(replace(c, hit=replace(c.hit, translations=listed), twins=twins))
    return tuple(out)
