"""Found / not found on QA's labelled questions about the seed corpus, with the real model.

Usage: .venv/bin/python benchmarks/qa_found.py [--index DIR] [--list]

benchmarks/data/qa_found.tsv holds 268 questions a QA session wrote against the seed
articles (stop 25), each labelled Y (the corpus answers it) or N (it does not): brand
questions whose attribute is not in the articles ("Who founded Starbucks?"), near-topic
ones ("What is SEO?"), cross-lingual ones. Prints, per question language, how many
answerable ones are found and how many unanswerable ones are (false finds); --list
names the errors. The questions over-represent hard cases; compare runs, not corpora.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data" / "qa_found.tsv"


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from kb.core import KnowledgeBase

    ap = argparse.ArgumentParser()
    ap.add_argument("--index", type=Path, default=None)
    ap.add_argument("--list", action="store_true", help="name the misses and false finds")
    args = ap.parse_args()
    rows = [line.rstrip("\n").split("\t") for line in DATA.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]
    kb = KnowledgeBase.open(args.index)
    counts: Counter[tuple[str, str, bool]] = Counter()
    errors = []
    for lang, label, question in rows:
        found = kb.ask(question).found
        counts[(lang, label, found)] += 1
        if found != (label == "Y"):
            errors.append(("false find" if found else "miss", lang, question))
    print("| lang | answerable found | unanswerable found (false finds) |\n|---|---|---|")
    for lang in ("en", "de", "ko", "vi", "all"):
        def n(label: str, found: bool, lang: str = lang) -> int:
            return sum(v for (x, lab, f), v in counts.items()
                       if (lang == "all" or x == lang) and lab == label and f == found)
        print(f"| {lang} | {n('Y', True)} / {n('Y', True) + n('Y', False)} | "
              f"{n('N', True)} / {n('N', True) + n('N', False)} |")
    if args.list:
        for kind, lang, question in sorted(errors):
            print(f"{kind}\t{lang}\t{question}")
    kb.close()


if __name__ == "__main__":
    main()
