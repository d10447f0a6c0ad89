"""The typed results shared by the API, the CLI and the templates."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields


@dataclass(frozen=True)
class Translation:
    """A passage in another article that translates a hit (kb.adding's translation links,
    aligned passage by passage)."""

    chunk_id: int
    article_id: str
    title: str
    lang: str
    # In an answer's citation: the translations of its quoted sentences in this passage
    # (absolute offsets into that article's text, kb.twins); () marks the whole passage.
    spans: tuple[tuple[int, int], ...] = ()

    def to_dict(self) -> dict[str, object]:
        return asdict(self) | {"spans": [_span(s) for s in self.spans]}


@dataclass(frozen=True)
class Hit:
    """One retrieved passage. ``text == article_text[start:end]``."""

    chunk_id: int
    article_id: str
    title: str
    lang: str
    section: str
    text: str
    start: int
    end: int
    score: float
    # Why it was found, for debugging and the UI: {"dense": rank, "lexical": rank, ...}
    signals: dict[str, int] = field(default_factory=dict, compare=False)
    # Its translations, when the search was asked to look (KnowledgeBase.search).
    translations: tuple[Translation, ...] = field(default=(), compare=False)
    # Passages of other articles with the same text, folded into it (the same search).
    copies: tuple[Translation, ...] = field(default=(), compare=False)
    # The sentence to show of it and where the query's words stand, as offsets into
    # ``text`` (kb.snippets): filled when search is asked to explain its hits.
    snippet: tuple[int, int] | None = field(default=None, compare=False)
    marks: tuple[tuple[int, int], ...] = field(default=(), compare=False)

    @property
    def text_key(self) -> str:
        """Its text with case and spacing folded: two passages with one key are copies."""
        return " ".join(self.text.split()).casefold()

    @property
    def sections(self) -> list[str]:
        """Every section the passage runs through, from the one it starts in."""
        from kb.chunking import sections  # the results module stays import-light

        return sections(self.text, self.section)

    @property
    def snippet_section(self) -> str | None:
        """The heading its snippet sentence sits under, which labels the hit where the
        sentence is shown (QA18: "§ 상류 마케팅" over a sentence on downstream marketing;
        QA21 F9: the JSON had only ``section``, where the passage starts); None without
        a snippet. A passage's own ``section`` when no heading precedes the sentence."""
        if self.snippet is None:
            return None
        from kb.chunking import section_at

        return section_at(self.text, self.section or "", self.snippet[0]) or self.section

    def to_dict(self) -> dict[str, object]:
        # Its fields one level deep: asdict's recursive copy was a tenth of the time
        # /api/search spends past the search itself, and the nested ones follow.
        return {f.name: getattr(self, f.name) for f in fields(self)} | {
            "signals": dict(self.signals),
            "sections": self.sections,
            "snippet_section": self.snippet_section,
            "translations": [t.to_dict() for t in self.translations],
            "copies": [t.to_dict() for t in self.copies],
            "snippet": _span(self.snippet) if self.snippet else None,
            "marks": [_span(m) for m in self.marks],
        }


def _span(span: tuple[int, int]) -> dict[str, int]:
    return {"start": span[0], "end": span[1]}


@dataclass(frozen=True)
class Evidence:
    """Why an answer was (not) found: the two signals and their combination."""

    coverage: float  # IDF-weighted share of the question's words found in the passages
    dense_margin: float  # hubness-corrected best score vs. the null questions', in SDs
    score: float
    threshold: float

    @property
    def found(self) -> bool:
        return self.score >= self.threshold

    def to_dict(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class SearchResult:
    query: str
    lang: str
    hits: list[Hit]
    took_ms: float
    # The query as searched when it was rewritten first (Vietnamese without its
    # diacritics: kb.accents), else None.
    restored: str | None = None
    # The query as searched when a word no indexed language knows was replaced by a
    # close one the knowledge base uses ("Treuprogramm" -> "Treueprogramm": kb.spelling),
    # else None. At most one of ``restored`` and ``corrected`` is set.
    corrected: str | None = None
    offset: int = 0  # hits skipped before these (a page of results)
    more: bool = False  # more hits follow these
    # Whether the best hits clearly address the query, and the figures that say so (the
    # test an answer passes, kb.answers.evidence), when search was asked to explain its
    # hits; else None.
    found: bool | None = None
    evidence: Evidence | None = None

    @property
    def searched(self) -> str:
        return self.restored or self.corrected or self.query

    def to_dict(self) -> dict[str, object]:
        return {
            "query": self.query,
            "restored": self.restored,
            "corrected": self.corrected,
            "lang": self.lang,
            "hits": [h.to_dict() for h in self.hits],
            "offset": self.offset,
            "more": self.more,
            "found": self.found,
            "evidence": self.evidence.to_dict() if self.evidence else None,
            "took_ms": round(self.took_ms, 2),
        }
