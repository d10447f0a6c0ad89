"""Calibrate found / not found (kb.answers.evidence) on three corpora, with the real model.

Usage: .venv/bin/python benchmarks/evidence_calibrate.py   (about 4 minutes)

- seeds: the corpus; answerable are the seed and development questions of
  answer_quality.py, the seeds limited to another language that holds a gold snippet,
  and QA's cross-lingual questions (XL_ON); not answerable are the development
  off-topic questions, the off-topic ones limited to each other language, and
  nonsense that names a concept (XL_OFF);
- generic: the same after adding QA's generic article (a 60-row table, a 40-step list;
  tests/test_answers.py): a passage close to every question must not move the bar;
- xquad: 720 XQuAD paragraphs (en, de, vi) and no marketing: 40 XQuAD questions per
  language are answerable, the marketing questions are not; and the same XQuAD
  questions limited to each other language (answerable only from a translation), and
  the marketing questions limited to each language (printed, not in the error count).

Prints, per corpus and group, how many are found with the shipped rule, and the
errors (misses + false finds, the held-out OFF_TOPIC questions left out) over a grid of
dense weights and thresholds. docs/answers.md, "Calibration", has the figures.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
XL_ON = [
    "Why does bundling help with inventory?", "구글 애널리틱스로 무엇을 추적하나요?",
    "제약회사는 어떤 마케팅 전략이 필요한가요?",
    "How did Nike combine upstream and downstream marketing?",
    "Welche Rolle spielt Nike in der Upstream-Strategie?",
    "How does Starbucks use its loyalty program for cross-selling?",
    "Wie nutzt Amazon Empfehlungen für Cross-Selling?",
    "Gmarket dùng email cá nhân hóa như thế nào?",
    "What should a startup focus on, upstream or downstream?",
    "Welche Kennzahlen misst man bei Upstream-Marketing?",
    "비디오 게임 회사가 여성 캐릭터를 추가한 예시는 무엇인가요?",
    "Why do existing customers buy more easily?",
]
XL_OFF = [
    "Why does bundling help with rocket fuel?", "How does upselling work in chess?",
    "Wie hilft Cross-Selling beim Kochen von Suppe?",
    "Upstream marketing for fishing boats in 1850?",
    "번들링으로 감기를 치료할 수 있나요?", "Chương trình khách hàng thân thiết cho mèo?",
    "What KPI measures the temperature of the sun?",
    "Welche Treueprogramme gibt es für Dinosaurier?",
    "다운스트림 마케팅으로 피아노를 배우는 방법은?", "Can email marketing cure a headache?",
]


def measure(kb, questions: list[tuple[str, list[str] | None]]) -> list[tuple[float, float, bool]]:  # type: ignore[no-untyped-def]
    """(coverage, dense margin, a passage defines the asked concept) per question."""
    from kb import answers

    out = []
    for q, langs in questions:
        r = kb.search(q, k=8, langs=langs)
        ev = answers.evidence(kb, r.searched, kb.encode_query(r.searched), r.lang,
                              tuple(r.hits), langs=langs)
        out.append((ev.coverage, ev.dense_margin, any(h.signals.get("defines") for h in r.hits)))
    return out


def found(rows, w: float, t: float, bonus: float) -> int:  # type: ignore[no-untyped-def]
    return sum(c + w * m + (bonus if d else 0.0) >= t for c, m, d in rows)


def main() -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import answer_quality as aq

    from kb import adding, language
    from kb.answers import AnswerConfig
    from kb.core import KnowledgeBase
    from kb.settings import Settings
    from tests.test_answers import OFF_TOPIC, _generic_article

    seeds = [json.loads(line) for line in (SHARED / "eval" / "seed_questions.jsonl").open()]
    marketing = [s["q"] for s in seeds] + aq.DEV_ON_TOPIC + XL_ON
    filt_on = [(s["q"], [lang]) for s in seeds for lang in sorted(aq.gold_langs(s) - {s["lang"]})]
    filt_off = [(q, [lang]) for q in OFF_TOPIC + aq.DEV_OFF_TOPIC
                for lang in ("ko", "en", "de", "vi") if lang != language.detect_query(q)]
    plain = {"seeds": [s["q"] for s in seeds], "dev on": aq.DEV_ON_TOPIC, "QA cross-lingual": XL_ON,
             "dev off": aq.DEV_OFF_TOPIC, "concept nonsense": XL_OFF, "held-out off": OFF_TOPIC}
    on_names = {"seeds", "dev on", "QA cross-lingual", "filtered on", "xquad on"}
    # "xquad cross" and "marketing filtered" are printed, not in the error count: 240
    # factoid questions would outweigh everything else, and the rule that found more of
    # them also found brand questions the seed corpus cannot answer (docs/answers.md).
    skip = {"held-out off", "xquad cross", "marketing filtered"}
    cfg = AnswerConfig()
    results: dict[str, dict[str, list]] = {}
    with tempfile.TemporaryDirectory(prefix="kb-evidence-") as tmp:
        def open_kb(name: str, corpus: Path):  # type: ignore[no-untyped-def]
            d = Path(tmp) / name
            kb = KnowledgeBase.open(d / "index", settings=Settings(
                index_dir=d / "index", corpus_dir=corpus))
            kb.ingest_paths([corpus])
            return kb

        import shutil

        corpus = shutil.copytree(ROOT / "corpus", Path(tmp) / "seed-corpus")
        kb = open_kb("seeds", corpus)
        groups = {g: [(q, None) for q in qs] for g, qs in plain.items()}
        groups |= {"filtered on": filt_on, "filtered off": filt_off}
        results["seeds"] = {g: measure(kb, qs) for g, qs in groups.items()}
        art, kind = adding.prepare(kb, _generic_article().encode(), filename="long.md")
        adding.add(kb, art, kind=kind)
        results["generic"] = {g: measure(kb, qs) for g, qs in groups.items()}
        kb.close()

        xq_corpus = Path(tmp) / "xquad-corpus"
        xq_corpus.mkdir()
        rng = random.Random(1)
        xq_questions = []
        for lang in ("en", "de", "vi"):
            data = json.loads((SHARED / "bench" / "xquad" / f"xquad.{lang}.json").read_text())
            paras = [p for a in data["data"] for p in a["paragraphs"]]
            for i, p in enumerate(paras):
                (xq_corpus / f"xquad-{lang}-{i:03d}.txt").write_text(
                    f"---\nlang: {lang}\n---\n{p['context']}\n", encoding="utf-8")
            xq_questions += rng.sample([qa["question"] for p in paras for qa in p["qas"]], 40)
        # The same questions limited to each other language: the answer is there, in a
        # translation of its paragraph, and only there.
        xq_langs = ["en"] * 40 + ["de"] * 40 + ["vi"] * 40
        xq_cross = [(q, [x]) for q, ql in zip(xq_questions, xq_langs, strict=True)
                    for x in ("en", "de", "vi") if x != ql]
        kx = open_kb("xquad", xq_corpus)
        results["xquad"] = {g: measure(kx, [(q, None) for q in qs]) for g, qs in {
            "xquad on": xq_questions, "marketing": marketing,
            "dev off": aq.DEV_OFF_TOPIC, "held-out off": OFF_TOPIC}.items()}
        results["xquad"]["xquad cross"] = measure(kx, xq_cross)
        results["xquad"]["marketing filtered"] = measure(
            kx, [(q, [x]) for q in marketing for x in ("en", "de", "vi")])
        kx.close()

    w, t, bonus = cfg.dense_weight, cfg.threshold, cfg.definition_evidence
    print(f"\nShipped rule: coverage + {w} x margin (+ {bonus} for a defining passage) >= {t}")
    print("\n| corpus | group | found | of |\n|---|---|---:|---:|")
    for corpus_name, groups_rows in results.items():
        for g, rows in groups_rows.items():
            print(f"| {corpus_name} | {g} | {found(rows, w, t, bonus)} | {len(rows)} |")

    def errors(w: float, t: float) -> int:
        e = 0
        for groups_rows in results.values():
            for g, rows in groups_rows.items():
                if g in skip:
                    continue
                n = found(rows, w, t, bonus)
                e += len(rows) - n if g in on_names else n
        return e

    ts = np.arange(0.8, 1.45, 0.05)
    raw = ROOT / "benchmarks" / "out" / "evidence_rows.json"
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text(json.dumps(results))
    print("\nErrors (misses + false finds, held-out left out) by weight (rows) and threshold:")
    print("w \\ t  " + " ".join(f"{x:5.2f}" for x in ts))
    for wv in (0.15, 0.175, 0.2, 0.225, 0.25, 0.275, 0.3):
        print(f"{wv:5.3f}  " + " ".join(f"{errors(wv, x):5d}" for x in ts))


if __name__ == "__main__":
    main()
