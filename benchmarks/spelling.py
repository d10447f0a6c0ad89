"""How often kb.spelling rewrites a benchmark question, and how often it mends a typo.

1. Every question of the suites `kb eval` runs (the seed questions over corpus/, XQuAD
   en/de/vi over each language's paragraphs, over all three mixed and split, KorQuAD
   over its paragraphs) is passed through ``KnowledgeBase.correct_spelling`` against the
   index that suite searches. These questions are spelled as their authors meant, so
   each rewrite is a false alarm, or a word the paragraphs happen to spell otherwise;
   all are listed.
2. Typos made on purpose: in each XQuAD question one word the rule would look at (Latin
   letters, long enough) gets one random edit (a letter dropped, added, changed, or two
   neighbours swapped), and the question is corrected against the mixed index.
   Reported: the share given back exactly (case aside), changed to another word, or
   left as typed.

The vocabulary does not depend on the encoder, so the indexes are built with the fake
one (a minute or so, kept in --workdir).

    .venv/bin/python benchmarks/spelling.py [--shared ../shared] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from dataclasses import replace
from pathlib import Path

from kb import spelling
from kb.articles import read_article
from kb.encoder import FakeEncoder
from kb.evaluation import XQUAD_LANGS, Evaluator, _paragraph_articles, _squad
from kb.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
_WORD = re.compile(r"[^\W_]+")
LETTERS = ("abcdefghijklmnopqrstuvwxyzäöüß"
           "àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ")


def _typo(word: str, rng: random.Random) -> str:
    """``word`` with one random edit that changes it."""
    while True:
        i = rng.randrange(len(word))
        kind = rng.choice(("drop", "add", "change", "swap"))
        if kind == "drop":
            out = word[:i] + word[i + 1:]
        elif kind == "add":
            out = word[:i] + rng.choice(LETTERS) + word[i:]
        elif kind == "change":
            out = word[:i] + rng.choice(LETTERS) + word[i + 1:]
        else:
            out = word[:i] + word[i + 1:i + 2] + word[i] + word[i + 2:] if i + 1 < len(word) \
                else word
        if out.casefold() != word.casefold():
            return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "out" / "spelling")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    settings = Settings(index_dir=args.workdir, model="fake")
    ev = Evaluator(args.shared, args.workdir, settings=replace(settings),
                   encoder=FakeEncoder(), log=print)
    xquad = {lang: _squad(args.shared / "bench" / "xquad" / f"xquad.{lang}.json")
             for lang in XQUAD_LANGS}
    questions = {lang: [q for _, _, qs in xquad[lang] for q in qs] for lang in XQUAD_LANGS}
    seeds = [json.loads(x)["q"] for x in (args.shared / "eval" / "seed_questions.jsonl")
             .read_text(encoding="utf-8").splitlines() if x.strip()]
    korquad = _squad(args.shared / "bench" / "korquad" / "KorQuAD_v1.0_dev.json")
    owner = {pid: XQUAD_LANGS[i % 3] for i, (pid, _, _) in enumerate(xquad["en"])}
    suites = {
        "seeds": (lambda: [read_article(p) for p in sorted((ROOT / "corpus").glob("*.txt"))],
                  seeds),
        "xquad-mixed": (lambda: [a for lang in XQUAD_LANGS
                                 for a in _paragraph_articles(f"xquad-{lang}", lang, xquad[lang])],
                        [q for lang in XQUAD_LANGS for q in questions[lang]]),
        "xquad-split": (lambda: [a for lang in XQUAD_LANGS for a in _paragraph_articles(
            f"xquad-{lang}", lang, [p for p in xquad[lang] if owner[p[0]] == lang])],
            [q for lang in XQUAD_LANGS for q in questions[lang]]),
        **{f"xquad-{lang}": (lambda lang=lang: _paragraph_articles(f"xquad-{lang}", lang,
                                                                    xquad[lang]),
                             [q for x in XQUAD_LANGS for q in questions[x]])
           for lang in XQUAD_LANGS},
        "korquad": (lambda: _paragraph_articles("korquad", "ko", korquad),
                    [q for _, _, qs in korquad for q in qs]),
    }
    report: dict[str, object] = {}
    for name, (articles, qs) in suites.items():
        kb = ev.kb(name, articles)
        started = time.perf_counter()
        fixed = [(q, c) for q in qs if (c := kb.correct_spelling(q)) is not None]
        took = (time.perf_counter() - started) * 1000 / len(qs)
        print(f"{name}: {len(fixed)} of {len(qs)} questions corrected "
              f"({took:.2f} ms a question)")
        for q, c in fixed:
            print(f"    {q}\n -> {c}")
        report[name] = {"questions": len(qs), "corrected": len(fixed),
                        "ms_per_question": round(took, 3), "rewrites": fixed}

    kb = ev.kb("xquad-mixed", suites["xquad-mixed"][0])
    rng = random.Random(5)
    counts = {"given back": 0, "another word": 0, "left as typed": 0}
    for q in [q for lang in XQUAD_LANGS for q in questions[lang]]:
        words = [m for m in _WORD.finditer(q) if spelling.eligible(m.group())]
        if not words:
            continue
        m = rng.choice(words)
        typo = _typo(m.group(), rng)
        asked = q[:m.start()] + typo + q[m.end():]
        fixed = kb.correct_spelling(asked)
        # A correction replaces word for word, so the typo is the same word number.
        nth = len(_WORD.findall(q[:m.start()]))
        word = None if fixed is None else _WORD.findall(fixed)[nth]
        if word is None or word == typo:
            counts["left as typed"] += 1
        elif word.casefold() == m.group().casefold():
            counts["given back"] += 1
        else:
            counts["another word"] += 1
    total = sum(counts.values())
    print("one-edit typos in XQuAD questions (mixed index): " + ", ".join(
        f"{k} {v} ({v / total:.1%})" for k, v in counts.items()))
    report["typos"] = counts
    ev.close()
    if args.json_out:
        args.json_out.write_text(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
