"""How the answerer's sentence-scoring weights do on labelled questions, dev and held out.

Usage: .venv/bin/python benchmarks/answer_tune.py [--workdir DIR] [--json-out FILE]

The answer's sentences are scored by hand-set weights (kb.answers.AnswerConfig: the
vector similarity, lexical coverage, search rank, the asker's language, opening with
the question's subject, the heading). QA25 found answers that quote the asker's
language on another topic while search ranks the passage that answers first in another
language (F1). This grid measures, for each setting of those weights, on the labelled
questions there are:
- the 101 questions of benchmarks/data/library_questions.jsonl on the library of
  benchmarks/library.py (the seeds plus 20 one-topic articles): whether the answer
  cites the gold article, and whether one of its sentences holds the gold snippet;
- the 16 seed questions of ../shared/eval/seed_questions.jsonl on the seed corpus:
  whether a sentence holds one of their gold snippets.
Questions are split into dev and test halves by a stable hash of their text; the best
settings on dev are reported on test. The evidence test (found or not) does not depend
on these weights, so found and false-find counts do not move here
(benchmarks/qa_found.py measures them). Indexes are built with the real model under
--workdir (reused).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import zlib
from dataclasses import asdict, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
SEEDS = ROOT.parent / "shared" / "eval" / "seed_questions.jsonl"
LIBRARY = ROOT / "benchmarks" / "data" / "library_questions.jsonl"


def norm(text: str) -> str:
    return " ".join(text.split()).lower()


def grid() -> dict[str, object]:
    from kb.answers import AnswerConfig

    base = AnswerConfig()
    out: dict[str, object] = {"default": base}
    for asker, lead, rank, lexical, heading in itertools.product(
            [0.5, 1.0, 1.5], [0.5, 1.0], [0.5, 1.0, 2.0], [0.5, 1.0, 1.5], [1.0, 2.0]):
        cfg = replace(base, asker_lang_bonus=asker, lead_bonus=lead, rank_weight=rank,
                      lexical_weight=lexical, heading_weight=heading)
        out[f"asker{asker}-lead{lead}-rank{rank}-lex{lexical}-head{heading}"] = cfg
    return out


def items() -> list[dict]:
    out = []
    for line in LIBRARY.read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        if q["type"] != "none":
            out.append({"index": "library", "q": q["q"], "type": q["type"],
                        "gold_article": q["gold_article"], "gold": [q["gold_snippet"]]})
    for line in SEEDS.read_text(encoding="utf-8").splitlines():
        if line.strip():
            q = json.loads(line)
            out.append({"index": "seeds", "q": q["q"], "type": "seed", "gold_article": None,
                        "gold": q["gold"]})
    for it in out:
        it["half"] = "dev" if zlib.crc32(it["q"].encode()) % 2 == 0 else "test"
    return out


def score(kbs: dict, cfg, rows: list[dict]) -> dict[str, dict[str, int]]:
    from kb.answers import answer

    out: dict[str, dict[str, int]] = {}
    for it in rows:
        ans = answer(kbs[it["index"]], it["q"], config=cfg)
        golds = [norm(g) for g in it["gold"]]
        quoted = ans.found and any(g in norm(s.text) or norm(s.text) in g
                                   for s in ans.sentences for g in golds)
        cites = ans.found and it["gold_article"] in {c.hit.article_id for c in ans.citations}
        for key in (it["half"], f"{it['half']}:{it['type']}"):
            o = out.setdefault(key, {"n": 0, "quoted": 0, "cites": 0})
            o["n"] += 1
            o["quoted"] += quoted
            o["cites"] += cites
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", type=Path, required=True, help="indexes built here (reused)")
    ap.add_argument("--json-out", type=Path)
    args = ap.parse_args()
    import library as library_bench

    from kb.core import KnowledgeBase
    from kb.settings import Settings

    lib = library_bench.build(args.workdir)
    seed_dir = args.workdir / "seed-index"
    seeds = KnowledgeBase.open(seed_dir, settings=Settings.from_env(index_dir=seed_dir))
    seeds.ingest_paths([ROOT / "corpus"])
    kbs = {"library": lib, "seeds": seeds}
    rows = items()
    results = {}
    for name, cfg in grid().items():
        results[name] = {"config": asdict(cfg), "scores": score(kbs, cfg, rows)}
        dev = results[name]["scores"]["dev"]
        print(f"{name}: dev quoted {dev['quoted']}/{dev['n']} cites {dev['cites']}",
              flush=True)

    def dev_key(name: str) -> tuple[int, int]:
        dev = results[name]["scores"]["dev"]
        return dev["quoted"], dev["cites"]

    best = sorted(results, key=dev_key, reverse=True)[:5]
    print("\n| setting | dev quoted | dev cites | test quoted | test cites |")
    print("|---|---|---|---|---|")
    for name in ["default", *best]:
        d, t = results[name]["scores"]["dev"], results[name]["scores"]["test"]
        print(f"| {name} | {d['quoted']}/{d['n']} | {d['cites']} | {t['quoted']}/{t['n']} "
              f"| {t['cites']} |")
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
