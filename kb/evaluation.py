"""`kb eval`: the real pipeline (ingest into an index, then search) on benchmark suites.

Suites (data read from a ``shared/`` directory at eval time, never at run time):
- ``seeds``: the concept questions in eval/seed_questions.jsonl over corpus/; a chunk is
  relevant when it contains a gold snippet (whitespace collapsed, lowercased).
- ``xquad-mono``, ``xquad-cross``: XQuAD en/de/vi; one index per paragraph language,
  so a German question is run against the English paragraphs for de→en. Relevant: the
  question's own paragraph.
- ``xquad-mixed``: all 720 paragraphs in one index; any language version is relevant.
- ``korquad``: KorQuAD 1.0 dev paragraphs and questions.

Each paragraph is ingested as its own article (``xquad-de-012``); a paragraph split
into several chunks counts once, at its best rank. Each question is searched as search
reads it, with a misspelled word corrected (kb.spelling); how many were is logged.
"""

from __future__ import annotations

import json
import math
import random
import time
import zlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from kb.articles import Article, parse_article, read_article
from kb.core import KnowledgeBase
from kb.encoder import Encoder
from kb.search import SearchConfig, dense_ranking, fuse
from kb.settings import Settings

SUITES = ("seeds", "xquad-mono", "xquad-cross", "xquad-mixed", "xquad-split", "korquad")
XQUAD_LANGS = ("en", "de", "vi")
KS = (1, 5, 10)


# The retrievers compared in every run: the shipped hybrid and the two plain baselines.
def variants(shipped: SearchConfig) -> dict[str, SearchConfig]:
    return {
        # BM25 with the language's own analyzer, in the query's language only.
        "bm25": replace(shipped, dense_weight=0.0, cross_lexical_weight=0.0,
                        concept_weight=0.0, definition_weight=0.0, heading_weight=0.0,
                        lexical_weight=1.0,
                        lexical_weight_by_lang={}),
        # Plain dense e5: raw cosine over all languages.
        "dense": replace(shipped, center=0.0, sentence_weight=0.0, lexical_weight=0.0,
                         lexical_weight_by_lang={}, cross_lexical_weight=0.0,
                         concept_weight=0.0, definition_weight=0.0, heading_weight=0.0,
                         dense_weight=1.0),
        "hybrid": shipped,
    }


@dataclass
class Query:
    text: str
    lang: str
    relevant: set[str]  # article ids, or chunk ids as strings for chunk-level suites
    group: str  # what the metrics are broken down by: "ko", "de→en", ...


@dataclass
class Metrics:
    n: int = 0
    sums: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    def add(self, ranked: list[str], relevant: set[str]) -> None:
        self.n += 1
        first = next((i for i, r in enumerate(ranked[:10], 1) if r in relevant), None)
        for k in KS:
            self.sums[f"R@{k}"] += 1.0 if first is not None and first <= k else 0.0
        self.sums["MRR@10"] += 1.0 / first if first else 0.0
        dcg = sum(1.0 / math.log2(i + 1) for i, r in enumerate(ranked[:10], 1) if r in relevant)
        ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(relevant), 10) + 1))
        self.sums["nDCG@10"] += dcg / ideal if ideal else 0.0

    def row(self) -> dict[str, float]:
        return {k: round(v / self.n, 4) for k, v in self.sums.items()} | {"n": self.n}


