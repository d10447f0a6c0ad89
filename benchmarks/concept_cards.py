"""What the concept cards quote, per language, with the real model (QA21 F6).

Usage: .venv/bin/python benchmarks/concept_cards.py [--index DIR] [--verbose]

For every card of the seed glossary and each of ko/en/de/vi, the line the card shows
(``LangSource.sentence``), counted as:

- a line at all (not a coverage gap);
- definitional: :func:`kb.definitions.kind` says it defines the concept, is a list item
  labelled with it, or has it as its subject;
- a table row (two or more "|"): a comparison table's cells, which say nothing alone;
- a gold snippet: it holds, or is held by, one of ../shared/eval's seed gold snippets
  (whitespace-collapsed, lowercased);
- twins: of two lines from passages that translate each other (the de/vi seed pair),
  whether the one is the other's translation (kb.twins, the alignment "also in" uses).

Prints Markdown and writes benchmarks/out/concept_cards.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT.parent / "shared" / "eval" / "seed_questions.jsonl"


def norm(text: str) -> str:
    return " ".join(text.split()).lower()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", type=Path, help="index directory (default: a temporary one)")
    ap.add_argument("--verbose", action="store_true", help="print every card's lines")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from kb import adding, concepts, definitions, twins
    from kb.core import KnowledgeBase
    from kb.settings import Settings

    golds = [norm(g) for line in SEEDS.read_text().splitlines() if line.strip()
             for g in json.loads(line)["gold"]]
    with tempfile.TemporaryDirectory(prefix="kb-cards-") as tmp:
        index_dir = args.index or Path(tmp) / "index"
        kb = KnowledgeBase.open(index_dir, settings=Settings.from_env(index_dir=index_dir))
        report = kb.ingest_paths([ROOT / "corpus"])
        adding.link_new(kb, report.added)  # as `kb ingest` does: the de/vi translation link
        lines, pairs = [], []
        for card in concepts.concept_cards(kb):
            shown = {}
            for s in card.sources:
                if s.hit is None or s.sentence is None:
                    lines.append({"concept": card.concept.id, "lang": s.lang, "gap": True})
                    continue
                a, b = s.sentence
                text = s.hit.text[a - s.hit.start : b - s.hit.start]
                shown[s.lang] = (s.hit.chunk_id, a, b)
                lines.append({
                    "concept": card.concept.id, "lang": s.lang, "gap": False, "text": text,
                    "chunk_id": s.hit.chunk_id,
                    "definitional": definitions.kind(card.concept, text, s.lang) is not None,
                    "table_row": text.count("|") >= 2,
                    "gold": any(g in norm(text) or norm(text) in g for g in golds),
                })
            for x, (cx, ax, bx) in shown.items():
                for y, (cy, ay, by) in shown.items():
                    if x < y and cy in adding.aligned_chunks(kb, cx):
                        found = twins.sentence_twins(kb, cx, [(ax, bx)], [cy])
                        pairs.append({"concept": card.concept.id, "langs": f"{x}/{y}",
                                      "twins": (cy, ay, by) in found})
        kb.close()
    shown_lines = [x for x in lines if not x["gap"]]
    summary = {
        "cards x languages": len(lines),
        "lines": len(shown_lines),
        "definitional": sum(x["definitional"] for x in shown_lines),
        "table rows": sum(x["table_row"] for x in shown_lines),
        "gold snippets": sum(x["gold"] for x in shown_lines),
        "translation pairs": len(pairs),
        "twin pairs": sum(p["twins"] for p in pairs),
    }
    by_lang = {lang: {k: sum(x[k] for x in shown_lines if x["lang"] == lang)
                      for k in ("definitional", "table_row", "gold")}
               | {"lines": sum(1 for x in shown_lines if x["lang"] == lang)}
               for lang in ("ko", "en", "de", "vi")}
    print("| measure | count |\n|---|---|")
    for k, v in summary.items():
        print(f"| {k} | {v} |")
    print("\n| lang | lines | definitional | table rows | gold |\n|---|---|---|---|---|")
    for lang, c in by_lang.items():
        print(f"| {lang} | {c['lines']} | {c['definitional']} | {c['table_row']} | {c['gold']} |")
    if args.verbose:
        for x in shown_lines:
            flags = "".join(f for f, on in (("D", x["definitional"]), ("T", x["table_row"]),
                                             ("G", x["gold"])) if on)
            print(f"{x['concept']:22} {x['lang']} {flags:3} {x['text'][:110]}")
        for p in pairs:
            print(f"{p['concept']:22} {p['langs']} twins={p['twins']}")
    out = ROOT / "benchmarks" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "concept_cards.json").write_text(json.dumps(
        {"summary": summary, "by_lang": by_lang, "lines": lines, "pairs": pairs},
        ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
