"""QA19 F11: an "also in" link marks the translations of the quoted sentences."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from kb import twins


def _unit(*xs: float) -> np.ndarray:
    v = np.array(xs, np.float32)
    return v / np.linalg.norm(v)


# Three sentences and their translations, in order; the third target sentence has no
# source (a translator's addition).
A, B, C, D = _unit(1, 0, 0, 0), _unit(0, 1, 0, 0), _unit(0, 0, 1, 0), _unit(0, 0, 0, 1)
SOURCE = [(100, 150, A), (151, 200, B), (201, 260, C)]
TARGET = [(10, 70, _unit(1, .1, 0, 0)), (71, 120, _unit(0, 1, .1, 0)),
          (121, 140, D), (141, 210, _unit(0, .1, 1, 0))]


def test_quoted_sentences_pair_with_their_translations_in_order():
    assert twins.paired(SOURCE, TARGET, [(100, 150), (201, 260)]) == [(10, 70), (141, 210)]
    assert twins.paired(SOURCE, TARGET, [(151, 200)]) == [(71, 120)]


def test_no_translation_no_pair():
    """A quoted span that is no stored sentence, or one whose best match stays under the
    threshold, gets none: the link then marks the whole passage."""
    assert twins.paired(SOURCE, TARGET, [(100, 149)]) == []
    unrelated = [(0, 50, D)]
    assert twins.paired(SOURCE, unrelated, [(100, 150)]) == []
    assert twins.paired([], TARGET, [(100, 150)]) == [] == twins.paired(SOURCE, [], [(1, 2)])


def test_sentence_twins_reads_the_stored_sentences():
    calls = []

    def chunk_sentences(ids):
        calls.append(ids)
        return {1: SOURCE, 7: TARGET}

    kb = SimpleNamespace(store=SimpleNamespace(chunk_sentences=chunk_sentences))
    assert twins.sentence_twins(kb, 1, [(151, 200)], [7, 9]) == ((7, 71, 120),)
    assert calls == [[1, 7, 9]]
    assert twins.sentence_twins(kb, 1, [(151, 200)], []) == ()  # no translation: no query
    assert len(calls) == 1


def _text(kb, chunk_id, span):
    row = kb.store.chunks([chunk_id])[chunk_id]
    a, b = span
    return row.text[a - row.start : b - row.start]


@pytest.mark.model
def test_an_answers_also_in_link_marks_the_translated_sentences(real_kb):
    """QA19 F11: "Warum streiten Marketing und Vertrieb?" card [1], link VI marked the
    whole passage (hp=0-684), though its quoted sentences translate one for one."""
    from web.views import also_in

    ans = real_kb.ask("Warum streiten Marketing und Vertrieb?")
    first = ans.citations[0]
    assert first.hit.lang == "de"
    [vi] = first.hit.translations
    assert vi.lang == "vi" and len(vi.spans) == len(first.spans)
    texts = [_text(real_kb, vi.chunk_id, s) for s in vi.spans]
    assert texts[0].startswith("Mặc dù căng thẳng giữa các nhóm tiếp thị và bán hàng"), texts
    assert {(vi.chunk_id, a, b) for a, b in vi.spans} <= set(first.twins)
    [link] = also_in(real_kb, first.hit.article_id, chunk_id=first.hit.chunk_id,
                     twins=first.twins)
    start = real_kb.store.chunks([vi.chunk_id])[vi.chunk_id].start
    marks = "%2C".join(f"{a - start}-{b - start}" for a, b in vi.spans)
    assert f"p={vi.chunk_id}&hp={marks}#" in link["href"], link["href"]
    assert "the same sentences" in link["label"]
    # The API gives the spans too.
    assert ans.to_dict()["citations"][0]["translations"][0]["spans"] == [
        {"start": a, "end": b} for a, b in vi.spans]