def _squad(path: Path) -> list[tuple[str, str, list[str]]]:
    """(paragraph id, context, questions) from a SQuAD-format file, in file order."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    out = []
    for a, article in enumerate(data):
        for p, para in enumerate(article["paragraphs"]):
            out.append((f"{a:03d}-{p:02d}", para["context"], [q["question"] for q in para["qas"]]))
    return out


def _paragraph_articles(
    prefix: str, lang: str, paras: list[tuple[str, str, list[str]]]
) -> list[Article]:
    return [
        parse_article(ctx, name=f"{prefix}-{pid}", lang=lang, title=f"{prefix} {pid}")
        for pid, ctx, _ in paras
    ]


class Evaluator:
    """Builds (or reuses) one index per suite corpus under ``workdir`` and scores queries."""

    def __init__(
        self,
        shared: Path,
        workdir: Path,
        *,
        settings: Settings,
        encoder: Encoder | None = None,
        config: SearchConfig | None = None,
        sample: int | None = None,
        seed: int = 13,
        log: Callable[[str], None] = print,
        extra: dict[str, SearchConfig] | None = None,
        split: bool = False,
    ) -> None:
        self.shared = shared
        self.workdir = workdir
        self.settings = settings
        self.encoder = encoder
        self.config = config or SearchConfig()
        self.sample = sample
        self.rng = random.Random(seed)
        self.log = log
        # Extra configurations scored in the same pass (for tuning), and whether to also
        # report each group on a stable dev/test split of its questions.
        self.extra = extra or {}
        self.split = split
        self._kbs: dict[str, KnowledgeBase] = {}

    def kb(self, name: str, articles: Callable[[], list[Article]]) -> KnowledgeBase:
        if name not in self._kbs:
            d = self.workdir / name
            kb = KnowledgeBase.open(
                d,
                settings=replace(self.settings, index_dir=d),
                encoder=self.encoder,
                search_config=self.config,
            )
            self.encoder = kb.encoder
            t = time.perf_counter()
            report = kb.ingest(articles())
            if report.chunks_embedded:
                self.log(
                    f"  indexed {name}: {report.chunks_embedded} chunks embedded in "
                    f"{time.perf_counter() - t:.0f}s"
                )
            self._kbs[name] = kb
        return self._kbs[name]

    def _pick(self, queries: list[Query]) -> list[Query]:
        if self.sample and len(queries) > self.sample:
            return self.rng.sample(queries, self.sample)
        return queries

    def run_queries(
        self, kb: KnowledgeBase, queries: list[Query], *, chunk_level: bool = False
    ) -> dict[str, dict[str, Metrics]]:
        """Score every variant on the same dense and lexical signals."""
        configs = variants(self.config) | self.extra
        results: dict[str, dict[str, Metrics]] = {v: defaultdict(Metrics) for v in configs}
        # Each question as search reads it: a misspelled word corrected (kb.spelling).
        texts = [kb.correct_spelling(q.text) or q.text for q in queries]
        fixed = sum(t != q.text for t, q in zip(texts, queries, strict=True))
        self.log(f"  {fixed} of {len(queries)} questions searched with a spelling correction")
        vecs = kb.encoder.encode(texts, kind="query", batch_size=64)
        vectors, lex_index = kb._ensure_fresh()
        langs = vectors.langs
        labels = self._label_map(kb, chunk_level)
        for q, text, vec in zip(queries, texts, vecs, strict=True):
            qlang = kb.query_language(text)
            dense, lex, coverage, defining, share, headed, stands_in = kb.signals(
                text, vec, qlang, langs)
            denses = {(self.config.center, self.config.sentence_weight): dense}
            own_scale = kb.own_lexical_scale(qlang, langs)
            cross_norm = "zscore" if kb.names_only(text, qlang, lex_index) else None
            half = "dev" if zlib.crc32(q.text.encode()) % 2 == 0 else "test"
            for name, cfg in configs.items():
                key = (cfg.center, cfg.sentence_weight)
                if key not in denses:
                    denses[key] = dense_ranking(vectors, vec, langs,
                                                center=kb.centring(langs, cfg.center),
                                                candidates=cfg.candidates,
                                                sentence_weight=cfg.sentence_weight)
                fused = fuse(denses[key], lex, qlang, cfg, coverage, defining=defining,
                             headed=headed, stands_in=stands_in,
                             cross_norm=cross_norm, limit=30,
                             own_scale=own_scale, cross_scale=share)
                ranked = list(dict.fromkeys(labels[s.chunk_id] for s in fused))
                results[name][q.group].add(ranked, q.relevant)
                results[name]["all"].add(ranked, q.relevant)
                if self.split:
                    results[name][f"{q.group}|{half}"].add(ranked, q.relevant)
        return results

    @staticmethod
    def _label_map(kb: KnowledgeBase, chunk_level: bool) -> dict[int, str]:
        """Chunk id to what relevance is judged on: the chunk, or its article."""
        rows = kb.store.conn.execute("SELECT id, article_id FROM chunks")
        return {r["id"]: str(r["id"]) if chunk_level else r["article_id"] for r in rows}

    # -- suites -----------------------------------------------------------------------
    def seeds(self, corpus: Path) -> dict[str, dict[str, Metrics]]:
        kb = self.kb("seeds", lambda: [read_article(p) for p in sorted(corpus.glob("*.txt"))])
        path = self.shared / "eval" / "seed_questions.jsonl"
        items = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
        chunks = kb.store.conn.execute("SELECT id, text FROM chunks").fetchall()
        norm = {r["id"]: " ".join(r["text"].split()).lower() for r in chunks}
        queries = []
        for it in items:
            golds = [" ".join(g.split()).lower() for g in it["gold"]]
            rel = {str(cid) for cid, t in norm.items() if any(g in t for g in golds)}
            queries.append(Query(it["q"], it["lang"], rel, it["lang"]))
        return self.run_queries(kb, queries, chunk_level=True)

    def _xquad(self) -> dict[str, list[tuple[str, str, list[str]]]]:
        return {
            lang: _squad(self.shared / "bench" / "xquad" / f"xquad.{lang}.json")
            for lang in XQUAD_LANGS
        }

    def xquad(self, mode: str) -> dict[str, dict[str, Metrics]]:
        data = self._xquad()
        merged: dict[str, dict[str, Metrics]] = {}
        if mode == "mixed":
            kb = self.kb(
                "xquad-mixed",
                lambda: [
                    a
                    for lang in XQUAD_LANGS
                    for a in _paragraph_articles(f"xquad-{lang}", lang, data[lang])
                ],
            )
            queries = []
            for lang in XQUAD_LANGS:
                for pid, _, qs in data[lang]:
                    rel = {f"xquad-{x}-{pid}" for x in XQUAD_LANGS}
                    queries += [Query(q, lang, rel, lang) for q in qs]
            return self.run_queries(kb, self._pick(queries))
        if mode == "split":
            return self._xquad_split(data)
        for plang in XQUAD_LANGS:
            kb = self.kb(
                f"xquad-{plang}",
                lambda plang=plang: _paragraph_articles(f"xquad-{plang}", plang, data[plang]),
            )
            queries = []
            for qlang in XQUAD_LANGS:
                if (mode == "mono") != (qlang == plang):
                    continue
                for pid, _, qs in data[qlang]:
                    queries += [
                        Query(q, qlang, {f"xquad-{plang}-{pid}"}, f"{qlang}→{plang}") for q in qs
                    ]
            res = self.run_queries(kb, self._pick(queries))
            for variant, groups in res.items():
                target = merged.setdefault(variant, defaultdict(Metrics))
                for group, m in groups.items():
                    if group == "all":
                        continue
                    target[group] = m
        return merged

    def _xquad_split(
        self, data: dict[str, list[tuple[str, str, list[str]]]]
    ) -> dict[str, dict[str, Metrics]]:
        """Each paragraph indexed in one language only (en, de, vi in turn), and every
        question asked in all three: two in three must find a passage in another language
        among the passages of their own, the product's promise ("a Korean question must
        find the German passage") in a knowledge base where every language has many
        articles. xquad-cross never lets a question compete with its own language, and in
        xquad-mixed its own-language copy is always an answer (QA8: both hid that the
        question's own language won). Groups: ``cross`` and ``same``."""
        owner = {pid: XQUAD_LANGS[i % len(XQUAD_LANGS)] for i, (pid, _, _) in
                 enumerate(data[XQUAD_LANGS[0]])}
        kb = self.kb("xquad-split", lambda: [
            a for lang in XQUAD_LANGS for a in _paragraph_articles(
                f"xquad-{lang}", lang, [p for p in data[lang] if owner[p[0]] == lang])])
        queries = [
            Query(q, qlang, {f"xquad-{owner[pid]}-{pid}"},
                  "same" if owner[pid] == qlang else "cross")
            for qlang in XQUAD_LANGS for pid, _, qs in data[qlang] for q in qs
        ]
        return self.run_queries(kb, self._pick(queries))

    def korquad(self) -> dict[str, dict[str, Metrics]]:
        paras = _squad(self.shared / "bench" / "korquad" / "KorQuAD_v1.0_dev.json")
        kb = self.kb("korquad", lambda: _paragraph_articles("korquad", "ko", paras))
        queries = [Query(q, "ko", {f"korquad-{pid}"}, "ko") for pid, _, qs in paras for q in qs]
        # A fixed 1,000-question subset keeps a full run inside the time budget.
        queries = random.Random(7).sample(queries, min(1000, len(queries)))
        return self.run_queries(kb, self._pick(queries))

    def close(self) -> None:
        for kb in self._kbs.values():
            kb.close()


def summarize(results: dict[str, dict[str, Metrics]]) -> dict[str, dict[str, dict[str, float]]]:
    """Per variant, per group metrics, plus the macro average over groups as 'avg'."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for variant, groups in results.items():
        rows = {g: m.row() for g, m in sorted(groups.items()) if m.n}
        real = [r for g, r in rows.items() if g != "all" and "|" not in g]
        if real and "all" not in rows:
            keys = [k for k in real[0] if k != "n"]
            rows["avg"] = {k: round(float(np.mean([r[k] for r in real])), 4) for k in keys}
            rows["avg"]["n"] = sum(int(r["n"]) for r in real)
        out[variant] = rows
    return out


def markdown(report: dict[str, dict[str, dict[str, dict[str, float]]]]) -> str:
    """One table per suite: rows are variant × group."""
    lines = []
    for suite, variants_ in report.items():
        lines += [
            f"### {suite}",
            "",
            "| retriever | group | n | R@1 | R@5 | R@10 | MRR@10 | nDCG@10 |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for variant, groups in variants_.items():
            for group, m in groups.items():
                lines.append(
                    f"| {variant} | {group} | {int(m['n'])} | {m['R@1']:.3f} | {m['R@5']:.3f} | "
                    f"{m['R@10']:.3f} | {m['MRR@10']:.3f} | {m['nDCG@10']:.3f} |"
                )
        lines.append("")
    return "\n".join(lines)


def run(
    suites: list[str], evaluator: Evaluator, corpus: Path
) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
    report = {}
    for suite in suites:
        t = time.perf_counter()
        evaluator.log(f"suite {suite}...")
        if suite == "seeds":
            res = evaluator.seeds(corpus)
        elif suite == "korquad":
            res = evaluator.korquad()
        else:
            res = evaluator.xquad(suite.split("-")[1])
        report[suite] = summarize(res)
        evaluator.log(f"  done in {time.perf_counter() - t:.0f}s")
        for variant, groups in report[suite].items():
            m = groups.get("all") or groups.get("avg")
            if m:
                evaluator.log(f"  {variant:8s} R@1 {m['R@1']:.3f}  R@5 {m['R@5']:.3f}  "
                              f"R@10 {m['R@10']:.3f}  MRR@10 {m['MRR@10']:.3f}")
    return report
