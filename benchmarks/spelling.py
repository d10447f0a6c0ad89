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
3. Korean typos made on purpose: in each KorQuAD question, and each Korean seed
   question, one noun the index holds (3 syllables or more) gets one random jamo
   edit (an initial consonant or a vowel changed, a final consonant changed, added or
   dropped), and the question is corrected against its own index. A typo that makes
   another real word (wordfreq's, or the index's) is counted apart: no rule can tell.
   Also reported: what the correction costs a Korean question once search's own
   Korean analysis of it is cached.

The vocabulary does not depend on the encoder, so the indexes are built with the fake
one (a minute or so, kept in --workdir).

    .venv/bin/python benchmarks/spelling.py [--shared ../shared] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
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


def _latin_typos(kb, questions: list[str]) -> dict[str, int]:
    """Each question with one random edit in one word the rule looks at, corrected."""
    rng = random.Random(5)
    counts = {"given back": 0, "another word": 0, "left as typed": 0}
    for q in questions:
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
    return counts


def _jamo_typo(word: str, rng: random.Random) -> str:
    """``word`` with one jamo of one syllable changed, added or dropped (the initial
    consonant, the vowel, or the final consonant, which may appear or go): one edit
    apart once decomposed, as kb.spelling compares."""
    while True:
        i = rng.randrange(len(word))
        code = ord(word[i]) - 0xAC00
        lead, vowel, tail = code // 588, code % 588 // 28, code % 28
        part = rng.choice(("lead", "vowel", "tail"))
        if part == "lead":
            lead = rng.randrange(19)
        elif part == "vowel":
            vowel = rng.randrange(21)
        else:
            tail = rng.randrange(28)
        out = word[:i] + chr(0xAC00 + lead * 588 + vowel * 28 + tail) + word[i + 1:]
        if out != word:
            return out


def _korean_typos(kb, questions: list[str], rng: random.Random) -> tuple[dict, list[str]]:
    """Each question with one jamo edit in one of its nouns the index has (a word the
    knowledge base uses), corrected: how often the noun is given back."""
    from kb.lexical import ko_spans

    lex = kb._ensure_fresh()[1]
    counts = {"given back": 0, "another word": 0, "left as typed": 0,
              "typo is a real word": 0}
    shown = []
    for q in questions:
        spans = ko_spans(q) or ((), (), ())
        nouns = [(a, b, w) for a, b, w in zip(*spans, strict=True)
                 if q[a:b] == w and spelling.korean_eligible(w)
                 and lex.doc_freq("ko", [w])[0][0] > 0]
        if not nouns:
            continue
        start, end, word = rng.choice(nouns)
        typo = _jamo_typo(word, rng)
        asked = q[:start] + typo + q[end:]
        if typo in spelling.korean_words() or lex.doc_freq("ko", [typo])[0][0] > 0:
            counts["typo is a real word"] += 1
            continue
        # A KorQuAD question may have a typo of its own, which is fixed too.
        meant = kb.correct_spelling(q) or q
        got = kb.correct_spelling(asked) or asked
        if got == meant:
            counts["given back"] += 1
        elif typo in got:
            counts["left as typed"] += 1
        else:
            counts["another word"] += 1
            shown.append(f"{word} -> {typo} -> {got[start:start + len(word) + 2]!r}: {got}")
    return counts, shown


def _korean_cost(kb, questions: list[str]) -> dict[str, float]:
    """µs kb.spelling spends on a Korean question, its Korean analysis done already
    (search analyzes it for BM25 anyway, and the correction reuses that): the median
    over the questions left unchanged, with Korean correction and without it (what the
    Latin words alone cost), and the mean over all (the few corrected ones look for
    close words)."""
    from kb.lexical import analyze_cached

    kb.correct_spelling("마켓팅")  # the vocabulary grouped by jamo, once per index change
    korean = spelling.Speller._korean_fixes
    cost = {}
    for name, fixes in (("korean off", lambda self, q: []), ("korean on", korean)):
        spelling.Speller._korean_fixes = fixes
        unchanged, took = [], 0.0
        for q in questions:
            analyze_cached(q, "ko")
            started = time.perf_counter()
            fixed = kb.correct_spelling(q)
            spent = time.perf_counter() - started
            took += spent
            if fixed is None:
                unchanged.append(spent)
        cost[name] = {"median_unchanged_us": round(statistics.median(unchanged) * 1e6, 1),
                      "mean_us": round(took * 1e6 / len(questions), 1)}
        print(f"korquad, {name}, once a question's Korean analysis is cached: "
              f"{cost[name]['median_unchanged_us']} µs median for a question left "
              f"unchanged, {cost[name]['mean_us']} µs mean")
    spelling.Speller._korean_fixes = korean
    return cost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "out" / "spelling")
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--korean", action="store_true",
                        help="only the Korean suites (KorQuAD, the seeds) and Korean typos")
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
        if args.korean and name not in ("korquad", "seeds"):
            continue
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

    if not args.korean:
        report["typos"] = _latin_typos(ev.kb("xquad-mixed", suites["xquad-mixed"][0]),
                                       [q for lang in XQUAD_LANGS for q in questions[lang]])
    kb = ev.kb("korquad", suites["korquad"][0])
    report["korquad_us_per_question"] = _korean_cost(kb, suites["korquad"][1])
    korean_seeds = [q for q in seeds if re.search("[\uac00-\ud7a3]", q)]
    for name, qs in (("korquad", suites["korquad"][1]), ("seeds", korean_seeds)):
        kb = ev.kb(name, suites[name][0])
        counts, shown = _korean_typos(kb, qs, random.Random(7))
        total = sum(v for k, v in counts.items() if k != "typo is a real word")
        print(f"one-jamo typos in {name}'s Korean questions: " + ", ".join(
            f"{k} {v} ({v / total:.1%})" for k, v in counts.items()))
        for line in shown:
            print("    " + line)
        report[f"korean_typos_{name}"] = counts
    ev.close()
    if args.json_out:
        args.json_out.write_text(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
