"""Which sentences an answer quotes, measured on XQuAD and KorQuAD with the real model.

Usage: .venv/bin/python benchmarks/answer_sentences.py [--workdir DIR] [--sample N]
           [--config '{"asker_lang_bonus": 0.5}' ...]

Each benchmark question has a gold answer span in its paragraph. An answer (kb.answers)
that quotes the sentence holding that span answers it. For each suite this reports,
over a fixed sample of questions:
- found: the share of questions answered at all;
- quoted: the share whose quoted sentences contain a gold answer text;
- first: the share whose first quoted sentence does;
- own first (mixed only): found answers whose first sentence is in the asker's language.

Suites: XQuAD mono (en/de/vi questions on an index of their own language), cross (a
question on an index of another language; gold is the parallel question's answer in
that language), mixed (all three languages in one index; any language's answer
counts), KorQuAD (Korean). The indexes are `kb eval`'s, built once under --workdir.
Every --config (AnswerConfig overrides, JSON) is scored on the same questions. The
paragraphs have no headings, lists or definitions, so this measures the dense,
coverage, rank and language parts of the sentence score, not the marketing ones.
Prints Markdown and writes benchmarks/out/answer_sentences.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kb import answers  # noqa: E402
from kb.evaluation import XQUAD_LANGS, Evaluator, _paragraph_articles, _squad  # noqa: E402
from kb.settings import Settings  # noqa: E402

SHARED = ROOT.parent / "shared"


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _squad_answers(path: Path) -> dict[str, tuple[str, list[str]]]:
    """question id -> (question, gold answer texts)."""
    out = {}
    for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                out[qa["id"]] = (qa["question"], [a["text"] for a in qa["answers"]])
    return out


def _cases(sample: int) -> dict[str, list[tuple[str, str, str, list[str]]]]:
    """suite -> [(index name, question, question language, gold texts)]."""
    rng = random.Random(11)
    xq = {lang: _squad_answers(SHARED / "bench" / "xquad" / f"xquad.{lang}.json")
          for lang in XQUAD_LANGS}
    ids = sorted(xq["en"])
    suites: dict[str, list[tuple[str, str, str, list[str]]]] = {
        "xquad-mono": [], "xquad-cross": [], "xquad-mixed": [], "korquad": []}
    for qid in rng.sample(ids, sample):
        lang = rng.choice(XQUAD_LANGS)
        q, gold = xq[lang][qid]
        suites["xquad-mono"].append((f"xquad-{lang}", q, lang, gold))
    for qid in rng.sample(ids, sample):
        qlang, plang = rng.sample(XQUAD_LANGS, 2)
        suites["xquad-cross"].append((f"xquad-{plang}", xq[qlang][qid][0], qlang,
                                      xq[plang][qid][1]))
    for qid in rng.sample(ids, sample):
        lang = rng.choice(XQUAD_LANGS)
        gold = [g for x in XQUAD_LANGS for g in xq[x][qid][1]]
        suites["xquad-mixed"].append(("xquad-mixed", xq[lang][qid][0], lang, gold))
    kq = _squad_answers(SHARED / "bench" / "korquad" / "KorQuAD_v1.0_dev.json")
    for qid in rng.sample(sorted(kq), sample):
        q, gold = kq[qid]
        suites["korquad"].append(("korquad", q, "ko", gold))
    return suites


def _score(kb, question: str, lang: str, gold: list[str], cfg) -> dict[str, float]:
    ans = answers.answer(kb, question, query_lang=lang, config=cfg)
    if not ans.found or not ans.sentences:
        return {"found": 0.0, "quoted": 0.0, "first": 0.0, "own_first": 0.0}
    golds = [_norm(g) for g in gold if g.strip()]
    texts = [_norm(s.text) for s in ans.sentences]
    cited = {c.n: c for c in ans.citations}
    return {
        "found": 1.0,
        "quoted": float(any(g in t for g in golds for t in texts)),
        "first": float(any(g in texts[0] for g in golds)),
        "own_first": float(cited[ans.sentences[0].citations[0]].hit.lang == lang),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "out" / "eval")
    ap.add_argument("--sample", type=int, default=200, help="questions per suite")
    ap.add_argument("--config", action="append", default=[],
                    help="AnswerConfig overrides as JSON; the shipped defaults always run")
    args = ap.parse_args()
    configs = {"shipped": answers.AnswerConfig()}
    for c in args.config:
        configs[c] = dataclasses.replace(answers.AnswerConfig(), **json.loads(c))
    settings = Settings.from_env()
    ev = Evaluator(SHARED, args.workdir, settings=settings, log=print)
    xq = {lang: _squad(SHARED / "bench" / "xquad" / f"xquad.{lang}.json") for lang in XQUAD_LANGS}
    kbs = {f"xquad-{lang}": (lambda lang=lang: _paragraph_articles(f"xquad-{lang}", lang,
                                                                    xq[lang]))
           for lang in XQUAD_LANGS}
    kbs["xquad-mixed"] = lambda: [a for lang in XQUAD_LANGS
                                  for a in _paragraph_articles(f"xquad-{lang}", lang, xq[lang])]
    kbs["korquad"] = lambda: _paragraph_articles(
        "korquad", "ko", _squad(SHARED / "bench" / "korquad" / "KorQuAD_v1.0_dev.json"))
    suites = _cases(args.sample)
    report: dict[str, dict[str, dict[str, float]]] = {}
    started = time.perf_counter()
    for name, cfg in configs.items():
        report[name] = {}
        for suite, cases in suites.items():
            totals = {"found": 0.0, "quoted": 0.0, "first": 0.0, "own_first": 0.0}
            for index, q, lang, gold in cases:
                kb = ev.kb(index, kbs[index])
                for k, v in _score(kb, q, lang, gold, cfg).items():
                    totals[k] += v
            n = len(cases)
            found = max(totals["found"], 1.0)
            report[name][suite] = {
                "n": n, "found": round(totals["found"] / n, 3),
                "quoted": round(totals["quoted"] / n, 3),
                "first": round(totals["first"] / n, 3),
                "own_first": round(totals["own_first"] / found, 3),
            }
    ev.close()
    print("| config | suite | n | found | quoted | first | own language first |")
    print("|---|---|---|---|---|---|---|")
    for name, suites_out in report.items():
        for suite, r in suites_out.items():
            own = f"{r['own_first']:.3f}" if suite == "xquad-mixed" else ""
            print(f"| {name} | {suite} | {r['n']} | {r['found']:.3f} | {r['quoted']:.3f} | "
                  f"{r['first']:.3f} | {own} |")
    print(f"({time.perf_counter() - started:.0f} s)")
    out = ROOT / "benchmarks" / "out" / "answer_sentences.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
