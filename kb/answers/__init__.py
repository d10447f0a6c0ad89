"""Extractive answers with citations: the corpus's own sentences, each cited to its passage.

There is no language model: every answer sentence is a verbatim slice of an article, so
an answer can never say something its source does not. How one is built (the numbers
behind each choice are in docs/answers.md; benchmarks/answer_quality.py re-measures):

1. **Passages.** The hybrid search's top ``k_passages`` passages.
2. **Evidence test.** e5's raw cosine is about 0.8 for any pair of texts, so no fixed
   cosine threshold can tell "answerable" from "off-topic". Two signals are combined:
   - *lexical coverage*: the IDF-weighted share of the question's content words that
     occur in the retrieved passages. A glossary concept the question names counts as
     one unit and is covered by any of its terms in any language (번들링 covers
     "Bündelung"). Words the corpus has never seen weigh the most, and off-topic
     questions are made of them;
   - *dense margin*: the question's best dense score, each passage's score first
     lowered by that passage's hubness (the mean score that fixed general-knowledge
     questions, :data:`NULL_QUESTIONS`, reach on it), against the same best corrected
     score of those null questions, in standard deviations. The null scores are
     measured at run time, once per index version, so they follow the model and the
     corpus; a passage close to everything (a long generic table) earns nothing, and
     adding one leaves other questions' margins alone.
   The answer is ``found`` when ``coverage + dense_weight * margin >= threshold``.
3. **Sentence scoring.** Each sentence of the passages is a candidate, except headings,
   questions, lead-ins ending in ":" and signposts ("In this section we will look at
   ..."); so is a table's data row that names, with its header, every concept the
   question names. Its score adds: its vector's similarity to the question (the
   vectors stored at ingest, centred per language so languages compete fairly, then
   standardised within the pool), its own lexical coverage of the question, the
   coverage by the heading it sits under (and what it and its heading cover together
   beyond either), a bonus when it opens with the question's subject (definitions do:
   "번들링은 ..."), a prior for its passage's search rank, and a bonus for the asker's
   language, so that where a translation holds the same content, the asker reads
   their own language first.
4. **Selection.** Maximal marginal relevance picks 2-5 sentences: a sentence too
   similar to one already chosen (a repeat) is skipped, and selection stops when the
   next sentence scores well below the best.
5. **Lists.** When the answer quotes a list's lead-in ("... define a few KPIs. Some of
   them are:") and one of its items, it quotes every item (lists of up to 6 items, up to
   8 sentences in all): a reader asking "which KPIs?" should not get one of four. A
   list the question names by its title ("What are the benefits of X?" and
   "Benefits of X:") leads the answer whole, even when its terse items scored low. A
   sentence that points back ("These rewards ...") brings the one before it.
6. **Order.** The best sentence's passage comes first; the others follow by search
   rank. A passage's sentences stay together and in their text order, since one may
   point back at another ("이러한 마케팅은 ...").

The stages live in one module each: :mod:`.model` (the answer, its sentences and
citations, and the knobs), :mod:`.state` (per-index caches and the null questions),
:mod:`.coverage` (the question's words and how much of them a text holds),
:mod:`.evidence` (step 2), :mod:`.candidates` (the sentences that can be quoted),
:mod:`.scoring` (steps 3 and 4), :mod:`.lists` (step 5), :mod:`.compose` (what comes
with the picked sentences, and step 6), :mod:`.messages` (why there is no answer) and
:mod:`.answerer` (:func:`answer`, which runs them in order).
"""

from __future__ import annotations

from kb.answers.answerer import answer, best_citation, prepare
from kb.answers.coverage import query_terms
from kb.answers.evidence import evidence, topicless
from kb.answers.lists import MAX_WITH_LIST
from kb.answers.model import (
    PASSAGES,
    Answer,
    AnswerConfig,
    AnswerSentence,
    Citation,
    section_at,
)
from kb.answers.scoring import TWIN_SIMILARITY
from kb.answers.state import NULL_QUESTIONS
from kb.results import Evidence

__all__ = [
    "MAX_WITH_LIST",
    "NULL_QUESTIONS",
    "PASSAGES",
    "TWIN_SIMILARITY",
    "Answer",
    "AnswerConfig",
    "AnswerSentence",
    "Citation",
    "Evidence",
    "answer",
    "best_citation",
    "evidence",
    "prepare",
    "query_terms",
    "section_at",
    "topicless",
]
