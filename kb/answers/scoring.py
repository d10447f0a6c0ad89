"""Each candidate sentence's features and score, and the maximal-marginal-relevance
pick of 2-5 of them (steps 3 and 4 of :mod:`kb.answers`)."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

import numpy as np

from kb import chunking, definitions
from kb.answers.candidates import (
    _ANAPHOR,
    _CONTRAST,
    _before,
    _Candidate,
    _heading_is_the_question,
    _in_section,
    _own_terms,
    _sentence_vectors,
)
from kb.answers.coverage import (
    WHOLE,
    _analyzed,
    _concept_tokens,
    _coverage,
    _idf,
    _span_terms,
    _term_present,
    query_terms,
)
from kb.answers.lists import _in_list, _later_in_item, _line_start
from kb.answers.model import AnswerConfig
from kb.answers.state import _State
from kb.glossary import SUBJECTS
from kb.glossary import fold as _fold
from kb.sentences import BULLET as _BULLET

if TYPE_CHECKING:
    from kb.core import KnowledgeBase
    from kb.glossary import Concept


LEAD_SHARE = 0.5  # of the best passage's search score, for the asker's language to lead


def _zscore(x: np.ndarray) -> np.ndarray:
    if len(x) < 2:
        return np.zeros_like(x)
    sd = float(x.std())
    return (x - float(x.mean())) / (sd if sd > 1e-9 else 1.0)
# A sentence and its heading must cover this much of the question together to earn
# what they cover beyond either alone: "why do sales and marketing teams clash?" had a
# list item ("Sales Enablement", .38) lead for its heading's "marketing" (.11), and the
# sentence on the tension went from 2nd to 6th (QA12b).
COMPLETED_COVERAGE = 0.5


def _openings(
    cand: _Candidate,
    qterms: list[str],
    qlang: str,
    concepts: list[tuple[set[str], dict[str, list[str]]]],
) -> tuple[bool, bool]:
    """Whether the sentence's subject is what the question asks about: (it opens with a
    word of the question or a glossary concept of it, it opens with such a concept).

    Definitions put their subject first ("번들링은 ...", "Upstream marketing focuses
    on ..."), so a question word or concept term among the first words is a good sign.
    """
    body = _BULLET.sub("", cand.text)
    words = list(re.finditer(r"\S+", body))[:4]
    opening = " ".join(w.group() for w in words)
    first = cand.start - cand.hit.start + len(cand.text) - len(body)  # where body starts
    lead = set(_span_terms(cand.hit, first, first + (words[-1].end() if words else 0)))
    folded = _fold(opening)
    concept = any(
        _term_present(term, cand.hit.lang, lead, folded)
        for _, per_lang in concepts
        for term in per_lang.get(cand.hit.lang, [])
    )
    return concept or (cand.hit.lang == qlang and bool(lead & set(qterms))), concept


def _leads_with(
    cands: list[_Candidate],
    qterms: list[str],
    qlang: str,
    concepts: list[tuple[set[str], dict[str, list[str]]]],
) -> list[bool]:
    """Whether each sentence's subject is what the question asks about: it opens with
    it (:func:`_openings`), or it opens by pointing back ("이는 …", "여기에는 …",
    "These rewards …") at the sentence right before it in its passage, which does. In
    "다운스트림 마케팅은 … 위치합니다. 이는 … 방식입니다. 여기에는 인적 판매, 이메일
    마케팅, 판촉 활동과 같은 전략이 포함됩니다." the last is about downstream
    marketing as much as the first, and it lost the lead bonus to every sentence that
    names it, for "다운스트림 마케팅에는 어떤 전략이 포함되나요?" (stop 33's xfail)."""
    out: list[bool] = []
    named = False  # the sentence before opens with a concept of the question, or points at one
    for i, c in enumerate(cands):
        lead, concept = _openings(c, qterms, qlang, concepts)
        pointing = False
        if named and _ANAPHOR.match(c.text) and not _CONTRAST.match(c.text):
            before, between = _before(i, cands)
            pointing = before is not None and not between.strip()
        named = pointing or concept
        out.append(lead or pointing)
    return out


def _features(
    kb: KnowledgeBase,
    st: _State,
    query: str,
    qvec: np.ndarray,
    qlang: str,
    cands: list[_Candidate],
    cfg: AnswerConfig,
    asked: Concept | None,
) -> np.ndarray:
    """Fill each candidate's features; return the pairwise similarity z-scores.
    ``asked``: the concept the question asks to define (kb.definitions.asked)."""
    vecs = _sentence_vectors(kb, st, cands)
    raw = vecs @ qvec
    centre = np.array(
        [float(qvec @ st.means[c.hit.lang]) if c.hit.lang in st.means else 0.0 for c in cands]
    )
    dense = _zscore(raw - centre)
    qterms = query_terms(query, qlang)
    idf = _idf(st, qlang, qterms)
    # The glossary's question words ("example", "차이") count in the evidence only: here
    # they made "For example, a survey could ask …" a sentence about bundling examples.
    # Brands count here as concepts do: "How does Amazon use cross-selling?" is answered
    # by the sentences that say 아마존, which share no letter with it.
    concepts = _concept_tokens(kb, query, qlang, qterms, kinds=SUBJECTS | {"name"})
    counts = kb.store.chunk_counts(sorted({c.hit.article_id for c in cands}))
    several = {a for a, n in counts.items() if n > 1}
    sims = vecs @ vecs.T
    twins = _translations(kb, cands, sims)
    # The asker's language is preferred where search ranks a passage in it among the
    # first three, and between a sentence and its translation. Where search does not,
    # the bonus had the answer quote passages in the asker's language on another topic:
    # "Why is cross-selling to existing customers cheaper than winning new customers?"
    # quoted the English article on upstream and downstream marketing, not the Korean
    # sentence that says why (docs/answers.md). Only the first passage was too few: an
    # English question whose German twin ranked first lost its English sentences.
    top = max(c.hit.score for c in cands)
    leads = any(c.hit.lang == qlang and c.rank < 3 and c.hit.score >= LEAD_SHARE * top
                for c in cands)
    twinned = {i for pair in twins for i in pair}
    leads_with = _leads_with(cands, qterms, qlang, concepts)
    for i, c in enumerate(cands):
        own = {c.hit.lang: _own_terms(c)}
        says = _says(asked, c) if asked is not None else 0.0  # kind() tests defines() first
        # Whether it names a glossary concept of the question: itself, or with its
        # heading (tested only when it does not itself).
        names = bool(concepts) and _coverage(qterms, idf, qlang, concepts, own,
                                             texts={c.hit.lang: c.own_text()},
                                             concepts_only=True) > 0
        near = names or (bool(concepts) and _coverage(
            qterms, idf, qlang, concepts,
            {c.hit.lang: own[c.hit.lang] | _analyzed(c.context, c.hit.lang)},
            texts={c.hit.lang: c.own_text() + "\n" + c.context}, concepts_only=True) > 0)
        coverage = _coverage(qterms, idf, qlang, concepts, own,
                             texts={c.hit.lang: c.own_text()}, focus=cfg.focus)
        heading = _coverage(
            qterms, idf, qlang, concepts, {c.hit.lang: set(_analyzed(c.context, c.hit.lang))},
            texts={c.hit.lang: c.context}, focus=cfg.focus,
        ) if c.context and not _title_of_many(c, several) else 0.0
        completed = 0.0
        if coverage and heading:
            both = _coverage(
                qterms, idf, qlang, concepts,
                {c.hit.lang: own[c.hit.lang] | _analyzed(c.context, c.hit.lang)},
                texts={c.hit.lang: c.own_text() + "\n" + c.context}, focus=cfg.focus)
            if both >= COMPLETED_COVERAGE:
                completed = both - max(coverage, heading)
        c.features = {
            "dense": float(dense[i]),
            "coverage": coverage,
            "rank": 1.0 / (1 + c.rank),
            "asker_lang": float(c.hit.lang == qlang and (leads or i in twinned)),
            "lead": float(leads_with[i]),
            "defines": float(says == 3),
            # It says what the asked concept is, if less plainly (kb.definitions.kind).
            "says": says,
            "concept": float(names),
            "concept_near": float(near),
            "heading": heading,
            "completed": completed,
            # Under a heading that is the question, all of it (QA22 F8).
            "its_section": float(heading >= WHOLE and _in_section(c)
                                 and _heading_is_the_question(c, qterms, qlang, concepts)),
        }
    off = sims[~np.eye(len(cands), dtype=bool)]
    mu, sd = (float(off.mean()), max(float(off.std()), 1e-6)) if off.size else (0.0, 1.0)
    sim_z = (sims - mu) / sd
    for i, j in twins:
        # Twins are as new as each other, and the better scored (the asker's language)
        # is quoted: across languages e5 finds a sentence far from those already quoted,
        # so MMR took the other language's twin for the newer one. "Wie kann ein
        # Marketingleiter Marketing und Vertrieb zusammenbringen?" quoted the Vietnamese
        # of a sentence beside three German ones from its passage, not the German.
        both = np.minimum(sim_z[i], sim_z[j])
        sim_z[i], sim_z[j] = both, both
        sim_z[:, i], sim_z[:, j] = both, both
        sim_z[i, j] = sim_z[j, i] = np.inf  # a translation of a quoted sentence repeats it
    return sim_z


def _title_of_many(c: _Candidate, several: set[str]) -> bool:
    """Whether ``c`` sits under its article's title, in an article of several passages.
    The title heads the opening passage when the text repeats it (the German seed): it
    names what the whole article is about, not that passage, and as a heading it made
    "Die Begriffe "Upstream" und "Downstream" …" lead 7 of QA's 60 answers about
    upstream or downstream, whatever they asked. In an article of one passage ("Bán
    chéo là gì" over its definition) it is that passage's heading."""
    return c.hit.article_id in several and _fold(c.context) == _fold(c.hit.title)


def _says(concept: Concept, c: _Candidate) -> float:
    """How plainly the sentence says what the asked concept is: 3 it defines it, 2 it
    is a list item labelled with it, 1 the concept is its subject, 0 none of these
    (:func:`kb.definitions.kind`)."""
    k = definitions.kind(concept, c.text, c.hit.lang)
    return 0.0 if k is None else float(3 - k)


# Two sentences of aligned passages whose similarity passes this are paired by the
# in-order alignment below (the seeds' de/vi translations: .83-.92; unrelated pairs of
# those passages mostly under .8).
TWIN_SIMILARITY = 0.8


def _translations(kb: KnowledgeBase, cands: list[_Candidate],
                  sims: np.ndarray) -> list[tuple[int, int]]:
    """Pairs of candidates that translate each other: in passages that the translation
    links align, paired by an in-order alignment of their sentences (a translation keeps
    the order). Across languages e5's similarity is too low for the pool's z-scores to
    call them repeats (1.1-1.7 against 3.5), and answers quoted the German and the
    Vietnamese of the same sentence. Mutual best matches alone missed short ones:
    "Tiếp thị ngược dòng tập trung vào sự đổi mới." is closer to a longer German
    sentence than to "Upstream-Marketing konzentriert sich auf Innovation."."""
    from kb import adding

    chunks = sorted({c.hit.chunk_id for c in cands})
    aligned = adding.aligned_map(kb, chunks)
    if not aligned:
        return []
    rows: dict[int, list[int]] = {}
    for i, c in enumerate(cands):
        rows.setdefault(c.hit.chunk_id, []).append(i)
    out = []
    for x, others in aligned.items():
        for y in others:
            if y <= x or y not in rows or x not in rows:
                continue
            block = sims[np.ix_(rows[x], rows[y])]
            out += [(rows[x][a], rows[y][b]) for a, b in _in_order(block - TWIN_SIMILARITY)]
    return out


def _in_order(gain: np.ndarray) -> list[tuple[int, int]]:
    """The pairs (row, column) of the best in-order alignment: rising in both, each
    row and column used once, maximising the summed ``gain`` (only positive ones pay)."""
    n, m = gain.shape
    best = np.zeros((n + 1, m + 1))
    for i in range(n):
        for j in range(m):
            best[i + 1, j + 1] = max(best[i, j] + gain[i, j], best[i, j + 1], best[i + 1, j])
    pairs, i, j = [], n, m
    while i and j:
        if best[i, j] == best[i - 1, j]:
            i -= 1
        elif best[i, j] == best[i, j - 1]:
            j -= 1
        else:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
    return pairs[::-1]


def _score(c: _Candidate, cfg: AnswerConfig) -> float:
    f = c.features
    return (
        f["dense"]
        + cfg.lexical_weight * f["coverage"]
        + cfg.rank_weight * f["rank"]
        + cfg.asker_lang_bonus * f["asker_lang"]
        + cfg.lead_bonus * f["lead"]
        + cfg.definition_bonus * f["defines"]
        + cfg.heading_weight * f["heading"]
        + cfg.completed_weight * f["completed"]
        + cfg.whole_heading_bonus * (c.opens and f["its_section"])
    )


def _pick(cands: list[_Candidate], sim_z: np.ndarray, cfg: AnswerConfig, *,
          what: bool = False) -> list[_Candidate]:
    """Maximal marginal relevance: 2-5 high scorers that do not repeat each other.
    ``what``: the question asks what a concept is."""
    for c in cands:
        c.score = _score(c, cfg)
    order = sorted(range(len(cands)), key=lambda i: -cands[i].score)
    best = cands[order[0]].score
    grounded = {i for i in order if cands[i].features["coverage"] > 0
                or cands[i].features["heading"] > 0}
    # The answer opens with a sentence that names a glossary concept of the question
    # when one scores close to the best: QA's "ví dụ bán theo gói" (bundling examples)
    # opened with a Vietnamese sentence on sales teams, close to it in vector space
    # only, above the Korean definition of bundling. Any shared word was too weak a
    # sign ("Netflix sử dụng gợi ý như thế nào?" would open with a Vietnamese sentence
    # sharing "sử dụng", not the Korean Netflix one). And only when the best sentence
    # names none, not even in its heading: a list's terse items name it there ("Benefits
    # of Downstream Marketing:"), and "마케팅 책임자의 역할은?" opened with an upstream
    # sentence once any concept-naming one could lead.
    lead = order[0]
    if cfg.lead_concept and not cands[lead].features["concept_near"]:
        lead = next((i for i in order if cands[i].features["concept"] > 0), lead)
        if cands[lead].score < best - cfg.keep_within:
            lead = order[0]
    # A question that asks what a concept is opens with a sentence that says it, if
    # one is close ("- Brand Messaging: …" for "Was ist Markenbotschaft?" rather than a
    # sentence on advertising campaigns); not instead of a list's lead-in or item,
    # which bring their list ("What are KPIs?": the four Korean KPIs).
    # The plainest such sentence leads: "- Sales Enablement: Providing the sales team …"
    # before "Das Verkaufsteam weigert sich …" (its subject is a term of the concept).
    says = [i for i in order if cands[i].features["says"]]
    close = [i for i in says if cands[i].score >= best - cfg.keep_within]
    if close and (cands[lead].features["says"] or not _in_list(cands[lead])):
        plainest = max(close, key=lambda i: (cands[i].features["says"], cands[i].score))
        if cands[plainest].features["says"] > cands[lead].features["says"]:
            lead = plainest
    # Nor with a table's row: a row says how things differ in one respect, not what one
    # is. QA25 F4: "What does “conversion rate” mean?" opened with the upstream and
    # downstream table's "Metrics | … | Conversion rates, engagement" row (the question
    # names the concept and so does the row: e5 put it nearest), before the Korean
    # item that says what 구매 전환율 is. The sentence that says it most plainly leads,
    # or the best other one that stands alone (not an item's later sentence, which
    # goes on from a label it does not repeat); the row may follow.
    if what and cands[lead].table:
        prose = [i for i in order if not cands[i].table and not _later_in_item(cands[i])]
        saying = [i for i in prose if cands[i].features["says"]]
        if saying or prose:
            lead = (max(saying, key=lambda i: (cands[i].features["says"], cands[i].score))
                    if saying else prose[0])
    # Nor does it open by turning from a sentence it cannot quote (QA25 F5: "업스트림과
    # 다운스트림 마케팅의 차이는?" opened with "반면, 다운스트림 마케팅은 전술적인 접근
    # 방식을 채택합니다.", "On the other hand, …", after a sentence that points back in
    # turn): the best close sentence that does not lean so leads.
    if _turns_from_nothing(lead, cands):
        lead = next((i for i in order if cands[i].score >= best - cfg.keep_within
                     and not _turns_from_nothing(i, cands)), lead)
    picked: list[int] = [lead]
    # When the question names a glossary concept that the passages name too, a
    # sentence that names none of it, not even in its heading, and none of the
    # question's words, is close in vector space only: QA19 F5's "khác biệt giữa bán
    # thêm và bán chéo" (upselling vs cross-selling) quoted Vietnamese sentences on
    # sales ("bán hàng") for their vectors and language, not the upselling definition.
    if any(c.features["concept_near"] for c in cands):
        loose = {i for i in order if not cands[i].features["concept_near"]
                 and not cands[i].features["coverage"]}
    else:
        loose = set()
    # Far below the best, sentences that only come close in vector space are about
    # something else: filling up to min_sentences with the most diverse of them quoted
    # "Das Upstream-Marketing konzentriert sich auf …" for "Was ist Upselling?" once a
    # short German note was added (QA). A grounded one (a word or concept of the
    # question in it or its heading) goes first.
    while len(picked) < cfg.max_sentences:
        best_i, best_val = None, -math.inf
        spare = len(picked) < cfg.min_sentences and bool(grounded - set(picked))
        for i in order:
            if i in picked or i in loose:
                continue
            if spare and i not in grounded and cands[i].score < best - cfg.keep_within:
                continue
            redundancy = max(float(sim_z[i, j]) for j in picked)
            if redundancy >= cfg.redundancy_z:
                continue
            val = cands[i].score - cfg.mmr_penalty * max(0.0, redundancy)
            if val > best_val:
                best_i, best_val = i, val
        if best_i is None:
            break
        if len(picked) >= cfg.min_sentences and cands[best_i].score < best - cfg.keep_within:
            break
        picked.append(best_i)
    # A question that asks what a concept is quotes a sentence that says it when its
    # passages hold one, however far below the best: "Was ist Downstream-Marketing?"
    # quoted a German comparison, and not the English "Downstream marketing is more
    # tactical and focuses on short-term results."
    if says and not any(cands[i].features["says"] for i in picked):
        plainest = max(says, key=lambda i: (cands[i].features["says"], cands[i].score))
        picked = [picked[0], plainest, *picked[1 : cfg.max_sentences - 1]]
    if cfg.whole_items:
        picked = _with_item_rests(cands, picked, cfg.max_sentences)
    return [cands[i] for i in picked]


def _turns_from_nothing(i: int, cands: list[_Candidate]) -> bool:
    """Whether ``cands[i]`` turns from the sentence before it ("반면, …", "However, …")
    that no answer can quote with it: none right before it in its passage, or one that
    leans on another in turn (as :func:`_antecedents` decides)."""
    if not _CONTRAST.match(cands[i].text):
        return False
    before, between = _before(i, cands)
    if before is None:
        return True
    return bool(between.strip()) or bool(
        _ANAPHOR.match(before.text) or _CONTRAST.match(before.text))


def _with_item_rests(cands: list[_Candidate], picked: list[int], limit: int) -> list[int]:
    """``picked`` with the later sentences of each list item it opens, after it, up to
    ``limit`` sentences in all: an item is one thought, and its first sentence often
    only names what the next says of it."""
    out = list(picked)
    for i in picked:
        c = cands[i]
        local = c.start - c.hit.start
        line = _line_start(c)
        if line != local or not chunking.is_list_item(c.hit.text[line:].split("\n", 1)[0]):
            continue
        end = c.hit.text.find("\n", local)
        end = len(c.hit.text) if end < 0 else end
        rest = sorted((j for j, d in enumerate(cands)
                       if d.hit.chunk_id == c.hit.chunk_id and c.end <= d.start
                       and d.start - d.hit.start < end and j not in out),
                      key=lambda j: cands[j].start)
        at = out.index(i) + 1
        for j in rest[: max(0, limit - len(out))]:
            out.insert(at, j)
            at += 1
    return out


def _select(
    kb: KnowledgeBase,
    st: _State,
    query: str,
    qvec: np.ndarray,
    qlang: str,
    cands: list[_Candidate],
    cfg: AnswerConfig,
) -> tuple[list[_Candidate], dict[int, list[_Candidate]]]:
    """Score the candidate sentences and pick 2-5 of them, best first; and each
    candidate's translations among the others (by ``id``)."""
    glossary = getattr(kb, "glossary", None)
    asked = definitions.asked(query, glossary.match(query)) if glossary is not None else None
    sim_z = _features(kb, st, query, qvec, qlang, cands, cfg, asked)
    twins: dict[int, list[_Candidate]] = {}
    for i, j in zip(*np.nonzero(np.isposinf(sim_z)), strict=True):
        if i != j:
            twins.setdefault(id(cands[i]), []).append(cands[j])
    return _pick(cands, sim_z, cfg, what=asked is not None), twins
