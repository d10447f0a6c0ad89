"""What an answer is: its sentences, their citations and the evidence, and the knobs
of the answerer (:class:`AnswerConfig`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kb import answer_lang, chunking
from kb.results import Evidence, Hit

if TYPE_CHECKING:
    pass


PASSAGES = 8  # search hits an answer reads its sentences from


@dataclass(frozen=True, kw_only=True)
class AnswerConfig:
    """Knobs of the answerer; the defaults are the measured best (docs/answers.md)."""

    dense_weight: float = 0.225  # evidence = coverage + dense_weight * dense margin (z)
    threshold: float = 1.1  # found when the evidence reaches this
    lexical_weight: float = 1.0  # sentence score: pool-z dense + this * sentence coverage
    rank_weight: float = 1.0  # ... + this / (1 + passage rank)
    asker_lang_bonus: float = 1.0  # ... + this when the sentence is in the asker's language
    lead_bonus: float = 1.0  # ... + this when the sentence opens with a word of the question
    # ... + this when the question asks what a concept is and the sentence says it
    # ("Bán chéo là …" for "What is cross-selling?"; kb.definitions)
    definition_bonus: float = 2.0
    definition_evidence: float = 1.0  # evidence + this when a passage defines the asked concept
    heading_weight: float = 2.0  # ... + this * coverage of the question by its heading
    # ... + this * what a sentence and its heading cover of the question together beyond
    # either alone ("이 단계의 핵심 활동으로는 …" under "상류 마케팅")
    completed_weight: float = 4.0
    # ... + this when it opens a section whose heading alone holds all of the question
    # ("Psychological prices" for "What are psychological prices?": QA22 F8, the
    # section's first sentence tied with the value-based one before it, which e5 put
    # nearer the question). Every sentence of such a section: the German "Vorteile" list
    # then led "What are the benefits of upstream marketing?" over the English one.
    whole_heading_bonus: float = 1.0
    focus: float = 1.0  # the question's first word or concept weighs 1 + focus in coverage
    min_sentences: int = 2
    max_sentences: int = 5
    lead_concept: bool = True  # the first sentence names a concept of the question, if one is close
    keep_within: float = 1.5  # after min_sentences, stop below best score - keep_within
    redundancy_z: float = 3.5  # a sentence this similar (pool z) to a chosen one is a repeat
    mmr_penalty: float = 0.3  # score - mmr_penalty * max(0, similarity z to chosen ones)
    # A quoted list item's later sentences come with it, room permitting: "- 구독
    # 해지율: 메일 한 번 발송당 … 비율." was quoted without "0.5%를 넘으면 … 점검해야
    # 합니다.", which answers "how high is too high?" (QA24b F5).
    whole_items: bool = True


@dataclass(frozen=True)
class Citation:
    """One cited passage and the spans of its sentences that the answer quotes.

    Two answer sentences from the same passage share one citation (and one number), so
    a reader sees each source once, with every quoted sentence marked in it.
    """

    n: int
    hit: Hit
    spans: tuple[tuple[int, int], ...]  # absolute offsets into the article's cleaned text
    # The translations of its quoted sentences among the answer's passages, as (chunk
    # id, start, end): the card's "also in" link marks them, not the whole passage.
    twins: tuple[tuple[int, int, int], ...] = ()

    @property
    def sentence_start(self) -> int:
        """Start of the first quoted sentence (the API's single-span fields)."""
        return self.spans[0][0]

    @property
    def sentence_end(self) -> int:
        return self.spans[0][1]

    @property
    def sentence(self) -> str:
        """The first quoted sentence."""
        return self.sentences[0]

    @property
    def sentences(self) -> tuple[str, ...]:
        return tuple(self.hit.text[a - self.hit.start : b - self.hit.start] for a, b in self.spans)

    @property
    def local_spans(self) -> list[tuple[int, int]]:
        """The spans within ``hit.text``."""
        return [(a - self.hit.start, b - self.hit.start) for a, b in self.spans]

    @property
    def section(self) -> str:
        """The heading the first quoted sentence sits under. A passage can run past a
        heading; ``hit.section`` is the one where the passage starts."""
        return self.span_sections[0]

    @property
    def span_sections(self) -> list[str]:
        """The heading each quoted sentence sits under, in the order of ``spans``."""
        return [section_at(self.hit, a) for a, _ in self.local_spans]

    @property
    def quoted_sections(self) -> list[str]:
        """The headings its quoted sentences sit under, each once, in text order: what
        labels its card. QA25 F10: an NPS passage's card quoted its opening sentence and
        the formula under "How the score is calculated", and named only the first."""
        return list(dict.fromkeys(name for name in self.span_sections if name))

    def to_dict(self) -> dict[str, object]:
        return {
            "n": self.n,
            **self.hit.to_dict(),
            "section": self.section,
            "sentence_start": self.sentence_start,
            "sentence_end": self.sentence_end,
            "spans": [{"start": a, "end": b, "section": name}
                      for (a, b), name in zip(self.spans, self.span_sections, strict=True)],
        }


def section_at(hit: Hit, local: int) -> str:
    """The heading the text at ``local`` (an offset into ``hit.text``) sits under, as
    the chunker names sections."""
    return chunking.section_at(hit.text, hit.section, local)


@dataclass(frozen=True)
class AnswerSentence:
    text: str
    citations: tuple[int, ...]
    start: int = 0  # absolute span of the sentence in its (first) citation's article
    end: int = 0
    # A later sentence of a list item ("- Target customers: …. Upstream marketing
    # targets …"): it belongs to the item quoted before it, not after the list.
    in_item: bool = False
    # "row": a table's data row, quoted after its "header" row; "" for a sentence.
    table: str = ""

    def to_dict(self) -> dict[str, object]:
        return {"text": self.text, "citations": list(self.citations),
                "span": {"start": self.start, "end": self.end}, "in_item": self.in_item,
                "table": self.table or None}


@dataclass(frozen=True)
class Answer:
    query: str
    lang: str
    found: bool
    message: str
    sentences: tuple[AnswerSentence, ...] = ()
    citations: tuple[Citation, ...] = ()
    evidence: Evidence | None = None
    best: int | None = None  # the citation number of the highest-scoring sentence
    # All passages the answer was drawn from, for "more sources" lists; not in to_dict.
    passages: tuple[Hit, ...] = field(default=(), compare=False)
    best_sentence: int | None = None  # index into ``sentences`` of the highest scorer
    restored: str | None = None  # the question as searched, when rewritten (kb.accents)
    corrected: str | None = None  # ... when a misspelled word was fixed (kb.spelling)
    # (concept id, its name in the question's language) when the question asks what a
    # concept is and no passage says it: the answer then only describes it.
    undefined: tuple[str, str] | None = None
    # The languages it quotes, for the asker (kb.answer_lang); None for no answer.
    languages: answer_lang.Languages | None = None

    @property
    def note(self) -> str | None:
        if self.undefined is None:
            return None
        return (f"No passage in the knowledge base defines “{self.undefined[1]}” yet: "
                "these sentences only say what the articles tell about it.")

    def to_dict(self) -> dict[str, object]:
        return {
            "query": self.query,
            "restored": self.restored,
            "corrected": self.corrected,
            "lang": self.lang,
            "found": self.found,
            "message": self.message,
            "note": self.note,
            "languages": self.languages.to_dict() if self.languages else None,
            "answer": [s.to_dict() for s in self.sentences],
            "citations": [c.to_dict() for c in self.citations],
            "evidence": self.evidence.to_dict() if self.evidence else None,
        }
