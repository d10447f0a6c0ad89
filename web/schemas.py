"""The JSON API's success bodies, for the OpenAPI document (a client generator's input).

The handlers return plain dicts (``to_dict`` of the domain results); these models only
describe them, they are not run on every response. ``tests/test_web_api.py`` checks
real responses against them with unknown keys forbidden, so they cannot drift apart.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# One description each for the search's and the answer's rewritten query.
RESTORED = ("The query as searched when it was rewritten first (Vietnamese typed without "
            "diacritics gets them back), else null.")
CORRECTED = ("The query as searched when a word no indexed language knows was replaced by "
             "a close one the knowledge base uses (\"Treuprogramm\" is searched as "
             "\"Treueprogramm\"), else null. exact=true searches as typed.")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Span(_Body):
    start: int = Field(description="Character offset into the article's cleaned text.")
    end: int


class PassageSpan(_Body):
    start: int = Field(description="Character offset into the passage's text.")
    end: int


class LangShare(_Body):
    lang: str
    share: float = Field(description="Its share of the letters, 0 to 1.")


class PassageTranslation(_Body):
    chunk_id: int
    article_id: str
    title: str
    lang: str
    spans: list[Span] = Field(
        default_factory=list,
        description="In an answer's citation: the translations of its quoted sentences in "
                    "this passage (offsets into that article's text), paired by an in-order "
                    "alignment of the two passages' sentences; empty when none pairs (the "
                    "Ask page's \"also in\" link then marks the whole passage).")


class Hit(_Body):
    chunk_id: int
    article_id: str
    title: str
    lang: str = Field(description="The passage's language (ko, en, de or vi).")
    section: str | None = Field(description="The heading the passage starts under.")
    sections: list[str] = Field(
        description="Every section the passage runs through, in order: section, then "
                    "each heading inside the passage.")
    text: str
    start: int = Field(description="The passage's offsets into the article's text.")
    end: int
    score: float = Field(
        description="The fused score that orders the hits of one search: a weighted sum "
                    "of the dense score and each BM25 list's score, each standardised over "
                    "that search's candidates, plus the glossary coverage. It compares hits "
                    "of one search only (a language filter changes the candidates, and so "
                    "the scores), can be negative, and is no relevance floor: `found` is.")
    signals: dict[str, int] = Field(
        description="The passage's rank in each retriever that found it (dense, "
                    "bm25_<lang>: 1 is first), its glossary concept coverage in percent "
                    "(concepts), and defines: 1 when it says what the concept the query "
                    "asks about is.")
    translations: list[PassageTranslation] = Field(
        default_factory=list,
        description="The passages of other articles, in other languages, that translate "
                    "this one (the translation links, aligned passage by passage): one "
                    "entry a passage, so an article cut into passages differently can be "
                    "listed twice, with two chunk_ids.")
    copies: list[PassageTranslation] = Field(
        default_factory=list,
        description="Passages of other articles with this very text, left out of the "
                    "results below it (search with translations=fold).")
    snippet: PassageSpan | None = Field(
        None, description="The passage's sentence to show: the one holding most of the "
                          "query's words (the nearest to the query in meaning when none "
                          "does). Search only; null in an answer's citations.")
    snippet_section: str | None = Field(
        None, description="The heading the snippet's sentence sits under: the label for "
                          "a hit shown by its snippet, as `kb search` and the concept cards "
                          "label it (`section` is where the passage starts; a passage can "
                          "run through several, `sections`). Null when `snippet` is.")
    marks: list[PassageSpan] = Field(
        default_factory=list,
        description="Where the query's words stand in the passage, and the terms in its "
                    "language of the glossary concepts the query names. Search only.")


class Evidence(_Body):
    coverage: float
    dense_margin: float
    score: float
    threshold: float = Field(description="found is true when score reaches it.")


class SearchOut(_Body):
    query: str
    restored: str | None = Field(description=RESTORED)
    corrected: str | None = Field(None, description=CORRECTED)
    lang: str = Field(description="The question's detected (or given) language.")
    hits: list[Hit]
    offset: int = Field(0, description="How many hits were skipped before these.")
    more: bool = Field(False, description="Whether more hits follow (the next page: "
                                          "offset + k).")
    found: bool = Field(
        description="Whether the best hits clearly address the query, by the test an "
                    "answer passes (/api/ask's found): false when the knowledge base has "
                    "nothing on it, though the closest passages are still listed.")
    evidence: Evidence | None = Field(
        description="The figures behind found (as in /api/ask); null when there are no "
                    "hits.")
    took_ms: float


class AnswerSentence(_Body):
    text: str
    citations: list[int] = Field(description="Numbers (n) of the citations it quotes.")
    span: Span
    in_item: bool = Field(False, description="A later sentence of the list item quoted "
                                             "before it (the Ask page shows it in that item).")
    table: Literal["header", "row"] | None = Field(
        None, description="A table's header row, or a data row quoted under it (the Ask "
                          "page shows them as a table; cells are separated by \"|\").")


class QuotedSpan(Span):
    section: str = Field(description="The heading this sentence sits under (\"\" before "
                                     "any): a passage can run past a heading, and its "
                                     "quoted sentences can sit under several.")


class Citation(Hit):
    n: int
    section: str | None = Field(description="The heading its first quoted sentence sits "
                                            "under (a search hit's is where it starts).")
    sentence_start: int = Field(description="The first quoted sentence (spans[0]).")
    sentence_end: int
    spans: list[QuotedSpan] = Field(description="Every sentence quoted from this passage, "
                                                "in text order, with its heading.")


class QuotedLang(_Body):
    lang: str
    sentences: int = Field(description="How many of the answer's sentences (and table "
                                       "lines) are in this language.")


class BridgeName(_Body):
    lang: str
    name: str


class Bridge(_Body):
    concept_id: str = Field(description="The glossary concept the question names (its "
                                        "card: GET /api/concepts/{concept_id}).")
    names: list[BridgeName] = Field(description="Its name in each language it has one in.")
    own: bool = Field(description="Whether an article in the question's language names it.")
    ask: str | None = Field(description="When own: the question that asks what it is in "
                                        "the question's language.")


class AnswerLanguages(_Body):
    lang: str = Field(description="The question's language.")
    own: int = Field(description="How many sentences are in the question's language.")
    foreign: bool = Field(description="Whether fewer than half are.")
    quoted: list[QuotedLang] = Field(description="The languages quoted, most first.")
    summary: str = Field(description="\"In Korean: no English sentence in this answer.\"")
    text: str = Field(description="The summary and what the bridges add (\"Vietnamese "
                                  "articles do name …: ask “…”.\"), as the CLI prints it.")
    bridges: list[Bridge] = Field(description="When foreign: each glossary concept the "
                                              "question names, in the four languages.")


class AskOut(_Body):
    query: str
    restored: str | None = Field(description=RESTORED)
    corrected: str | None = Field(None, description=CORRECTED)
    lang: str
    found: bool
    message: str
    note: str | None = Field(
        default=None,
        description="Set when the question asks what a concept is and no quoted sentence "
                    "says it: the answer then only tells what the articles say about it.")
    languages: AnswerLanguages | None = Field(
        default=None,
        description="The languages the answer quotes, for the asker (the Ask page shows "
                    "it above the answer); null when nothing was found.")
    answer: list[AnswerSentence]
    citations: list[Citation]
    evidence: Evidence | None
    took_ms: float


class ArticleRow(_Body):
    id: str
    title: str
    lang: str
    source: str
    tags: list[str]
    chunks: int = Field(description="How many passages it was cut into.")
    added_at: str
    updated_at: str
    version: str = Field(description="Its version (the ETag of GET /api/articles/{id}).")


class ArticlesOut(_Body):
    count: int
    articles: list[ArticleRow]


class ChunkOut(_Body):
    chunk_id: int
    start: int
    end: int
    section: str | None
    lang: str


class Relative(_Body):
    article_id: str
    lang: str
    title: str


class ArticleOut(_Body):
    id: str
    title: str
    lang: str
    source: str
    tags: list[str]
    text: str = Field(description="The cleaned text that the offsets point into.")
    added_at: str
    updated_at: str
    version: str = Field(description="Its version, also sent as the ETag header: send it "
                                     "back as If-Match with PUT, PATCH or DELETE, and a "
                                     "write made from an older version is refused (412).")
    chunks: list[ChunkOut]
    family: list[Relative] = Field(description="Its translations in other languages.")


class RestoreOut(_Body):
    ok: bool
    restored: str = Field(description="The article's id.")
    file: str = Field(description="Its corpus file again, under the corpus directory.")
    removed_file: str = Field(description="Where the removal had kept it.")
    chunks: int
    family: list[Relative] = Field(description="Its translations, found again.")


class Translation(_Body):
    article_id: str
    score: float = Field(description="The share of the longer article's sentences that "
                                     "align with the other's.")
    partial: bool = Field(False, description="One translates only a stretch of the other "
                                             "(some of its sections).")


class WriteOut(_Body):
    ok: bool
    article_id: str
    title: str
    lang: str
    kind: str = Field(description="What the upload was read as: text, markdown, html, "
                                  "pdf or docx.")
    chunks: int
    saved: bool = Field(description="false for a preview.")
    source: str
    tags: list[str]
    duplicate_of: str | None
    similar_to: str | None
    similarity: float | None
    contained: float | None
    exists: bool = Field(description="An article of this id was there before.")
    identical: bool = Field(description="... and it holds this exact text: nothing to add.")
    unchanged: bool = Field(False, description="A replacement with the stored text, title, "
                                               "source, tags and language: nothing written.")
    kept: list[str] = Field(description="Metadata a replacement kept from the old one.")
    version: str | None = Field(None, description="The saved article's version (its new "
                                                  "ETag); null for a preview.")
    stale: bool = Field(False, description="A preview of a replace made from a version "
                                           "that is no longer stored: a save is refused.")
    previous_file: str | None = Field(
        None, description="Where the corpus file this save replaced is kept, under the "
                          "corpus directory (.removed/<id>.<time>.replaced.md).")
    markup_dropped: bool = Field(False, description="That file held links, emphasis or "
                                 "images the new one (the cleaned text) does not: a note "
                                 "says so.")
    concepts: list[str] | None = Field(
        None, description="The glossary concepts its title and text name (GET "
                          "/api/concepts); none gives a note: its topic reaches questions in "
                          "other languages only by its meaning. Null when not looked at.")
    was_lang: str | None = Field(None, description="The replaced article's language, when "
                                                   "the replacement's is another.")
    lang_source: str = Field(description="given, header or detected.")
    lang_looks: str | None
    encoded_removed: int = Field(description="Characters of encoded data (a pasted image "
                                             "or file) that cleaning removed.")
    encoding_repaired: str = Field("", description="Mis-encoded text that cleaning repaired "
                                   "(UTF-8 read as another encoding), as one example "
                                   "(\"QualitÃ¤t → Qualität\"); empty when none was.")
    mixed: list[LangShare] = Field(default_factory=list, description=(
        "When its paragraphs are in more than one language, each with at least a fifth "
        "of their letters: [{lang, share}], most first; a note says so."))
    lossy_words: list[str] = Field(default_factory=list, description=(
        "Words with a \"?\" where a letter was lost in an encoding conversion (\"Ti?p\"), "
        "when there are at least 3: a note says so; they cannot be repaired."))
    title_guessed: bool = Field(False, description=(
        "No title was given and the text opens with no heading: the title is its opening "
        "words; a note says so."))
    family: list[Translation]
    lost_family: list[Relative] = Field(
        default_factory=list,
        description="Translations the replaced article was linked to and this version is "
                    "not (their passages no longer align): a note says so.")
    same_id_likeness: str | None = Field(None, description=(
        "A preview whose id an article already has: how this text is like that article "
        "(\"80% of their wording is shared\": a new version of it?), or \"\" when it "
        "is another text; the refusal says so. Null otherwise."))
    unpublished: str | None = Field(None, description=(
        "Saved (in the database, and searchable), but its index files could not be "
        "written, and why (\"No space left on device\"): searches build them in memory "
        "until a later save or `kb reindex` writes them; a note says so."))
    unlinked: str | None = Field(None, description=(
        "Saved, but its translations could not be looked for, and why; a note says so."))
    seconds: float
    stats: dict[str, float]
    warnings: list[str] = Field(description="refusals, then notes.")
    refusals: list[str] = Field(description="Why a save would be refused.")
    notes: list[str] = Field(description="What to check, though a save goes ahead.")
    href: str
    api_href: str
    text: str | None = Field(None, description="The cleaned text (previews only).")


class DeleteOut(_Body):
    ok: bool
    deleted: str


class HealthOut(_Body):
    ok: bool
    status: Literal["ready", "starting", "degraded"]
    error: str | None = Field(None, description="What is wrong (degraded only).")
    warning: str | None = Field(None, description=(
        "Ready, but the last write's index files could not be written (a full disk): "
        "searches answer from indexes built in memory; free space."))
    articles: int | None = None
    chunks: int | None = None
    model: str | None = None
    index_version: int | None = None


class CardDefinition(_Body):
    text: str = Field(description="The sentence that says what the concept is.")
    lang: str
    article_id: str
    title: str
    chunk_id: int
    start: int = Field(description="The sentence's offsets into the article's text.")
    end: int
    href: str = Field(description="The article page with the sentence marked.")


class CardSentence(_Body):
    text: str = Field(description="The passage's sentence about the concept (its snippet).")
    start: int = Field(description="Offsets into the article's text.")
    end: int
    section: str = Field(description="The heading the sentence sits under.")


class CardSource(_Body):
    lang: str
    gap: bool = Field(description="No passage in this language is about the concept.")
    message: str | None = Field(description="The gap, in words; null when there is a source.")
    query: str = Field(description="What the card searched: the concept's name in the language.")
    passage: Hit | None = Field(description="The passage, as a search hit: its `snippet` is "
                                            "the sentence, its `marks` the concept's words.")
    sentence: CardSentence | None
    href: str | None = Field(description="The article page at the passage, the sentence marked.")


class CardQuestion(_Body):
    lang: str
    text: str = Field(description="What is it?, asked in that language.")
    href: str = Field(description="The Ask page with the question.")


class ConceptCardOut(_Body):
    id: str
    name: str
    names: dict[str, str]
    terms: dict[str, list[str]]
    href: str = Field(description="The card on the Concepts page.")
    definition: CardDefinition | None
    sources: list[CardSource] = Field(description="One per language, in ko, en, de, vi order.")
    gaps: list[str] = Field(description="The languages with no source on it yet.")
    questions: list[CardQuestion]
