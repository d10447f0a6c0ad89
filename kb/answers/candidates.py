"""The sentences an answer can quote: each passage's statements (no headings,
questions, lead-ins or signposts), the table rows that name the question, their
vectors, and what a sentence leans on ("이는 …", "However, …")."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from kb import chunking, outline
from kb.answers.coverage import (
    WHOLE,
    _analyzed,
    _concept_tokens,
    _coverage,
    _idf,
    _span_terms,
    query_terms,
)
from kb.answers.model import PASSAGES, section_at
from kb.answers.state import _State
from kb.glossary import SUBJECTS
from kb.glossary import fold as _fold
from kb.results import Hit
from kb.sentences import BULLET as _BULLET
from kb.sentences import sentence_spans

if TYPE_CHECKING:
    from kb.core import KnowledgeBase
    from kb.store import ChunkRow


def _sentence_vectors(kb: KnowledgeBase, st: _State, cands: list[_Candidate]) -> np.ndarray:
    """Passage-kind vectors of the candidate sentences.

    Ingest stores a vector per sentence of every chunk; those are used as they are. A
    sentence without one (an index built before sentences were stored) is encoded once
    and kept in a bounded cache keyed by (model, text).
    """
    stored: dict[tuple[int, int], np.ndarray] = {}
    by_chunk = getattr(kb.store, "chunk_sentences", None)
    if by_chunk is not None:
        for rows in by_chunk(sorted({c.hit.chunk_id for c in cands})).values():
            stored.update({(a, b): v for a, b, v in rows})
    out: list[np.ndarray | None] = [stored.get((c.start, c.end)) for c in cands]
    fp = st.fingerprint
    missing = [c.text for c, v in zip(cands, out, strict=True) if v is None]
    todo = [t for t in dict.fromkeys(missing) if (fp, t) not in st.vectors]
    if todo:
        new = kb.encoder.encode(todo, kind="passage")
        with st.lock:
            for t, v in zip(todo, new, strict=True):
                st.vectors[(fp, t)] = v
            while len(st.vectors) > _State.MAX_VECTORS:
                st.vectors.popitem(last=False)
    for i, c in enumerate(cands):
        if out[i] is None:
            with st.lock:
                v = st.vectors.get((fp, c.text))
            out[i] = v if v is not None else kb.encoder.encode([c.text], kind="passage")[0]
    if not out:
        return np.empty((0, kb.encoder.dim), np.float32)
    return np.stack([np.asarray(v, dtype=np.float32) for v in out])


_TERMINAL = re.compile(r"[.!。…！]['\"”’)\]]*$")


def _is_statement(text: str, section: str) -> bool:
    """True for sentences that can answer: not headings, questions, lead-ins or table rows."""
    s = text.strip()
    if len(s) < 12 or s.count("|") >= 2 or s.endswith(("?", "？", ":", "：")):
        return False
    if " ".join(s.split()).casefold() == " ".join(section.split()).casefold():
        return False
    if _TERMINAL.search(s):
        return len(s.split()) >= 3 or len(s) >= 20  # Korean has fewer, longer words
    # No final period: a bulleted "Label: explanation" item still counts (numbered lines
    # without a period are headings such as "1. 크로스셀링의 중요성: ...").
    return bool(_BULLET.match(s)) and ":" in s and len(s.split(":", 1)[1].split()) >= 5


# A sentence that opens by pointing back ("These rewards ...", "이러한 마케팅은 ...", "여기에는 …",
# "Diese Methode ...", "Chiến lược này ...") leans on the one before it.
_ANAPHOR = re.compile(
    r"^(?:[-*•·▪–]\s+)?(?:"
    r"(?:this|these|that|those|such|it|its|they|their)\b"
    r"|(?:dies|diese[rsmn]?|solche[rsmn]?)\b"
    r"|(?:이러한|이런|이는|이것은|이것이|이를|이와|이에|그러한|그런|그것은|이|그"
    r"|여기에는|여기에서는|여기서는|이 중에는|그중)(?=\s)"
    r"|(?:điều (?:này|đó)|nó|chúng|việc (?:này|đó))\b"
    r"|(?:\S+\s){1,2}(?:này|đó)\b)",
    re.I,
)
# So does one that opens by contrasting with it ("반면, 다운스트림 마케팅은 …",
# "However, …", "Dagegen …", "Ngược lại, …": QA found answers quoting such a sentence
# without the one it answers). Not "그리고" or "한편" (and, meanwhile): they go on, or
# start afresh.
_CONTRAST = re.compile(
    r"^(?:[-*•·▪–]\s+)?(?:"
    r"(?:however|in contrast|by contrast|conversely|on the other hand)\b"
    r"|(?:jedoch|dagegen|hingegen|andererseits)\b"
    r"|(?:반면에?|반대로|그러나|하지만)(?=[\s,])"
    r"|(?:tuy nhiên|ngược lại|trong khi đó|mặt khác)\b)",
    re.I,
)

# Or by adding to it ("또한 CAC 회수 기간이 …", "Also, …", "Außerdem …", "Ngoài ra, …"):
# it can follow what it adds to, not open an answer.
_ADDS = re.compile(
    r"^(?:[-*•·▪–]\s+)?(?:"
    r"(?:also|moreover|furthermore|in addition|additionally)\b"
    r"|(?:außerdem|zudem|darüber hinaus|ebenso|auch)\b"
    r"|(?:또한|게다가|더불어|아울러|뿐만 아니라)(?=[\s,])"
    r"|(?:ngoài ra|hơn nữa|bên cạnh đó|thêm vào đó|đồng thời)\b)",
    re.I,
)

# Or by saying again what the one before it said, in other words: a Korean sentence
# that ends "… 것이죠" / "거죠" / "셈이죠" ("it is (that) …", confirming what was just
# said) has no subject of its own. QA25 F4: "곧 다가올 물고기를 잡기 위해 꼭대기에 서
# 있는 것이죠." finishes "업스트림 마케팅은 마치 강물을 위에서 내려다보는 것과
# 같습니다." and opened every answer on thought leadership, as what "이 단계의 핵심
# 활동으로는 …" pointed back at.
_CONTINUES = re.compile(r"(?:것|거|셈)(?:이)?(?:죠|지요)[.!…]*\s*$")

# Sentences about the text itself ("In this section we will look at ...") name the
# question's terms without answering anything.
_SIGNPOST = re.compile(
    r"\bin this (?:article|post|section|guide|blog)\b|\bwe(?:'ll| will) (?:explore|look|discuss)"
    r"|\blet'?s (?:look|explore|dive)|\bin diesem (?:Artikel|Beitrag|Abschnitt)\b"
    r"|\bschauen wir uns\b|이 (?:섹션|글|포스트|기사)에서는|이번 (?:블로그 )?포스트에서는"
    r"|살펴보겠습니다|알아보겠습니다|살펴보았습니다"
    r"|trong bài viết này|chúng ta sẽ (?:tìm hiểu|xem xét)",
    re.I,
)


@dataclass
class _Candidate:
    rank: int  # the passage's rank in the search result
    hit: Hit
    start: int  # absolute offsets
    end: int
    text: str
    context: str  # the heading or lead-in line the sentence sits under
    score: float = 0.0
    features: dict[str, float] = field(default_factory=dict)
    # A table's data row: its header row's absolute span, which says what its cells are.
    header: tuple[int, int] | None = None
    table: str = ""  # "row" or "header" for a table's lines, else ""
    # The first sentence under its heading in the passage; no list item: a list the
    # question names by its title leads the answer whole (_titled_list) unless one of
    # its items is quoted already.
    opens: bool = False

    def own_text(self) -> str:
        """The sentence, and for a table row the header that names its columns."""
        if self.header is None:
            return self.text
        a, b = self.header
        return self.hit.text[a - self.hit.start : b - self.hit.start] + "\n" + self.text


def _candidates(hits: Sequence[Hit]) -> list[_Candidate]:
    """The answerable sentences of the passages, each with the heading it sits under,
    and the data rows of their tables with a header ("Metrics | Customer insights,
    market potential | Conversion rates, engagement |" under "Aspect | Upstream
    Marketing | Downstream Marketing |")."""
    out = []
    seen: set[str] = set()
    for rank, hit in enumerate(hits):
        context = hit.section
        opened = None  # the context of the passage's last sentence
        rows, lines = _table_lines(hit.text)
        for a, b in sentence_spans(hit.text):
            text = hit.text[a:b]
            key = " ".join(text.split()).casefold()
            if a in lines:  # a table's line is no heading or lead-in of what follows
                header = rows.get((a, b))
                if header is not None and key not in seen:
                    seen.add(key)
                    out.append(_Candidate(
                        rank, hit, hit.start + a, hit.start + b, text, context,
                        header=(hit.start + header[0], hit.start + header[1]), table="row"))
                continue
            if _SIGNPOST.search(text):
                continue
            if not _is_statement(text, hit.section):
                if len(text) <= 120 and (a == 0 or hit.text[a - 1] == "\n"):
                    context = _BULLET.sub("", text).rstrip(":：").strip()  # a heading or lead-in
                continue
            if key in seen:
                continue
            seen.add(key)
            out.append(_Candidate(rank, hit, hit.start + a, hit.start + b, text, context,
                                  opens=context != opened and not _BULLET.match(text)))
            opened = context
    return out


def _rows_that_name_the_question(kb: KnowledgeBase, st: _State, question: str, qlang: str,
                                  cands: list[_Candidate]) -> list[_Candidate]:
    """``cands`` without the table rows that do not name, with their header and heading,
    every glossary concept the question names. A row says little on its own, and a
    short one is close to many questions: "Metrics | …" of the upstream/downstream
    table is no answer to "Which KPIs for cross-selling?". Left in the pool, they also
    moved the other sentences' standardised scores."""
    if not any(c.table for c in cands):
        return cands
    qterms = query_terms(question, qlang)
    concepts = _concept_tokens(kb, question, qlang, qterms, kinds=SUBJECTS | {"name"})
    idf = _idf(st, qlang, qterms)
    out = []
    for c in cands:
        if c.table:
            # With no concept named, a row must hold every word of the question: QA22 F2,
            # "What is freemium?" could quote no row of an uploaded table of pricing
            # models, and got five sentences from four articles instead of "| Freemium |
            # A free tier plus paid upgrades | …", which search ranked first.
            terms = _own_terms(c) | _analyzed(c.context, c.hit.lang)
            if _coverage(qterms, idf, qlang, concepts, {c.hit.lang: terms},
                         texts={c.hit.lang: c.own_text() + "\n" + c.context},
                         concepts_only=bool(concepts)) < (1.0 if concepts else WHOLE):
                continue
        out.append(c)
    return out


def _own_terms(c: _Candidate) -> set[str]:
    """The analyzed terms of the sentence, and of a table row's header."""
    terms = set(_span_terms(c.hit, c.start - c.hit.start, c.end - c.hit.start))
    if c.header is not None:
        terms |= _span_terms(c.hit, c.header[0] - c.hit.start, c.header[1] - c.hit.start)
    return terms


def _table_lines(text: str) -> tuple[dict[tuple[int, int], tuple[int, int]], set[int]]:
    """The data rows of ``text``'s tables that have a header in it, each mapped to its
    header's span; and where every table line starts."""
    rows: dict[tuple[int, int], tuple[int, int]] = {}
    starts: set[int] = set()
    if "|" not in text:
        return rows, starts
    for block in chunking.blocks(text):
        if block.kind != "table":
            continue
        starts.update(m.start() + block.start
                      for m in re.finditer(r"[^\n]+", text[block.start : block.end]))
        header, data = chunking.table_rows(text, block)
        if header is not None:
            rows.update((row, header) for row in data)
    return rows, starts


def _section(c: _Candidate) -> str:
    """The heading ``c`` sits under."""
    return section_at(c.hit, c.start - c.hit.start)


# A heading is the question when more than this share of its words are the question's
HEADING_IS_QUESTION = 0.5


def _heading_is_the_question(c: _Candidate, qterms: list[str], qlang: str,
                             concepts: list[tuple[set[str], dict[str, list[str]]]]) -> bool:
    """Whether most words of ``c``'s heading are the question's, or terms of its glossary
    concepts in the heading's language: "Psychological prices" is the question "What
    are psychological prices?"; "4.2. 크로스셀링과의 통합 전략" holds all of "Bán chéo là
    gì?" but is about more."""
    # Word by word, not token by token: Kiwi reads 크로스셀링 as 크로스, 셀, 링, and
    # three of the heading's five tokens were then the question's.
    words = [t for w in _HEADING_WORD.findall(c.context) if (t := _analyzed(w, c.hit.lang))]
    if not words:
        return False
    known = set(qterms) if c.hit.lang == qlang else set()
    for _, terms in concepts:
        for term in terms.get(c.hit.lang, ()):
            known |= _analyzed(term, c.hit.lang)
    return sum(t <= known for t in words) > HEADING_IS_QUESTION * len(words)


_HEADING_WORD = re.compile(r"[^\W\d_][\w'’-]*")  # a word, not a section number


def _in_section(c: _Candidate) -> bool:
    """Whether ``c`` sits under a heading of its article's, not at its top: a question
    that the title holds whole is asked about the article, and its opening is found
    otherwise (_introduction); "Bán chéo là gì?" opened with the cross-selling
    article's first sentence, "기업의 성공에 있어 추가 매출의 창출은 …", with this bonus."""
    section = _section(c)
    return bool(section) and _fold(section) != _fold(c.hit.title)


def _passage_candidates(row: ChunkRow, title: str,
                        cands: list[_Candidate]) -> list[_Candidate]:
    """The candidate sentences of a stored passage: ``cands``' when search found it,
    else read from it, ranked after every passage search returned."""
    mine = [c for c in cands if c.hit.chunk_id == row.id]
    if mine:
        return mine
    hit = Hit(row.id, row.article_id, title, row.lang, row.section, row.text,
              row.start, row.end, 0.0)
    return [replace(c, rank=PASSAGES + row.ord) for c in _candidates([hit])]


def _section_end(heads: list[outline.Heading], last: outline.Heading, text_end: int) -> int:
    """Where the section of ``last`` ends: the next heading of any kind, or the text's end."""
    return next((h.start for h in heads if h.start > last.start), text_end)


def _first_in(known: Hit, rows: list[ChunkRow], cands: list[_Candidate],
              a: int, b: int) -> _Candidate | None:
    """The first answerable sentence between offsets ``a`` and ``b`` of an article: one
    of ``cands`` when its passage was found, else read from the stored passage."""
    for row in (r for r in rows if r.start < b and a < r.end):
        mine = _passage_candidates(row, known.title, cands)
        first = next((c for c in mine if a <= c.start < b and not c.table), None)
        if first is not None:
            return first
    return None


def _before(i: int, cands: list[_Candidate]) -> tuple[_Candidate | None, str]:
    """The candidate right before ``cands[i]`` in its passage (None when it is in another
    passage or there is none) and the text between the two."""
    c = cands[i]
    before = cands[i - 1] if i > 0 else None
    if before is None or before.hit.chunk_id != c.hit.chunk_id:
        return None, ""
    return before, c.hit.text[before.end - c.hit.start : c.start - c.hit.start]
