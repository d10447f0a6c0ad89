"""Cross-language search and answers in a library where each topic has one language.

Usage: .venv/bin/python benchmarks/library.py [--workdir DIR] [--json-out FILE]

The seed corpus plus the 20 articles of benchmarks/data/library/ (5 a language, each
on a topic no other article covers: churn, pricing, SEO, NPS, retargeting, ...) and
101 labelled questions (benchmarks/data/library_questions.jsonl), written by a QA
session (QA8, 2026-12-06):
- ``cross``: 60 asked in another language than the one article that answers them;
- ``mixed``: 9 in one language with another's terms ("NPS survey에서 detractor ...");
- ``same``: 20 in the article's own language (a control);
- ``none``: 12 that nothing answers.

For each, search (k=10, translations folded as /api/search and kb search do): the
rank of the first passage of the gold article (R@1/3/10) and whether a hit holds the
gold snippet (passage R@10); and ask: found, whether it cites the gold article, whether
a quoted sentence holds the snippet. For ``none``, "found" is a wrong answer. This is
the product's promise ("a Korean question must find the German passage") where every
language has articles of its own competing for the question, which kb eval's XQuAD
suites only have in xquad-split. The index is built with the real model under
--workdir (reused).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data"
sys.path.insert(0, str(ROOT))


def norm(text: str) -> str:
    return " ".join(text.split()).lower()


def build(workdir: Path):
    from kb.articles import find_articles, read_article
    from kb.core import KnowledgeBase
    from kb.settings import Settings

    index = workdir / "library-index"
    kb = KnowledgeBase.open(index, settings=Settings.from_env(index_dir=index))
    files, errors = find_articles([ROOT / "corpus", DATA / "library"])
    assert not errors, errors
    report = kb.ingest([read_article(f) for f in files])
    assert not report.errors, report.errors
    return kb


def measure(kb, questions: list[dict]) -> list[dict]:
    rows = []
    for q in questions:
        hits = kb.search(q["q"], k=10, translations="fold").hits
        gold, snippet = q["gold_article"], norm(q.get("gold_snippet") or "\0")
        rank = next((i for i, h in enumerate(hits, 1) if h.article_id == gold), None)
        answer = kb.ask(q["q"])
        cited = {c.hit.article_id for c in answer.citations}
        quoted = " ".join(norm(s.text) for s in answer.sentences)
        rows.append({
            **q, "rank": rank,
            "passage": any(snippet in norm(h.text) for h in hits),
            "found": answer.found, "cites": gold in cited,
            "quoted": snippet in quoted,
            "top": [f"{h.article_id}" for h in hits[:3]],
        })
    return rows


def summary(rows: list[dict]) -> dict[str, dict[str, float]]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[r["type"]].append(r)
        if r["type"] in ("cross", "mixed"):
            groups[f"{r['lang']}→{r['gold_article'][:2]}"].append(r)
    out = {}
    for name, rs in groups.items():
        n = len(rs)
        ranked = [r["rank"] or 99 for r in rs]
        out[name] = {
            "n": n,
            "R@1": sum(x <= 1 for x in ranked) / n,
            "R@3": sum(x <= 3 for x in ranked) / n,
            "R@10": sum(x <= 10 for x in ranked) / n,
            "passage R@10": sum(r["passage"] for r in rs) / n,
            "ask found": sum(r["found"] for r in rs) / n,
            "ask cites gold": sum(r["cites"] for r in rs) / n,
            "snippet quoted": sum(r["quoted"] for r in rs) / n,
        }
    return out


def markdown(table: dict[str, dict[str, float]]) -> str:
    cols = ["n", "R@1", "R@3", "R@10", "passage R@10", "ask found", "ask cites gold",
            "snippet quoted"]
    order = ["cross", "mixed", "same", "none"] + sorted(k for k in table if "→" in k)
    lines = ["| questions | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name in order:
        if name in table:
            row = table[name]
            cells = [f"{row['n']:.0f}"] + [f"{row[c]:.2f}" for c in cols[1:]]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("\n(`none`: nothing answers these; there R@k is 0 by definition and "
                 "\"ask found\" counts wrong answers.)")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, help="where the index is built (reused)")
    ap.add_argument("--json-out", type=Path, default=ROOT / "benchmarks/out/library.json")
    args = ap.parse_args()
    questions = [json.loads(x) for x in
                 (DATA / "library_questions.jsonl").read_text(encoding="utf-8").splitlines()
                 if x.strip()]
    with tempfile.TemporaryDirectory(prefix="kb-library-") as tmp:
        kb = build(args.workdir or Path(tmp))
        rows = measure(kb, questions)
        kb.close()
    table = summary(rows)
    print(markdown(table))
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps({"summary": table, "questions": rows},
                                        ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
